"""Every asset check stores its rows in the check store (quality/checks/) and reports what it stored.

So the Dagster UI, `longitude quality` and the stewards' site read one result: a check never builds its
AssetCheckResult from anything but the rows it has just written. Metadata holds counts, rule names, reasons
and de-identified examples, never a PHI-zone value.
"""

from pathlib import Path

import dagster as dg

from quality.check_store import CheckRow, from_rule, write
from quality.integrity import RuleResult
from schemas.layout import is_chunk_key

MAX_LISTED = 10


def _where(context: dg.AssetCheckExecutionContext) -> tuple[str, str, str | None, str]:
    spec = context.check_specs[0]
    partition = context.partition_key if context.has_partition_key else None
    if partition is not None and is_chunk_key(partition):
        # A chunk's check validates the gathered set, every shard (pipelines.defs.quality.checks._partition):
        # one result of the asset, stored once as `longitude quality` stores it, not once more per chunk.
        partition = None
    return spec.name, spec.asset_key.to_user_string(), partition, context.run.run_id


def store_rows(
    context: dg.AssetCheckExecutionContext,
    root: str | Path,
    rows: list[CheckRow],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """Write this check's rows for its asset and partition, and report them."""
    check, asset, partition, run = _where(context)
    stored = write(Path(root).resolve(), check, asset, partition, rows, run=run)
    return rows_result(stored, severity)


def store_rule(
    context: dg.AssetCheckExecutionContext,
    root: str | Path,
    result: RuleResult,
    *,
    rule: str | None = None,
    severity: str = "error",
    failed_key: str | None = None,
    checked_key: str | None = None,
) -> dg.AssetCheckResult:
    """An integrity rule's result as this check's one stored row (the rule named after the check)."""
    check, asset, partition, _ = _where(context)
    description = (context.check_specs[0].description or "").strip().split("\n")[0]
    row = from_rule(result, check, asset, partition, rule=rule or f"{asset}/{check}", description=description,
                    severity=severity, failed_key=failed_key, checked_key=checked_key)  # fmt: skip
    level = dg.AssetCheckSeverity.ERROR if severity == "error" else dg.AssetCheckSeverity.WARN
    return store_rows(context, root, [row], level)


def rows_result(rows: list[CheckRow], severity: dg.AssetCheckSeverity) -> dg.AssetCheckResult:
    """Passed unless a row failed that no steward accepted; the description says which rule and why."""
    failed = [r for r in rows if not r.passed]
    open_ = [r for r in failed if r.shouting]
    metadata: dict = {
        "rules": len(rows),
        "failed": len(failed),
        "accepted": len(failed) - len(open_),
        "rows_checked": sum(r.checked for r in rows),
        "unexpected_rows": sum(r.failed for r in failed),
    }
    if failed:
        metadata["failures"] = dg.MetadataValue.json(
            [
                {
                    "rule": r.rule,
                    "reason": r.reason,
                    "unexpected": r.failed,
                    "checked": r.checked,
                    "by_code": r.breakdown,
                    "examples": r.examples[:3],
                    "doc": r.doc,
                    "accepted": r.accepted,
                }
                for r in failed[:MAX_LISTED]
            ]
        )
    if not rows:
        summary = "no tables of this asset were found to validate"
    elif open_:
        summary = "; ".join(f"{r.rule}: {r.reason} (see {r.doc})" for r in open_[:3])
    else:
        summary = f"{len(rows)} rules hold" + (f" ({len(failed)} accepted)" if failed else "")
    return dg.AssetCheckResult(passed=not open_, severity=severity, description=summary, metadata=metadata)


def to_check_result(result: RuleResult, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR):
    """A RuleResult reported without storing it: only for checks outside the code location (prefer store_rule,
    so the CLI and the site see the same result)."""
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=severity,
        description=result.summary,
        metadata={k: dg.MetadataValue.int(v) for k, v in result.counts.items()},
    )
