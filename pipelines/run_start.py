"""The start of a run launched from the Dagster UI (or `dagster`): take the root's run lock, then sweep.

`longitude materialize` does both itself (pipelines.materialize.run); runs the UI launches go through the code
location's executor instead, which calls `hold_root` before any step, so a UI run never interleaves with a CLI
run and never reads or builds on what a crashed run left. A UI run waits for the lock rather than failing: a
backfill launches one run per shard at once, and they must run one after another.
"""

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import dagster as dg

from schemas.publish import BUILD_ENV, sweep
from schemas.run_lock import Holder, RootBusyError, run_lock

BACKFILL_TAG = "dagster/backfill"


def run_root(plan_context) -> Path | None:
    """The root this run writes: the launchpad's `longitude` resource config, else the code location's root."""
    from pipelines.defs.resources import code_location_values

    config = (plan_context.run_config.get("resources") or {}).get("longitude") or {}
    root = (config.get("config") or {}).get("root")
    if not isinstance(root, str | Path) or not root:  # not set in the launchpad (or set from an env var)
        root = code_location_values().root
    return Path(root).resolve() if Path(root).is_dir() else None


def build_token(run: dg.DagsterRun) -> str:
    """What one build's runs share: a backfill's id, else the run's own id. Open partition sets (the MEDS shards
    staged so far) of this build survive the sweep at the start of its later runs; any other build's are stale."""
    return run.tags.get(BACKFILL_TAG) or run.run_id


def _event(plan_context, message: str):
    from dagster._core.events import DagsterEvent, EngineEventData

    return DagsterEvent.engine_event(plan_context, message, EngineEventData())


def hold_root(plan_context, stack: ExitStack) -> Iterator:
    """Take the root's run lock into `stack` (held until the run ends), then sweep what a crashed run left;
    yields engine events saying so (counts and process ids only)."""
    root = run_root(plan_context)
    if root is None:
        return
    run = plan_context.dagster_run
    command = f"dagster run {run.run_id[:8]}"
    dead: list[Holder] = []
    try:
        stack.enter_context(run_lock(root, wait=False, command=command, on_takeover=dead.append))
    except RootBusyError as busy:
        yield _event(plan_context, f"longitude: waiting for the root's run lock; {busy}")
        stack.enter_context(run_lock(root, wait=True, command=command, on_takeover=dead.append))
    if dead:
        yield _event(
            plan_context,
            f"longitude: took over the run lock of {dead[0].describe()}, which ended without releasing it",
        )
    token = build_token(run)
    os.environ[BUILD_ENV] = token  # partition_stage records it; steps in child processes inherit it
    removed = sweep(root, keep_build=token)
    yield _event(plan_context, f"longitude: run lock held; swept {len(removed)} leftovers of crashed runs")
