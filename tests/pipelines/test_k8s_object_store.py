"""`longitude materialize --executor k8s --root s3://...`: the real k8s_job_executor submits a Job per step to a
local stand-in for the Kubernetes API (tests/pipelines/k8s_local_cluster.py), which runs each Job's container
command as a subprocess with only the Job's environment and its secrets; against a local S3 API server (moto),
each step pod pulls its own working copy, runs its step and pushes before the step counts as done, and the
curated output is byte for byte a local single-process run's."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from schemas.store import ObjectStore
from tests.conftest import TEST_SECRET
from tests.pipelines.k8s_local_cluster import LocalCluster, image_env
from tests.pipelines.test_cli_materialize import root as root
from tests.pipelines.test_object_store_root import _local_curated, _store_curated
from tests.s3_server import s3_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("dagster_k8s")

REPO = Path(__file__).resolve().parents[2]
BUCKET = "k8s-root"
URL = f"s3://{BUCKET}/root"
# a whole-landing step, then 2 shards of one set (each step and each of its checks is a pod)
SELECT = ("--shards", "2", "--select", "fhir_raw", "--select", "meds_data")
STEP_ARGS = ["python", "-m", "pipelines.k8s_steps", "dagster", "api", "execute_step"]


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGITUDE_", "AWS_"))}
    return env | {"LONGITUDE_SECRET": TEST_SECRET.decode(), "COLUMNS": "300", **extra}


def _longitude(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)


def _executor_config(tmp_path: Path, kubeconfig: Path) -> Path:
    """deploy/executor-s3.yaml's k8s section, pointed at the local cluster."""
    config = yaml.safe_load((REPO / "deploy" / "executor-s3.yaml").read_text())["k8s"]
    config.update(load_incluster_config=False, kubeconfig_file=str(kubeconfig), max_concurrent=2)
    config.pop("volumes", None), config.pop("volume_mounts", None)  # the pods' scratch: their own TMPDIR here
    config["env_vars"] = [e for e in config.get("env_vars", []) if not e.startswith(("TMPDIR", "LONGITUDE_CACHE"))]
    path = tmp_path / "executor.yaml"
    path.write_text(yaml.safe_dump({"k8s": config}))
    return path


def test_step_pods_run_each_step_in_their_own_working_copy_of_an_s3_root(root: Path, tmp_path: Path, monkeypatch):
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
        store.upload({f"landing/{p.relative_to(landing).as_posix()}": p for p in landing.rglob("*") if p.is_file()})
        secrets = {"longitude-secret": {"LONGITUDE_SECRET": TEST_SECRET.decode()}, "longitude-aws": dict(aws),
                   "longitude-dagster-pg": {}}  # the run's instance here: the driver's SQLite, on this machine
        cluster = LocalCluster(tmp_path / "cluster", secrets, image_env(REPO))
        cluster.start()
        try:
            config = _executor_config(tmp_path, cluster.kubeconfig(tmp_path / "kubeconfig", "longitude"))
            driver = _env({**aws, "LONGITUDE_CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(temp)})
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
        assert TEST_SECRET.decode() not in job and aws["AWS_SECRET_ACCESS_KEY"] not in job
        container = pod.job["spec"]["template"]["spec"]["containers"][0]
        assert {"secretRef": {"name": "longitude-aws"}} in container["envFrom"]
    assert "Pushed" not in run.stderr  # the driver published no step's output: the pods did
