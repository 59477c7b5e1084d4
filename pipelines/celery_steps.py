"""Celery's app for `longitude worker --root s3://...`: each step runs in its own working copy of the root.

dagster-celery's app (`dagster_celery.app`) with one change: its step task first empties the worker's root
directory and pulls the root as the store has it now (schemas.working_copy; mostly hard links from the
object cache), runs the step there, and pushes what the step published before the task returns. A push that
fails fails the task, so the driver never counts a step whose output did not reach the store. The push is
fenced by the token of the driver's lease, which the run carries (pipelines.run_fence): a step of a run that
lost the root to another is refused before it starts and at every pointer and index PUT of its push.
"""

import os
from pathlib import Path

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task, create_task

from pipelines.run_fence import fence_of_run
from schemas.object_cache import cache_from_env
from schemas.store import ObjectStore
from schemas.working_copy import WorkingCopy, store_url_of

app = make_app()
execute_plan = create_task(app)
execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)

_run_step = execute_plan.run  # dagster-celery's own task body
_copy: WorkingCopy | None = None


def _working_copy() -> WorkingCopy:
    """The worker's root directory (`longitude worker` made it, LONGITUDE_ROOT names it) as a working copy."""
    global _copy
    if _copy is None:
        root = Path(os.environ["LONGITUDE_ROOT"])
        url = store_url_of(root)
        if url is None:
            raise RuntimeError(f"{root}: not a working copy of an object-store root (no store marker)")
        cache = cache_from_env()
        usable = cache if cache is not None and cache.usable() else None
        _copy = WorkingCopy(ObjectStore(url), root, usable, share_open=True)  # shards of a set in other workers
    return _copy


def _run_tags(execute_step_args_packed) -> dict[str, str]:
    """The tags of the step's run, read from the run's Dagster instance (as the task body reads the run)."""
    from dagster import DagsterInstance
    from dagster._grpc.types import ExecuteStepArgs
    from dagster._serdes import unpack_value

    args = unpack_value(execute_step_args_packed, as_type=ExecuteStepArgs)
    with DagsterInstance.from_ref(args.instance_ref) as instance:  # type: ignore[arg-type]
        run = instance.get_run_by_id(args.run_id)
    return dict(run.tags) if run is not None else {}


def _step_in_its_working_copy(*args, **kwargs):
    copy = _working_copy()
    packed = args[0] if args else kwargs["execute_step_args_packed"]
    copy.lease = fence_of_run(copy.store, _run_tags(packed))
    copy.lease.check()  # a run that lost the root spends no step on it
    copy.reset()
    events = _run_step(*args, **kwargs)
    copy.push()
    return events


execute_plan.run = _step_in_its_working_copy
