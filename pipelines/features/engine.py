"""The offline point-in-time engine: one shard's events and label rows in, long (label, feature, value) out.

Usable at prediction time T: an event at t with T - w <= t < T (t <= T when the spec is inclusive). Static rows
(null time) are always usable. Ties at one time are broken by row order in the shard: the later row is "last".

Finite windows: one polars asof join finds each label's row range of events in its largest window, the ranges
are exploded and aggregated with per-window masks. All history: per (subject, key) cumulative aggregates, then
one asof join per (label, key) pair, so the cost follows the output size rather than the history length.
"""

import numpy as np
import polars as pl

from pipelines.features.durations import US_PER_DAY
from pipelines.features.spec import ZERO_DEFAULT_AGGS, CompiledGroup, CompiledSpec
from pipelines.features.state import GroupState, build_state_frame, keyed_events
from schemas.meds import BIRTH_CODE

T = "prediction_time"
LONG_SCHEMA = {"label_index": pl.Int64, "feature_id": pl.Int32, "value": pl.Float64}
_US_PER_YEAR = 365.25 * US_PER_DAY


def empty_long() -> pl.DataFrame:
    return pl.DataFrame(schema=LONG_SCHEMA)


def compute_long(events: pl.DataFrame, labels: pl.DataFrame, cs: CompiledSpec) -> pl.DataFrame:
    """Features of `labels` (label_index, subject_id, prediction_time) from `events` (one MEDS shard file).

    Returns one row per non-default value: zero counts and nulls are left out (see CompiledSpec.zero_default).
    """
    events = events.select("subject_id", "time", "code", "numeric_value").with_row_index("order")
    labels = labels.select("label_index", "subject_id", pl.col(T).cast(pl.Datetime("us"))).sort("subject_id", T)
    timed = events.filter(pl.col("time").is_not_null()).with_columns(pl.col("time").cast(pl.Datetime("us")))
    inclusive = cs.spec.inclusive
    parts = []
    if cs.age_id is not None:
        parts.append(_age(timed, labels, cs.age_id, inclusive))
    if cs.static_codes:
        parts.append(_static(events, labels, cs, inclusive))
    for g in cs.groups:
        keyed = keyed_events(timed, g)
        if not keyed.is_empty():
            state = GroupState.from_frame(build_state_frame(keyed))
            parts.append(query_group(state, g, labels, inclusive))
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
    rows = (
        events.join(ids.filter(pl.col("feature_id") >= 0), on="code").select(
            "subject_id",
            pl.col("time").cast(pl.Datetime("us")),
            "feature_id",
            vocab=pl.col("code").str.split("//").list.first(),
        )  # fmt: skip
    )
    joined = labels.join(rows, on="subject_id").filter(pl.col("time").is_null() | _before("time", inclusive))
    latest = pl.col("time").max().over("label_index", "vocab")
    keep = pl.when(latest.is_null()).then(pl.col("time").is_null()).otherwise(pl.col("time") == latest)
    return (
        joined.filter(keep)
        .select("label_index", "feature_id", value=pl.lit(1.0))
        .unique(["label_index", "feature_id"], maintain_order=True)
    )


# Pairs (label row x key of its subject) per batch: 4M keeps a batch's arrays near 300 MB.
_PAIRS_PER_BATCH = 4_000_000


def query_group(state: GroupState, g: CompiledGroup, labels: pl.DataFrame, inclusive: bool) -> pl.DataFrame:
    """Long features of one group for the label rows, from its state table."""
    li, fid, value = query_arrays(state, g, labels["label_index"].to_numpy(), labels["subject_id"].to_numpy(),
                                  labels[T].cast(pl.Int64).to_numpy(), inclusive)  # fmt: skip
    return pl.DataFrame({"label_index": li, "feature_id": fid, "value": value})


def query_arrays(state: GroupState, g: CompiledGroup, label_index: np.ndarray, subject_id: np.ndarray,
                 when: np.ndarray, inclusive: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(label_index, feature_id, value) arrays for label rows given as arrays (when: microseconds)."""
    first, end = state.segments_of(subject_id)
    n_pairs = end - first
    total = int(n_pairs.sum())
    cuts = np.searchsorted(np.cumsum(n_pairs), np.arange(_PAIRS_PER_BATCH, total + 1, _PAIRS_PER_BATCH), "right")
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    start = 0
    for stop in [*cuts.tolist(), len(label_index)]:
        if stop > start:
            rows = np.arange(start, stop)
            lab = np.repeat(rows, n_pairs[rows])
            offset = np.repeat(np.cumsum(n_pairs[rows]) - n_pairs[rows], n_pairs[rows])
            seg = first[lab] + (np.arange(len(lab)) - offset)
            out.extend(_query_pairs(state, g, label_index[lab], seg, when[lab], inclusive))
        start = max(start, stop)
    if not out:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float64)
    return tuple(np.concatenate([o[i] for o in out]) for i in range(3))  # type: ignore[return-value]


def _query_pairs(state: GroupState, g: CompiledGroup, label_index: np.ndarray, seg: np.ndarray, when: np.ndarray,
                 inclusive: bool) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:  # fmt: skip
    hi = state.last_row_before(seg, when, inclusive)
    ok = hi >= 0  # the key occurred before T
    label_index, seg, when, hi = label_index[ok], seg[ok], when[ok], hi[ok]
    c, key = state.columns, state.gk_key[seg]
    out = []
    for w, window in enumerate(g.group.windows):
        if window is None:
            lo = np.full(len(hi), -1)
        else:
            lo = state.last_row_before(seg, when - window, inclusive=False)  # last row before the window

        def base(name: str, lo=lo) -> np.ndarray:
            return np.where(lo >= 0, c[name][lo], 0.0)

        count = c["count"][hi] - base("count")
        inside = count > 0
        vcount = c["value_count"][hi] - base("value_count")
        with np.errstate(invalid="ignore", divide="ignore"):
            values = _window_values(state, g, window, when, hi, lo, seg, count, vcount, inside, base)
        for a, agg in enumerate(g.group.aggs):
            fid = g.feature_ids[key, w, a]
            v = values[agg]
            keep = inside & (fid >= 0) & ~np.isnan(v)
            if agg in ZERO_DEFAULT_AGGS:
                keep &= v != 0
            out.append((label_index[keep], fid[keep], v[keep]))
    return out


def _window_values(state, g, window, when, hi, lo, seg, count, vcount, inside, base) -> dict[str, np.ndarray]:
    c, nan = state.columns, np.full(len(hi), np.nan)
    need = set(g.group.aggs)
    values: dict[str, np.ndarray] = {
        "count": count,
        "present": inside.astype(np.float64),
        "time_since_last": (when - c["time"][hi]) / US_PER_DAY,
    }
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
        values[agg] = nan.copy()
        sel = inside & (vcount > 0)
        start = np.where(lo >= 0, lo + 1, state.gk_start[seg])
        values[agg][sel] = state.range_extreme(name, start[sel], hi[sel])
    return values
