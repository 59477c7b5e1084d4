"""The slow, obvious point-in-time reference: plain Python loops over every label and event. This file is the spec.

An event at t is usable at prediction time T iff t < T (t <= T when the spec is inclusive); it is in window w
iff also T - w <= t. Among events at one time, the later row of the shard is the "last" one.
"""

from datetime import datetime

import polars as pl

from featurestore.durations import US_PER_DAY
from featurestore.spec import AGE_FEATURE, ZERO_DEFAULT_AGGS, CompiledSpec
from schemas.meds import BIRTH_CODE


def _us(delta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def reference_features(
    events: pl.DataFrame, labels: pl.DataFrame, cs: CompiledSpec
) -> dict[tuple[int, str], float]:
    """{(label_index, feature name): value} for every non-default value (zero counts and nulls left out)."""
    by_subject: dict[int, list[tuple[int, datetime | None, str, float | None]]] = {}
    for order, row in enumerate(events.select("subject_id", "time", "code", "numeric_value").iter_rows()):
        sid, t, code, value = row
        by_subject.setdefault(sid, []).append((order, t, code, None if value is None else float(value)))
    out: dict[tuple[int, str], float] = {}
    for label_index, sid, when in labels.select("label_index", "subject_id", "prediction_time").iter_rows():
        for name, value in _one(by_subject.get(sid, []), when, cs).items():
            out[(label_index, name)] = value
    return out


def _usable(t: datetime, when: datetime, inclusive: bool) -> bool:
    return t <= when if inclusive else t < when


def _one(rows, when: datetime, cs: CompiledSpec) -> dict[str, float]:
    inc = cs.spec.inclusive
    out: dict[str, float] = {}
    births = [t for _, t, code, _ in rows if code == BIRTH_CODE and t is not None]
    if cs.age_id is not None and births and _usable(min(births), when, inc):
        out[AGE_FEATURE] = _us(when - min(births)) / (365.25 * US_PER_DAY)
    by_vocab: dict[str, list[tuple[datetime | None, str]]] = {}
    for _, t, code, _ in rows:
        if code in cs.static_codes and (t is None or _usable(t, when, inc)):
            by_vocab.setdefault(code.split("//")[0], []).append((t, code))
    for found in by_vocab.values():
        timed = [t for t, _ in found if t is not None]
        latest = max(timed) if timed else None
        for t, code in found:
            if t == latest:
                out[f"static/{code}"] = 1.0
    for g in cs.groups:
        keys = {k: i for i, k in enumerate(g.keys)}
        for w, window in enumerate(g.group.windows):
            hits: dict[int, list[tuple[datetime, int, float | None]]] = {}
            for order, t, code, value in rows:
                if t is None or not _usable(t, when, inc) or (window is not None and _us(when - t) > window):
                    continue
                key = (0 if g.group.codes.matches(code) else None) if g.group.pool else keys.get(code)
                if key is not None:
                    hits.setdefault(key, []).append((t, order, value))
            for key, found in hits.items():
                for a, agg in enumerate(g.group.aggs):
                    fid = int(g.feature_ids[key, w, a])
                    value = _aggregate(agg, sorted(found), when)
                    if fid < 0 or value is None or (agg in ZERO_DEFAULT_AGGS and value == 0):
                        continue
                    out[cs.feature_names[fid]] = value
    return out


def _aggregate(agg: str, found: list[tuple[datetime, int, float | None]], when: datetime) -> float | None:
    values = [v for _, _, v in found if v is not None]
    if agg == "count":
        return float(len(found))
    if agg == "present":
        return 1.0 if found else 0.0
    if agg == "time_since_last":
        return _us(when - found[-1][0]) / US_PER_DAY
    if not values:
        return None
    return {"last": values[-1], "mean": sum(values) / len(values), "min": min(values), "max": max(values)}[agg]
