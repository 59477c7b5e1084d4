"""Blocking integrity checks on the parsed FHIR: the conservation ledger balances."""

import dagster as dg

from pipelines.defs.checks_util import store_rule
from pipelines.defs.fhir.ingest import ASSET
from pipelines.defs.resources import LongitudeResource
from quality.integrity import ledger_balances


@dg.asset_check(asset=ASSET, blocking=True)
def fhir_raw_ledger_balances(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """Every FHIR record read is either parsed or quarantined, per file and resource type."""
    layout = longitude.settings().layout
    result = ledger_balances([layout.ledger(ASSET)])
    return store_rule(context, layout.root, result, failed_key="unbalanced_rows", checked_key="rows")
