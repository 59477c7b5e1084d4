"""`--executor` engines: Dagster's in-process, multiprocess, Celery and Kubernetes executors, from YAML."""

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

ENGINES = ("in_process", "multiprocess", "celery", "k8s")
# the package each engine needs, pinned to the release of dagster 1.13.27 (pyproject.toml)
_PACKAGES = {"celery": "dagster-celery==0.29.27", "k8s": "dagster-k8s==0.29.27"}
# a step pod's command on an object-store root (pipelines/k8s_steps.py); the step handler's args follow it
STEP_COMMAND = ("python", "-m", "pipelines.k8s_steps")
# seconds to wait for a broker or a cluster before saying it is unreachable
REACH_TIMEOUT_S = 5


class EngineError(Exception):
    """A one-line reason the chosen engine cannot run (bad config, missing package, unreachable broker/cluster)."""


def executor_def(engine: str) -> dg.ExecutorDefinition:
    """Dagster's executor definition for an engine; the integration libraries are imported only here."""
    if engine == "in_process":
        return dg.in_process_executor
    if engine == "multiprocess":
        return dg.multiprocess_executor
    try:
        if engine == "celery":
            from dagster_celery import celery_executor

            from pipelines.celery_fs_broker import write_messages_whole

            write_messages_whole()  # the driver sends: no worker reads half a message on `filesystem://`
            return celery_executor
        if engine == "k8s":
            from dagster_k8s import k8s_job_executor

            return k8s_job_executor
    except ImportError:
        raise EngineError(
            f"--executor {engine} needs {_PACKAGES[engine]}: pip install {_PACKAGES[engine]}"
        ) from None
    raise EngineError(f"unknown executor {engine!r}; choose one of {', '.join(ENGINES)}")


def load_engine_config(engine: str, path: str | Path | None) -> dict[str, Any]:
    """The executor settings in a YAML file (a mapping of the engine's config fields), checked against the
    engine's own config schema: an unknown key or a wrong type is refused, naming the key."""
    import yaml

    definition = executor_def(engine)
    raw: Any = {}
    if path is not None:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise EngineError(f"{path}: not readable as YAML ({type(err).__name__})") from None
        if not isinstance(raw, Mapping):
            raise EngineError(f"{path}: must be a mapping of {engine} executor settings")
        # the file may hold a section per engine ({celery: {...}, k8s: {...}}) so one file serves every site
        if set(raw) <= set(ENGINES):
            raw = raw.get(engine) or {}
    _check_keys(engine, path, dict(raw), definition)
    return dict(raw)


def _check_keys(engine: str, path, raw: dict, definition: dg.ExecutorDefinition) -> None:
    from dagster._config import process_config
    from dagster._config.errors import DagsterEvaluationErrorReason

    schema = definition.config_schema.as_field().config_type
    known = sorted(schema.fields) if hasattr(schema, "fields") else []
    for key in raw:
        if known and key not in known:
            raise EngineError(f"{path}: unknown key {key!r} for --executor {engine}; known: {', '.join(known)}")
    result = process_config(schema, raw)
    if not result.success:
        error = result.errors[0]
        where = ".".join(str(p) for p in error.stack.levels) or "(top)"
        reason = "missing" if error.reason == DagsterEvaluationErrorReason.MISSING_REQUIRED_FIELD else "invalid"
        raise EngineError(
            f"{path}: {reason} value at {where} for --executor {engine}: {error.message.splitlines()[0]}"
        )


def check_reachable(engine: str, config: Mapping[str, Any]) -> None:
    """Raise EngineError when the engine's infrastructure (a Celery broker, a Kubernetes API) does not answer."""
    if engine == "celery":
        from dagster_celery.defaults import broker_url
        from dagster_celery.make_app import make_app

        url = config.get("broker") or broker_url
        try:
            with make_app(dict(config)).connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=REACH_TIMEOUT_S)
        except Exception as err:  # kombu raises many types; any of them means "cannot reach"
            raise EngineError(f"Celery broker {_scheme(url)} not reachable ({type(err).__name__})") from None
    elif engine == "k8s":
        import kubernetes

        try:
            if config.get("load_incluster_config", True) and not config.get("kubeconfig_file"):
                kubernetes.config.load_incluster_config()
            else:
                kubernetes.config.load_kube_config(config.get("kubeconfig_file"))
            kubernetes.client.VersionApi().get_code(_request_timeout=REACH_TIMEOUT_S)
        except Exception as err:  # config, TLS and connection errors alike
            raise EngineError(f"Kubernetes cluster not reachable ({type(err).__name__})") from None


