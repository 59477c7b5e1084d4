"""Integrity rules for label and feature tables (counts only in results, never values or ids)."""

import numpy as np
import polars as pl

from pipelines.features.offline import EVENT_COLUMNS, as_layout, compile_for_root, read_labels, shard_files
from pipelines.features.reference import reference_features
from quality.integrity import RuleResult
from schemas.features import feature_table_path
from schemas.labels import label_path, value_column


def labels_valid(root, task: str, shard: int) -> RuleResult:
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
    root, task: str, shard: int, spec: str = "default", sample: int = 20, seed: int = 0
) -> RuleResult:
    """Recompute a sample of the written wide rows with the slow reference: every value must agree."""
    layout = as_layout(root)
    cs = compile_for_root(layout, spec)
    path = feature_table_path(layout, task, cs.spec.name, shard)
    if not path.exists():
        return RuleResult(False, "the feature table was not written")
    table = pl.read_parquet(path)
    labels, _ = (
        read_labels(label_path(layout, task, shard))
        if label_path(layout, task, shard).exists()
        else (pl.DataFrame(), None)
    )
    if len(table) != len(labels):
        return RuleResult(
            False, "row count differs from the label table", {"rows": len(table), "labels": len(labels)}
        )
    if not len(table):
        return RuleResult(True, "no label rows in this shard", {"rows": 0})
    rows = table.sample(min(sample, len(table)), seed=seed)
    files = shard_files(layout, shard)
    events = pl.concat([pl.read_parquet(f, columns=EVENT_COLUMNS) for f in files])
    want = reference_features(events, rows.select("label_index", "subject_id", "prediction_time"), cs)
    zero = cs.zero_default
    mismatches = 0
    for row in rows.iter_rows(named=True):
        for j, name in enumerate(cs.feature_names):
            expected = want.get((row["label_index"], name), 0.0 if zero[j] else None)
            got = row[name]
            if (expected is None) != (got is None) or (
                expected is not None and not np.isclose(got, expected, rtol=1e-5, atol=1e-6)
            ):
                mismatches += 1
    counts = {
        "rows_checked": len(rows),
        "cells_checked": len(rows) * len(cs.feature_names),
        "mismatches": mismatches,
    }
    return RuleResult(mismatches == 0, f"{len(rows)} rows recomputed with the reference", counts)
