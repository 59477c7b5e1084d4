"""MEDS rows -> trajectories (one token list per subject) and back, vectorized over a whole shard."""

import numpy as np
import polars as pl
import pyarrow as pa

from model.tokenizer.units import canonical_units
from model.tokenizer.vocab import (
    BIRTH_YEAR_UNK,
    BOS,
    DEATH,
    EOS,
    GAP_EDGES_MINUTES,
    MINUTES_PER_YEAR,
    TIMELINE_END,
    TIMELINE_START,
    UNK,
    VALUE_UNK,
    Tokenizer,
    bin_edges_matrix,
    unit_conversions,
)
from schemas.io import conform
from schemas.meds import BIRTH_CODE, DATA_SCHEMA, DEATH_CODE
from schemas.tokens import TRAJECTORY_SCHEMA

US_PER_YEAR = MINUTES_PER_YEAR * 60e6
_COLUMNS = ("subject_id", "time", "code", "numeric_value", "unit")
_MEDS_TYPES = pl.from_arrow(DATA_SCHEMA.empty_table()).schema
_SLOTS = (
    10  # per MEDS row: BOS, BIRTH_YEAR, TIMELINE_START, gap, code, value, BIRTH_YEAR, TIMELINE_START, END, EOS
)


def tokenize_events(tok: Tokenizer, events: pl.DataFrame | pa.Table) -> pa.Table:
    """Tokenize MEDS rows (any number of subjects) into TRAJECTORY_SCHEMA rows, one per subject.

    Rows are ordered by (subject_id, time) with static rows first, keeping file order within a time.
    """
    df = events if isinstance(events, pl.DataFrame) else pl.from_arrow(events)
    # MEDS types at the boundary: an all-null column read from a one-modality root may come in Null-typed.
    df = df.select(pl.col(c).cast(_MEDS_TYPES[c]) for c in _COLUMNS)
    df = df.sort(["subject_id", "time"], nulls_last=False, maintain_order=True)
    n = df.height
    if n == 0:
        return TRAJECTORY_SCHEMA.empty_table()

    subj = df["subject_id"].to_numpy()
    t = df["time"].cast(pl.Int64).to_numpy()  # us; null -> masked below
    timed = df["time"].is_not_null().to_numpy()
    starts = np.flatnonzero(np.r_[True, subj[1:] != subj[:-1]])
    n_subj = len(starts)
    row_subj = np.repeat(np.arange(n_subj), np.diff(np.r_[starts, n]))
    first_row = np.zeros(n, bool)
    first_row[starts] = True
    last_row = np.r_[first_row[1:], True]

    code_ids = _code_ids(tok, df["code"])
    value_ids = _value_ids(tok, df)
    origin, birth_year = _origins(df, n_subj)
    t_safe = np.where(timed, t, 0)
    age = np.where(timed, (t_safe - origin[row_subj]) / US_PER_YEAR, np.nan)

    # First and last timed row of each subject; subjects without one start and end at age 0.
    timed_idx = np.flatnonzero(timed)
    first_timed = np.full(n_subj, -1)
    last_timed = np.full(n_subj, -1)
    first_timed[row_subj[timed_idx][::-1]] = timed_idx[::-1]
    last_timed[row_subj[timed_idx]] = timed_idx
    has_timed = first_timed >= 0
    start_age = np.where(has_timed, age[np.maximum(first_timed, 0)], 0.0)
    end_age = np.where(has_timed, age[np.maximum(last_timed, 0)], 0.0)
    row_age = np.where(timed, age, start_age[row_subj])

    # A gap token before a row whose time is >= 5 minutes after the previous timed row of the same subject.
    prev_same = np.r_[False, (subj[1:] == subj[:-1]) & timed[1:] & timed[:-1]]
    gap_min = np.zeros(n)
    gap_min[1:] = (t_safe[1:] - t_safe[:-1]) / 60e6
    gap_bin = np.searchsorted(GAP_EDGES_MINUTES, gap_min, side="right") - 1
    gap_ids = np.where(prev_same & (gap_bin >= 0), tok.gap_ids[np.maximum(gap_bin, 0)], -1)

    by_ids = _birth_year_ids(tok, birth_year)
    ids = np.full((n, _SLOTS), -1, np.int32)
    times = np.empty((n, _SLOTS), np.float64)
    ids[first_row, 0] = tok.id(BOS)
    first_timed_row = np.zeros(n, bool)
    first_timed_row[first_timed[has_timed]] = True
    ids[first_timed_row, 1] = by_ids[row_subj[first_timed_row]]
    ids[first_timed_row, 2] = tok.id(TIMELINE_START)
    ids[:, 3] = gap_ids
    ids[:, 4] = code_ids
    ids[:, 5] = value_ids
    untimed_end = last_row & ~has_timed[row_subj]
    ids[untimed_end, 6] = by_ids[row_subj[untimed_end]]
    ids[untimed_end, 7] = tok.id(TIMELINE_START)
    ids[last_row, 8] = tok.id(TIMELINE_END)
    ids[last_row, 9] = tok.id(EOS)
    times[:, :3] = start_age[row_subj, None]
    times[:, 3:6] = row_age[:, None]
    times[:, 6:8] = start_age[row_subj, None]
    times[:, 8:] = end_age[row_subj, None]

    keep = ids.ravel() >= 0
    flat_ids = ids.ravel()[keep]
    flat_times = times.ravel()[keep].astype(np.float32)
    per_row = keep.reshape(n, _SLOTS).sum(axis=1)
    lengths = np.bincount(row_subj, weights=per_row, minlength=n_subj).astype(np.int64)
    offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32))
    origin_col = pa.array(np.where(has_timed, origin, 0).astype("datetime64[us]"), mask=~has_timed)
    table = pa.table(
        {
            "subject_id": pa.array(subj[starts], pa.int64()),
            "input_ids": pa.ListArray.from_arrays(offsets, pa.array(flat_ids, pa.int32())),
            "times": pa.ListArray.from_arrays(offsets, pa.array(flat_times, pa.float32())),
            "length": pa.array(lengths.astype(np.int32)),
            "origin": origin_col,
        }
    )
    return conform(table, TRAJECTORY_SCHEMA)


