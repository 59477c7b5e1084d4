"""Numbers that clinical writing gives the shape of PHI (a grade, a score, a count, a gestational age, a size,
a pair of lab values written d/d; a dilution, an image's number, a suture's size) are no PHI, and dates
written the same way (month/day, month/two-digit year, ranges, lists) stay found."""

import pytest
import regex as re
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deid import find_phi
from deid.text.clinical_guard import clinical_reason
from deid.text.clinical_numbers import fraction_class

# Written for this test (none is taken from a corpus): (sentence, the fraction in it, what it is).
FRACTIONS = [
    ("Hip abduction 4/5 on the left and 5/5 on the right.", "4/5", "grade"),
    ("Hip abduction 4/5 on the left and 5/5 on the right.", "5/5", "grade"),
    ("Strength is 5/5 throughout except the left iliopsoas, which is 4/5.", "4/5", "grade"),
    ("Knee extension 5/5, ankle dorsiflexion 4/5, great toe extension 4-/5.", "4/5", "grade"),
    ("The deltoid is -5/5 and the biceps 4/4-, both on the right.", "5/5", "grade"),
    ("Reflexes are 2/4 at the biceps and 1/4 at the ankles.", "1/4", "grade"),
    ("Reflexes 2+/2+ in the arms, 1/1 at the knees and 0/0 at the ankles.", "1/1", "grade"),
    ("Radial pulses are 2/4 and symmetric; dorsalis pedis pulses 1/4.", "2/4", "grade"),
    ("The right lower extremity is 3/5 distally.", "3/5", "grade"),
    ("She rates her pain as 7/10, improving to 3/10 with rest.", "7/10", "score"),
    ("She rates her pain as 7/10, improving to 3/10 with rest.", "3/10", "score"),
    ("Pain is 3-4/10 at rest and 10/10 for worst pain at night.", "4/10", "score"),
    ("Pain is 3-4/10 at rest and 10/10 for worst pain at night.", "10/10", "score"),
    ("Back pain at a level of 8-9/10 radiating to the knee.", "9/10", "score"),
    ("Discomfort increased to 6/10 after walking.", "6/10", "score"),
    ("A grade 3/6 holosystolic murmur is heard at the apex.", "3/6", "score"),
    ("There is a 2/6 soft systolic ejection murmur at the left sternal border.", "2/6", "score"),
    ("Apgars 8/9 at one and five minutes.", "8/9", "score"),
    ("Biophysical profile 8/8 with normal amniotic fluid.", "8/8", "score"),
    ("Visual acuity 6/9 in the right eye with correction.", "6/9", "score"),
    ("Gleason score 3+4=7/10 in the left lobe.", "7/10", "score"),
    ("Recalled 1/3 words at five minutes.", "1/3", "count"),
    ("Carcinoma in 1/5 lymph nodes; 0/12 nodes in the second level.", "1/5", "count"),
    ("Adenocarcinoma in 3/12 cores, all from the right base.", "3/12", "count"),
    ("Intrauterine pregnancy at 30 and 4/7 weeks.", "4/7", "amount"),
    ("Admitted at 38 and 2/7th weeks gestation in labor.", "2/7", "amount"),
    ("A 10-and-4/12-year-old girl with asthma.", "4/12", "amount"),
    ("A 6-4/12-year-old boy with fever.", "4/12", "amount"),
    ("Ports: a 10/12 trocar at the umbilicus and two 5-mm ports.", "10/12", "amount"),
    ("A laceration 1/2 to 1 inch long on the forearm.", "1/2", "amount"),
    ("She walks 1/2 mile a day and drinks 3/4 cup of coffee.", "3/4", "amount"),
    ("Seizure free for the past 2 1/2\nyears.", "1/2", "amount"),
    ("Injected 1/8th of a cc of contrast, then 5/6th of the rest.", "1/8", "amount"),
    ("H&H 10/32, stable from yesterday.", "10/32", "lab pair"),
    ("Her hemoglobin and hematocrit were 9/28; Hgb/Hct 10/31 today.", "9/28", "lab pair"),
    ("Her hemoglobin and hematocrit were 9/28; Hgb/Hct 10/31 today.", "10/31", "lab pair"),
    ("A 9/1 mixture of bupivacaine and triamcinolone was injected.", "9/1", "mixture"),
]

