"""Wall-clock times read in a named zone with its daylight-saving rules, in any year (zoneinfo)."""

from datetime import datetime

import polars as pl
import pytest

from pipelines.defs.tables.mapping import MappingError, load_mapping
from pipelines.defs.tables.timezones import wall_to_utc

# Raw times are naive UTC by the schema.
# ruff: noqa: DTZ001


def _utc(values: list[datetime | None], tz: str) -> list[datetime | None]:
    return wall_to_utc(pl.Series("t", values, pl.Datetime("us")), tz).to_list()


def test_new_york_summer_and_winter_gap_and_fold():
    wall = [datetime(2020, 7, 2, 10), datetime(2020, 1, 2, 10), datetime(2020, 3, 8, 2, 30),
            datetime(2020, 3, 8, 3, 0), datetime(2020, 11, 1, 1, 30), datetime(2020, 11, 1, 2, 0), None]  # fmt: skip
    assert _utc(wall, "America/New_York") == [
        datetime(2020, 7, 2, 14),  # EDT
        datetime(2020, 1, 2, 15),  # EST
        None,  # 02:30 on the spring-forward day does not exist: null, so the row is quarantined
        datetime(2020, 3, 8, 7),
        datetime(2020, 11, 1, 5, 30),  # the autumn fold: the earlier instant (EDT)
        datetime(2020, 11, 1, 7),
        None,
    ]


def test_rules_apply_in_far_future_years_of_shifted_extracts():
    # MIMIC's dates are shifted into the 2100s; the zone's rule still applies there
    assert _utc([datetime(2150, 7, 2, 10), datetime(2150, 1, 2, 10)], "America/New_York") == [
        datetime(2150, 7, 2, 14),
        datetime(2150, 1, 2, 15),
    ]


def test_a_half_hour_transition_inside_an_hour():
    # Lord Howe Island moves 30 minutes: 02:00 -> 02:30 in October, 02:00 -> 01:30 in April
    assert _utc([datetime(2020, 10, 4, 2, 15), datetime(2020, 10, 4, 2, 45)], "Australia/Lord_Howe") == [
        None,
        datetime(2020, 10, 3, 15, 45),
    ]


def test_utc_is_untouched_and_southern_hemisphere_reverses():
    wall = [datetime(2021, 1, 15, 12), datetime(2021, 7, 15, 12)]
    assert _utc(wall, "UTC") == wall
    assert _utc(wall, "Australia/Sydney") == [datetime(2021, 1, 15, 1), datetime(2021, 7, 15, 2)]


@pytest.mark.parametrize("zone", ["+05:00", "UTC+5", "GMT-3", "Mars/Olympus"])
def test_fixed_offsets_and_unknown_zones_are_refused_with_the_line(tmp_path, zone):
    path = tmp_path / "mapping.yaml"
    path.write_text(f"source: s\ndefault_timezone: '{zone}'\ntables: {{p: {{file: p.csv}}}}\n"
                    "subjects: {table: p, key: id}\nevents: []\n")  # fmt: skip
    with pytest.raises(MappingError, match=rf"{path}:2: default_timezone"):
        load_mapping(path)
