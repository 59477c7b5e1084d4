"""Dates found in text: parsed, shifted by whole days and written back in the format they came in, or
generalised to the year."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import regex as re

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")  # fmt: skip
_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_SEASON_MONTH = {"winter": 1, "spring": 4, "summer": 7, "fall": 10, "autumn": 10}
_HOLIDAY = {"christmas": (12, 25), "thanksgiving": (11, 25), "easter": (4, 10)}
# Dates without a year are placed in a leap year so 2/29 survives the round trip.
_NO_YEAR = 2000
_LEAP_YEAR = 2000
_MONTH_RE = r"(?P<mon>[A-Za-z]{3,9})(?P<dot>\.?)"
_DAY_RE = r"(?P<d>\d{1,2})(?P<ord>st|nd|rd|th)?"
_YEAR_RE = r"(?P<y>\d{4}|'?\d\d)"
# A day alone ("the 11th", the 1 of "1->2 nov") is read in a 31-day month, so a shift moves it like a date.
_DAY_MONTH = 1


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A date as found: its value, whether it had a year, and how to write another date the same way."""

    value: date
    has_year: bool
    render: Callable[[date], str]

    def shifted(self, days: int, protected: frozenset[date] = frozenset()) -> str:
        """The date moved by `days`, written the same way. When the result would read as the true date or
        as a protected one (the subject's real birth or death date), directly or with day and month swapped
        in a numeric form (12-03-1983 shifted to 03-12-1983), it moves one more week back, until it does
        not. Rare (the shift must land on it), and whole weeks keep the day of the week."""
        out = ""
        for _ in range(8):
            v = self.value + timedelta(days=days)
            out = self.render(v)
            swapped = (
                date(v.year, v.day, v.month)
                if v.day <= 12 and v.day != v.month and not any(ch.isalpha() for ch in out)
                else None
            )
            if days == 0 or not (v in protected or (swapped is not None and swapped in protected | {self.value})):
                break
            days -= 7
        return out

    def year(self) -> str | None:
        return f"{self.value.year:04d}" if self.has_year else None


def _year(text: str) -> int:
    """Four digits as is; two digits ('86, 86) pivot at 40: 00-40 are 20xx, 41-99 are 19xx."""
    digits = text.strip("'")
    if len(digits) == 4:
        return int(digits)
    yy = int(digits)
    return 2000 + yy if yy <= 40 else 1900 + yy


def _fmt_year(template: str, y: int) -> str:
    if template.startswith("'"):
        return f"'{y % 100:02d}"
    if template.endswith("'"):  # CVA 74': the apostrophe after
        return f"{y % 100:02d}'"
    return f"{y % 100:02d}" if len(template) == 2 else f"{y:04d}"


def _num(template: str, n: int, *fields: str) -> str:
    """`n` written like `template`: zero-padded when the date pads (a field starts with 0, or none of its
    numeric fields is a single digit, as in 12/25), else bare."""
    fields = fields or (template,)
    pad = any(f.startswith("0") for f in fields) or not any(len(f) == 1 for f in fields)
    return f"{n:02d}" if pad and len(template) <= 2 else str(n)


def _month_value(name: str) -> int | None:
    low = name.lower()
    if low in MONTHS:
        return MONTHS.index(low) + 1
    return _ABBR.get(low[:4]) if low[:4] == "sept" else _ABBR.get(low) if len(low) <= 4 else None


def _month_name(template: str, month: int) -> str:
    full = MONTHS[month - 1]
    low = template.lower()
    if low in MONTHS:
        word = full
    elif low == "sept":
        word = "sept" if month == 9 else full[:3]
    else:
        word = full[:3]
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[0].isupper():
        return word.capitalize()
    return word


def _ordinal(n: int) -> str:
    return "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _ord(m: re.Match[str], d: int) -> str:
    suffix = m.group("ord")
    if not suffix:
        return ""
    out = _ordinal(d)
    return out.upper() if suffix.isupper() else out


def _sub(m: re.Match[str], values: dict[str, str]) -> str:
    """The matched text with the named groups in `values` replaced."""
    text = m.group(0)
    parts, last = [], 0
    for name in sorted(values, key=lambda g: m.start(g)):
        s, e = m.start(name) - m.start(0), m.end(name) - m.start(0)
        parts += [text[last:s], values[name]]
        last = e
    return "".join([*parts, text[last:]])


