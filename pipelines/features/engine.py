"""The offline point-in-time engine: one shard's events and label rows in, long (label, feature, value) out.

Usable at prediction time T: an event at t with T - w <= t < T (t <= T when the spec is inclusive). Static rows
(null time) are always usable. Ties at one time are broken by row order in the shard: the later row is "last".

Finite windows: one polars asof join finds each label's row range of events in its largest window, the ranges
are exploded and aggregated with per-window masks. All history: per (subject, key) cumulative aggregates, then
one asof join per (label, key) pair, so the cost follows the output size rather than the history length.
"""

import polars as pl

from pipelines.features.durations import US_PER_DAY
from pipelines.features.spec import ZERO_DEFAULT_AGGS, CompiledGroup, CompiledSpec
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
        keyed = (
            timed.with_columns(key=g.key_expr())
            .filter(pl.col("key").is_not_null())
            .select("subject_id", "time", "order", "key", value=pl.col("numeric_value").cast(pl.Float64))
        )
        if keyed.is_empty():
            continue
        if any(w is not None for w in g.group.windows):
            parts.append(_windowed(keyed, labels, g, inclusive))
        if None in g.group.windows:
            parts.append(_all_history(keyed, labels, g, inclusive))
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
        events.join(ids.filter(pl.col("feature_id") >= 0), on="code")
        .select("subject_id", pl.col("time").cast(pl.Datetime("us")), "feature_id",
                vocab=pl.col("code").str.split("//").list.first())  # fmt: skip
    )
    joined = labels.join(rows, on="subject_id").filter(pl.col("time").is_null() | _before("time", inclusive))
    latest = pl.col("time").max().over("label_index", "vocab")
    keep = pl.when(latest.is_null()).then(pl.col("time").is_null()).otherwise(pl.col("time") == latest)
    return (
        joined.filter(keep)
        .select("label_index", "feature_id", value=pl.lit(1.0))
        .unique(["label_index", "feature_id"], maintain_order=True)
    )


def _aggregations(g: CompiledGroup, mask: pl.Expr, w: int) -> list[pl.Expr]:
    """The group's aggregations over rows where `mask` holds, named v_<window>_<agg>."""
    vmask = mask & pl.col("value").is_not_null()
    since = (pl.col(T).first() - pl.col("time").filter(mask).max()).dt.total_microseconds() / US_PER_DAY
    exprs = {
        "count": mask.sum().cast(pl.Float64),
        "present": mask.any().cast(pl.Float64),
        "last": pl.col("value").filter(vmask).last(),
        "mean": pl.col("value").filter(vmask).mean(),
        "min": pl.col("value").filter(vmask).min(),
        "max": pl.col("value").filter(vmask).max(),
        "time_since_last": since,
    }
    return [exprs[agg].alias(f"v_{w}_{a}") for a, agg in enumerate(g.group.aggs)]


def _windowed(keyed: pl.DataFrame, labels: pl.DataFrame, g: CompiledGroup, inclusive: bool) -> pl.DataFrame:
    windows = [(w, us) for w, us in enumerate(g.group.windows) if us is not None]
    widest = max(us for _, us in windows)
    ev = keyed.sort("subject_id", "time", "order").with_row_index("idx").with_columns(pl.col("idx").cast(pl.Int64))
    first = ev.group_by("subject_id").agg(first=pl.col("idx").min())
    probe = ev.select("subject_id", "time", "idx")
    ranges = (
        labels.join_asof(probe.rename({"idx": "hi"}), left_on=T, right_on="time", by="subject_id",
                         allow_exact_matches=inclusive, check_sortedness=False)  # fmt: skip
        .drop("time")
        .with_columns(lo_time=pl.col(T) - pl.duration(microseconds=widest))
        .join_asof(probe.rename({"idx": "lo"}), left_on="lo_time", right_on="time", by="subject_id",
                   allow_exact_matches=False, check_sortedness=False)  # fmt: skip
        .join(first, on="subject_id", how="left")
        .with_columns(start=pl.coalesce(pl.col("lo") + 1, pl.col("first")))
        .filter(pl.col("hi").is_not_null() & (pl.col("start") <= pl.col("hi")))
    )
    if ranges.is_empty():
        return pl.DataFrame()
    rows = ranges.select("label_index", T, idx=pl.int_ranges("start", pl.col("hi") + 1)).explode("idx")
    rows = pl.concat([rows, ev.select("key", "time", "value").select(pl.all().gather(rows["idx"]))], how="horizontal")
    exprs = [
        e for w, us in windows for e in _aggregations(g, pl.col("time") >= pl.col(T) - pl.duration(microseconds=us), w)
    ]
    agg = rows.group_by("label_index", "key").agg(exprs)
    return _to_long(agg, g, [w for w, _ in windows])


