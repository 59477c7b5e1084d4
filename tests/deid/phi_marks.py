"""Whether find_phi covers or touches a phrase of a constructed sentence: the checks the recall tests share."""

from deid import find_phi


def covered(text: str, needle: str) -> bool:
    """Every letter and digit of `needle` (its first occurrence) lies in a found span."""
    start = text.index(needle)
    spans = find_phi(text)
    need = [i for i in range(start, start + len(needle)) if text[i].isalnum()]
    return all(any(s.start <= i < s.end for s in spans) for i in need)


def marked(text: str, needle: str) -> bool:
    """Some found span overlaps `needle` (its first occurrence)."""
    start = text.index(needle)
    return any(s.start < start + len(needle) and start < s.end for s in find_phi(text))
