"""The polars engine: evaluates a Suite over the views it names, with counts and PHI-free examples."""

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from quality import plausibility as p
from quality.expectations import Expectation, Suite
from schemas.meds import BIRTH_CODE, DEATH_CODE

MAX_EXAMPLES = 5
FILE, ROW = "__file", "__row"  # where a row of a PHI-zone table is, for its examples (read_table(locate=...))
# Columns an example row may show, for views of de-identified tables only (see Outcome.examples).
_EXAMPLE_COLUMNS = ("subject_id", "time", "code", "numeric_value", "unit", "split", "asset", "record_type")


@dataclass(slots=True)
class Outcome:
    """The result of one expectation on one view (one partition of it, when partitioned)."""

    suite: str
    expectation: str
    kind: str
    severity: str
    doc: str
    table: str
    success: bool
    element_count: int
    unexpected_count: int
    partition: str | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    breakdown: dict[str, int] = field(default_factory=dict)  # unexpected rows per value of args["breakdown"]
    accepted: dict[str, str] | None = None  # the review entry that accepts this outcome, if any

    @property
    def shouting(self) -> bool:
        """Fails and nobody accepted it."""
        return not self.success and self.accepted is None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class View:
    """Rows to validate, plus the Arrow schemas of the files they came from (for column and type rules)."""

    frame: pl.DataFrame
    file_schemas: list[Any] = field(default_factory=list)  # list[pa.Schema]


def read_table(paths: Sequence[Path], columns: Sequence[str] | None = None, *, locate: Path | None = None) -> View:
    """Concatenate files (only `columns` where given and present), tolerating files that lack a column. With
    `locate` (the root), each row also carries its file (relative to the root) and 0-based row: what an
    example of a PHI-zone table shows instead of values."""
    schemas = [pq.read_schema(path) for path in paths]
    frames = []
    for path, schema in zip(paths, schemas, strict=True):
        wanted = [c for c in columns if c in schema.names] if columns is not None else None
        if wanted == []:
            frame = pl.DataFrame({"__rows": pl.Series([None] * pq.read_metadata(path).num_rows)})
        else:
            frame = pl.read_parquet(path, columns=wanted, hive_partitioning=False)
        if locate is not None:
            rel = Path(path).relative_to(locate).as_posix()
            frame = frame.with_row_index(ROW).with_columns(pl.lit(rel).alias(FILE))
        frames.append(frame)
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        frame = frame.with_columns(pl.lit(None).alias(c) for c in missing).drop("__rows", strict=False)
    return View(frame, schemas)


def columns_needed(suite: Suite) -> list[str]:
    """Data columns a table-view suite reads (column and type rules use file schemas only)."""
    cols: list[str] = []
    for e in suite.expectations:
        if e.kind in ("columns_match", "type_is"):
            continue
        cols += [e.column] if e.column else []
        cols += e.args.get("column_list", []) if e.kind == "unique" else []
        cols += list(e.condition)
    return list(dict.fromkeys(cols))


# Views with derived columns -------------------------------------------------------------------------------


def _ranges() -> pl.DataFrame:
    return pl.DataFrame(
        [(r.code, r.unit, r.low, r.high) for r in p.RANGES],
        schema={"code": pl.String, "expected_unit": pl.String, "low": pl.Float64, "high": pl.Float64},
        orient="row",
    )


def meds_timeline(data: pl.DataFrame) -> pl.DataFrame:
    """MEDS rows with each subject's birth/death bounds, the previous row's time, the code's vocabulary and,
    for codes with a physiological range, the range (when the row is in the range's unit) and unit."""
    birth = pl.col("time").filter(pl.col("code") == BIRTH_CODE).min().over("subject_id")
    death = pl.col("time").filter(pl.col("code") == DEATH_CODE).min().over("subject_id")
    in_unit = pl.col("unit") == pl.col("expected_unit")
    data = data.join(_ranges(), on="code", how="left", maintain_order="left")
    return (
        data.with_columns(
            range_low=pl.when(in_unit).then(pl.col("low")),
            range_high=pl.when(in_unit).then(pl.col("high")),
        )
        .drop("low", "high")
        .with_columns(
            vocabulary=pl.when(pl.col("code").str.contains("//", literal=True))
            .then(pl.col("code").str.split("//").list.first())
            .otherwise(None),
            birth_floor=birth - p.BEFORE_BIRTH_TOLERANCE,
            death_ceiling=death + p.AFTER_DEATH_TOLERANCE,
            prev_time=pl.col("time").shift(1).over("subject_id"),
        )
    )


def subject_locations(data_paths: Sequence[Path], splits_path: Path | None) -> pl.DataFrame:
    """One row per (subject, data file): the split and shard of the file, and the subject's assigned split."""
    parts = [
        pl.read_parquet(path, columns=["subject_id"])
        .unique()
        .with_columns(split=pl.lit(path.parent.name), shard=pl.lit(path.stem))
        for path in data_paths
    ]
    frame = pl.concat(parts) if parts else pl.DataFrame(schema={"subject_id": pl.Int64, "split": pl.String})
    if splits_path is not None and splits_path.exists():
        assigned = pl.read_parquet(splits_path, columns=["subject_id", "split"]).rename(
            {"split": "assigned_split"}
        )
    else:
        assigned = pl.DataFrame(schema={"subject_id": pl.Int64, "assigned_split": pl.String})
    return frame.join(assigned.unique("subject_id"), on="subject_id", how="left").sort("subject_id", "split")


