"""A streaming, atomic Parquet writer: schemas.io.write_parquet's rules (conform, write aside, fsync, rename)
for outputs too large to hold at once."""

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.io import conform

_OPTIONS = {"compression": "zstd", "compression_level": 3, "write_statistics": True}


class ParquetStream:
    """`with ParquetStream(path, schema) as s: s.write(table)`; the file appears only when the block succeeds."""

    def __init__(self, path: Path, schema: pa.Schema, row_group_size: int = 1 << 17) -> None:
        self.path, self.schema, self.row_group_size = Path(path), schema, row_group_size
        self.rows = 0

    def __enter__(self) -> "ParquetStream":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        self._writer = pq.ParquetWriter(self._tmp, self.schema, **_OPTIONS)
        return self

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(conform(table, self.schema), row_group_size=self.row_group_size)
        self.rows += table.num_rows

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._writer.close()
            if exc_type is None:
                fd = os.open(self._tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(self._tmp, self.path)
        finally:
            Path(self._tmp).unlink(missing_ok=True)
