"""ICU nursing shorthand read as a name, a place or an organisation: a sign found or not on examination
("neg <Name>'s"), a drip and its rate ("<drip> @ .5mcg/kg/min"), acronyms with a count ("MAE x4"), a service
after "per" ("per ID"), a unit of care ("TSICU"), a device in its state ("<Brand> in place")."""

import regex as re

from deid.text.clinical_values import infused_at_rate, measure_word, unit_of_care

_WORDS = re.compile(r"\p{L}[\p{L}'’-]*")
# A count or a frequency: "x1", "x3", "q4h", "q12".
COUNT_OR_FREQUENCY = re.compile(r"[xq]\d+[a-z]*")


def nursing_reason(text: str, start: int, end: int) -> str | None:
    """Why the span [start, end), read as a name, a place or an organisation, is nursing shorthand, or None."""
    if sign_with_polarity(text, start, end):
        return "sign"
    if infused_at_rate(text, start, end):
        return "infusion"
    if counted_shorthand(text, start, end) or service_after_per(text, start, end):
        return "shorthand"
    if unit_of_care(text, start, end):
        return "unit of care"
    if device_in_state(text, start, end):
        return "device"
    if after_units(text, start, end):
        return "drug"
    return None


# A count of units or milliequivalents right before a word ("10U <insulin>", "20 meq <salt>"): what is given,
# a drug; nothing may stand between, so "2 units by <Name>" keeps its name.
_UNITS_BEFORE = re.compile(r"\b\d+(?:\.\d+)?[ \t]*(?i:u|units?|meq)[ \t]+$")


_UNIT_OPENS = re.compile(r"(?i:u|units?|meq)[ \t]+")


def after_units(text: str, start: int, end: int) -> bool:
    """One or two words right after a count of units ("10U <Brand> PM"); the span may hold the unit itself."""
    glued = _UNIT_OPENS.match(text, start, end) if text[start - 1 : start].isdigit() else None
    if glued is not None:
        start = glued.end()  # "14|U <Brand> AM": the unit read with the word after it
    return (
        1 <= len(_WORDS.findall(text, start, end)) <= 2
        and _UNITS_BEFORE.search(text, max(0, start - 12), start) is not None
    )


# The state of a line, a tube or a drain after its maker's or inventor's name: in place, intact, patent,
# clamped, to suction or gravity, discontinued at the clause's end; no person is patent or to suction ("in
# place of" is a preposition: "<Name> in place of <Name>").
_DEVICE_STATE_AFTER = re.compile(
    r"[ \t]+(?i:in[ \t]+place(?![ \t]+of)|intact|patent|clamped|draining"
    r"|to[ \t]+(?:lws|lis|lcws|sx|suction|gravity|cd|bsd|water[ \t]*seal)"
    r"|d/?c'?d(?=[ \t]*(?:[.,;]|$)))\b",
    re.MULTILINE,
)


def device_in_state(text: str, start: int, end: int) -> bool:
    """One or two capitalised words right before a device's state ("<Brand> in place", "<Name> to LWS")."""
    words = _WORDS.findall(text, start, end)
    return (
        1 <= len(words) <= 2
        and all(w[:1].isupper() for w in words)
        and _DEVICE_STATE_AFTER.match(text, end) is not None
    )


# A finding's polarity: a sign of the examination is found or not ("neg <Name>'s", "<Name> <Name> positive",
# "<Name>'s on exam"); no person is positive, negative or elicited.
_POLARITY = r"(?i:neg|negative|pos|positive)"
_POLARITY_OPENS = re.compile(rf"{_POLARITY}[ \t]+(?=\p{{L}})")
_POLARITY_BEFORE = re.compile(rf"\b{_POLARITY}[ \t]+$")
_POLARITY_AFTER = re.compile(rf"(?:['’][sS])?[ \t]+(?:{_POLARITY}|(?i:on[ \t]+exam|elicited))\b")
_CLAUSE_ENDS = re.compile(r"(?:['’][sS])?[ \t]*(?:[.,;]|$)", re.MULTILINE)


def sign_with_polarity(text: str, start: int, end: int) -> bool:
    """One or two capitalised words (maybe possessive) found or not found on examination: "neg" or
    "positive" right before them and the clause ending after them, or "positive", "negative", "on exam" or
    "elicited" right after them."""
    if (opens := _POLARITY_OPENS.match(text, start, end)) is not None:
        start = opens.end()
        before = True
    else:
        before = _POLARITY_BEFORE.search(text, max(0, start - 10), start) is not None
    words = [w.removesuffix("'s").removesuffix("’s") for w in _WORDS.findall(text, start, end)]
    if not 1 <= len(words) <= 2 or not all(w[:1].isupper() for w in words):
        return False
    if before and _CLAUSE_ENDS.match(text, end) is not None:
        return True
    return _POLARITY_AFTER.match(text, end) is not None


def counted_shorthand(text: str, start: int, end: int) -> bool:
    """Every word is a nursing acronym, a side or a single letter of one ("A&O"), and one is a count or a
    frequency ("MAE x4", "O x3", "NGT q4h"): shorthand, whatever the text around."""
    from deid.text.lexicon import NURSING_ACRONYMS

    words = re.findall(r"[\p{L}\d][\p{L}\d/&-]*", text[start:end])
    counts = [w for w in words if COUNT_OR_FREQUENCY.fullmatch(w.lower())]
    return (
        bool(counts)
        and len(counts) < len(words)
        and all(
            w in counts or w.lower() in NURSING_ACRONYMS or measure_word(w) or (len(w) == 1 and w.isupper())
            for w in words
        )
    )


# "per" before a clinical service names whose order it was ("per ID", "per GI"): a state's code is never
# written after it.
_PER_BEFORE = re.compile(r"(?i:\bper)[ \t]+$")
# A hospital's consulting services by their initials, beside the nursing acronyms (infectious disease,
# electrophysiology, interventional radiology, social work, case management, respiratory therapy, team).
_SERVICES = frozenset("id ep ir sw cm rt team".split())


def service_after_per(text: str, start: int, end: int) -> bool:
    """One nursing acronym after "per" (in the span or right before it)."""
    from deid.text.lexicon import NURSING_ACRONYMS

    words = re.findall(r"[\p{L}\d][\p{L}\d/&-]*", text[start:end])
    if words and words[0].lower() == "per":
        words = words[1:]
    elif _PER_BEFORE.search(text, max(0, start - 6), start) is None:
        return False
    return len(words) == 1 and (words[0].lower() in NURSING_ACRONYMS or words[0].lower() in _SERVICES)
