"""Durations in task and feature YAML: `30d`, `12h`, `90m`, `45s`, `2w`, or `all` (unbounded), as microseconds."""

import re

_UNITS_US = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000, "w": 604_800_000_000}
_PART = re.compile(r"(\d+)([smhdw])")
US_PER_DAY = _UNITS_US["d"]


def parse_duration(text: str | int | None, *, allow_all: bool = False) -> int | None:
    """Fixed-length duration in microseconds (a day is 24 h: no calendar months or years, on purpose).

    >>> parse_duration("30d") == 30 * 86_400_000_000
    True
    >>> parse_duration("1d12h") == 36 * 3_600_000_000
    True
    >>> parse_duration("all", allow_all=True) is None
    True
    """
    if text is None or (isinstance(text, str) and text.strip().lower() in ("all", "inf", "full")):
        if allow_all:
            return None
        raise ValueError("an unbounded duration ('all') is not allowed here")
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ValueError(f"duration must be >= 0, got {text}")
        return text * _UNITS_US["s"]
    s = str(text).strip().lower().replace(" ", "")
    if not s or _PART.sub("", s):
        raise ValueError(f"bad duration {text!r}: use e.g. 30d, 12h, 90m, 45s, 2w, 1d12h or all")
    return sum(int(n) * _UNITS_US[u] for n, u in _PART.findall(s))


def format_duration(us: int | None) -> str:
    """Canonical short name used in feature names: 30d, 12h, all.

    >>> format_duration(parse_duration("720h"))
    '30d'
    >>> format_duration(None)
    'all'
    """
    if us is None:
        return "all"
    for unit in ("w", "d", "h", "m", "s"):
        if unit != "w" and us % _UNITS_US[unit] == 0:
            return f"{us // _UNITS_US[unit]}{unit}"
    return f"{us}us"
