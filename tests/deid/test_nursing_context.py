"""Nursing-note PHI by its context and the clinical text that must survive beside it: constructed sentences
(no sentence of a development corpus), one per class the rules handle."""

import pytest

from deid import find_phi
from deid.text.note_names import clinical_only, repeated_names
from deid.text.vocabulary import clinical_lookalike


def _marked(text: str, needle: str, labels: tuple[str, ...] | None = None) -> bool:
    start = text.index(needle)
    end = start + len(needle)
    return any(s.start < end and start < s.end and (labels is None or s.label in labels) for s in find_phi(text))


@pytest.mark.parametrize(
    ("text", "phi", "labels"),
    [
        ("SOCIAL: SON-TEODORO---415 555-0199, CALL WITH CHANGES.", "415 555-0199", ("PHONE",)),
        ("pt uneasy overnight. hilda kowalczyk aware, will see in am.", "kowalczyk", ("NAME",)),
        ("BP 88/40 AFTER DIURESIS. NP WOJCIK MADE AWARE, FLUID BOLUS GIVEN.", "WOJCIK", ("NAME",)),
        ("PLAN: DISCHARGE TO ST. AGNES ON FRIDAY PER CASE MANAGER.", "AGNES", None),
        ("PMH: CAD, MI in 87 and 03, HTN.", "87", ("DATE",)),
        ("PMH: CAD, MI in 87 and 03, HTN.", "03", ("DATE",)),
        ("social worker talked with ludmila about the plan for rehab.", "ludmila", ("NAME",)),
        ("Both Marisol and Teodoro are his health care proxies.", "Teodoro", ("NAME",)),
        ("transferred from er brookvale campus for cath.", "brookvale", None),
        ("stated october 3, 1889 when asked the date.", "1889", ("DATE",)),
    ],
)
def test_phi_in_nursing_context_is_found(analyzer, text, phi, labels):
    assert _marked(text, phi, labels)


@pytest.mark.parametrize(
    ("text", "clinical"),
    [
        ("RESP: ON BIPAP OVERNIGHT 12/5, FIO2 50%, SATS 95%.", "12/5"),
        ("abg 7.31/52/68 on 12/5 bipap, will recheck.", "12/5"),
        ("Vent settings PSV 12, CPAP 5, flowby 8/3. Sx for thick secretions.", "8/3"),
        ("RESP: remained on 10/5, 40% through the shift.", "10/5"),
        ("spont tv 350 - 450 cc, abg 7.41 38 92 on 40%.", "7.41 38 92"),
        ("ID: TMAX 101-101.6, CULTURES SENT.", "101-101.6"),
        ("TITRATE LASIX GTT TO KEEP UO ADEQ. CHECK AM LABS-REPLACE K AS NEEDED.", "AM LABS"),
        ("pt cold on arrival, warmed w bair hugger.", "bair"),
        ("MI in 24 hrs ruled out, hx of CHF.", "24"),
    ],
)
def test_clinical_text_beside_phi_survives(analyzer, text, clinical):
    assert not _marked(text, clinical)


def test_a_date_near_a_ventilator_in_another_clause_is_still_a_date(analyzer):
    assert _marked("RESP: MECH VENT VIA TRACH (PLACED 8/14), AC 500 X 12.", "8/14", ("DATE",))
    assert _marked("wean from vent and extubate 3/11 if gas ok.", "3/11", ("DATE",))


def test_clinical_lookalikes_are_clipped_or_misspelt_clinical_words_never_names():
    assert clinical_lookalike("dobuta") and clinical_lookalike("nuero") and clinical_lookalike("trache")
    assert not any(clinical_lookalike(n) for n in ("kowalczyk", "wojcik", "teodoro", "marisol", "kargas"))


def test_clinical_only_spans_need_a_word_of_the_clinic():
    assert clinical_only("Given Dobuta") and clinical_only("Nuero")
    assert not clinical_only("Rapid Cycle Solutions")  # English words: a company may be named so
    assert not clinical_only("Hilda Kowalczyk") and not clinical_only("the general hospital")


def test_a_found_name_is_a_name_wherever_the_note_repeats_it():
    text = "Seen by Dr. Wojcik today.\nplan per wojcik, WOJCIK to call back."
    first = text.index("Wojcik")
    spans = repeated_names(text, [(first, first + 6)], [(first, first + 6)])
    assert [text[s:e] for s, e in spans] == ["wojcik", "WOJCIK"]
