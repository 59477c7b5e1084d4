"""Blocking checks: label tables are well-formed; feature tables agree with the slow reference on a sample; the
online store serves the online tables."""

import dagster as dg

from pipelines.defs.checks_util import store_rule
from pipelines.defs.features.assets import _TASKS, _layout, online_feature_store
from pipelines.defs.partitions import shard_partitions
from pipelines.defs.resources import LongitudeResource


def _labels_check(task: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=f"labels_{task}", name="labels_well_formed", blocking=True, partitions_def=shard_partitions
    )
    def _check(context: dg.AssetCheckExecutionContext, longitude: LongitudeResource) -> dg.AssetCheckResult:
        """One non-null value column, unique sorted (subject, prediction_time), only this shard's subjects."""
        from featurestore.validate import labels_valid

        layout = _layout(longitude)
        return store_rule(context, layout.root, labels_valid(layout, task, int(context.partition_key)))

    return _check


def _features_check(task: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=f"features_{task}", name="features_match_reference", blocking=True, partitions_def=shard_partitions
    )
    def _check(context: dg.AssetCheckExecutionContext, longitude: LongitudeResource) -> dg.AssetCheckResult:
        """No leakage: 20 sampled rows recomputed by the plain-Python reference agree in every column."""
        from featurestore.validate import features_match_reference

        layout = _layout(longitude)
        result = features_match_reference(layout, task, int(context.partition_key))
        return store_rule(context, layout.root, result, failed_key="mismatches", checked_key="rows")

    return _check


label_checks = [_labels_check(t) for t in _TASKS]
feature_checks = [_features_check(t) for t in _TASKS]


@dg.asset_check(asset=online_feature_store, name="store_matches_online_features", blocking=True)
def store_matches_online_features(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """The store's published version holds every subject of the online tables, and 20 sampled subjects' rows
    read back through the store equal the tables' rows."""
    from featurestore.online_publish import store_matches_tables

    _, backend = longitude.online_backend()
    try:
        result = store_matches_tables(_layout(longitude), backend, "default")
    finally:
        backend.close()
    return store_rule(context, longitude.root, result, failed_key="mismatches", checked_key="sampled_subjects")
