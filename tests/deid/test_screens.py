"""The rules' screens (deid.text.screens) skip only texts their pattern cannot match: the rules find the same
hits with and without them, on constructed texts and on every note and line of the real corpora."""

import dataclasses

import pytest

from deid.text.context_rules import CONTEXT_RULES
from deid.text.patterns import RULES, iter_matches
from deid.text.screens import fewest, literals, passes, screened_text

from .conftest import SHARED

SCREENED = [r for r in RULES + CONTEXT_RULES if r.screen or r.require is not None]


def _bare(rules):
    return tuple(dataclasses.replace(r, screen=(), require=None) for r in rules)


def _hits(text: str, rules) -> list:
    return list(iter_matches(text, rules))


def test_literals_and_fewest():
    assert literals("(?:Hospital|Hospitals|Medical Center)") == ("hospital", "medical center")
    assert literals("(?i:aware|notified)") == ("aware", "notified")
    assert fewest([".info", ".in", ".com"]) == (".com", ".in")
    with pytest.raises(ValueError):
        literals(r"(?:St\.|Mt)")  # a pattern, not a word: no screen can be read from it


def test_screen_reads_ascii_text_only():
    assert screened_text("Seen at Mercy Hospital") == "seen at mercy hospital"
    assert screened_text("Seen at Mercy Hôpital") is None
    assert passes(("hospital",), None) and passes((), "anything")
    assert not passes(("hospital",), "seen at home")


def test_case_insensitive_letters_beyond_ascii_still_match():
    # the Kelvin sign is a k to a case-insensitive pattern, and lower() leaves it as it is: such a text is
    # not screened, so the season rule still sees "Thanksgiving 2019"
    text = "Seen around than\u212asgiving 2019 at home."
    assert ("season_year" in [h[4] for h in _hits(text, RULES)]) is True


@pytest.mark.parametrize(
    "text",
    [
        "Transferred from Elm Valley General Hospital on 3/4/2021; seen at UCSF in March of 2020.",
        "Dtr Ann aware. Spoke with Ann, who lives in Dayton. Email: a.b@example.org, www.example.com.",
        "Address: Hauptstraße 12, PO Box 44, zip code 02115. Since the 3rd, CVA in 94 and 00, MI '92.",
        "Thanksgiving 2019; next Tuesday; SSN: 123-45-6789; +44 20 7946 0958; APO AE; lives in Rome.",
        "PT SEEN BY DR. ADAMS AT MERCY HOSPITAL CLINIC. MED CENTER NOTIFIED. Visited her at the memorial hospital.",
        "nothing here but ordinary words and numbers 12 34",
    ],
)
def test_same_hits_with_and_without_screens(text):
    assert _hits(text, RULES) == _hits(text, _bare(RULES))
    assert _hits(text, CONTEXT_RULES) == _hits(text, _bare(CONTEXT_RULES))


def _corpus_texts() -> list[str]:
    from deid.text.corpora import read_corpus

    phi = SHARED / "phi-annotated"
    sources = [
        (phi / "physionet-nursing-dev", "physionet", None),
        (phi / "general-pii-sentences", "presidio-research", None),
        (phi / "clinical-queries", "clinical-queries", None),
        (SHARED / "notes-mtsamples" / "curated", "brat", 400),
    ]
    texts = [d.text for path, fmt, limit in sources if path.exists() for d in read_corpus(path, fmt, limit)]
    if not texts:
        pytest.skip("../shared/data is not here")
    return texts


@pytest.mark.slow
def test_screens_hold_on_the_corpora():
    """Every note and every line of the real corpora that a screened rule's pattern matches passes its screen
    (so the screen skips nothing the rule would find), and the rules' hits on each note are the same."""
    bare_rules, bare_context = _bare(RULES), _bare(CONTEXT_RULES)
    for text in _corpus_texts():
        plain = text.replace("’", "'").replace("‘", "'")
        for unit in [plain, *plain.split("\n")]:
            low = screened_text(unit)
            for rule in SCREENED:
                if rule.pattern.search(unit) is not None:
                    assert passes(rule.screen, low), rule.name
                    assert rule.require is None or rule.require.search(unit) is not None, rule.name
        assert _hits(text, RULES) == _hits(text, bare_rules)
        assert _hits(text, CONTEXT_RULES) == _hits(text, bare_context)


def test_rules_over_a_batch_find_what_they_find_text_by_text():
    """The batch pass (one rule at a time over all texts) gives each text the hits of the rules run on it
    alone, in the same order; the recognizer takes a batch's hits only for the text they were found in."""
    from presidio_analyzer.nlp_engine import NlpArtifacts

    from deid.text.context_rules import iter_context_matches
    from deid.text.recognizers import RULE_MATCHES, ClinicalRuleRecognizer, rule_matches_by_text

    texts = [
        "Transferred from Elm Valley General Hospital on 3/4/2021; dtr Ann aware, lives in Dayton.",
        "PT SEEN BY DR. ADAMS AT MERCY HOSPITAL CLINIC 5/6. Call 617-555-0142, MRN 123456.",
        "",
        "nothing here but ordinary words",
        "Children’s Hospital, Dr. O’Neil’s patient, seen 7/8",
    ]
    by_text = [[*iter_matches(t, RULES), *iter_context_matches(t)] for t in texts]
    assert rule_matches_by_text(texts) == by_text and sum(map(len, by_text)) > 5
    rec = ClinicalRuleRecognizer()
    artifacts = NlpArtifacts(
        entities=[], tokens=None, tokens_indices=[], lemmas=[], nlp_engine=None, language="en"
    )
    setattr(artifacts, RULE_MATCHES, (texts[0], by_text[0]))
    assert [(r.start, r.end) for r in rec.analyze(texts[0], [], artifacts)] == [(s, e) for s, e, *_ in by_text[0]]
    # another text's hits are not taken
    assert [(r.start, r.end) for r in rec.analyze(texts[1], [], artifacts)] == [(s, e) for s, e, *_ in by_text[1]]


@pytest.mark.slow
def test_rules_over_a_batch_on_the_corpora():
    from deid.text.context_rules import iter_context_matches
    from deid.text.recognizers import rule_matches_by_text

    texts = _corpus_texts()
    for i in range(0, len(texts), 64):
        batch = texts[i : i + 64]
        assert rule_matches_by_text(batch) == [[*iter_matches(t, RULES), *iter_context_matches(t)] for t in batch]
