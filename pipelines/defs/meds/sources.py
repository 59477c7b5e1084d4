"""The raw-source assets that feed the MEDS shards; each writes raw/<source>/{events,patients,codes}."""

import dagster as dg

from pipelines.defs.partitions import after_every_chunk

RAW_SOURCE_ASSETS = [
    after_every_chunk("fhir_raw"),  # partitioned by ingest chunk: shard k reads every chunk's parts
    dg.AssetKey("tables_raw"),
    dg.AssetKey("notes_files_raw"),
    dg.AssetKey("dicom_events"),  # partitioned like meds_data: shard k feeds shard k
]
