"""A shared Dagster instance: with LONGITUDE_DAGSTER_PG_URL set, the root's dagster.yaml keeps runs and events in
that Postgres database (dagster-postgres), naming the variable, never the URL; step processes reach it through
the instance reference. Checked against a real local Postgres (pgserver) with the multiprocess executor."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from pipelines.engines import k8s_run_launcher
from pipelines.instance import PG_SCHEME, PG_URL_ENV, InstanceConfigError, ensure_dagster_home
from schemas.layout import Layout
from tests.conftest import TEST_SECRET
from tests.pipelines.test_cli_materialize import root as root

SECRET_URL = "postgresql+psycopg2://dagster:not-a-real-password@db.example.org:5432/dagster"


def test_the_instance_names_the_variable_never_the_url(tmp_path: Path, monkeypatch):
    layout = Layout(tmp_path)
    monkeypatch.delenv(PG_URL_ENV, raising=False)
    local = yaml.safe_load((ensure_dagster_home(layout) / "dagster.yaml").read_text())
    assert local["run_storage"]["class"] == "RunStorage" and "storage" not in local  # the root's SQLite

    monkeypatch.setenv(PG_URL_ENV, SECRET_URL)
    text = (ensure_dagster_home(layout) / "dagster.yaml").read_text()
    assert "not-a-real-password" not in text and "db.example.org" not in text
    shared = yaml.safe_load(text)
    assert shared["storage"] == {"postgres": {"postgres_url": {"env": PG_URL_ENV}}}
    assert "run_storage" not in shared and "event_log_storage" not in shared

    # a bare postgresql:// URL would need psycopg 3: refused in one line, naming the variable, not the URL
    monkeypatch.setenv(PG_URL_ENV, SECRET_URL.replace(PG_SCHEME, "postgresql://"))
    with pytest.raises(InstanceConfigError, match=f"{PG_URL_ENV}: a URL of scheme postgresql://") as refused:
        ensure_dagster_home(layout)
    assert "not-a-real-password" not in str(refused.value)
    monkeypatch.setenv(PG_URL_ENV, SECRET_URL)

    # --executor k8s: a home of its own with the run launcher dagster-k8s's step handler reads, same storage
    k8s = {"job_namespace": "longitude", "load_incluster_config": False, "kubeconfig_file": "/k/config"}
    home = ensure_dagster_home(layout, k8s_run_launcher(k8s))
    assert home == layout.dagster_home / "k8s"
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["storage"] == shared["storage"]
    assert config["run_launcher"]["class"] == "K8sRunLauncher"
    assert config["run_launcher"]["config"]["job_namespace"] == "longitude"


@pytest.mark.slow
@pytest.mark.integration
def test_runs_and_step_events_land_in_postgres(root: Path, tmp_path: Path):
    pgserver = pytest.importorskip("pgserver")
    pytest.importorskip("dagster_postgres")
    import dagster as dg

    # the server's data in a folder of its own under the temp dir: run as root, pgserver runs Postgres as a user
    # of its own, which cannot enter pytest's (root-only) tmp_path
    data = Path(tempfile.mkdtemp(prefix="longitude-pg-"))
    server = pgserver.get_server(str(data), cleanup_mode="delete")
    try:
        url = server.get_uri().replace("postgresql://", PG_SCHEME, 1)  # dagster-postgres's driver
        env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
        env |= {"LONGITUDE_SECRET": TEST_SECRET.decode(), PG_URL_ENV: url, "COLUMNS": "300"}
        cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "materialize", "--root", str(root),
               "--executor", "multiprocess", "--select", "fhir_raw"]  # fmt: skip
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        home = root / "dagster"
        assert url not in (home / "dagster.yaml").read_text()
        assert not (home / "history" / "runs.db").exists()  # nothing went to the root's SQLite

        os.environ[PG_URL_ENV] = url  # the instance resolves the variable when it loads
        try:
            with dg.DagsterInstance.from_config(str(home)) as instance:
                runs = instance.get_runs()
                assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS]
                records = instance.get_records_for_run(runs[0].run_id).records
                events = [r.event_log_entry.dagster_event for r in records if r.event_log_entry.dagster_event]
                run_pid = next(e.pid for e in events if e.event_type == dg.DagsterEventType.RUN_START)
                starts = [e for e in events if e.event_type == dg.DagsterEventType.STEP_START]
                # each step ran in a child process of the multiprocess executor and wrote its events there
                assert "fhir_raw" in [e.step_key for e in starts]
                assert all(e.pid != run_pid for e in starts), [(e.step_key, e.pid, run_pid) for e in starts]
                assert instance.get_latest_materialization_event(dg.AssetKey("fhir_raw")) is not None
        finally:
            del os.environ[PG_URL_ENV]
    finally:
        server.cleanup()
