"""Clinical notes: raw (PHI, as delivered) and de-identified (keyed to the MEDS subject, text scrubbed).

Invariants:
1. Raw notes live only under `raw/<source>/notes/shard=<k>/`; de-identified notes under
   `notes/<split>/<shard>.parquet`, with the same split and shard as the subject's MEDS data.
2. A de-identified note's time and every date in its text carry the subject's one date shift.
3. `note_id` and `encounter_id` are keyed pseudonyms; the MEDS event `NOTE//<type>` of a note holds the same
   note_id in its text_value, so events and notes join.
4. Every raw note is in `notes/` or quarantined (ledger `notes_deidentified`).
"""

import pyarrow as pa

RAW_NOTES_SCHEMA = pa.schema(
    [
        pa.field("source_patient", pa.string(), nullable=False),
        pa.field("time", pa.timestamp("us"), nullable=False),  # real UTC time
        pa.field("note_id", pa.string(), nullable=False),  # keyed pseudonym, as in the NOTE event
        pa.field("note_type", pa.string(), nullable=False),  # e.g. LOINC//34117-2
        pa.field("type_display", pa.string(), nullable=True),
        pa.field("encounter", pa.string(), nullable=True),  # source encounter id (PHI zone)
        pa.field("text", pa.large_string(), nullable=False),  # decoded text (PHI)
        pa.field("encoding", pa.string(), nullable=False),  # how the bytes were decoded (utf-8, cp1252, ...)
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
    ]
)
"""One row per note text (one per attachment). text is decoded to str; html reduced to its text."""

NOTES_SCHEMA = pa.schema(
    [
        pa.field("subject_id", pa.int64(), nullable=False),
        pa.field("time", pa.timestamp("us"), nullable=False),  # shifted
        pa.field("note_id", pa.string(), nullable=False),
        pa.field("note_type", pa.string(), nullable=False),
        pa.field("type_display", pa.string(), nullable=True),
        pa.field("encounter_id", pa.string(), nullable=True),  # keyed pseudonym of the source encounter id
        pa.field("text", pa.large_string(), nullable=False),  # de-identified: surrogates, shifted dates
    ]
)
"""De-identified notes, sorted by subject_id, time, note_id."""

NOTE_CODE_PREFIX = "NOTE"
