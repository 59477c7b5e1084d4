"""FHIR primitive checks for the fields the fast path reads: dateTime, id, reference, Coding, Quantity."""

import re
from datetime import UTC, datetime

from schemas.values import PLAUSIBLE_END, RAW_FIRST, finite_float32, plausible_time

_YEAR = re.compile(r"[0-9]{4}")
_YEAR_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_DATE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
# A dateTime with a time SHALL carry a zone (FHIR R4 datatypes); seconds may hold any number of decimals (R4's
# regex is `(\.[0-9]+)?`; Python keeps the first six).
_DATETIME = re.compile(
    r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
    r"(\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


class InvalidRecordError(ValueError):
    """A record fails a fast-path rule. Carries a reason code and a message that holds no record values."""

    def __init__(self, reason_code: str, reason: str) -> None:
        super().__init__(reason)
        self.reason_code = reason_code
        self.reason = reason


def parse_datetime(value: object, path: str) -> datetime:
    """A FHIR date/dateTime/instant as naive UTC; partial dates fall to their first instant.

    >>> parse_datetime("2021-03-04T10:00:00-05:00", "x")
    datetime.datetime(2021, 3, 4, 15, 0)
    >>> parse_datetime("1987-06", "x")
    datetime.datetime(1987, 6, 1, 0, 0)
    >>> parse_datetime("2021-03-04T10:00:00", "x.when")
    Traceback (most recent call last):
    ...
    pipelines.defs.fhir.primitives.InvalidRecordError: x.when is not a valid FHIR date/dateTime
    >>> parse_datetime("9999-12-31T23:00:00-05:00", "x")
    Traceback (most recent call last):
    ...
    pipelines.defs.fhir.primitives.InvalidRecordError: x is outside the plausible range 1801-01-01..2199-12-31
    """
    parsed = _parse_datetime(value)
    if parsed is None:
        raise InvalidRecordError("UNPARSEABLE_DATE", f"{path} is not a valid FHIR date/dateTime")
    if parsed is _OVERFLOW or not plausible_time(parsed):
        raise InvalidRecordError("IMPLAUSIBLE_DATE", f"{path} is outside the plausible range {_RANGE}")
    return parsed


_OVERFLOW = datetime.max  # noqa: DTZ901 -- a sentinel: the value parsed but its UTC instant does not exist in Python
_RANGE = f"{RAW_FIRST:%Y-%m-%d}..{PLAUSIBLE_END.year - 1}-12-31"


# Parsed strings -> their instant (or None / _OVERFLOW): the events of one encounter share a handful of times,
# so three in four parses on the shared Synthea set are repeats. Bounded; cleared when full.
_PARSED: dict[str, datetime | None] = {}
_PARSED_MAX = 1 << 16


def _parse_datetime(value: object) -> datetime | None:
    if isinstance(value, str):
        parsed = _PARSED.get(value, _PARSED)
        if parsed is _PARSED:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            parsed = _PARSED[value] = _parse_text(value)
        return parsed
    return None


def _parse_text(value: str) -> datetime | None:
    n = len(value)
    try:
        if n > 10 and _DATETIME.fullmatch(value):
            if value[17:19] == "60":  # leap second: FHIR allows it, Python does not
                value = value[:17] + "59" + value[19:]
            return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
        if n == 10 and _DATE.fullmatch(value):
            return datetime(int(value[:4]), int(value[5:7]), int(value[8:10]))  # noqa: DTZ001 (naive UTC)
        if n == 7 and _YEAR_MONTH.fullmatch(value):
            return datetime(int(value[:4]), int(value[5:7]), 1)  # noqa: DTZ001
        if n == 4 and _YEAR.fullmatch(value):
            return datetime(int(value), 1, 1)  # noqa: DTZ001
    except ValueError:  # e.g. 2021-02-30: matches the pattern, is no date
        return None
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past datetime.max in UTC
        return _OVERFLOW
    return None


def check_id(value: object, path: str) -> str:
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    raise InvalidRecordError("INVALID_RESOURCE", f"{path} is not a valid FHIR id")


def reference_id(ref: object, path: str) -> str:
    """The target id of a Reference: `Patient/x`, `urn:uuid:x`, or an absolute URL ending in `Type/x`.

    >>> reference_id({"reference": "urn:uuid:abc-1"}, "subject")
    'abc-1'
    >>> reference_id({"reference": "https://ehr.example/fhir/Patient/42/_history/3"}, "subject")
    '42'
    """
    if not isinstance(ref, dict):
        raise InvalidRecordError("INVALID_RESOURCE", f"{path} is not a Reference")
    text = ref.get("reference")
    if not isinstance(text, str) or not text:
        raise InvalidRecordError("MISSING_SUBJECT_REFERENCE", f"{path}.reference is missing")
    if text.startswith("urn:uuid:") or text.startswith("urn:oid:"):
        return text[9:]
    parts = text.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-1]:
        return parts[-1]
    raise InvalidRecordError("INVALID_RESOURCE", f"{path}.reference is not a resolvable reference")


def first_coding(concept: object, path: str) -> tuple[str | None, str, str | None]:
    """(system, code, display) of a CodeableConcept's first coding that has a code; text as display fallback."""
    if concept is None:
        raise InvalidRecordError("MISSING_CODE", f"{path} is missing")
    if not isinstance(concept, dict):
        raise InvalidRecordError("INVALID_RESOURCE", f"{path} is not a CodeableConcept")
    codings = concept.get("coding")
    if codings is not None and not isinstance(codings, list):
        raise InvalidRecordError("INVALID_RESOURCE", f"{path}.coding is not a list")
    for coding in codings or ():
        if not isinstance(coding, dict):
            raise InvalidRecordError("INVALID_RESOURCE", f"{path}.coding is not a Coding")
        code = coding.get("code")
        if code is None:
            continue
        system = coding.get("system")
        display = coding.get("display")
        if not isinstance(code, str) or not code.strip() or (system is not None and not isinstance(system, str)):
            raise InvalidRecordError("INVALID_RESOURCE", f"{path}.coding has a non-string system or code")
        if display is not None and not isinstance(display, str):
            raise InvalidRecordError("INVALID_RESOURCE", f"{path}.coding.display is not a string")
        text = concept.get("text")
        if display is None and text is not None and not isinstance(text, str):
            raise InvalidRecordError("INVALID_RESOURCE", f"{path}.text is not a string")
        return system, code.strip(), display if display is not None else text
    raise InvalidRecordError("MISSING_CODE", f"{path} has no coding with a code")


def quantity(q: object, path: str) -> tuple[float | None, str | None]:
    """(value, unit) of a Quantity; the UCUM code wins over the display unit. R4 makes the value optional (a
    result reported only as a unit, or with its value left out): the record keeps its event with no number."""
    if not isinstance(q, dict):
        raise InvalidRecordError("INVALID_RESOURCE", f"{path} is not a Quantity")
    value = q.get("value")
    if value is None:
        return None, _unit(q, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRecordError("INVALID_RESOURCE", f"{path}.value is not a decimal")
    if not finite_float32(float(value)):
        raise InvalidRecordError("NON_FINITE_VALUE", f"{path}.value is not finite as a 32-bit float")
    return float(value), _unit(q, path)


def _unit(q: dict, path: str) -> str | None:
    unit = q.get("code") if q.get("system") == "http://unitsofmeasure.org" and q.get("code") else q.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise InvalidRecordError("INVALID_RESOURCE", f"{path}.unit is not a string")
    return unit
