"""The Kubernetes Job that dagster-k8s's step handler would create for one step of our graph, built by the real
K8sStepHandler (no cluster) and compared with a checked-in snapshot: from deploy/executor.yaml (the root on a
shared volume) and from deploy/executor-s3.yaml as `longitude materialize --root s3://...` completes it (each
pod its own working copy: pipelines.k8s_steps).

Regenerate after an intended change: LONGITUDE_UPDATE_SNAPSHOTS=1 pytest tests/pipelines/test_k8s_job_spec.py
"""

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

pytest.importorskip("dagster_k8s")

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).parent / "snapshots" / "k8s_step_jobs.yaml"
SNAPSHOT_S3 = Path(__file__).parent / "snapshots" / "k8s_step_jobs_s3.yaml"
URL = "s3://bucket/prefix"
PINNED = {"LONGITUDE_SHARDS": "4", "LONGITUDE_SPLITS": "0.8/0.1/0.1", "LONGITUDE_STRICT": ""}
RUN_ID = "0b5e7d2c-0000-4000-8000-000000000019"
STEPS = ("fhir_raw", "meds_data")  # one whole-landing step with its own resources, one per-shard step

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none, namespace: longitude}}]
current-context: none
"""


class _Captured:
    """Stands in for the Kubernetes API client: keeps the Job the handler would submit."""

    def __init__(self) -> None:
        self.jobs: list = []

    def create_namespaced_job_with_retries(self, body, namespace: str) -> None:
        self.jobs.append((namespace, body))


def _step_jobs(tmp_path: Path, monkeypatch, s3: bool = False) -> dict:
    import dagster as dg
    import dagster_k8s.executor as k8s_executor
    from dagster._core.executor.init import InitExecutorContext
    from dagster._grpc.types import ExecuteStepArgs
    from kubernetes.client import ApiClient

    from pipelines.definitions import defs
    from pipelines.engines import k8s_run_launcher, k8s_step_config, load_engine_config, reconstructable_job

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    config = load_engine_config("k8s", REPO / "deploy" / ("executor-s3.yaml" if s3 else "executor.yaml"))
    config.update(load_incluster_config=False, kubeconfig_file=str(kubeconfig))
    if s3:  # what `longitude materialize --root s3://bucket/prefix --executor k8s` hands the executor
        config = k8s_step_config(config, URL, PINNED)
    from dagster._config import process_config

    processed = process_config(k8s_executor.k8s_job_executor.config_schema.as_field().config_type, config).value
    instance = dg.DagsterInstance.ephemeral()
    job = reconstructable_job("k8s")  # what `longitude materialize --executor k8s` runs
    executor = k8s_executor.k8s_job_executor.executor_creation_fn(
        InitExecutorContext(
            job=job, executor_def=k8s_executor.k8s_job_executor, executor_config=processed, instance=instance
        )
    )
    if s3:  # the driver's instance: the run launcher the CLI gives it (pipelines.engines.k8s_run_launcher)
        from dagster_k8s import K8sRunLauncher

        launcher = K8sRunLauncher(**k8s_run_launcher(config)["config"])
    else:
        launcher = _run_launcher(kubeconfig)
    handler = executor._step_handler  # the real handler, fed a stand-in API client below
    captured = _Captured()
    handler._api_client = captured
    # the "step worker starting" event needs a live run; only the Job matters here
    monkeypatch.setattr(k8s_executor, "DagsterEvent", SimpleNamespace(step_worker_starting=lambda *a, **k: None))

    origin = job.get_python_origin()
    run = dg.DagsterRun(job_name=job.get_definition().name, run_id=RUN_ID, job_code_origin=origin)
    assets = {key.to_user_string(): a for a in defs.assets for key in a.keys}  # type: ignore[union-attr]
    out = {}
    for step in STEPS:
        args = ExecuteStepArgs(job_origin=origin, run_id=RUN_ID, step_keys_to_execute=[step])
        context = SimpleNamespace(
            execute_step_args=args,
            dagster_run=run,
            instance=SimpleNamespace(run_launcher=launcher),
            step_tags={step: dict(assets[step].op.tags)},
            get_step_context=lambda key: SimpleNamespace(step=SimpleNamespace(op_name=key)),
        )
        list(handler.launch_step(context))
        namespace, body = captured.jobs[-1]
        out[step] = {"namespace": namespace, "job": _portable(ApiClient().sanitize_for_serialization(body))}
    return out


def _run_launcher(kubeconfig: Path):
    """The K8sRunLauncher the Helm chart renders from deploy/values.yaml (the chart's own names for the instance
    config map, DAGSTER_HOME and the Postgres secret), so step pods inherit what run pods get."""
    from dagster_k8s import K8sRunLauncher

    values = yaml.safe_load((REPO / "deploy" / "values.yaml").read_text())
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    return K8sRunLauncher(
        service_account_name="dagster",
        instance_config_map="dagster-instance",
        dagster_home="/opt/dagster/dagster_home",
        postgres_password_secret="dagster-postgresql-secret",
        load_incluster_config=False,
        kubeconfig_file=str(kubeconfig),
        env_secrets=[s["name"] for s in launcher["envSecrets"]],
        env_vars=launcher["envVars"],
        volumes=launcher["volumes"],
        volume_mounts=launcher["volumeMounts"],
        run_k8s_config=launcher["runK8sConfig"],
    )


def _portable(job: dict) -> dict:
    """The Job with the machine's paths (interpreter, checkout) replaced, and the compressed step arguments
    decoded, so the snapshot shows which step the pod runs and is the same on every machine."""
    import base64
    import zlib

    text = json.dumps(job)
    container = json.loads(text)["spec"]["template"]["spec"]["containers"][0]
    for env in container["env"]:
        if env["name"] == "DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS":
            # what `dagster api execute_step` reads: base64 of zlib of the serialized ExecuteStepArgs
            env["value"] = json.loads(zlib.decompress(base64.b64decode(env["value"])))
    job = json.loads(text)
    job["spec"]["template"]["spec"]["containers"][0] = container
    text = json.dumps(job).replace(sys.executable, "<python>").replace(str(Path.cwd()), "<checkout>")
    return json.loads(text)


@pytest.fixture(scope="module")
def jobs(tmp_path_factory) -> dict:
    # built once for the module: loading the code location is the slow part
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _step_jobs(tmp_path_factory.mktemp("k8s"), monkeypatch)


@pytest.fixture(scope="module")
def s3_jobs(tmp_path_factory) -> dict:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _step_jobs(tmp_path_factory.mktemp("k8s-s3"), monkeypatch, s3=True)


@pytest.mark.parametrize("which", ["jobs", "s3_jobs"])
def test_step_jobs_match_the_snapshot(which: str, request):
    built, snapshot = request.getfixturevalue(which), SNAPSHOT if which == "jobs" else SNAPSHOT_S3
    if os.environ.get("LONGITUDE_UPDATE_SNAPSHOTS"):
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(yaml.safe_dump(built, sort_keys=True, width=200))
    assert built == yaml.safe_load(snapshot.read_text())


def test_a_step_pod_runs_that_step_with_the_root_and_the_secret(jobs: dict):
    for step, spec in jobs.items():
        pod = spec["job"]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["image"] == "registry.example.org/longitude:0.1.0"
        assert container["args"] == ["dagster", "api", "execute_step"]
        env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
        step_args = env["DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS"]
        assert step_args["step_keys_to_execute"] == [step] and step_args["pipeline_run_id"] == RUN_ID
        assert env["LONGITUDE_ROOT"] == "/data/longitude" and env["DAGSTER_RUN_STEP_KEY"] == step
        assert {"secretRef": {"name": "longitude-secret"}} in container["envFrom"]
        assert {"mountPath": "/data/longitude", "name": "longitude-root"} in container["volumeMounts"]
        assert spec["namespace"] == "longitude"


def test_per_step_resources_come_from_the_executor_config(jobs: dict):
    def requests(step: str) -> dict:
        return jobs[step]["job"]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]

    assert requests("fhir_raw") == {"cpu": "4", "memory": "8Gi"}  # per_step_k8s_config
    assert requests("meds_data") == {"cpu": "1", "memory": "2Gi"}  # step_k8s_config, every other step


def test_on_an_s3_root_a_step_pod_runs_the_step_wrapper_with_the_url_and_secrets_by_reference(s3_jobs: dict):
    from pipelines.engines import STEP_COMMAND

    for step, spec in s3_jobs.items():
        pod = spec["job"]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["image"] == "registry.example.org/longitude:0.1.0"
        # the wrapper, then what the step handler asks for: k8s runs command + args
        assert container["command"] == list(STEP_COMMAND) == ["python", "-m", "pipelines.k8s_steps"]
        assert container["args"] == ["dagster", "api", "execute_step"]
        values = {e["name"]: e["value"] for e in container["env"] if "value" in e}
        assert values["DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS"]["step_keys_to_execute"] == [step]
        # the root's URL (the file's /data/longitude would be the driver's local copy), the run's settings
        assert values["LONGITUDE_ROOT"] == URL and "/data/longitude" not in str(container)
        assert {k: values[k] for k in PINNED} == PINNED
        # the pseudonymisation key, the cloud credentials and the instance's database URL: Secrets only
        refs = [e["secretRef"]["name"] for e in container["envFrom"]]
        assert refs == ["longitude-secret", "longitude-aws", "longitude-dagster-pg"]
        named = {e["name"] for e in container["env"]}
        assert not named & {
            "LONGITUDE_SECRET",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "LONGITUDE_DAGSTER_PG_URL",
        }
        assert [v["name"] for v in pod["volumes"]] == ["scratch"]  # no shared volume of the root
        assert values["TMPDIR"] == "/scratch" and values["LONGITUDE_CACHE_DIR"] == "/scratch/cache"
        assert spec["namespace"] == "longitude"
    resources = {s: j["job"]["spec"]["template"]["spec"]["containers"][0]["resources"] for s, j in s3_jobs.items()}
    assert resources["fhir_raw"]["requests"] == {"cpu": "4", "memory": "8Gi"}
    assert resources["meds_data"]["requests"] == {"cpu": "1", "memory": "2Gi"}
