"""FHIR R4 bundles and bulk NDJSON under landing/fhir/, parsed chunk by chunk into raw events, patients and code
texts (the map: one partition per ingest chunk; the per-shard steps downstream are the reduce)."""

import time

import dagster as dg

from pipelines.defs.fhir.ingest import ASSET, ingest_fhir
from pipelines.defs.partitions import chunk_of_key, ingest_chunk_partitions
from pipelines.defs.quarantine_metadata import quarantine_metadata
from pipelines.defs.resources import LongitudeResource


@dg.asset(name=ASSET, partitions_def=ingest_chunk_partitions, group_name="fhir", kinds={"python", "parquet"})
def fhir_raw(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """Every resource of one chunk of the FHIR files, as raw events per shard (PHI zone), or quarantined with a
    reason; the chunk that completes the set gathers every chunk's into raw/fhir."""
    settings = longitude.settings()
    chunk, n_chunks = chunk_of_key(context.partition_key), len(ingest_chunk_partitions.get_partition_keys())
    started = time.perf_counter()
    last_logged = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last_logged[0] > 2 or done == total:
            context.log.info(f"fhir_raw chunk {chunk}/{n_chunks}: {done}/{total} work units parsed")
            last_logged[0] = time.perf_counter()

    summary = ingest_fhir(
        settings.layout,
        settings.keyring,
        settings.n_shards,
        strict=settings.strict,
        workers=longitude.worker_count(),
        on_unit_done=progress,
        chunk=chunk,
        n_chunks=n_chunks,
    )
    seconds = time.perf_counter() - started
    by_reason = quarantine_metadata(settings.root, ASSET) if summary.gathered is not None else {}
    return dg.MaterializeResult(
        metadata={
            "chunk": chunk,
            "chunks": n_chunks,
            "reused": summary.reused,  # the chunk's files were unchanged: its published parse was kept
            "gathered": "pending"
            if summary.gathered is None
            else ("published" if summary.gathered else "unchanged"),
            "files": summary.files,
            "resources": summary.resources,
            "events": summary.events,
            "quarantined": summary.quarantined,
            "mb_read": round(summary.bytes_read / 1e6, 1),
            "resources_per_s": round(summary.resources / max(seconds, 1e-9)),
            "strict_validation": settings.strict,
            "per_type": dg.MetadataValue.json(summary.per_type),
            **by_reason,
        }
    )
