"""The PHI audit's findings table (written by quality.phi_audit under quality/phi_audit/)."""

import pyarrow as pa

PHI_FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("path", pa.string(), nullable=False),  # file relative to the root
        pa.field("table", pa.string(), nullable=False),  # registry table name, or the file kind (json, html...)
        pa.field("row", pa.int64(), nullable=False),  # 0-based row (Parquet) or 1-based line (text)
        pa.field("field", pa.string(), nullable=False),  # column name, or "line"
        pa.field("kind", pa.string(), nullable=False),  # what matched: name, identifier, phone, ...
    ]
)
"""One row per (file, row, field, kind) hit of the PHI audit; never the matched value."""
