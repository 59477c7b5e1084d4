"""The Clean Descriptors check: keep a free-text descriptor only if it carries nothing identifying.

PS3.15's Clean action replaces a value with one of similar meaning known not to hold identifying information.
We keep the value as it is when it is *verified* clean and otherwise fall back to the attribute's basic action,
so a descriptor either survives unchanged ("T1 AXIAL", "CT HEAD W/O CONTRAST") or not at all.
"""

import re
from collections.abc import Iterable

# Digit runs of 5+ (ids, phone numbers, compact dates), dotted or slashed dates, e-mail and URLs, phone shapes.
_IDENTIFYING = re.compile(
    r"\d{5,}|\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b|@|https?:|www\.|\(\d{3}\)|\b\d{3}[-. ]\d{3,4}[-. ]?\d{0,4}\b"
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MIN_TOKEN = 3  # shorter name parts ("Li", "Al") would reject half of all descriptors


def identifier_tokens(values: Iterable[str]) -> frozenset[str]:
    """Lowercased words (and whole values) from identifying values: names, ids, institution, station.

    >>> sorted(identifier_tokens(["Doe^John", "ID1", "St. Mary's Hospital"]))
    ['doe', 'doe^john', 'hospital', 'id1', 'john', 'mary', "st. mary's hospital"]
    """
    tokens: set[str] = set()
    for value in values:
        v = str(value).strip().lower()
        if len(v) >= MIN_TOKEN:
            tokens.add(v)
        tokens.update(w for w in _WORD.findall(v) if len(w) >= MIN_TOKEN)
    return frozenset(tokens)


def is_clean(text: str, deny: frozenset[str]) -> bool:
    """True when `text` holds no identifier pattern and none of the subject's identifier tokens.

    >>> deny = identifier_tokens(["Doe^John", "12345678"])
    >>> is_clean("MR BRAIN T1 AXIAL", deny), is_clean("Brain - John", deny), is_clean("seen 3/4/2021", deny)
    (True, False, False)
    >>> is_clean("call 555-123-4567", deny), is_clean("acc 20040826", deny)
    (False, False)
    """
    t = text.lower()
    if _IDENTIFYING.search(t):
        return False
    return not any(token in t for token in deny)
