"""Asset checks of the DICOM index: the ledger balances per file and every landing file is accounted for."""

import dagster as dg
import polars as pl

from pipelines.defs.resources import LongitudeResource
from schemas.imaging import INSTANCES_ASSET


@dg.asset_check(asset=INSTANCES_ASSET, blocking=True)
def dicom_ledger_balances(longitude: LongitudeResource) -> dg.AssetCheckResult:
    """Every file under landing/dicom/ has one ledger row, and n_in = n_out + n_quarantined on each."""
    from pipelines.defs.dicom.index import walk

    layout = longitude.settings().layout
    ledger = pl.read_parquet(layout.ledger(INSTANCES_ASSET))
    unbalanced = ledger.filter(pl.col("n_in") != pl.col("n_out") + pl.col("n_quarantined")).height
    landing = walk(layout.landing_dicom) if layout.landing_dicom.exists() else []
    missing = len(landing) - ledger["source_file"].n_unique()
    return dg.AssetCheckResult(
        passed=unbalanced == 0 and missing == 0,
        metadata={
            "files": len(landing),
            "ledger_rows": ledger.height,
            "unbalanced": unbalanced,
            "missing": missing,
        },
    )
