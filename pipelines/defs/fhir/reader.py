"""Finding and reading FHIR files: bundles (.json, .json.gz) and bulk NDJSON (.ndjson, .ndjson.gz)."""

from collections.abc import Iterator
from pathlib import Path

import orjson
from isal import igzip  # ISA-L gunzip: ~3x faster than zlib's on these files

BUNDLE_SUFFIXES = (".json", ".json.gz")
NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")


def kind_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(NDJSON_SUFFIXES):
        return "ndjson"
    if name.endswith(BUNDLE_SUFFIXES):
        return "bundle"
    return None


def find_files(landing_fhir: Path) -> list[Path]:
    """Every FHIR file under landing/fhir/, sorted so work units (and outputs) are deterministic."""
    if not landing_fhir.exists():
        return []
    return sorted(p for p in landing_fhir.rglob("*") if p.is_file() and kind_of(p) and not p.name.startswith("."))


def read_bytes(path: Path) -> bytes:
    if path.name.lower().endswith(".gz"):
        with igzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def iter_ndjson_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line bytes) for each non-blank line, streaming."""
    opener = igzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                yield lineno, line


def loads(data: bytes) -> object:
    return orjson.loads(data)
