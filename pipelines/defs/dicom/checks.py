"""Asset checks of the DICOM index: the ledger balances per file and every landing file is accounted for."""

import dagster as dg
import polars as pl

from pipelines.defs.checks_util import store_rule
from pipelines.defs.resources import LongitudeResource
from quality.integrity import RuleResult
from schemas.imaging import INSTANCES_ASSET


@dg.asset_check(asset=INSTANCES_ASSET, blocking=True)
def dicom_ledger_balances(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """Every file under landing/dicom/ has one ledger row, and n_in = n_out + n_quarantined on each."""
    from pipelines.defs.dicom.index import scan

    layout = longitude.settings().layout
    ledger = pl.read_parquet(layout.ledger(INSTANCES_ASSET))
    unbalanced = ledger.filter(pl.col("n_in") != pl.col("n_out") + pl.col("n_quarantined")).height
    found = scan(layout.root, layout.landing_dicom)
    landing = [*found.files, *found.skipped]  # read or reported: each has its ledger row
    missing = len(landing) - ledger["source_file"].n_unique()
    counts = {"files": len(landing), "ledger_rows": ledger.height, "unbalanced": unbalanced, "missing": missing}
    ok = unbalanced == 0 and missing == 0
    reason = (
        f"{len(landing)} landing files, each with a balanced ledger row"
        if ok
        else f"{unbalanced} ledger rows do not balance; {missing} landing files have no ledger row"
    )
    cols = ["source_file", "record_type", "n_in", "n_out", "n_quarantined"]  # source_file: a keyed label
    bad = ledger.filter(pl.col("n_in") != pl.col("n_out") + pl.col("n_quarantined")).select(cols).head(5)
    result = RuleResult(ok, reason, counts, bad.to_dicts())
    return store_rule(context, layout.root, result, failed_key=None, checked_key="files")
