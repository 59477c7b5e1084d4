"""The values policy: which dates and numbers are plausible enough to enter a timeline (docs/inputs.md).

Invariants:
1. Every event time and birth/death time in `meds/` lies in [PLAUSIBLE_FIRST, PLAUSIBLE_END) after the
   per-subject shift; a raw time outside [RAW_FIRST, PLAUSIBLE_END) is quarantined (IMPLAUSIBLE_DATE), never
   clamped, so the shift (1-52 weeks back) can neither overflow nor leave the range.
2. Every numeric_value is finite in float32 (the MEDS type); a value that would round to +-inf or is NaN is
   quarantined (NON_FINITE_VALUE), never stored as inf.
"""

from datetime import datetime, timedelta

PLAUSIBLE_FIRST = datetime(1800, 1, 1)  # noqa: DTZ001 (naive UTC, as every stored time)
PLAUSIBLE_END = datetime(2200, 1, 1)  # noqa: DTZ001
MAX_SHIFT = timedelta(weeks=52)  # deid.pseudonym shifts whole weeks, 1-52 back
RAW_FIRST = datetime(1801, 1, 1)  # noqa: DTZ001 -- PLAUSIBLE_FIRST + MAX_SHIFT, rounded up to a year
FLOAT32_MAX = 3.4028234663852886e38


def plausible_time(value: datetime) -> bool:
    """A raw (unshifted) time the timeline accepts.

    >>> [plausible_time(datetime(y, 1, 1)) for y in (2021, 1, 1800, 9999)]
    [True, False, False, False]
    >>> RAW_FIRST - MAX_SHIFT >= PLAUSIBLE_FIRST
    True
    """
    return RAW_FIRST <= value < PLAUSIBLE_END


def finite_float32(value: float) -> bool:
    """A number that float32 holds without becoming inf (1e308 does not).

    >>> finite_float32(7.2), finite_float32(1e308), finite_float32(float("nan"))
    (True, False, False)
    """
    return abs(value) <= FLOAT32_MAX
