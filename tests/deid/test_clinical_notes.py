"""Nursing notes as clinicians write them: clinical text that must come through untouched, and PHI in the
forms notes use (dates without a year, two-digit years, relatives and clinicians in any case, wards,
hospital initials) that must be found and replaced by a surrogate of the same kind and shape."""

from datetime import date, timedelta

import pytest
import regex as re

from deid import deidentify, find_phi

SECRET = b"clinical-notes-test-secret-32byt"

# Clinical sentences written for this test (no PHI): vitals, ranges, labs, doses, drugs at a sentence
# start, nursing shorthand, ALL CAPS, clock times, scores, ventilator settings, fractions. None of it may be
# marked, and de-identification must return each unchanged.
MUST_SURVIVE = [
    "BP 120/80 HR 88 RR 18 SPO2 97% ON 2L NC.",
    "HR 80-110s SR WITH OCC PVCS, SBP 90-140'S.",
    "MAP 65-70 ON LEVO 0.08 MCG/KG/MIN, WEANING AS TOL.",
    "Propofol gtt at 20 mcg/kg/min, titrated for RASS -2.",
    "Levophed weaned off at 0300; neo @ 1.5 mcg/kg/min.",
    "Lasix 40 mg IV given @ 1400 with 600cc UO response.",
    "Heparin gtt at 900 u/hr, PTT due at 2000.",
    "K 3.4 repleted with 40 meq KCL, Mg 1.8, Hct 28.7.",
    "ABG 7.38/40/95/24 on AC 600x14, 40%, 5 peep.",
    "Weaned to PSV 10/5 this am, tolerating well.",
    "CPAP 5/5 FIO2 .50 SATS 100% TV 250-1000.",
    "Pain 4/10 at incision, medicated with tylenol 650 mg po.",
    "C/O CP 6/10, NTG SL X1 WITH RELIEF.",
    "Crackles 1/2 up bilat, LS diminished at bases.",
    "D5 1/2 NS at 75cc/hr, TF at 1/2 rate.",
    "Strength 5/5 in all extremities, murmur 2/6 at apex.",
    "GCS 15, MAE, PERRLA, follows commands.",
    "Nursing note for MICU 1900-0700.",
    "Plan: unclamp CT @ 2000, check labs at 2200.",
    "Extubated at 2015 without stridor.",
    "ENDO=BS COVER W 4U REG SQ @ 0200.",
    "CARDIAC: HR 99-104 NSR ST WITH OCCASIONAL PAC.",
    "GU: FOLEY DRAINING CLEAR AMBER URINE, UO 30-50 CC/HR.",
    "RESP: SX FOR MOD AMTS THICK TAN SECRETIONS, SEROSANG DRNG FROM CT.",
    "Tolerating tapering doses; cont propofol, abd soft, +BS.",
    "Remains on PS 10 peep 5.Well tolerated.No changes.",
    "Pt is 600cc neg so far today, AOx3, voiding 575-1000 cyu.",
    "NGT to LCWS with 200cc bilious output.",
    "Aggrastat at 12 cc/hr, integrilin off, plavix 75 mg po qd.",
    "Ambulated 30' with PT, tolerated well.",
]

