"""Four-digit clock times that have a year's shape are kept when their clause is on a shift's clock (a
preposition taking either, with a time cue and no year cue; a list of times; a time after a month/day), and
years in the same grammar stay marked and shifted."""

import pytest

from deid import deidentify, find_phi
from deid.text.clock_times import clock_not_year
from tests.deid.conftest import SECRET, covered

# Written for this test: (sentence, the clock time read as a year).
TIMES = [
    ("NPO since 2000 for the scan at 0730.", "2000"),
    ("NPO SINCE 1930 FOR CT AT 0600.", "1930"),
    ("neuro checks q2h overnight, q1h since 2015.", "2015"),
    ("Foley drained 650 cc since 1945, amber.", "1945"),
    ("UO 40 ml/hr since 2030.", "2030"),
    ("off heparin from 2000 until 0600 for the line.", "2000"),
    ("Glucose checked 1900, 2000, 0100 and 0500.", "2000"),
    ("Seen by renal 4/12 1930, plan HD.", "1930"),
    ("Seen by renal 4/12 at 2010, plan HD.", "2010"),
    ("Restless since 2045 tonight, medicated.", "2045"),
    ("Sedation off since 1915 this evening.", "1915"),
]

# Years in the same grammar: they stay marked (and are replaced).
YEARS = [
    ("Sober since 2010, lives with wife.", "2010"),
    ("On insulin since 2001 at home.", "2001"),
    ("Married since 1945.", "1945"),
    ("Since 2012 she has had three admissions, labs at 0400.", "2012"),
    ("Dx DM2 in 2003, on metformin since 2004 bid.", "2004"),
    ("Admitted 2001, 2003, 2005 with CHF.", "2003"),
    ("CABG 2008, SBP 120s overnight.", "2008"),
    ("On coumadin since 2010, INR q am.", "2010"),
    ("Lives in town since 2011 with her daughter, visits at 1400.", "2011"),
    ("Worked as a welder until 2010 when he retired.", "2010"),
    ("Married in 1980, lived in Ohio until 2001.", "2001"),
]


def _at(sentence: str, piece: str) -> tuple[int, int]:
    start = sentence.index(piece)
    return start, start + len(piece)


@pytest.mark.parametrize(("sentence", "clock"), TIMES, ids=[s[:30] for s, _ in TIMES])
def test_a_clock_time_of_a_years_shape_is_kept(analyzer, sentence, clock):
    start, end = _at(sentence, clock)
    assert clock_not_year(sentence, start, end)
    assert not covered(find_phi(sentence), start, end), clock
    assert clock in deidentify(sentence, "patient-1", secret=SECRET)


@pytest.mark.parametrize(("sentence", "year"), YEARS, ids=[s[:30] for s, _ in YEARS])
def test_a_year_in_the_same_grammar_stays_a_date(analyzer, sentence, year):
    start, end = _at(sentence, year)
    assert not clock_not_year(sentence, start, end)
    assert any(s.label == "DATE" for s in covered(find_phi(sentence), start, end)), year
