"""Materialize the code location's assets in-process, in dependency order, shard by shard, with progress."""

import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from schemas.layout import partition_label
from schemas.publish import crash_point, sweep
from schemas.run_lock import run_lock

# Dagster's per-event log lines are folded into our progress bar; --verbose shows them.
# A step's failure is reported as its error's own message (StepFailedError), so Dagster's ERROR line with the
# stack trace only shows with --verbose.
_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
_VERBOSE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
# Engines whose steps run elsewhere (Celery workers, Kubernetes pods): each step's partitions are submitted
# together, one run each, as soon as the steps holding its inputs have ended (pipelines.side_by_side), so that
# shards run side by side, and beside independent steps (on a root every worker mounts; an object-store
# root's steps stay one at a time: _object_store_copy). A process per step (multiprocess) stays one at a
# time: on one machine, N shards at once would hold N shards in memory.
SIDE_BY_SIDE = ("celery", "k8s")


class StepFailedError(RuntimeError):
    """An asset's step raised: its error was logged by Dagster; downstream assets were not materialized."""


class BlockingCheckError(RuntimeError):
    """A blocking asset check failed: downstream assets were not materialized."""

    def __init__(self, message: str, failed: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.failed = failed or []  # (asset, check): their reasons are in the check store


class SelectionError(ValueError):
    """A selection names no asset of the code location; the message suggests the closest ones."""


def _check_selection(graph, selection: Sequence[str]) -> None:
    """Refuse plain asset names that do not exist, with a "did you mean" (Dagster's own error is a traceback)."""
    import difflib

    names = sorted(k.to_user_string() for k in graph.get_all_asset_keys())
    for item in selection:
        name = item.strip().lstrip("*+").rstrip("*+")
        if re.fullmatch(r"[A-Za-z0-9_/]+", name) and name not in names:
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(close)}?" if close else "; `dagster asset list` names them"
            raise SelectionError(f"no asset named {name!r}{hint}")


@dataclass(frozen=True, slots=True)
class Step:
    """Assets materialized together: all unpartitioned, or all sharing one partitions definition."""

    keys: tuple[dg.AssetKey, ...]
    partition_keys: tuple[str | None, ...]


@dataclass(slots=True)
class Outcome:
    materialized: list[tuple[str, float]] = field(default_factory=list)  # (step label, seconds)
    checks: list[tuple[str, str, bool, str]] = field(default_factory=list)  # asset, check, passed, severity


def plan(
    defs: dg.Definitions, selection: Sequence[str] | None = None, partitions: Sequence[str] | None = None
) -> list[Step]:
    """Steps in topological order; a selection string set (`fhir_raw`, `meds_data+`, `*catalog`) narrows it, and
    `partitions` (shard keys) narrows per-shard steps to those shards."""
    graph = defs.resolve_asset_graph()
    wanted = set(graph.get_all_asset_keys())
    if selection:
        items = [selection] if isinstance(selection, str) else list(selection)
        _check_selection(graph, items)
        try:
            sel = dg.AssetSelection.from_coercible(items) if not isinstance(selection, str) else None
            sel = sel or dg.AssetSelection.from_string(selection)
            wanted = set(sel.resolve(graph))
        except (dg.DagsterError, ValueError) as err:  # a selection string Dagster cannot parse or resolve
            raise SelectionError(str(err).strip().splitlines()[0]) from None
    if partitions:
        _check_partitions(graph, wanted, partitions)
    steps: list[Step] = []
    for level in graph.toposorted_asset_keys_by_level:
        by_key = {}
        for key in (k for k in level if k in wanted):
            pdef = graph.get(key).partitions_def
            pkeys = tuple(pdef.get_partition_keys()) if pdef else (None,)
            if pdef and partitions:
                pkeys = tuple(k for k in pkeys if k in partitions)
                if not pkeys:
                    continue
            by_key[key] = pkeys
        # Assets of one level never depend on each other: first those that can join the previous step, then
        # each partitioning together, so an unpartitioned asset between shard-partitioned ones (by name) does
        # not split them into two rounds of per-shard steps.
        last = steps[-1].partition_keys if steps else None
        for key in sorted(by_key, key=lambda k: (by_key[k] != last, repr(by_key[k]), k.to_user_string())):
            pkeys = by_key[key]
            if steps and steps[-1].partition_keys == pkeys and not _depends_on(graph, key, steps[-1].keys):
                steps[-1] = Step((*steps[-1].keys, key), pkeys)
            else:
                steps.append(Step((key,), pkeys))
    return steps


