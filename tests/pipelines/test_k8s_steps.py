"""The step pods' command (pipelines.k8s_steps) and the executor settings the driver gives them on an
object-store root (pipelines.engines.k8s_step_config): what runs, with which root, and what passes through."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dagster_k8s")

REPO = Path(__file__).resolve().parents[2]


def _entrypoint(*args: str, root: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGITUDE_", "AWS_"))}
    env |= {"LONGITUDE_ROOT": root, **extra}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(REPO)
    cmd = [sys.executable, "-m", "pipelines.k8s_steps", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow  # a few Python and Dagster start-ups
def test_other_commands_and_local_roots_run_as_given(tmp_path: Path):
    # the image's entrypoint: the Helm chart's code server and run pods pass whole command lines as args
    run = _entrypoint("dagster", "--version", root="s3://bucket/prefix")
    assert run.returncode == 0 and "dagster, version 1.13.27" in run.stdout, run.stderr[-1000:]
    # a step on a local root (a shared volume) is dagster's own command: here it stops for want of its step
    run = _entrypoint("dagster", "api", "execute_step", root=str(tmp_path))
    assert run.returncode != 0 and "Pulled" not in run.stderr
    assert "Must provide one of input_json or compressed_input_json" in run.stderr
    run = _entrypoint(root=str(tmp_path))
    assert run.returncode == 2 and "usage:" in run.stderr


@pytest.mark.slow
def test_a_step_on_an_unreachable_store_fails_in_one_line(tmp_path: Path):
    from tests.s3_server import TEST_AWS_ENV

    env_root = "s3://no-such-bucket-longitude/prefix"
    # an S3 endpoint on a local port nothing listens on: the pull fails before the step, which never runs
    closed = {**TEST_AWS_ENV, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"}
    run = _entrypoint("dagster", "api", "execute_step", root=env_root, **closed)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.stderr.startswith("Error: ") and env_root in run.stderr


def test_the_driver_gives_pods_the_url_its_settings_and_the_wrapper():
    from pipelines.engines import STEP_COMMAND, k8s_step_config

    config = {
        "env_vars": ["LONGITUDE_ROOT=/data/longitude", "TMPDIR=/scratch", "LONGITUDE_SHARDS=9"],
        "env_secrets": ["longitude-aws"],
        "step_k8s_config": {"container_config": {"resources": {"requests": {"cpu": "1"}}}},
    }
    out = k8s_step_config(config, "s3://b/p", {"LONGITUDE_SHARDS": "4", "LONGITUDE_SPLITS": "0.8/0.1/0.1"})
    assert out["env_vars"] == ["TMPDIR=/scratch", "LONGITUDE_ROOT=s3://b/p", "LONGITUDE_SHARDS=4",
                               "LONGITUDE_SPLITS=0.8/0.1/0.1"]  # fmt: skip
    container = out["step_k8s_config"]["container_config"]
    assert container["command"] == list(STEP_COMMAND) and container["resources"] == {"requests": {"cpu": "1"}}
    assert out["env_secrets"] == ["longitude-aws"]
    assert config["env_vars"][0] == "LONGITUDE_ROOT=/data/longitude" and "command" not in str(config)  # a copy


class _Copy:
    """Stands in for a step's working copy: records what the instance held when each push happened."""

    def __init__(self, instance, fail: bool = False) -> None:
        self.instance, self.fail, self.seen = instance, fail, []
        self.store = type("Store", (), {"url": "s3://b/p"})()

    def push(self) -> int:
        import dagster as dg

        records = self.instance.get_event_records(dg.EventRecordsFilter(dg.DagsterEventType.STEP_SUCCESS))
        self.seen.append(len(records))
        if self.fail:
            raise OSError("s3://b/p/meds.pointer.json: PermissionError from the object store")
        return 3


def _run(copy_fail: bool):
    import dagster as dg

    from pipelines.k8s_steps import push_before_success

    @dg.asset
    def published() -> None:
        return None

    instance = dg.DagsterInstance.ephemeral()
    copy, pushed = _Copy(instance, fail=copy_fail), []
    with push_before_success(copy, pushed):
        result = dg.materialize([published], instance=instance, raise_on_error=False)
    return result, copy, pushed


def test_a_step_pushes_before_its_success_is_recorded():
    result, copy, pushed = _run(copy_fail=False)
    assert result.success and pushed == ["published"]
    assert copy.seen == [0]  # when the push ran, the instance had no success of the step yet


def test_a_push_that_fails_fails_the_step():
    import dagster as dg

    result, copy, pushed = _run(copy_fail=True)
    assert not result.success and pushed == [] and copy.seen == [0]
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "PermissionError from the object store" in str(failure.step_failure_data.error)
    # and the hook is gone once the block ends: a step outside it pushes nothing
    assert dg.materialize([dg.asset(lambda: None, name="later")]).success and copy.seen == [0]
