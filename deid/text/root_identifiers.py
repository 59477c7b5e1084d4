"""Every patient's identifiers, phone numbers, e-mails and street lines in a root as one deny list for notes:
a note that holds another patient's MRN, phone or address has it replaced, written in any of its usual forms."""

import re
from collections import defaultdict
from collections.abc import Iterable

from deid.text.spans import PhiSpan

_TOKEN = re.compile(r"[a-z0-9]+")
_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
# An identifier is matched only when it could not be a number or code of clinical text by chance: after the
# separators are dropped, at least 6 letters and digits, at least 3 of them digits and at least 3 different
# characters. A 4-digit id has a year's, a volume's and a clock time's shape, a 5-digit one a ZIP's and a
# count's, a code of letters a word's; "12", "2019", "10500", "T4", "HbA1c", "AAAAAA" are never matched.
MIN_ID_CHARS, MIN_ID_DIGITS, MIN_ID_DISTINCT = 6, 3, 3
# A phone is its digits: 7 at least (a local number), matched in full, as its last 10 (a NANP number) with or
# without the country code 1, as its 7 local digits, or (a number abroad) its last 10 after a trunk 0; the
# digit groups may be split by spaces, dots, dashes, brackets and +.
MIN_PHONE_DIGITS = 7
_PHONE_GAP = re.compile(r"[\s().+-]{1,3}")
# What joins an identifier's parts in writing ("123-45-6789", "AB.12.34", "M 00123"); an id is never matched as
# the middle of a longer one joined the same way ("123-45-6789-0").
_ID_GAP = re.compile(r"[\s./_-]")
_ID_JOINER = re.compile(r"[./_-][a-z0-9]")
# USPS Publication 28's common street suffixes and directionals, each written in full or abbreviated; "St" is
# a street as often as a saint (an address may hold either), so both read as one word here.
_STREET_WORDS = {
    "st": ("street", "str", "saint"), "ave": ("avenue", "av", "aven"), "rd": ("road",), "blvd": ("boulevard",),
    "dr": ("drive", "drv"), "ln": ("lane",), "ct": ("court", "crt"), "pl": ("place",),
    "ter": ("terrace", "terr"), "pkwy": ("parkway", "pky"), "hwy": ("highway",), "cir": ("circle", "circ"),
    "sq": ("square",), "trl": ("trail",), "way": ("wy",), "xing": ("crossing",), "hts": ("heights",),
    "pt": ("point",), "mt": ("mount", "mountain"), "expy": ("expressway",), "fwy": ("freeway",),
    "tpke": ("turnpike",), "rte": ("route",), "aly": ("alley",), "ctr": ("center", "centre"),
    "cres": ("crescent",), "plz": ("plaza",), "rdg": ("ridge",), "grv": ("grove",), "gdns": ("gardens",),
    "hl": ("hill",), "apt": ("apartment",), "ste": ("suite",), "fl": ("floor",), "n": ("north",),
    "s": ("south",), "e": ("east",), "w": ("west",), "ne": ("northeast",), "nw": ("northwest",),
    "se": ("southeast",), "sw": ("southwest",),
}  # fmt: skip
_CANON = {w: short for short, words in _STREET_WORDS.items() for w in (short, *words)}
# A unit after the street ("Apt 4", "Unit 2B", "#5") is matched when written, never required.
_UNIT = frozenset({"apt", "unit", "ste", "fl", "rm", "room", "bldg"})
_UNIT_VALUE = re.compile(r"\d+[a-z]?|[a-z]")
_HOUSE_NUMBER = re.compile(r"\d+[a-z]?")


_Tok = tuple[int, int, str]  # a token's start, end and lower-case text


def id_key(value: str) -> str | None:
    """An identifier as matched (lower-case letters and digits), or None when it is too short or too plain.

    >>> id_key("MRN-00123-45"), id_key("12"), id_key("2019"), id_key("HbA1c"), id_key("000000")
    ('mrn0012345', None, None, None, None)
    """
    key = "".join(_TOKEN.findall(value.lower()))
    digits = sum(ch.isdigit() for ch in key)
    if len(key) < MIN_ID_CHARS or digits < MIN_ID_DIGITS or len(set(key)) < MIN_ID_DISTINCT:
        return None
    return key


