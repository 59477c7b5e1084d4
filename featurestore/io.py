"""A streaming, atomic Parquet writer: schemas.io.write_parquet's rules (conform, write aside, fsync, rename)
for outputs too large to hold at once."""

import sys
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.atomic import replacing
from schemas.io import conform

_OPTIONS = {"compression": "zstd", "compression_level": 3, "write_statistics": True}


class ParquetStream:
    """`with ParquetStream(path, schema) as s: s.write(table)`; the file appears only when the block succeeds."""

    def __init__(self, path: Path, schema: pa.Schema, row_group_size: int = 1 << 17) -> None:
        self.path, self.schema, self.row_group_size = Path(path), schema, row_group_size
        self.rows = 0

    def __enter__(self) -> "ParquetStream":
        with ExitStack() as stack:
            self._tmp = stack.enter_context(replacing(self.path))  # the one single-file protocol: schemas.atomic
            self._writer = pq.ParquetWriter(str(self._tmp), self.schema, **_OPTIONS)
            self._replacing = stack.pop_all()
        return self

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(conform(table, self.schema), row_group_size=self.row_group_size)
        self.rows += table.num_rows

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._writer.close()
        except BaseException:
            self._replacing.__exit__(*sys.exc_info())  # the temp file goes; the target is untouched
            raise
        self._replacing.__exit__(exc_type, exc, tb)  # clean: fsync and rename over the target; else discard
