"""A given name before a surname in the possessive is a person's, not an eponym: "<Given> <Surname>'s test"."""

from functools import lru_cache

import regex as re

# Heads that keep a given name in an eponym ("<Given> <Surname>'s disease"): a disease or a sign is named after a
# person in full; a person's own belongings never take these heads.
DISEASE_HEADS = frozenset("disease syndrome palsy sign phenomenon triad angina dementia".split())

_POSSESSIVE_HEAD = re.compile(r"['’][sS][ \t]+(\p{L}+)")
_GIVEN_BEFORE = re.compile(r"\b(\p{Lu}\p{L}+)[ \t]+$")
_WORDS = re.compile(r"\p{L}[\p{L}'’-]*")


def persons_possessive(text: str, start: int, end: int) -> bool:
    """The hit [start, end) is, or ends, "<Given> <Surname>" and the surname is in the possessive before a head
    that is no disease's (in any case): a person's ("<Given> <Surname>'s test results"), whatever head follows,
    since an eponym is a surname alone.

    >>> persons_possessive("Reviewed Tomas Brandt's test results.", 9, 23)
    True
    >>> persons_possessive("Reviewed Tomas Brandt's test results.", 15, 21)
    True
    >>> persons_possessive("Positive Romberg's test.", 9, 16)
    False
    """
    possessive = _POSSESSIVE_HEAD.match(text, end) or _POSSESSIVE_HEAD.match(text, max(start, end - 2))
    if possessive is None or possessive.group(1).lower() in DISEASE_HEADS:
        return False
    words = _WORDS.findall(text, start, end)
    if len(words) >= 2:
        return given_name(words[0])
    before = _GIVEN_BEFORE.search(text, max(0, start - 40), start)
    return before is not None and given_name(before.group(1))


def given_name(word: str) -> bool:
    """A given name of the name lists that is not ambiguous, common or clinical ("Mark", "Grant" are listed as
    ambiguous); Philter's given names that are no English or clinical word count too."""
    from deid.text.lexicon import AMBIGUOUS_NAMES, COMMON_WORDS
    from deid.text.vocabulary import clinical_word

    low = word.lower()
    if lexicon_given_name(low):
        return True
    return (
        len(low) >= 3
        and low in _first_names()
        and low not in AMBIGUOUS_NAMES | COMMON_WORDS
        and not clinical_word(low)
    )


def lexicon_given_name(word: str) -> bool:
    """A given name by Philter's list that is no English or clinical word, nor one cut short or misspelt
    ("bair" of Bair Hugger is both a given name and the device)."""
    from deid.text.vocabulary import clinical_word, philter_lists
    from deid.text.words import english_word

    low = word.lower()
    if len(low) < 4 or low not in philter_lists().get("firstnames", ()):
        return False
    return not english_word(low) and not clinical_word(low)


@lru_cache(maxsize=1)
def _first_names() -> frozenset[str]:
    from deid.text.lexicon import FIRST_NAMES, WORLD_GIVEN_NAMES

    return frozenset(FIRST_NAMES) | WORLD_GIVEN_NAMES