def _check_partitions(graph, keys: set, partitions: Sequence[str]) -> None:
    """Refuse a partition key no selected asset has, naming the closest and the valid ones."""
    import difflib

    defs = [graph.get(key).partitions_def for key in keys]
    known = sorted({k for pdef in defs if pdef for k in pdef.get_partition_keys()}, key=lambda k: (len(k), k))
    for p in partitions:
        if p not in known:
            close = difflib.get_close_matches(p, known, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]}? " if close else ""
            listed = ", ".join(known[:12]) or "none: the selected assets are not partitioned"
            raise SelectionError(f"no partition {p!r}; {hint}partitions are {listed}")


def _depends_on(graph, key: dg.AssetKey, keys: tuple[dg.AssetKey, ...]) -> bool:
    return bool(set(graph.get(key).parent_keys) & set(keys))


def run(
    defs: dg.Definitions,
    steps: list[Step],
    *,
    instance: dg.DagsterInstance | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
    verbose: bool = False,
    executor: str | None = None,
    executor_config: dict | None = None,
    swept: bool = False,
    tags: dict[str, str] | None = None,
) -> Outcome:
    """Run every step; stop with BlockingCheckError when a blocking check fails.

    Holds the root's run lock throughout (schemas.run_lock; RootBusyError at once when another run holds it),
    and first removes what a crashed run left under the root (staging areas; schemas.publish.sweep), so a rerun
    starts from the last published versions. `swept`: the caller holds the lock and swept already (the CLI,
    whose FHIR parse may be staging by now). `tags`: added to the runs of other engines (the lease token of an
    object-store root, pipelines.run_fence).
    """
    root = getattr(dict(defs.resources or {}).get("longitude"), "root", None)
    if not root or not Path(root).is_dir():
        return _run_steps(defs, steps, instance, on_progress, verbose, executor, executor_config, tags)
    with run_lock(Path(root).resolve(), wait=False, command="longitude materialize"):
        if not swept:
            sweep(Path(root).resolve())
        return _run_steps(defs, steps, instance, on_progress, verbose, executor, executor_config, tags)


def _run_steps(
    defs: dg.Definitions,
    steps: list[Step],
    instance: dg.DagsterInstance | None,
    on_progress: Callable[[str, int, int], None] | None,
    verbose: bool,
    executor: str | None,
    executor_config: dict | None,
    tags: dict[str, str] | None = None,
) -> Outcome:
    assets = list(defs.assets or ()) + list(defs.asset_checks or ())
    resources = dict(defs.resources or {})
    # With DAGSTER_HOME set, runs are recorded there, so `dagster dev` shows what the CLI materialized.
    instance = instance or (
        dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    )
    outcome = Outcome()
    jobs = _StepJobs()
    total = sum(len(s.partition_keys) for s in steps)
    done = 0
    logging.getLogger("dagster").setLevel(logging.INFO if verbose else logging.WARNING)
    run_config = _VERBOSE if verbose else _QUIET

    def execute(step: Step, pkey: str | None):
        if executor in (None, "in_process"):
            return jobs.get(assets, resources, step.keys).execute_in_process(
                run_config=run_config,
                instance=instance,
                partition_key=pkey,
                raise_on_error=False,  # failures become clear messages below, not tracebacks
            )
        return _execute_on(executor, executor_config or {}, step, pkey, instance, run_config, tags)

    if executor in SIDE_BY_SIDE and not _object_store_copy(resources):
        from pipelines.side_by_side import (
            log_handlers_built_once,
            run_as_ready,
            sets_switching_together,
            step_inputs,
        )

        inputs = step_inputs(defs.resolve_asset_graph(), steps)
        with log_handlers_built_once(instance):
            ran = run_as_ready(steps, inputs, execute, _stops, on_progress, _label, sets_switching_together)
        for i, pkey, result, seconds in ran:  # in plan order, whichever finished first
            _record(outcome, _label(steps[i], pkey), result, seconds)
        done = len(ran)
    else:
        for step in steps:
            for pkey in step.partition_keys:
                label = _label(step, pkey)
                if on_progress:
                    on_progress(label, done, total)
                crash_point(f"step:{done}")  # every asset boundary, for the fault-injection tests
                started = time.perf_counter()
                result = execute(step, pkey)
                done += 1
                _record(outcome, label, result, time.perf_counter() - started)
    if on_progress:
        on_progress("done", done, total)
    return outcome


