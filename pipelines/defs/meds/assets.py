"""The curated MEDS dataset: de-identified data shards, then codes, splits, dataset metadata and the catalog."""

import dagster as dg

from pipelines.defs.meds.ahead import build_shard
from pipelines.defs.meds.build import ASSET
from pipelines.defs.meds.catalog import write_catalog
from pipelines.defs.meds.metadata import write_codes, write_dataset_metadata, write_subject_splits
from pipelines.defs.meds.sources import RAW_SOURCE_ASSETS
from pipelines.defs.partitions import shard_partitions
from pipelines.defs.quarantine_metadata import quarantine_metadata
from pipelines.defs.resources import LongitudeResource


@dg.asset(name=ASSET, partitions_def=shard_partitions, deps=RAW_SOURCE_ASSETS, group_name="meds",
          kinds={"polars", "parquet"})  # fmt: skip
def meds_data(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """One shard of MEDS events: pseudonymous subject_id, per-subject date shift, ages capped at 90, sorted.
    The CLI may have computed it ahead, from the same inputs (pipelines.defs.meds.ahead)."""
    settings = longitude.settings()
    shard = int(context.partition_key)
    summary = build_shard(settings.layout, settings.keyring, shard, settings.split_fractions, settings.n_shards)
    context.log.info(f"shard {shard}: {summary.events_out} events, {sum(summary.subjects.values())} subjects")
    if summary.age_cap_whole_timelines:
        context.log.warning(
            f"shard {shard}: the age cap moved most of the timeline of {summary.age_cap_whole_timelines} "
            f"subjects ({summary.age_cap_moved_events} events moved): a late implausible date is the usual cause"
        )
    return dg.MaterializeResult(
        metadata={
            "events_in": summary.events_in,
            "events_out": summary.events_out,
            "derived_events": summary.derived_events,
            "quarantined": summary.quarantined,
            "subjects_per_split": dg.MetadataValue.json(summary.subjects),
            "age_capped_subjects": summary.age_capped_subjects,
            # Flags, not silence: events the cap moved, and subjects whose timeline it moved almost whole.
            "age_cap_moved_events": summary.age_cap_moved_events,
            "age_cap_whole_timelines": summary.age_cap_whole_timelines,
            **quarantine_metadata(settings.root, ASSET, shard),
        }
    )


@dg.asset(deps=[ASSET], group_name="meds", kinds={"polars", "parquet"})
def meds_codes(longitude: LongitudeResource) -> dg.MaterializeResult:
    """metadata/codes.parquet: every code in the data with its most frequent description in the sources."""
    return dg.MaterializeResult(metadata={"codes": write_codes(longitude.settings().layout)})


@dg.asset(deps=[ASSET], group_name="meds", kinds={"polars", "parquet"})
def meds_subject_splits(longitude: LongitudeResource) -> dg.MaterializeResult:
    """metadata/subject_splits.parquet: each subject's split, as assigned by keyed hash."""
    counts = write_subject_splits(longitude.settings().layout)
    return dg.MaterializeResult(metadata={"subjects_per_split": dg.MetadataValue.json(counts)})


@dg.asset(deps=[ASSET], group_name="meds", kinds={"json"})
def meds_dataset_metadata(longitude: LongitudeResource) -> dg.MaterializeResult:
    """metadata/dataset.json per MEDS v0.4."""
    meta = write_dataset_metadata(longitude.settings().layout)
    return dg.MaterializeResult(metadata={"meds_version": meta["meds_version"]})


@dg.asset(deps=[ASSET, "meds_codes", "meds_subject_splits"], group_name="catalog", kinds={"duckdb"})
def catalog(longitude: LongitudeResource) -> dg.MaterializeResult:
    """catalog.duckdb: a view per table under the root (PHI tables in schema `phi`)."""
    views = write_catalog(longitude.settings().layout)
    return dg.MaterializeResult(metadata={"views": dg.MetadataValue.json(views)})
