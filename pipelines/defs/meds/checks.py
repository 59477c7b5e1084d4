"""Blocking integrity checks on the MEDS dataset: ledger balance, shard order, subject exclusivity, codes."""

import dagster as dg

from pipelines.defs.checks_util import store_rule
from pipelines.defs.meds.build import ASSET, shard_paths
from pipelines.defs.partitions import shard_partitions
from pipelines.defs.resources import LongitudeResource
from quality.integrity import codes_cover_data, ledger_balances, shard_sorted, subjects_in_one_file
from schemas.publish import dataset_files


@dg.asset_check(asset=ASSET, blocking=True, partitions_def=shard_partitions)
def meds_data_ledger_balances(context: dg.AssetCheckExecutionContext, longitude: LongitudeResource):
    """Every raw event of this shard is in the MEDS shard or quarantined (e.g. its patient is missing)."""
    layout = longitude.settings().layout
    result = ledger_balances([layout.ledger(ASSET, context.partition_key)])
    return store_rule(context, layout.root, result, failed_key="unbalanced_rows", checked_key="rows")


@dg.asset_check(asset=ASSET, blocking=True, partitions_def=shard_partitions)
def meds_data_sorted_by_subject_and_time(context: dg.AssetCheckExecutionContext, longitude: LongitudeResource):
    """MEDS invariant: a subject's rows are contiguous and sorted by time within the shard file."""
    layout = longitude.settings().layout
    result = shard_sorted(shard_paths(layout, int(context.partition_key)))
    return store_rule(context, layout.root, result, failed_key="unsorted_files", checked_key="files")


@dg.asset_check(asset="meds_subject_splits", blocking=True)
def each_subject_in_one_shard(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """MEDS invariant: a subject lives in exactly one data file across all shards and splits."""
    layout = longitude.settings().layout
    result = subjects_in_one_file(dataset_files(layout.meds, "data/*/*.parquet"))
    return store_rule(context, layout.root, result, failed_key="subjects_in_several_files", checked_key="subjects")


@dg.asset_check(asset="meds_codes", blocking=True)
def codes_cover_every_code(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """Every code in the data has a row in metadata/codes.parquet."""
    layout = longitude.settings().layout
    result = codes_cover_data(dataset_files(layout.meds, "data/*/*.parquet"), layout.meds_codes)
    return store_rule(
        context, layout.root, result, failed_key="codes_missing_metadata", checked_key="codes_in_data"
    )
