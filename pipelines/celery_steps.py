"""Celery's app for `longitude worker --root s3://...`: each step runs in its own working copy of the root.

dagster-celery's app (`dagster_celery.app`) with one change: its step task first empties the worker's root
directory and pulls the root as the store has it now (schemas.working_copy; mostly hard links from the
object cache), runs the step there, and pushes what the step published before the task returns. A push that
fails fails the task, so the driver never counts a step whose output did not reach the store. The push is
fenced by the token of the driver's lease, which the run carries (pipelines.run_fence): a step of a run that
lost the root to another is refused before it starts and at every pointer and index PUT of its push.
"""

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task, create_task

from pipelines.run_fence import fence_of_run, tags_of_step_run
from pipelines.step_copy import step_working_copy

app = make_app()
execute_plan = create_task(app)
execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)

_run_step = execute_plan.run  # dagster-celery's own task body


def _step_in_its_working_copy(*args, **kwargs):
    copy = step_working_copy()
    packed = args[0] if args else kwargs["execute_step_args_packed"]
    copy.lease = fence_of_run(copy.store, tags_of_step_run(packed=packed))
    copy.lease.check()  # a run that lost the root spends no step on it
    copy.reset()
    events = _run_step(*args, **kwargs)
    copy.push()
    return events


execute_plan.run = _step_in_its_working_copy
