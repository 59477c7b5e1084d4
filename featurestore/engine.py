"""The offline point-in-time engine: one shard's events and label rows in, long (label, feature, value) out.

Usable at prediction time T: an event at t with T - w <= t < T (t <= T when the spec is inclusive). Static rows
(null time) are always usable. Ties at one time are broken by row order in the shard: the later row is "last".

Each group's events become a state table (state.py); every (label row, key of its subject) pair then reads its
features with vectorized as-of lookups, so the cost follows the output size, not the history length.
"""

import numpy as np
import polars as pl

from featurestore.durations import US_PER_DAY
from featurestore.spec import ZERO_DEFAULT_AGGS, CompiledGroup, CompiledSpec
from featurestore.state import GroupState, build_state_frame, keyed_events
from schemas.meds import BIRTH_CODE

T = "prediction_time"
LONG_SCHEMA = {"label_index": pl.Int64, "feature_id": pl.Int32, "value": pl.Float64}
_US_PER_YEAR = 365.25 * US_PER_DAY


def empty_long() -> pl.DataFrame:
    return pl.DataFrame(schema=LONG_SCHEMA)


def compute_long(
    events: pl.DataFrame, labels: pl.DataFrame, cs: CompiledSpec, cache: dict[int, GroupState | None] | None = None
) -> pl.DataFrame:
    """Features of `labels` (label_index, subject_id, prediction_time) from `events` (one MEDS shard file).

    Returns one row per non-default value: zero counts and nulls are left out (see CompiledSpec.zero_default).
    Pass the same `cache` dict for several label batches of the same events to build the state tables once.
    """
    cache = {} if cache is None else cache
    events = events.select("subject_id", "time", "code", "numeric_value").with_row_index("order")
    labels = labels.select("label_index", "subject_id", pl.col(T).cast(pl.Datetime("us"))).sort("subject_id", T)
    timed = events.filter(pl.col("time").is_not_null()).with_columns(pl.col("time").cast(pl.Datetime("us")))
    inclusive = cs.spec.inclusive
    parts = []
    if cs.age_id is not None:
        parts.append(_age(timed, labels, cs.age_id, inclusive))
    if cs.static_codes:
        parts.append(_static(events, labels, cs, inclusive))
    for i, g in enumerate(cs.groups):
        if i not in cache:
            keyed = keyed_events(timed, g)
            cache[i] = None if keyed.is_empty() else GroupState.from_frame(build_state_frame(keyed))
        if cache[i] is not None:
            parts.append(query_group(cache[i], g, labels, inclusive))
    parts = [p.cast(LONG_SCHEMA) for p in parts if not p.is_empty()]  # type: ignore[arg-type]
    return pl.concat(parts) if parts else empty_long()


def _before(time: str, inclusive: bool) -> pl.Expr:
    return pl.col(time) <= pl.col(T) if inclusive else pl.col(time) < pl.col(T)


def _age(timed: pl.DataFrame, labels: pl.DataFrame, age_id: int, inclusive: bool) -> pl.DataFrame:
    birth = timed.filter(pl.col("code") == BIRTH_CODE).group_by("subject_id").agg(birth=pl.col("time").min())
    return (
        labels.join(birth, on="subject_id")
        .filter(_before("birth", inclusive))
        .select(
            "label_index",
            feature_id=pl.lit(age_id, pl.Int32),
            value=(pl.col(T) - pl.col("birth")).dt.total_microseconds() / _US_PER_YEAR,
        )
    )


def _static(events: pl.DataFrame, labels: pl.DataFrame, cs: CompiledSpec, inclusive: bool) -> pl.DataFrame:
    """One-hot static codes; per vocabulary the latest timed row before T wins, else the undated rows."""
    ids = pl.DataFrame({"code": list(cs.static_codes), "feature_id": list(cs.static_ids)}, orient="col")
    rows = events.join(ids.filter(pl.col("feature_id") >= 0), on="code").select(
        "subject_id",
        pl.col("time").cast(pl.Datetime("us")),
        "feature_id",
        vocab=pl.col("code").str.split("//").list.first(),
    )
    joined = labels.join(rows, on="subject_id").filter(pl.col("time").is_null() | _before("time", inclusive))
    latest = pl.col("time").max().over("label_index", "vocab")
    keep = pl.when(latest.is_null()).then(pl.col("time").is_null()).otherwise(pl.col("time") == latest)
    return (
        joined.filter(keep)
        .select("label_index", "feature_id", value=pl.lit(1.0))
        .unique(["label_index", "feature_id"], maintain_order=True)
    )


# (pair, window, aggregation) cells per batch: 8M cells of float64 values, int32 ids and masks is ~110 MB.
_CELLS_PER_BATCH = 8_000_000


