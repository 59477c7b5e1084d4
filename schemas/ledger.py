"""The conservation ledger: records in = records out + quarantined, per asset, source file and type.

Invariants:
1. For every row, n_in == n_out + n_quarantined.
2. n_out counts accepted records, including accepted records of types that map to no event
   (Organization, Claim, ...); n_events counts the events they produced.
3. Lives at `quality/ledger/<asset>.parquet`; holds no PHI: `source_file` is a keyed label of the delivered
   path (`landing/fhir/<token>.json.gz`, see pipelines.ledger); the label map lives in raw/_file_labels/.
"""

import pyarrow as pa

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("asset", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("record_type", pa.string(), nullable=False),  # FHIR resourceType, table name, ...
        pa.field("n_in", pa.int64(), nullable=False),
        pa.field("n_out", pa.int64(), nullable=False),
        pa.field("n_quarantined", pa.int64(), nullable=False),
        pa.field("n_events", pa.int64(), nullable=False),
    ]
)
"""One row per (asset, source_file, record_type). Unparsed records count under record_type '(unparsed)'."""

FILE_LABELS_SCHEMA = pa.schema(
    [
        pa.field("label", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),  # the delivered path: PHI zone only
    ]
)
"""raw/_file_labels/<ledger>.parquet: which delivered file each ledger label stands for."""

UNPARSED = "(unparsed)"
UNKNOWN_TYPE = "(unknown type)"  # a record whose type we do not know; its claimed name is not copied
LANDING_FILE = "(file)"  # a landing file reported and not read (unsupported, symlink outside the root, ...)

UNMAPPED_FILE = "(unmapped file)"  # ledger record_type of a landing file no mapping rule reads

UNMAPPED_SCHEMA = pa.schema(
    [
        pa.field("asset", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # the mapping's source name
        pa.field("kind", pa.string(), nullable=False),  # "file": no rule reads it; "code": no rule recognized it
        pa.field("item", pa.string(), nullable=False),  # a file's ledger label, or the code as emitted
        pa.field("rule", pa.string(), nullable=True),  # the mapping rule whose fallback made the code
        pa.field("n", pa.int64(), nullable=False),  # rows in the file, or events with the code
    ]
)
"""quality/unmapped/<asset>.parquet: what a mapping left out or did not recognize, with counts; no PHI."""
