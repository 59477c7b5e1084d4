"""DICOM headers under landing/dicom/: an instance index (raw + de-identified), series and study tables under
imaging/, MEDS-bound events per study and series, and the link to FHIR ImagingStudy."""

import time

import dagster as dg

from pipelines.defs.partitions import (
    after_every_chunk,
    chunk_of_key,
    ingest_chunk_partitions,
    shard_partitions,
)
from pipelines.defs.quarantine_metadata import quarantine_metadata
from pipelines.defs.resources import LongitudeResource
from pipelines.value_free_errors import value_free_errors
from schemas.imaging import INSTANCES_ASSET

GROUP = "dicom"


# The crosswalk reads every source's raw patients: each chunk waits for all of FHIR's and for the tables.
@dg.asset(name=INSTANCES_ASSET, partitions_def=ingest_chunk_partitions, group_name=GROUP,
          kinds={"pydicom", "parquet"}, deps=[after_every_chunk("fhir_raw"), "tables_raw"])  # fmt: skip
def dicom_instances(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """Every file of one chunk of landing/dicom/: an indexed, de-identified instance, a counted DICOMDIR, or
    quarantined with a reason; the chunk that completes the set writes raw/dicom/{instances,patients},
    imaging/instances, quarantine/ and the ledger from every chunk's."""
    from pipelines.defs.dicom.build import build_instances

    chunk, n_chunks = chunk_of_key(context.partition_key), len(ingest_chunk_partitions.get_partition_keys())
    started = time.perf_counter()
    with value_free_errors(INSTANCES_ASSET):
        summary = build_instances(longitude.settings(), workers=longitude.worker_count(), chunk=chunk,
                                  n_chunks=n_chunks)  # fmt: skip
    seconds = time.perf_counter() - started
    context.log.info(f"{INSTANCES_ASSET} chunk {chunk}/{n_chunks}: {summary['files']} files in {seconds:.1f} s")
    by_reason = quarantine_metadata(longitude.root, INSTANCES_ASSET) if summary["gathered"] != "pending" else {}
    return dg.MaterializeResult(
        metadata={**summary, "files_per_s": round(summary["files"] / max(seconds, 1e-9)), **by_reason}
    )


# Shard steps read what every chunk of the index gathered (and every chunk of FHIR, for its study UIDs).
ALL_INSTANCES = after_every_chunk(INSTANCES_ASSET)


@dg.asset(partitions_def=shard_partitions, deps=[ALL_INSTANCES, after_every_chunk("fhir_raw")], group_name=GROUP,
          kinds={"polars", "parquet"})  # fmt: skip
def dicom_events(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """One event per study (`IMAGING_STUDY//<modality>//<body part>`) and per series
    (`IMAGING//<modality>//<body part>`) of shard k, at real UTC times, into raw/dicom/events/shard=<k>/."""
    from pipelines.defs.dicom.build import build_events

    return dg.MaterializeResult(metadata=build_events(longitude.settings(), int(context.partition_key)))


@dg.asset(partitions_def=shard_partitions, deps=[ALL_INSTANCES], group_name=GROUP, kinds={"polars", "parquet"})
def imaging_series(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """De-identified series of shard k, instances in order: imaging/series/<k>.parquet."""
    from pipelines.defs.dicom.build import build_rollup

    return dg.MaterializeResult(metadata=build_rollup(longitude.settings(), int(context.partition_key), "series"))


@dg.asset(partitions_def=shard_partitions, deps=[ALL_INSTANCES], group_name=GROUP, kinds={"polars", "parquet"})
def imaging_studies(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """De-identified studies of shard k: imaging/studies/<k>.parquet."""
    from pipelines.defs.dicom.build import build_rollup

    return dg.MaterializeResult(metadata=build_rollup(longitude.settings(), int(context.partition_key), "studies"))


@dg.asset(deps=[ALL_INSTANCES, after_every_chunk("fhir_raw")], group_name=GROUP, kinds={"polars", "parquet"})
def imaging_fhir_links(longitude: LongitudeResource) -> dg.MaterializeResult:
    """DICOM studies whose Study Instance UID a FHIR ImagingStudy names: imaging/fhir_links.parquet."""
    from pipelines.defs.dicom.build import build_links

    return dg.MaterializeResult(metadata=build_links(longitude.settings()))
