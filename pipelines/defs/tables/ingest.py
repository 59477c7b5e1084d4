"""All tabular sources under landing/tables/<source>/: validate every mapping first, then map each source."""

import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl

from deid.pseudonym import Keyring
from pipelines.defs.tables.engine import ASSET, SourceSummary, ingest_source
from pipelines.defs.tables.mapping import Mapping, resolve_mapping
from pipelines.ledger import write_ledger
from schemas.layout import Layout
from schemas.ledger import LEDGER_SCHEMA


def source_dirs(layout: Layout) -> list[Path]:
    base = layout.landing / "tables"
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")) if base.exists() else []


def ingest_tables(
    layout: Layout, keyring: Keyring, n_shards: int, on_source: Callable[[str], None] | None = None
) -> list[SourceSummary]:
    """Map every source; a bad mapping stops the run before any table is read (MappingError)."""
    plans: list[tuple[Path, Mapping]] = [(d, resolve_mapping(d)) for d in source_dirs(layout)]
    summaries, ledgers = [], []
    for source_dir, mapping in plans:
        if on_source:
            on_source(mapping.source)
        summary, ledger = ingest_source(layout, keyring, n_shards, source_dir, mapping)
        summaries.append(summary)
        ledgers.append(ledger)
    _drop_stale(layout, {m.source for _, m in plans})
    ledger = pl.concat(ledgers) if ledgers else pl.from_arrow(LEDGER_SCHEMA.empty_table())
    write_ledger(ledger, layout.ledger(ASSET), layout, keyring)
    return summaries


def _drop_stale(layout: Layout, sources: set[str]) -> None:
    """A source removed from landing/ takes its raw tables and quarantine with it."""
    for base, suffix in ((layout.raw / "tables", ""), (layout.quarantine(ASSET), ".parquet")):
        if not base.exists():
            continue
        for p in base.iterdir():
            name = p.name.removesuffix(suffix)
            if name.startswith(".") or name in sources:
                continue
            shutil.rmtree(p) if p.is_dir() else p.unlink()
