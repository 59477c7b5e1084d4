"""Offline retrieval: features for a label table from a root's MEDS shards, wide or sparse, streamed per file."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from featurestore.engine import compute_long
from featurestore.io import ParquetStream
from featurestore.spec import CompiledSpec, FeatureSpec, compile_spec, load_spec, vocabulary
from schemas.features import SPARSE_SCHEMA, wide_schema
from schemas.labels import read_label_table
from schemas.layout import Layout
from schemas.meds import SPLITS
from schemas.publish import dataset_files

FORMATS = ("wide", "sparse")
EVENT_COLUMNS = ["subject_id", "time", "code", "numeric_value"]
# Rows x columns of one dense wide batch: 16M float32 cells = 64 MiB, whatever the spec's width.
_WIDE_CELLS = 16_000_000
# Label rows of one sparse batch: ~330 non-default values per row on Synthea -> ~1.4M output rows, ~60 MB.
_SPARSE_ROWS = 4096


def as_layout(root: str | Path | Layout) -> Layout:
    return root if isinstance(root, Layout) else Layout(Path(root).resolve())


def shard_files(layout: Layout, shard: int | None = None) -> list[Path]:
    """meds/data/<split>/<shard>.parquet files, split by split (one shard, or all)."""
    pattern = f"{shard}.parquet" if shard is not None else "*.parquet"
    files = dataset_files(layout.meds, f"data/*/{pattern}")  # the published set (schemas.publish)
    return [p for split in SPLITS for p in files if p.parent.name == split]


def compile_for_root(layout: str | Path | Layout, spec: FeatureSpec | str | Path | None = None) -> CompiledSpec:
    """Compile a spec against the codes of its fit split (all splits when the root has none of that split)."""
    layout = as_layout(layout)
    spec = spec if isinstance(spec, FeatureSpec) else load_spec(spec)
    # A root without the fit split (a tiny or unlabeled dataset) falls back to every split's codes.
    # A root with no events at all compiles to an empty vocabulary: every feature keeps its default.
    files = dataset_files(layout.meds, f"data/{spec.fit_split}/*.parquet") or shard_files(layout)
    return compile_spec(spec, vocabulary([str(f) for f in files]))


def read_labels(labels: pl.DataFrame | str | Path) -> tuple[pl.DataFrame, str | None]:
    """A label table (file, folder of files, or frame; `schemas.labels.read_label_table`) with label_index."""
    table, column = read_label_table(labels)
    return table.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("label_index"), pl.all()), column


def iter_batches(
    layout: Layout,
    labels: pl.DataFrame,
    cs: CompiledSpec,
    *,
    output: str = "wide",
    value: str | None = None,
    files: list[Path] | None = None,
) -> Iterator[pa.Table]:
    """Feature batches, one MEDS file at a time; labels whose subject is in no file come last, featureless."""
    if output not in FORMATS:
        raise ValueError(f"output must be one of {FORMATS}, got {output!r}")
    files = shard_files(layout) if files is None else files
    remaining = labels
    for path in files:
        subjects = pl.read_parquet(path, columns=["subject_id"])["subject_id"].unique()
        mine = remaining.filter(pl.col("subject_id").is_in(subjects.implode()))
        if mine.is_empty():
            continue
        remaining = remaining.filter(~pl.col("subject_id").is_in(subjects.implode()))
        events = pl.read_parquet(path, columns=EVENT_COLUMNS)
        cache: dict = {}  # state tables of this file, shared by its label chunks
        for chunk in _chunks(mine, len(cs.feature_names) if output == "wide" else 0):
            yield _format(compute_long(events, chunk, cs, cache), chunk, cs, output, value)
    if not remaining.is_empty():
        for chunk in _chunks(remaining, len(cs.feature_names) if output == "wide" else 0):
            empty = pl.DataFrame(
                schema={
                    c: pl.Datetime("us")
                    if c == "time"
                    else pl.String
                    if c == "code"
                    else pl.Float32
                    if c == "numeric_value"
                    else pl.Int64
                    for c in EVENT_COLUMNS
                }
            )
            yield _format(compute_long(empty, chunk, cs), chunk, cs, output, value)


def _chunks(labels: pl.DataFrame, width: int) -> Iterator[pl.DataFrame]:
    size = max(1024, _WIDE_CELLS // width) if width else _SPARSE_ROWS
    for start in range(0, len(labels), size):
        yield labels.slice(start, size)


def _format(
    long: pl.DataFrame, labels: pl.DataFrame, cs: CompiledSpec, output: str, value: str | None
) -> pa.Table:
    if output == "sparse":
        return to_sparse(long, labels, cs)
    return to_wide(long, labels, cs, value)


def to_wide(long: pl.DataFrame, labels: pl.DataFrame, cs: CompiledSpec, value: str | None = None) -> pa.Table:
    """Dense columns: zero-default features start at 0, the others at null, then the long values land."""
    n, width = len(labels), len(cs.feature_names)
    zero = cs.zero_default
    matrix = np.full((width, n), np.nan, dtype=np.float32)  # one contiguous row per output column
    matrix[zero] = 0.0
    if not long.is_empty():
        rows = _positions(labels, long["label_index"].to_numpy())
        matrix[long["feature_id"].to_numpy(), rows] = long["value"].to_numpy().astype(np.float32)
    columns = [pa.array(col, from_pandas=True) for col in matrix]  # NaN -> null
    keys = labels.select("label_index", "subject_id", "prediction_time", *([value] if value else [])).to_arrow()
    table = pa.Table.from_arrays([*keys.columns, *columns], names=[*keys.column_names, *cs.feature_names])
    return table.cast(wide_schema(cs.feature_names, value))


def to_sparse(long: pl.DataFrame, labels: pl.DataFrame, cs: CompiledSpec) -> pa.Table:
    """MEDS-Tab style: one row per non-default (label row, feature) value; grouped by shard file, not sorted."""
    rows = _positions(labels, long["label_index"].to_numpy())
    keys = [
        pa.array(long["label_index"].to_numpy()),
        pa.array(labels["subject_id"].to_numpy()[rows]),
        pa.array(labels["prediction_time"].to_numpy()[rows], pa.timestamp("us")),
    ]
    feature = pa.DictionaryArray.from_arrays(
        pa.array(long["feature_id"].to_numpy(), pa.int32()), pa.array(cs.feature_names, pa.string())
    )
    value = pa.array(long["value"].to_numpy().astype(np.float32))
    return pa.Table.from_arrays([*keys, feature, value], schema=SPARSE_SCHEMA)


def _positions(labels: pl.DataFrame, label_index: np.ndarray) -> np.ndarray:
    """Row positions in `labels` of the given label_index values."""
    own = labels["label_index"].to_numpy()
    lookup = np.full(int(own.max()) + 1 if len(own) else 0, -1, dtype=np.int64)
    lookup[own] = np.arange(len(own))
    return lookup[label_index]


def output_schema(cs: CompiledSpec, output: str, value: str | None) -> pa.Schema:
    return SPARSE_SCHEMA if output == "sparse" else wide_schema(cs.feature_names, value)


def get_features(
    root: str | Path | Layout,
    labels: pl.DataFrame | str | Path,
    spec: FeatureSpec | str | Path | None = None,
    *,
    output: str = "wide",
    out: str | Path | None = None,
) -> pl.DataFrame | Path:
    """Point-in-time features for a label table from the root's MEDS data.

    With `out`, batches stream to that Parquet file (memory stays flat) and the path is returned; without it,
    the features come back as one polars frame. Rows arrive file by file; `label_index` is each row's
    position in the input label table.
    """
    layout = as_layout(root)
    table, value = read_labels(labels)
    cs = compile_for_root(layout, spec)
    batches = iter_batches(layout, table, cs, output=output, value=value)
    schema = output_schema(cs, output, value)
    if out is not None:
        with ParquetStream(Path(out), schema) as stream:
            for batch in batches:
                stream.write(batch)
        return Path(out)
    arrow = pa.concat_tables([*batches]) if len(table) else schema.empty_table()
    return pl.from_arrow(arrow)  # type: ignore[return-value]