def query_group(state: GroupState, g: CompiledGroup, labels: pl.DataFrame, inclusive: bool) -> pl.DataFrame:
    """Long features of one group for the label rows, from its state table."""
    li, fid, value = query_arrays(
        state,
        g,
        labels["label_index"].to_numpy(),
        labels["subject_id"].to_numpy(),
        labels[T].cast(pl.Int64).to_numpy(),
        inclusive,
    )
    return pl.DataFrame({"label_index": li, "feature_id": fid, "value": value})


def query_arrays(
    state: GroupState,
    g: CompiledGroup,
    label_index: np.ndarray,
    subject_id: np.ndarray,
    when: np.ndarray,
    inclusive: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label_index, feature_id, value) arrays for label rows given as arrays (when: microseconds)."""
    first, end = state.segments_of(subject_id)
    n_pairs = end - first
    total = int(n_pairs.sum())
    per_batch = max(1 << 16, _CELLS_PER_BATCH // (len(g.group.windows) * len(g.group.aggs)))
    cuts = np.searchsorted(np.cumsum(n_pairs), np.arange(per_batch, total + 1, per_batch), "right")
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    start = 0
    for stop in [*cuts.tolist(), len(label_index)]:
        if stop > start:
            rows = np.arange(start, stop)
            lab = np.repeat(rows, n_pairs[rows])
            offset = np.repeat(np.cumsum(n_pairs[rows]) - n_pairs[rows], n_pairs[rows])
            seg = first[lab] + (np.arange(len(lab)) - offset)
            out.append(_query_pairs(state, g, label_index[lab], seg, when[lab], inclusive))
        start = max(start, stop)
    if not out:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float64)
    return tuple(np.concatenate([o[i] for o in out]) for i in range(3))  # type: ignore[return-value]


def _query_pairs(
    state: GroupState,
    g: CompiledGroup,
    label_index: np.ndarray,
    seg: np.ndarray,
    when: np.ndarray,
    inclusive: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features of (label row, segment) pairs, ordered by pair, then window, then aggregation."""
    hi = state.last_row_before(seg, when, inclusive)
    ok = np.flatnonzero(hi >= 0)  # the key occurred before T
    label_index, seg, when, hi = label_index[ok], seg[ok], when[ok], hi[ok]
    c = state.columns
    values = np.full((len(hi), len(g.group.windows), len(g.group.aggs)), np.nan)  # (pairs, windows, aggs)
    for w, window in enumerate(g.group.windows):
        if window is None:  # all history: every pair is inside, nothing before the window
            sub, lo = slice(None), np.full(len(hi), -1)
        else:
            lo = state.last_row_before(seg, when - window, inclusive=False)  # the last row before the window
            inside = c["count"][hi] > np.where(lo >= 0, c["count"][lo], 0.0)
            sub = np.flatnonzero(inside)
            lo = lo[sub]
        with np.errstate(invalid="ignore", divide="ignore"):
            found = _window_values(state, g, window, when[sub], hi[sub], lo, seg[sub])
        for a, agg in enumerate(g.group.aggs):
            values[sub, w, a] = found[agg]
    fid = g.feature_ids[state.gk_key[seg]]  # (pairs, windows, aggs)
    zero = np.array([agg in ZERO_DEFAULT_AGGS for agg in g.group.aggs])
    keep = (fid >= 0) & ~np.isnan(values) & ~(zero & (values == 0))
    pair = np.broadcast_to(np.arange(len(hi))[:, None, None], values.shape)
    return label_index[pair[keep]], fid[keep], values[keep]


def _window_values(
    state: GroupState,
    g: CompiledGroup,
    window: int | None,
    when: np.ndarray,
    hi: np.ndarray,
    lo: np.ndarray,
    seg: np.ndarray,
) -> dict[str, np.ndarray]:
    """Each aggregation for pairs with at least one event in the window (rows lo+1..hi of their segment)."""
    c, need = state.columns, set(g.group.aggs)

    def base(name: str) -> np.ndarray:  # the state just before the window
        return np.where(lo >= 0, c[name][lo], 0.0)

    count = c["count"][hi] - base("count")
    values: dict[str, np.ndarray] = {"count": count, "present": np.ones(len(hi))}
    if "time_since_last" in need:
        values["time_since_last"] = (when - c["time"][hi]) / US_PER_DAY
    if need & {"mean", "min", "max"}:
        vcount = c["value_count"][hi] - base("value_count")
        if "mean" in need:
            values["mean"] = np.where(vcount > 0, (c["value_sum"][hi] - base("value_sum")) / vcount, np.nan)
    if "last" in need:
        fresh = (c["value_last_time"][hi] >= when - window) if window is not None else True
        values["last"] = np.where(fresh, c["value_last"][hi], np.nan)
    for agg, name in (("min", "row_min"), ("max", "row_max")):
        if agg not in need:
            continue
        if window is None:
            values[agg] = c[f"cum_{agg}"][hi]
            continue
        values[agg] = np.full(len(hi), np.nan)
        sel = vcount > 0
        start = np.where(lo >= 0, lo + 1, state.gk_start[seg])
        values[agg][sel] = state.range_extreme(name, start[sel], hi[sel])
    return values
