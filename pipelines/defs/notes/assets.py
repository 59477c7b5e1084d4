"""Notes: plain-text note files parsed into raw notes, then every source's notes de-identified per shard."""

import dagster as dg

from pipelines.defs.notes import deidentify, files
from pipelines.defs.partitions import after_every_chunk, shard_partitions
from pipelines.defs.quarantine_metadata import quarantine_metadata
from pipelines.defs.resources import LongitudeResource
from pipelines.value_free_errors import value_free_errors


@dg.asset(name=files.ASSET, group_name="notes", kinds={"python", "parquet"})
def notes_files_raw(longitude: LongitudeResource) -> dg.MaterializeResult:
    """`.txt` notes under landing/notes/ with their sidecars: raw notes and NOTE events per shard (PHI zone)."""
    s = longitude.settings()
    with value_free_errors(files.ASSET):
        counts = files.ingest_note_files(s.layout, s.keyring, s.n_shards)
    return dg.MaterializeResult(metadata={**counts, **quarantine_metadata(s.root, files.ASSET)})


@dg.asset(
    name=deidentify.ASSET,
    partitions_def=shard_partitions,
    group_name="notes",
    kinds={"presidio", "parquet"},
    deps=[after_every_chunk("fhir_raw"), files.ASSET, "tables_raw"],
)
def notes_deidentified(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """One shard of notes: PHI replaced by consistent surrogates, dates shifted like the subject's events."""
    s = longitude.settings()
    counts = deidentify.deidentify_shard(
        s.layout, s.keyring, int(context.partition_key), s.split_fractions, n_process=longitude.worker_count()
    )
    context.log.info(f"notes shard {context.partition_key}: {counts['notes']} notes de-identified")
    by_reason = quarantine_metadata(s.root, deidentify.ASSET, context.partition_key)
    return dg.MaterializeResult(metadata={**counts, **by_reason})
