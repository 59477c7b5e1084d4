"""What `longitude quality` re-checked, recorded in the root's Dagster instance, so the UI shows what the CLI and
the site show (otherwise a re-check that finds a failure leaves the UI green until the next materialization)."""

from collections.abc import Iterable
from pathlib import Path

from quality.check_store import CheckRow
from quality.suite_checks import UNOWNED
from schemas.layout import Layout, is_chunk_key

# How far back a check's evaluations are read to learn the ingest chunks Dagster runs it for: a run of a chunked
# asset evaluates it once per chunk, so the latest 200 name every chunk in use (0.06 s CPU for 47 checks).
HISTORY = 200


def record_reviewed(root: Path, target: str, by: str, instance=None, rows: list[CheckRow] | None = None) -> int:
    """After an accept, reject or revoke of `check:<rule>`: every check result holding that rule re-reported from
    the store with the reviews as they are now (an accepted warning passes, as the CLI and the site count it).
    `rows`: the store's rows with the reviews attached, when already read after the review (a report's)."""
    from quality import review
    from quality.check_store import read

    if rows is None:
        rows = review.attach(read(Path(root)), review.state(Path(root) / "quality"))
    # every result of each check holding the rule: a chunk's check reports the whole gathered set as one
    reviewed = {(r.asset, r.check) for r in rows if r.target == target}
    return record_rechecked(root, [r for r in rows if (r.asset, r.check) in reviewed], by=by, instance=instance)


def record_rechecked(root: Path, rows: Iterable[CheckRow], *, by: str = "longitude quality", instance=None) -> int:
    """One runless asset-check evaluation per (asset, check, partition) of `rows`, built as the asset checks
    build theirs (pipelines.defs.checks_util.rows_result), `recorded_by` saying who; returns how many were
    recorded. `instance`: an open one (else the root's, opened and closed here)."""
    import dagster as dg
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.instance.utils import RUNLESS_JOB_NAME
    from dagster._core.utils import make_new_run_id

    from pipelines.defs.checks_util import rows_result
    from pipelines.instance import root_instance

    by_check: dict[tuple[str, str], list[CheckRow]] = {}
    for r in rows:
        if r.asset != UNOWNED:  # tables no asset claims have no Dagster check to show them
            by_check.setdefault((r.asset, r.check), []).append(r)
    if not by_check:
        return 0
    own = instance is None
    instance = root_instance(Layout(Path(root))) if own else instance
    # One id per re-check: Dagster's runless id ("") is part of the executions table's unique key, so a second
    # re-check of the same check and partition would collide with the first.
    recheck_id = make_new_run_id()
    try:
        groups = _by_partition(instance, by_check)
        for (asset, check, partition), group in sorted(groups.items(), key=lambda kv: str(kv[0])):
            error = any(r.severity == "error" for r in group)
            result = rows_result(group, dg.AssetCheckSeverity.ERROR if error else dg.AssetCheckSeverity.WARN)
            evaluation = dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey.from_user_string(asset),
                check_name=check,
                passed=result.passed,
                metadata={**result.metadata, "recorded_by": by},
                severity=result.severity,
                description=result.description,
                blocking=error,
                partition=partition,
            )
            event = DagsterEvent(DagsterEventType.ASSET_CHECK_EVALUATION.value, job_name=RUNLESS_JOB_NAME,
                                 event_specific_data=evaluation)  # fmt: skip
            instance.report_dagster_event(event, run_id=recheck_id)
    finally:
        if own:
            instance.dispose()
    return len(groups)


def _by_partition(instance, by_check: dict[tuple[str, str], list[CheckRow]]) -> dict[tuple, list[CheckRow]]:
    """(asset, check, Dagster partition) -> the rows its evaluation reports. A check Dagster runs per ingest
    chunk validates the gathered set, every shard (pipelines.defs.quality.checks._partition): all its rows, the
    shard a row names included, are one result, shown under each chunk the check runs for. Any other check:
    one result per partition its rows name (a shard, or None)."""
    groups: dict[tuple[str, str, str | None], list[CheckRow]] = {}
    for (asset, check), rows in by_check.items():
        chunks = _chunk_partitions(instance, asset, check)
        for r in rows:
            for partition in chunks or [r.partition]:
                groups.setdefault((asset, check, partition), []).append(r)
    return groups


def _chunk_partitions(instance, asset: str, check: str) -> list[str]:
    """The ingest chunks (`c0`...) the instance's evaluations of this check were made for; [] for a check
    evaluated per shard or once (the code location is not loaded here: ~1.2 s of imports for a review)."""
    import dagster as dg

    key = dg.AssetCheckKey(dg.AssetKey.from_user_string(asset), check)
    history = instance.event_log_storage.get_asset_check_execution_history(key, limit=HISTORY)
    return sorted({r.partition for r in history if r.partition and is_chunk_key(r.partition)})