def _code_ids(tok: Tokenizer, codes: pl.Series) -> np.ndarray:
    """Own token, else the vocabulary's UNK, else UNK; MEDS_DEATH -> DEATH. Never null, never dropped."""
    voc = tok.vocabulary
    known = voc.filter(pl.col("kind") == "code")
    old = [*known["token"].to_list(), DEATH_CODE]
    new = [*known["token_id"].to_list(), tok.id(DEATH)]
    unks = voc.filter(pl.col("kind") == "unk")
    unk_vocab = unks["token"].str.strip_suffix("//UNK").to_list()
    frame = pl.DataFrame({"code": codes}).select(
        own=pl.col("code").replace_strict(old, new, default=None, return_dtype=pl.Int32),
        unk=pl.col("code")
        .str.split("//")
        .list.first()
        .replace_strict(unk_vocab, unks["token_id"].to_list(), default=None, return_dtype=pl.Int32),
    )
    return frame.select(pl.coalesce("own", "unk", pl.lit(tok.id(UNK), pl.Int32)))["own"].to_numpy()


def _value_ids(tok: Tokenizer, df: pl.DataFrame) -> np.ndarray:
    """VALUE//b after each numeric row, VALUE//UNK when its code has no bins or its unit does not convert."""
    out = np.full(df.height, -1, np.int32)
    has_value = df["numeric_value"].is_not_null().to_numpy()
    if not has_value.any():
        return out
    rows = df.filter(pl.Series(has_value)).select(
        pl.col("code").cast(pl.String), pl.col("numeric_value").cast(pl.Float64).alias("value")
    )
    rows = rows.with_columns(unit=canonical_units(df["unit"].filter(pl.Series(has_value))))
    vb = tok.value_bins.with_row_index("bin_row")
    conv = unit_conversions(vb, rows)
    joined = rows.join(conv, on=["code", "unit"], how="left", nulls_equal=True, maintain_order="left").join(
        vb.select("code", "bin_row", pl.col("edges").list.len().alias("n_edges")),
        on="code",
        how="left",
        maintain_order="left",
    )
    value = (joined["value"] * joined["scale"] + joined["shift"]).to_numpy()
    # Codes without bins from train (unseen, or seen only without values) join to null: fill before numpy,
    # or the column turns float and can no longer index.
    bin_row = joined["bin_row"].fill_null(0).to_numpy().astype(np.int64)
    n_edges = joined["n_edges"].fill_null(0).to_numpy().astype(np.int64)
    ok = joined["scale"].is_not_null().to_numpy() & joined["bin_row"].is_not_null().to_numpy() & np.isfinite(value)
    ids = np.full(len(value), tok.id(VALUE_UNK), np.int32)
    if ok.any() and vb.height:
        edges = bin_edges_matrix(vb, tok.config.n_value_bins)
        b = (value[ok, None] >= edges[bin_row[ok]]).sum(axis=1)  # 0-based bin
        b = np.minimum(b, n_edges[ok])
        ids[ok] = tok.value_ids[b]
    out[has_value] = ids
    return out


