"""Tiny MEDS roots for feature-store tests: a handmade CSV timeline, written as real MEDS shards."""

from pathlib import Path

import polars as pl
import pytest

from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.meds import DATA_SCHEMA, SUBJECT_SPLITS_SCHEMA

FIXTURES = Path(__file__).parent / "fixtures"


def read_tiny_meds() -> pl.DataFrame:
    """The handmade timeline (tests/features/fixtures/tiny_meds.csv) as MEDS rows, static rows first."""
    frame = pl.read_csv(FIXTURES / "tiny_meds.csv", schema_overrides={"time": pl.String})
    return frame.select(
        pl.col("subject_id").cast(pl.Int64),
        pl.col("time").str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us"),
        "code",
        pl.col("numeric_value").cast(pl.Float32),
    ).sort("subject_id", "time", nulls_last=False, maintain_order=True)


def write_root(
    root: Path, events: pl.DataFrame, splits: dict[int, str] | None = None, n_shards: int = 1
) -> Layout:
    """A MEDS root: meds/data/<split>/<shard>.parquet (shard = subject_id % n_shards) and subject_splits."""
    layout = Layout(root)
    splits = splits or {}
    events = events.with_columns(
        text_value=pl.lit(None, pl.String),
        unit=pl.lit(None, pl.String),
        split=pl.col("subject_id").replace_strict(splits, default="train", return_dtype=pl.String),
        shard=pl.col("subject_id") % n_shards,
    )
    for (split, shard), part in events.group_by("split", "shard"):
        write_parquet(part.drop("split", "shard").to_arrow(), layout.meds_shard(split, shard), DATA_SCHEMA)
    subjects = events.select("subject_id", "split").unique().sort("subject_id")
    write_parquet(subjects.to_arrow(), layout.meds_subject_splits, SUBJECT_SPLITS_SCHEMA)
    return layout


@pytest.fixture
def tiny_events() -> pl.DataFrame:
    return read_tiny_meds()


@pytest.fixture
def tiny_root(tmp_path: Path, tiny_events: pl.DataFrame) -> Layout:
    return write_root(tmp_path / "root", tiny_events, splits={2: "held_out"}, n_shards=2)
