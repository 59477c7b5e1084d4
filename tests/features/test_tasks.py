"""Each shipped task's labels on a tiny handmade timeline: triggers, target windows, gaps and censoring."""

import polars as pl
import pytest

from featurestore.tasks import build_labels, load_task, parse_task, shipped_tasks
from tests.features.helpers import at


def _labels(events: pl.DataFrame, task: str) -> list[tuple]:
    return build_labels(events, load_task(task)).rows()


def test_every_required_task_ships():
    assert {"readmission_30d", "mortality_1y", "new_hypertension_365d", "hba1c_next_above_6_5"} <= set(
        shipped_tasks()
    )


def test_readmission_30d_positive_negative_censored_and_death(tiny_events):
    assert _labels(tiny_events, "readmission_30d") == [
        (1, at(2020, 1, 5, 12), True),  # readmitted 15 days later
        (1, at(2020, 1, 22, 12), False),  # followed until 2021 without readmission
        # subject 2: last event 7 days after discharge, no readmission -> censored, no row
        (3, at(2020, 5, 2, 12), False),  # died in the window without readmission: negative
    ]


def test_mortality_1y_positive_and_censoring(tiny_events):
    rows = {(s, t): v for s, t, v in _labels(tiny_events, "mortality_1y")}
    assert rows[(3, at(2020, 5, 2, 12))] is True
    assert rows[(1, at(2020, 1, 5, 12))] is False  # alive and followed > 1 year
    assert (1, at(2021, 6, 1, 9, 30)) not in rows  # the last event: no follow-up, censored
    assert not any(s == 2 for s, _ in rows)  # 7 days of follow-up only


def test_new_diagnosis_drops_prior_and_gap_rows(tiny_events):
    assert _labels(tiny_events, "new_hypertension_365d") == [
        (4, at(2019, 1, 1, 9, 30), True),
        (4, at(2019, 6, 1, 9, 30), True),
        # 2019-08-31: diagnosed 22.5 hours later, inside the 1-day gap -> dropped
        # 2020-12-01: already diagnosed -> dropped (new diagnoses only)
    ]


def test_next_lab_value_above_threshold_ignores_gap_repeats_and_censors(tiny_events):
    assert _labels(tiny_events, "hba1c_next_above_6_5") == [
        (5, at(2018, 1, 1, 1), True),  # the 7.0 two hours later is in the gap; next is 7.2
        (5, at(2018, 1, 1, 3), True),
        (5, at(2018, 7, 1, 1), False),  # next is 6.1
        # 2019-01-01: no next value -> censored
    ]


def test_labels_only_depend_on_events_after_the_prediction_time(tiny_events):
    task = load_task("readmission_30d")
    base = build_labels(tiny_events, task)
    # An extra inpatient start exactly at a discharge (t = T) is not "after" it: labels are unchanged.
    extra = pl.DataFrame(
        {"subject_id": [1], "time": [at(2020, 1, 22, 12)], "code": ["ENCOUNTER//IMP"], "numeric_value": [None]},
        schema=tiny_events.schema,
    )
    assert (
        build_labels(pl.concat([tiny_events, extra]), task)
        .filter(pl.col("subject_id") == 1)["boolean_value"]
        .to_list()
        == base.filter(pl.col("subject_id") == 1)["boolean_value"].to_list()
    )


def test_float_labels_without_threshold():
    raw = {
        "name": "next_hba1c",
        "trigger": {"codes": ["L//1"]},
        "target": {"codes": ["L//1"], "kind": "next_value", "horizon": "30d"},
    }
    events = pl.DataFrame(
        {
            "subject_id": [1, 1],
            "time": [at(2020, 1, 1), at(2020, 1, 10)],
            "code": ["L//1", "L//1"],
            "numeric_value": [5.0, 6.5],
        },
        schema_overrides={"numeric_value": pl.Float32},
    )
    out = build_labels(events, parse_task(raw))
    assert out.columns == ["subject_id", "prediction_time", "float_value"]
    assert out.rows() == [(1, at(2020, 1, 1), 6.5)]


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"name": "x", "trigger": {"codes": ["A"]}, "target": {"codes": ["B"]}}, "horizon"),
        (
            {"name": "x", "trigger": {"codes": ["A"]}, "target": {"codes": ["B"], "horizon": "1d", "gap": "2d"}},
            "gap",
        ),
        ({"name": "x", "trigger": {"codes": ["A"]}, "target": {"codes": ["B"], "horizon": "1mo"}}, "duration"),
        (
            {
                "name": "x",
                "trigger": {"codes": ["A"]},
                "target": {"codes": ["B"], "horizon": "1d", "kind": "any", "threshold": {"op": ">", "value": 1}},
            },
            "threshold",
        ),
        (
            {"name": "x", "trigger": {"codes": ["A"]}, "target": {"codes": ["B"], "horizon": "1d"}, "oops": 1},
            "oops",
        ),
    ],
)
def test_bad_task_definitions_say_what_is_wrong(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_task(raw)
