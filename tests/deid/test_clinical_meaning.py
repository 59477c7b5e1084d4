"""Clinical meaning kept: generated clinical sentences without PHI (drugs of the drug dictionary, doses, vital
signs, lab values, scores, clock times, abbreviations, eponyms, equipment settings; in any case) come back
unmarked and unchanged, and PHI written next to the same clinical items is still found."""

import pytest
import regex as re
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deid import deidentify, find_phi

SECRET = b"clinical-meaning-test-secret-32b"

sentences = pytest.importorskip("synthetic.clinical_sentences")
try:
    sentences.drug_lexicon()
except LookupError:
    pytest.skip("no drug dictionary installed", allow_module_level=True)

# The one reading kept on purpose: a four-digit clock time that is also a year, after "since" or in a pair of
# such numbers ("since 2000", "from 1915 to 2000"), stays a year: nothing in the grammar tells them apart, and
# a year left unmarked would leak a date.
_YEAR_OR_CLOCK = re.compile(r"(?:19\d\d|20[0-4]\d)")
_SINCE_OR_PAIR = re.compile(r"(?i:since|from|to|and)[ \t]*$")


def _unexplained(text: str) -> list[tuple[str, str]]:
    out = []
    for s in find_phi(text):
        span = text[s.start : s.end]
        if s.label == "DATE" and _YEAR_OR_CLOCK.fullmatch(span) and _SINCE_OR_PAIR.search(text[: s.start]):
            continue
        out.append((s.label, span))
    return out


def test_the_generator_is_seeded_and_its_parts_share_no_drug():
    a = sentences.clinical_sentences(50, "tuning", 3)
    assert a == sentences.clinical_sentences(50, "tuning", 3)
    assert a != sentences.clinical_sentences(50, "tuning", 4)
    tuning = set(sentences.ClinicalSentences("tuning").drugs)
    check = set(sentences.ClinicalSentences("check").drugs)
    assert tuning and check and not tuning & check
    assert {cls for cls, _ in sentences.clinical_sentences(200, "check", 0)} == set(sentences.CLASSES)


def test_a_seeded_slice_is_neither_marked_nor_changed(analyzer):
    pairs = sentences.clinical_sentences(80, "check", 25)
    marked = [(cls, text, found) for cls, text in pairs if (found := _unexplained(text))]
    assert marked == [], marked[:5]
    for _, text in pairs[:25]:
        if not find_phi(text):
            assert deidentify(text, "patient-1", secret=SECRET) == text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    cls=st.sampled_from(sentences.CLASSES),
    part=st.sampled_from(("tuning", "check")),
)
def test_no_generated_clinical_sentence_is_marked(analyzer, seed, cls, part):
    text = sentences.ClinicalSentences(part, seed).sentence(cls)
    assert _unexplained(text) == [], text


# PHI beside the clinical items above (written for this test): it must still be found, with its label.
PHI_BESIDE = [
    ("Spoke with wife Linda Marsh, lasix 40 mg IV given.", "Linda Marsh", "NAME"),
    ("Dr. Okafor ordered Metoprolol 25 mg PO BID.", "Okafor", "NAME"),
    ("Ativan 1 mg IV given by RN Posey at 0300.", "Posey", "NAME"),
    ("K 3.4 on 7/22, repleted with KCL 40 MEQ PO.", "7/22", "DATE"),
    ("Hct 28.5->30.1 since 3/14/2021.", "3/14/2021", "DATE"),
    ("CVA 2008, K 3.9, INR 1.3.", "2008", "DATE"),
    ("Smoked from 1995 to 2005, WBC 12.4.", "2005", "DATE"),
    ("Pt from Lansing, MI, hx OSA, CAD.", "Lansing", "LOCATION"),
    ("Trop 0.4, sent to gh 3/9 for cath.", "gh", "LOCATION"),
    ("Chest tube placed by the surgeon in High Point, 200 cc out.", "High Point", "LOCATION"),
    ("Heparin 25000 units SQ; lives at 12 Oak Road, Salem, MA 01970.", "01970", "ZIP"),
    ("Call daughter at 617-555-0142 re INR 2.5.", "617-555-0142", "PHONE"),
    ("MRN 40982713, GCS 15 (E4V5M6).", "40982713", "ID"),
    ("HR 80-90s SR; transferred from Mercy General Hospital on 2/3.", "Mercy General Hospital", "FACILITY"),
    # beside ICU shorthand of the same shapes (tests/deid/test_nursing_shorthand.py)
    ("COVID positive Dana Whitfield admitted from home.", "Dana Whitfield", "NAME"),
    ("Neg CXR per Dr. Alvarez, spoke with wife Rosa.", "Alvarez", "NAME"),
    ("Seen by Dr. Lowe @ 1400, levo @ 8 mcg/min.", "Lowe", "NAME"),
    ("Visited by Kim Lopez x2 today, A&O x3.", "Kim Lopez", "NAME"),
    ("Transferred to MICU from Mercy General Hospital.", "Mercy General Hospital", "FACILITY"),
    ("Moved to Boise per ID clinic.", "Boise", "LOCATION"),
    ("CABG 1998 - done at Mercy, I/O +450.", "1998", "DATE"),
    ("Lives at 12 Oak Road, FS 97, 115 and 345.", "12 Oak Road", "ADDRESS"),
    ("MAE x4. Seen on 5/5 by PT.", "5/5", "DATE"),
    ("Spoke with Rosa Delgado's daughter, hx Lou Gehrig's disease.", "Rosa Delgado", "NAME"),
    ("Call 617-555-0199 re 0700-1900 visit.", "617-555-0199", "PHONE"),
    ("Rosa Delgado in place of her son at the bedside.", "Rosa Delgado", "NAME"),
    ("Married in 1986 / divorced in 1994.", "1986", "DATE"),
    ("Given 2 units by Okafor, seen by Dr. Lowe @ 1400.", "Okafor", "NAME"),
    ("Called Rosa @ 4/12, TF @ 45/hr.", "4/12", "DATE"),
]


@pytest.mark.parametrize(("text", "phi", "label"), PHI_BESIDE, ids=[c[1] for c in PHI_BESIDE])
def test_phi_beside_clinical_items_is_still_found(analyzer, text, phi, label):
    start = text.index(phi)
    hits = [s for s in find_phi(text) if s.start <= start and s.end >= start + len(phi)]
    assert hits and hits[0].label == label, f"{phi!r} in {text!r}: {find_phi(text)}"


def test_clinical_items_beside_phi_stay_unmarked(analyzer):
    text = "Dr. Okafor ordered Metoprolol 25 mg PO BID; K 3.4 on 7/22, GCS 15 (E4V5M6), labs at 0130 and 2030."
    marked = {text[s.start : s.end] for s in find_phi(text)}
    assert marked == {"Okafor", "7/22"}, marked
