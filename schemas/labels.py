"""Task label tables: MEDS labels (one value column, never null) under `features/labels/<task>/<shard>.parquet`,
and the same rows again by split under `features/labels_by_split/<task>/<split>/<shard>.parquet` (the layout
MEDS-Tab's task caching and meds-torch-data read next to `meds/data/<split>/<shard>.parquet`).

Invariants the types cannot express:
1. Exactly one value column (boolean_value, integer_value, float_value or categorical_value), never null.
2. One row per (subject_id, prediction_time); rows sorted by subject_id, then prediction_time.
3. A label is decided only by events strictly after prediction_time (its target window starts after it), and
   every row's follow-up is complete or the row is dropped (censoring is explicit in the task definition).
4. A shard's label file holds only subjects of that MEDS shard, from every split.
5. labels_by_split/<task>/<split>/<shard>.parquet holds exactly the rows of <shard>.parquet whose subject is in
   that split; a (split, shard) without MEDS data has no label file.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from schemas.layout import Layout
from schemas.meds import LABEL_VALUE_TYPES, label_schema

if TYPE_CHECKING:
    import polars as pl

LABELS_DIR = "labels"
SPLIT_LABELS_DIR = "labels_by_split"

__all__ = [
    "LABEL_VALUE_TYPES",
    "label_path",
    "label_schema",
    "labels_dir",
    "read_label_table",
    "split_label_path",
    "split_labels_dir",
    "value_column",
]


def labels_dir(layout: Layout, task: str) -> Path:
    """`features/labels/<task>/`."""
    return layout.features / LABELS_DIR / task


def label_path(layout: Layout, task: str, shard: int) -> Path:
    """`features/labels/<task>/<shard>.parquet`.

    >>> label_path(Layout(Path("/r")), "readmission_30d", 2).as_posix()
    '/r/features/labels/readmission_30d/2.parquet'
    """
    return labels_dir(layout, task) / f"{shard}.parquet"


def split_labels_dir(layout: Layout, task: str) -> Path:
    """`features/labels_by_split/<task>/`: pass this as MEDS-Tab's `input_label_dir`."""
    return layout.features / SPLIT_LABELS_DIR / task


def split_label_path(layout: Layout, task: str, split: str, shard: int) -> Path:
    """`features/labels_by_split/<task>/<split>/<shard>.parquet`.

    >>> split_label_path(Layout(Path("/r")), "mortality_1y", "held_out", 2).as_posix()
    '/r/features/labels_by_split/mortality_1y/held_out/2.parquet'
    """
    return split_labels_dir(layout, task) / split / f"{shard}.parquet"


def value_column(schema: pa.Schema) -> str | None:
    """The label table's one value column, None for an unlabeled table (prediction times only).

    >>> value_column(label_schema("float_value"))
    'float_value'
    """
    present = [c for c in LABEL_VALUE_TYPES if c in schema.names]
    if len(present) > 1:
        raise ValueError(f"a label table holds one value column, found {present}")
    missing = {"subject_id", "prediction_time"} - set(schema.names)
    if missing:
        raise ValueError(f"a label table needs subject_id and prediction_time; missing {sorted(missing)}")
    return present[0] if present else None


def read_label_table(labels: "pl.DataFrame | str | Path") -> "tuple[pl.DataFrame, str | None]":
    """Any MEDS label table (a Parquet file, a folder of them, or a frame) as subject_id (Int64),
    prediction_time (naive UTC, us)[, its one value column]; and that column's name (None if unlabeled).

    The one reader of label tables, for the feature store's offline retrieval and the model's probes alike.
    Zoned prediction times are converted to UTC and made naive, as MEDS times are. Rows keep their order.
    """
    import polars as pl

    if not isinstance(labels, pl.DataFrame):
        path = Path(labels)
        files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        if not files or not files[0].exists():
            raise FileNotFoundError(f"no label table at {path}")
        labels = pl.concat([pl.read_parquet(f) for f in files], how="vertical_relaxed")
    column = value_column(labels.to_arrow().schema)
    when = pl.col("prediction_time")
    dtype = labels.schema["prediction_time"]
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        when = when.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    out = labels.select(
        pl.col("subject_id").cast(pl.Int64),
        when.cast(pl.Datetime("us")).alias("prediction_time"),
        *([pl.col(column)] if column else []),
    )
    if out.select(pl.col("subject_id").is_null().any() | pl.col("prediction_time").is_null().any()).item():
        raise ValueError("label rows need a subject_id and a prediction_time (nulls found)")
    return out, column
