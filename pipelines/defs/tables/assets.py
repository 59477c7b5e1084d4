"""Tabular EHR extracts under landing/tables/<source>/, mapped by YAML into raw events and patients."""

import dagster as dg

from pipelines.defs.quarantine_metadata import quarantine_metadata
from pipelines.defs.resources import LongitudeResource
from pipelines.defs.tables.names import ASSET


@dg.asset(name=ASSET, group_name="tables", kinds={"polars", "parquet", "yaml"})
def tables_raw(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """Every mapped table row as raw events per shard (PHI zone), or quarantined with a reason."""
    from pipelines.defs.tables.ingest import ingest_tables  # the engine (pydantic mappings) only when it runs

    settings = longitude.settings()
    summaries = ingest_tables(
        settings.layout,
        settings.keyring,
        settings.n_shards,
        on_source=lambda s: context.log.info(f"tables_raw: mapping source {s}"),
    )
    per_source = {
        s.source: {
            "rows": s.rows,
            "events": s.events,
            "quarantined": s.quarantined,
            "subjects": s.subjects,
            "unmapped_files": s.unmapped_files,
            "unrecognized_events": s.unrecognized_events,
            "encodings": s.encodings,  # files per detected encoding (a cp1252 extract is read, and said so)
            "extra_unconverted": s.extra_unconverted,  # extra values not of their declared type (null in MEDS)
            "null_markers": s.null_markers,  # events kept with no number (NA, NULL, ... in numeric_value)
            "repeated_columns": s.repeated_columns,  # headers repeating a name no rule reads (file labels)
        }
        for s in summaries
    }
    for s in summaries:
        if s.unmapped_files or s.unrecognized_events:
            context.log.warning(
                f"tables_raw: {s.source}: {s.unmapped_files} landing files no rule reads, "
                f"{s.unrecognized_events} events with a fallback code (quality/unmapped/{ASSET}.parquet)"
            )
        for line in s.repeated_columns:
            context.log.warning(f"tables_raw: {s.source}: {line}; no rule reads the name, so nothing is ambiguous")
        if s.extra_unconverted:
            context.log.warning(
                f"tables_raw: {s.source}: extra column values not of their declared type (null in MEDS): "
                + ", ".join(f"{k} {n}" for k, n in sorted(s.extra_unconverted.items()))
            )
    return dg.MaterializeResult(
        metadata={
            "sources": len(summaries),
            "rows": sum(s.rows for s in summaries),
            "events": sum(s.events for s in summaries),
            "quarantined": sum(s.quarantined for s in summaries),
            "unmapped_files": sum(s.unmapped_files for s in summaries),
            "unrecognized_events": sum(s.unrecognized_events for s in summaries),
            "per_source": dg.MetadataValue.json(per_source),
            **quarantine_metadata(settings.root, ASSET),
        }
    )
