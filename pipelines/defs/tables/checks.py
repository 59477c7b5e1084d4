"""Blocking integrity check on the mapped tables: every row is mapped or quarantined."""

import dagster as dg

from pipelines.defs.checks_util import to_check_result
from pipelines.defs.resources import LongitudeResource
from pipelines.defs.tables.engine import ASSET
from quality.integrity import ledger_balances


@dg.asset_check(asset=ASSET, blocking=True)
def tables_raw_ledger_balances(longitude: LongitudeResource) -> dg.AssetCheckResult:
    """Rows in = rows mapped + rows quarantined, per source file and table."""
    return to_check_result(ledger_balances([longitude.settings().layout.ledger(ASSET)]))
