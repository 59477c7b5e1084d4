"""`longitude materialize --executor k8s --root s3://...`: the real k8s_job_executor submits a Job per step to a
local stand-in for the Kubernetes API (tests/pipelines/k8s_local_cluster.py), which runs each Job's container
command as a subprocess with only the Job's environment and its secrets; against a local S3 API server (moto),
each step pod pulls its own working copy, runs its step and pushes before the step counts as done, and the
curated output is byte for byte a local single-process run's. The run's Dagster instance is a real local
Postgres (pgserver) that the driver and the pods reach by LONGITUDE_DAGSTER_PG_URL, the pods from a Secret."""

import json
import os
import tempfile
from pathlib import Path

import pytest
import yaml

from pipelines.instance import PG_SCHEME, PG_URL_ENV
from schemas.store import ObjectStore
from tests.conftest import TEST_SECRET
from tests.pipelines.k8s_local_cluster import LocalCluster, image_env
from tests.pipelines.store_cli import cli_env as _env
from tests.pipelines.store_cli import run_longitude as _longitude
from tests.pipelines.test_cli_materialize import root as root
from tests.pipelines.test_object_store_root import _local_curated, _store_curated
from tests.s3_server import s3_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("dagster_k8s")
pytest.importorskip("dagster_postgres")
pgserver = pytest.importorskip("pgserver")

REPO = Path(__file__).resolve().parents[2]
BUCKET = "k8s-root"
URL = f"s3://{BUCKET}/root"
# a whole-landing step, then 2 shards of one set (each step and each of its checks is a pod)
SELECT = ("--shards", "2", "--select", "fhir_raw", "--select", "meds_data")
STEP_ARGS = ["python", "-m", "pipelines.k8s_steps", "dagster", "api", "execute_step"]


def _executor_config(tmp_path: Path, kubeconfig: Path) -> Path:
    """deploy/executor-s3.yaml's k8s section, pointed at the local cluster."""
    config = yaml.safe_load((REPO / "deploy" / "executor-s3.yaml").read_text())["k8s"]
    config.update(load_incluster_config=False, kubeconfig_file=str(kubeconfig), max_concurrent=2)
    config.pop("volumes", None), config.pop("volume_mounts", None)  # the pods' scratch: their own TMPDIR here
    config["env_vars"] = [e for e in config.get("env_vars", []) if not e.startswith(("TMPDIR", "LONGITUDE_CACHE"))]
    path = tmp_path / "executor.yaml"
    path.write_text(yaml.safe_dump({"k8s": config}))
    return path


@pytest.fixture
def postgres_url():
    # its data under the temp dir: run as root, pgserver runs Postgres as a user that cannot enter tmp_path
    server = pgserver.get_server(tempfile.mkdtemp(prefix="longitude-pg-"), cleanup_mode="delete")
    try:
        yield server.get_uri().replace("postgresql://", PG_SCHEME, 1)
    finally:
        server.cleanup()


def _step_starts(url: str, home: Path) -> list[tuple[str, int]]:
    """(step key, pid) of every step start the shared instance recorded, for every run."""
    import dagster as dg

    home.mkdir()
    (home / "dagster.yaml").write_text(f"storage:\n  postgres:\n    postgres_url:\n      env: {PG_URL_ENV}\n")
    os.environ[PG_URL_ENV] = url
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            out = []
            for run in instance.get_runs():
                for record in instance.get_records_for_run(run.run_id).records:
                    event = record.event_log_entry.dagster_event
                    if event is not None and event.event_type == dg.DagsterEventType.STEP_START:
                        out.append((event.step_key, event.pid))
            return out
    finally:
        del os.environ[PG_URL_ENV]


