"""The raw-source assets that feed the MEDS shards; each writes raw/<source>/{events,patients,codes}."""

import dagster as dg

RAW_SOURCE_ASSETS = [
    dg.AssetKey("fhir_raw"),
    dg.AssetKey("tables_raw"),
    dg.AssetKey("notes_files_raw"),
    dg.AssetKey("dicom_events"),  # partitioned like meds_data: shard k feeds shard k
]
