"""DICOM headers under landing/dicom/: an instance index (raw + de-identified), series and study tables under
imaging/, MEDS-bound events per study and series, and the link to FHIR ImagingStudy."""

import time

import dagster as dg

from pipelines.defs.partitions import after_every_chunk, shard_partitions
from pipelines.defs.resources import LongitudeResource
from pipelines.value_free_errors import value_free_errors
from schemas.imaging import INSTANCES_ASSET

GROUP = "dicom"


@dg.asset(name=INSTANCES_ASSET, group_name=GROUP, kinds={"pydicom", "parquet"}, deps=["fhir_raw", "tables_raw"])
def dicom_instances(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """Every file under landing/dicom/: an indexed, de-identified instance, a counted DICOMDIR, or quarantined
    with a reason; writes raw/dicom/{instances,patients}, imaging/instances, quarantine/ and the ledger."""
    from pipelines.defs.dicom.build import build_instances

    started = time.perf_counter()
    with value_free_errors(INSTANCES_ASSET):
        summary = build_instances(longitude.settings(), workers=longitude.worker_count())
    seconds = time.perf_counter() - started
    context.log.info(f"{INSTANCES_ASSET}: {summary['files']} files in {seconds:.1f} s")
    return dg.MaterializeResult(metadata={**summary, "files_per_s": round(summary["files"] / max(seconds, 1e-9))})


@dg.asset(partitions_def=shard_partitions, deps=[INSTANCES_ASSET, after_every_chunk("fhir_raw")], group_name=GROUP,
          kinds={"polars", "parquet"})  # fmt: skip
def dicom_events(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """One event per study (`IMAGING_STUDY//<modality>//<body part>`) and per series
    (`IMAGING//<modality>//<body part>`) of shard k, at real UTC times, into raw/dicom/events/shard=<k>/."""
    from pipelines.defs.dicom.build import build_events

    return dg.MaterializeResult(metadata=build_events(longitude.settings(), int(context.partition_key)))


@dg.asset(partitions_def=shard_partitions, deps=[INSTANCES_ASSET], group_name=GROUP, kinds={"polars", "parquet"})
def imaging_series(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """De-identified series of shard k, instances in order: imaging/series/<k>.parquet."""
    from pipelines.defs.dicom.build import build_rollup

    return dg.MaterializeResult(metadata=build_rollup(longitude.settings(), int(context.partition_key), "series"))


@dg.asset(partitions_def=shard_partitions, deps=[INSTANCES_ASSET], group_name=GROUP, kinds={"polars", "parquet"})
def imaging_studies(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """De-identified studies of shard k: imaging/studies/<k>.parquet."""
    from pipelines.defs.dicom.build import build_rollup

    return dg.MaterializeResult(metadata=build_rollup(longitude.settings(), int(context.partition_key), "studies"))


@dg.asset(deps=[INSTANCES_ASSET, after_every_chunk("fhir_raw")], group_name=GROUP, kinds={"polars", "parquet"})
def imaging_fhir_links(longitude: LongitudeResource) -> dg.MaterializeResult:
    """DICOM studies whose Study Instance UID a FHIR ImagingStudy names: imaging/fhir_links.parquet."""
    from pipelines.defs.dicom.build import build_links

    return dg.MaterializeResult(metadata=build_links(longitude.settings()))
