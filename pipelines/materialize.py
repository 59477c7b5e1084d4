"""Materialize the code location's assets in-process, in dependency order, shard by shard, with progress."""

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from schemas.publish import crash_point, sweep

_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class StepFailedError(RuntimeError):
    """An asset's step raised: its error was logged by Dagster; downstream assets were not materialized."""


class BlockingCheckError(RuntimeError):
    """A blocking asset check failed: downstream assets were not materialized."""


@dataclass(frozen=True, slots=True)
class Step:
    """Assets materialized together: all unpartitioned, or all sharing one partitions definition."""

    keys: tuple[dg.AssetKey, ...]
    partition_keys: tuple[str | None, ...]


@dataclass(slots=True)
class Outcome:
    materialized: list[tuple[str, float]] = field(default_factory=list)  # (step label, seconds)
    checks: list[tuple[str, str, bool, str]] = field(default_factory=list)  # asset, check, passed, severity


def plan(defs: dg.Definitions, selection: Sequence[str] | None = None) -> list[Step]:
    """Steps in topological order; a selection string set (`fhir_raw`, `meds_data+`, `*catalog`) narrows it."""
    graph = defs.resolve_asset_graph()
    wanted = set(graph.get_all_asset_keys())
    if selection:
        sel = dg.AssetSelection.from_coercible(list(selection)) if not isinstance(selection, str) else None
        sel = sel or dg.AssetSelection.from_string(selection)
        wanted = set(sel.resolve(graph))
    steps: list[Step] = []
    for level in graph.toposorted_asset_keys_by_level:
        for key in sorted(k for k in level if k in wanted):
            pdef = graph.get(key).partitions_def
            pkeys = tuple(pdef.get_partition_keys()) if pdef else (None,)
            if steps and steps[-1].partition_keys == pkeys and not _depends_on(graph, key, steps[-1].keys):
                steps[-1] = Step((*steps[-1].keys, key), pkeys)
            else:
                steps.append(Step((key,), pkeys))
    return steps


def _depends_on(graph, key: dg.AssetKey, keys: tuple[dg.AssetKey, ...]) -> bool:
    return bool(set(graph.get(key).parent_keys) & set(keys))


def run(
    defs: dg.Definitions,
    steps: list[Step],
    *,
    instance: dg.DagsterInstance | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> Outcome:
    """Run every step; stop with BlockingCheckError when a blocking check fails.

    First removes what a crashed run left under the root (staging areas; schemas.publish.sweep), so a rerun
    starts from the last published versions.
    """
    assets = list(defs.assets or ()) + list(defs.asset_checks or ())
    resources = dict(defs.resources or {})
    root = getattr(resources.get("longitude"), "root", None)
    if root and Path(root).is_dir():
        sweep(Path(root).resolve())
    # With DAGSTER_HOME set, runs are recorded there, so `dagster dev` shows what the CLI materialized.
    instance = instance or (
        dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    )
    outcome = Outcome()
    total = sum(len(s.partition_keys) for s in steps)
    done = 0
    logging.getLogger("dagster").setLevel(logging.WARNING)
    for step in steps:
        names = ", ".join(k.to_user_string() for k in step.keys)
        for pkey in step.partition_keys:
            label = names if pkey is None else f"{names} [shard {pkey}]"
            if on_progress:
                on_progress(label, done, total)
            crash_point(f"step:{done}")  # every asset boundary, for the fault-injection tests
            started = time.perf_counter()
            result = dg.materialize(
                assets,
                selection=list(step.keys),
                partition_key=pkey,
                resources=resources,
                instance=instance,
                run_config=_QUIET,
                raise_on_error=False,  # failures become clear messages below, not tracebacks
            )
            outcome.materialized.append((label, time.perf_counter() - started))
            failed = []
            for ev in result.get_asset_check_evaluations():
                severity = ev.severity.value if ev.severity else "ERROR"
                outcome.checks.append((ev.asset_key.to_user_string(), ev.check_name, ev.passed, severity))
                if not ev.passed and severity == "ERROR":
                    failed.append(f"{ev.asset_key.to_user_string()}:{ev.check_name}")
            done += 1
            if failed:
                raise BlockingCheckError(f"blocking checks failed after {label}: {', '.join(failed)}")
            if not result.success:
                steps = sorted({ev.step_key for ev in result.all_events if ev.is_step_failure and ev.step_key})
                raise StepFailedError(
                    f"{label} failed in {', '.join(steps) or 'a step'}; see the Dagster log above"
                )
    if on_progress:
        on_progress("done", done, total)
    return outcome
