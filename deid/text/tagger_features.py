"""Tokens and CRF features for the learned PHI tagger: the word, its shape, its neighbours, and what the
lexicons say of it (given name, surname, dictionary word, town, clinical word, month, title, relative)."""

from collections.abc import Sequence
from functools import lru_cache

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
def _lexicons() -> dict[str, frozenset[str]]:
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
    for name, words in sorted(_lexicons().items()):
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
    lex = _lexicons()
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


def _is_caps_line(line: str) -> bool:
    upper = sum(ch.isupper() for ch in line)
    lower = sum(ch.islower() for ch in line)
    return upper >= 6 and upper > 0.7 * (upper + lower)


# A rule hit, as the tagger reads it: (start, end, label, source class, score).
Hint = tuple[int, int, str, str, float]


def hint_features(spans: Sequence[tuple[int, int]], hints: Sequence[Hint]) -> list[list[str]]:
    """Per token, what the rules said of it: label, source class and score band of each hit it lies in,
    and whether it opens the hit; the tagger learns in which contexts each kind of hit is PHI."""
    out: list[list[str]] = [[] for _ in spans]
    if not hints:
        return out
    starts = [s for s, _ in spans]
    import bisect

    for start, end, label, cls, score in hints:
        band = "hi" if score >= 0.85 else "mid" if score >= 0.6 else "lo"
        i = max(0, bisect.bisect_right(starts, start) - 1)
        first = True
        while i < len(spans) and spans[i][0] < end:
            if spans[i][1] > start:
                out[i].extend((f"r={label}", f"rc={cls}:{label}", f"rb={cls}:{band}", "rB" if first else "rI"))
                first = False
            i += 1
    return out


def features(text: str, spans: Sequence[tuple[int, int]], hints: Sequence[Hint] = ()) -> list[list[str]]:
    """One feature list per token: its own features, its neighbours' (two either side), whether a line
    starts before it, whether its line is ALL CAPS (where case says nothing), and the rules' hits on it
    and its neighbours."""
    words = [text[s:e] for s, e in spans]
    rule = hint_features(spans, hints)
    per = [word_features(w) for w in words]
    n = len(spans)
    # line breaks before each token, and each token's line being ALL CAPS
    newline = [True] * n
    caps = [False] * n
    line_caps: dict[int, bool] = {}
    for i, (s, _) in enumerate(spans):
        prev_end = spans[i - 1][1] if i else 0
        newline[i] = i == 0 or "\n" in text[prev_end:s]
        line_start = text.rfind("\n", 0, s) + 1
        if line_start not in line_caps:
            line_end = text.find("\n", s)
            line_caps[line_start] = _is_caps_line(text[line_start : line_end if line_end >= 0 else len(text)])
        caps[i] = line_caps[line_start]
    out: list[list[str]] = []
    for i in range(n):
        own, _ = per[i]
        f = ["b", *own]
        if newline[i]:
            f.append("nl")
        if i + 1 < n and newline[i + 1]:
            f.append("nl+1")
        if caps[i]:
            f.append("capsline")
        for slot, k in enumerate((-2, -1, 1, 2)):
            j = i + k
            if 0 <= j < n:
                f.extend(_neighbour_features(words[j])[slot])
                # a space or not between this token and the next ("Dr.X", "7/22")
                if k == 1 and spans[j][0] == spans[i][1]:
                    f.append("glued+1")
                if k == -1 and spans[i][0] == spans[j][1]:
                    f.append("glued-1")
            else:
                f.append(f"{k}:none")
        if i > 0:
            f.append(f"bi={words[i - 1].lower()}|{words[i].lower()}")
        if rule[i]:
            f.extend(rule[i])
        else:
            f.append("r=none")
        for k in (-1, 1):
            if 0 <= i + k < n:
                f.extend(f"{k}:{r}" for r in rule[i + k] if r.startswith("r="))
        out.append(f)
    return out
