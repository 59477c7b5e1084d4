"""Text with exact PHI spans: a builder that records each PHI string's offsets as it is appended.

>>> t = PhiText()
>>> t.line("Seen by ", ("Jane Roe", "NAME"), " on ", ("3/4/2021", "DATE"), ".")
>>> t.text()
'Seen by Jane Roe on 3/4/2021.\\n'
>>> [(s["start"], s["end"], s["label"]) for s in t.spans]
[(8, 16, 'NAME'), (20, 28, 'DATE')]
"""

from datetime import date, datetime

Part = str | tuple[str, str] | list  # plain text | (PHI text, label) | a sequence of parts

LABELS = frozenset(("NAME", "DATE", "AGE", "ID", "PHONE", "EMAIL", "URL", "ADDRESS", "CITY", "ZIP", "FACILITY"))
MONTHS = ("January February March April May June July August September October November December").split()
SEASONS = ("winter", "winter", "spring", "spring", "spring", "summer", "summer", "summer", "fall", "fall", "fall",
           "winter")  # fmt: skip


class PhiText:
    """Appends plain text and PHI; `spans` are character offsets into `text()`."""

    __slots__ = ("_n", "_parts", "spans")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._n = 0
        self.spans: list[dict] = []

    def add(self, *parts: Part) -> None:
        for part in parts:
            if isinstance(part, str):
                self._parts.append(part)
                self._n += len(part)
            elif isinstance(part, tuple):
                text, label = part
                assert label in LABELS, label
                self.spans.append({"start": self._n, "end": self._n + len(text), "label": label, "text": text})
                self._parts.append(text)
                self._n += len(text)
            else:
                self.add(*part)

    def line(self, *parts: Part) -> None:
        self.add(*parts, "\n")

    def text(self) -> str:
        return "".join(self._parts)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st.

    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd']
    """
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def format_date(d: date | datetime, style: str) -> str:
    """One date in one of the styles clinicians write.

    >>> d = datetime(2021, 3, 4, 10, 5)
    >>> [format_date(d, s) for s in ("mdy", "mdy0", "mdy_dash", "iso", "long", "month_day", "day_of_month")]
    ['3/4/2021', '03/04/2021', '03-04-2021', '2021-03-04', 'March 4, 2021', 'March 4th', '4th of March 2021']
    >>> [format_date(d, s) for s in ("iso_minutes", "mdy_time", "dmy_abbr", "md", "mdy2", "month_year")]
    ['2021-03-04T10:05', '03/04/2021 10:05', '04 Mar 2021', '3/4', '03/04/21', 'March 2021']
    """
    y, m, dd = d.year, d.month, d.day
    match style:
        case "mdy":
            return f"{m}/{dd}/{y}"
        case "mdy0":
            return f"{m:02d}/{dd:02d}/{y}"
        case "mdy_dash":
            return f"{m:02d}-{dd:02d}-{y}"
        case "iso":
            return f"{y}-{m:02d}-{dd:02d}"
        case "long":
            return f"{MONTHS[m - 1]} {dd}, {y}"
        case "month_day":
            return f"{MONTHS[m - 1]} {ordinal(dd)}"
        case "day_of_month":
            return f"{ordinal(dd)} of {MONTHS[m - 1]} {y}"
        case "iso_minutes":
            return f"{y}-{m:02d}-{dd:02d}T{d.hour:02d}:{d.minute:02d}"  # type: ignore[union-attr]
        case "mdy_time":
            return f"{m:02d}/{dd:02d}/{y} {d.hour:02d}:{d.minute:02d}"  # type: ignore[union-attr]
        case "dmy_abbr":
            return f"{dd:02d} {MONTHS[m - 1][:3]} {y}"
        case "md":
            return f"{m}/{dd}"
        case "mdy2":
            return f"{m:02d}/{dd:02d}/{y % 100:02d}"
        case "month_year":
            return f"{MONTHS[m - 1]} {y}"
    raise ValueError(f"unknown date style {style!r}")


FULL_DATE_STYLES = ("mdy", "mdy0", "mdy_dash", "iso", "long", "day_of_month", "dmy_abbr", "mdy2")


def relative_phrase(then: datetime, now: datetime) -> list:
    """How a note refers to an earlier event: 'last spring', 'in 2019', 'in March 2019'; the phrase is a DATE."""
    months = (now.year - then.year) * 12 + now.month - then.month
    if 3 <= months <= 14 and SEASONS[then.month - 1] != SEASONS[now.month - 1]:
        return [(f"last {SEASONS[then.month - 1]}", "DATE")]
    if months < 24:
        return ["in ", (format_date(then, "month_year"), "DATE")]
    return ["in ", (str(then.year), "DATE")]