def _scheme(url: str) -> str:
    # the URL may carry a password; name only its transport and host
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


def _defs(engine: str) -> dg.Definitions:
    from pipelines.definitions import defs

    return dg.Definitions(
        assets=defs.assets, asset_checks=defs.asset_checks, resources=defs.resources, executor=executor_def(engine)
    )


# One lazily built code location per engine: the pointer a step worker (a process, a Celery worker, a pod)
# follows to rebuild the same job with the same executor, so the run config validates there too.
@dg.definitions
def multiprocess_defs() -> dg.Definitions:
    return _defs("multiprocess")


@dg.definitions
def celery_defs() -> dg.Definitions:
    return _defs("celery")


@dg.definitions
def k8s_defs() -> dg.Definitions:
    return _defs("k8s")


def reconstructable_job(engine: str, container_image: str | None = None):
    """The code location's asset job, with the engine's executor, as a pointer other processes can follow."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    repository = ReconstructableRepository.for_module(
        __name__, f"{engine}_defs", working_directory=str(Path.cwd()), container_image=container_image
    )
    return repository.get_reconstructable_job("__ASSET_JOB")


def k8s_step_config(config: Mapping[str, Any], url: str, pinned: Mapping[str, str]) -> dict[str, Any]:
    """The k8s executor's settings for a run on the object-store root at `url`: every step pod's command is
    the step wrapper (pipelines.k8s_steps: a working copy per step, pushed before the step succeeds) and its
    environment names the root's URL and the run's settings (`pinned`: LONGITUDE_SHARDS...), in place of any
    the file gives: the driver's own LONGITUDE_ROOT is its local working copy, which no pod can see.
    Credentials stay what the file makes them: references (`env_secrets`), never values."""
    out = copy.deepcopy(dict(config))
    ours = {"LONGITUDE_ROOT": url, **pinned}
    kept = [e for e in out.get("env_vars") or [] if e.split("=", 1)[0] not in ours]
    out["env_vars"] = kept + [f"{key}={value}" for key, value in ours.items()]
    container = out.setdefault("step_k8s_config", {}).setdefault("container_config", {})
    container["command"] = list(STEP_COMMAND)  # the handler's args (`dagster api execute_step`) follow it
    return out


def k8s_run_launcher(config: Mapping[str, Any]) -> dict[str, Any]:
    """The run launcher of the driver's instance for `--executor k8s`: dagster-k8s's step handler reads the
    cluster settings, DAGSTER_HOME and the Postgres password secret of step pods from the instance's
    K8sRunLauncher, so the driver needs one even though it launches no run pod. The Helm chart's names."""
    launcher: dict[str, Any] = {
        "instance_config_map": "dagster-instance",  # the chart's; a step pod is given its instance by reference
        "dagster_home": "/opt/dagster/dagster_home",  # the pods' DAGSTER_HOME: deploy/Dockerfile's, the chart's
        "job_namespace": config.get("job_namespace") or "default",
        "load_incluster_config": config.get("load_incluster_config", True),
        "service_account_name": config.get("service_account_name") or "default",  # the namespace's own
    }
    if config.get("kubeconfig_file"):
        launcher["kubeconfig_file"] = config["kubeconfig_file"]
    return {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": launcher}


def celery_config_module(config: Mapping[str, Any], folder: Path) -> Path:
    """A folder holding `dagster_celery_config.py` from the executor settings: dagster-celery's app reads its
    broker, backend and Celery options from that module (what `dagster-celery worker start -y` writes)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    if config.get("broker"):
        lines.append(f"broker_url = {str(config['broker'])!r}")
    if config.get("backend"):
        lines.append(f"result_backend = {str(config['backend'])!r}")
    lines += [f"{key} = {value!r}" for key, value in (config.get("config_source") or {}).items()]
    from schemas.atomic import write_text

    module = write_text("\n".join(lines) + "\n", folder / "dagster_celery_config.py")  # mode 0600: a broker URL
    module.chmod(0o600)  # may carry a password (and a file written before this stays so)
    return folder
