"""The persistent local cache of an object-store root's immutable objects, so a working copy pulls only what it
has not seen.

What may be cached is what never changes under its identity (schemas.publish_store): a version's files, keyed
by their content (the sha256 the pointer records) or, for a pointer written without hashes, by the version key
(a vid is never reused); a version's manifest by its version key; a delivered landing/ file by its key, ETag and
size; a single file (ledger, check store) by the sha256 the index records for it, copied rather than linked
(its writer may change it in place). Pointers and the index are mutable and always read from the store.

* Where: `LONGITUDE_CACHE_DIR` (an absolute path; `off` disables the cache), else the user's cache dir
  (platformdirs: `$XDG_CACHE_HOME/longitude`, `~/.cache/longitude`); never the working directory.
* Verified: an object is downloaded to a private temp name under `tmp/`, checked against the size (and the
  sha256, when the pointer has one) the pointer, manifest or listing records, made read-only, and only then
  renamed to its entry. A half-downloaded or mismatching object is never an entry, so it is never used; a hit
  is checked again by size and by its read-only mode (an entry written to since is dropped and fetched again).
* Shared safely: entries are hard-linked into a working copy (copied across filesystems), so any number of
  processes may use the cache at once, and removing an entry never breaks a working copy that links it.
  Renames are atomic; two processes fetching one object both verify, the second rename replaces equal bytes.
* Bounded: `LONGITUDE_CACHE_MAX_GB` (default 20). After a pull that left it larger, the least recently used
  entries (last link or copy: the inode's change or access time) are removed down to 80 % of the bound, and
  temp files a killed download left are removed after a day.
"""

import hashlib
import os
import shutil
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from schemas.store import ObjectStore, StoreError

CACHE_ENV = "LONGITUDE_CACHE_DIR"
CACHE_MAX_ENV = "LONGITUDE_CACHE_MAX_GB"
DEFAULT_MAX_GB = 20.0
_OFF = ("off", "none", "0")
_LOW_WATER = 0.8  # a collection goes below the bound, so the next few pulls do not collect again
_STALE_TMP_S = 24 * 3600  # a download older than this is a killed process's leftover
_CHUNK = 1 << 20


class CacheError(ValueError):
    """A cache setting that cannot be used (names the variable, one line)."""


@dataclass(frozen=True, slots=True)
class Wanted:
    """One object a working copy needs at `dest`; `identity` None means it is mutable: always downloaded."""

    key: str
    dest: Path
    identity: str | None = None  # "sha256:<hex>" (content) or any string naming immutable bytes
    size: int | None = None  # the bytes the pointer, manifest or listing records
    copy: bool = False  # a single file, which its writer may change in place: a copy, never a link