def ledger_balance(ledger: pl.DataFrame) -> pl.DataFrame:
    counts = ["n_in", "n_out", "n_quarantined", "n_events"]
    return ledger.with_columns(
        n_accounted=pl.col("n_out") + pl.col("n_quarantined"), n_min=pl.min_horizontal(counts)
    )


def codes_coverage(data_paths: Sequence[Path], codes_path: Path) -> pl.DataFrame:
    used = pl.scan_parquet(list(data_paths)).select("code").unique().collect() if data_paths else None
    if used is None:
        return pl.DataFrame(schema={"code": pl.String, "in_metadata": pl.Boolean})
    known = pl.read_parquet(codes_path, columns=["code"]) if codes_path.exists() else pl.DataFrame({"code": []})
    return used.with_columns(in_metadata=pl.col("code").is_in(known["code"].cast(pl.String).implode()))


# Evaluation ------------------------------------------------------------------------------------------------


def _mask(frame: pl.DataFrame, e: Expectation) -> pl.Expr:
    """Rows that break the rule (within its condition)."""
    col = pl.col(e.column) if e.column else None
    a = e.args
    if e.kind == "not_null":
        bad = col.is_null()
    elif e.kind == "unique":
        bad = pl.struct(a["column_list"]).is_duplicated()
    elif e.kind == "in_set":
        bad = col.is_not_null() & ~col.is_in(pl.Series(a["value_set"]).implode())
    elif e.kind == "regex":
        bad = col.is_not_null() & ~col.cast(pl.String).str.contains(a["regex"])
    elif e.kind == "between":
        bad = pl.lit(False)
        if a.get("min_value") is not None:
            bad = bad | (col < pl.lit(a["min_value"]))
        if a.get("max_value") is not None:
            bad = bad | (col > pl.lit(a["max_value"]))
        bad = col.is_not_null() & bad
    elif e.kind in ("pair_ge", "pair_equal"):
        ca, cb = pl.col(a["column_A"]), pl.col(a["column_B"])
        both = ca.is_not_null() & cb.is_not_null()
        bad = both & ((ca < cb) if e.kind == "pair_ge" else (ca != cb))
    else:
        raise ValueError(f"unknown expectation kind {e.kind!r}")
    return bad


def _condition(e: Expectation) -> pl.Expr:
    cond = pl.lit(True)
    for c, v in e.condition.items():
        cond = cond & (pl.col(c) == v).fill_null(False)
    return cond


def _schema_rule(e: Expectation, view: View) -> tuple[int, int]:
    """(files checked, files that break a column/type rule)."""
    schemas = view.file_schemas
    if e.kind == "columns_match":
        names = [s.names for s in schemas] or [view.frame.columns]
        want = e.args["column_list"]
        if e.args.get("extra_ok"):  # the schema's columns first, in order; anything may follow
            names = [n[: len(want)] for n in names]
        return len(names), sum(n != want for n in names)
    bad = 0
    for s in schemas:
        idx = s.get_field_index(e.column)
        bad += idx < 0 or _type_name(s.field(idx).type) != _type_name(e.args["arrow_type"])
    return len(schemas), bad


def _type_name(t: object) -> str:
    """Arrow type as text, ignoring list item field names (Parquet stores `element`, pyarrow says `item`)."""
    return re.sub(r"<(item|element): ", "<", str(t))


def evaluate(suite: Suite, view: View, partition: str | None = None) -> list[Outcome]:
    """Every expectation of the suite on the view."""
    out = []
    frame = view.frame
    for e in suite.expectations:
        examples: list[dict[str, Any]] = []
        if e.kind in ("columns_match", "type_is"):
            n, bad = _schema_rule(e, view)
        else:
            cond = _condition(e)
            within = frame.filter(cond) if e.condition else frame
            n, bad = within.height, within.filter(_mask(within, e)).height
            if bad and not suite.phi:
                examples = _examples(frame, e, cond)
            elif bad and FILE in frame.columns:
                examples = _locations(frame, e, cond)
        breakdown = _breakdown(frame, e, _condition(e)) if bad and e.args.get("breakdown") else {}
        out.append(Outcome(suite.name, e.name, e.kind, e.severity, e.doc, suite.table, bad == 0, n, bad, partition,
                           examples, breakdown))  # fmt: skip
    return out


def _examples(frame: pl.DataFrame, e: Expectation, cond: pl.Expr) -> list[dict[str, Any]]:
    cols = [c for c in _EXAMPLE_COLUMNS if c in frame.columns]
    cols += [c for c in (e.column, e.args.get("column_A"), e.args.get("column_B")) if c and c not in cols]
    rows = frame.filter(cond & _mask(frame, e)).select(cols).head(MAX_EXAMPLES)
    return [{k: (None if v is None else str(v)) for k, v in r.items()} for r in rows.to_dicts()]


def _locations(frame: pl.DataFrame, e: Expectation, cond: pl.Expr) -> list[dict[str, Any]]:
    """Examples from a PHI-zone table: file, row and the rule's column, never a value."""
    rows = frame.filter(cond & _mask(frame, e)).select(FILE, ROW).head(MAX_EXAMPLES)
    column = e.column or "+".join(e.args.get("column_list", []))
    return [{"file": f, "row": str(r), "column": column} for f, r in rows.iter_rows()]


def _breakdown(frame: pl.DataFrame, e: Expectation, cond: pl.Expr) -> dict[str, int]:
    by = e.args["breakdown"]
    counts = frame.filter(cond & _mask(frame, e)).group_by(by).len().sort("len", by, descending=[True, False])
    return {str(k): int(n) for k, n in counts.head(20).iter_rows()}
