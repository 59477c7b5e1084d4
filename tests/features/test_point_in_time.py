"""No leakage: adversarial events one second before, at and after the prediction time; hypothesis against the
plain-Python reference for both offline retrieval and the online store."""

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featurestore.engine import compute_long
from featurestore.online import OnlineStore, state_table
from featurestore.reference import reference_features
from featurestore.spec import compile_spec, parse_spec, vocabulary
from tests.features.helpers import at

T0 = at(2020, 6, 1, 12)
SECOND = timedelta(seconds=1)
SCHEMA = {"subject_id": pl.Int64, "time": pl.Datetime("us"), "code": pl.String, "numeric_value": pl.Float32}
ALL_AGGS = ["count", "present", "last", "mean", "min", "max", "time_since_last"]


def _spec(inclusive: bool = False, windows=("1d", "30d", "all")) -> dict:
    return {
        "name": "t",
        "inclusive": inclusive,
        "static": {"age": True, "codes": {"prefix": ["GENDER//"]}},
        "groups": [
            {"name": "codes", "codes": "all", "aggs": ALL_AGGS, "windows": list(windows)},
            {
                "name": "labs",
                "codes": {"prefix": ["LAB//"]},
                "pool": True,
                "aggs": ALL_AGGS,
                "windows": ["30d", "all"],
            },
        ],
    }