def test_step_pods_run_each_step_in_their_own_working_copy_of_an_s3_root(
    root: Path, tmp_path: Path, monkeypatch, postgres_url: str
):
    local = tmp_path / "local"
    local.mkdir()
    (root / "landing").rename(local / "landing")
    run = _longitude("materialize", "--root", str(local), *SELECT, env=_env({}), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = {k: v for k, v in _local_curated(local).items() if k.startswith("meds/")}
    assert any(k.startswith("meds/data/") for k in expected)

    cwd, temp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir(), temp.mkdir()
    with s3_server(BUCKET) as aws:
        for key, value in aws.items():  # this process reads the bucket back (the server is its thread)
            monkeypatch.setenv(key, value)
        store = ObjectStore(URL)
        landing = local / "landing"
        store.upload(
            {f"landing/{p.relative_to(landing).as_posix()}": p for p in landing.rglob("*") if p.is_file()}
        )
        secrets = {"longitude-secret": {"LONGITUDE_SECRET": TEST_SECRET.decode()}, "longitude-aws": dict(aws),
                   "longitude-dagster-pg": {PG_URL_ENV: postgres_url}}  # fmt: skip
        cluster = LocalCluster(tmp_path / "cluster", secrets, image_env(REPO))
        cluster.start()
        try:
            config = _executor_config(tmp_path, cluster.kubeconfig(tmp_path / "kubeconfig", "longitude"))
            driver = _env({**aws, "LONGITUDE_CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(temp),
                           PG_URL_ENV: postgres_url})  # fmt: skip
            k8s = ("--executor", "k8s", "--executor-config", str(config))
            run = _longitude("materialize", "--root", URL, *k8s, *SELECT, env=driver, cwd=cwd)
            logs = "\n".join(f"--- {p.name}\n{p.log.read_text()[-1500:]}" for p in cluster.pods if p.log.exists())
            assert run.returncode == 0, run.stderr[-3000:] + logs[-6000:]
            got = {k: v for k, v in _store_curated(store).items() if k.startswith("meds/")}
            assert got == expected  # byte for byte (dataset.json without its time stamps)
        finally:
            cluster.stop()
    assert list(temp.iterdir()) == [] and list(cwd.iterdir()) == []  # the driver's working copy went with it

    steps = [p.env["DAGSTER_RUN_STEP_KEY"] for p in cluster.pods]
    # every asset step ran in a pod, once (meds_data once per shard), and so did its checks
    assert (steps.count("fhir_raw"), steps.count("meds_data")) == (1, 2), steps
    assert len(set(steps)) > 2, steps  # the checks of both assets too
    for pod in cluster.pods:
        key = pod.env["DAGSTER_RUN_STEP_KEY"]
        assert pod.returncode == 0 and pod.command == STEP_ARGS, (key, pod.error, pod.log.read_text()[-2000:])
        log = pod.log.read_text()
        assert f"Pulled {URL} for this step" in log and f"of step {key} to {URL}" in log, log[-2000:]
        # the root's URL and the run's settings by value, the credentials only by reference to secrets
        assert pod.env["LONGITUDE_ROOT"] == URL and pod.env["LONGITUDE_SHARDS"] == "2"
        job = json.dumps(pod.job)
        assert (
            TEST_SECRET.decode() not in job and aws["AWS_SECRET_ACCESS_KEY"] not in job and postgres_url not in job
        )
        container = pod.job["spec"]["template"]["spec"]["containers"][0]
        assert {"secretRef": {"name": "longitude-aws"}} in container["envFrom"]
    assert "Pushed" not in run.stderr  # the driver published no step's output: the pods did
    # the shared instance saw every step start in a pod's process, none in the driver's
    starts = _step_starts(postgres_url, tmp_path / "reader")
    pods = {p.process.pid for p in cluster.pods if p.process is not None}
    assert sorted(k for k, _ in starts) == sorted(steps) and {pid for _, pid in starts} <= pods, (starts, pods)


def test_step_pods_on_a_shared_volume_run_dagsters_own_step_command(root: Path, tmp_path: Path):
    """A local root every pod mounts (deploy/executor.yaml): the pods run `dagster api execute_step` as the
    step handler gives it, with the root's path; the driver's instance has the run launcher dagster-k8s needs."""
    cluster = LocalCluster(tmp_path / "cluster", {"longitude-secret": {"LONGITUDE_SECRET": TEST_SECRET.decode()}},
                           image_env(REPO))  # fmt: skip
    cluster.start()
    try:
        config = yaml.safe_load((REPO / "deploy" / "executor.yaml").read_text())["k8s"]
        config.update(load_incluster_config=False, max_concurrent=2, env_vars=[f"LONGITUDE_ROOT={root}"],
                      kubeconfig_file=str(cluster.kubeconfig(tmp_path / "kubeconfig", "longitude")))  # fmt: skip
        config.pop("volumes"), config.pop("volume_mounts")  # the "volume": this machine's filesystem
        path = tmp_path / "executor.yaml"
        path.write_text(yaml.safe_dump({"k8s": config}))
        k8s = ("--executor", "k8s", "--executor-config", str(path))
        run = _longitude(
            "materialize", "--root", str(root), *k8s, "--select", "fhir_raw", env=_env({}), cwd=tmp_path
        )
        logs = "\n".join(f"--- {p.name}\n{p.log.read_text()[-1500:]}" for p in cluster.pods if p.log.exists())
        assert run.returncode == 0, run.stderr[-3000:] + logs[-4000:]
    finally:
        cluster.stop()
    steps = [p.env["DAGSTER_RUN_STEP_KEY"] for p in cluster.pods]
    assert steps.count("fhir_raw") == 1 and len(steps) > 1, steps  # the asset and its checks, each a pod
    for pod in cluster.pods:
        assert pod.command == ["dagster", "api", "execute_step"] and pod.returncode == 0, pod.log.read_text()[
            -2000:
        ]
        assert pod.env["LONGITUDE_ROOT"] == str(root) and "Pulled" not in pod.log.read_text()
    assert (root / "raw" / "fhir").exists()  # published into the shared root by the pod
