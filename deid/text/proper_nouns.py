"""Proper nouns by their shape: capitalised words that no English or clinical dictionary knows ("Kowalczyk",
"Tjæreborg", "Zillow"), ALL-CAPS and non-Latin place names in mixed-case text, runs of such words with
initials and particles ("Annelot van Dijk", "Tomas K Varga"), given names in lower case before an
unknown word ("marguerite vanhollebeke"), and every member of a list whose other members are names."""

from collections.abc import Callable, Iterator
from typing import NamedTuple

import regex as re

from deid.text.gazetteer import ascii_fold, is_city
from deid.text.lexicon import (
    AMBIGUOUS_NAMES,
    CLINICAL_ACRONYMS,
    CLINICAL_TERMS,
    COMMON_WORDS,
    COUNTRIES,
    DRUG_BRANDS,
    DRUG_SUFFIXES,
    EPONYMS,
    FIRST_NAMES,
    SURNAMES,
    WORLD_GIVEN_NAMES,
)
from deid.text.possessive_names import persons_possessive

# A word: letters (any script) with inner apostrophes, hyphens and combining marks; an initial keeps its dot.
_TOKEN = re.compile(r"\p{L}[\p{L}\p{M}'’]*(?:-\p{L}[\p{L}\p{M}'’]*)*\.?")
_LATIN_BASIC = re.compile(r"[A-Za-z'’.-]+")
# Given names, less those that are also words or clinical abbreviations ("will", "Gerd" and GERD).
_FIRST = (frozenset(FIRST_NAMES) | WORLD_GIVEN_NAMES) - AMBIGUOUS_NAMES - CLINICAL_ACRONYMS - COMMON_WORDS
_NAMES = frozenset(FIRST_NAMES) | frozenset(SURNAMES)
# Name particles that sit inside a run between capitalised words ("van Dijk", "de la Vega").
_PARTICLES = frozenset("van von de del della der den ten ter da di du le la al el bin ibn dos das do y".split())
# Words that say the run before them is an organisation.
_COMPANY_TAIL = frozenset(
    """inc inc. ltd ltd. llc l.l.c. corp corp. corporation co co. company companies group holdings plc gmbh ag sa
    s.a. bv nv technologies technology systems solutions consulting partners labs analytics software
    enterprises industries ventures associates""".split()
)
# Words before a run that make it a place.
_LOCATIVE = re.compile(
    r"(?i:\b(?:in|from|to|at|near|into|visit(?:ed|ing)?|outside|around|toward|towards|via|city|town|village)"
    r"\s+(?:the\s+)?)$"
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;|>•*#\"“(\[\]-]|\d[.)]|\?\?\?)[\s\"'“(\[]*$")
# A dose or a lab value after a word (maybe two more words on) makes it a drug or a test: "Levothyroxine
# Sodium 0.075 MG", "Troponin I 0.01 ng/mL".
_MEASURE_AFTER = re.compile(
    r"(?:\s+\p{L}[\p{L}-]*){0,2}\s*[:=]?\s*\(?\d+(?:[.,]\d+)?\s*(?i:mg|mcg|µg|ug|g|kg|ml|l|units?|u|iu|meq|mmol|"
    r"µmol|umol|ng|pg|%|tabs?|tablets?|caps?|puffs?|actuat|mm|cm|bpm)(?![\p{L}])"
)
# A postcode after a town: "Bjert 6091", "Aalborg NO 9100", "Wrocław     53-320", "ÖVERTURINGEN 840 24".
_POSTCODE_AFTER = re.compile(
    r"[ \t,]+(?:\p{Lu}{1,3}[ \t]+|nan[ \t]+)?(?P<zip>\d{4,5}|\d{3} \d{2}|\d{2}-\d{3})"
    r"(?![\d.,/:-]|[ \t]*(?i:mg|ml|kg|units?)\b)"
)
# A clinical head noun after a word makes it a clinical term: "Takotsubo cardiomyopathy", "Foley catheter",
# "Morse Fall Scale" (two words on at most).
_EPONYM_NEXT = re.compile(
    r"(?:['’]s)?(?:\s+\p{Lu}\p{Ll}+)?\s+(?i:disease|syndrome|sign|score|reflex|criteria|test|maneuver|palsy|ulcer|"
    r"lymphoma|sarcoma|fracture|classification|scale|procedure|operation|repair|index|phenomenon|triad|"
    r"tumou?r|cardiomyopathy|catheter|contrast|drain|tube|pump|device|vaccine|booster|stockings?|boots?|"
    r"dressing|protocol|therapy|regimen|infusion|injection|tablets?|capsules?|inhaler|cream|ointment|"
    r"solution|level|levels|assay|panel|antibod(?:y|ies)|antigen|virus|bacteria|infection|positive|negative)\b"
)
_LIST_SEP = re.compile(r"\s*(?:,|;|\band\b|\bor\b|&)\s*")


class Token(NamedTuple):  # a tuple: made for every word of every line, so it must be cheap
    start: int
    end: int
    text: str
    kind: str  # unknown, name, known, initial, particle, lower_name, lower_unknown, lower, caps_unknown


_CLITIC = re.compile(r"['’](?:s|re|ll|ve|d|m|t)$|n['’]t$")


def _word_of(token: str) -> str:
    low = token.rstrip(".").lower()
    return _CLITIC.sub("", low) if "'" in low or "’" in low else low


# Abbreviations in names of places and people that are no name themselves.
_ABBREVIATIONS = frozenset("st mt ft dr mr mrs ms mx jr sr prof rev hon esq".split())


def _is_clinical(low: str, title_case: bool = False) -> bool:
    """Ordinary and clinical vocabulary; acronyms only as such ("ANA" is a test, "Ana" a name)."""
    return (
        low in _ABBREVIATIONS
        or low in COMMON_WORDS
        or (low in CLINICAL_ACRONYMS and not (title_case and low in _NAMES))
        or low in DRUG_BRANDS
        or low in CLINICAL_TERMS
        or low in EPONYMS
        or low.endswith(DRUG_SUFFIXES)
    )


# An ALL-CAPS town is told from an abbreviation by where it stands: after "in", "to", "from", or before a
# postcode ("ARENDAL 4844", "TRONDHEIM, Norway 64389").
_CAPS_PLACE_AFTER = re.compile(r"[ \t,]+(?:\d{3,5}\b|\p{Lu}\p{Ll}+[ \t]+\d{3,5}\b)")


def _known(low: str, latin: bool, is_word: Callable[[str], bool]) -> bool:
    """An English word; accents aside ("naïve", "café"), which names from other languages are not."""
    if latin:
        return is_word(low)
    folded = ascii_fold(low)
    return folded.isascii() and folded.isalpha() and is_word(folded)


def _known_compound(token: str, is_word: Callable[[str], bool]) -> bool:
    """A hyphenated word made of known parts: "D-dimer", "A-fib", "Post-op", "HIV-positive"."""
    parts = token.split("-")
    return len(parts) > 1 and all(
        len(p) <= 1 or (p.isupper() and len(p) <= 5) or _is_clinical(p.lower()) or is_word(p.lower())
        for p in parts
    )


_CAMEL = re.compile(r"\p{Lu}{2,}\p{Ll}|\p{Ll}\p{Lu}")
_NAME_PREFIX = re.compile(r"(?:Mc|Mac|O'|O’|De|Di|Da|Du|La|Le|Van|Von|Jo|St)\p{Lu}")


def _abbreviation(token: str) -> bool:
    """Mixed case inside a word is an abbreviation ("HFrEF", "MedRec", "SpO2"), unless it is the way names
    are written ("McDonald", "LeBlanc", "DeShawn", "JoAnn")."""
    return _CAMEL.search(token) is not None and _NAME_PREFIX.match(token) is None


def classify(
    text: str,
    start: int,
    end: int,
    is_word: Callable[[str], bool],
    is_english: Callable[[str], bool] | None = None,
) -> str:
    """The kind of one token, from its shape, its place in the sentence and whether the dictionaries
    (English, clinical, GeoNames cities) know it."""
    token = text[start:end]
    bare = token.rstrip(".")
    low = _word_of(token)
    if len(bare) == 1 and bare.isupper():
        return "initial"
    if low in _PARTICLES and bare.islower():
        return "particle"
    latin = _LATIN_BASIC.fullmatch(bare) is not None
    if bare.isupper() and len(bare) > 1:
        if len(bare) <= 4 and latin:
            return "known"  # acronyms: MRN, JVD, COPD, NYHA
        if _is_clinical(low):
            return "known"
        if not latin:
            return "caps_unknown"  # "SEINÄJOKI", "ΛΕΥΚΩΣΙΑ"
        # Otherwise an ALL-CAPS word in mixed-case text is an abbreviation ("NSTEMI", "HEENT") unless it
        # stands where a town does: after "in"/"to"/"from" or before a postcode.
        where = (
            _LOCATIVE.search(text, max(0, start - 24), start) is not None
            or _CAPS_PLACE_AFTER.match(text, start + len(bare)) is not None
        )
        if where and (is_city(low) or not is_word(low)):
            return "caps_unknown"
        return "known"
    if bare[0].isupper():
        if (
            _is_clinical(low, title_case=not bare.isupper())
            or _known_compound(bare, is_english or is_word)
            or _abbreviation(bare)
        ):
            return "known"
        if low in _FIRST:
            return "name"
        if not (is_word(low) if latin else ascii_fold(low) in COMMON_WORDS):
            return "unknown"  # accents mark a name from another language ("Ángel", "Pálffy")
        if is_city(low) and not _at_start(text, start):
            return "unknown"  # "lives in Joliet": a town that is also a word, capitalised mid-sentence
        return "known"
    if bare.islower():
        if low in _FIRST and len(low) >= 3 and not (is_english or is_word)(low):
            return "lower_name"  # not "max", "drew", "nick": given names that are English words too
        if not _is_clinical(low) and not _known(low, latin, is_word) and len(low) >= 3:
            return "lower_unknown"
    return "lower"


def tokens(
    text: str, is_word: Callable[[str], bool], is_english: Callable[[str], bool] | None = None
) -> list[Token]:
    out = []
    lower_kinds = _LOWER_CACHE.setdefault((is_word, is_english), {})
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token.islower() and token.isascii():  # most words: their kind does not depend on where they stand
            kind = lower_kinds.get(token)
            if kind is None:
                kind = lower_kinds[token] = classify(token, 0, len(token), is_word, is_english)
        else:
            kind = classify(text, m.start(), m.end(), is_word, is_english)
        out.append(Token(m.start(), m.end(), token, kind))
    return out


# Kinds of lower-case ASCII words, per pair of dictionary functions (a few thousand distinct words a corpus).
_LOWER_CACHE: dict[tuple, dict[str, str]] = {}


def _gap_ok(text: str, a: Token, b: Token) -> bool:
    """Two tokens belong to one run when only a space (or an initial's dot and a space) separates them."""
    gap = text[a.end : b.start]
    return gap in (" ", "") or (gap == "  " and a.kind == "initial")


_CAP_KINDS = frozenset(("unknown", "name", "known", "initial", "caps_unknown"))
_SIGNAL_KINDS = frozenset(("unknown", "name", "caps_unknown"))


def _at_start(text: str, pos: int) -> bool:
    return _SENTENCE_START.search(text, max(0, pos - 8), pos) is not None


def find_proper_nouns(
    text: str, is_word: Callable[[str], bool], is_english: Callable[[str], bool] | None = None
) -> Iterator[tuple[int, int, str, float]]:
    """(start, end, label, score) of every proper-noun run and lower-case name in `text`. `is_word` knows
    English and clinical words but not people's names; `is_english` knows names that are words as well
    (WordNet's "naomi", "kleist"), so lower-case given names are only those it does not know."""
    toks = tokens(text, is_word, is_english)
    found: list[tuple[int, int, str, float]] = []
    i = 0
    k = 0
    while k < len(toks):  # countries first: a title in capitals ("Letters Home From Norway") may hold one
        country = _country(text, toks, k) if _word_of(toks[k].text) in _COUNTRY_FIRST_WORDS else None
        if country is not None:
            found.append(country[0])
        k = country[1] if country is not None else k + 1
    while i < len(toks):
        if toks[i].kind in _CAP_KINDS:
            j = _run_end(text, toks, i)
            run = _run(text, toks[i : j + 1])
            if run is not None:
                found.append(run)
                if run[2] == "LOCATION" and (code := _POSTCODE_AFTER.match(text, run[1])) is not None:
                    found.append((code.start("zip"), code.end("zip"), "ZIP", 0.6))
            i = j + 1
            continue
        if toks[i].kind in ("lower_name", "lower_unknown", "lower"):
            lower = _lower_case(text, toks, i)
            if lower is not None:
                found.append(lower[0])
                i = lower[1]
                continue
        i += 1
    yield from found


_COUNTRY_FIRST_WORDS = frozenset(c.split()[0] for c in COUNTRIES)


def _country(text: str, toks: list[Token], i: int) -> tuple[tuple[int, int, str, float], int] | None:
    """A country of one to four words ("Estonia", "United Kingdom", "Papua New Guinea"); in lower case only
    after "in", "from" or "to" ("came over from latvia")."""
    first = toks[i]
    if first.text[0].islower() and _LOCATIVE.search(text, max(0, first.start - 24), first.start) is None:
        return None
    words = []
    for k in range(i, min(i + 4, len(toks))):
        if k > i and text[toks[k - 1].end : toks[k].start] != " ":
            break
        words.append(_word_of(toks[k].text))
    for n in range(len(words), 0, -1):
        if " ".join(words[:n]) in COUNTRIES:
            end = toks[i + n - 1].end - (toks[i + n - 1].text.endswith("."))
            return (first.start, end, "LOCATION", 0.6), i + n
    return None


def _joins(text: str, toks: list[Token], j: int) -> bool:
    """Whether token j + 1 continues the run that token j is in."""
    here, nxt = toks[j], toks[j + 1]
    if here.text.endswith(".") and here.kind != "initial" and _word_of(here.text) not in _ABBREVIATIONS:
        return False  # a full stop ends the run ("Lillian. Never")
    if not _gap_ok(text, here, nxt):
        return False
    if nxt.kind in _CAP_KINDS:
        return True
    # a particle inside a name: "Annelot van Dijk", "Puerto de la Cruz"
    k = j + 1
    while k < len(toks) and toks[k].kind == "particle" and _gap_ok(text, toks[k - 1], toks[k]):
        k += 1
    return k > j + 1 and k < len(toks) and toks[k].kind in _CAP_KINDS and _gap_ok(text, toks[k - 1], toks[k])


def _run_end(text: str, toks: list[Token], i: int) -> int:
    j = i
    while j + 1 < len(toks) and _joins(text, toks, j):
        j += 1
    return j


def _ordinary(t: Token) -> bool:
    return t.kind in ("known", "particle") and _is_clinical(_word_of(t.text))


def _run(text: str, run: list[Token]) -> tuple[int, int, str, float] | None:
    # Leading titles, ordinary words and a sentence-initial known word are no part of the name ("Dr.",
    # "The Gazette"); a capitalised dictionary word mid-sentence is ("Summit Lending", "Beacon Transit").
    while run and (
        _ordinary(run[0])
        or run[0].kind == "particle"
        or (run[0].kind == "known" and (len(run) == 1 or _at_start(text, run[0].start)))
    ):
        run = run[1:]
    while run and (_ordinary(run[-1]) or run[-1].kind == "particle"):
        run = run[:-1]  # credentials and ordinary words after a name ("LILLIAN MD")
    if not run or not any(t.kind in _SIGNAL_KINDS for t in run):
        return None
    signals = [t for t in run if t.kind in _SIGNAL_KINDS]
    start, end = run[0].start, run[-1].end
    if text[end - 1] == "." and run[-1].kind != "initial":
        end -= 1  # a sentence's full stop
    if _MEASURE_AFTER.match(text, end) or (
        _EPONYM_NEXT.match(text, end) and not persons_possessive(text, start, end)
    ):
        return None
    if len(run) == 1:
        t = run[0]
        bare = t.text.rstrip(".")
        if len(bare) < 3 or (t.kind == "unknown" and len(bare) <= 4 and sum(c.isupper() for c in bare) >= 2):
            return None  # SpO, HbA: mixed-case abbreviations
    label = _label(text, run, start, end)
    # Below the rules' 0.7, so a rule that covers the same words names them ("St. Agatha's" a facility).
    score = 0.65 if len(signals) > 1 or len(run) > 1 else 0.6 if not _at_start(text, start) else 0.5
    return start, end, label, score


def _label(text: str, run: list[Token], start: int, end: int) -> str:
    after = text[end : end + 16].lstrip(" ,").lower()
    if any(after.startswith(w) and (len(after) == len(w) or not after[len(w)].isalpha()) for w in _COMPANY_TAIL):
        return "ORGANIZATION"
    if _word_of(run[-1].text) in _COMPANY_TAIL:
        return "ORGANIZATION"
    if any(t.kind == "name" for t in run) or any(t.kind == "initial" for t in run[1:-1]):
        return "NAME"
    if (
        _LOCATIVE.search(text, max(0, start - 24), start) is not None
        or all(t.kind == "caps_unknown" for t in run)
        or is_city(" ".join(_word_of(t.text) for t in run))
    ):
        return "LOCATION"
    return "NAME"


# Function words: never the surname after a lower-case given name ("oswin has been").
_FUNCTION_WORDS = frozenset(
    """is was has had have be been being are were do does did will would can could should may might must shall
    not and or but if of in on at by for with to from as that this these those it its he she his her him they
    them their we you your my me our who whom what which when where why how all any some no so than then there
    here very just also only lives lived says said is's""".split()
)


def _word_end(t: Token) -> int:
    """Where the word ends, without a sentence's full stop."""
    return t.end - 1 if t.text.endswith(".") and len(t.text) > 2 else t.end


def followed_by_measure(text: str, end: int) -> bool:
    """A dose or a lab value follows (maybe two words on): the word before is a drug or a test."""
    return _MEASURE_AFTER.match(text, end) is not None


def _surname_shaped(token: str) -> bool:
    low = _word_of(token)
    return token.islower() and len(low) >= 3 and low not in _FUNCTION_WORDS and not _is_clinical(low)


# Words for relatives and carers before a lower-case given name ("wife ann", "pharmacist kevin").
_RELATIVES = frozenset(
    """wife husband spouse partner son daughter mother mom father dad sister brother aunt uncle niece nephew
    cousin grandson granddaughter grandmother grandfather grandma grandpa mother-in-law father-in-law
    son-in-law daughter-in-law sister-in-law brother-in-law stepson stepdaughter stepmother stepfather
    fiance fiancee boyfriend girlfriend friend neighbor neighbour caregiver guardian roommate pharmacist
    nurse aide therapist chaplain interpreter""".split()
)

_LOWER_TITLE = frozenset("mr. mrs. ms. dr. prof. mr mrs ms dr".split())
_LOWER_KINDS = frozenset(("lower_name", "lower_unknown"))


def _lower_case(text: str, toks: list[Token], i: int) -> tuple[tuple[int, int, str, float], int] | None:
    """Names and places in lower-case text, and the index after them: a title and a word ("mr. elliott"),
    a given name and an unknown word ("ida marchetti", "felix r oberg"), two unknown words around an
    initial ("jarek t lund"), words with letters English does not use ("zdeňka dvořáková", "radoslavů"), and
    a town after "in", "to" or "from" ("flew back to bergen")."""
    t = toks[i]
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    spaced = nxt is not None and text[t.end : nxt.start] == " "
    if (
        t.text.lower() in _LOWER_TITLE
        and nxt is not None
        and nxt.kind in _LOWER_KINDS
        and text[t.end : nxt.start] == " "
    ):
        return (nxt.start, nxt.end, "NAME", 0.6), i + 2
    # A given name that is also an English word ("benjamin", "leone") counts before an initial or an
    # unknown word only; one that is not ("bertram") before any word that can be a surname.
    given = t.kind == "lower_name" or (t.text.islower() and _word_of(t.text) in _FIRST)
    if (
        given
        and i > 0
        and _word_of(toks[i - 1].text) in _RELATIVES
        and text[toks[i - 1].end : t.start] in (" ", ", ")
    ):
        return (t.start, _word_end(t), "NAME", 0.65), i + 1  # "wife ann at bedside", "sister amy"
    if t.kind == "lower" and not given:
        return None
    j = i + 1
    initial = False
    if spaced and len(nxt.text.rstrip(".")) == 1 and (given or nxt.text[0] not in "ai"):
        j, initial = i + 2, True
    if j < len(toks) and text[toks[j - 1].end : toks[j].start] == " ":
        after = toks[j]
        strong = t.kind == "lower_name" or initial
        if (given or initial) and (after.kind in _LOWER_KINDS or (strong and _surname_shaped(after.text))):
            return (t.start, _word_end(after), "NAME", 0.6), j + 1
    if t.kind == "lower":
        return None
    if t.kind == "lower_name" and len(t.text) >= 4:
        return (t.start, _word_end(t), "NAME", 0.55), i + 1  # "the birthday of oswin", "just call me tamsin"
    if (
        t.kind == "lower_unknown"
        and _LOCATIVE.search(text, max(0, t.start - 24), t.start)
        and is_city(_word_of(t.text))
    ):
        return (t.start, t.end, "LOCATION", 0.6), i + 1
    if _LATIN_BASIC.fullmatch(t.text.rstrip(".")) is None and t.kind == "lower_unknown":
        end, j = t.end, i + 1
        while j < len(toks) and toks[j].kind in _LOWER_KINDS and text[toks[j - 1].end : toks[j].start] == " ":
            end, j = toks[j].end, j + 1
        label = "LOCATION" if _LOCATIVE.search(text, max(0, t.start - 24), t.start) else "NAME"
        return (t.start, end, label, 0.55), j
    return None


_CONJUNCTION = re.compile(r"\b(?:and|or)\b|&")


def spread_over_lists(
    text: str, spans: list[tuple[int, int, str, float]], is_word: Callable[[str], bool]
) -> list[tuple[int, int, str, float]]:
    """Members of a list ("Gaetane, Hannah, Derek and Jodi", "silvana, adam, kristina and caleb") share the
    kind of its named members. A list qualifies when half its members are names (found already, or known
    given names), or when it has a name and three quarters of it are names or words no dictionary knows;
    then its other members that look like names (capitalised and not clinical vocabulary, or unknown
    words) are names too. The last member follows "and", "or" or "&": "renal failure, Mark T." and "Birch
    Road, Evanston, IL" are no lists."""
    names = [(s, e) for s, e, label, _ in spans if label == "NAME"]
    extra: list[tuple[int, int, str, float]] = []
    for line in re.finditer(r"[^\n]+", text):
        if _CONJUNCTION.search(line.group()) is None:
            continue  # no "and", "or" or "&": no enumeration
        items = _list_items(text, line.start(), line.end())
        if len(items) < 2 or not re.search(r"\b(?:and|or)\b|&", text[items[-2][1] : items[-1][0]]):
            continue
        found = [any(s < ie and is_ < e for s, e in names) for is_, ie in items]
        named = [f or _word_of(text[s:e]) in _FIRST for f, (s, e) in zip(found, items, strict=True)]
        looks = [_looks_like_name(text[s:e], is_word) for s, e in items]
        unknown = [all(not _is_clinical(w) and not is_word(w) for w in map(_word_of, text[s:e].split()))
                   for s, e in items]  # fmt: skip
        n, name_like = len(items), sum(a or b for a, b in zip(named, unknown, strict=True))
        if not (sum(named) * 2 >= n or (any(named) and name_like * 4 >= 3 * n)):
            continue
        members = zip(items, named, found, looks, strict=True)
        extra.extend(
            (s, e, "NAME", 0.6) for (s, e), hit, was_found, ok in members if not was_found and (hit or ok)
        )
    return extra


def _looks_like_name(item: str, is_word: Callable[[str], bool]) -> bool:
    """Capitalised words that are not everyday or clinical vocabulary (an eponym is a surname too), or
    words no dictionary knows."""
    words = item.split()
    if item[0].isupper():
        return all(_word_of(w) not in COMMON_WORDS and _word_of(w) not in CLINICAL_ACRONYMS for w in words)
    return all(not _is_clinical(_word_of(w)) and not is_word(_word_of(w)) for w in words)


# One- or two-word items; no item starts inside a word, or with a word that opens a clause ("Both Suzette and
# Hank are ...": the items are "Suzette" and "Hank"), and no function word is an item's second word.
_ITEM = re.compile(
    r"(?<![\p{L}\p{M}'’-])(?!(?i:both|either|neither|and|or)\b)\p{L}[\p{L}\p{M}'’-]*"
    r"(?:[ ](?!(?i:and|or|the|a|an|his|her|their|my|are|is|was|were|will|have|has|had|to|in|at|on|of|for|with)\b)"
    r"\p{L}[\p{L}\p{M}'’-]*)?"
)


def _list_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The longest run of one- or two-word items joined by commas and a final and/or, within one line."""
    best: list[tuple[int, int]] = []
    current: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        m = _ITEM.match(text, pos, end)
        if m is None:
            pos += 1
            best = max(best, current, key=len)
            current = []
            continue
        current.append(m.span())
        sep = _LIST_SEP.match(text, m.end(), end)
        if sep is None or sep.end() == m.end() or not text[m.end() : sep.end()].strip():
            best = max(best, current, key=len)
            current = []
            pos = m.end() + 1
        else:
            pos = sep.end()
    return max(best, current, key=len)
