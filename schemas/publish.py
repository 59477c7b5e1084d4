"""Crash-safe publishing: how every asset makes its output visible, and how every reader lists it.

The protocol (one for every asset; docs/publishing.md explains the why):

* A *dataset* is a directory path readers know from `Layout` (`raw/fhir`, `raw/tables/<source>`, `meds`,
  `notes`, `imaging`, `tokens`, ...). On disk it is a *pointer*: a symbolic link to one immutable version,
  `<parent>/.<name>.versions/<vid>/`, which holds the files and `_manifest.json`, the exact list of them
  (relative path and size in bytes, sorted; no time stamp, so equal output has equal bytes).
* A writer stages a new version in `.<name>.versions/<vid>.staging/`, which no reader lists (readers list
  manifests; the only directory listing, `datasets_under`, skips hidden names). Files it does not rewrite
  are hard links to the current version's, so amending one shard costs one link per file, not a copy.
* `publish` writes the manifest last, renames the staging directory to its version name, then swaps the
  pointer with one `os.replace` of a fresh symlink: readers see the old version or the new one, never a mix.
  A crash before the swap leaves only a hidden staging directory that `sweep` removes at the next start.
* Writers of one dataset may run side by side (shards in Celery workers or step processes): a per-dataset
  lock (`.<name>.versions/.lock`, flock) makes each pointer swap one at a time, and an amending writer
  (`keep_except`) re-links the files it does not own from the version current at its swap, not the one it
  staged from, so a shard published meanwhile by another writer is kept, never overwritten.
* Partitioned writers that must switch together (MEDS data shards) stage into `.<name>.versions/open-<group>`
  and mark each partition done; the partition that completes the set publishes the whole set at once.
* Readers call `dataset_files(path, pattern)`: the manifest's files, never a glob. A directory that is not a
  pointer (written by hand, by a test, or a MEDS dataset from another ETL) is read as-is, hidden names skipped.

An object store has the same protocol with write-once version objects and a pointer object written last:
schemas.publish_store, the second backend.

`LONGITUDE_CRASH_AT=<point>[#n]` kills the process (SIGKILL) the n-th time it reaches a named `crash_point`,
for the fault-injection tests (`list:<file>` records every point a run reaches instead); unset, a crash point
costs one dictionary lookup.
"""

import fcntl
import json
import os
import re
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

MANIFEST = "_manifest.json"
FORMAT = "longitude-publish/1"
CRASH_ENV = "LONGITUDE_CRASH_AT"
BUILD_ENV = "LONGITUDE_BUILD"  # names the build an open partition set belongs to (a UI backfill's runs share one)
_BUILD = ".build"
_LIST = "list:"  # LONGITUDE_CRASH_AT=list:<file>: append each point reached to the file, kill nothing
_STAGING = ".staging"
_DONE = ".done-"
KEEP_RECENT_S = 600  # superseded versions younger than this are kept (readers in other processes)
_LOCK = ".lock"  # in `.<name>.versions/`: writers of the dataset swap its pointer one at a time
_LEGACY = re.compile(r"^\..+\.(staging|old)-[0-9a-f]{8}$")  # swap_dir's leftovers before this protocol
_hits: dict[str, int] = {}


class PublishError(RuntimeError):
    """A dataset's pointer or manifest is not what the protocol writes (names the path, never data)."""


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL when LONGITUDE_CRASH_AT names this point (fault-injection tests)."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    if wanted.startswith(_LIST):  # the sweep's reference run: record every point reached, in order
        with open(wanted.removeprefix(_LIST), "a", encoding="utf-8") as log:
            log.write(name + "\n")
        return
    point, _, nth = wanted.partition("#")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def versions_dir(final: Path) -> Path:
    """`<parent>/.<name>.versions/`: every version and staging area of the dataset at `final`."""
    return final.parent / f".{final.name}.versions"


def _new_vid() -> str:
    # Time first, so versions sort by age; the random tail keeps two writers in one nanosecond apart.
    return f"v{time.time_ns():x}-{uuid.uuid4().hex[:6]}"


def current_version(final: Path) -> Path | None:
    """The version directory the pointer at `final` names, or None when nothing is published."""
    if not final.is_symlink():
        return None
    return final.parent / os.readlink(final)


# ---------------------------------------------------------------------------------------------- readers


