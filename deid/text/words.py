"""Word classes the rules share: ALL-CAPS lines, dictionary words with their inflections, known and
English words."""

from functools import lru_cache

import regex as re

from deid.text.lexicon import COMMON_WORDS
from deid.text.nlp import word_lists

_UPPER = re.compile(r"\p{Lu}")
_LOWER = re.compile(r"\p{Ll}")
_ASCII_UPPER = bytes(range(65, 91))
_ASCII_LOWER = bytes(range(97, 123))


def is_all_caps(segment: str) -> bool:
    """At least 8 letters, more than 70 % of them capitals.

    >>> is_all_caps("PATIENT SEEN IN CLINIC, BP 120/80"), is_all_caps("Patient seen in clinic")
    (True, False)
    """
    if segment.isascii():  # \p{Lu} and \p{Ll} are A-Z and a-z here: counted in C, no list of matches
        data = segment.encode()
        upper = len(data) - len(data.translate(None, _ASCII_UPPER))
        if upper < 6:
            return False
        lower = len(data) - len(data.translate(None, _ASCII_LOWER))
    else:
        upper = len(_UPPER.findall(segment))
        if upper < 6:
            return False
        lower = len(_LOWER.findall(segment))
    return upper + lower >= 8 and upper > 0.7 * (upper + lower)


_SUFFIXES = ("s", "es", "d", "ed", "ing", "ly", "er", "ers", "al", "ic")
_PREFIXES = ("non", "un", "a", "an", "normo", "hyper", "hypo", "anti", "dys", "intra", "inter", "sub", "supra",
             "peri", "post", "pre", "re", "bi", "tri", "poly", "micro", "macro", "in", "im", "dis")  # fmt: skip


@lru_cache(maxsize=200_000)
def is_dictionary_word(low: str, dictionary: frozenset[str]) -> bool:
    """An English word, or one made of a dictionary word and a common prefix or inflection ("rubs",
    "nontender", "atraumatic")."""
    if low in dictionary or low in COMMON_WORDS:
        return True
    stems = [low[: -len(x)] for x in _SUFFIXES if low.endswith(x) and len(low) - len(x) >= 3]
    stems += [low[len(p) :] for p in _PREFIXES if low.startswith(p) and len(low) - len(p) >= 4]
    return any(s in dictionary or s in COMMON_WORDS for s in stems) or any(
        s[: -len(x)] in dictionary for s in stems for x in _SUFFIXES if s.endswith(x) and len(s) - len(x) >= 3
    )


def dictionary_word(low: str) -> bool:
    """is_dictionary_word against the model's dictionary."""
    return is_dictionary_word(low, word_lists().dictionary)


def known_word(low: str) -> bool:
    """A stop word, an ordinary or clinical word, or a dictionary word (with inflections)."""
    words = word_lists()
    return low in words.common or is_dictionary_word(low, words.dictionary)


def english_word(low: str) -> bool:
    """known_word, or a word that is also a name ("naomi", "max", "drew")."""
    return low in word_lists().english or known_word(low)
