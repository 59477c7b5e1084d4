"""Clinical vocabulary that is never PHI on its own: Philter's filter lists (philter-lite), nursing shorthand
by its shape, and misspellings of either, so a drug, an abbreviation or "serosang" is never taken for a name."""

from functools import lru_cache

import regex as re

from deid.text.lexicon import AMBIGUOUS_NAMES, CLINICAL_ACRONYMS, CLINICAL_TERMS, COMMON_WORDS, DRUG_BRANDS

_LIST_HEAD = re.compile(rb"(?m)^(\w+) = \[")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_VOWELS = frozenset("aeiouy")


@lru_cache(maxsize=1)
def philter_lists() -> dict[str, frozenset[str]]:
    """Philter's word sets, by name: `nonames` (about 195,000 clinical and English words, shorthand and
    common misspellings of clinical notes included, that are not names), `firstnames`, `lastnames`. Read
    as text (tomllib takes seconds on this 5 MB file); empty sets when the package is absent.

    The file is found without importing philter_lite: its import parses this very file with tomllib and
    imports nltk (2-4 CPU-s), and under a deep stack (a step in a Celery worker) the parser's calls can
    straddle a boundary of CPython 3.11's frame stack, which then maps and unmaps a chunk on every call
    (measured: 30 CPU-s and 3.3 million page faults for one load)."""
    raw = _philter_set_toml()
    if raw is None:
        return {"nonames": frozenset(), "firstnames": frozenset(), "lastnames": frozenset()}
    out: dict[str, frozenset[str]] = {}
    for m in _LIST_HEAD.finditer(raw):
        end = raw.find(b"]", m.end())
        body = raw[m.end() : end].strip().rstrip(b",").strip()
        out[m.group(1).decode()] = frozenset(body[1:-1].decode().split('", "')) - {""}
    return out


def _philter_set_toml() -> bytes | None:
    """philter-lite's `filters/set.toml`, located through the package's spec (which imports nothing)."""
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("philter_lite")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        try:
            return (Path(folder) / "filters" / "set.toml").read_bytes()
        except FileNotFoundError:
            continue
    return None


@lru_cache(maxsize=1)
def clinical_vocabulary() -> frozenset[str]:
    """Lower-case words that are never a name on their own: Philter's non-names and our clinical lists,
    less the given names that are common enough to be meant as names ("Mary", "Frank")."""
    from deid.text.lexicon import FIRST_NAMES

    words = philter_lists().get("nonames", frozenset()) | COMMON_WORDS | CLINICAL_ACRONYMS | CLINICAL_TERMS
    return (words | DRUG_BRANDS) - (frozenset(FIRST_NAMES) - AMBIGUOUS_NAMES)


def name_lexicon(low: str) -> bool:
    """A given name or surname in Philter's lists (about 250,000)."""
    lists = philter_lists()
    return low in lists.get("firstnames", ()) or low in lists.get("lastnames", ())


@lru_cache(maxsize=100_000)
def misspelt(low: str) -> bool:
    """One edit (a letter dropped, added, changed, or two swapped) from a clinical word, for words of seven
    letters or more (shorter ones are one edit from too many words): nursing notes misspell freely
    ("lopresser", "daugher", "penumonia")."""
    if len(low) < 7 or not low.isalpha():
        return False
    vocab = clinical_vocabulary()
    splits = [(low[:i], low[i:]) for i in range(len(low) + 1)]
    for a, b in splits:
        if b and a + b[1:] in vocab:
            return True
        if len(b) > 1 and a + b[1] + b[0] + b[2:] in vocab:
            return True
        for ch in _LETTERS:
            if b and ch != b[0] and a + ch + b[1:] in vocab:
                return True
            if a + ch + b in vocab:
                return True
    return False


def shorthand(token: str) -> bool:
    """An abbreviation by its shape: no vowel ("DRNG", "SXN", "ptt"), or a capital run of at most three
    letters ("VEA", "HUO") that names no one, or a word with a digit ("PS10PEEP", "spo2")."""
    letters = [ch for ch in token.lower() if ch.isalpha()]
    if not letters:
        return True
    if not all(ch.isascii() for ch in letters):
        return False  # "ΘΕΣΣΑΛΟΝΙΚΗ", "dvořák": a word of another script or with accents is no English shorthand
    if any(ch.isdigit() for ch in token):
        return True
    if not _VOWELS.intersection(letters):
        return True
    return len(letters) <= 3 and token.isupper()


def clinical_word(token: str) -> bool:
    """A word that says nothing about a person or a place: clinical or English vocabulary, shorthand, or a
    misspelling of a clinical word that is no known name (clipped forms, which unknown names resemble more
    often, are note_names' to judge, in medical text only)."""
    if "-" in token.strip("-"):
        return all(clinical_word(part) for part in token.split("-") if part)
    token = token.strip(".,;:()'’\"-")
    low = token.lower().removesuffix("'s").removesuffix("’s")
    if not low:
        return True
    if low in clinical_vocabulary() or shorthand(token):
        return True
    return not name_lexicon(low) and misspelt(low)


_WORDS = re.compile(r"[\p{L}\d][\p{L}\p{M}\d'’-]*")