def _record(outcome: Outcome, label: str, result, seconds: float) -> None:
    """Add a run's time and checks to the outcome; raise when a blocking check or the step failed."""
    outcome.materialized.append((label, seconds))
    failed = []
    for ev in result.get_asset_check_evaluations():
        severity = ev.severity.value if ev.severity else "ERROR"
        outcome.checks.append((ev.asset_key.to_user_string(), ev.check_name, ev.passed, severity))
        if not ev.passed and severity == "ERROR":
            failed.append((ev.asset_key.to_user_string(), ev.check_name))
    if failed:
        names = ", ".join(f"{a}:{c}" for a, c in failed)
        raise BlockingCheckError(f"blocking checks failed after {label}: {names}", failed)
    if not result.success:
        if _interrupted(result):  # Ctrl-C: Dagster turns the signal into a failure of the step it stopped
            raise KeyboardInterrupt
        raise StepFailedError(f"{label} failed: {_failure_messages(result)}")


def _interrupted(result) -> bool:
    """A step failed because the run was interrupted (SIGINT), not because of the data or the code."""
    for ev in result.all_events:
        error = ev.step_failure_data.error if ev.is_step_failure else None
        while error is not None:
            if error.cls_name == "DagsterExecutionInterruptedError":
                return True
            error = error.cause
    return False


def _label(step: Step, pkey: str | None) -> str:
    names = ", ".join(k.to_user_string() for k in step.keys)
    return names if pkey is None else f"{names} [{partition_label(pkey)}]"


def _object_store_copy(resources: dict) -> bool:
    """The root is a working copy of an object-store root: each Celery step pulls the store, runs, and pushes,
    so shards side by side would each miss the others' open partition files and amends (a set nobody
    completes); their shards stay one at a time until the store's push merges concurrent writers."""
    from schemas.working_copy import store_url_of

    root = getattr(resources.get("longitude"), "root", None)
    return bool(root) and store_url_of(Path(root)) is not None


def _stops(result) -> bool:
    """A step that failed or whose blocking check failed: the steps after it do not run."""
    if not result.success:
        return True
    return any(
        not ev.passed and (ev.severity.value if ev.severity else "ERROR") == "ERROR"
        for ev in result.get_asset_check_evaluations()
    )


class _StepJobs:
    """The job `dg.materialize` would build for a step's assets, built once per selection and reused for every
    partition of the step; the whole asset graph and its resources are validated once per run, not per step
    (dg.materialize resolves every job of a fresh Definitions on each call: ~0.1 s of CPU a step)."""

    def __init__(self) -> None:
        self._jobs: dict[tuple[dg.AssetKey, ...], dg.JobDefinition] = {}
        self._validated = False

    def get(self, assets: list, resources: dict, keys: tuple[dg.AssetKey, ...]) -> dg.JobDefinition:
        job = self._jobs.get(keys)
        if job is None:
            from dagster._core.definitions.materialize import EPHEMERAL_JOB_NAME  # the name dg.materialize gives

            defs = dg.Definitions(
                jobs=[dg.define_asset_job(name=EPHEMERAL_JOB_NAME, selection=list(keys))],
                assets=assets,
                resources=resources,
            )
            if not self._validated:
                defs.resolve_all_job_defs()  # the asset graph and its resources, as dg.materialize checks them
                self._validated = True
            job = self._jobs[keys] = defs.resolve_job_def(EPHEMERAL_JOB_NAME)
        return job


def _execute_on(
    engine: str, config: dict, step: Step, pkey: str | None, instance, run_config: dict, tags: dict | None = None
):
    """One step through another engine's executor (a process per step, Celery workers, Kubernetes pods): the
    job is rebuilt from a pointer in the workers, so the instance must be persistent (the root's)."""
    from pipelines.engines import reconstructable_job

    with dg.execute_job(
        reconstructable_job(engine),
        instance,
        run_config={**run_config, "execution": {"config": config}},
        tags=({"dagster/partition": pkey} if pkey is not None else {}) | (tags or {}) or None,
        asset_selection=list(step.keys),
    ) as result:
        result.all_events  # noqa: B018 -- read the events while the result's context is open
        return result


def _failure_messages(result) -> str:
    """Each failed step and the message of the error that stopped it (the innermost cause: Dagster wraps user
    errors in its own), one line each; errors name file, record and field, never a value."""
    lines = []
    for ev in result.all_events:
        if not ev.is_step_failure:
            continue
        error = ev.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        message = (error.message if error is not None else "unknown error").strip().splitlines()
        first = re.sub(r"^[\w.]+\.(\w+): ", r"\1: ", message[0]) if message else "unknown error"  # short class
        lines.append(f"{ev.step_key}: {first}")
    return "; ".join(lines) or "a step failed (run with --verbose for Dagster's log)"