# Dates written as clinicians write them, next to the same clinical words: they must stay found.
DATES = [
    ("Extubated 7/22, reintubated 7/24.", "7/22"),
    ("Heparin 7/22-7/24, cath 7/24.", "7/24"),
    ("MI in 4/92 and CABG since 5/05.", "4/92"),
    ("MI in 4/92 and CABG since 5/05.", "5/05"),
    ("Seen on 4/5 in clinic; strength was normal.", "4/5"),
    ("Admitted 3/4 for a knee replacement on the left.", "3/4"),
    ("PICC placed 3/2 in the right arm.", "3/2"),
    ("PICC 2/4 L arm, dressing intact.", "2/4"),  # a side and a limb alone grade nothing
    ("Last pain medication given on 7/10 at 1400.", "7/10"),
    ("Pain 4/10, foley removed 6/10.", "6/10"),
    ("Next visit 1/5, labs 1/3 and 1/4.", "1/5"),
    ("Plan for extubation 10/3, left IJ placed 10/2.", "10/2"),
    ("Chemotherapy (3/92, 6/92, 9/92) for the left breast.", "6/92"),
]


def _at(sentence: str, piece: str) -> tuple[int, int]:
    m = re.search(rf"(?<![\d/]){re.escape(piece)}(?![\d/])", sentence)
    assert m is not None, piece
    return m.start(), m.end()


@pytest.mark.parametrize(("sentence", "fraction", "kind"), FRACTIONS, ids=[f"{k}-{f}" for _, f, k in FRACTIONS])
def test_a_clinical_fraction_is_read_as_what_it_measures_and_never_marked(analyzer, sentence, fraction, kind):
    start, end = _at(sentence, fraction)
    assert fraction_class(sentence, start, end) == kind
    assert clinical_reason(sentence, start, end, "DATE") == "fraction"
    marked = [sentence[s.start : s.end] for s in find_phi(sentence) if s.start < end and start < s.end]
    assert marked == [], f"{fraction!r} marked in {sentence!r}"


@pytest.mark.parametrize(("sentence", "date"), DATES, ids=[d for _, d in DATES])
def test_a_date_beside_clinical_words_stays_found(analyzer, sentence, date):
    start, end = _at(sentence, date)
    assert fraction_class(sentence, start, end) is None
    assert any(s.label == "DATE" and s.start <= start and end <= s.end for s in find_phi(sentence)), date


@pytest.mark.parametrize(
    ("sentence", "piece", "label", "reason"),
    [
        ("Infiltrated with 1% lidocaine with epinephrine 1:50000.", "50000", "ZIP", "ratio"),
        ("Lidocaine with epinephrine 1:200000 was injected.", "200000", "ID", "ratio"),
        ("Please see image #1452 and series 3 for the lesion.", "1452", "ID", "sequence number"),
        ("The fascia was closed with #0 Vicryl suture.", "0 Vicryl", "ADDRESS", "size"),
        ("Cystoscopy with a #23 French scope and a 70-degree lens.", "23 French", "ADDRESS", "size"),
        ("After 100 cc Omnipaque 240 intravenous contrast.", "100 cc Omnipaque 240", "ADDRESS", "size"),
    ],
)
def test_a_ratio_an_image_number_or_a_size_is_no_zip_id_or_address(sentence, piece, label, reason):
    start = sentence.index(piece)
    assert clinical_reason(sentence, start, start + len(piece), label) == reason


@pytest.mark.parametrize(
    "sentence",
    [
        "MR angiography of the neck was normal.",
        "An MR myelogram showed stenosis at two levels.",
        "She was transferred from the outside hospital for a biopsy.",
        "He presented at a local hospital and then to the closest hospital.",
        "She would be safer in the safety of the hospital operating room.",
        "He is a retired machinist who worked at the bank for years.",
        "The ureteroscope was passed up to the UPJ without difficulty.",
        "Infiltrated with 1% lidocaine with epinephrine 1:50000.",
        "Please see image #1452 for the lesion.",
    ],
)
def test_clinical_words_after_titles_places_and_numbers_are_not_marked(analyzer, sentence):
    assert [sentence[s.start : s.end] for s in find_phi(sentence)] == []


