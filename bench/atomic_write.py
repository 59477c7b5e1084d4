"""Single-file writes before and after schemas.atomic (issue 15): a 1,000-row Parquet file, interleaved rounds.

Before: `tempfile.mkstemp` beside the target, write, rename (schemas.io until the single-file protocol).
After: `schemas.io.write_parquet`, whose temp file `schemas.atomic.replacing` makes with `os.open(O_EXCL)`.

    .venv/bin/python bench/atomic_write.py [--rounds 5] [--writes 300]
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.io import _PARQUET_OPTIONS, conform, write_parquet


def _before(table: pa.Table, path: Path, schema: pa.Schema, durable: bool = False) -> None:
    table = conform(table, schema)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    pq.write_table(table, tmp, row_group_size=1 << 17, **_PARQUET_OPTIONS)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args()
    schema = pa.schema([("subject_id", pa.int64()), ("code", pa.string())])
    table = pa.table({"subject_id": list(range(1000)), "code": [f"LOINC//{i}" for i in range(1000)]})
    folder = Path(tempfile.mkdtemp(prefix="atomic-write-"))
    ms: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for name, write in (("before", _before), ("after", write_parquet)):
            started = time.perf_counter()
            for i in range(args.writes):
                write(table, folder / f"{name}{i % 50}.parquet", schema, durable=False)
            ms[name].append((time.perf_counter() - started) / args.writes * 1000)
    for name, values in ms.items():
        print(f"{name}: median {statistics.median(values):.2f} ms/file, rounds {[round(v, 2) for v in values]}")


if __name__ == "__main__":
    main()