@cache  # a reader lists with a handful of patterns, matched against every file of a root
def _pattern_regex(pattern: str) -> re.Pattern:
    """A path glob as a regex over '/'-separated relative paths: `*` within a segment, `**/` any depth."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def read_manifest(version: Path) -> dict[str, int]:
    """{relative path: bytes} of a version directory's manifest."""
    path = version / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PublishError(f"{path}: manifest missing or unreadable ({type(err).__name__})") from None
    if doc.get("format") != FORMAT:
        raise PublishError(f"{path}: not a {FORMAT} manifest")
    return {f["path"]: int(f["bytes"]) for f in doc["files"]}


def _visible_files(base: Path) -> list[str]:
    """Relative paths of the files under an unmanaged directory; hidden names (staging, temp) skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = Path(dirpath).relative_to(base)
        found += [(rel / f).as_posix() for f in filenames if not f.startswith(".") and f != MANIFEST]
    return sorted(found)


def listing(final: Path) -> list[str]:
    """Relative paths of every file the dataset at `final` holds: its manifest, or an unmanaged dir's files."""
    final = Path(final)
    if final.is_symlink():
        return sorted(read_manifest(final))
    if final.is_dir():
        return _visible_files(final)
    return []


def dataset_files(final: Path, pattern: str = "**") -> list[Path]:
    """The dataset's files whose relative path matches `pattern` (`data/*/*.parquet`), sorted, under `final`.

    The one way to list published output: a manifest, never a glob, so a crashed run's staging is never read.
    """
    regex = _pattern_regex(pattern)
    return [Path(final) / rel for rel in listing(final) if regex.match(rel)]


def _pending(final: Path) -> dict[str, Path]:
    """rel -> file: the published files, with each committed partition of an open set in place of its
    published files: the set as its build will publish it, as far as the build has gone."""
    final = Path(final)
    out = {rel: final / rel for rel in listing(final)}
    versions = versions_dir(final)
    if not versions.is_dir():
        return out
    for open_dir in sorted(e for e in versions.iterdir() if e.name.startswith("open-")):
        drops = [d for mark in sorted(open_dir.glob(f"{_DONE}*")) for d in json.loads(mark.read_text() or "[]")]
        regexes = [_pattern_regex(d) for d in drops]
        out = {rel: path for rel, path in out.items() if not any(r.match(rel) for r in regexes)}
        out |= {rel: open_dir / rel for rel in _visible_files(open_dir) if any(r.match(rel) for r in regexes)}
    return dict(sorted(out.items()))


def pending_files(final: Path, pattern: str = "**") -> list[Path]:
    """`dataset_files`, but a partitioned set's committed partitions as staged: what checks that run between
    a partition and the set's switch must see (the files the build will publish)."""
    regex = _pattern_regex(pattern)
    return [path for rel, path in _pending(final).items() if regex.match(rel)]


