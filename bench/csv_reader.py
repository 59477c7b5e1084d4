"""CSV reading with per-row isolation vs polars alone, on the shared Synthea CSV extract (issue 15).

    .venv/bin/python bench/csv_reader.py [--copies 10] [--repeat 3]

Each file of ../shared/data/synthea-csv/csv is concatenated `copies` times (header once) and read three ways:
`read_table_checked` (the tables reader: polars when the bytes provably hold one well-formed row per line),
the row-by-row parser it falls back to (what a file with quotes or a bad row costs), and the reader before issue 15
(one `pl.read_csv` per file, which stopped on a ragged row). Best of `repeat`, seconds and MB/s.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl

from pipelines.defs.tables.mapping import TableSpec
from pipelines.defs.tables.read import decode_table_bytes, parse_csv, read_table_checked

CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "synthea-csv" / "csv"


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _before(path: Path) -> pl.DataFrame:
    """The reader before issue 15: one polars call per file (it stopped the run on a ragged row)."""
    df = pl.read_csv(path, infer_schema=False)
    return df.with_row_index("__position", offset=2).with_columns(
        pl.lit(path.name).alias("__file"), pl.all().exclude("__position", "__file").replace("", None)
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = []
        for src in sorted(CSV.glob("*.csv")):
            header, _, body = src.read_bytes().partition(b"\n")
            out = root / src.name
            out.write_bytes(header + b"\n" + body * args.copies)
            files.append(out)
        mb = sum(f.stat().st_size for f in files) / 1e6
        spec = TableSpec(file="*.csv")
        rows = sum(read_table_checked(f, spec, root).frame.height for f in files)
        checked = _best(lambda: [read_table_checked(f, spec, root) for f in files], args.repeat)
        rowwise = _best(
            lambda: [parse_csv(decode_table_bytes(f.read_bytes())[0], ",") for f in files], args.repeat
        )
        polars = _best(lambda: [_before(f) for f in files], args.repeat)
    print(f"{len(files)} files, {mb:.1f} MB, {rows:,} rows")
    for name, s in (("read_table_checked", checked), ("row by row", rowwise), ("before (polars only)", polars)):
        print(f"{name:20s} {s:6.2f} s  {mb / s:6.1f} MB/s")


if __name__ == "__main__":
    main()
