"""Finding and reading FHIR files: bundles (.json, .json.gz) and bulk NDJSON (.ndjson, .ndjson.gz)."""

from collections.abc import Iterator
from pathlib import Path

import orjson
from isal import igzip  # ISA-L gunzip: ~3x faster than zlib's on these files

from pipelines.landing import LandingScan, scan_landing

BUNDLE_SUFFIXES = (".json", ".json.gz")
NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")


def kind_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(NDJSON_SUFFIXES):
        return "ndjson"
    if name.endswith(BUNDLE_SUFFIXES):
        return "bundle"
    return None


def scan_files(landing_fhir: Path, root: Path) -> LandingScan:
    """Every FHIR file under landing/fhir/ (symlinks inside the root followed), sorted so work units (and
    outputs) are deterministic; every other path there reported with a reason."""
    return scan_landing(landing_fhir, root, accept=lambda p: kind_of(p) is not None)


def find_files(landing_fhir: Path) -> list[Path]:
    """The FHIR files of `scan_files`, for callers that only read."""
    return scan_files(landing_fhir, landing_fhir.parent.parent).files


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
