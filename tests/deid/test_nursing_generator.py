"""The generator's nursing notes: exact PHI truth in the forms ICU notes use, and the de-identifier finds it
without marking the clinical text around it."""

import random

import regex as re

from deid import find_phi
from synthetic.nursing import nursing_notes


def test_every_span_is_exact_and_the_notes_vary():
    notes = nursing_notes(5, 40)
    cases = set()
    for text, spans in notes:
        assert spans and all(text[s["start"] : s["end"]] == s["text"] for s in spans)
        letters = [ch for ch in text if ch.isalpha()]
        cases.add("upper" if all(ch.isupper() for ch in letters) else "lower" if all(ch.islower() for ch in letters)
                  else "mixed")  # fmt: skip
    assert cases == {"upper", "lower", "mixed"}
    texts = [s["text"] for _, spans in notes for s in spans if s["label"] == "DATE"]
    assert any(re.fullmatch(r"\d{1,2}/\d{1,2}", d) for d in texts)  # dates without a year
    assert any(re.fullmatch(r"\d\d'|'\d\d", d) for d in texts)  # two-digit years
    phones = {s["text"] for _, spans in notes for s in spans if s["label"] == "PHONE"}
    assert len({re.sub(r"\d", "9", p) for p in phones}) >= 4  # phone numbers in several formats


def test_the_same_seed_writes_the_same_notes():
    assert nursing_notes(9, 3) == nursing_notes(9, 3)
    assert nursing_notes(9, 3) != nursing_notes(10, 3)


def test_the_deidentifier_finds_the_phi_and_leaves_the_clinical_text(analyzer):
    notes = random.Random(1).sample(nursing_notes(21, 60), 20)
    found = total = marked = wrong = 0
    for text, spans in notes:
        predicted = find_phi(text)
        for s in spans:
            total += 1
            found += any(p.start < s["end"] and s["start"] < p.end for p in predicted)
        for p in predicted:
            marked += 1
            wrong += not any(p.start < s["end"] and s["start"] < p.end for s in spans)
    assert found / total >= 0.95, (found, total)
    assert wrong / marked <= 0.05, (wrong, marked)
