"""Shared fixtures: the analyzer is built once per test session; real corpora are skipped when absent."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SECRET = b"test-secret-0123456789"


def covered(spans, start: int, end: int) -> list:
    """The spans that overlap [start, end)."""
    return [s for s in spans if s.start < end and start < s.end]


@pytest.fixture(scope="session")
def analyzer():
    from deid.text.engine import analyzer as build

    return build()


@pytest.fixture(scope="session")
def phi_annotated() -> Path:
    path = SHARED / "phi-annotated"
    if not path.is_dir():
        pytest.skip("../shared/data/phi-annotated is not here")
    return path.resolve()
