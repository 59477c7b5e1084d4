"""A Kubernetes step pod's command on an object-store root: the step runs in the pod's own working copy.

dagster-k8s's step handler gives a step pod the arguments `dagster api execute_step` (the step itself travels
in an environment variable). On an `s3://` root the driver makes the container's command
`python -m pipelines.k8s_steps` (pipelines.engines.STEP_COMMAND and k8s_step_config), so the pod runs:

    python -m pipelines.k8s_steps dagster api execute_step

Here, with LONGITUDE_ROOT the root's URL, the step runs as `dagster api execute_step` would run it, in this
process, in a working copy of the root pulled for it (pipelines.step_copy, the Celery workers' code), and
what it published is pushed *before* its success event is written: the driver's executor counts a step done,
and starts the steps after it, when it reads that event, so a step whose push failed fails, and a later step
never pulls before an earlier one's output is in the store. A step that failed still pushes what it published
(a local root keeps it too). The pod takes no lease: the driver holds the root's for the whole run, and
the pod pushes only under its token, which the run carries (pipelines.run_fence).

Any other arguments (a run pod's `dagster api execute_run`, the gRPC server), or a local root, are executed
unchanged.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_STEP_ARGS = ["dagster", "api", "execute_step"]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stderr.write("usage: python -m pipelines.k8s_steps dagster api execute_step\n")
        return 2
    from pipelines.commands.store_root import is_object_store

    if args[:3] != _STEP_ARGS or not is_object_store(os.environ.get("LONGITUDE_ROOT")):
        os.execvp(args[0], args)  # not a step on an object-store root: the command as given
    return _step_in_its_working_copy(args)


def _step_in_its_working_copy(args: list[str]) -> int:
    import click
    from dagster._cli import ENV_PREFIX, cli

    from pipelines.commands.common import use_settings
    from pipelines.run_fence import MissingFenceError, fence_of_run, step_args_json, tags_of_step_run
    from pipelines.step_copy import step_working_copy
    from schemas.publish_store import PointerError
    from schemas.store import StoreError

    try:
        # a light copy of the root under TMPDIR (removed when the process ends), the settings pinned for the
        # code location, LONGITUDE_ROOT pointed at the copy: what `longitude worker --root URL` does, no lease
        use_settings(None, None, None, object_store=True, steps_elsewhere="worker")
    except click.ClickException as err:
        sys.stderr.write(f"Error: {err.format_message()}\n")
        return 1
    copy = step_working_copy()
    url = copy.store.url
    try:
        # the driver's lease token, which the run carries, fences every push of this pod (pipelines.run_fence)
        copy.lease = fence_of_run(copy.store, tags_of_step_run(serialized=step_args_json(args[3:], os.environ)))
        copy.lease.check()  # a run that lost the root spends no step on it
        copy.reset()
    except (StoreError, PointerError, MissingFenceError) as err:  # one line: the URL and key, no credential
        sys.stderr.write(f"Error: {err}\n")
        return 1
    sys.stderr.write(f"Pulled {url} for this step: {copy.stats.describe()}.\n")
    pushed: list[str] = []
    with push_before_success(copy, pushed):
        try:
            cli.main(args=args[1:], prog_name="dagster", auto_envvar_prefix=ENV_PREFIX)
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    if not pushed:  # the step failed (or never started): what it published stays published, as locally
        try:
            copy.push()
        except (StoreError, PointerError) as err:
            sys.stderr.write(f"Error: not published to {url}: {err}\n")
            return code or 1
    return code


@contextmanager
def push_before_success(copy, pushed: list[str]) -> Iterator[None]:
    """While open, every step this process runs pushes `copy` just before its success event is made (and so
    before the instance records it); the keys of steps pushed go to `pushed`. A push that raises fails the
    step: Dagster's step error handling turns the exception into the step's failure event."""
    from dagster._core.events import DagsterEvent

    success_event = DagsterEvent.step_success_event

    def push_then_succeed(step_context, success):
        n = copy.push()
        pushed.append(step_context.step.key)
        sys.stderr.write(f"Pushed {n} objects of step {step_context.step.key} to {copy.store.url}.\n")
        return success_event(step_context, success)

    DagsterEvent.step_success_event = staticmethod(push_then_succeed)  # type: ignore[method-assign]
    try:
        yield
    finally:
        DagsterEvent.step_success_event = staticmethod(success_event)  # type: ignore[method-assign]


if __name__ == "__main__":
    sys.exit(main())
