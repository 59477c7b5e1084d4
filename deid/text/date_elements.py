"""Date-shaped words that are no date element: a weekday, an ordinal before its noun, a duration, an amount."""

import regex as re

from deid.text.patterns import MONTH

# A weekday is no element of a date (HIPAA's are the day, the month and the year): it narrows nothing down
# to a date, the gold standards never mark one, and a whole-week shift keeps it true ("infusions on Tuesdays",
# "clinic visit on a Thursday"). Beside a date it is part of that date's span and stays.
_WEEKDAY = re.compile(r"(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?")

# An ordinal read as a day of the month ("the 11th"), maybe the last of a list of ordinals, before a word
# across a space or a line break: "the 4th\ndigit", "the 2nd seizure", "the 5th, 6th or 7th rib".
_ORDINAL = re.compile(r"(?i:(?:the|on|since|until|by)[ \t]+)?\d{1,2}(?i:st|nd|rd|th)")
_ORDINAL_LIST_AFTER = re.compile(
    r"(?:[ \t]*(?:,|(?i:and|or|to|through|-))[ \t]*(?:(?i:and|or)[ \t]+)?\d{1,2}(?i:st|nd|rd|th)\b)*"
)
_WORD_AFTER = re.compile(r"(?P<gap>[ \t]*\n?[ \t]*)(?P<word>\p{L}[\p{L}-]*)")
# Closed classes that follow a day of the month in a sentence ("on the 3rd at noon", "the 11th, when", "until
# the 2nd and then"): prepositions, conjunctions, auxiliaries, pronouns, adverbs of time. Any other word right
# after an ordinal is the noun it counts, or an adjective of that noun.
_FUNCTION = frozenset(
    """at in on of to for from by with without after before until till since during through via per about
    around and or but nor so then when while where which who that this these those as if than is was were are
    be been being has had have will would shall should can could may might must do did does he she it they
    we i you his her its their our my your him them us me again also only still already today tonight
    tomorrow yesterday morning afternoon evening night noon midnight am pm""".split()
)

# A bare number before a unit of time, across a line break that a rule's [ \t] did not cross: "sober since
# 12\nyears" is a duration; a day before a dose's unit is a count of tablets ("<Brand>-jun 3\ncapsules").
_DURATION_AFTER = re.compile(
    r"\s*(?:-|to)?\s*(?i:years?|yrs?|months?|mos?|weeks?|wks?|days?|hours?|hrs?|minutes?|mins?)(?![\p{L}])"
)
_DOSE_AFTER = re.compile(
    r"\s*(?i:tabs?|tablets?|caps?|capsules?|pills?|puffs?|drops?|mg|mcg|ml|units?|sprays?|patch(?:es)?)\b"
)
_DAY_NUMBER = re.compile(rf"(?i:(?:{MONTH})\.?[ \t\n]+)?\d{{1,2}}")

# A year-shaped number that is an amount: after the name of a count, a total or a volume with at most "of",
# "was", "is" or a header's colon between ("platelet count of <n>", "IV fluids: <n>", "EBL <n>"), or before
# a unit of energy ("<n> calories a day"); no date is a count of something.
_AMOUNT_BEFORE = re.compile(
    r"(?i:\b(?:count|level|total|volume|intake|output|fluids?|crystalloids?|colloids?|ebl|blood[ \t]+loss|"
    r"calories|kcals?)[ \t]*(?:of|was|is|were|are|:|=|-)?[ \t]*)$"
)
_ENERGY_AFTER = re.compile(r"[ \t]*(?i:calories|kcals?|cals?)\b")
# A year in a citation of the literature ("<Author> et al. (<year>)", "et al., <year>"): the year a paper
# was published, no date of an individual.
_CITATION_BEFORE = re.compile(r"(?i:\bet[ \t]+al)\.?,?[ \t]*\(?[ \t]*$")

# A decade: "the 1960s", "late 1950's", "1940 ′s" (coarser than the year HIPAA leaves).
_DECADE_AFTER = re.compile(r"[ \t]?['’′]?s\b")


def not_a_date(text: str, start: int, end: int) -> str | None:
    """Why the DATE hit [start, end) is no element of a date: "weekday", "ordinal" (of a noun after it),
    "duration" (a number before a unit), "dose" (a day before a dose), "decade", "amount" (a count or a
    volume), "citation" (a paper's year); or None."""
    span = text[start:end].strip()
    if _WEEKDAY.fullmatch(span):
        return "weekday"
    if _ORDINAL.fullmatch(span) and _ordinal_before_noun(text, end):
        return "ordinal"
    if _DAY_NUMBER.fullmatch(span) and span[-1:].isdigit() and _DOSE_AFTER.match(text, end):
        return "dose"
    if re.fullmatch(r"\d{1,3}", span) and _DURATION_AFTER.match(text, end):
        return "duration"
    if re.fullmatch(r"(?:1[89]|20)\d0", span) and _DECADE_AFTER.match(text, end):
        return "decade"
    if re.fullmatch(r"\d{4}", span):
        if _AMOUNT_BEFORE.search(text, max(0, start - 30), start) or _ENERGY_AFTER.match(text, end):
            return "amount"
        if _CITATION_BEFORE.search(text, max(0, start - 12), start):
            return "citation"
    return None


def _ordinal_before_noun(text: str, end: int) -> bool:
    """A word no closed class has follows the ordinal (or the list of ordinals it opens), on its line or,
    in lower case, on the next one; a month after it makes it a day ("the 3rd of\nMay")."""
    end = _ORDINAL_LIST_AFTER.match(text, end).end()
    m = _WORD_AFTER.match(text, end)
    if m is None:
        return False
    word = m.group("word")
    low = word.lower()
    if low in _FUNCTION or re.fullmatch(rf"(?i:{MONTH})\.?", word):
        return False
    return "\n" not in m.group("gap") or word[:1].islower()
