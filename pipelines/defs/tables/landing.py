"""A source folder's files beyond the rules: which no rule reads, and the head of a big CSV for a sampled check."""

import fnmatch
from pathlib import Path

import polars as pl

from pipelines.defs.tables.mapping import Mapping
from pipelines.defs.tables.read import FILE, TableRead, read_table_checked, table_files

MAPPING_FILES = ("mapping.yaml", "longitude-source.yaml")
SAMPLE_BYTES = 8 << 20  # a sampled check reads only the head of a CSV larger than this


def read_head(path: Path, spec, root: Path, rows: int) -> TableRead:
    """The header and first `rows` lines of a big CSV, read by the same reader, labelled as the real file."""
    import gzip
    import tempfile

    lower = path.name.lower()
    opener = gzip.open if lower.endswith(".gz") else open
    with opener(path, "rb") as f:
        head = b"".join(line for _, line in zip(range(rows + 1), f, strict=False))
    suffix = ".tsv" if lower.endswith((".tsv", ".tsv.gz")) else ".csv"
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / f"head{suffix}"
        part.write_bytes(head)
        read = read_table_checked(part, spec, Path(tmp))
    label = pl.lit(rel).alias(FILE)
    return TableRead(
        read.frame.with_columns(label), read.rejects.with_columns(label), read.encoding, read.repeated
    )


def unmapped_files(mapping: Mapping, source_dir: Path, used_tables: set[str]) -> list[Path]:
    """Landing files no rule reads (mapping files and `ignore` globs, matched without case, excepted)."""
    covered: set[Path] = set()
    for name in used_tables:
        covered.update(table_files(source_dir, mapping.tables[name]))
    patterns = [g.lower() for g in mapping.ignore]
    out = []
    for p in sorted(source_dir.rglob("*")):
        rel = p.relative_to(source_dir)
        if not p.is_file() or any(part.startswith(".") for part in rel.parts) or p.name in MAPPING_FILES:
            continue
        ignored = any(fnmatch.fnmatchcase(rel.as_posix().lower(), g) for g in patterns)  # case: OMOP exports vary
        if p not in covered and not ignored:
            out.append(p)
    return out
