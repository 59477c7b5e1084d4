"""All tabular sources under landing/tables/<source>/: validate every mapping first, then map each source."""

from collections.abc import Callable
from pathlib import Path

import polars as pl

from deid.pseudonym import Keyring
from pipelines.defs.tables.engine import map_source
from pipelines.defs.tables.mapping import Mapping, resolve_mapping
from pipelines.defs.tables.names import ASSET
from pipelines.defs.tables.output import SourceSummary, count_rows, write_source
from pipelines.ledger import file_label, write_ledger
from pipelines.value_free_errors import value_free_errors
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.ledger import LEDGER_SCHEMA, UNMAPPED_FILE, UNMAPPED_SCHEMA
from schemas.publish import unpublish


def source_dirs(layout: Layout) -> list[Path]:
    base = layout.landing / "tables"
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")) if base.exists() else []


def ingest_source(
    layout: Layout, keyring: Keyring, n_shards: int, source_dir: Path, mapping: Mapping
) -> tuple[SourceSummary, pl.DataFrame, pl.DataFrame]:
    """Map one source folder into raw/tables/<source>/; its summary, ledger rows and unrecognized codes."""
    mapped = map_source(mapping, source_dir, layout.root, keyring)
    return write_source(layout, keyring, n_shards, mapping, mapped)


def ingest_tables(
    layout: Layout, keyring: Keyring, n_shards: int, on_source: Callable[[str], None] | None = None
) -> list[SourceSummary]:
    """Map every source; a bad mapping stops the run before any table is read (MappingError)."""
    plans: list[tuple[Path, Mapping]] = [(d, resolve_mapping(d)) for d in source_dirs(layout)]
    summaries, ledgers, unrecognized = [], [], []
    for source_dir, mapping in plans:
        if on_source:
            on_source(mapping.source)
        with value_free_errors(f"{ASSET}: source {mapping.source}"):  # a polars message can quote a row
            summary, ledger, codes = ingest_source(layout, keyring, n_shards, source_dir, mapping)
        summaries.append(summary)
        ledgers.append(ledger.with_columns(pl.lit(mapping.source).alias("__source")))
        unrecognized.append(codes)
    loose = _loose_files(layout)
    if loose.height:
        ledgers.append(loose)
    _drop_stale(layout, {m.source for _, m in plans})
    ledger = pl.concat(ledgers) if ledgers else pl.from_arrow(LEDGER_SCHEMA.empty_table())
    _write_unmapped(layout, keyring, ledger, unrecognized)
    write_ledger(ledger.drop("__source", strict=False), layout.ledger(ASSET), layout, keyring)
    return summaries


def _loose_files(layout: Layout) -> pl.DataFrame:
    """Files put straight into landing/tables/ instead of a source folder: no mapping can read them."""
    base = layout.landing / "tables"
    files = (
        sorted(p for p in base.iterdir() if p.is_file() and not p.name.startswith(".")) if base.exists() else []
    )
    return pl.DataFrame(
        {
            "asset": [ASSET] * len(files),
            "source_file": [str(p.relative_to(layout.root)) for p in files],
            "record_type": [UNMAPPED_FILE] * len(files),
            "n_in": [count_rows(p) for p in files],
            "n_out": [count_rows(p) for p in files],
            "n_quarantined": [0] * len(files),
            "n_events": [0] * len(files),
            "__source": ["(no source folder)"] * len(files),
        },
        schema={"asset": pl.String, "source_file": pl.String, "record_type": pl.String, "n_in": pl.Int64,
                "n_out": pl.Int64, "n_quarantined": pl.Int64, "n_events": pl.Int64, "__source": pl.String},
    )  # fmt: skip


def _write_unmapped(layout: Layout, keyring: Keyring, ledger: pl.DataFrame, codes: list[pl.DataFrame]) -> None:
    """quality/unmapped/tables_raw.parquet: files no rule reads (by ledger label) and fallback codes."""
    files = (
        ledger.filter(pl.col("record_type") == UNMAPPED_FILE).select(
            pl.col("__source").alias("source"),
            pl.lit("file").alias("kind"),
            pl.col("source_file")
            .map_elements(lambda f: file_label(f, keyring), return_dtype=pl.String)
            .alias("item"),
            pl.lit(None, pl.String).alias("rule"),
            pl.col("n_in").alias("n"),
        )
        if "__source" in ledger.columns
        else pl.DataFrame()
    )
    frames = [f for f in (files, *codes) if f.height]
    table = pl.concat(frames, how="diagonal_relaxed") if frames else pl.from_arrow(UNMAPPED_SCHEMA.empty_table())
    table = table.with_columns(pl.lit(ASSET).alias("asset")).sort(
        "source", "kind", "n", descending=[False, False, True]
    )
    write_parquet(table.to_arrow(), layout.unmapped(ASSET), UNMAPPED_SCHEMA)


def _drop_stale(layout: Layout, sources: set[str]) -> None:
    """A source removed from landing/ takes its raw tables and quarantine with it."""
    for base, suffix in ((layout.raw / "tables", ""), (layout.quarantine(ASSET), ".parquet")):
        if not base.exists():
            continue
        for p in base.iterdir():
            name = p.name.removesuffix(suffix)
            if name.startswith(".") or name in sources:
                continue
            unpublish(p)  # the pointer first, then its versions (schemas.publish)
