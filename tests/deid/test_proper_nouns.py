"""Names, places and organisations found by their shape, and the clinical words that must not be."""

import pytest

from deid import find_phi
from deid.text.gazetteer import is_city
from deid.text.proper_nouns import classify, find_proper_nouns, spread_over_lists

from .conftest import covered

# (text, the PHI in it): people and places no lexicon of US names would know, in any case and script.
MUST_CATCH = [
    ("Follow up with Jan Jílek in a couple of months.", "Jan Jílek"),
    ("Maybe it's under Elita B Desaulniers", "Elita B Desaulniers"),
    ("Willemine ten Pas will be talking in the conference.", "Willemine ten Pas"),
    ("Directed By:    Gladys L. Leblanc", "Gladys L. Leblanc"),
    ("Alvaro spent a year at Kowalczyk Partners.", "Kowalczyk"),
    ("follow up with patricia desrosiers in a couple of months.", "patricia desrosiers"),
    ("the codey m ross version was recorded later.", "codey m ross"),
    ("sometimes people call me višeslav", "višeslav"),
    ("the true gender of bertram has been under debate", "bertram"),
    ("mr. elliott flew home on friday.", "elliott"),
    ("plan: f/u in 2 weeks. wife ann at bedside.", "ann"),
    ("sister amy and brother josh visited.", "josh"),
    ("We moved here from Tjæreborg last year.", "Tjæreborg"),
    ("Mr. Demidov grew up in HELSINKI.", "HELSINKI"),
    ("I am in ΛΕΥΚΩΣΙΑ for a business trip", "ΛΕΥΚΩΣΙΑ"),
    ("my friend lives in harburg", "harburg"),
    ("i'm originally from switzerland", "switzerland"),
    ("Estonia was super fun to visit!", "Estonia"),
    ("Records went to the United Kingdom office.", "United Kingdom"),
    ("Looking to support them in Bjert 6091 this year.", "6091"),
    ("Suite 913 0547 Bygget 91\nANNERSTAD nan 340 12", "ANNERSTAD"),
    ("Suite 913 0547 Bygget 91\nANNERSTAD nan 340 12", "340 12"),
    ("Lives at 151 Cedar Lane, Joliet, IL 60432 with her husband.", "Joliet"),
    ("I work for Zillow since 2019.", "Zillow"),
    ("Can someone call me on 01.84.17.61.18? I have questions.", "01.84.17.61.18"),
    ("Mill Village     NS     B0J 2H0", "B0J 2H0"),
    ("My zip code is 880", "880"),
    ("# History of Present Illness\nMarine542 Ai120\n is a 60 year-old woman.", "Marine542 Ai120"),
    ("# History of Present Illness\nAugustus49\n is a 42 year-old man.", "Augustus49"),
    ("Mr. Leiva flew to LEPPEN on Tuesday morning.", "Tuesday"),
]


@pytest.mark.parametrize(("text", "phi"), MUST_CATCH, ids=[c[1] for c in MUST_CATCH])
def test_shaped_phi_is_caught(analyzer, text, phi):
    start = text.index(phi)
    assert covered(find_phi(text), start, start + len(phi)), f"{phi!r} missed"


def test_every_member_of_a_list_of_names_is_a_name(analyzer):
    text = "They had 6: Gaetane, Hannah, Anthony, Derek, Anna and Andrew."
    found = {text[s.start : s.end] for s in find_phi(text)}
    for name in ("Gaetane", "Hannah", "Anthony", "Derek", "Anna", "Andrew"):
        assert any(name in f for f in found), name
    lower = "they had 6: silvana, adam, christopher, kristina and caleb."
    assert {lower[s.start : s.end] for s in find_phi(lower)} >= {"silvana", "adam", "kristina", "caleb"}


def test_an_address_or_an_apposition_is_no_list():
    # "Cedar Lane, Wilmette, IL" has no "and"; "liver disease, John P." is a name after a comma.
    def is_word(w):
        return w in {"cedar", "lane", "liver", "disease"}

    text = "Lives at 675 Cedar Lane, Wilmette, IL 60091"
    assert spread_over_lists(text, [(13, 23, "NAME", 0.6), (25, 33, "NAME", 0.6)], is_word) == []
    text = "history of liver disease, John P., who"
    assert spread_over_lists(text, [(26, 33, "NAME", 0.9)], is_word) == []


def test_token_kinds():
    def is_word(w):
        return w in {"lane", "reading", "dimer", "post", "positive", "the"}

    def kind(text, word):
        i = text.index(word)
        return classify(text, i, i + len(word), is_word)

    assert kind("Seen by Kowalczyk", "Kowalczyk") == "unknown"
    assert kind("Seen by Pálffy", "Pálffy") == "unknown"  # accents mark a foreign name
    assert kind("Reading glasses", "Reading") == "known"  # a word at the start of a sentence
    assert kind("D-dimer high", "D-dimer") == "known"
    assert kind("Treated for COPD", "COPD") == "known"  # an acronym
    assert kind("grew up in HELSINKI.", "HELSINKI") == "caps_unknown"  # a town where a town stands


def test_runs_keep_initials_particles_and_drop_titles():
    def is_word(w):
        return w in {"ten", "will", "be", "talking", "seen", "by"}

    text = "Seen by Dr. Willemine ten Pas."
    spans = [(text[s:e], label) for s, e, label, _ in find_proper_nouns(text, is_word)]
    assert spans == [("Willemine ten Pas", "NAME")]


def test_gazetteer_knows_towns_that_are_words():
    assert is_city("joliet") and is_city("reading") and not is_city("tachycardia")
