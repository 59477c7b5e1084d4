"""Every string R4's date/dateTime grammar allows, inside the plausible range, parses to the instant it names:
a legal time is never quarantined (generated from the grammar: partial dates, any number of decimals, leap
seconds, every offset from -13:59 to +14:00)."""

from calendar import monthrange
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.defs.fhir.primitives import parse_datetime


@st.composite
def r4_datetime(draw) -> tuple[str, datetime]:
    """(text, the naive UTC instant it names) drawn from the R4 dateTime grammar."""
    year = draw(st.integers(1802, 2198))  # an offset may move the instant a day across the range's ends
    shape = draw(st.sampled_from(["year", "month", "date", "datetime"]))
    if shape == "year":
        return f"{year:04d}", datetime(year, 1, 1)  # noqa: DTZ001 -- naive UTC, as the parser returns
    month = draw(st.integers(1, 12))
    if shape == "month":
        return f"{year:04d}-{month:02d}", datetime(year, month, 1)  # noqa: DTZ001
    day = draw(st.integers(1, monthrange(year, month)[1]))
    if shape == "date":
        return f"{year:04d}-{month:02d}-{day:02d}", datetime(year, month, day)  # noqa: DTZ001
    hour, minute, second = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 60))
    digits = draw(st.text(alphabet="0123456789", max_size=14))
    sign = draw(st.sampled_from(["Z", "+", "-"]))
    off_h = draw(st.integers(0, 14)) if sign != "Z" else 0
    off_m = 0 if off_h == 14 else draw(st.integers(0, 59)) if sign != "Z" else 0
    zone = "Z" if sign == "Z" else f"{sign}{off_h:02d}:{off_m:02d}"
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    text += (f".{digits}" if digits else "") + zone
    micro = int((digits + "000000")[:6]) if digits else 0
    offset = timedelta(hours=off_h, minutes=off_m) * (-1 if sign == "-" else 1)
    # A leap second (:60) is read as :59, the last second Python can name.
    local = datetime(year, month, day, hour, minute, min(second, 59), micro, tzinfo=UTC)
    return text, (local - offset).replace(tzinfo=None)


@settings(max_examples=150, deadline=None)
@given(r4_datetime())
def test_every_legal_r4_datetime_in_range_parses_to_its_instant(case):
    text, instant = case
    assert parse_datetime(text, "Observation.effectiveDateTime") == instant