@dataclass(slots=True)
class PullStats:
    """What a pull took from the store and from the cache."""

    downloaded: int = 0
    downloaded_bytes: int = 0
    cached: int = 0
    cached_bytes: int = 0
    seconds: float = 0.0
    evicted: int = 0

    def describe(self) -> str:
        mb = 1024 * 1024
        return (
            f"{self.downloaded} objects ({self.downloaded_bytes / mb:.1f} MiB) downloaded, "
            f"{self.cached} ({self.cached_bytes / mb:.1f} MiB) from the cache, {self.seconds:.1f} s"
        )


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@dataclass
class ObjectCache:
    """Immutable objects of object-store roots, by identity, under `dir`."""

    dir: Path
    max_bytes: int = int(DEFAULT_MAX_GB * 1024**3)

    def usable(self) -> bool:
        """Whether the cache dir can be made and written (a read-only home in a pod: the run goes uncached)."""
        try:
            (self.dir / "tmp").mkdir(parents=True, exist_ok=True)
            return os.access(self.dir / "tmp", os.W_OK)
        except OSError:
            return False

    def entry(self, identity: str) -> Path:
        """The entry's path: content by its own hash, anything else by the hash of its identity string."""
        kind, _, value = identity.partition(":")
        if kind == "sha256" and len(value) == 64:
            return self.dir / "content" / value[:2] / value
        digest = hashlib.sha256(identity.encode()).hexdigest()
        return self.dir / "named" / digest[:2] / digest

    def fetch(self, store: ObjectStore, wanted: list[Wanted]) -> PullStats:
        """Put every wanted object at its `dest`: from the cache where it holds the identity, else downloaded
        (into the cache first, verified, when it has an identity). Collects the cache afterwards if too big."""
        started = time.perf_counter()
        stats = PullStats()
        direct = {w.key: w.dest for w in wanted if w.identity is None}
        misses: list[Wanted] = []
        for w in wanted:
            if w.identity is None:
                continue
            if self._place(self.entry(w.identity), w):
                stats.cached += 1
                stats.cached_bytes += w.dest.stat().st_size
            else:
                misses.append(w)
        store.download(direct)
        stats.downloaded += len(direct)
        stats.downloaded_bytes += sum(p.stat().st_size for p in direct.values())
        stats.downloaded_bytes += self._download(store, misses)
        stats.downloaded += len({w.identity for w in misses})
        stats.evicted = self.collect()
        stats.seconds = time.perf_counter() - started
        return stats

    def _place(self, entry: Path, w: Wanted) -> bool:
        """Link (or copy) a valid entry to `w.dest`; False when there is none (or it is not what it should be)."""
        try:
            st = entry.stat()
        except FileNotFoundError:
            return False
        if (w.size is not None and st.st_size != w.size) or st.st_mode & 0o222:
            entry.unlink(missing_ok=True)  # written to, or not ours: never used; fetched again
            return False
        w.dest.parent.mkdir(parents=True, exist_ok=True)
        if w.copy:
            shutil.copyfile(entry, w.dest)
            os.utime(entry, ns=(time.time_ns(), st.st_mtime_ns))
            return True
        try:
            os.link(entry, w.dest)  # also marks the entry used: linking changes its inode's ctime
        except FileNotFoundError:  # collected by another process a moment ago
            return False
        except OSError:  # another filesystem (or links not allowed): a copy, and the use marked by atime
            shutil.copyfile(entry, w.dest)
            os.utime(entry, ns=(time.time_ns(), st.st_mtime_ns))
        return True

    def _download(self, store: ObjectStore, misses: list[Wanted]) -> int:
        """Download each missing identity once to a temp name, verify it, place it, then make it an entry."""
        if not misses:
            return 0
        tmp_dir = self.dir / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        first: dict[str, Wanted] = {}
        for w in misses:
            first.setdefault(w.identity, w)  # type: ignore[arg-type]
        temps = {w.identity: tmp_dir / f"{uuid.uuid4().hex}.part" for w in first.values()}
        try:
            store.download({w.key: temps[w.identity] for w in first.values()})
            total = 0
            for identity, w in first.items():
                temp = temps[identity]
                _verify(store, w, temp)
                total += temp.stat().st_size
                temp.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            for w in misses:
                w.dest.parent.mkdir(parents=True, exist_ok=True)
                if w.copy:
                    shutil.copyfile(temps[w.identity], w.dest)
                else:
                    _link_or_copy(temps[w.identity], w.dest)  # before the rename: no collection can race it
            for identity, temp in temps.items():
                entry = self.entry(identity)  # type: ignore[arg-type]
                entry.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, entry)
            return total
        finally:
            for temp in temps.values():
                temp.unlink(missing_ok=True)

    def adopt(self, files: dict[str, Path]) -> None:
        """Make entries of local files just published to the store ({identity: path}), so the next pull on this
        machine downloads none of them. A published version is immutable: its files become read-only in place
        (hard links; copies across filesystems)."""
        if not files:
            return
        tmp_dir = self.dir / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        for identity, path in files.items():
            entry = self.entry(identity)
            if entry.exists():
                continue
            temp = tmp_dir / f"{uuid.uuid4().hex}.part"
            try:
                _link_or_copy(path, temp)
                temp.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
                entry.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, entry)
            finally:
                temp.unlink(missing_ok=True)
        self.collect()

    def size(self) -> int:
        """Bytes the entries hold."""
        return sum(st.st_size for _, st in self._entries())

    def _entries(self) -> list[tuple[Path, os.stat_result]]:
        out = []
        for kind in ("content", "named"):
            base = self.dir / kind
            if not base.is_dir():
                continue
            for sub in os.scandir(base):
                if not sub.is_dir():
                    continue
                for entry in os.scandir(sub.path):
                    try:
                        out.append((Path(entry.path), entry.stat()))
                    except FileNotFoundError:  # collected by another process meanwhile
                        continue
        return out

    def collect(self) -> int:
        """Remove stale temp files, and the least recently used entries while the cache exceeds its bound
        (down to 80 % of it); returns entries removed. Safe beside other users: a working copy holds links."""
        now = time.time()
        tmp_dir = self.dir / "tmp"
        if tmp_dir.is_dir():
            for temp in os.scandir(tmp_dir):
                try:
                    if now - temp.stat().st_mtime > _STALE_TMP_S:
                        os.unlink(temp.path)
                except FileNotFoundError:
                    continue
        entries = self._entries()
        total = sum(st.st_size for _, st in entries)
        if total <= self.max_bytes:
            return 0
        removed = 0
        for path, st in sorted(entries, key=lambda e: max(e[1].st_ctime_ns, e[1].st_atime_ns)):
            if total <= self.max_bytes * _LOW_WATER:
                break
            path.unlink(missing_ok=True)
            total -= st.st_size
            removed += 1
        return removed


