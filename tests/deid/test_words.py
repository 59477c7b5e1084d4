"""Word classes the rules share: the ALL-CAPS test counts letters the same way in its ASCII shortcut as by
Unicode category, on constructed lines and on every line of the real corpora."""

import pytest
import regex as re

from deid.text.words import is_all_caps

from .conftest import SHARED


def _by_category(segment: str) -> bool:
    """is_all_caps by its definition: Unicode upper- and lower-case letters counted with \\p{Lu}, \\p{Ll}."""
    upper, lower = len(re.findall(r"\p{Lu}", segment)), len(re.findall(r"\p{Ll}", segment))
    return upper >= 6 and upper + lower >= 8 and upper > 0.7 * (upper + lower)


@pytest.mark.parametrize(
    "segment",
    [
        "PATIENT SEEN IN CLINIC, BP 120/80",
        "Patient seen in clinic",
        "ABCDEF",  # six capitals, too few letters
        "ABCDEFgh",  # exactly 75 %
        "ABCDEFGhij",  # exactly 70 %: not more
        "CALLED DTR AT 14:00 -- AWARE",
        "ÉCOLE MÜLLER À PARIS, VU LE 3/4",  # non-ASCII capitals count as capitals
        "Zoë Müller, Ørsted ward",
        "",
    ],
)
def test_all_caps_counts_letters_as_unicode_does(segment):
    assert is_all_caps(segment) is _by_category(segment)


@pytest.mark.slow
def test_all_caps_matches_its_definition_on_the_corpora():
    from deid.text.corpora import read_corpus

    phi = SHARED / "phi-annotated"
    sources = [(phi / "physionet-nursing-dev", "physionet"), (phi / "general-pii-sentences", "presidio-research"),
               (SHARED / "notes-mtsamples" / "curated", "brat")]  # fmt: skip
    lines = [line for path, fmt in sources if path.exists() for d in read_corpus(path, fmt, 400)
             for line in d.text.split("\n")]  # fmt: skip
    if not lines:
        pytest.skip("../shared/data is not here")
    assert sum(map(is_all_caps, lines)) > 0
    assert [is_all_caps(line) for line in lines] == [_by_category(line) for line in lines]
