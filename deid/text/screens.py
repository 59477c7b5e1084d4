"""Screens before a costly pattern: literals one of which its every match holds (no literal, no scan, no hit)."""

import regex as re

_GROUP = re.compile(r"^\(\?(?:i)?:(.*)\)$", re.DOTALL)


def literals(alternation: str) -> tuple[str, ...]:
    """The lower-case alternatives of a regex alternation of plain words ("(?:A|B C)", "A|B"), fewest first:
    an alternative that holds another is left out (a text holding it holds the other).

    >>> literals("(?:Hospital|Hospitals|Medical Center|Clinic)")
    ('clinic', 'hospital', 'medical center')
    """
    m = _GROUP.match(alternation)
    body = m.group(1) if m else alternation
    words = body.split("|")
    if any(not w or any(ch in w for ch in "()[]?*+{}\\.^$|") for w in words):
        raise ValueError(f"not an alternation of plain words: {alternation!r}")
    return fewest(words)


def fewest(strings) -> tuple[str, ...]:
    """The lower-case strings less those that hold another of them, sorted.

    >>> fewest([".info", ".in", ".com"])
    ('.com', '.in')
    """
    kept: list[str] = []
    for w in sorted({w.lower() for w in strings}, key=lambda w: (len(w), w)):
        if not any(k in w for k in kept):
            kept.append(w)
    return tuple(sorted(kept))


def screened_text(text: str) -> str | None:
    """The lower-cased text that screens test, or None (no screening) when it is not ASCII: a pattern's case-
    insensitive letters match a few other letters too (the Kelvin sign, a long s), which lower() keeps apart."""
    return text.lower() if text.isascii() else None


def passes(screen: tuple[str, ...], low: str | None) -> bool:
    """Whether a pattern with this screen may match the text (`low` from screened_text)."""
    return low is None or not screen or any(map(low.__contains__, screen))  # a C loop, no generator frame
