"""`longitude ui`: one Dagster instance per root, holding the CLI's runs and the UI's, served on localhost."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET, write_bundle
from tests.fhir_fixtures import encounter, lab, patient

pytestmark = pytest.mark.integration

_CLI = [sys.executable, "-c", "from pipelines.cli import main; main()"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGITUDE_", "DAGSTER_"))}
    env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    return env


@pytest.fixture(scope="module")
def built_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-shard root after `longitude materialize --select fhir_raw --select meds_data`."""
    root = tmp_path_factory.mktemp("ui-root")
    for i in range(3):
        resources = [patient(f"p{i}"), encounter(f"e{i}", f"p{i}", "2019-01-01T10:00:00Z"),
                     lab(f"o{i}", f"p{i}", "2019-01-01T10:05:00Z")]  # fmt: skip
        write_bundle(root / "landing" / "fhir" / f"p{i}.json", resources)
    run = subprocess.run([*_CLI, "materialize", "--root", str(root), "--shards", "1", "--workers", "1",
                          "--select", "fhir_raw", "--select", "meds_data"], capture_output=True, text=True, env=_env(), timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return root


def test_cli_materialize_records_its_runs_in_the_roots_instance(built_root: Path):
    import dagster as dg

    home = built_root / "dagster"
    assert (home / "dagster.yaml").exists()
    instance = dg.DagsterInstance.from_config(str(home))
    runs = instance.get_runs()
    assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    for asset, partition in (("fhir_raw", "c0"), ("meds_data", "0")):  # fhir_raw by ingest chunk
        event = instance.get_latest_materialization_event(dg.AssetKey(asset))
        assert event is not None and event.run_id in {r.run_id for r in runs}
        assert event.asset_materialization.partition == partition


def test_ui_refuses_a_folder_that_is_not_a_root(tmp_path: Path):
    run = subprocess.run([*_CLI, "ui", "--root", str(tmp_path / "typo")], capture_output=True, text=True,
                         env=_env(), timeout=60)  # fmt: skip
    assert run.returncode != 0 and "is not a Longitude root" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "typo").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


_RUNS = "{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"


def test_ui_serves_the_cli_runs_and_runs_what_it_launches_in_process(built_root: Path):
    port = _free_port()
    ui = subprocess.Popen([*_CLI, "ui", "--root", str(built_root), "--port", str(port)], env=_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 180  # web server, daemon and code server start on 2 busy cores
        while True:
            assert ui.poll() is None, ui.stdout.read().decode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline, "the UI did not answer on 127.0.0.1 in 180 s"
                time.sleep(1)
        cli_runs = {r["runId"] for r in _graphql(port, _RUNS)["runsOrError"]["results"]}
        assert cli_runs  # the UI opens with the CLI's runs in it

        from dagster_graphql import DagsterGraphQLClient

        client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=60)
        run_id = client.submit_job_execution(
            "__ASSET_JOB", asset_selection=["meds_data"], tags={"dagster/partition": "0"}
        )
        status = None
        while time.monotonic() < deadline + 240:
            status = client.get_run_status(run_id).value
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            time.sleep(1)
        import dagster as dg

        instance = dg.DagsterInstance.from_config(str(built_root / "dagster"))
        errors = [str(getattr(e.dagster_event.event_specific_data, "error", None) or e.message)
                  for e in instance.all_logs(run_id) if e.is_dagster_event and e.dagster_event.is_failure]  # fmt: skip
        assert status == "SUCCESS", errors
        assert instance.get_latest_materialization_event(dg.AssetKey("meds_data")).run_id == run_id
        engine = [e.message for e in instance.all_logs(run_id) if e.message and "longitude executor" in e.message]
        assert engine == ["longitude executor: in-process (estimated from last runs)"]
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        try:
            ui.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()


def test_the_instance_config_follows_a_moved_root_and_keeps_a_persons_edits(tmp_path: Path):
    from pipelines.instance import ensure_dagster_home
    from schemas.layout import Layout

    home = ensure_dagster_home(Layout(tmp_path / "a"))
    assert f"base_dir: {home / 'history'}" in (home / "dagster.yaml").read_text()
    (tmp_path / "a").rename(tmp_path / "b")  # a root moved (or copied) elsewhere
    moved = ensure_dagster_home(Layout(tmp_path / "b"))
    text = (moved / "dagster.yaml").read_text()
    assert f"base_dir: {moved / 'history'}" in text and str(home) not in text
    edited = "telemetry:\n  enabled: false\n"  # the marker line removed: a person's own configuration
    (moved / "dagster.yaml").write_text(edited)
    assert (ensure_dagster_home(Layout(tmp_path / "b")) / "dagster.yaml").read_text() == edited


def test_the_executor_estimates_from_the_last_materialization_of_each_step():
    import dagster as dg

    from pipelines.executor import last_step_seconds, pays_to_fork

    @dg.asset
    def slow() -> None:
        time.sleep(0.3)

    @dg.asset
    def quick() -> None:
        pass

    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([slow, quick], instance=instance)
    seconds = last_step_seconds(instance, ["slow", "quick", "never_run"])
    assert set(seconds) == {"slow", "quick"} and seconds["slow"] >= 0.3 > seconds["quick"]
    assert not pays_to_fork([["slow", "quick"]], seconds, workers=2)  # 0.3 s never pays a 3.5 s start-up
    assert pays_to_fork([["slow", "quick"]], {"slow": 60, "quick": 60}, workers=2)
