"""ICU nursing shorthand keeps its meaning: the generator's second grammar (frame families split between its
tuning and check parts) and the guards for what it writes (a sign with its polarity, a drip at its rate,
counted shorthand, a service after "per", a unit of care, stretches of clock times, a net balance, a log
entry's clock time, a header before a drug). PHI of the same shapes, that must still be found, is in
test_clinical_meaning.py (PHI_BESIDE)."""

import pytest
import regex as re

from deid import find_phi

sentences = pytest.importorskip("synthetic.clinical_sentences")
try:
    sentences.drug_lexicon()
except LookupError:
    pytest.skip("no drug dictionary installed", allow_module_level=True)


def test_icu_grammar_is_seeded_and_its_parts_share_no_frame():
    a = sentences.clinical_sentences(60, "tuning", 5, "icu")
    assert a == sentences.clinical_sentences(60, "tuning", 5, "icu")
    assert a != sentences.clinical_sentences(60, "tuning", 5)  # the first grammar's stream is its own
    tuning, check = sentences.icu_families("tuning"), sentences.icu_families("check")
    assert set(tuning) == set(check) == set(sentences.CLASSES)
    for cls in sentences.CLASSES:
        assert tuning[cls] and check[cls] and not set(tuning[cls]) & set(check[cls]), cls
    with pytest.raises(ValueError, match="grammar"):
        sentences.ClinicalSentences("tuning", 0, "prose")


# Year-shaped clock times after "since" stay years (nothing in the grammar tells "since 2000" apart), and
# an eponymous scale's bare name before its value stays a name ("<Surname> 3" is how a named ward is written).
_KEPT = re.compile(r"(?:19\d\d|20[0-4]\d)")


def test_a_seeded_tuning_slice_of_icu_shorthand_is_not_marked(analyzer):
    marked = []
    for cls, text in sentences.clinical_sentences(150, "tuning", 26, "icu"):
        for s in find_phi(text):
            span = text[s.start : s.end]
            if s.label == "DATE" and _KEPT.fullmatch(span) and re.search(r"(?i:since)[ \t]*$", text[: s.start]):
                continue
            if cls == "score" and re.match(r"[ \t]+(?:\d|(?i:and))", text[s.end :]):
                continue
            marked.append((cls, text, s.label, span))
    assert marked == [], marked[:5]


# Constructed ICU lines, one or more per guard; none holds PHI.
CLEAN = [
    "NEG CHVOSTEK'S, NEG TROUSSEAU'S",  # a sign and its polarity
    "Cheyne Stokes positive overnight",
    "Osborn waves on EKG, Roth spots on fundoscopy",  # head nouns: waves, spots
    "Hamman's crunch heard, Corrigan's pulse noted",
    "Norwood class 2",
    "DOBUT @ .5MCG/KG/MIN",  # a drip at its rate
    "levo @ 8 mcg/min, neo weaned",
    "A&O x3, MAE x4",  # counted shorthand
    "abx changed per ID",  # a service after per
    "transferred to TSICU from CVICU, seen by NSICU resident",  # units of care
    "events: sleeping 0430-1315, 0930-0100 uneventful",  # stretches of clock times
    "lytes due @ 0515, next hct @ 1700 1830",
    "I/O 2821/1829 (+2017)",  # a net balance
    "2015 - RESP: SX X1",  # a log entry's clock time
    "FS 97, 115 AND 345",  # numbers joined by and
    "MAE 4/5 x4",  # a strength grade
    "hx Lou Gehrig's disease",  # a given name before <Surname>'s disease
    "GCS 6 (E3 VT M5)",
    # written after the ICU check part was scored (it showed these forms): a device in its state, a measure
    # with its frequency, an intake/output pair
    "Pleurevac in place, Hickman intact",
    "QUINTON TO LWS",
    "Broviac d/c'd",
    "LYTES Q6H",
    "total in 1150 / out 1985",
    # from what the PhysioNet tuning part marks outside its gold: a tube feed at a rate without its unit, a
    # drug after a count of units, a clock time after "@" read as a name
    "tube feeds via OGT, Isocal @ 45/hr",
    "insulin 6u and 14U Lenti AM",
    "gave 20 meq Klor PO",
]


@pytest.mark.parametrize("text", CLEAN)
def test_icu_shorthand_is_not_marked(analyzer, text):
    assert find_phi(text) == [], text


def test_a_span_without_a_letter_is_no_name():
    from deid.text.clinical_guard import clinical_reason

    text = "Seen by Jones @ 1400"
    assert clinical_reason(text, 16, 20, "NAME", "tagger") == "number"
    assert clinical_reason(text, 8, 13, "NAME", "tagger") is None


def test_a_header_before_a_drug_is_judged_by_the_drug(analyzer):
    from deid.text.clinical_guard import clinical_reason

    drug = next(d for d in sentences.drug_lexicon() if d.startswith("nedo"))
    text = f"Gtts: {drug.title()} given"
    assert clinical_reason(text, 0, len(text) - len(" given"), "ORGANIZATION", "spacy") == "drug"
    text = "Attending: Rosalind Okafor"
    assert clinical_reason(text, 0, len(text), "NAME", "spacy") is None