def all_clinical(span: str, misspellings: bool = True) -> bool:
    """Every word of `span` is clinical_word (so the span is no name, place or organisation by itself).

    >>> all_clinical("DRSG CHG"), all_clinical("Resp Care"), all_clinical("Kozicki")
    (True, True, False)
    """
    words = _WORDS.findall(span)
    if not misspellings:
        return bool(words) and all(w.lower().strip("'’.-") in clinical_vocabulary() for w in words)
    return bool(words) and all(clinical_word(w) for w in words)


def name_evidence(span: str) -> bool:
    """Whether a capitalised span the NER or the shape pass took for a person has a word that names people:
    a word of a name lexicon that is no clinical word, with an unknown word beside it or alone. A lone
    unknown word ("Carevue", "Aggrestat") is a product or a misspelling far more often than a surname
    written without a title, a relative or an initial before it (those rules catch it there)."""
    from deid.text.lexicon import FIRST_NAMES, SURNAMES
    from deid.text.words import known_word

    known = frozenset(FIRST_NAMES) | frozenset(SURNAMES)
    words = _WORDS.findall(span)
    for word in words:
        low = word.lower().strip("'’.-").removesuffix("'s")
        if clinical_word(word) or len(low) < 3:
            continue
        if low in known and (len(words) > 1 or not known_word(low)):
            return True  # a given name that is also a word ("Amber") needs a surname beside it
        if name_lexicon(low) and not known_word(low):
            return True
        if not word.isascii() and not known_word(low):
            return True  # "Szöllösy", "Matthíasson": letters English does not use
    return False


_TOKENS = re.compile(r"[\p{L}\d][\p{L}\d/'’%.-]*[\p{L}\d%]|[\p{L}\d]")
_MEASURE_TOKEN = re.compile(r"\d+(?:\.\d+)?(?:%|(?i:mg|mcg|cc|ml|meq|units?|u|l)(?:/\w+)?|[xX]\d+.*)")


@lru_cache(maxsize=200_000)
def shorthand_token(token: str) -> bool:
    """A clinical abbreviation, a measure (\"40%\", \"600cc\") or a clipped clinical word (\"abd\")."""
    from deid.text.words import english_word

    low = token.lower()
    if low in CLINICAL_ACRONYMS or low in CLINICAL_TERMS or _MEASURE_TOKEN.fullmatch(token):
        return True
    if (
        (token.islower() or token.isupper())
        and len(low) <= 5
        and low.isalpha()
        and low in clinical_vocabulary()
        and not english_word(low)
    ):
        return True  # a clipped clinical word: "abd", "cont", "tol", "resp"
    letters = [ch for ch in low if ch.isalpha()]
    return len(letters) >= 2 and low.isascii() and not _VOWELS.intersection(letters)


@lru_cache(maxsize=256)
def clinical_register(text: str) -> bool:
    """Whether `text` is written in clinical shorthand (a nursing or progress note: "BP 120/80, HR 88, on
    PSV 10/5, 40%"), where a capitalised unknown word is far more often a drug, a device or a misspelling
    than in general prose: three clinical abbreviations or measures at least (one in ALL CAPS), and one
    word in thirty.

    >>> clinical_register("Pt on PSV, HR 88 SR, BP stable, abd soft, NGT to LCWS."), clinical_register(
    ...     "Krisztián listed his top 20 songs.")
    (True, False)
    """
    from deid.text.words import is_all_caps

    tokens = _TOKENS.findall(text)
    hits = sum(1 for t in tokens if shorthand_token(t))
    return hits * 30 >= len(tokens) and (hits >= 3 or (hits >= 1 and is_all_caps(text)))


@lru_cache(maxsize=1)
def _sorted_vocabulary() -> tuple[str, ...]:
    return tuple(sorted(clinical_vocabulary()))


@lru_cache(maxsize=100_000)
def clinical_lookalike(low: str) -> bool:
    """A word no name list has that is a clinical word cut short ("amiod", "dobuta": nurses clip drug
    names) or, for five or six letters, one swap, drop or added letter away from one ("nuero", "trache");
    `misspelt` covers the longer words.

    >>> clinical_lookalike("dobuta"), clinical_lookalike("nuero"), clinical_lookalike("djuric")
    (True, True, False)
    """
    import bisect

    if len(low) < 4 or not low.isalpha() or name_lexicon(low) or low in clinical_vocabulary():
        return False
    vocab = _sorted_vocabulary()
    i = bisect.bisect_left(vocab, low)
    # a cut of at least five letters, of a word at least two letters longer
    if len(low) >= 5 and any(w.startswith(low) and len(w) >= len(low) + 2 for w in vocab[i : i + 50]):
        return True
    if len(low) < 5:
        return False
    if misspelt(low):
        return True
    words = clinical_vocabulary()
    # the first letter stays: a slip of the pen rarely starts a word ("argas" is no slip for "kargas")
    for k in range(1, len(low) + 1):
        a, b = low[:k], low[k:]
        if len(b) > 1 and a + b[1] + b[0] + b[2:] in words:  # two letters swapped
            return True
        if b and len(low) >= 6 and a + b[1:] in words:  # a letter too many
            return True
        if any(a + ch + b in words for ch in _LETTERS):  # a letter left out
            return True
    return False
