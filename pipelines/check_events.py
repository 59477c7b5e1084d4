"""What `longitude quality` re-checked, recorded in the root's Dagster instance, so the UI shows what the CLI and
the site show (otherwise a re-check that finds a failure leaves the UI green until the next materialization)."""

from collections.abc import Iterable
from pathlib import Path

from quality.check_store import CheckRow
from quality.suite_checks import UNOWNED
from schemas.layout import Layout


def record_reviewed(root: Path, target: str, by: str, instance=None, rows: list[CheckRow] | None = None) -> int:
    """After an accept, reject or revoke of `check:<rule>`: every check result holding that rule re-reported from
    the store with the reviews as they are now (an accepted warning passes, as the CLI and the site count it).
    `rows`: the store's rows with the reviews attached, when already read after the review (a report's)."""
    from quality import review
    from quality.check_store import read

    if rows is None:
        rows = review.attach(read(Path(root)), review.state(Path(root) / "quality"))
    reviewed = {(r.asset, r.check, r.partition) for r in rows if r.target == target}
    groups = [r for r in rows if (r.asset, r.check, r.partition) in reviewed]
    return record_rechecked(root, groups, by=by, instance=instance)


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

    groups: dict[tuple[str, str, str | None], list[CheckRow]] = {}
    for r in rows:
        if r.asset != UNOWNED:  # tables no asset claims have no Dagster check to show them
            groups.setdefault((r.asset, r.check, r.partition), []).append(r)
    if not groups:
        return 0
    own = instance is None
    instance = root_instance(Layout(Path(root))) if own else instance
    # One id per re-check: Dagster's runless id ("") is part of the executions table's unique key, so a second
    # re-check of the same check and partition would collide with the first.
    recheck_id = make_new_run_id()
    try:
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
