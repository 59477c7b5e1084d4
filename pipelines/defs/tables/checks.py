"""Checks on the mapped tables: every row is mapped or quarantined (blocking); nothing left unmapped (warning)."""

import dagster as dg
import polars as pl

from pipelines.defs.checks_util import store_rule
from pipelines.defs.resources import LongitudeResource
from pipelines.defs.tables.names import ASSET
from quality.integrity import RuleResult, ledger_balances


@dg.asset_check(asset=ASSET, blocking=True)
def tables_raw_ledger_balances(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """Rows in = rows mapped + rows quarantined, per source file and table."""
    layout = longitude.settings().layout
    result = ledger_balances([layout.ledger(ASSET)])
    return store_rule(context, layout.root, result, failed_key="unbalanced_rows", checked_key="rows")


def unmapped_rule(path) -> RuleResult:
    """Landing files no rule reads and codes only a fallback made: counted and named, never silent."""
    if not path.exists():
        return RuleResult(True, "no tables source was mapped", {})
    df = pl.read_parquet(path)
    files, codes = df.filter(pl.col("kind") == "file"), df.filter(pl.col("kind") == "code")
    counts = {
        "unmapped_files": files.height,
        "unmapped_file_rows": int(files["n"].sum()),
        "unrecognized_codes": codes.height,
        "unrecognized_events": int(codes["n"].sum()),
    }
    if not df.height:
        return RuleResult(True, "every landing file is read by a rule and every code was recognized", counts)
    parts = []
    if files.height:
        parts.append(f"{files.height} landing files no mapping rule reads ({counts['unmapped_file_rows']} rows)")
    if codes.height:
        top = ", ".join(f"{r['rule']}: {r['n']}" for r in codes.group_by("rule").agg(pl.col("n").sum()).sort(
            "n", descending=True).head(5).to_dicts())  # fmt: skip
        parts.append(
            f"{codes.height} codes made by a code_fallback ({counts['unrecognized_events']} events; {top})"
        )
    return RuleResult(False, "; ".join(parts) + f"; listed in {path.parent.name}/{path.name}", counts)


@dg.asset_check(asset=ASSET, blocking=False)
def tables_raw_everything_mapped(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """Every landing file is read by a mapping rule, and every code came from a rule, not a fallback."""
    layout = longitude.settings().layout
    result = unmapped_rule(layout.unmapped(ASSET))
    return store_rule(context, layout.root, result, severity="warn", failed_key="unmapped_files",
                      checked_key=None)  # fmt: skip
