"""Atomic, schema-checked, byte-reproducible Parquet and text writes: the one write boundary."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from schemas import atomic

# zstd level 3: ~2x smaller than snappy on event data at about the same write speed.
_PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "write_statistics": True}


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select the schema's columns in order and cast; raises if a non-nullable column holds nulls.

    >>> import pyarrow as pa
    >>> s = pa.schema([pa.field("a", pa.int64(), nullable=False)])
    >>> conform(pa.table({"b": [1], "a": [2]}), s).schema == s
    True
    """
    table = table.select(schema.names)
    for field in schema:
        if not field.nullable and table.column(field.name).null_count:
            raise ValueError(f"column {field.name!r} holds nulls but the schema forbids them")
    return table.cast(schema)


def write_parquet(
    table: pa.Table, path: Path, schema: pa.Schema, row_group_size: int = 1 << 17, *, durable: bool = True
) -> Path:
    """Cast `table` to `schema` and write it to `path` atomically (write aside, fsync, rename).

    `durable=False` skips the per-file fsync: for files inside a staging version that `swap_dir` (or a
    `schemas.publish.Stage` made with `sync=True`) publishes after one `os.sync()` (an fsync costs ~4 ms
    here, and an ingest writes hundreds of parts).
    """
    table = conform(table, schema)
    return _write_atomically(
        path,
        lambda tmp: pq.write_table(table, tmp, row_group_size=row_group_size, **_PARQUET_OPTIONS),
        durable=durable,
    )


def write_text(text: str, path: Path) -> Path:
    """Write a text file atomically (schemas.atomic)."""
    return atomic.write_text(text, path)


def _write_atomically(path: Path, write, durable: bool = True) -> Path:
    with atomic.replacing(path, durable=durable) as tmp:
        write(str(tmp))
    return Path(path)


def swap_dir(new: Path, final: Path) -> None:
    """Publish the staged directory `new` (from `staging_dir`) as the dataset at `final`: schemas.publish."""
    from schemas.publish import publish

    Path(new).mkdir(parents=True, exist_ok=True)  # a stage nothing was written to publishes empty
    publish(new, final, sync=True)  # staged files may have been written without their own fsync


def staging_dir(final: Path) -> Path:
    """A fresh, empty staging version for the dataset at `final`, that no reader lists (schemas.publish)."""
    from schemas.publish import stage

    return stage(final).dir
