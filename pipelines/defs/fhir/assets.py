"""FHIR R4 bundles and bulk NDJSON under landing/fhir/, parsed into raw events, patients and code texts."""

import time

import dagster as dg

from pipelines.defs.fhir.ingest import ASSET, ingest_fhir
from pipelines.defs.resources import LongitudeResource


@dg.asset(name=ASSET, group_name="fhir", kinds={"python", "parquet"})
def fhir_raw(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """Every resource of every FHIR file, as raw events per shard (PHI zone), or quarantined with a reason."""
    settings = longitude.settings()
    started = time.perf_counter()
    last_logged = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last_logged[0] > 2 or done == total:
            context.log.info(f"fhir_raw: {done}/{total} work units parsed")
            last_logged[0] = time.perf_counter()

    summary = ingest_fhir(
        settings.layout,
        settings.keyring,
        settings.n_shards,
        strict=settings.strict,
        workers=longitude.worker_count(),
        on_unit_done=progress,
    )
    seconds = time.perf_counter() - started
    return dg.MaterializeResult(
        metadata={
            "files": summary.files,
            "resources": summary.resources,
            "events": summary.events,
            "quarantined": summary.quarantined,
            "mb_read": round(summary.bytes_read / 1e6, 1),
            "resources_per_s": round(summary.resources / max(seconds, 1e-9)),
            "strict_validation": settings.strict,
            "per_type": dg.MetadataValue.json(summary.per_type),
        }
    )
