"""Every patient's names in a root as one deny list for notes: a note that names another patient of the root
("seen with her roommate <Given> <Family>") has that name replaced, whatever the model judged."""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable

from deid.text.spans import PhiSpan

# The PHI audit's tokens (quality.phi_audit.tokens): lower-case ASCII letters and digits, so "Family, Given"
# and "GIVEN FAMILY" are the phrase "given family" read the same way the audit reads it.
_TOKEN = re.compile(r"[a-z0-9]+")


class RootNames:
    """Name phrases indexed by their first token; built once per run, matched per note in O(tokens).

    `phrases` are what the audit searches (quality.phi_audit.name_phrases). A single-token phrase is kept
    only when `is_common` says it is no ordinary or clinical word, so a surname like a word in clinical prose
    is matched only as part of a full name.

    >>> phrases = ["Avril Hane", "Hane Avril", "Hane", "Brown", "Avril Brown"]
    >>> m = RootNames(phrases, is_common=lambda w: w == "brown")
    >>> text = "Seen with HANE, Avril; brown stool. Hanes"
    >>> [text[s.start:s.end] for s in m.spans(text)]
    ['HANE, Avril']
    """

    def __init__(self, phrases: Iterable[str], is_common: Callable[[str], bool] = lambda w: False) -> None:
        self._by_first: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for phrase in phrases:
            toks = tuple(_TOKEN.findall(phrase.lower()))
            if toks and (len(toks) > 1 or not is_common(toks[0])):
                self._by_first[toks[0]].add(toks)
        self.size = sum(len(v) for v in self._by_first.values())

    def spans(self, text: str) -> list[PhiSpan]:
        """NAME spans of every phrase found as consecutive whole tokens (longest match at each token)."""
        low = text.lower()
        if len(low) != len(text):  # a few characters lower-case to two ("İ"): keep offsets aligned
            low = "".join(ch.lower()[0] for ch in text)
        found = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(low)]
        words = [w for _, _, w in found]
        out: list[PhiSpan] = []
        i = 0
        while i < len(found):
            best = 0
            for phrase in self._by_first.get(words[i], ()):
                if len(phrase) > best and tuple(words[i : i + len(phrase)]) == phrase:
                    best = len(phrase)
            if best:
                out.append(PhiSpan(found[i][0], found[i + best - 1][1], "NAME"))
                i += best
            else:
                i += 1
        return out
