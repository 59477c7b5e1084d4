"""Point-in-time feature tables under `features/`: wide and sparse offline outputs, and the online table.

Wide (`features/tables/<task>/<spec>/<shard>.parquet`, or any --out file): one row per label row.
Sparse (MEDS-Tab style): one row per (label row, feature) whose value is not the default.
Online (`features/online/<spec>/<shard>.parquet`): the feature state table (per subject and key, the cumulative
state after each event time), from which features as of any time are read; `compiled.json` beside the shard
files (here and under tables/) fixes the columns.

Invariants the types cannot express:
1. No leakage: a feature of a row uses only events with time < prediction_time (<= for a spec that opts in to
   inclusive), and for window w only those with prediction_time - w <= time; nothing else changes it.
2. label_index is the row's position in the input label table; wide tables hold every label row once.
3. count, present and static-code columns are never null (0 when nothing matches); last, mean, min, max,
   time_since_last and age are null when nothing usable matches.
4. Sparse tables leave out zero counts and null values, and hold each (label_index, feature) at most once.
5. Feature columns are named `<code or GROUP//name>/<window>/<agg>`, `static/age_years`, `static/<code>`;
   time_since_last is in days, age in years of 365.25 days.
"""

from pathlib import Path

import pyarrow as pa

from schemas.layout import Layout
from schemas.meds import LABEL_VALUE_TYPES

TABLES_DIR, ONLINE_DIR = "tables", "online"
COMPILED_SPEC_FILE = ONLINE_SPEC_FILE = "compiled.json"  # the compiled spec beside a table's shard files

_KEYS = [
    pa.field("label_index", pa.int64(), nullable=False),
    pa.field("subject_id", pa.int64(), nullable=False),
    pa.field("prediction_time", pa.timestamp("us"), nullable=False),
]

SPARSE_SCHEMA = pa.schema(
    [
        *_KEYS,
        pa.field("feature", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("value", pa.float32(), nullable=False),
    ]
)
"""Sparse features: label_index, subject_id, prediction_time of the label row; feature name (dictionary-encoded:
the dictionary is the spec's full column list, so its indices are column numbers); value, never null."""

ONLINE_SCHEMA = pa.schema(
    [
        pa.field("subject_id", pa.int64(), nullable=False),
        pa.field("group", pa.int16(), nullable=False),  # spec group index; -1 birth row, -2 static code row
        pa.field("key", pa.int32(), nullable=False),  # key within the group; static: index into static codes
        pa.field("time", pa.timestamp("us"), nullable=True),  # null: an undated static row
        pa.field("count", pa.float64(), nullable=True),
        pa.field("value_count", pa.float64(), nullable=True),
        pa.field("value_sum", pa.float64(), nullable=True),
        pa.field("value_last", pa.float64(), nullable=True),
        pa.field("value_last_time", pa.timestamp("us"), nullable=True),
        pa.field("cum_min", pa.float64(), nullable=True),
        pa.field("cum_max", pa.float64(), nullable=True),
        pa.field("row_min", pa.float64(), nullable=True),
        pa.field("row_max", pa.float64(), nullable=True),
    ]
)
"""Online feature state: per (subject, group, key) one row per distinct event time with the cumulative state
after it (count, value count/sum/last/min/max so far; min/max at that time). Null state columns mean "none yet".
Sorted by subject_id, group, key, time. Features as of any T are read from it exactly (see featurestore)."""


def wide_schema(feature_names: list[str] | tuple[str, ...], value_column: str | None = None) -> pa.Schema:
    """label_index, subject_id, prediction_time, the label's value column if any, then float32 features.

    >>> wide_schema(["static/age_years"], "boolean_value").names
    ['label_index', 'subject_id', 'prediction_time', 'boolean_value', 'static/age_years']
    """
    label = [pa.field(value_column, LABEL_VALUE_TYPES[value_column], nullable=False)] if value_column else []
    return pa.schema([*_KEYS, *label, *(pa.field(n, pa.float32(), nullable=True) for n in feature_names)])


def feature_table_path(layout: Layout, task: str, spec: str, shard: int) -> Path:
    """`features/tables/<task>/<spec>/<shard>.parquet`.

    >>> feature_table_path(Layout(Path("/r")), "mortality_1y", "default", 0).as_posix()
    '/r/features/tables/mortality_1y/default/0.parquet'
    """
    return layout.features / TABLES_DIR / task / spec / f"{shard}.parquet"


def online_dir(layout: Layout, spec: str) -> Path:
    return layout.features / ONLINE_DIR / spec


def online_path(layout: Layout, spec: str, shard: int) -> Path:
    """`features/online/<spec>/<shard>.parquet`."""
    return online_dir(layout, spec) / f"{shard}.parquet"
