"""Reading a mapped table's files as all-string polars frames, with each row's file and position."""

from pathlib import Path

import polars as pl

from pipelines.defs.tables.mapping import TableSpec

ROW = "__position"
FILE = "__file"


def table_files(source_dir: Path, spec: TableSpec) -> list[Path]:
    return sorted(p for p in source_dir.glob(spec.file) if p.is_file())


def read_table(path: Path, spec: TableSpec, root: Path) -> pl.DataFrame:
    """All columns as strings (a mapping decides types), plus __file and __position (CSV line or row number)."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        df = pl.read_parquet(path)
        df = df.select(pl.all().cast(pl.String))
        first = 1
    else:
        sep = "\t" if name.endswith((".tsv", ".tsv.gz")) else spec.separator
        # infer_schema=False: every value stays a string, so one odd row can be quarantined instead of
        # failing the whole file's type inference.
        df = pl.read_csv(path, separator=sep, infer_schema=False)
        first = 2  # line 1 is the header
    if spec.columns:
        df = df.rename({k: v for k, v in spec.columns.items() if k in df.columns})
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    return df.with_row_index(ROW, offset=first).with_columns(
        pl.col(ROW).cast(pl.Int64), pl.lit(rel).alias(FILE), pl.all().exclude(ROW, FILE).replace("", None)
    )