def datasets_under(base: Path, depth: int = 2) -> list[Path]:
    """Datasets below `base` (e.g. every source under raw/): pointers, and plain directories holding no
    pointer. A plain directory holding pointers (raw/tables/) is a container, searched `depth` levels down."""
    base = Path(base)
    if not base.is_dir():
        return []
    found = []
    for entry in sorted(base.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            found.append(entry)
        elif entry.is_dir():
            inner = datasets_under(entry, depth - 1) if depth > 1 else []
            found += inner if any(p.is_symlink() for p in entry.iterdir()) else [entry]
    return found


def matches(pattern: str, rel: str) -> bool:
    """Whether a '/'-separated relative path matches a path glob (`*` within a segment, `**/` any depth)."""
    return bool(_pattern_regex(pattern).match(rel))


def files_under(base: Path, pattern: str = "**", skip: Sequence[str] = (), *, pending: bool = False) -> list[Path]:
    """Every published file below `base` whose path relative to `base` matches `pattern`, across datasets
    (entries of `base` named in `skip` left out), sorted. `pending`: partitioned sets as `pending_files`."""
    return sorted(locate_under(base, pattern, skip, pending=pending).values())


def locate_under(
    base: Path, pattern: str = "**", skip: Sequence[str] = (), *, pending: bool = False
) -> dict[Path, Path]:
    """`files_under` as {path a reader names (under `base`): file to open}; they differ only for a staged
    partition (`pending`), whose file is not at its published path yet."""
    base = Path(base)
    regex = _pattern_regex(pattern)
    if base.is_symlink():
        files = _pending(base) if pending else {rel: base / rel for rel in listing(base)}
        return {base / rel: path for rel, path in files.items() if regex.match(rel)}
    out: dict[Path, Path] = {}
    datasets = datasets_under(base, depth=8)
    if pending and base.is_dir():  # a set's first build: staged, with no pointer yet
        hidden = [e for e in base.iterdir() if e.name.startswith(".") and e.name.endswith(".versions")]
        staged = [base / e.name[1:].removesuffix(".versions") for e in hidden if any(e.glob("open-*"))]
        datasets += [d for d in staged if d not in datasets]
    for dataset in datasets:
        if dataset.relative_to(base).parts[0] in skip:
            continue
        prefix = dataset.relative_to(base).as_posix()
        files = _pending(dataset) if pending else {rel: dataset / rel for rel in listing(dataset)}
        out |= {dataset / rel: path for rel, path in files.items() if regex.match(f"{prefix}/{rel}")}
    if base.is_dir():  # loose files beside the datasets (quality/ledger/<asset>.parquet)
        for p in sorted(base.iterdir()):
            if p.is_file() and not p.name.startswith(".") and p.name != MANIFEST and regex.match(p.name):
                out[p] = p
    return dict(sorted(out.items()))


# ---------------------------------------------------------------------------------------------- writers


@dataclass
class Stage:
    """A version being built for the dataset at `final`; write to `path(final / rel)`, then `publish`."""

    final: Path
    dir: Path
    sync: bool = False  # os.sync() before the pointer swap: files were written without their own fsync
    _published: bool = field(default=False, repr=False)
    keep_except: tuple[str, ...] | None = None  # an amend: the writer owns the files matching these
    base: Path | None = None  # the version the kept files were linked from
    kept: dict[str, int] = field(default_factory=dict, repr=False)  # rel -> inode of the link made from `base`

    def path(self, target: Path | str) -> Path:
        """Where a file meant for `target` (a path under `final`, or relative to it) is staged."""
        target = Path(target)
        rel = target.relative_to(self.final) if target.is_absolute() else target
        return self.dir / rel

    def link(self, source: Path, target: Path | str) -> None:
        """Stage a published file (of any dataset: published files are never written in place) as `target`,
        by a hard link: a dataset gathered from others' files costs one link per file, not a copy."""
        dest = self.path(target)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, dest)

    def publish(self) -> Path:
        self._published = True
        with dataset_lock(self.final):
            if self.keep_except is not None and current_version(self.final) != self.base:
                self._rebase()
            return publish(self.dir, self.final, sync=self.sync)

    def _rebase(self) -> None:
        """Another writer published since this stage was made: take the files this writer does not own from
        the version current now (held under the dataset lock), so its changes are kept."""
        for rel, inode in self.kept.items():
            path = self.dir / rel
            if path.exists() and path.stat().st_ino == inode:  # still the link, not rewritten by this writer
                path.unlink()
        self.kept = _link_kept(self.final, self.dir, self.keep_except or ())
        self.base = current_version(self.final)

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _link_tree(source: Path, files: Iterable[str], dest: Path) -> None:
    made: set[Path] = set()
    for rel in files:
        target = dest / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if not target.exists():
            os.link(source / rel, target)


def _link_kept(final: Path, staged: Path, keep_except: Sequence[str]) -> dict[str, int]:
    """Hard-link the current version's files that match none of `keep_except` (and are not staged already)
    into `staged`; returns {rel: inode} of those links. Call holding the dataset lock."""
    current = current_version(final)
    if current is None:
        return {}
    regexes = [_pattern_regex(p) for p in keep_except]
    kept = [rel for rel in read_manifest(current) if not any(r.match(rel) for r in regexes)]
    kept = [rel for rel in kept if not (staged / rel).exists()]
    _link_tree(current, kept, staged)
    return {rel: (staged / rel).stat().st_ino for rel in kept}


def stage(final: Path, keep_except: Sequence[str] | None = None, *, sync: bool = False) -> Stage:
    """A new staging version for `final`: empty, or (`keep_except` given) the current version's files that
    match none of those patterns, hard-linked, so a writer that owns only some files rewrites only those
    (and, should another writer publish first, `Stage.publish` re-links them from its version)."""
    final = Path(final)
    staged = versions_dir(final) / (_new_vid() + _STAGING)
    staged.mkdir(parents=True)
    if keep_except is None:
        return Stage(final, staged, sync=sync)
    with dataset_lock(final):  # the version linked from is not collected by a concurrent publish meanwhile
        _adopt_legacy(final)
        kept = _link_kept(final, staged, keep_except)
        base = current_version(final)
    return Stage(final, staged, sync=sync, keep_except=tuple(keep_except), base=base, kept=kept)


