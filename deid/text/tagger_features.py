"""Tokens and CRF features for the learned PHI tagger: the word, its shape, its neighbours, and what the
lexicons say of it (given name, surname, dictionary word, town, clinical word, month, title, relative)."""

import bisect
import itertools
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import regex as re

# Words (with an inner apostrophe), digit runs, and every other visible character on its own.
TOKEN = re.compile(r"\p{L}+(?:['’]\p{L}+)*|\d+|\S")
_MONTHS = frozenset(
    """january february march april may june july august september october november december jan feb mar apr
    jun jul aug sep sept oct nov dec""".split()
)
_WEEKDAYS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun".split()
)
_TITLES = frozenset("dr mr mrs ms miss mx prof doctor rn md np pa lpn crna fellow resident attending".split())
_RELATIVES = frozenset(
    """husband wife son sons daughter daughters dtr dau sister sisters brother brothers mother mom father dad
    niece nephew aunt uncle cousin grandson granddaughter grandmother grandfather friend neighbor neighbour
    partner fiance fiancee boyfriend girlfriend spouse hcp proxy guardian family sibling child children
    stepson stepdaughter inlaw""".split()
)
_PLACE_WORDS = frozenset(
    """hospital hosp clinic center centre medical memorial general regional rehab nursing home facility
    unit ward floor street st avenue ave road rd lane drive blvd court city town county state""".split()
)
_UNITS = frozenset(
    """mg mcg g kg lb lbs ml cc l dl mmol meq mm cm hr hrs h min mins sec units u iu mmhg bpm gtt gtts
    tab tabs po iv im sq prn qd bid tid qid qhs q""".split()
)


@lru_cache(maxsize=1)
def lexicons() -> dict[str, frozenset[str]]:
    from english_words import get_english_words_set

    from deid.text.gazetteer import city_names
    from deid.text.lexicon import (
        AMBIGUOUS_NAMES,
        CLINICAL_ACRONYMS,
        CLINICAL_TERMS,
        COMMON_WORDS,
        COUNTRIES,
        DRUG_BRANDS,
        EPONYMS,
        FIRST_NAMES,
        STATE_NAMES,
        SURNAMES,
        WORLD_GIVEN_NAMES,
    )

    return {
        "given": frozenset(FIRST_NAMES) | frozenset(WORLD_GIVEN_NAMES),
        "sur": frozenset(SURNAMES),
        "amb": frozenset(AMBIGUOUS_NAMES),
        "dict": frozenset(get_english_words_set(["gcide"], lower=True)),
        "common": frozenset(COMMON_WORDS),
        "acro": frozenset(CLINICAL_ACRONYMS),
        "clin": frozenset(CLINICAL_TERMS) | frozenset(DRUG_BRANDS) | frozenset(EPONYMS),
        "city": city_names(),
        "state": frozenset(STATE_NAMES) | frozenset(COUNTRIES),
    }


def lexicon_fingerprint() -> str:
    """A short digest of the word lists the features read: a model trained on other lists reads them
    differently, so the model card records it."""
    import hashlib

    h = hashlib.sha256()
    for name, words in sorted(lexicons().items()):
        h.update(name.encode())
        h.update("\n".join(sorted(words)).encode())
    for extra in (_MONTHS, _WEEKDAYS, _TITLES, _RELATIVES, _PLACE_WORDS, _UNITS):
        h.update("\n".join(sorted(extra)).encode())
    return h.hexdigest()[:16]


def tokenize(text: str) -> list[tuple[int, int]]:
    """[start, end) of each token.

    >>> [("DR.SMITH 7/22"[s:e]) for s, e in tokenize("DR.SMITH 7/22")]
    ['DR', '.', 'SMITH', '7', '/', '22']
    """
    return [m.span() for m in TOKEN.finditer(text)]


def _shape(word: str) -> str:
    out = []
    for ch in word:
        c = "A" if ch.isupper() else "a" if ch.islower() else "9" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


