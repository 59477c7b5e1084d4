"""`longitude materialize --executor celery --root s3://...`: two `longitude worker --root s3://...` on a
filesystem broker and a local S3 API server (moto); each step runs in a worker's own working copy of the root
and pushes what it published, the driver holds single files only, and the curated output is byte for byte
a local single-process run's."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from schemas import publish_store as ps
from schemas.store import ObjectStore
from tests.pipelines.store_cli import cli_env as _env
from tests.pipelines.store_cli import run_longitude as _longitude
from tests.pipelines.test_celery_worker import _config, _wait_ready
from tests.pipelines.test_cli_materialize import root as root
from tests.pipelines.test_object_store_root import _local_curated, _store_curated
from tests.s3_server import s3_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("dagster_celery")

BUCKET = "celery-root"
URL = f"s3://{BUCKET}/root"
SELECT = ("--select", "fhir_raw", "--select", "meds_data")  # a whole-landing step, then 4 shards of one set


def _pulled(stderr: str) -> tuple[int, int]:
    """(objects downloaded, objects from the cache) of the CLI's pull line."""
    found = re.search(r"Pulled .*?: (\d+) objects .*? downloaded, (\d+) ", stderr.replace("\n", " "))
    assert found, stderr[-2000:]
    return int(found[1]), int(found[2])


def test_celery_workers_run_each_step_in_their_own_working_copy_of_an_s3_root(
    root: Path, tmp_path: Path, monkeypatch
):
    local = tmp_path / "local"
    local.mkdir()
    (root / "landing").rename(local / "landing")
    run = _longitude("materialize", "--root", str(local), *SELECT, env=_env({}), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = {k: v for k, v in _local_curated(local).items() if k.startswith("meds/")}
    assert any(k.startswith("meds/data/") for k in expected)

    config = _config(tmp_path)
    cache, cwd = tmp_path / "cache", tmp_path / "cwd"
    cwd.mkdir()
    with s3_server(BUCKET) as aws:
        for key, value in aws.items():  # this process reads the bucket back (the server is its thread)
            monkeypatch.setenv(key, value)
        store = ObjectStore(URL)
        landing = local / "landing"
        store.upload(
            {f"landing/{p.relative_to(landing).as_posix()}": p for p in landing.rglob("*") if p.is_file()}
        )
        logs = [tmp_path / f"worker{i}.log" for i in range(2)]
        temps = [tmp_path / f"tmp{i}" for i in range(3)]
        for t in temps:
            t.mkdir()
        workers = []
        for i in range(2):
            env = _env({**aws, "LONGITUDE_CACHE_DIR": str(cache), "TMPDIR": str(temps[i])})
            cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "worker", "--root", URL,
                   "--executor-config", str(config), "--name", f"w{i}@%h"]  # fmt: skip
            workers.append(subprocess.Popen(cmd, stdout=logs[i].open("w"), stderr=subprocess.STDOUT, env=env,
                                            cwd=cwd, start_new_session=True))  # fmt: skip
        try:
            if not all(_wait_ready(log, w, 180) for log, w in zip(logs, workers, strict=True)):
                pytest.fail("Celery workers did not start: " + " | ".join(log.read_text()[-600:] for log in logs))
            driver = _env({**aws, "LONGITUDE_CACHE_DIR": str(cache), "TMPDIR": str(temps[2])})
            celery = ("--executor", "celery", "--executor-config", str(config))
            run = _longitude("materialize", "--root", URL, *celery, *SELECT, env=driver, cwd=cwd)
            assert run.returncode == 0, run.stderr[-3000:] + logs[0].read_text()[-3000:]
            got = {k: v for k, v in _store_curated(store).items() if k.startswith("meds/")}
            assert got == expected  # byte for byte (dataset.json without its time stamps)
            assert list(temps[2].iterdir()) == []  # the driver's working copy went with it

            # A second run starts from what the bucket publishes; the driver pulls single files only.
            singles = len(ps.read_index(store).files)
            run = _longitude("materialize", "--root", URL, *celery, "--select", "meds_codes", env=driver, cwd=cwd)
            assert run.returncode == 0, run.stderr[-3000:]
            assert sum(_pulled(run.stderr)) == singles  # from the bucket or the cache: no dataset, no landing
        finally:
            for w in workers:
                if w.poll() is None:
                    os.killpg(w.pid, signal.SIGTERM)
            for w in workers:
                try:
                    w.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(w.pid, signal.SIGKILL)
    texts = [log.read_text() for log in logs]
    ran = [re.findall(r"Executing steps (\w+) in celery worker", text) for text in texts]
    steps = [key for keys in ran for key in keys]
    assert sum(t.count("] succeeded in") for t in texts) == len(steps)  # every task (a step or a check) passed
    # every asset step ran in a worker, once (meds_data once per shard), in its own working copy
    assert (steps.count("fhir_raw"), steps.count("meds_data"), steps.count("meds_codes")) == (1, 4, 1), steps
    assert all(ran), ran  # both workers took steps
    assert list(cwd.iterdir()) == []


def test_a_worker_on_an_s3_root_runs_one_step_at_a_time(tmp_path: Path):
    config = _config(tmp_path)
    run = _longitude("worker", "--root", URL, "--executor-config", str(config), "--concurrency", "2",
                     env=_env({}), cwd=tmp_path)  # fmt: skip
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "--concurrency above 1 with an object-store root" in run.stderr.replace("\n", " ")
