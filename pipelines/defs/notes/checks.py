"""Blocking checks on notes: every note file and every raw note is accounted for."""

import dagster as dg

from pipelines.defs.checks_util import store_rule
from pipelines.defs.notes import deidentify, files
from pipelines.defs.partitions import shard_partitions
from pipelines.defs.resources import LongitudeResource
from quality.integrity import ledger_balances


@dg.asset_check(asset=files.ASSET, blocking=True)
def notes_files_ledger_balances(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """Every note file is read or quarantined with a reason."""
    layout = longitude.settings().layout
    result = ledger_balances([layout.ledger(files.ASSET)])
    return store_rule(context, layout.root, result, failed_key="unbalanced_rows", checked_key="rows")


@dg.asset_check(asset=deidentify.ASSET, blocking=True, partitions_def=shard_partitions)
def notes_deidentified_ledger_balances(context: dg.AssetCheckExecutionContext, longitude: LongitudeResource):
    """Every raw note of the shard is de-identified or quarantined."""
    layout = longitude.settings().layout
    result = ledger_balances([layout.ledger(deidentify.ASSET, context.partition_key)])
    return store_rule(context, layout.root, result, failed_key="unbalanced_rows", checked_key="rows")
