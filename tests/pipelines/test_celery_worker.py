"""Two `longitude worker`s on a filesystem broker (kombu's `filesystem://`, no server) run the steps that
`longitude materialize --executor celery` sends: the step runs in a worker, not in the driver, and the shards of
a per-shard asset run side by side (MEDS shards, one set, one at a time)."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.pipelines.test_cli_materialize import _longitude
from tests.pipelines.test_cli_materialize import root as root

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("dagster_celery")


def _config(tmp_path: Path) -> Path:
    queue = tmp_path / "broker"
    (queue / "out").mkdir(parents=True)
    (queue / "processed").mkdir()
    path = tmp_path / "executor.yaml"
    path.write_text(
        "celery:\n"
        "  broker: 'filesystem://'\n"
        f"  backend: 'file://{tmp_path / 'results'}'\n"
        "  config_source:\n"
        "    broker_transport_options:\n"
        f"      data_folder_in: '{queue / 'out'}'\n"
        f"      data_folder_out: '{queue / 'out'}'\n"
        f"      data_folder_processed: '{queue / 'processed'}'\n"
        # kombu's default control folder is ./control under the working directory: keep it in the test's tmp.
        f"      control_folder: '{queue / 'control'}'\n"
    )
    (tmp_path / "results").mkdir()
    return path


def _start_worker(root: Path, config: Path, name: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "worker", "--root", str(root),
           "--executor-config", str(config), "--name", name]  # fmt: skip
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _wait_ready(log: Path, worker: subprocess.Popen, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            return False
        if "ready." in log.read_text(errors="replace"):
            return True
        time.sleep(1)
    return False


def test_steps_run_in_the_celery_workers(root: Path, tmp_path: Path):
    import dagster as dg

    from pipelines.instance import ensure_dagster_home
    from schemas.layout import Layout

    config = _config(tmp_path)
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [_start_worker(root, config, f"w{i}@%h", logs[i]) for i in range(2)]
    try:
        if not all(_wait_ready(log, w, 120) for log, w in zip(logs, workers, strict=True)):
            pytest.skip("Celery workers did not start: " + " | ".join(log.read_text()[-300:] for log in logs))
        run = _longitude(
            "materialize", "--root", str(root), "--executor", "celery", "--executor-config", str(config),
            "--select", "fhir_raw", "--select", "meds_data", "--select", "labels_readmission_30d",
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:]
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)
    instance = dg.DagsterInstance.from_config(str(ensure_dagster_home(Layout(root))))
    records = instance.get_run_records()
    assert len(records) == 9  # fhir_raw, then meds_data and the labels for each of the 4 shards
    steps = 0
    # (start, end) of each partition's run: fhir_raw's one ingest chunk, then each asset's shards
    shards: dict[str, list] = {"fhir_raw": [], "meds_data": [], "labels_readmission_30d": []}
    for record in records:
        entries = [e for e in instance.all_logs(record.dagster_run.run_id) if e.dagster_event]
        events = [e.dagster_event for e in entries]
        driver = {e.pid for e in events if e.event_type == dg.DagsterEventType.RUN_START}
        step = {e.pid for e in events if e.event_type == dg.DagsterEventType.STEP_START}
        assert driver and step and not driver & step  # every step ran in a worker, not in the driver
        steps += sum(e.event_type == dg.DagsterEventType.STEP_START for e in events)
        if record.dagster_run.tags.get("dagster/partition") is not None:
            at = {e.dagster_event.event_type: e.timestamp for e in entries}
            asset = next(e.step_key for e in events if e.event_type == dg.DagsterEventType.STEP_START)
            shards[asset.split(".")[0]].append(
                (at[dg.DagsterEventType.RUN_START], at[dg.DagsterEventType.RUN_SUCCESS])
            )

    def overlap(spans):
        return any(a[0] < b[1] and b[0] < a[1] for a in spans for b in spans if a != b)

    assert [len(v) for v in shards.values()] == [1, 4, 4]
    # the driver submits a step's shards together (a run each): the labels' runs overlap
    assert overlap(shards["labels_readmission_30d"]), shards
    # but the MEDS shards, which publish as one set, go one at a time (pipelines.side_by_side)
    assert not overlap(shards["meds_data"]), shards
    texts = [log.read_text() for log in logs]
    ran = [text.count("] succeeded in") for text in texts]
    assert sum(ran) == steps, ran  # each step (assets and their checks) once, in one worker or the other
    assert all(ran), ran  # both workers took steps
    # each step's CPU, wall time and page faults, logged by the worker that ran it (pipelines.step_usage)
    usage = [re.findall(r"longitude step usage: step=(\S+) cpu_s=([\d.]+) wall_s=([\d.]+)", t) for t in texts]
    assert [len(u) for u in usage] == ran, usage
    assert {key.split(".")[0] for u in usage for key, _, _ in u} >= set(shards)
    # the models were loaded as each worker started, before it said it was ready (pipelines.worker_warmup)
    assert all(0 <= t.find("longitude worker warm:") < t.find("ready.") for t in texts), [t[:2000] for t in texts]
