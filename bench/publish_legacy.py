"""The publishing that came before issue 15, behind schemas.publish's interface: bench/publish.py's baseline.

Copied over schemas/publish.py in a throw-away worktree, it makes every writer and reader do what the code did
before the protocol, at the same commit: a whole-output writer stages in a sibling `.X.staging-*` directory
and swaps it in with two renames after one os.sync(); a writer of some files writes them in place, each by
its own atomic rename; readers glob. Nothing here is used by Longitude itself.
"""

import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "_manifest.json"
CRASH_ENV = "LONGITUDE_CRASH_AT"
BUILD_ENV = "LONGITUDE_BUILD"  # today's names, so today's importers load (pipelines.run_start); unused here


class PublishError(RuntimeError):
    pass


def crash_point(name: str) -> None:
    return None


def read_manifest(version: Path) -> dict[str, int]:
    # Imported by schemas.publish_store (the object-store backend, not on a local root's path); there were no
    # manifests before the protocol, so a call is an error, never a silent empty listing.
    raise PublishError(f"{version}: no manifests before the publishing protocol")


def versions_dir(final: Path) -> Path:
    return final.parent / f".{final.name}.versions"


def current_version(final: Path) -> Path | None:
    return None


def matches(pattern: str, rel: str) -> bool:
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
    return bool(re.fullmatch(regex, rel))


def dataset_files(final: Path, pattern: str = "**") -> list[Path]:
    return sorted(p for p in Path(final).glob(pattern if pattern != "**" else "**/*") if p.is_file())


def listing(final: Path) -> list[str]:
    return [p.relative_to(final).as_posix() for p in dataset_files(final)]


def files_under(base: Path, pattern: str = "**", skip: Sequence[str] = (), *, pending: bool = False) -> list[Path]:
    found = dataset_files(base, pattern)
    return [p for p in found if p.relative_to(base).parts[0] not in skip]


def pending_files(final: Path, pattern: str = "**") -> list[Path]:
    return dataset_files(final, pattern)


def locate_under(base: Path, pattern: str = "**", skip: Sequence[str] = (), *, pending: bool = False) -> dict:
    return {p: p for p in files_under(base, pattern, skip)}


def datasets_under(base: Path, depth: int = 2) -> list[Path]:
    return sorted(p for p in Path(base).iterdir() if p.is_dir()) if Path(base).is_dir() else []


@dataclass
class Stage:
    final: Path
    dir: Path
    sync: bool = False
    in_place: bool = False

    def path(self, target: Path | str) -> Path:
        target = Path(target)
        return self.dir / (target.relative_to(self.final) if target.is_absolute() else target)

    def publish(self) -> Path:
        if not self.in_place:
            publish(self.dir, self.final, sync=self.sync)
        return self.final

    def discard(self) -> None:
        if not self.in_place:
            shutil.rmtree(self.dir, ignore_errors=True)


def stage(final: Path, keep_except: Sequence[str] | None = None, *, sync: bool = False) -> Stage:
    final = Path(final)
    if keep_except is not None:  # before the protocol, a writer of some files wrote them in place
        final.mkdir(parents=True, exist_ok=True)
        return Stage(final, final, sync, in_place=True)
    staged = final.with_name(f".{final.name}.staging-{uuid.uuid4().hex[:8]}")
    staged.mkdir(parents=True)
    return Stage(final, staged, sync)


@contextmanager
def publishing(final: Path, keep_except: Sequence[str] | None = None, *, sync: bool = False) -> Iterator[Stage]:
    st = stage(final, keep_except, sync=sync)
    try:
        yield st
    except BaseException:
        st.discard()
        raise
    st.publish()


def publish(staged: Path, final: Path, *, sync: bool = False) -> Path:
    """The old swap_dir: old aside, new in (two renames), one os.sync() first."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if sync:
        os.sync()
    old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
    if final.exists():
        os.replace(final, old)
    os.replace(staged, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def unpublish(final: Path) -> None:
    final = Path(final)
    if final.is_dir():
        shutil.rmtree(final)
    elif final.exists():
        final.unlink()


@dataclass
class PartitionStage:
    final: Path
    dir: Path

    def path(self, target: Path | str) -> Path:
        target = Path(target)
        return self.dir / (target.relative_to(self.final) if target.is_absolute() else target)

    def commit(self) -> None:
        return None


def partition_stage(final, group, key, keys, owns, drop) -> PartitionStage:
    final = Path(final)
    for pattern in drop:  # the old build unlinked a split's stale shard in place
        for p in final.glob(pattern):
            p.unlink()
    return PartitionStage(final, final)


def sweep(root: Path, skip: Sequence[str] = (), *, keep_build: str = "") -> list[Path]:
    return []  # before the protocol a run started without removing anything (keep_build: today's signature)
