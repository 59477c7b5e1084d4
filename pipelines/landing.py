"""Walking a landing folder so that nothing in it is skipped in silence.

Every path below the folder is either read (returned in `files`) or reported (in `skipped`, with a reason):
symlinks are followed when they resolve inside the root, and reported when they point outside it, are broken,
loop, or reach a file a second time (so a linked folder never doubles its records); hidden and unsupported
files are reported too. Reasons name the path only.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from schemas import quarantine as q


@dataclass(frozen=True, slots=True)
class SkippedPath:
    rel: str  # relative to the root, as reached
    reason_code: str
    reason: str


@dataclass(slots=True)
class LandingScan:
    files: list[Path] = field(default_factory=list)  # sorted paths as reached (under the folder)
    skipped: list[SkippedPath] = field(default_factory=list)


def scan_landing(
    folder: Path, root: Path, accept: Callable[[Path], bool] | None = None, *, hidden: bool = False
) -> LandingScan:
    """Files under `folder` that `accept` takes, sorted; everything else below it reported with a reason.

    `hidden`: read dot-files too (DICOM trees name files anything); otherwise they are reported.
    """
    scan = LandingScan()
    if not folder.exists():
        return scan
    # Inside the root, or inside the landing folder's own location (landing/fhir may itself be a link to a
    # mounted delivery area, chosen by the operator): links inside a delivery may not leave both.
    allowed = (Path(os.path.realpath(root)), Path(os.path.realpath(folder)))
    seen_dirs: set[str] = set()
    seen_files: set[str] = set()

    def rel(path: Path) -> str:
        return os.path.relpath(path, root)

    def skip(path: Path, code: str, reason: str) -> None:
        scan.skipped.append(SkippedPath(rel(path), code, reason))

    def visit(directory: Path) -> None:
        real = os.path.realpath(directory)
        if real in seen_dirs:
            skip(directory, q.SYMLINK_LOOP, "folder reached a second time through a symlink (loop or alias)")
            return
        seen_dirs.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as err:
            skip(directory, q.UNREADABLE_FILE, f"folder cannot be listed ({type(err).__name__})")
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink():
                target = Path(os.path.realpath(path))
                if not target.exists():
                    skip(path, q.BROKEN_SYMLINK, "symlink points to nothing")
                    continue
                if not any(target.is_relative_to(a) for a in allowed):
                    skip(path, q.SYMLINK_OUTSIDE_ROOT, "symlink resolves outside the root; not followed")
                    continue
            if entry.is_dir(follow_symlinks=True):
                visit(path)
            elif entry.is_file(follow_symlinks=True):
                take(path)
            else:
                skip(path, q.UNSUPPORTED_FILE, "not a regular file (device, socket or pipe)")

    def take(path: Path) -> None:
        real = os.path.realpath(path)
        if real in seen_files:
            skip(path, q.DUPLICATE_PATH, "file already read through another path (symlink); read once")
        elif path.name.startswith(".") and not hidden:
            skip(path, q.UNSUPPORTED_FILE, "hidden file; not read")
        elif accept is not None and not accept(path):
            skip(path, q.UNSUPPORTED_FILE, "file type not supported in this landing folder")
        else:
            seen_files.add(real)
            scan.files.append(path)

    visit(folder)
    scan.files.sort()
    return scan
