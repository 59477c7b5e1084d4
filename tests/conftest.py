"""Fixtures shared by every test: shared public data (skipped when absent), secrets, small landing trees."""

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (a red CI means a real regression, not an unlucky draw),
# and a slow shared machine never fails one on time alone.
settings.register_profile("longitude", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("longitude")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEST_SECRET = b"test-secret-0123456789abcdef"


def shared_dir(name: str) -> Path:
    """A folder of ../shared/data, or skip the test when this checkout has none."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"shared data {name!r} is not available in this checkout")
    return path


@pytest.fixture(scope="session", autouse=True)
def _object_cache_dir(tmp_path_factory):
    """Working copies of object-store roots cache into the session's temp dir, never the user's cache dir."""
    import os

    if "LONGITUDE_CACHE_DIR" not in os.environ:
        os.environ["LONGITUDE_CACHE_DIR"] = str(tmp_path_factory.mktemp("object-cache"))


@pytest.fixture
def secret() -> bytes:
    return TEST_SECRET


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setenv("LONGITUDE_SECRET", TEST_SECRET.decode())
    return TEST_SECRET


def write_bundle(path: Path, resources: list[dict], gz: bool = False) -> Path:
    """A transaction bundle with urn:uuid fullUrls, as Synthea writes them."""
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{r.get('id', i)}",
                "resource": r,
                "request": {"method": "POST", "url": r.get("resourceType")},
            }
            for i, r in enumerate(resources)
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(bundle).encode()
    if gz:
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def write_ndjson(path: Path, lines: list[dict | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


SLOW_TESTS = Path(__file__).with_name("slow_tests.txt")


def _slow_entries() -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in SLOW_TESTS.read_text().splitlines())
    return [line for line in lines if line]


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests listed in tests/slow_tests.txt `slow`: `make test-fast` leaves them out."""
    entries = _slow_entries()
    used: set[str] = set()
    for item in items:
        for entry in entries:
            if item.nodeid == entry or item.nodeid.startswith((entry + "[", entry + "::")):
                item.add_marker(pytest.mark.slow)
                used.add(entry)
    files = {item.nodeid.split("::", 1)[0] for item in items}
    stale = [e for e in entries if e not in used and e.split("::", 1)[0] in files and "::" in e]
    whole_files = not config.getoption("keyword") and not any("::" in str(a) for a in config.args)
    if stale and whole_files:
        raise pytest.UsageError(f"tests/slow_tests.txt names tests that do not exist (renamed?): {stale}")
