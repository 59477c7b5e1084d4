"""CSV reading with per-row isolation vs polars alone, on the shared Synthea CSV extract (issue 15).

    .venv/bin/python bench/csv_reader.py [--copies 10] [--repeat 3]

Each file of ../shared/data/synthea-csv/csv is concatenated `copies` times (header once) and read three ways:
`read_table_checked` (the tables reader: polars when the bytes provably hold one well-formed row per line),
the row-by-row parser it falls back to (what a file with quotes or a bad row costs), and the reader before issue 15
(one `pl.read_csv` per file, which stopped on a ragged row). Best of `repeat`, seconds and MB/s, wall and CPU
(process time: all threads of this process; the machine is shared, so wall time also measures waiting).
Then the same files with every text field quoted (as many extracts write them; before the line-proving fast
path such a file went row by row), and the quoted files with one ragged line in the middle of each.
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


def _best(fn, repeat: int) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds) over `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


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
        quoted, damaged = [], []
        for f in files:
            q = root / "quoted" / f.name
            q.parent.mkdir(exist_ok=True)
            pl.read_csv(f, infer_schema=False).write_csv(q, quote_style="non_numeric")
            quoted.append(q)
            d = root / "damaged" / f.name
            d.parent.mkdir(exist_ok=True)
            lines = q.read_bytes().split(b"\n")
            lines.insert(len(lines) // 2, b"ragged,line")
            d.write_bytes(b"\n".join(lines))
            damaged.append(d)
        q_mb = sum(f.stat().st_size for f in quoted) / 1e6
        q_checked = _best(lambda: [read_table_checked(f, spec, root) for f in quoted], args.repeat)
        q_rowwise = _best(
            lambda: [parse_csv(decode_table_bytes(f.read_bytes())[0], ",") for f in quoted], args.repeat
        )
        d_checked = _best(lambda: [read_table_checked(f, spec, root) for f in damaged], args.repeat)
        bad = sum(read_table_checked(f, spec, root).rejects.height for f in damaged)
    print(f"{len(files)} files, {mb:.1f} MB, {rows:,} rows; quoted: {q_mb:.1f} MB; damaged: {bad} bad lines")
    for name, size, (wall, cpu) in (
        ("read_table_checked", mb, checked),
        ("row by row", mb, rowwise),
        ("before (polars only)", mb, polars),
        ("quoted: read_table_checked", q_mb, q_checked),
        ("quoted: row by row", q_mb, q_rowwise),
        ("quoted + 1 bad line/file: checked", q_mb, d_checked),
    ):
        print(f"{name:34s} wall {wall:6.2f} s {size / wall:7.1f} MB/s   CPU {cpu:6.2f} s {size / cpu:7.1f} MB/s")


if __name__ == "__main__":
    main()
