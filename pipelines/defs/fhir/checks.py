"""Blocking integrity checks on the parsed FHIR: the conservation ledger balances."""

import dagster as dg

from pipelines.defs.checks_util import to_check_result
from pipelines.defs.fhir.ingest import ASSET
from pipelines.defs.resources import LongitudeResource
from quality.integrity import ledger_balances


@dg.asset_check(asset=ASSET, blocking=True)
def fhir_raw_ledger_balances(longitude: LongitudeResource) -> dg.AssetCheckResult:
    """Every FHIR record read is either parsed or quarantined, per file and resource type."""
    layout = longitude.settings().layout
    return to_check_result(ledger_balances([layout.ledger(ASSET)]))
