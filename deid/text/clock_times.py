"""Four digits that are a time of day, not a year, read from the clause around them: a preposition that takes
either ("since", "from", "after") with a clock cue in the same clause, a list of times, a time after a date."""

import regex as re

# A valid time of day in four digits: hours 00-23, minutes 00-59 ("1960" or "2075" can only be years).
_CLOCK = r"(?:[01]\d|2[0-3])[0-5]\d"
_CLOCK_ONLY = re.compile(_CLOCK)
# Prepositions that take a year as often as a time of day: the clause decides ("NPO since 2000 for a procedure
# at 0800" is a time; "sober since 2000" a year).
_EITHER_BEFORE = re.compile(
    r"(?i:\b(?:since|from|after|before|starting|beginning|till|thru|through|prior[ \t]+to))[ \t]*$"
)
# What puts a clause on the clock of a shift: another time of day after a time preposition or with its unit,
# hours and minutes, am/pm, a frequency in hours, a rate per hour, the words of a shift.
_CLOCK_CUE = re.compile(
    rf"(?:\b(?i:at|by|until|@)[ \t]*{_CLOCK}\b|@[ \t]*{_CLOCK}\b|\b{_CLOCK}[ \t]*(?i:hrs?|h|hours)\b"
    r"|\b\d{1,2}:\d\d\b|\b\d{1,2}[ \t]*(?i:am|pm|a\.m\.|p\.m\.)(?![\p{L}])"
    r"|\b(?i:q[ \t]*\d{0,2}[ \t]*(?:h|hr|hrs|hours?)|q(?:am|pm|hs|shift)|overnight|"
    r"this[ \t]+(?:shift|am|pm|morning|afternoon|evening)|tonight|today|noc|per[ \t]+hour|an[ \t]+hour|"
    r"/[ \t]*hr?)(?![\p{L}])"
    r"|\b(?i:nurs(?:ing|e)[ \t]+note|shift)\b"
    # a volume put out, a shift's total: "500 mL out via foley since <time>"
    r"|\d[ \t]*(?i:cc|ml)\b.*\b(?i:out|output|drained|voided)\b"
    r"|\b(?i:out|output|drained|voided)\b.*\d[ \t]*(?i:cc|ml)\b)"
)
# What makes a clause speak of years: a month's name, a date with a year, ages and spans of years, a history.
_YEAR_CUE = re.compile(
    r"(?i:\b(?:jan(?:uary)?|feb(?:ruary)?|march|apr(?:il)?|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|"
    r"nov(?:ember)?|dec(?:ember)?|years?|yrs?|ago|age[ds]?|born|y/?o|diagnosed|dx|hx|history|decades?|"
    r"childhood|retired|married|divorced|widowed|moved|lived|worked|graduated)\b"
    r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b|'\d\d\b)"
)
# A clause ends at a full stop that is no decimal point, a comma that is no thousands' separator, a semicolon
# or a line break.
_CLAUSE_END = re.compile(r"(?<!\d)\.(?!\d)|\.(?=[ \t]|$)|,(?!\d{3}\b)|[;\n]")
# Times in a row ("1900, 2000, 2100"): a list of times of day when one of them could be no year.
_LIST_SEP = r"[ \t]*(?:,|(?i:and|then|&))[ \t]*"
# A month/day right before, with at most "at" or "@" between: the time of that day ("3/14 1930").
_DATE_BEFORE = re.compile(r"(?<![\d/])\d{1,2}/\d{1,2}(?:/\d{2,4})?,?[ \t]+(?:(?i:at)[ \t]+|@[ \t]*)?$")


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    left = max(0, start - 120)
    ends = list(_CLAUSE_END.finditer(text, left, start))
    lo = ends[-1].end() if ends else left
    m = _CLAUSE_END.search(text, end, min(len(text), end + 120))
    return lo, (m.start() if m else min(len(text), end + 120))


def _line(text: str, start: int, end: int) -> tuple[int, int]:
    lo = max(text.rfind("\n", 0, start) + 1, start - 120)
    hi = text.find("\n", end)
    return lo, min(hi if hi >= 0 else len(text), end + 120)


def _year_shaped(value: str) -> bool:
    return re.fullmatch(r"19\d\d|20[0-4]\d", value) is not None


def _in_clock_list(text: str, start: int, end: int) -> bool:
    """The four digits stand in a list of three or more four-digit times of day, one of which no year can be."""
    lo, hi = _line(text, start, end)
    for m in re.finditer(rf"(?<![\d/.,:]){_CLOCK}(?:{_LIST_SEP}{_CLOCK}){{2,}}(?![\d/.:])", text[lo:hi]):
        if m.start() + lo <= start and end <= m.end() + lo:
            values = re.findall(r"\d{4}", m.group(0))
            return any(not _year_shaped(v) for v in values)
    return False


# Words before a number that take a time of day as often as a year ("until 2005", "by 2010", "around 1930").
_WORD_BEFORE = re.compile(r"(?i:\b(?:until|till|til|by|around|about|approx|approximately))[ \t]*$")


def year_after_time_word(text: str, start: int, end: int) -> bool:
    """A year-shaped number after "until", "by" or "around" whose clause speaks of years and has no clock cue
    ("smoked until 2005, quit 20 yrs ago"): a year, though the word before it usually takes a time."""
    value = text[start:end].strip()
    if not _year_shaped(value) or _WORD_BEFORE.search(text, max(0, start - 16), start) is None:
        return False
    lo, hi = _clause(text, start, end)
    clause = text[lo:start] + " " * (end - start) + text[end:hi]
    return _YEAR_CUE.search(clause) is not None and _CLOCK_CUE.search(clause) is None


def clock_not_year(text: str, start: int, end: int) -> bool:
    """The span is four digits, a valid time of day, that its clause makes a time and not a year: after a
    preposition taking either with a clock cue in the clause and no year cue; in a list of times; after a
    month/day."""
    value = text[start:end].strip()
    if _CLOCK_ONLY.fullmatch(value) is None:
        return False
    if _DATE_BEFORE.search(text, max(0, start - 16), start) is not None:
        return True
    if _in_clock_list(text, start, end):
        return True
    if _EITHER_BEFORE.search(text, max(0, start - 14), start) is None:
        return False
    lo, hi = _clause(text, start, end)
    clause = text[lo:start] + " " * (end - start) + text[end:hi]  # the value itself is no cue
    return _CLOCK_CUE.search(clause) is not None and _YEAR_CUE.search(clause) is None
