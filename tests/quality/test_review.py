"""Stewards accept warnings and quarantine reasons with a note; the log is append-only and versioned."""

import re
from datetime import UTC, datetime

import polars as pl
import pytest

from quality import review
from quality.records import review_log_path
from quality.validate import validate
from tests.quality.conftest import Root

HR = "meds_data.plausibility/value_below_physiological_high"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _plant_heart_rate(root: Root) -> None:
    df = root.data("held_out", 1)
    root.write_data("held_out", 1, df.with_columns(
        numeric_value=pl.when(pl.col("code") == "LOINC//8867-4").then(pl.lit(900.0)).otherwise("numeric_value")))  # fmt: skip


def _reviewed(root: Root):
    return review.apply(validate(root.path), review.accepted(root.layout.quality))


def test_accepted_warning_stops_shouting_but_stays_listed_until_revoked(root: Root):
    _plant_heart_rate(root)
    [o] = [o for o in _reviewed(root) if not o.success]
    assert o.shouting
    review.record(root.layout.quality, f"check:{HR}", "accept", "device test data, known", who="ana", when=WHEN)
    [o] = [o for o in _reviewed(root) if not o.success]
    assert not o.shouting and o.accepted == {
        "who": "ana",
        "when": WHEN.isoformat(),
        "note": "device test data, known",
    }
    review.record(root.layout.quality, f"check:{HR}", "revoke", "real patients now", who="ben")
    [o] = [o for o in _reviewed(root) if not o.success]
    assert o.shouting
    log = review.history(root.layout.quality)
    assert [(e["action"], e["who"]) for e in log] == [("accept", "ana"), ("revoke", "ben")]


def test_a_blocking_failure_cannot_be_accepted_away(root: Root):
    root.layout.meds_shard("held_out", 1).rename(root.layout.meds_shard("train", 1))  # wrong split
    target = "check:meds_data.subjects/file_in_assigned_split"
    review.record(root.layout.quality, target, "accept", "looks fine", who="ana")
    [o] = [o for o in _reviewed(root) if not o.success]
    assert o.severity == "error" and o.shouting


def test_reject_and_comment_keep_a_warning_open_and_revoke_clears_the_state(root: Root):
    q = root.layout.quality
    target = f"check:{HR}"
    review.record(q, target, "accept", "device test data", who="ana")
    review.record(q, target, "comment", "asked the lab about the device", who="ben")
    assert review.accepted(q)[target]["who"] == "ana"  # a comment never changes the state
    review.record(q, target, "reject", "real patients: fix the unit mapping", who="cy")
    assert review.state(q)[target]["action"] == "reject" and review.accepted(q) == {}
    review.record(q, target, "revoke", "mapping fixed", who="cy")
    assert review.state(q) == {}
    assert [e["action"] for e in review.by_target(review.history(q))[target]] == [
        "accept",
        "comment",
        "reject",
        "revoke",
    ]


def test_a_mistyped_target_is_refused_with_the_closest_known_ones(root: Root):
    known = {f"check:{HR}", "quarantine:fhir_raw/UNPARSEABLE_DATE"}
    with pytest.raises(review.ReviewError, match="did you mean quarantine:fhir_raw/UNPARSEABLE_DATE"):
        review.record(root.layout.quality, "quarantine:fhir_raw/UNPARSABLE_DATE", "accept", "x", known=known)
    # the wrong form, with an obvious intent: a rule without `check:`, a reason code in lower case
    for typed, meant in (
        (HR, f"check:{HR}"),
        ("quarantine:fhir_raw/unparseable_date", "quarantine:fhir_raw/UNPARSEABLE_DATE"),
    ):
        with pytest.raises(review.ReviewError, match=f"got {typed!r}; did you mean {re.escape(meant)}\\?$"):
            review.record(root.layout.quality, typed, "comment", "x", known=known)
    assert review.history(root.layout.quality) == []


def test_export_as_csv_and_json_holds_every_entry(root: Root):
    q = root.layout.quality
    review.record(q, f"check:{HR}", "comment", 'says "900", a comma, too', who="ana", when=WHEN)
    review.record(q, f"check:{HR}", "accept", "known device", who="ben", when=WHEN)
    import csv
    import io
    import json

    rows = list(csv.DictReader(io.StringIO(review.export(review.history(q), "csv"))))
    assert [(r["who"], r["action"], r["note"]) for r in rows] == [("ana", "comment", 'says "900", a comma, too'),
                                                                  ("ben", "accept", "known device")]  # fmt: skip
    assert json.loads(review.export(review.history(q), "json"))[1] == {
        "when": WHEN.isoformat(), "who": "ben", "action": "accept", "target": f"check:{HR}", "note": "known device"}  # fmt: skip


def test_log_is_append_only(root: Root):
    q = root.layout.quality
    review.record(q, "quarantine:fhir_raw/UNPARSEABLE_DATE", "accept", "vendor sends partial dates", who="ana")
    first = review_log_path(q).read_bytes()
    review.record(q, "quarantine:fhir_raw/UNPARSEABLE_DATE", "revoke", "fixed upstream", who="ana")
    assert review_log_path(q).read_bytes().startswith(first)
    assert review.accepted(q) == {}


@pytest.mark.parametrize(("target", "note"), [("meds_data", "x"), ("quarantine:fhir_raw/bad code", "x"),
                                               ("check:x", "  ")])  # fmt: skip
def test_malformed_entries_are_refused(root: Root, target: str, note: str):
    with pytest.raises(review.ReviewError):
        review.record(root.layout.quality, target, "accept", note)
    assert review.history(root.layout.quality) == []
