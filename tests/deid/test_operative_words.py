"""Things of operative, paediatric and report notes that read as PHI are kept (instruments counted, shaped or
handled, an author's stage with a Roman numeral, family words, a results panel of <Name>-<value> pairs,
numbers before a lab's or a scanner's unit, year-shaped counts and volumes, a paper's year); names, places
and dates written in the same grammar stay found."""

import pytest

from deid import find_phi
from tests.deid.conftest import covered

# Written for this test: (sentence, the piece that must stay unmarked).
KEPT = [
    ("The fundus was lifted and a curved Kocher was placed on each side of the cervix.", "Kocher"),
    ("Two straight Heaney's were placed across the pedicle and it was tied with 0 Vicryl.", "Heaney"),
    ("The pedicle was doubly clamped and the Ochsner was removed before tying.", "Ochsner"),
    ("The bowel was packed away with a moist Ray-Tec and the retractor was set.", "Ray-Tec"),
    ("The vein was swept away with a second Kitner and then divided.", "Kitner"),
    ("She comes in with Mom and Dad for her 4-year check and Mom has no concerns.", "Dad"),
    ("Genitourinary: Tanner II male genitalia, testes descended bilaterally.", "Tanner II"),
    ("Glucose-142 UreaN-35 Creat-2.6 Na-145 K-4.8 Cl-98 HCO3-21 AnGap-7", "Creat-2.6"),
    ("Calcium-8.7 Phos-4.3 Mg-1.4", "Phos-4.3"),
    ("CTDIvol 21.5 mGy, DLP 1964 mGy-cm.", "1964"),
    ("Ferritin 2010 ng/mL, iron 40 ug/dL.", "2010"),
    ("His platelet count of 2000 was noted on arrival and rechecked.", "2000"),
    ("Her meal plan totals 2040 calories per day.", "2040"),
    ("IV FLUIDS: 1900 ANESTHESIA: General endotracheal.", "1900"),
    ("Ortiz et al. (2004) found no such benefit in older adults.", "2004"),
]

# PHI in the same grammar: (sentence, the piece that must stay marked).
FOUND = [
    ("Dr. Kocher was consulted and the patient was seen at 5 pm.", "Kocher"),
    ("Her son Dale was placed in foster care in 2004.", "Dale"),
    ("Her son Dale was placed in foster care in 2004.", "2004"),
    ("The Whitcombe family was placed in the waiting room.", "Whitcombe"),
    ("She had a platelet transfusion in 2000 at Mercy Hospital.", "2000"),
    ("He moved to Tulsa in 2010 and works for the Tulsa Police Department.", "2010"),
]


def _at(sentence: str, piece: str) -> tuple[int, int]:
    start = sentence.index(piece)
    return start, start + len(piece)


@pytest.mark.parametrize(("sentence", "piece"), KEPT, ids=[p for _, p in KEPT])
def test_a_thing_of_an_operative_or_report_note_is_kept(analyzer, sentence, piece):
    start, end = _at(sentence, piece)
    assert not covered(find_phi(sentence), start, end), piece


@pytest.mark.parametrize(("sentence", "piece"), FOUND, ids=[f"{s[:20]}-{p}" for s, p in FOUND])
def test_phi_in_the_same_grammar_stays_found(analyzer, sentence, piece):
    start, end = _at(sentence, piece)
    assert covered(find_phi(sentence), start, end), piece
