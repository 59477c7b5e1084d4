"""Task labels, point-in-time feature tables and the online feature state, each partitioned by shard.

One `labels_<task>` and one `features_<task>` asset per shipped task (featurestore/tasks/*.yaml), and
`online_features`, then `online_feature_store` (the online tables published to the configured key-value
store). Feature specs are compiled against the train split of every shard, so they depend on all
meds_data partitions; labels of shard k need only meds_data shard k.
"""

from pathlib import Path

import dagster as dg

from featurestore.tasks import load_task, shipped_tasks
from pipelines.defs.partitions import shard_partitions
from pipelines.defs.resources import LongitudeResource
from schemas.layout import Layout

MEDS_DATA = dg.AssetKey("meds_data")
ALL_SHARDS = dg.AllPartitionMapping()


class FeatureTableConfig(dg.Config):
    """Which feature spec (a shipped name or a YAML path) and which output layout."""

    spec: str = "default"
    output: str = "wide"


def _layout(longitude: LongitudeResource) -> Layout:
    # Labels and features read only the de-identified meds/ tree: no secret needed.
    return Layout(Path(longitude.root).resolve())


def _label_asset(task_name: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"labels_{task_name}",
        partitions_def=shard_partitions,
        deps=[MEDS_DATA],
        group_name="features",
        kinds={"polars", "parquet"},
    )
    def _labels(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
        from featurestore.labels import write_labels

        task = load_task(task_name)
        summary = write_labels(_layout(longitude), task, shard=int(context.partition_key))
        metadata = {"dagster/row_count": summary["rows"], "value_column": task.value_column}
        if summary["positives"] is not None:
            metadata["positives"] = summary["positives"]
        return dg.MaterializeResult(metadata=metadata)

    _labels.__doc__ = load_task(task_name).description
    return _labels


def _feature_asset(task_name: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"features_{task_name}",
        partitions_def=shard_partitions,
        group_name="features",
        deps=[dg.AssetDep(f"labels_{task_name}"), dg.AssetDep(MEDS_DATA, partition_mapping=ALL_SHARDS)],
        kinds={"polars", "parquet"},
    )
    def _features(
        context: dg.AssetExecutionContext, config: FeatureTableConfig, longitude: LongitudeResource
    ) -> dg.MaterializeResult:
        from featurestore.tables import write_feature_table

        summary = write_feature_table(
            _layout(longitude), task_name, int(context.partition_key), config.spec, output=config.output
        )
        return dg.MaterializeResult(
            metadata={"dagster/row_count": summary["rows"], "columns": summary["columns"], "spec": summary["spec"]}
        )

    _features.__doc__ = f"Point-in-time features (strictly before each prediction time) for labels_{task_name}."
    return _features


_TASKS = shipped_tasks()
label_assets = [_label_asset(t) for t in _TASKS]
feature_assets = [_feature_asset(t) for t in _TASKS]


@dg.asset(
    partitions_def=shard_partitions,
    deps=[dg.AssetDep(MEDS_DATA, partition_mapping=ALL_SHARDS)],
    group_name="features",
    kinds={"polars", "parquet"},
)
def online_features(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """Online feature state of the default spec for one shard: what `OnlineStore` serves lookups from."""
    from featurestore.online import materialize_online

    counts = materialize_online(_layout(longitude), "default", shard=int(context.partition_key))
    return dg.MaterializeResult(metadata={"dagster/row_count": sum(counts.values())})


@dg.asset(
    deps=[dg.AssetDep(online_features, partition_mapping=ALL_SHARDS)],
    group_name="features",
    kinds={"sqlite", "redis"},
)
def online_feature_store(longitude: LongitudeResource) -> dg.MaterializeResult:
    """The default spec's online tables, published to the configured online store (local SQLite or Redis) as
    one version whose pointer flips atomically; unchanged tables leave the store as it is."""
    from featurestore.online_publish import publish_online_tables

    kind, backend = longitude.online_backend()
    try:
        done = publish_online_tables(_layout(longitude), backend, "default")
    finally:
        backend.close()
    return dg.MaterializeResult(
        metadata={  # counts, the store's kind and the version id (time and content digest): no value, no id
            "dagster/row_count": done.subjects,
            "state_rows": done.rows,
            "shards": done.shards,
            "store": kind,
            "version": done.version,
            "written": done.written,
        }
    )