def fetch_uncached(store: ObjectStore, wanted: list[Wanted]) -> PullStats:
    """Every wanted object downloaded to its `dest` (no cache), checked as a cache checks it."""
    started = time.perf_counter()
    store.download({w.key: w.dest for w in wanted})
    for w in wanted:
        _verify(store, w, w.dest)
    total = sum(w.dest.stat().st_size for w in wanted)
    return PullStats(downloaded=len(wanted), downloaded_bytes=total, seconds=time.perf_counter() - started)


def _verify(store: ObjectStore, w: Wanted, temp: Path) -> None:
    """The downloaded bytes are what the pointer, manifest or listing records: size, and sha256 if known."""
    got = temp.stat().st_size
    if w.size is not None and got != w.size:
        raise StoreError(f"{store.url}/{w.key}: {got} bytes downloaded, the pointer or listing records {w.size}")
    if w.identity and w.identity.startswith("sha256:") and sha256_of(temp) != w.identity.removeprefix("sha256:"):
        raise StoreError(f"{store.url}/{w.key}: sha256 differs from the pointer's; not used")


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


def cache_from_env(environ: dict[str, str] | None = None) -> ObjectCache | None:
    """The cache `LONGITUDE_CACHE_DIR` and `LONGITUDE_CACHE_MAX_GB` configure, or None when it is `off`."""
    env = os.environ if environ is None else environ
    raw = env.get(CACHE_ENV, "").strip()
    if raw.lower() in _OFF:
        return None
    if raw:
        where = Path(raw).expanduser()
        if not where.is_absolute():  # a relative path would put the cache under the working directory
            raise CacheError(f"{CACHE_ENV} must be an absolute path (or 'off')")
    else:
        import platformdirs

        where = Path(platformdirs.user_cache_dir("longitude", appauthor=False))
    try:
        max_gb = float(env.get(CACHE_MAX_ENV) or DEFAULT_MAX_GB)
    except ValueError:
        raise CacheError(f"{CACHE_MAX_ENV} must be a number of GiB") from None
    if max_gb <= 0:
        raise CacheError(f"{CACHE_MAX_ENV} must be above 0 (set {CACHE_ENV}=off to use no cache)")
    return ObjectCache(where, int(max_gb * 1024**3))
