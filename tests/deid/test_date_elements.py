"""Date-shaped words that are no element of a date of the individual (a weekday alone, an ordinal before its
noun, a number before a unit of time or a dose, a decade) and capitalised words after "status post" or a
surgical verb of handling are not marked; dates and names in the same grammar stay found."""

import pytest

from deid import find_phi
from deid.text.clinical_guard import clinical_reason
from deid.text.date_elements import not_a_date
from tests.deid.conftest import covered

# Written for this test (none is taken from a corpus): (sentence, the piece read as a date, why it is none).
NOT_DATES = [
    ("Pt on HD Mondays, Wednesdays and Fridays via L AVF; BP 150/90, HR 88, K 5.1.", "Wednesdays", "weekday"),
    ("Sutures out on Thursday. Wound c/d/i, afebrile, BP 130/80, HR 72, SpO2 98% on RA.", "Thursday", "weekday"),
    ("The chest tube was placed in the 5th\nintercostal space anteriorly.", "5th", "ordinal"),
    ("The lead was passed through the 2nd\nrib interspace.", "2nd", "ordinal"),
    ("He was admitted after the 4th syncopal episode.", "4th", "ordinal"),
    ("Palsies of the 6th, 7th or 12th nerve were excluded.", "6th", "ordinal"),
    ("Palsies of the 6th, 7th or 12th nerve were excluded.", "12th", "ordinal"),
    ("They have been together since 31\nyears and have two sons.", "31", "duration"),
    ("Multivitamin, Nov 2\ntablets daily with food.", "Nov 2", "dose"),
    ("Phenobarbital was started in the early 1960 's.", "1960", "decade"),
    ("Her migraines began in the 1990’s.", "1990", "decade"),
]

# Dates written beside the same words: they must stay found.
DATES = [
    ("Seen on Tuesday, March 3, 2009 in clinic.", "March 3, 2009"),
    ("Extubated on the 14th, and back on the ward since the 16th.", "14th"),
    ("Extubated on the 14th, and back on the ward since the 16th.", "16th"),
    ("Follow-up is planned on the 3rd of\nMay with labs.", "3rd"),
    ("She had a stroke in 1994 and a fall in 2001.", "1994"),
    ("Admitted on 4/2 after a fall at home.", "4/2"),
    ("Dialysis was started on March 2 with good effect.", "March 2"),
]


def _at(sentence: str, piece: str) -> tuple[int, int]:
    start = sentence.index(piece)
    return start, start + len(piece)


@pytest.mark.parametrize(("sentence", "piece", "why"), NOT_DATES, ids=[f"{w}-{p}" for _, p, w in NOT_DATES])
def test_a_date_shaped_word_that_is_no_date_element_is_never_marked(analyzer, sentence, piece, why):
    start, end = _at(sentence, piece)
    assert not_a_date(sentence, start, end) == why
    assert clinical_reason(sentence, start, end, "DATE") == why
    assert not [s for s in covered(find_phi(sentence), start, end) if s.label == "DATE"], piece


@pytest.mark.parametrize(("sentence", "date"), DATES, ids=[d for _, d in DATES])
def test_a_date_beside_the_same_words_stays_found(analyzer, sentence, date):
    start, end = _at(sentence, date)
    assert not_a_date(sentence, start, end) is None
    assert any(s.label == "DATE" for s in covered(find_phi(sentence), start, end)), date


def test_a_weekday_outside_a_clinical_note_stays_marked(analyzer):
    # general PII counts any time expression as a date; the clinical definition applies to clinical notes
    sentence = "We agreed to meet at the station on Tuesday morning."
    start, end = _at(sentence, "Tuesday")
    assert clinical_reason(sentence, start, end, "DATE") is None
    assert any(s.label == "DATE" for s in covered(find_phi(sentence), start, end))


@pytest.mark.parametrize(
    ("sentence", "piece", "label", "reason"),
    [
        ("Hypoplastic left heart, status post Hartwell.", "Hartwell", "NAME", "procedure"),
        ("History of pancreatic cancer s/p Ravenna in the past.", "Ravenna", "LOCATION", "procedure"),
        ("The arm was prepped with Solvane and draped sterilely.", "Solvane", "NAME", "material"),
        ("The bowel was grasped with the Corbin and divided.", "Corbin", "NAME", "material"),
        ("The incision was closed using Adhexa.", "Adhexa", "ORGANIZATION", "material"),
    ],
)
def test_a_procedure_or_material_named_after_someone_is_no_name(sentence, piece, label, reason):
    start, end = _at(sentence, piece)
    assert clinical_reason(sentence, start, end, label, "spacy") == reason


@pytest.mark.parametrize(
    ("sentence", "phi"),
    [
        ("The wound was dressed with Dr. Hartwell in the room.", "Hartwell"),
        ("He was treated\nin Ravenna for a fracture.", "Ravenna"),
        ("Her daughter, Corbin Tate, was updated by phone.", "Corbin Tate"),
    ],
)
def test_names_and_places_in_the_same_grammar_stay_marked(analyzer, sentence, phi):
    start, end = _at(sentence, phi)
    assert covered(find_phi(sentence), start, end), phi


# A neuropsychological battery written as a list of test titles (names invented for this test), then a
# person and a town that must stay marked.
BATTERY = """TESTS ADMINISTERED:
Halvorsen Developmental Test of Visual Perception
Ostrander Memory Scale, Third Edition
Quillfeather Depression Inventory
Tamsin Pegboard
Brackley Naming Test

She was seen with her mother, Marisol Ferreira, who drove her from Ashtabula."""


def test_a_battery_of_test_titles_is_not_marked_and_the_people_in_it_are(analyzer):
    found = find_phi(BATTERY)
    for title in ("Halvorsen", "Ostrander", "Quillfeather", "Tamsin", "Brackley"):
        start = BATTERY.index(title)
        assert not covered(found, start, start + len(title)), title
    for phi in ("Marisol Ferreira", "Ashtabula"):
        start = BATTERY.index(phi)
        assert covered(found, start, start + len(phi)), phi