def phone_keys(value: str) -> set[str]:
    """The digit strings a phone number is matched as.

    >>> sorted(phone_keys("+1 (617) 555-0142")), phone_keys("x12")
    (['16175550142', '5550142', '6175550142'], set())
    """
    digits = re.sub(r"\D", "", value)
    if len(digits) < MIN_PHONE_DIGITS:
        return set()
    keys = {digits, digits[-7:]}
    if len(digits) >= 10:
        keys |= {digits[-10:], "1" + digits[-10:]}
    if len(digits) > 10 and not digits.startswith("1"):  # abroad, the national form: trunk 0 for the code
        keys.add("0" + digits[-10:])
    return keys


def street_key(line: str) -> tuple[str, ...] | None:
    """A street line as matched: its house number, then its words with street types and directionals in one
    form each, the unit dropped (matched when written, not required). None without a number and two words.

    >>> street_key("12B North Foundry Rd., Apt 4"), street_key("Apt 4"), street_key("5 North")
    (('12b', 'n', 'foundry', 'rd'), None, None)
    """
    toks = [_CANON.get(t, t) for t in _TOKEN.findall(line.lower())]
    while toks and not _HOUSE_NUMBER.fullmatch(toks[0]):
        toks = toks[1:]  # a building's name before the number ("Oak House, 4 Elm St")
    for i, t in enumerate(toks[1:], 1):
        if t in _UNIT:
            toks = toks[:i]
            break
    if len(toks) < 3 or not any(t.isalpha() and len(t) >= 3 for t in toks[1:]):
        return None
    return tuple(toks)


