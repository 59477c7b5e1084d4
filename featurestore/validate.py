"""Integrity rules for label and feature tables (counts only in results, never values or ids)."""

from pathlib import Path

import numpy as np
import polars as pl

from featurestore.offline import EVENT_COLUMNS, as_layout, read_labels, shard_files
from featurestore.reference import reference_features
from featurestore.spec import CompiledSpec
from quality.integrity import RuleResult
from schemas.features import COMPILED_SPEC_FILE, TABLES_DIR
from schemas.labels import label_path, value_column
from schemas.layout import Layout
from schemas.publish import dataset_files


def labels_valid(root: str | Path | Layout, task: str, shard: int) -> RuleResult:
    """One value column, never null; unique and sorted (subject_id, prediction_time); subjects of this shard."""
    layout = as_layout(root)
    path = label_path(layout, task, shard)
    if not path.exists():
        return RuleResult(False, "the label shard was not written")
    labels = pl.read_parquet(path)
    column = value_column(labels.to_arrow().schema)
    nulls = int(labels.null_count().sum_horizontal().item()) if len(labels) else 0
    duplicates = len(labels) - labels.select("subject_id", "prediction_time").n_unique() if len(labels) else 0
    ordered = labels.select("subject_id", "prediction_time").equals(
        labels.select("subject_id", "prediction_time").sort("subject_id", "prediction_time")
    )
    files = shard_files(layout, shard)
    known = pl.concat([pl.read_parquet(f, columns=["subject_id"]) for f in files])["subject_id"] if files else []
    foreign = (
        int((~labels["subject_id"].is_in(pl.Series(known, dtype=pl.Int64).implode())).sum()) if len(labels) else 0
    )
    counts = {
        "rows": len(labels),
        "nulls": nulls,
        "duplicates": duplicates,
        "foreign_subjects": foreign,
        "unsorted": int(not ordered),
    }
    passed = column is not None and not (nulls or duplicates or foreign or not ordered)
    return RuleResult(
        passed, f"{len(labels)} label rows; nulls, duplicates, foreign subjects, order checked", counts
    )


def features_match_reference(
    root: str | Path | Layout, task: str, shard: int, sample: int = 20, seed: int = 0
) -> RuleResult:
    """Every spec's table of this task and shard: sampled rows recomputed by the slow reference must agree."""
    layout = as_layout(root)
    specs = [p.parent for p in dataset_files(layout.features, f"{TABLES_DIR}/{task}/*/{shard}.parquet")]
    if not specs:
        return RuleResult(False, "the feature table was not written")
    results = [_table_matches(layout, task, shard, folder, sample, seed) for folder in specs]
    keys = sorted({k for r in results for k in r.counts})
    counts = {k: sum(r.counts.get(k, 0) for r in results) for k in keys}
    return RuleResult(all(r.passed for r in results), "; ".join(r.summary for r in results), counts)


def _table_matches(layout, task: str, shard: int, folder, sample: int, seed: int) -> RuleResult:
    cs = CompiledSpec.from_json((folder / COMPILED_SPEC_FILE).read_text())
    path = folder / f"{shard}.parquet"
    table = pl.read_parquet(path)
    labels, _ = (
        read_labels(label_path(layout, task, shard))
        if label_path(layout, task, shard).exists()
        else (pl.DataFrame(), None)
    )
    if "feature" in table.columns:  # sparse: non-default cells of the sampled label rows
        return _sparse_matches(table, labels, cs, shard_files(layout, shard), sample, seed)
    if len(table) != len(labels):
        return RuleResult(
            False, "row count differs from the label table", {"rows": len(table), "labels": len(labels)}
        )
    if not len(table):
        return RuleResult(True, "no label rows in this shard", {"rows": 0})
    rows = table.sample(min(sample, len(table)), seed=seed)
    want = reference_features(
        _events(shard_files(layout, shard)), rows.select("label_index", "subject_id", "prediction_time"), cs
    )
    zero = cs.zero_default
    mismatches = 0
    for row in rows.iter_rows(named=True):
        for j, name in enumerate(cs.feature_names):
            expected = want.get((row["label_index"], name), 0.0 if zero[j] else None)
            if not _same(row[name], expected):
                mismatches += 1
    counts = {
        "rows_checked": len(rows),
        "cells_checked": len(rows) * len(cs.feature_names),
        "mismatches": mismatches,
    }
    return RuleResult(mismatches == 0, f"{len(rows)} rows recomputed with the reference", counts)


def _events(files) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(f, columns=EVENT_COLUMNS) for f in files])


def _same(got: float | None, expected: float | None) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    return bool(np.isclose(got, expected, rtol=1e-5, atol=1e-6))


def _sparse_matches(table: pl.DataFrame, labels: pl.DataFrame, cs, files, sample: int, seed: int) -> RuleResult:
    if not len(labels):
        return RuleResult(len(table) == 0, "no label rows in this shard", {"rows": len(table)})
    rows = labels.sample(min(sample, len(labels)), seed=seed)
    picked = table.filter(pl.col("label_index").is_in(rows["label_index"].implode()))
    got = {
        (i, f): v for i, f, v in picked.select("label_index", pl.col("feature").cast(pl.String), "value").rows()
    }
    want = reference_features(_events(files), rows, cs)
    mismatches = sum(not _same(got.get(k), want.get(k)) for k in set(got) | set(want))
    counts = {"rows_checked": len(rows), "cells_checked": len(set(got) | set(want)), "mismatches": mismatches}
    return RuleResult(mismatches == 0, f"{len(rows)} rows recomputed with the reference (sparse)", counts)
