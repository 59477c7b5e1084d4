"""MEDS metadata: codes.parquet (descriptions from the data), subject_splits.parquet and dataset.json."""

import json
from datetime import UTC, datetime
from importlib.metadata import version

import polars as pl

from pipelines.defs.meds.version import dataset_version
from schemas.io import write_parquet, write_text
from schemas.layout import Layout
from schemas.meds import CODES_SCHEMA, MEDS_VERSION, SPLITS, SUBJECT_SPLITS_SCHEMA
from schemas.publish import dataset_files, files_under, publishing


def _data_files(layout: Layout) -> list:
    return [p for p in dataset_files(layout.meds, "data/*/*.parquet") if p.parent.name in SPLITS]


def _rel(layout: Layout, path) -> str:
    return path.relative_to(layout.meds).as_posix()


def write_codes(layout: Layout) -> int:
    """Every code in the data, with its most frequent description across all sources' raw code texts."""
    files = _data_files(layout)
    if files:
        codes = pl.scan_parquet(files).select("code").unique().collect()
    else:
        codes = pl.DataFrame({"code": []}, schema={"code": pl.String})
    texts = files_under(layout.raw, "**/codes/*.parquet")
    if texts:
        best = (
            pl.read_parquet(texts, hive_partitioning=False)
            .drop_nulls("description")
            .group_by("code", "description")
            .agg(pl.col("n").sum())
            .sort(["code", "n", "description"], descending=[False, True, False])
            .unique("code", keep="first", maintain_order=True)
            .select("code", "description")
        )
        codes = codes.join(best, on="code", how="left")
    else:
        codes = codes.with_columns(pl.lit(None, pl.String).alias("description"))
    codes = _with_vocabulary(codes, files_under(layout.raw, "**/code_metadata/*.parquet")).sort("code")
    with publishing(layout.meds, keep_except=[_rel(layout, layout.meds_codes)]) as stage:
        write_parquet(codes.to_arrow(), stage.path(layout.meds_codes), CODES_SCHEMA)
    return codes.height


def _with_vocabulary(codes: pl.DataFrame, files: list) -> pl.DataFrame:
    """Parents (and a description where the data had none) from the sources' vocabulary tables."""
    if not files:
        return codes.with_columns(pl.lit(None, pl.List(pl.String)).alias("parent_codes"))
    vocab = (
        pl.read_parquet(files, hive_partitioning=False)
        .group_by("code")
        .agg(
            pl.col("description").drop_nulls().first().alias("vocab_description"),
            pl.col("parent_codes").explode().drop_nulls().unique().sort().alias("parent_codes"),
        )
        .with_columns(pl.when(pl.col("parent_codes").list.len() > 0).then(pl.col("parent_codes")))
    )
    return (
        codes.join(vocab, on="code", how="left")
        .with_columns(pl.coalesce("description", "vocab_description").alias("description"))
        .drop("vocab_description")
    )


def write_subject_splits(layout: Layout) -> dict[str, int]:
    frames = [
        pl.scan_parquet(p).select("subject_id").unique().with_columns(pl.lit(p.parent.name).alias("split"))
        for p in _data_files(layout)
    ]
    if frames:
        splits = pl.concat(frames).collect().unique().sort("subject_id")
    else:
        splits = pl.DataFrame(schema={"subject_id": pl.Int64, "split": pl.String})
    with publishing(layout.meds, keep_except=[_rel(layout, layout.meds_subject_splits)]) as stage:
        write_parquet(splits.to_arrow(), stage.path(layout.meds_subject_splits), SUBJECT_SPLITS_SCHEMA)
    return {s: int((splits["split"] == s).sum()) for s in SPLITS}


def write_dataset_metadata(layout: Layout, dataset_name: str = "longitude") -> dict:
    meta = {
        "dataset_name": dataset_name,
        "dataset_version": dataset_version(layout, version("longitude")),  # data hash + code commit
        "etl_name": "longitude",
        "etl_version": version("longitude"),
        "meds_version": MEDS_VERSION,
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "code_modifier_columns": ["unit"],
    }
    with publishing(layout.meds, keep_except=[_rel(layout, layout.meds_dataset_json)]) as stage:
        write_text(json.dumps(meta, indent=2) + "\n", stage.path(layout.meds_dataset_json))
    return meta