class RootIdentifiers:
    """Identifiers, phones, e-mails and street lines of every patient of a root, as hashed sets of their
    normalised forms: one pass over a note's tokens, a set lookup per token, built once per run.

    >>> m = RootIdentifiers(ids=["0042-7781-3"], phones=["617.555.0142"], emails=["A.Lee@Mail.test"],
    ...                     streets=["52 Foundry Road"])
    >>> text = "MRN 004277813; call (617) 555 0142 or a.lee@mail.test; lives at 52 FOUNDRY RD. HR 0042"
    >>> [(text[s.start:s.end], s.label) for s in m.spans(text)]
    [('004277813', 'ID'), ('(617) 555 0142', 'PHONE'), ('a.lee@mail.test', 'EMAIL'), ('52 FOUNDRY RD', 'ADDRESS')]
    """

    def __init__(
        self,
        ids: Iterable[str] = (),
        phones: Iterable[str] = (),
        emails: Iterable[str] = (),
        streets: Iterable[str] = (),
    ) -> None:
        self._ids = {k for v in ids if (k := id_key(v))}
        # an id may be written in parts: every prefix, so a walk over the parts stops at the first that fits none
        self._id_prefixes = {k[:i] for k in self._ids for i in range(1, len(k) + 1)}
        self._phones = {k for v in phones for k in phone_keys(v)}
        self._phone_prefixes = {k[:i] for k in self._phones for i in range(1, len(k) + 1)}
        self._emails = {e.strip().lower() for e in emails if "@" in e}
        self._streets: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for line in streets:
            if (key := street_key(line)) is not None:
                self._streets[key[0]].add(key)
        # what a known value's first token may be: any other token is passed over with one set lookup
        self._starts = self._id_prefixes | self._phone_prefixes | set(self._streets)
        self.size = len(self._ids) + len(self._phones) + len(self._emails) + sum(map(len, self._streets.values()))

    def spans(self, text: str) -> list[PhiSpan]:
        """ID, PHONE, EMAIL and ADDRESS spans of every known value found in `text` (longest at each token)."""
        if not self.size:
            return []
        low = text.lower()
        if len(low) != len(text):  # a few characters lower-case to two ("İ"): keep offsets aligned
            low = "".join(ch.lower()[0] for ch in text)
        out: list[PhiSpan] = []
        starts = self._starts
        if not starts.isdisjoint(_TOKEN.findall(low)):  # a known value's first token is there at all
            out = self._walk(low, [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(low)])
        if self._emails and "@" in low:
            out += [
                PhiSpan(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(low) if m.group() in self._emails
            ]
            out.sort(key=lambda s: s.start)
        return out

    def _walk(self, low: str, toks: list[_Tok]) -> list[PhiSpan]:
        out: list[PhiSpan] = []
        starts, after = self._starts, 0
        for i in [i for i, t in enumerate(toks) if t[2] in starts]:
            if i < after:
                continue  # inside the value found last
            span = self._phone(low, toks, i) or self._id(low, toks, i) or self._street(toks, i)
            if span is not None:
                out.append(span[0])
                after = span[1]
        return out

    def _phone(self, low: str, toks: list[_Tok], i: int) -> tuple[PhiSpan, int] | None:
        def follows(j: int) -> bool:
            return toks[j][2].isdigit() and toks[j - 1][2].isdigit() and _joined(low, toks, j, _PHONE_GAP)

        if not toks[i][2].isdigit() or (i and follows(i)):
            return None  # a phone starts a run of digits
        best = _longest(toks, i, self._phones, self._phone_prefixes, follows)
        if best is None or (best + 1 < len(toks) and follows(best + 1)):
            return None  # a part of a longer run of digits is not this phone
        start = toks[i][0]
        if start and low[start - 1] in "(+":
            start -= 1  # "(617) ..." and "+1 ...": the bracket or plus goes with the number
        return PhiSpan(start, toks[best][1], "PHONE"), best + 1

    def _id(self, low: str, toks: list[_Tok], i: int) -> tuple[PhiSpan, int] | None:
        def follows(j: int) -> bool:
            return toks[j][0] - toks[j - 1][1] == 1 and _ID_GAP.match(low, toks[j - 1][1]) is not None

        start = toks[i][0]
        if not self._ids or (i and toks[i - 1][1] == start - 1 and _ID_JOINER.match(low, start - 1)):
            return None  # the middle of a longer identifier ("123-45-6789-0")
        best = _longest(toks, i, self._ids, self._id_prefixes, follows)
        if best is None or _ID_JOINER.match(low, toks[best][1]):
            return None
        return PhiSpan(start, toks[best][1], "ID"), best + 1

    def _street(self, toks: list[_Tok], i: int) -> tuple[PhiSpan, int] | None:
        keys = self._streets.get(toks[i][2])
        if not keys:
            return None
        words = [_CANON.get(t[2], t[2]) for t in toks[i : i + max(map(len, keys)) + 2]]
        best = max((len(k) for k in keys if tuple(words[: len(k)]) == k), default=0)
        if not best:
            return None
        end = i + best
        unit = toks[end : end + 2]
        if len(unit) == 2 and _CANON.get(unit[0][2], unit[0][2]) in _UNIT and _UNIT_VALUE.fullmatch(unit[1][2]):
            end += 2  # "..., Apt 4" as written after the street
        return PhiSpan(toks[i][0], toks[end - 1][1], "ADDRESS"), end


def _longest(toks: list[_Tok], i: int, keys: set[str], prefixes: set[str], follows) -> int | None:
    """The last token of the longest key that tokens i, i+1, ... spell (each joined to the one before as
    `follows` says), or None; the walk stops at the first string that begins no key."""
    key, best = "", None
    for j in range(i, len(toks)):
        if j > i and not follows(j):
            break
        key += toks[j][2]
        if key not in prefixes:
            break
        if key in keys:
            best = j
    return best


def _joined(low: str, toks: list[_Tok], j: int, gap: re.Pattern[str]) -> bool:
    """Whether token j follows token j-1 across nothing but `gap`."""
    return gap.fullmatch(low, toks[j - 1][1], toks[j][0]) is not None
