"""Writing a conservation ledger outside the PHI zones: delivered file names become keyed labels.

File names can carry PHI (Synthea names bundles `<Given>_<Family>_<uuid>.json.gz`), and the ledger lives in
quality/. Each file gets a label `<landing folder>/<keyed token><extension>`; the label -> path map is kept in
the PHI zone at raw/_file_labels/, so a steward with PHI access can find the file.
"""

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import pyarrow as pa

from deid.pseudonym import Keyring
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.ledger import FILE_LABELS_SCHEMA, LEDGER_SCHEMA

if TYPE_CHECKING:
    import polars as pl

# Only these name endings survive into a label; anything else in a file name could be an identifier.
_EXTENSIONS = {".json", ".ndjson", ".jsonl", ".gz", ".csv", ".tsv", ".parquet", ".txt", ".dcm", ".xml", ".zip"}


def file_label(rel: str, keyring: Keyring) -> str:
    """A PHI-free, stable label for a delivered file.

    >>> label = file_label("landing/fhir/bundles/Ann_Lee_1.json.gz", Keyring(b"0123456789abcdef"))
    >>> label.startswith("landing/fhir/") and label.endswith(".json.gz") and "Lee" not in label
    True
    """
    path = PurePosixPath(rel)
    parts = path.parts
    folder = "/".join(parts[:2]) if len(parts) > 2 and parts[0] == "landing" else "(outside the root)"
    suffixes = [s for s in path.suffixes[-2:] if s.lower() in _EXTENSIONS]
    return f"{folder}/{keyring.token('file', rel)[:12]}{''.join(suffixes)}"


def write_ledger(ledger: "pa.Table | pl.DataFrame", path: Path, layout: Layout, keyring: Keyring) -> Path:
    """Write a ledger with labelled file names, and the label map into the PHI zone."""
    import polars as pl  # not at the top: the FHIR parser processes import this module and never need polars

    df = ledger if isinstance(ledger, pl.DataFrame) else pl.from_arrow(ledger)
    files = sorted(set(df["source_file"].to_list())) if df.height else []
    labels = {f: file_label(f, keyring) for f in files}
    name = "__".join(Path(path).relative_to(layout.quality / "ledger").with_suffix("").parts)
    mapping = pa.table({"label": [labels[f] for f in files], "source_file": files})
    write_parquet(mapping, layout.raw / "_file_labels" / f"{name}.parquet", FILE_LABELS_SCHEMA)
    if df.height:
        df = df.with_columns(pl.col("source_file").replace_strict(labels, return_dtype=pl.String))
    return write_parquet(df.to_arrow(), path, LEDGER_SCHEMA)


def ledger_from_records(
    asset: str, kept: "pl.DataFrame", rejected: "pl.DataFrame", record_type: "str | pl.Expr"
) -> "pl.DataFrame":
    """Ledger rows per (source_file, record_type) from the records kept and the records quarantined.

    `record_type` is a column name of both frames, or a literal expression. Each kept record is one event.
    """
    import polars as pl

    rtype = pl.col(record_type) if isinstance(record_type, str) else record_type
    both = pl.concat(
        [
            kept.select("source_file", rtype.alias("record_type"), pl.lit(0).alias("q")),
            rejected.select("source_file", rtype.alias("record_type"), pl.lit(1).alias("q")),
        ]
    )
    return (
        both.group_by("source_file", "record_type")
        .agg(pl.len().cast(pl.Int64).alias("n_in"), pl.col("q").sum().cast(pl.Int64).alias("n_quarantined"))
        .with_columns((pl.col("n_in") - pl.col("n_quarantined")).alias("n_out"))
        .select(
            pl.lit(asset).alias("asset"),
            "source_file",
            "record_type",
            "n_in",
            "n_out",
            "n_quarantined",
            pl.col("n_out").alias("n_events"),
        )
        .sort("source_file", "record_type")
    )
