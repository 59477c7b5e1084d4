"""PHI in the forms the stress set (synthetic/phi_stress.py) exercises, one constructed sentence per form
the rules read from its grammar, beside the clinical text of the same shape that must survive."""

import pytest

from deid.text.clinical_numbers import date_range_member
from deid.text.dates import parse_date
from synthetic.phi_stress import FORMS, JOINED_FAMILY, JOINED_GIVEN, WORLD_FAMILY, WORLD_GIVEN, stress_set
from tests.deid.phi_marks import covered, marked


@pytest.mark.parametrize(
    ("text", "phi"),
    [
        ("TEMP 99.1. ANTIBIOTICS 06/11-06/14, NOW OFF.", "06/11"),
        ("sats 94%.\ncultures 3/30 to 4/2 all neg.", "4/2"),
        ("NEURO: MAE. PAIN 3/10.\nECHO 5/10: EF 30%.", "5/10"),
        ("TRACH CHANGE DUE THE 17TH.", "17TH"),
        ("last echo oct 9: ef 40%.", "oct 9"),
        ("Cath Mar 3, 04: 2VD.", "Mar 3, 04"),
        ("family meeting on 5-12 with team.", "5-12"),
        ("PICC PLACED 11-3, TIP IN SVC.", "11-3"),
        ("HCP IS SON BOHDAN.", "BOHDAN"),
        ("wife/hcp jo-ann aware.", "jo-ann"),
        ("plan per rodriguez, cont lasix.", "rodriguez"),
        ("spoke with Ja'Nae El-Amin re: plan.", "Ja'Nae El-Amin"),
        ("SW KOVALENKO FOLLOWING.", "KOVALENKO"),
        ("cont to monitor.\nmei-ling okonkwo, rn bsn", "mei-ling okonkwo"),
        ("see flowsheet.\nT. Mahoney RN, BSN", "T. Mahoney"),
        ("/s/ m. d'souza md", "m. d'souza"),
        ("pt resting.\nTUIJA HAUGLAND", "TUIJA HAUGLAND"),
        ("turned q2h.\n-jk, rn", "jk"),
        ("NOTIFIED KL RRT OF K 3.1.", "KL"),
        ("TRANSFERRED FROM ST. CLARE'S TO CCU.", "ST. CLARE"),
        ("transferred from st. camillus medical center er.", "st. camillus medical center"),
        ("SCREENED BY BIRCHCROFT MANOR, ACCEPTED.", "BIRCHCROFT MANOR"),
        ("d/c to quarrybrook rehab when bed opens.", "quarrybrook rehab"),
        ("Family driving in from Skaneateles tonight.", "Skaneateles"),
        ("found at home (12 winthrop terr.) by neighbor.", "12 winthrop terr"),
        ("call unit at x4417 with questions.", "x4417"),
        ("PAGED RENAL @ 63018.", "63018"),
    ],
)
def test_phi_in_nursing_shorthand_iscovered(analyzer, text, phi):
    assert covered(text, phi)


@pytest.mark.parametrize(
    ("text", "clinical"),
    [
        ("sats 93% on 2-3 L NC overnight.", "2-3"),
        ("stimulated from 1-10 volts at 2 Hz.", "1-10"),
        ("pain 4/10-6/10 with turns, medicated.", "4/10"),
        ("Pain 8/10. Medicated, now 2/10.", "2/10"),
        ("PS 10/5 to 8/5 overnight, tol well.", "8/5"),
        ("k and ca replaced per protocol.", "protocol"),
        ("dosed at 3.3 mg per kilo per day.", "kilo"),
        ("NEW #18 PLACED BY IV RN.", "IV"),
        ("skin care given as outlined by day rn.", "day"),
        ("pt to d/c to acute rehab when stable.", "acute rehab"),
        ("referred to cardiac rehab at discharge.", "cardiac rehab"),
        ("ST ELEVATION IN V2-V4, NO ST CHANGES NOW.", "ST CHANGES"),
    ],
)
def test_clinical_text_beside_the_shorthand_survives(analyzer, text, clinical):
    assert not marked(text, clinical)


def test_a_range_of_month_days_is_two_dates_and_a_range_of_scores_is_not():
    text = "fevers 7/30-8/2, pain 4/10-6/10"
    assert date_range_member(text, 7, 11) and date_range_member(text, 12, 15)
    assert not date_range_member(text, 22, 26) and not date_range_member(text, 27, 31)


def test_a_dashed_month_day_keeps_its_shape_when_shifted():
    assert parse_date("3-4").shifted(-7) == "2-26"
    assert parse_date("11-03").shifted(7) == "11-10"


def test_the_stress_set_is_seeded_exact_and_holds_names_no_lexicon_has():
    from deid.text.lexicon import FIRST_NAMES, SURNAMES, WORLD_GIVEN_NAMES

    a, b = stress_set(3, 1), stress_set(3, 1)
    assert a == b and a != stress_set(4, 1)
    assert {s["form"] for _, spans in a for s in spans} == set(FORMS)
    assert all(text[s["start"] : s["end"]] == s["text"] for text, spans in a for s in spans)
    lexicon = set(FIRST_NAMES) | set(SURNAMES) | WORLD_GIVEN_NAMES
    assert not [w for w in WORLD_GIVEN + WORLD_FAMILY + JOINED_GIVEN + JOINED_FAMILY if w.lower() in lexicon]
