"""Keyed value replacements for DICOM headers: UIDs by HMAC, dates by the subject's shift."""

import hashlib
import hmac
from datetime import date, timedelta

UID_ROOT = "2.25."  # PS3.5 B.2: a UID derived from a 128-bit integer, no registered root needed
_UID_PURPOSE = b"dicom-uid\x00"


def remap_uid(uid: str, secret: bytes) -> str:
    """A stable replacement UID: `2.25.<128-bit HMAC-SHA256 of the UID under the secret>`.

    The same input UID maps to the same output under one secret (a series stays a series, references stay
    resolvable), and nothing about the input can be recovered without the secret.

    >>> a = remap_uid("1.2.3.4", b"k" * 16)
    >>> a == remap_uid("1.2.3.4 ", b"k" * 16) and a != remap_uid("1.2.3.5", b"k" * 16)
    True
    >>> a.startswith("2.25.") and len(a) <= 64
    True
    """
    digest = hmac.new(secret, _UID_PURPOSE + uid.strip().strip("\x00").encode(), hashlib.sha256).digest()
    return UID_ROOT + str(int.from_bytes(digest[:16], "big"))


def parse_da(value: str) -> date | None:
    """A DICOM DA value (also the old ACR-NEMA `YYYY.MM.DD`) as a date; None if it is not a full date.

    >>> parse_da("20040826"), parse_da("1994.11.05"), parse_da("2004"), parse_da("20041332")
    (datetime.date(2004, 8, 26), datetime.date(1994, 11, 5), None, None)
    """
    s = value.strip().replace(".", "")
    if len(s) != 8 or not s.isdigit():
        return None
    try:
        return date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return None


def shift_da(value: str, days: int) -> str | None:
    """Shift one DA value by `days`; None when the value is not a full date (it cannot be shifted safely).

    >>> shift_da("20040826", -7), shift_da("", -7)
    ('20040819', None)
    """
    d = parse_da(value)
    return None if d is None else (d + timedelta(days=days)).strftime("%Y%m%d")


def shift_dt(value: str, days: int) -> str | None:
    """Shift the date part of one DT value; time of day, fraction and UTC offset are kept as they are.

    A DT with less than a full date (`2004`, `200408`) cannot be shifted consistently and returns None.

    >>> shift_dt("20040826185059.123+0200", -7), shift_dt("200408", -7)
    ('20040819185059.123+0200', None)
    """
    s = value.strip()
    shifted = shift_da(s[:8], days) if len(s) >= 8 else None
    return None if shifted is None else shifted + s[8:]
