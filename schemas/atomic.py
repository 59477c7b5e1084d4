"""Single files in the root: written aside under a hidden temp name, fsync'd, then renamed over the target.

The one way a file that is not part of a published dataset (schemas.publish) is written: the ledger, the check
store, quarantine files, the catalog, the pinned settings, the stewards' pages (docs/publishing.md lists every
writer). A reader sees the old file or the new one, never a torn one; a crash leaves at most a hidden
`.<name>.<random>.tmp` that no reader lists and `schemas.publish.sweep` removes at the next run's start.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from schemas.publish import crash_point


def temp_path(path: Path) -> Path:
    """A fresh hidden name beside `path` (`.<name>.<random>.tmp`): never a reader's pattern, swept after a crash.

    >>> p = temp_path(Path("/r/quality/ledger/fhir_raw.parquet"))
    >>> p.parent.as_posix(), p.name.startswith(".fhir_raw.parquet.") and p.suffix == ".tmp"
    ('/r/quality/ledger', True)
    """
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


@contextmanager
def replacing(path: Path | str, *, durable: bool = True, create: bool = True) -> Iterator[Path]:
    """`with replacing(target) as tmp: write(tmp)`: on a clean exit `tmp` replaces `target` in one rename.

    `create`: the temp file exists (empty, mode 0600) when the block starts; False for a library that must
    create it itself (DuckDB refuses an empty file). `durable=False` skips the fsync, for files inside a staging
    version that is published after one `os.sync()`. On an exception the target is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    if create:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        yield tmp
        if durable:
            fsync_path(tmp)
        crash_point("write")  # a temp file written, not yet renamed: for the fault-injection tests
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(data: bytes, path: Path | str, *, durable: bool = True) -> Path:
    """Write a file atomically."""
    with replacing(path, durable=durable) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(text: str, path: Path | str, *, durable: bool = True) -> Path:
    """Write a UTF-8 text file atomically."""
    return write_bytes(text.encode("utf-8"), path, durable=durable)


def fsync_path(path: Path) -> None:
    """Sync a file's or a folder's contents (a folder: its entries, after a rename into it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
