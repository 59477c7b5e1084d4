"""Finding and reading FHIR files: bundles (.json, .json.gz) and bulk NDJSON (.ndjson, .ndjson.gz)."""

import codecs
import io
from collections.abc import Iterator
from pathlib import Path

from isal import igzip  # ISA-L gunzip: ~3x faster than zlib's on these files

from pipelines.json_bytes import loads as loads
from pipelines.landing import LandingScan, scan_landing
from pipelines.text_decoding import wide_encoding

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


def iter_ndjson_lines(path: Path, span: tuple[int, int | None] | None = None) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line bytes) for each non-blank line, streaming. `span` (start, end), of an
    uncompressed file: only the lines whose first byte lies in [start, end) (end None: to the end of the file),
    numbered as in the whole file, so consecutive spans read every line once (the line a span boundary cuts
    belongs to the span it starts in)."""
    if span is not None:
        yield from _span_lines(path, *span)
        return
    opener = igzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        wide = wide_encoding(f.read(_HEAD))
        f.seek(0)
        if wide:
            yield from _wide_lines(f, wide)
            return
        lines = enumerate(f, 1)
        for lineno, line in lines:  # the first line apart: a byte-order mark alone is no record
            if line.removeprefix(_BOM).strip():
                yield lineno, line
            break
        for lineno, line in lines:
            if line.strip():
                yield lineno, line


_BOM = b"\xef\xbb\xbf"
_HEAD = 4096  # bytes read to tell a UTF-16/32 file from UTF-8 (pipelines.text_decoding.wide_encoding)


# Undecodable bytes of a wide file become one lone surrogate, which no UTF-8 holds ("surrogateescape" refuses
# the NUL bytes a UTF-16 error holds).
_UNDECODED = "longitude-undecoded"
codecs.register_error(_UNDECODED, lambda err: ("\udcff", err.end))


def _wide_lines(f, encoding: str) -> Iterator[tuple[int, bytes]]:
    """The lines of a UTF-16 or UTF-32 file (a Windows "Unicode" export), as UTF-8 bytes: split as bytes, its
    newlines would cut characters in half. Bytes that do not decode (a lone surrogate, a cut last character)
    make their line invalid UTF-8, which the JSON parser refuses: that line alone is quarantined."""
    text = io.TextIOWrapper(f, encoding=encoding, errors=_UNDECODED, newline="\n")  # LF ends a line
    for lineno, line in enumerate(text, 1):
        if line.strip():
            try:
                yield lineno, line.encode()
            except UnicodeEncodeError:
                yield lineno, line.encode("utf-8", "surrogatepass")


def splittable(path: Path) -> bool:
    """Whether a FHIR file can be read in byte ranges: NDJSON, uncompressed (a gzip stream has no seek points).
    A UTF-16/32 one cannot either (`is_wide`): a range boundary would cut a character."""
    return kind_of(path) == "ndjson" and not path.name.lower().endswith(".gz")


def is_wide(path: Path) -> bool:
    """Whether an uncompressed file is written in UTF-16 or UTF-32 (it is then read whole, never in ranges)."""
    with open(path, "rb") as f:
        return wide_encoding(f.read(_HEAD)) is not None


def byte_ranges(size: int, range_bytes: int) -> list[tuple[int, int | None]]:
    """[start, end) ranges of `range_bytes` covering `size` bytes; the reader aligns them to lines. The last is
    open (end None): lines appended since the file was measured are read, as a whole-file read would.

    >>> byte_ranges(10, 4)
    [(0, 4), (4, 8), (8, None)]
    """
    starts = range(0, size, range_bytes)
    return [(start, start + range_bytes if start + range_bytes < size else None) for start in starts]


_BLOCK = 1 << 24  # counting newlines before a range: read in 16 MiB blocks (bytes.count runs at GB/s)


def _span_lines(path: Path, start: int, end: int | None) -> Iterator[tuple[int, bytes]]:
    with open(path, "rb") as f:
        if start > 0:
            f.seek(start - 1)
            f.readline()  # the rest of the line holding byte start-1: the range before reads it
        pos = f.tell()
        f.seek(0)
        lineno, left = 1, pos
        while left > 0:
            block = f.read(min(_BLOCK, left))
            if not block:
                break
            lineno += block.count(b"\n")
            left -= len(block)
        f.seek(pos)
        while end is None or pos < end:
            line = f.readline()
            if not line:
                break
            if line.strip():
                yield lineno, line
            lineno += 1
            pos += len(line)