def _all_history(keyed: pl.DataFrame, labels: pl.DataFrame, g: CompiledGroup, inclusive: bool) -> pl.DataFrame:
    w = g.group.windows.index(None)
    by = ["subject_id", "key"]
    cum = (
        keyed.sort("subject_id", "key", "time", "order")
        .with_columns(
            count=pl.int_range(1, pl.len() + 1).over(by).cast(pl.Float64),
            vcount=pl.col("value").is_not_null().cum_sum().over(by),
            vsum=pl.col("value").fill_null(0.0).cum_sum().over(by),
            vmin=pl.col("value").fill_null(float("inf")).cum_min().over(by),
            vmax=pl.col("value").fill_null(float("-inf")).cum_max().over(by),
            vlast=pl.col("value").forward_fill().over(by),
        )
        .group_by(*by, "time", maintain_order=True)  # one row per time: the state after its last row
        .last()
        .drop("order", "value")
    )
    first = cum.group_by(by).agg(first=pl.col("time").min())
    pairs = labels.join(first, on="subject_id").filter(_before("first", inclusive)).sort(*by, T)
    if pairs.is_empty():
        return pl.DataFrame()
    hit = pairs.join_asof(cum, left_on=T, right_on="time", by=by, allow_exact_matches=inclusive,
                          check_sortedness=False)  # fmt: skip
    has_value = pl.col("vcount") > 0
    exprs = {
        "count": pl.col("count"),
        "present": pl.lit(1.0),
        "last": pl.col("vlast"),
        "mean": pl.when(has_value).then(pl.col("vsum") / pl.col("vcount")),
        "min": pl.when(has_value).then(pl.col("vmin")),
        "max": pl.when(has_value).then(pl.col("vmax")),
        "time_since_last": (pl.col(T) - pl.col("time")).dt.total_microseconds() / US_PER_DAY,
    }
    agg = hit.select("label_index", "key", *[exprs[a].alias(f"v_{w}_{i}") for i, a in enumerate(g.group.aggs)])
    return _to_long(agg, g, [w])


def _to_long(agg: pl.DataFrame, g: CompiledGroup, windows: list[int]) -> pl.DataFrame:
    """Wide per-(label, key) aggregates -> (label_index, feature_id, value), defaults dropped."""
    n_keys = g.feature_ids.shape[0]
    ids = pl.DataFrame(
        {"key": pl.int_range(n_keys, eager=True).cast(pl.Int32)}
        | {f"f_{w}_{a}": g.feature_ids[:, w, a] for w in windows for a in range(len(g.group.aggs))}
    )
    agg = agg.with_columns(pl.col("key").cast(pl.Int32)).join(ids, on="key")
    parts = []
    for w in windows:
        for a, name in enumerate(g.group.aggs):
            keep = (pl.col("feature_id") >= 0) & pl.col("value").is_not_null() & pl.col("value").is_not_nan()
            if name in ZERO_DEFAULT_AGGS:
                keep = keep & (pl.col("value") != 0)
            parts.append(
                agg.select("label_index", feature_id=pl.col(f"f_{w}_{a}"), value=pl.col(f"v_{w}_{a}")).filter(keep)
            )
    return pl.concat(parts)
