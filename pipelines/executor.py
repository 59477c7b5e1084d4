"""The code location's executor: steps in-process, or a process per step only when history says that pays."""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack

import dagster as dg

from schemas.cpus import available_cpus

# Wall seconds a step process costs before its asset body starts: Python start, `import pipelines.definitions`
# (1.6-1.8 s CPU) and Dagster's step setup. A lower bound on an idle machine: on 2 busy cores a forked step
# cost 40-55 s more wall than in-process (BENCHMARKS.md, "Stewards and UI"), so forking is chosen rarely.
FORK_SECONDS = 3.5
# Fork only when the estimate saves at least a quarter: estimates come from one earlier run and are noisy.
MIN_SAVING = 0.25


def estimate_seconds(
    levels: Sequence[Sequence[str]], seconds: Mapping[str, float], workers: int
) -> tuple[float, float]:
    """(in-process, multiprocess) wall estimates for steps by level, from each step's last known duration.

    A step never run before counts as 0 s, so a first run stays in-process: forking can only be shown to pay
    once durations are known.

    >>> estimate_seconds([["a", "b"], ["c"]], {"a": 10, "b": 10, "c": 1}, workers=2)
    (21, 18.0)
    >>> estimate_seconds([["a"]], {}, workers=4)
    (0, 3.5)
    """
    serial = sum(seconds.get(key, 0) for level in levels for key in level)
    parallel = 0.0
    for level in levels:
        durations = [seconds.get(key, 0) for key in level]
        # a level takes at least its longest step, and at least its total spread over the workers
        parallel += FORK_SECONDS + max(max(durations, default=0), sum(durations) / max(workers, 1))
    return serial, parallel


def pays_to_fork(levels: Sequence[Sequence[str]], seconds: Mapping[str, float], workers: int) -> bool:
    """True when a process per step is estimated to finish in under (1 - MIN_SAVING) of the in-process time.

    >>> pays_to_fork([["a", "b"]], {"a": 30, "b": 30}, workers=2)
    True
    >>> pays_to_fork([["a", "b"]], {"a": 0.5, "b": 0.5}, workers=2)
    False
    """
    serial, parallel = estimate_seconds(levels, seconds, workers)
    return parallel < (1 - MIN_SAVING) * serial


def last_step_seconds(instance: dg.DagsterInstance, step_keys: Sequence[str]) -> dict[str, float]:
    """Each step's duration in the last run that materialized its asset (CLI or UI run alike)."""

    found: dict[str, float] = {}
    for key in step_keys:
        entry = instance.get_latest_materialization_event(dg.AssetKey(key))
        if entry is None or not entry.run_id:
            continue
        for stats in instance.get_run_step_stats(entry.run_id, step_keys=[key]):
            if stats.start_time and stats.end_time:
                found[key] = stats.end_time - stats.start_time
    return found


class _AutoExecutor(dg.Executor):
    def __init__(self, mode: str, max_concurrent: int) -> None:
        from dagster._core.execution.retries import RetryMode

        self._mode = mode
        self._max_concurrent = max_concurrent or max(1, available_cpus() // 2)
        self._retries = RetryMode.DISABLED

    @property
    def retries(self):
        return self._retries

    def execute(self, plan_context, execution_plan) -> Iterator:
        from dagster._core.events import DagsterEvent, EngineEventData
        from dagster._core.executor.in_process import InProcessExecutor
        from dagster._core.executor.multiprocess import MultiprocessExecutor

        from pipelines.run_start import hold_root

        with ExitStack() as held:  # the root's run lock, for the whole run (released however the run ends)
            yield from hold_root(plan_context, held)  # lock, then sweep what a crashed run left
            fork = self._choose(plan_context, execution_plan)
            why = {"in_process": "configured", "multiprocess": "configured"}.get(
                self._mode, "estimated from last runs"
            )
            yield DagsterEvent.engine_event(
                plan_context,
                f"longitude executor: {'a process per step' if fork else 'in-process'} ({why})",
                EngineEventData(),
            )
            chosen = (
                MultiprocessExecutor(retries=self._retries, max_concurrent=self._max_concurrent)
                if fork
                else InProcessExecutor(retries=self._retries)
            )
            yield from chosen.execute(plan_context, execution_plan)
            yield from _site_after_run(plan_context)  # still under the run lock

    def _choose(self, plan_context, execution_plan) -> bool:
        from dagster._core.definitions.reconstruct import ReconstructableJob

        # a process per step needs a job another process can rebuild and an instance it can reach
        if plan_context.instance.is_ephemeral or not isinstance(plan_context.job, ReconstructableJob):
            return False
        if self._mode != "auto":
            return self._mode == "multiprocess"
        levels = [[step.key for step in level] for level in execution_plan.get_steps_to_execute_by_level()]
        if max((len(level) for level in levels), default=0) < 2:
            return False  # nothing runs side by side: a process per step only adds start-up
        seconds = last_step_seconds(plan_context.instance, [key for level in levels for key in level])
        return pays_to_fork(levels, seconds, self._max_concurrent)


@dg.executor(
    name="longitude_executor",
    config_schema={
        "mode": dg.Field(
            dg.Enum("LongitudeExecutorMode", [dg.EnumValue(v) for v in ("auto", "in_process", "multiprocess")]),
            default_value="auto",
            description="auto: in-process unless last runs' step times show that a process per step pays.",
        ),
        "max_concurrent": dg.Field(
            int, default_value=0, description="Step processes at once (0: half the cores)."
        ),
    },
)
def longitude_executor(init_context) -> dg.Executor:
    """In-process for small partitions; a process per step when parallel steps are long enough to pay for it."""
    config = init_context.executor_config
    return _AutoExecutor(config["mode"], config["max_concurrent"])


def _site_after_run(plan_context) -> Iterator:
    """A UI run that stored check results without materializing quality_site: the stewards' page rebuilt from
    the store (pipelines.site_refresh), as `longitude materialize` does, so it never shows the older results."""
    from dagster._core.events import DagsterEvent, EngineEventData

    from pipelines.run_start import run_root
    from pipelines.site_refresh import rebuild_site, run_needs_rebuild, site_built

    root = run_root(plan_context)
    run_id = plan_context.dagster_run.run_id
    if root is None or not site_built(root) or not run_needs_rebuild(plan_context.instance, run_id):
        return
    try:
        report = rebuild_site(root, plan_context.instance, f"run {run_id[:8]}")
        message = (
            f"longitude: stewards' site rebuilt from the stored results ({len(report.blocking)} blocking "
            f"failures, {len(report.warnings)} open warnings), {report.timings['rebuild']:.1f} s"
        )
    except Exception as err:  # the run's steps are done; say the page is behind rather than fail the run
        message = f"longitude: the stewards' site was NOT rebuilt ({type(err).__name__}); it shows older results"
    yield DagsterEvent.engine_event(plan_context, message, EngineEventData())
