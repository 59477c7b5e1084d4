"""The lease token travels with a run's steps as a run tag; a step whose run carries none is refused in one line."""

import pytest

from pipelines.run_fence import LEASE_TAG, MissingFenceError, fence_of_run, lease_tags
from schemas.store import ObjectStore
from schemas.store_lease import Fence


class _Lease:
    token = "0123456789abcdef"


def test_the_runs_tag_carries_the_token_and_a_run_without_it_is_refused():
    store = ObjectStore("s3://bucket/root")
    assert lease_tags(None) == {}  # a local root: no lease, no tag
    assert fence_of_run(store, lease_tags(_Lease())) == Fence(store, _Lease.token)  # type: ignore[arg-type]
    for tags in (None, {}, {"dagster/partition": "0"}, {LEASE_TAG: ""}):
        with pytest.raises(MissingFenceError) as refused:
            fence_of_run(store, tags)
        message = str(refused.value)
        assert "\n" not in message and message.startswith("s3://bucket/root: ") and LEASE_TAG in message


def test_a_step_pod_finds_its_step_wherever_dagster_api_execute_step_reads_it():
    """dagster-k8s passes the step as `--compressed-input-json`, as a positional JSON, or in the environment
    (plain or compressed); the pod's fence reads the run of that step, so each place must give the same JSON."""
    import base64
    import zlib

    from pipelines.run_fence import step_args_json

    step = '{"__class__": "ExecuteStepArgs", "run_id": "r1"}'
    packed = base64.b64encode(zlib.compress(step.encode())).decode()
    assert step_args_json(["--compressed-input-json", packed], {}) == step
    assert step_args_json([step], {}) == step
    assert step_args_json([], {"DAGSTER_EXECUTE_STEP_ARGS": step}) == step
    assert step_args_json([], {"DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS": packed}) == step
    with pytest.raises(KeyError):
        step_args_json([], {})  # no step anywhere: the pod fails before it pulls
