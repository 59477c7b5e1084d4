"""Integrity rules that block bad data: ledger balance, shard ordering and exclusivity, code coverage."""

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl


@dataclass(frozen=True, slots=True)
class RuleResult:
    passed: bool
    summary: str
    counts: dict[str, int] = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)  # the first offending rows, with no PHI-zone value


def ledger_balances(paths: list[Path]) -> RuleResult:
    """Every ledger row has n_in == n_out + n_quarantined."""
    if not paths:
        return RuleResult(False, "no ledger was written")
    return ledger_frame_balances(pl.read_parquet(paths, hive_partitioning=False))


def ledger_frame_balances(ledger: pl.DataFrame | None) -> RuleResult:
    """`ledger_balances` of ledger rows already read (source_file keyed labels, never delivered paths)."""
    if ledger is None:
        return RuleResult(False, "no ledger was written")
    bad = ledger.filter(pl.col("n_in") != pl.col("n_out") + pl.col("n_quarantined"))
    counts = {"rows": ledger.height, "unbalanced_rows": bad.height, "records_in": int(ledger["n_in"].sum())}
    if bad.height:
        # source_file is a keyed label of the delivered path (schemas.ledger), never the path itself
        files = ", ".join(sorted(set(bad["source_file"].head(5).to_list())))
        cols = ["source_file", "record_type", "n_in", "n_out", "n_quarantined"]
        examples = bad.select(cols).head(5).to_dicts()
        return RuleResult(False, f"{bad.height} ledger rows do not balance (e.g. {files})", counts, examples)
    return RuleResult(True, "records in = records out + quarantined for every file and type", counts)


def shard_sorted(paths: list[Path]) -> RuleResult:
    """Within each shard file, a subject's rows are contiguous and sorted by time (static rows first)."""
    problems = 0
    rows = 0
    examples: list[dict] = []
    for path in paths:
        df = pl.read_parquet(path, columns=["subject_id", "time"])
        rows += df.height
        # contiguous: each subject id starts exactly once
        starts = df.select((pl.col("subject_id") != pl.col("subject_id").shift(1)).fill_null(True).sum()).item()
        if starts != df["subject_id"].n_unique():
            problems += 1
            examples.append({"file": f"{path.parent.name}/{path.name}", "problem": "a subject's rows are split"})
            continue
        key = df.with_columns(pl.col("time").is_not_null().alias("timed"))
        ok = key.select(
            (
                (pl.col("subject_id") != pl.col("subject_id").shift(1))
                | (pl.col("timed").cast(pl.Int8) >= pl.col("timed").shift(1).cast(pl.Int8))
                & (
                    pl.col("time").fill_null(pl.datetime(1, 1, 1))
                    >= pl.col("time").shift(1).fill_null(pl.datetime(1, 1, 1))
                )
            )
            .fill_null(True)
            .all()
        ).item()
        if not ok:
            problems += 1
            examples.append({"file": f"{path.parent.name}/{path.name}", "problem": "times decrease"})
    counts = {"files": len(paths), "rows": rows, "unsorted_files": problems}
    if problems:
        return RuleResult(
            False, f"{problems} shard files are not sorted by subject and time", counts, examples[:5]
        )
    return RuleResult(True, "every shard file is grouped by subject and sorted by time", counts)


def subjects_in_one_file(paths: list[Path]) -> RuleResult:
    """No subject appears in more than one data file (across shards and splits)."""
    if not paths:
        return RuleResult(True, "no data files", {"files": 0})
    frames = [
        pl.scan_parquet(p).select("subject_id").unique().with_columns(pl.lit(str(p)).alias("f")) for p in paths
    ]
    per_subject = pl.concat(frames).group_by("subject_id").agg(pl.col("f").n_unique().alias("n")).collect()
    dup = int((per_subject["n"] > 1).sum())
    counts = {"subjects": per_subject.height, "subjects_in_several_files": dup}
    if dup:
        # subject ids here are keyed pseudonyms (meds/ is de-identified)
        examples = per_subject.filter(pl.col("n") > 1).sort("subject_id").head(5).to_dicts()
        return RuleResult(False, f"{dup} subjects appear in more than one shard file", counts, examples)
    return RuleResult(True, "each subject lives in exactly one shard file", counts)


def codes_cover_data(data_paths: list[Path], codes_path: Path) -> RuleResult:
    """Every code in the data has a row in codes.parquet."""
    if not codes_path.exists():
        return RuleResult(False, "codes.parquet is missing")
    codes = pl.read_parquet(codes_path, columns=["code"])
    used = pl.scan_parquet(data_paths).select("code").unique().collect() if data_paths else codes.head(0)
    absent = used.join(codes, on="code", how="anti").sort("code")
    missing = absent.height
    counts = {"codes_in_data": used.height, "codes_missing_metadata": missing}
    if missing:
        examples = absent.head(5).to_dicts()
        return RuleResult(False, f"{missing} codes in the data have no row in codes.parquet", counts, examples)
    return RuleResult(True, "every code in the data is in codes.parquet", counts)