def _events(rows: list[tuple]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    return frame.sort("subject_id", "time", nulls_last=False, maintain_order=True)


def _compile(events: pl.DataFrame, raw: dict):
    vocab = (
        events.group_by("code")
        .agg(
            n=pl.len(),
            n_numeric=pl.col("numeric_value").is_not_null().sum(),
            timed=pl.col("time").is_not_null().any(),
        )
        .sort("code")
    )
    return compile_spec(parse_spec(raw), vocab)


def _offline(events, labels, cs) -> dict:
    long = compute_long(events, labels, cs)
    return {(i, cs.feature_names[f]): v for i, f, v in long.iter_rows()}


def _online(events, labels, cs) -> dict:
    store = OnlineStore.from_table(state_table(events, cs), cs)
    out = {}
    for i, sid, when in labels.iter_rows():
        for name, v in store.lookup(sid, when).items():
            out[(i, name)] = v
    return out


def _labels(rows: list[tuple[int, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "label_index": list(range(len(rows))),
            "subject_id": [r[0] for r in rows],
            "prediction_time": [r[1] for r in rows],
        },
        schema={"label_index": pl.Int64, "subject_id": pl.Int64, "prediction_time": pl.Datetime("us")},
    )


def _assert_same(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-9, abs=1e-9), k


ADVERSARIAL = _events(
    [
        (1, None, "GENDER//female", None),
        (1, T0 - timedelta(days=20000), "MEDS_BIRTH", None),
        (1, T0 - timedelta(days=40), "LAB//a", 1.0),
        (1, T0 - SECOND, "LAB//a", 2.0),
        (1, T0, "LAB//a", 100.0),  # at T: excluded by default
        (1, T0, "GENDER//male", None),  # a dated sex change at T: not known before T
        (1, T0 + SECOND, "LAB//a", 1000.0),  # after T: never usable
        (1, T0 + SECOND, "DX//1", None),
    ]
)


@pytest.mark.parametrize("engine", [_offline, _online])
def test_events_at_and_after_prediction_time_are_invisible_by_default(engine):
    cs = _compile(ADVERSARIAL, _spec())
    got = engine(ADVERSARIAL, _labels([(1, T0)]), cs)
    assert got[(0, "LAB//a/1d/count")] == 1
    assert got[(0, "LAB//a/1d/last")] == 2.0
    assert got[(0, "LAB//a/1d/time_since_last")] == pytest.approx(1 / 86400)
    assert got[(0, "LAB//a/all/count")] == 2
    assert got[(0, "LAB//a/all/max")] == 2.0
    assert got[(0, "LAB//a/all/mean")] == 1.5
    assert got[(0, "static/GENDER//female")] == 1.0
    assert (0, "static/GENDER//male") not in got
    assert not any(name.startswith("DX//1") for _, name in got)
    _assert_same(got, reference_features(ADVERSARIAL, _labels([(1, T0)]), cs))


@pytest.mark.parametrize("engine", [_offline, _online])
def test_inclusive_spec_opts_in_to_events_at_prediction_time_only(engine):
    cs = _compile(ADVERSARIAL, _spec(inclusive=True))
    got = engine(ADVERSARIAL, _labels([(1, T0)]), cs)
    assert got[(0, "LAB//a/1d/count")] == 2
    assert got[(0, "LAB//a/1d/last")] == 100.0  # the later row at the latest time wins
    assert got[(0, "LAB//a/all/max")] == 100.0
    assert got[(0, "static/GENDER//male")] == 1.0  # the latest dated sex wins over the undated one
    assert (0, "static/GENDER//female") not in got
    assert got[(0, "LAB//a/1d/time_since_last")] == 0.0
    assert not any(name.startswith("DX//1") for _, name in got)  # one second after T stays invisible


def test_window_lower_bound_is_inclusive_and_ttl_expires_last_value():
    # T - ttl <= t < T: an event exactly 30 days before T is in the 30d window; one second earlier is not.
    events = _events(
        [(1, T0 - timedelta(days=30), "LAB//a", 5.0), (1, T0 - timedelta(days=30) - SECOND, "LAB//b", 7.0)]
    )
    cs = _compile(events, _spec())
    got = _offline(events, _labels([(1, T0)]), cs)
    assert got[(0, "LAB//a/30d/last")] == 5.0
    assert (0, "LAB//b/30d/last") not in got  # expired: null
    assert got[(0, "LAB//b/all/last")] == 7.0
    assert got[(0, "GROUP//labs/30d/count")] == 1


def test_a_subject_with_no_usable_history_gets_defaults_not_errors():
    events = _events([(1, T0, "LAB//a", 5.0)])
    cs = _compile(events, _spec())
    assert _offline(events, _labels([(1, T0), (2, T0)]), cs) == {}


# Times on a coarse grid plus +-1 s and exact window lengths, so ties, window edges and T collide often.
_BASE = [T0 + timedelta(days=d) for d in (-400, -31, -30, -1, 0, 2)]
_JITTER = [timedelta(0), SECOND, -SECOND, timedelta(days=1), timedelta(days=30)]
times = st.builds(lambda b, j: b + j, st.sampled_from(_BASE), st.sampled_from(_JITTER))
codes = st.sampled_from(["A//1", "A//2", "LAB//x", "LAB//y", "MEDS_BIRTH", "GENDER//female", "GENDER//male"])
values = st.one_of(st.none(), st.floats(-1000, 1000, allow_nan=False, width=32))
event = st.tuples(st.integers(1, 3), st.one_of(st.none(), times), codes, values)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(event, min_size=1, max_size=40),
    when=st.lists(st.tuples(st.integers(1, 4), times), min_size=1, max_size=8),
    inclusive=st.booleans(),
)
def test_offline_and_online_match_the_reference(rows, when, inclusive):
    events = _events(rows)
    cs = _compile(events, _spec(inclusive))
    labels = _labels(when)
    want = reference_features(events, labels, cs)
    _assert_same(_offline(events, labels, cs), want)
    _assert_same(_online(events, labels, cs), want)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(event, min_size=1, max_size=30),
    future=st.lists(event, min_size=1, max_size=10),
    pick=st.integers(0, 10_000),
)
def test_nothing_at_or_after_prediction_time_changes_a_feature(rows, future, pick):
    events = _events(rows)
    timed = events.filter(pl.col("time").is_not_null())
    if timed.is_empty():
        return
    sid, when = timed.row(pick % len(timed))[:2]
    later = [(sid, when + (t - T0 if t is not None and t > T0 else timedelta(0)), c, v) for _, t, c, v in future]
    cs = _compile(pl.concat([events, _events(later)]), _spec())
    labels = _labels([(sid, when)])
    assert _offline(pl.concat([events, _events(later)]), labels, cs) == _offline(events, labels, cs)


def test_vocabulary_counts_numeric_and_timed(tmp_path):
    events = _events([(1, None, "GENDER//male", None), (1, T0, "LAB//a", 1.0), (1, T0, "LAB//a", None)])
    events.write_parquet(tmp_path / "x.parquet")
    vocab = vocabulary(str(tmp_path / "x.parquet"))
    assert vocab.rows() == [("GENDER//male", 1, 0, False), ("LAB//a", 2, 1, True)]
    assert np.array_equal(_compile(events, _spec()).zero_default[:1], [False])  # age first, null by default