# (note, PHI it holds, label, regular expression its surrogate must match)
MUST_FIND = [
    ("PT ADMITTED TO CCU 7/22 AFTER CATH.", "7/22", "DATE", r"\d{1,2}/\d{1,2}"),
    ("s/p cabg 2/7- neuro: sedated on propofol.", "2/7", "DATE", r"\d{1,2}/\d{1,2}"),
    ("PMH: CAD W AMI 7/81-ECHO EF 40%.", "7/81", "DATE", r"\d{1,2}/\d\d"),
    ("PMH: CVA 74'. HTN.", "74'", "DATE", r"\d\d'"),
    ("History of MI '92, stent placed.", "'92", "DATE", r"'\d\d"),
    ("nursing progress note\n2 nov, 96\n1900 - 0700", "2 nov, 96", "DATE", r"\d{1,2} [a-z]{3}, \d\d"),
    ('Pt states "it\'s the 11th." reoriented.', "11th", "DATE", r"\d{1,2}(?:st|nd|rd|th)"),
    ("in march of 2022 pt was admitted", "march of 2022", "DATE", r"[a-z]+ of \d{4}"),
    ("Orientation: knows it is 2020.", "2020", "DATE", r"\d{4}"),
    ("DAUGHTER PHILOMENA SPOKE WITH TEAM.", "PHILOMENA", "NAME", r"[A-Z]+"),
    ("social: md will call son don reid regarding drain.", "don reid", "NAME", r"[a-z]+ [a-z]+"),
    ("dtr Frances Baker at bedside.", "Frances Baker", "NAME", r"[A-Z][a-z]+ [A-Z][a-z]+"),
    ("bp elevations reported to dr yi, will follow.", "yi", "NAME", r"[a-z]+"),
    ("METABOLIC ALK. DR.DISANGRO AWARE.", "DISANGRO", "NAME", r"[A-Z]+"),
    ("CXR DONE-AS PER B. KARGAS PA AWARE.", "B. KARGAS", "NAME", r"[A-Z]\. [A-Z]+"),
    ("gi: mrs. Park ate small amount.", "Park", "NAME", r"[A-Z][a-z]+"),
    ("HIGH TEENS, FEBRILE NP JEN AWARE.", "JEN", "NAME", r"[A-Z]+"),
    ("Care discussed with family.\n Mary Rueping\n", "Mary Rueping", "NAME", r"[A-Z][a-z]+ [A-Z][a-z]+"),
    ("PT TRANSFERRED TO GH. CATHED THERE.", "GH", "FACILITY", r"[A-Z]{2,5}"),
    ("rec'd lasix enroute to gh er. intubated.", "gh", "FACILITY", r"[a-z]{2,5}"),
    ("plan: transfer to quartermain 2 today", "quartermain", "LOCATION", r"[a-z]+( [a-z]+)*"),
    ("LIVES WITH SON AND FAMILY IN ROCKVILLE. ALSO HAS", "ROCKVILLE", "LOCATION", r"[A-Z]+( [A-Z]+)*"),
    ("health care proxy who lives in DC.", "DC", "LOCATION", None),
    ("call dtr at 212- 476- 8356.", "212- 476- 8356", "PHONE", r"\d{3}- \d{3}- \d{4}"),
    ("Daughter can be reached at 410-322-1419 or (603) 960 5357.", "(603) 960 5357", "PHONE", None),
]


def _spans(text: str) -> list[str]:
    return [text[s.start : s.end] for s in find_phi(text)]


@pytest.mark.parametrize("sentence", MUST_SURVIVE)
def test_clinical_text_is_not_marked_or_changed(analyzer, sentence):
    assert _spans(sentence) == [], f"marked in {sentence!r}"
    assert deidentify(sentence, "patient-1", secret=SECRET) == sentence


@pytest.mark.parametrize(("text", "phi", "label", "shape"), MUST_FIND, ids=[c[1] for c in MUST_FIND])
def test_phi_in_nursing_forms_is_found_and_keeps_its_shape(analyzer, text, phi, label, shape):
    start = text.index(phi)
    hits = [s for s in find_phi(text) if s.start <= start and s.end >= start + len(phi)]
    assert hits, f"{phi!r} missed in {text!r}: {_spans(text)}"
    assert hits[0].label == label
    out = deidentify(text, "patient-1", secret=SECRET)
    assert not re.search(rf"(?<!\w){re.escape(phi)}(?!\w)", out), out
    if shape is not None:
        before, after = text[:start], text[start + len(phi) :]
        assert out.startswith(before) and out.endswith(after), out
        surrogate = out[len(before) : len(out) - len(after)]
        assert re.fullmatch(shape, surrogate), f"{phi!r} became {surrogate!r}"


def _shifted(text: str) -> list[date]:
    return [date(2000, int(m), int(d)) for m, d in re.findall(r"(\d{1,2})/(\d{1,2})", text)]


def test_a_date_range_moves_as_one():
    note = "ON HEPARIN 7/22-7/24, CATH 7/24."
    out = deidentify(note, "patient-7", secret=SECRET)
    first, second, third = _shifted(out)
    assert second - first == timedelta(days=2) and third == second
    assert out != note and re.fullmatch(r"ON HEPARIN \d{1,2}/\d{1,2}-\d{1,2}/\d{1,2}, CATH \d{1,2}/\d{1,2}\.", out)


def test_dates_without_a_year_shift_like_dated_ones():
    out = deidentify("admitted 3/5/2020, extubated 3/8.", "patient-9", secret=SECRET)
    full, short = re.findall(r"\d{1,2}/\d{1,2}(?:/\d{4})?", out)
    m, d, y = (int(x) for x in full.split("/"))
    sm, sd = (int(x) for x in short.split("/"))
    assert date(y, sm, sd) - date(y, m, d) == timedelta(days=3)


def test_a_number_becomes_a_zip_only_when_it_is_one(analyzer):
    for text in ("FB for LOS 12883 since 0000.", "CPK 3932, trop 0.4.", "weight 72.5 kg, 54321 steps"):
        assert not [s for s in find_phi(text) if s.label == "ZIP"], text
    found = find_phi("Lives at 12 Oak Road, Salem, MA 01970.")
    assert any(s.label == "ZIP" for s in found)