@pytest.mark.parametrize(
    ("sentence", "phi"),
    [
        ("MR Okafor was seen in clinic.", "Okafor"),
        ("Transferred from lakeshore general hospital overnight.", "lakeshore general hospital"),
        ("The patient was transferred to UCSF for a biopsy.", "UCSF"),
        ("He lives in Rockville with his wife.", "Rockville"),
        ("Lives at 41 Birch Road in Salem.", "41 Birch Road"),
        ("Call 410-555-0199 or MRN 12345678.", "12345678"),
    ],
)
def test_phi_next_to_the_same_grammar_stays_marked(analyzer, sentence, phi):
    start = sentence.index(phi)
    assert any(s.start < start + len(phi) and start < s.end for s in find_phi(sentence)), phi


# ---- properties: the grammar, not the examples ------------------------------------------------------------
_MUSCLES = ["hip flexion", "knee extension", "deltoid", "grip", "ankle dorsiflexion", "biceps", "iliopsoas"]
_SIDES = ["on the left", "on the right", "bilaterally", "throughout"]
_REFLEX_SITES = ["biceps", "triceps", "patellae", "Achilles", "brachioradialis"]


@st.composite
def _score_sentence(draw) -> tuple[str, str]:
    """A sentence with a fraction in a score's, a grade's or a count's grammar, and that fraction."""
    kind = draw(st.sampled_from(["strength", "reflex", "pain", "murmur", "gestation", "nodes", "inch"]))
    if kind == "strength":
        n = draw(st.integers(0, 5))
        frac = f"{n}/5"
        text = f"{draw(st.sampled_from(_MUSCLES)).capitalize()} {frac} {draw(st.sampled_from(_SIDES))}."
    elif kind == "reflex":
        n, d = draw(st.integers(0, 4)), draw(st.sampled_from([2, 4]))
        frac = f"{min(n, d)}/{d}"
        text = f"Reflexes {frac} at the {draw(st.sampled_from(_REFLEX_SITES))}."
    elif kind == "pain":
        frac = f"{draw(st.integers(0, 10))}/10"
        text = draw(st.sampled_from([f"Pain {frac} at rest.", f"She rates her pain {frac}.", f"{frac} pain"]))
    elif kind == "murmur":
        frac = f"{draw(st.integers(1, 6))}/6"
        text = f"A grade {frac} systolic murmur at the apex."
    elif kind == "gestation":
        frac = f"{draw(st.integers(1, 6))}/7"
        text = f"Pregnancy at {draw(st.integers(24, 42))} and {frac} weeks."
    elif kind == "nodes":
        d = draw(st.integers(1, 30))
        frac = f"{draw(st.integers(0, d))}/{d}"
        text = f"Metastatic carcinoma in {frac} lymph nodes."
    else:
        d = draw(st.sampled_from([2, 4, 8, 16]))
        frac = f"{draw(st.integers(1, d - 1))}/{d}"
        text = f"A {frac} inch laceration on the scalp."
    return text, frac


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_score_sentence())
def test_a_fraction_in_a_score_context_is_never_a_date(analyzer, case):
    text, frac = case
    start, end = _at(text, frac)
    assert not [s for s in find_phi(text) if s.label == "DATE" and s.start < end and start < s.end], text


@st.composite
def _date_sentence(draw) -> tuple[str, str]:
    """A sentence with a month/day (or month/two-digit year) in a date's grammar, and that date."""
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    frac = f"{month}/{day}"
    template = draw(
        st.sampled_from(
            [
                "Extubated on {} and transferred to the floor.",
                "Admitted {} for chest pain.",
                "Strength 5/5 throughout. Seen on {} by the team.",
                "Pain 4/10, foley removed {}.",
                "Reflexes 2+ and symmetric; CT head {} negative.",
                "Last BM {}.",
                "Heparin {}-" + f"{month}/{day + 2}" + ".",
            ]
        )
    )
    if draw(st.booleans()):
        frac = f"{month}/{draw(st.integers(70, 99))}"
        template = draw(st.sampled_from(["PMH: MI in {}, CABG.", "History of a stroke since {}."]))
    return template.format(frac), frac


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_date_sentence())
def test_a_month_and_day_in_a_date_context_is_always_a_date(analyzer, case):
    text, frac = case
    start, end = _at(text, frac)
    assert any(s.label == "DATE" and s.start <= start and end <= s.end for s in find_phi(text)), text
