"""FHIR dateTime parsing with its per-process cache: a repeated value gives the same answer, every time."""

from datetime import datetime

import pytest

from pipelines.defs.fhir import primitives
from pipelines.defs.fhir.primitives import InvalidRecordError, parse_datetime


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2021-02-30", "UNPARSEABLE_DATE"),  # matches the pattern, is no date
        ("2021-03-04T10:00:00", "UNPARSEABLE_DATE"),  # a time without a zone
        ("9999-12-31T23:00:00-05:00", "IMPLAUSIBLE_DATE"),  # past datetime.max in UTC
        ("1700-01-01", "IMPLAUSIBLE_DATE"),
    ],
)
def test_a_bad_value_is_rejected_each_time_it_is_read(value: str, code: str):
    # every record carrying it is quarantined, not only the first one the cache saw
    for _ in range(3):
        with pytest.raises(InvalidRecordError) as err:
            parse_datetime(value, "Observation.effectiveDateTime")
        assert err.value.reason_code == code


def test_a_repeated_value_parses_to_the_same_instant():
    first = parse_datetime("2021-03-04T10:00:00-05:00", "x")
    again = parse_datetime("2021-03-04T10:00:00-05:00", "x")
    assert first == again == datetime(2021, 3, 4, 15, 0)  # noqa: DTZ001 (naive UTC)
    assert parse_datetime("2021-03-04T10:00:00+01:00", "x") == datetime(2021, 3, 4, 9, 0)  # noqa: DTZ001


def test_the_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(primitives, "_PARSED_MAX", 8)
    primitives._PARSED.clear()
    for day in range(1, 29):
        assert parse_datetime(f"2020-01-{day:02d}", "x") == datetime(2020, 1, day)  # noqa: DTZ001
    assert len(primitives._PARSED) <= 8
    assert parse_datetime("2020-01-01", "x") == datetime(2020, 1, 1)  # noqa: DTZ001 (evicted, parsed again)