@lru_cache(maxsize=100_000)
def word_features(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(features of the token itself, the lexical features its neighbours see)."""
    low = word.lower()
    own: list[str] = []
    ctx: list[str] = []
    if word.isdigit():
        n = int(word)
        own.append(f"dlen={min(len(word), 5)}")
        own.append("d<=12" if n <= 12 else "d<=31" if n <= 31 else "d<=99" if n < 100 else "d>99")
        if len(word) == 4 and 1900 <= n <= 2099:
            own.append("year4")
        if len(word) == 2 and word[0] == "0":
            own.append("lead0")
        ctx.append(f"d{min(len(word), 5)}")
        return tuple(own), tuple(ctx)
    if not word[0].isalpha():
        own.append(f"p={word}")
        ctx.append(f"p={word}")
        return tuple(own), tuple(ctx)
    lex = lexicons()
    own.append(f"w={low}")
    ctx.append(f"w={low}")
    shape = _shape(word)
    own.append(f"sh={shape[:4]}")
    case = "T" if word.istitle() else "U" if word.isupper() else "L" if word.islower() else "M"
    own.append(f"case={case}")
    ctx.append(f"case={case}")
    own.append(f"len={min(len(word), 8)}")
    if len(low) >= 4:
        own.append(f"suf3={low[-3:]}")
        own.append(f"pre3={low[:3]}")
    flags = [name for name, words in lex.items() if low in words]
    if low in _MONTHS:
        flags.append("month")
    if low in _WEEKDAYS:
        flags.append("weekday")
    if low in _TITLES:
        flags.append("title")
    if low in _RELATIVES:
        flags.append("relative")
    if low in _PLACE_WORDS:
        flags.append("placeword")
    if low in _UNITS:
        flags.append("unit")
    if not flags or flags == ["amb"]:
        flags.append("oov")
    own.extend(f"lex={f}" for f in flags)
    ctx.extend(f"lex={f}" for f in flags)
    return tuple(own), tuple(ctx)


@lru_cache(maxsize=100_000)
def _neighbour_features(word: str) -> tuple[tuple[str, ...], ...]:
    """What a word says as the neighbour two before, one before, one after and two after a token (case
    only from the next-door neighbours)."""
    ctx = word_features(word)[1]
    near = [tuple(f"{k}:{c}" for c in ctx) for k in (-1, 1)]
    far = [tuple(f"{k}:{c}" for c in ctx if not c.startswith("case=")) for k in (-2, 2)]
    return far[0], near[0], near[1], far[1]


@lru_cache(maxsize=8)
def _known_features(known: frozenset[str] | None, form: str = "text"):
    """A word's (own features, _neighbour_features) without what `known` lacks (all of them when `known` is
    None), in `form` (FORMS), cached per word (one cache per set: a one-argument cache is the quick kind)."""
    convert = _converter(form, known)

    def keep(features: tuple[str, ...]) -> tuple:
        kept = features if known is None else tuple(f for f in features if f in known)
        return kept if convert is None else tuple(map(convert, kept))

    @lru_cache(maxsize=100_000)
    def of(word: str) -> tuple[tuple, tuple[tuple, ...]]:
        return keep(word_features(word)[0]), tuple(keep(side) for side in _neighbour_features(word))

    return of


# How the features are handed on: "text" (str: training, reading), "bytes" (UTF-8, which pycrfsuite takes
# without converting), "ids" (vocabulary(known) ids, which deid.text.crf_marginals scores).
FORMS = ("text", "bytes", "ids")


@lru_cache(maxsize=4)
def vocabulary(known: frozenset[str]) -> dict[str, int]:
    """The ids of the "ids" form: 1, 2, ... for the sorted attributes of `known`; 0 (no weight in any
    model) for any other feature."""
    return {attribute: i for i, attribute in enumerate(sorted(known), start=1)}


def _converter(form: str, known: frozenset[str] | None):
    """str -> `form` (None for "text")."""
    if form == "text":
        return None
    if form == "bytes":
        return str.encode
    if form == "ids" and known is not None:
        ids = vocabulary(known)
        return lambda feature: ids.get(feature, 0)
    raise ValueError(f"unknown feature form {form!r} (or the ids form without the known attributes)")


_NO_PAIRS: dict[str, tuple] = {}


@lru_cache(maxsize=8)
def _known_pairs(known: frozenset[str], form: str = "text") -> dict[str, dict[str, tuple]]:
    """The word-pair features of `known` ("bi=a|b") as {a: {b: (feature,)}}, the feature in `form`. A feature
    is filed under every split at a "|" (a word may be "|" itself), so looking up (a, b) finds it exactly
    when f"bi={a}|{b}" is in `known`."""
    convert = _converter(form, known)
    out: dict[str, dict[str, tuple]] = {}
    for feature in known:
        if not feature.startswith("bi="):
            continue
        value = (feature if convert is None else convert(feature),)
        body = feature[3:]
        cut = body.find("|")
        while cut >= 0:
            out.setdefault(body[:cut], {})[body[cut + 1 :]] = value
            cut = body.find("|", cut + 1)
    return out


_ASCII_UPPER = bytes(range(65, 91))
_ASCII_LOWER = bytes(range(97, 123))


def _is_caps_line(line: str) -> bool:
    if line.isascii():  # counted in C: a line is one call, not one per character
        data = line.encode()
        upper = len(data) - len(data.translate(None, _ASCII_UPPER))
        lower = len(data) - len(data.translate(None, _ASCII_LOWER))
    else:
        upper = sum(map(str.isupper, line))
        lower = sum(map(str.islower, line))
    return upper >= 6 and upper > 0.7 * (upper + lower)


# A rule hit, as the tagger reads it: (start, end, label, source class, score).
Hint = tuple[int, int, str, str, float]


def hint_features(spans: Sequence[tuple[int, int]], hints: Sequence[Hint]) -> list[list[str]]:
    """Per token, what the rules said of it: label, source class and score band of each hit it lies in,
    and whether it opens the hit; the tagger learns in which contexts each kind of hit is PHI."""
    hit = _hits_by_token(spans, hints)
    return [hit.get(i) or [] for i in range(len(spans))]


def _hits_by_token(spans: Sequence[tuple[int, int]], hints: Sequence[Hint]) -> dict[int, list[str]]:
    """hint_features of the tokens that a hit touches, by token index."""
    out: dict[int, list[str]] = {}
    if not hints:
        return out
    starts = [s for s, _ in spans]
    for start, end, label, cls, score in hints:
        band = "hi" if score >= 0.85 else "mid" if score >= 0.6 else "lo"
        i = max(0, bisect.bisect_right(starts, start) - 1)
        first = True
        while i < len(spans) and spans[i][0] < end:
            if spans[i][1] > start:
                out.setdefault(i, []).extend(
                    (f"r={label}", f"rc={cls}:{label}", f"rb={cls}:{band}", "rB" if first else "rI")
                )
                first = False
            i += 1
    return out


def features(text: str, spans: Sequence[tuple[int, int]], hints: Sequence[Hint] = ()) -> list[list[str]]:
    """One feature list per token: its own features, its neighbours' (two either side), whether a line
    starts before it, whether its line is ALL CAPS (where case says nothing), and the rules' hits on it
    and its neighbours."""
    return with_hints(base_features(text, spans), spans, hints)


def base_features(text: str, spans: Sequence[tuple[int, int]], known: frozenset[str] | None = None,
                  form: str = "text") -> list[tuple]:  # fmt: skip
    """The features of `features` that do not depend on the rules' hits, in the same order; the taggers
    with and without the rules' hits share them (with_hints adds the rest). With `known` (the attributes a
    model has weights for), a word's and a word pair's features outside it are left out: CRFsuite skips an
    attribute it does not know, so the model reads the same sequence, with less to convert and look up.
    In a `form` other than "text" (FORMS: what the taggers read), each token's tuple ends with the feature
    that with_hints adds where no rule hit lies, so that with_hints copies only the tokens at a hit."""
    n = len(spans)
    if not n:
        return []
    words = [text[s:e] for s, e in spans]
    if known is None and form == "text":
        own = [word_features(w)[0] for w in words]
        near = [_neighbour_features(w) for w in words]
    else:
        own, near = zip(*map(_known_features(known, form), words), strict=True)
    const = _constants(form, known)
    lows = [w.lower() for w in words]
    flags = _line_flags(text, spans, const.line_flags)
    glued = [spans[i + 1][0] == spans[i][1] for i in range(n - 1)]
    none, glued_to = const.none, const.glued
    left2 = [none[-2]] * min(2, n) + [near[i][0] for i in range(n - 2)]
    left1 = [none[-1], *(near[i][1] + glued_to[-1] if glued[i] else near[i][1] for i in range(n - 1))]
    right1 = [*(near[i + 1][2] + glued_to[1] if glued[i] else near[i + 1][2] for i in range(n - 1)), none[1]]
    right2 = [near[i + 2][3] for i in range(n - 2)] + [none[2]] * min(2, n)
    if known is None:
        pairs = [(), *((f"bi={a}|{b}",) for a, b in itertools.pairwise(lows))]
        if form != "text":
            convert = _converter(form, known)
            pairs = [tuple(map(convert, pair)) for pair in pairs]
    else:  # a word's known pairs by the next word: no string built for a pair the model lacks
        after = _known_pairs(known, form)
        pairs = [(), *(after.get(a, _NO_PAIRS).get(b, ()) for a, b in itertools.pairwise(lows))]
    tail = () if form == "text" else const.no_hit
    return [
        (const.bias, *o, *f, *l2, *l1, *r1, *r2, *bi, *tail)
        for o, f, l2, l1, r1, r2, bi in zip(own, flags, left2, left1, right1, right2, pairs, strict=True)
    ]


def _line_flags(text: str, spans: Sequence[tuple[int, int]], line_flags: dict) -> list[tuple]:
    """Per token, line_flags[(first on its line, the next token first on its line, its line ALL CAPS)]: one
    step per line, not per token (tokens hold no line break, so a line's tokens are a run of `spans`)."""
    n = len(spans)
    starts = [s for s, _ in spans]
    flags: list[tuple] = []
    lo, line_start = 0, 0
    while lo < n:
        cut = text.find("\n", line_start)
        end = cut if cut >= 0 else len(text)
        hi = bisect.bisect_left(starts, end, lo)
        if hi > lo:
            caps = _is_caps_line(text[line_start:end])
            last = line_flags[hi - lo == 1, hi < n, caps]  # a next token exists: it opens a later line
            if hi - lo > 1:
                flags.append(line_flags[True, False, caps])
                flags.extend([line_flags[False, False, caps]] * (hi - lo - 2))
            flags.append(last)
        lo, line_start = hi, end + 1
    return flags


def with_hints(base: Sequence[tuple], spans: Sequence[tuple[int, int]], hints: Sequence[Hint],
               form: str = "text", known: frozenset[str] | None = None) -> list:  # fmt: skip
    """`base` (base_features) with the rules' hits on each token and its next-door neighbours. In another
    `form` than "text", `base` is base_features(text, spans, known, form), ending with the no-hit feature;
    the result is one tuple a token, and a token neither at nor beside a hit keeps its tuple (the same
    object): only the tokens at or beside a hit are built again."""
    convert = _converter(form, known)
    if convert is None:
        no_hit = _TEXT_CONSTANTS.no_hit
        hit = _hits_by_token(spans, hints)
        return [[*b, *(hit.get(i) or no_hit), *_beside(hit, i)] for i, b in enumerate(base)]
    out = list(base)
    hit = _hits_by_token(spans, hints)
    for i in sorted({j for t in hit for j in (t - 1, t, t + 1) if 0 <= j < len(base)}):
        own = base[i][:-1] + tuple(map(convert, hit[i])) if i in hit else base[i]  # a hit's for the no-hit one
        near = _beside(hit, i)
        out[i] = own + tuple(map(convert, near)) if near else own
    return out


def _beside(hit: dict[int, list[str]], i: int) -> list[str]:
    """The label features of the hits on token i's next-door neighbours, as token i sees them."""
    return [f"-1:{r}" for r in hit.get(i - 1, ()) if r.startswith("r=")] + [
        f"1:{r}" for r in hit.get(i + 1, ()) if r.startswith("r=")
    ]


_LINE_FLAGS = {
    (first, next_first, caps): tuple(
        name for name, on in (("nl", first), ("nl+1", next_first), ("capsline", caps)) if on
    )
    for first in (False, True)
    for next_first in (False, True)
    for caps in (False, True)
}
_NONE = {k: (f"{k}:none",) for k in (-2, -1, 1, 2)}
_GLUED = {-1: ("glued-1",), 1: ("glued+1",)}


class _Constants(NamedTuple):
    """The fixed features in one form (FORMS)."""

    bias: str | bytes | int
    line_flags: dict
    none: dict
    glued: dict
    no_hit: tuple


_TEXT_CONSTANTS = _Constants("b", _LINE_FLAGS, _NONE, _GLUED, ("r=none",))


@lru_cache(maxsize=8)
def _constants(form: str, known: frozenset[str] | None) -> _Constants:
    """The fixed features in `form`; in "ids", one the models lack is 0 (it keeps its place, adds nothing)."""
    convert = _converter(form, known)
    if convert is None:
        return _TEXT_CONSTANTS

    def to_form(value):
        if isinstance(value, str):
            return convert(value)
        if isinstance(value, tuple):
            return tuple(map(to_form, value))
        return {k: to_form(v) for k, v in value.items()}

    return _Constants(*map(to_form, _TEXT_CONSTANTS))
