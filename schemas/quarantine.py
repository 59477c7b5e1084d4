"""The quarantine: every rejected input record, with where it came from and why. A PHI zone.

Invariants:
1. Lives only under `quarantine/<asset>/`; never copied outside the PHI zones.
2. `reason` names the rule that failed and the field path, never a value from the record.
3. Together with the accepted records it accounts for every input record (see the ledger).
"""

import pyarrow as pa

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("asset", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),  # relative to the root
        pa.field("position", pa.int64(), nullable=False),  # 1-based line (NDJSON) or entry index (bundle)
        pa.field("resource_type", pa.string(), nullable=True),  # null when the record did not parse
        pa.field("reason_code", pa.string(), nullable=False),  # machine-readable: MALFORMED_JSON, ...
        pa.field("reason", pa.string(), nullable=False),  # human-readable, no values from the record
        pa.field("record", pa.large_string(), nullable=True),  # the raw record text (PHI), for review
    ]
)
"""One row per rejected record. position is 1-based; 0 means the whole file (e.g. unreadable gzip)."""

# Reason codes shared by every source.
MALFORMED_JSON = "MALFORMED_JSON"
UNREADABLE_FILE = "UNREADABLE_FILE"
INVALID_RESOURCE = "INVALID_RESOURCE"
UNKNOWN_RESOURCE_TYPE = "UNKNOWN_RESOURCE_TYPE"
UNPARSEABLE_DATE = "UNPARSEABLE_DATE"
MISSING_PATIENT = "MISSING_PATIENT"
MISSING_SUBJECT_REFERENCE = "MISSING_SUBJECT_REFERENCE"
DUPLICATE_PATIENT = "DUPLICATE_PATIENT"
# Whole files in landing/ that were not read, reported rather than skipped (position 0).
UNSUPPORTED_FILE = "UNSUPPORTED_FILE"
SYMLINK_OUTSIDE_ROOT = "SYMLINK_OUTSIDE_ROOT"
SYMLINK_LOOP = "SYMLINK_LOOP"
BROKEN_SYMLINK = "BROKEN_SYMLINK"
DUPLICATE_PATH = "DUPLICATE_PATH"  # a second route (symlink) to a file already read: read once, not twice
# Row and value policy (see docs/inputs.md and schemas/values.py).
MALFORMED_ROW = "MALFORMED_ROW"  # a CSV row that does not parse (ragged, unbalanced quote)
MISSING_COLUMN = "MISSING_COLUMN"  # a file lacks a column that the other files of its table have
EMPTY_FILE = "EMPTY_FILE"  # a file with no header and no records (0 bytes, blank): most likely a failed export
AMBIGUOUS_COLUMN = "AMBIGUOUS_COLUMN"  # a CSV header repeats a column name that a mapping rule reads
IMPLAUSIBLE_DATE = "IMPLAUSIBLE_DATE"
NON_FINITE_VALUE = "NON_FINITE_VALUE"
CONFLICTING_PATIENT = "CONFLICTING_PATIENT"
DUPLICATE_RESOURCE = "DUPLICATE_RESOURCE"  # a second FHIR record of one Type/id: the first is kept
CONFLICTING_RESOURCE = "CONFLICTING_RESOURCE"  # one FHIR Type/id for two patients: no copy is kept
UNRESOLVED_SUBJECT = "UNRESOLVED_SUBJECT"  # a subject by identifier or contained Patient that no Patient carries
AMBIGUOUS_SUBJECT = "AMBIGUOUS_SUBJECT"  # a subject by identifier that several delivered Patients carry
BINARY_NOTE = "BINARY_NOTE"
INVALID_SIDECAR = "INVALID_SIDECAR"