@contextmanager
def publishing(final: Path, keep_except: Sequence[str] | None = None, *, sync: bool = False) -> Iterator[Stage]:
    """`with publishing(layout.notes, keep_except=["*/3.parquet"]) as s: write(s.path(...))`: published on
    a clean exit, discarded on an exception (the current version stays)."""
    st = stage(final, keep_except, sync=sync)
    try:
        yield st
    except BaseException:
        st.discard()
        raise
    if not st._published:
        st.publish()


def write_manifest(version: Path) -> dict[str, int]:
    """List the version's files (hidden names, e.g. temp files and done marks, excluded) in its manifest."""
    files = {}
    for rel in _visible_files(version):
        files[rel] = (version / rel).stat().st_size
    doc = {"format": FORMAT, "files": [{"path": p, "bytes": n} for p, n in sorted(files.items())]}
    tmp = version / f".{MANIFEST}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, version / MANIFEST)
    return files


_thread_locks: dict[str, threading.RLock] = {}
_guard = threading.Lock()
_depth = threading.local()


@contextmanager
def dataset_lock(final: Path) -> Iterator[None]:
    """Hold the dataset's writer lock: one flock per process and thread, re-entrant (publish inside an amend's
    publish), released by the kernel if the process dies. Readers never take it."""
    versions = versions_dir(Path(final))
    key = os.path.abspath(versions)
    with _guard:
        rlock = _thread_locks.setdefault(key, threading.RLock())
    with rlock:
        held = getattr(_depth, "held", None)
        if held is None:
            held = _depth.held = {}
        if held.get(key):
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        versions.mkdir(parents=True, exist_ok=True)
        fd = os.open(versions / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held[key] = 1
            try:
                yield
            finally:
                held[key] = 0
        finally:
            os.close(fd)  # releases the flock


def publish(staged: Path, final: Path, *, sync: bool = False) -> Path:
    """Make the staged directory the dataset's current version: manifest, rename, one pointer swap, GC."""
    with dataset_lock(final):
        return _publish(Path(staged), Path(final), sync=sync)


def _publish(staged: Path, final: Path, *, sync: bool) -> Path:
    versions = versions_dir(final)
    versions.mkdir(parents=True, exist_ok=True)
    write_manifest(staged)
    if sync:
        os.sync()  # staged files were written without their own fsync
    crash_point("publish:manifest-written")
    name = staged.name.removesuffix(_STAGING) if staged.name.endswith(_STAGING) else _new_vid()
    version = versions / name
    os.replace(staged, version)
    _fsync_dir(versions)  # the version's name is durable before a pointer names it
    crash_point("publish:version-renamed")
    if final.is_dir() and not final.is_symlink():  # a legacy directory: aside, for `sweep`, then one swap
        os.replace(final, versions / f"legacy-{uuid.uuid4().hex[:8]}{_STAGING}")
    previous = current_version(final)
    link = final.parent / f".{final.name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(version, final.parent), link)
    os.replace(link, final)  # the one atomic step: readers now see the new version
    _fsync_dir(final.parent)
    crash_point("publish:pointer-swapped")
    _collect(versions, keep={version.name, previous.name if previous else ""})
    return version


def _adopt_legacy(final: Path) -> None:
    """A real directory where the pointer goes (a root built before this protocol, or written by hand):
    publish it as a version as it stands, so a writer that keeps some of its files can link them."""
    if final.is_dir() and not final.is_symlink():
        aside = versions_dir(final) / f"legacy-{uuid.uuid4().hex[:8]}{_STAGING}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.replace(final, aside)  # a crash here leaves nothing published: the rerun rebuilds it
        publish(aside, final)


def _collect(versions: Path, keep: set[str]) -> None:
    """Remove published versions other than the current and the previous one (a reader may still hold it), and
    those published in the last KEEP_RECENT_S: a reader in another process (a check in another worker) may hold
    a version that shards published side by side superseded twice since. Staging and open areas are left to
    `sweep`: another writer of this dataset may be using them."""
    recent = time.time() - KEEP_RECENT_S
    for entry in versions.iterdir():
        if entry.name in keep or entry.name.endswith(_STAGING) or entry.name.startswith(("open-", ".")):
            continue
        try:
            if entry.stat().st_mtime > recent:  # a version's mtime: its manifest's write, i.e. its publish
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unpublish(final: Path) -> None:
    """Remove a dataset: the pointer first (readers stop seeing it at once), then its versions."""
    final = Path(final)
    if final.is_symlink():
        final.unlink()
    elif final.is_dir():
        shutil.rmtree(final)
    elif final.exists():
        final.unlink()
    shutil.rmtree(versions_dir(final), ignore_errors=True)


# ------------------------------------------------------------------------------- partitioned switching


@dataclass
class PartitionStage:
    """One partition of a set that publishes as a whole (see `partition_stage`)."""

    final: Path
    dir: Path
    key: str
    keys: tuple[str, ...]
    owns: tuple[str, ...]
    drop: tuple[str, ...] = ()

    def path(self, target: Path | str) -> Path:
        target = Path(target)
        rel = target.relative_to(self.final) if target.is_absolute() else target
        return self.dir / rel

    def commit(self) -> Path | None:
        """Mark this partition staged; when every partition of the set is, publish them together."""
        (self.dir / f"{_DONE}{self.key}").write_text(json.dumps(sorted(self.drop)))  # read by `_pending`
        crash_point("publish:partition-marked")
        with dataset_lock(self.final):  # of two partitions finishing together, one publishes the set
            return self._publish_if_complete()

    def _publish_if_complete(self) -> Path | None:
        if any(not (self.dir / f"{_DONE}{k}").exists() for k in self.keys):
            return None  # (or the set was published already, by the partition that completed it)
        # Renaming the open area away first means a crash from here on leaves no half-consumed open set.
        staged = versions_dir(self.final) / (_new_vid() + _STAGING)
        os.replace(self.dir, staged)
        for mark in [*staged.glob(f"{_DONE}*"), staged / _BUILD]:  # our own staging area, not a reader's listing
            mark.unlink(missing_ok=True)
        current = current_version(self.final)
        if current is not None:
            regexes = [_pattern_regex(p) for p in self.owns]
            _link_tree(
                current, [r for r in read_manifest(current) if not any(x.match(r) for x in regexes)], staged
            )
        return publish(staged, self.final)


def partition_stage(
    final: Path, group: str, key: str, keys: Sequence[str], owns: Sequence[str], drop: Sequence[str]
) -> PartitionStage:
    """Stage partition `key` of `group` into `.<name>.versions/open-<group>/`: `drop` (this partition's
    files, e.g. `data/*/3.parquet`) is cleared first. The set (`owns`, e.g. `data/**`) is published, with the
    current version's other files, once every key in `keys` has committed; until then readers see the old set."""
    open_dir = versions_dir(Path(final)) / f"open-{group}"
    open_dir.mkdir(parents=True, exist_ok=True)
    if not (open_dir / _BUILD).exists():  # which build opened the set: `sweep(keep_build=...)` spares its own
        (open_dir / _BUILD).write_text(os.environ.get(BUILD_ENV, ""), encoding="utf-8")
    (open_dir / f"{_DONE}{key}").unlink(missing_ok=True)
    regexes = [_pattern_regex(p) for p in drop]
    for rel in _visible_files(open_dir):
        if any(r.match(rel) for r in regexes):
            (open_dir / rel).unlink()
    return PartitionStage(Path(final), open_dir, key, tuple(keys), tuple(owns), tuple(drop))


# ---------------------------------------------------------------------------------------------- recovery


def _opened_by(open_dir: Path) -> str:
    try:
        return (open_dir / _BUILD).read_text(encoding="utf-8")
    except OSError:
        return ""


def sweep(root: Path, skip: Sequence[str] = ("landing", "models"), *, keep_build: str = "") -> list[Path]:
    """Remove what a crashed run left (staging and open areas, half-made links, the old swap_dir's
    `.X.staging-*`/`.X.old-*` directories); call at the start of a run, holding the root's run lock
    (schemas.run_lock). `keep_build`: open partition sets that build opened are kept (the earlier partition
    runs of one UI backfill, which each sweep at their start). Returns what was removed."""
    removed = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == Path(root):
            dirnames[:] = [d for d in dirnames if d not in skip]
        for d in list(dirnames):
            path = here / d
            if d.endswith(".versions") and d.startswith("."):
                for entry in path.iterdir():
                    if entry.name.startswith("open-") and keep_build and _opened_by(entry) == keep_build:
                        continue
                    if entry.name.endswith(_STAGING) or entry.name.startswith("open-"):
                        shutil.rmtree(entry, ignore_errors=True)
                        removed.append(entry)
            elif _LEGACY.match(d):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for f in filenames:  # half-made links, and temp files a killed atomic write left (`.<name>.*.tmp`)
            if f.startswith(".") and (".link-" in f or f.endswith((".tmp", ".tmp.wal"))):  # .wal: DuckDB's
                (here / f).unlink(missing_ok=True)
                removed.append(here / f)
    return removed
