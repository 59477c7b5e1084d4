"""What a note says of its own names: a word found as a name in a note is a name wherever the note writes it
again, in any case (a name found after a cue, then the same word later, lower case, without one); and a span
that only a statistical reader (the tagger, the NER, the shape pass) took for a name or place, made of clinical
words or their cut or misspelt forms (a drug after a verb, a drug or specialty cut short), is no PHI."""

from collections.abc import Iterable, Sequence

import regex as re

_WORD = re.compile(r"\p{L}[\p{L}'’-]*\p{L}")
# Labels whose surrogate is a name or a place: the ones a clinical word may be mistaken for.
_WORDY = frozenset({"NAME", "LOCATION", "FACILITY", "ORGANIZATION"})


def clinical_only(span: str) -> bool:
    """Every word of `span` is a clinical word or a clinical word cut short or misspelt, and one at least is
    no everyday English word.

    >>> clinical_only("Given Flovent"), clinical_only("Dobutam"), clinical_only("Grace Dudak")
    (True, True, False)
    """
    from deid.text.patterns import FACILITY_WORDS
    from deid.text.vocabulary import all_clinical, clinical_lookalike

    if any(w.lower() in FACILITY_WORDS for w in _WORD.findall(span)):
        return False  # "the general hospital": a facility named by common words is still one
    # short capitals ("GH", "MGH") are a hospital's initials as often as shorthand: no evidence either way
    words = [w for w in _WORD.findall(span) if len(w) >= 4]
    if not words or not all(all_clinical(w) or clinical_lookalike(w.lower()) for w in words):
        return False
    from deid.text.words import english_word

    # one word at least of the clinic's own vocabulary: a company named by English words is a name
    return any(clinical_lookalike(w.lower()) or not english_word(w.lower()) for w in words)


def _name_word(word: str) -> bool:
    """A word of a found name that names the person wherever it stands: no English or clinical word
    ("Grace", "Hope", "Bill" are words too), three letters at least."""
    from deid.text.vocabulary import clinical_word
    from deid.text.words import english_word

    low = word.lower().removesuffix("'s").removesuffix("’s")
    return len(low) >= 3 and not english_word(low) and not clinical_word(low)


def repeated_names(
    text: str, names: Iterable[tuple[int, int]], taken: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """[start, end) of the other places the words of the found `names` occur in `text` (any case, whole
    words), outside every span in `taken`."""
    words = {m.group().lower() for s, e in names for m in _WORD.finditer(text, s, e) if _name_word(m.group())}
    if not words:
        return []
    pattern = re.compile(r"(?<![\p{L}\d])(?:" + "|".join(map(re.escape, sorted(words))) + r")(?![\p{L}\d])",
                         re.IGNORECASE)  # fmt: skip
    return [m.span() for m in pattern.finditer(text) if not any(s < m.end() and m.start() < e for s, e in taken)]


def wordy(label: str) -> bool:
    return label in _WORDY


def medical_text(text: str) -> bool:
    """Whether `text` is about medicine: clinical shorthand (vocabulary.clinical_register), or prose with one
    word in forty at least (and three in all) that only the clinic uses, no everyday English word ("stent",
    "Vicryl", "hyperlipidemia"); a sentence about a company or a trip has none."""
    from deid.text.vocabulary import clinical_register

    if clinical_register(text):
        return True
    words = _WORD.findall(text)
    clinic = sum(1 for w in words if len(w) >= 4 and _clinic_word(w.lower()))
    return clinic >= 3 and clinic * 40 >= len(words)


def _clinic_word(low: str) -> bool:
    from deid.text.vocabulary import clinical_vocabulary
    from deid.text.words import english_word

    return low in clinical_vocabulary() and not english_word(low)