def _origins(df: pl.DataFrame, n_subj: int) -> tuple[np.ndarray, np.ndarray]:
    """Per subject in row order: origin in us (MEDS_BIRTH, else first timed event), birth year (-1: none)."""
    per = df.group_by("subject_id", maintain_order=True).agg(
        birth=pl.col("time").filter(pl.col("code") == BIRTH_CODE).min(),
        first=pl.col("time").min(),
    )
    assert per.height == n_subj
    origin = per.select(pl.coalesce("birth", "first").cast(pl.Int64).fill_null(0))["birth"].to_numpy()
    year = per["birth"].dt.year().fill_null(-1).to_numpy()
    return origin, year


def _birth_year_ids(tok: Tokenizer, year: np.ndarray) -> np.ndarray:
    cfg = tok.config
    buckets = cfg.birth_year_buckets()
    ids = np.array([tok.id(f"BIRTH_YEAR//{y}") for y in buckets], np.int32)
    idx = np.clip((year - cfg.birth_year_min) // cfg.birth_year_width, 0, len(buckets) - 1)
    return np.where(year >= 0, ids[idx], tok.id(BIRTH_YEAR_UNK)).astype(np.int32)


def detokenize(tok: Tokenizer, trajectories: pa.Table | pl.DataFrame) -> pl.DataFrame:
    """Trajectories back to MEDS-like rows: subject_id, time, code, value_bin, value_low, value_high, unit.

    One row per code token, in token order. Codes come back as their tokens (a rare code as `LOINC//UNK`,
    DEATH as MEDS_DEATH); static rows (before TIMELINE_START) get a null time; times are exact to float32
    years; value_bin is the 1-based quantile bin (null without a value or for VALUE//UNK, see value_unk),
    with the bin's bounds [value_low, value_high) in the code's canonical unit.
    """
    tr = trajectories if isinstance(trajectories, pl.DataFrame) else pl.from_arrow(trajectories)
    flat = tr.select("subject_id", "origin", "input_ids", "times").explode(["input_ids", "times"])
    ids = flat["input_ids"].to_numpy()
    subj = flat["subject_id"].to_numpy()
    kinds = tok.vocabulary["kind"].to_numpy().astype(str)
    names = tok.vocabulary["token"]
    kind = kinds[ids]
    same_next = np.r_[subj[1:] == subj[:-1], False]
    next_ids = np.r_[ids[1:], 0]
    has_value = same_next & (kinds[next_ids] == "value")
    # Static section: tokens before the subject's TIMELINE_START.
    is_ts = (ids == tok.id(TIMELINE_START)).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, subj[1:] != subj[:-1]])
    seen = np.cumsum(is_ts)
    seen_ts = seen - np.repeat(seen[starts] - is_ts[starts], np.diff(np.r_[starts, len(ids)]))
    is_event = np.isin(kind, ["code", "unk"]) | (ids == tok.id(DEATH)) | (ids == tok.id(UNK))
    ev_ids = ids[is_event]
    value_tok = np.where(has_value, next_ids, -1)[is_event]
    out = pl.DataFrame(
        {
            "subject_id": subj[is_event],
            "_origin": flat["origin"].cast(pl.Int64).to_numpy()[is_event],
            "_age": flat["times"].to_numpy()[is_event].astype(np.float64),
            "_static": seen_ts[is_event] == 0,
            "_code": names.gather(ev_ids),
            "_death": ev_ids == tok.id(DEATH),
            "_vname": names.gather(np.maximum(value_tok, 0)),
            "_has_value": value_tok >= 0,
        }
    ).with_columns(
        code=pl.when("_death").then(pl.lit(DEATH_CODE)).otherwise("_code"),
        _value=pl.when("_has_value").then("_vname"),
    )
    vb = tok.value_bins.select("code", "unit", "edges")
    bin_ = pl.col("_value").str.strip_prefix("VALUE//")
    out = out.with_columns(
        time=pl.when(~pl.col("_static"))
        .then((pl.col("_origin") + (pl.col("_age") * US_PER_YEAR).round()).cast(pl.Datetime("us")))
        .otherwise(None),
        value_bin=pl.when(bin_ != "UNK").then(bin_).cast(pl.Int16, strict=False),
        value_unk=pl.col("_value") == VALUE_UNK,
    ).join(vb, on="code", how="left", maintain_order="left")
    edges = pl.col("edges")
    return out.select(
        "subject_id",
        "time",
        "code",
        "value_bin",
        pl.col("value_unk").fill_null(False),
        value_low=pl.when(pl.col("value_bin") >= 2)
        .then(edges.list.get(pl.col("value_bin") - 2, null_on_oob=True))
        .when(pl.col("value_bin") == 1)
        .then(float("-inf")),
        value_high=pl.when(pl.col("value_bin").is_not_null()).then(
            edges.list.get(pl.col("value_bin") - 1, null_on_oob=True).fill_null(float("inf"))
        ),
        unit=pl.when(pl.col("value_bin").is_not_null()).then(pl.col("unit")),
    )