def _iso(m: re.Match[str]) -> ParsedDate:
    y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    fields = (m["m"], m["d"])

    def render(v: date) -> str:
        return _sub(
            m, {"y": f"{v.year:04d}", "m": _num(m["m"], v.month, *fields), "d": _num(m["d"], v.day, *fields)}
        )

    return ParsedDate(date(y, mo, d), True, render)


def _numeric(m: re.Match[str]) -> ParsedDate:
    a, b = int(m["a"]), int(m["b"])
    month_first = a <= 12
    mo, d = (a, b) if month_first else (b, a)
    ga, gb = ("a", "b") if month_first else ("b", "a")
    y = _year(m["y"])

    def render(v: date) -> str:
        fields = (m["a"], m["b"])
        return _sub(m, {ga: _num(m[ga], v.month, *fields), gb: _num(m[gb], v.day, *fields),
                        "y": _fmt_year(m["y"], v.year)})  # fmt: skip

    return ParsedDate(date(y, mo, d), True, render)


def _md(m: re.Match[str]) -> ParsedDate:
    fields = (m["a"], m["b"])
    month, day = int(m["a"]), int(m["b"])
    if 1 <= month <= 12 and 28 < day <= 31:  # 2/31 as written: the last day of that month
        day = min(day, (date(_LEAP_YEAR + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day)

    def render(v: date) -> str:
        return _sub(m, {"a": _num(m["a"], v.month, *fields), "b": _num(m["b"], v.day, *fields)})

    year = _LEAP_YEAR if (month, day) == (2, 29) else _NO_YEAR
    return ParsedDate(date(year, month, day), False, render)


def _day(m: re.Match[str]) -> ParsedDate:
    day = int(m["d"])

    def render(v: date) -> str:
        values = {"d": f"{v.day:02d}" if m["d"].startswith("0") else str(v.day)}
        if m["ord"]:
            values["ord"] = _ord(m, v.day)
        return _sub(m, values)

    return ParsedDate(date(_NO_YEAR, _DAY_MONTH, day), False, render)


def _my_numeric(m: re.Match[str]) -> ParsedDate:
    return ParsedDate(date(_year(m["y"]), int(m["a"]), 15), True,
                      lambda v: _sub(m, {"a": _num(m["a"], v.month), "y": _fmt_year(m["y"], v.year)}))  # fmt: skip


def _named(m: re.Match[str]) -> ParsedDate:
    month = _month_value(m["mon"])
    if month is None:
        raise ValueError("not a month")
    has_day = m.groupdict().get("d") is not None
    has_year = m.groupdict().get("y") is not None
    day = int(m["d"]) if has_day else 15
    year = _year(m["y"]) if has_year else _LEAP_YEAR if (month, day) == (2, 29) else _NO_YEAR

    def render(v: date) -> str:
        values = {"mon": _month_name(m["mon"], v.month)}
        if has_day:
            values["d"] = _num(m["d"], v.day)
            if m["ord"]:
                values["ord"] = _ord(m, v.day)
        if has_year:
            values["y"] = _fmt_year(m["y"], v.year)
        return _sub(m, values)

    return ParsedDate(date(year, month, day), has_year, render)


def _season(m: re.Match[str]) -> ParsedDate:
    word = m["s"].lower()
    y = _year(m["y"])
    month, day = (_SEASON_MONTH[word], 15) if word in _SEASON_MONTH else _HOLIDAY[word]

    def render(v: date) -> str:
        if word in _HOLIDAY:  # a shifted holiday is no longer that holiday: say the month instead
            name = MONTHS[v.month - 1].capitalize()
            return f"{name} {_fmt_year(m['y'], v.year)}"
        season = ("winter", "winter", "spring", "spring", "spring", "summer", "summer", "summer", "fall", "fall",
                  "fall", "winter")[v.month - 1]  # fmt: skip
        season = "autumn" if season == "fall" and word == "autumn" else season
        season = season.upper() if m["s"].isupper() else season.capitalize() if m["s"][0].isupper() else season
        return _sub(m, {"s": season, "y": _fmt_year(m["y"], v.year)})

    return ParsedDate(date(y, month, day), True, render)


def _bare_year(m: re.Match[str]) -> ParsedDate:
    # A bare year moves with the subject's shift applied to its middle (2 July).
    return ParsedDate(date(_year(m["y"]), 7, 2), True, lambda v: _fmt_year(m["y"], v.year))


_PARSERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], ParsedDate]], ...] = tuple(
    (re.compile(p, re.IGNORECASE), f)
    for p, f in (
        (r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T\s].*)?", _iso),
        (r"(?P<y>\d{4})[/.](?P<m>\d{1,2})[/.](?P<d>\d{1,2})", _iso),
        (r"(?P<a>\d{1,2})(?P<s1>[/.-])(?P<b>\d{1,2})(?P=s1)(?P<y>\d{4}|\d{2})", _numeric),
        (r"(?P<a>\d{1,2})/(?P<b>\d{1,2})", _md),
        (r"(?P<a>\d{1,2})-(?P<b>\d{1,2})", _md),  # "on 3-4": a month-day with a dash
        (r"(?P<a>\d{1,2})/(?P<y>\d{4}|\d{2})", _my_numeric),
        (rf"{_MONTH_RE}\s+{_DAY_RE}(?:(?:,\s*|\s+){_YEAR_RE})?", _named),
        (rf"(?:the\s+)?{_DAY_RE}(?:\s+of)?[\s-]+{_MONTH_RE}(?:,?[\s-]+{_YEAR_RE})?", _named),
        (rf"{_MONTH_RE}(?:\s+of)?,?\s+{_YEAR_RE}", _named),
        (rf"{_MONTH_RE}", _named),
        (
            r"(?:(?:early|late|mid)[\s-]+)?(?P<s>spring|summer|fall|autumn|winter|christmas|thanksgiving|easter)"
            r"(?:\s+of)?,?\s+(?P<y>\d{4}|'\d\d)",
            _season,
        ),
        (r"(?P<y>\d{4}|'\d\d|\d\d')", _bare_year),
        (r"(?:the\s+)?(?P<d>\d{1,2})(?P<ord>st|nd|rd|th)?", _day),
    )
)


