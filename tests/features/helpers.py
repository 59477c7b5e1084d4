"""Small helpers for feature-store tests."""

from datetime import datetime


def at(*parts: int) -> datetime:
    """A naive datetime: MEDS times are naive UTC."""
    return datetime(*parts)  # noqa: DTZ001 - MEDS times are naive UTC