_TIME_SUFFIX = re.compile(r",?\s+(?:at\s+)?\d{1,2}:\d\d(?::\d\d)?(?:\s*(?:[ap]m|[ap]\.m\.))?$", re.IGNORECASE)


def parse_date(text: str) -> ParsedDate | None:
    """Parse a DATE span; None when it is no date this module can rewrite.

    >>> parse_date("March 4th, 2021").shifted(-7)
    'February 25th, 2021'
    >>> parse_date("03/04/21").shifted(-28)
    '02/04/21'
    >>> parse_date("3/4").shifted(-7), parse_date("4th of MARCH").shifted(7)
    ('2/26', '11th of MARCH')
    >>> parse_date("2021-03-04T10:00").shifted(-364), parse_date("Summer 2019").year()
    ('2020-03-05T10:00', '2019')
    >>> parse_date("03/11/2019 15:24").shifted(-7), parse_date("March 4, 2021 at 10:30 AM").shifted(7)
    ('03/04/2019 15:24', 'March 11, 2021 at 10:30 AM')
    >>> parse_date("7/22").shifted(-35), parse_date("CVA 74'"[4:]).shifted(-364), parse_date("7/81").shifted(-35)
    ('6/17', "73'", '6/81')
    >>> parse_date("3-4").shifted(-7), parse_date("12-30").shifted(7)
    ('2-26', '01-06')
    >>> parse_date("2 nov, 96").shifted(-35), parse_date("the 11th").shifted(-7), parse_date("NOV 2").shifted(7)
    ('28 sep, 96', 'the 4th', 'NOV 9')
    """
    text = text.strip()
    time = _TIME_SUFFIX.search(text)
    if time is not None and time.start() > 0:
        parsed = parse_date(text[: time.start()])
        if parsed is None:
            return None
        suffix = time.group()
        return ParsedDate(parsed.value, parsed.has_year, lambda v: parsed.render(v) + suffix)
    for pattern, parser in _PARSERS:
        m = pattern.fullmatch(text)
        if m is not None:
            try:
                return parser(m)
            except (ValueError, KeyError):
                continue
    return None
