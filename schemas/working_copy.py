"""A run's local working copy of an object-store root: pulled by pointers into the system temp dir, pushed back.

Every step reads and writes a local root (the Layout paths, the local publish protocol), so an object-store
root runs through the same code: `open_working_copy` makes a fresh directory under the system temp dir (never
the working directory), downloads the root's published datasets through their pointer objects, its single
files through the index, and `landing/` (files as delivered: the one prefix that is listed). After each step
`push` uploads every dataset version the step published with the object-store backend (schemas.publish_store:
version objects, then the pointer) and the single files it changed, then the index. `close` removes the copy.

A pull takes the immutable objects (version files and manifests, delivered landing/ files) from the persistent
cache where it holds them (schemas.object_cache), so a second run downloads only versions it has not seen,
plus the pointers, the index and the single files.
"""

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from schemas.object_cache import ObjectCache, PullStats, Wanted, cache_from_env, fetch_uncached, sha256_of
from schemas.publish import MANIFEST, read_manifest, versions_dir
from schemas.publish_store import (
    Pointer,
    PointerError,
    RootIndex,
    publish_version,
    read_index,
    read_pointer,
    unpublish,
    update_index,
    version_key,
)
from schemas.store import ObjectStore
from schemas.store_lease import Fence, Lease

MARKER = ".longitude-store.json"  # in the working copy: which URL it mirrors (read by Layout.store_url)
LANDING = "landing"
# Not pushed, top-level names: the run's own Dagster instance (its history stays with the working copy), and
# the DuckDB catalog, whose views name the working copy's local paths (docs/scale-out.md).
LOCAL_ONLY = ("dagster", "catalog.duckdb")


def store_url_of(root: Path) -> str | None:
    """The object-store URL a local root is the working copy of, or None for a root that is itself local."""
    try:
        return json.loads((Path(root) / MARKER).read_text(encoding="utf-8"))["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def shown(root: Path, path: Path) -> str:
    """How a command names `path` to its user: on a working copy, the object it is pushed to under the store's
    URL (`s3://b/p/quality/site/index.html`), never the temp dir that goes with the process; else the path."""
    url = store_url_of(root)
    try:
        rel = Path(path).relative_to(root)
    except ValueError:  # written outside the root (an --out folder): a local file either way
        return str(path)
    if url is None:
        return str(path)
    return url if rel == Path(".") else f"{url}/{rel.as_posix()}"


_State = dict[str, tuple[int, int]]  # {relative path: (size, mtime_ns)}


@dataclass
class WorkingCopy:
    """A local directory standing in for the root at `store.url` for one run (or one step, on a worker).

    `light`: the driver of a run whose steps run elsewhere (Celery workers, each with its own working copy):
    single files only (settings, ledger, check results), no dataset and no landing file; it never publishes
    a dataset and `refresh` brings its single files up to what the steps pushed.
    `share_open`: a step's copy on a worker also pulls and pushes the open partition sets (the shards of one
    set run in different copies); a run's only copy keeps them to itself (uploading staged shards would
    upload them twice)."""

    store: ObjectStore
    dir: Path
    cache: ObjectCache | None = None
    light: bool = False
    share_open: bool = False
    stats: PullStats = field(default_factory=PullStats)  # what the last pull took from the store and the cache
    _pointers: dict[str, Pointer] = field(default_factory=dict)  # the store's, as of the last pull or push
    _files: _State = field(default_factory=dict)  # single files in sync
    _open: dict[str, _State] = field(default_factory=dict)  # open partition sets in sync, by area
    _landing: bool = False  # the store has delivered files (a light copy lists them, downloads none)
    # The run's lease on the root (the driver's), or its fencing token (a worker's or a step pod's copy, which
    # push for the driver's run): checked before each push and right before each pointer and index PUT.
    lease: Lease | Fence | None = None

    @property
    def empty(self) -> bool:
        """Nothing at the URL: no dataset, no single file (longitude.json) and no landing file."""
        return not self._pointers and not self._files and not self._landing

    def pull(self) -> None:
        """Download what the store publishes: datasets by pointer, single files by index, landing/ by listing,
        open partition sets by index; the immutable ones through the cache when there is one."""
        index = read_index(self.store) or RootIndex((), {})
        wanted: list[Wanted] = []
        for dataset in index.datasets:
            pointer = read_pointer(self.store, dataset)
            if pointer is None:  # unpublished since the index was written
                continue
            self._pointers[dataset] = pointer
            if not self.light:
                wanted += self._version_objects(dataset, pointer)
        for rel, size in index.files.items():  # by content when the index has its hash; copied, never linked
            digest = index.sha256.get(rel)
            wanted.append(Wanted(rel, self.dir / rel, f"sha256:{digest}" if digest else None, size, copy=True))
        landing = self.store.list_objects(LANDING)
        self._landing = bool(landing)
        if self.light:
            if landing:  # what marks a root to start from (`longitude materialize` checks for it)
                (self.dir / LANDING).mkdir(exist_ok=True)
        else:
            shared = index.open.items() if self.share_open else ()
            wanted += [Wanted(f"{area}/{rel}", self.dir / area / rel) for area, fs in shared for rel in fs]
            for key, (size, tag) in landing.items():
                if not Path(key).name.startswith("."):  # a delivered file changes its entity tag with its bytes
                    identity = f"{self.store.url}/{key}@{tag}#{size}" if tag else None
                    wanted.append(Wanted(key, self.dir / key, identity, size))
        if self.cache is not None:
            self.stats = self.cache.fetch(self.store, wanted)
        else:
            self.stats = fetch_uncached(self.store, wanted)
        if not self.light:
            for dataset, pointer in self._pointers.items():
                self._link(dataset, pointer)
        _, self._files, self._open = self._scan()

    def _version_objects(self, dataset: str, pointer: Pointer) -> list[Wanted]:
        version = versions_dir(self.dir / dataset) / pointer.version
        out = []
        for rel, size in pointer.files.items():
            key = version_key(dataset, pointer.version, rel)
            digest = pointer.sha256.get(rel)
            identity = f"sha256:{digest}" if digest else f"{self.store.url}/{key}"  # a vid is never reused
            out.append(Wanted(key, version / rel, identity, size))
        key = version_key(dataset, pointer.version, MANIFEST)
        return [*out, Wanted(key, version / MANIFEST, f"{self.store.url}/{key}")]  # checked in `_link`

    def _link(self, dataset: str, pointer: Pointer) -> None:
        version = versions_dir(self.dir / dataset) / pointer.version
        if read_manifest(version) != pointer.files:  # the manifest a cache or the store gave is the pointer's
            key = version_key(dataset, pointer.version, MANIFEST)
            raise PointerError(f"{self.store.url}/{key}: does not list the files its pointer names")
        link = self.dir / dataset
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(version, link.parent))

    def reset(self) -> None:
        """Empty the directory (but its marker) and pull again: a step's own working copy in a worker's
        fixed root directory, as the store has it now (mostly links from the cache)."""
        for entry in self.dir.iterdir():
            if entry.name == MARKER or entry.name in LOCAL_ONLY:  # the worker's own Dagster home stays
                continue
            if entry.is_dir() and not entry.is_symlink():
                _remove_tree(entry)
            else:
                entry.unlink()
        self._pointers, self._files, self._open = {}, {}, {}
        self.pull()

    def refresh(self) -> None:
        """A light copy: single files as the store has them now (what steps elsewhere wrote), and its index."""
        assert self.light, "a full working copy is brought up to date by `reset`"
        index = read_index(self.store) or RootIndex((), {})
        for rel in self._files:
            if rel not in index.files and not rel.startswith(f"{LANDING}/"):
                (self.dir / rel).unlink(missing_ok=True)
        wanted = [
            Wanted(
                rel, self.dir / rel, f"sha256:{index.sha256[rel]}" if rel in index.sha256 else None, n, copy=True
            )
            for rel, n in index.files.items()
        ]
        self.stats = self.cache.fetch(self.store, wanted) if self.cache else fetch_uncached(self.store, wanted)
        self._files = self._scan()[1]

    def _scan(self) -> tuple[dict[str, str], _State, dict[str, _State]]:
        """({dataset: current vid}, {single file: (size, mtime_ns)}, {open area: its files' states}) of the
        working copy as it stands."""
        datasets: dict[str, str] = {}
        files: _State = {}
        opened: dict[str, _State] = {}
        for dirpath, dirnames, filenames in os.walk(self.dir):
            here = Path(dirpath)
            rel_dir = here.relative_to(self.dir)
            if rel_dir == Path("."):
                dirnames[:] = [d for d in dirnames if d not in LOCAL_ONLY]
            for d in list(dirnames):
                target = Path(os.readlink(here / d)) if os.path.islink(here / d) else None
                if target is not None and target.parent.name == f".{d}.versions":  # a pointer (schemas.publish)
                    datasets[(rel_dir / d).as_posix()] = target.name
                elif d.startswith(".") and d.endswith(".versions"):
                    for area in sorted((here / d).glob("open-*")):
                        opened[area.relative_to(self.dir).as_posix()] = _states(area)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not os.path.islink(here / d))
            for f in filenames:
                path = here / f
                if f.startswith(".") or path.is_symlink() or (rel_dir == Path(".") and f in LOCAL_ONLY):
                    continue
                st = path.stat()
                files[(rel_dir / f).as_posix()] = (st.st_size, st.st_mtime_ns)
        return datasets, files, opened

    def push(self) -> int:
        """Publish to the store what changed locally since the last pull or push; returns datasets and files
        written. Order: each dataset's version objects then its pointer, then single files, then open
        partition sets (a set a step published is removed only after its pointer moved), then the index."""
        if self.lease is not None:
            self.lease.check()  # a run that lost the root to another never publishes over it
        datasets, files, opened = self._scan()
        published, removed = set(), set()
        for dataset, vid in sorted(datasets.items()) if not self.light else ():
            current = self._pointers.get(dataset)
            if current is not None and current.version == vid:
                continue
            version = versions_dir(self.dir / dataset) / vid
            self._pointers[dataset] = pointer = publish_version(self.store, dataset, version, current, self.lease)
            if self.cache is not None:  # what this run published, the next pull on this machine need not get
                manifest = f"{self.store.url}/{version_key(dataset, vid, MANIFEST)}"
                self.cache.adopt(
                    {f"sha256:{h}": version / rel for rel, h in pointer.sha256.items()}
                    | {manifest: version / MANIFEST}
                )
            published.add(dataset)
        for dataset in sorted(set(self._pointers) - set(datasets)) if not self.light else ():
            unpublish(self.store, dataset, self._pointers.pop(dataset), self.lease)
            removed.add(dataset)
        new = {rel: self.dir / rel for rel, state in files.items() if self._files.get(rel) != state}
        gone = [rel for rel in self._files if rel not in files and not rel.startswith(f"{LANDING}/")]
        if self.lease is not None and (new or gone or (self.share_open and opened != self._open)):
            self.lease.check()  # single files and open sets are plain PUTs: the fence right before them
        self.store.upload(new)
        # a step that removed a single file (not landing/: delivered files are the user's) removes its object
        self.store.remove(gone)
        touched = self._push_open(opened) if self.share_open else {}
        changed = len(published) + len(removed) + len(new) + len(gone) + sum(touched.values())
        if changed:
            written = [rel for rel in new if not rel.startswith(f"{LANDING}/")]
            written_hashes = {rel: sha256_of(self.dir / rel) for rel in written}

            def apply(index: RootIndex) -> RootIndex:
                # The store's index with this push's changes applied, not this copy's view: steps in other
                # working copies (a sibling check in another worker, the driver) may have pushed since this
                # one pulled, and may push while this one does (update_index rereads and reapplies).
                singles = {rel: n for rel, n in index.files.items() if rel not in gone} | {
                    rel: files[rel][0] for rel in written
                }
                hashes = {rel: h for rel, h in index.sha256.items() if rel in singles and rel not in written}
                areas = {a: fs for a, fs in index.open.items() if a not in touched} | {
                    a: {rel: size for rel, (size, _) in self._open[a].items()} for a in touched if a in self._open
                }
                # this copy's datasets too: one whose index write failed is named again (one unpublished
                # elsewhere since this copy pulled is named in vain: a reader finds no pointer and skips it)
                datasets_now = (set(index.datasets) | set(self._pointers) | published) - removed
                return RootIndex(tuple(sorted(datasets_now)), singles, areas, hashes | written_hashes)

            update_index(self.store, apply, self.lease)
        self._files = files
        return changed

    def _push_open(self, opened: dict[str, _State]) -> dict[str, int]:
        """Upload the open sets' changed files, remove those gone (a set published or swept); returns
        {area: files written or removed} of the areas that changed."""
        touched: dict[str, int] = {}
        new, gone = {}, []
        for area, fs in opened.items():
            for rel, state in fs.items():
                if self._open.get(area, {}).get(rel) != state:
                    new[f"{area}/{rel}"] = self.dir / area / rel
                    touched[area] = touched.get(area, 0) + 1
        for area, fs in self._open.items():
            for rel in fs:
                if rel not in opened.get(area, {}):
                    gone.append(f"{area}/{rel}")
                    touched[area] = touched.get(area, 0) + 1
        self.store.upload(new)
        self.store.remove(gone)
        self._open = opened
        return touched

    def sweep_open(self) -> int:
        """Remove the open partition sets a crashed run left in the store (what `schemas.publish.sweep` does
        for a local root): a light copy's, at the start of a run, before any step stages a partition."""
        index = read_index(self.store) or RootIndex((), {})
        if not index.open:
            return 0
        keys = [f"{area}/{rel}" for area, fs in index.open.items() for rel in fs]
        # the index first: nothing reads them after. Only these areas: a set opened since is not this sweep's
        update_index(
            self.store,
            lambda now: RootIndex(
                now.datasets, now.files, {a: f for a, f in now.open.items() if a not in index.open}, now.sha256
            ),
            self.lease,
        )
        self.store.remove(keys)
        self._open = {}
        return len(keys)

    def close(self) -> None:
        _remove_tree(self.dir)


def _states(area: Path) -> _State:
    """Every file of an open partition set (its done marks too, which are hidden names) and its state."""
    out = {}
    for path in sorted(area.rglob("*")):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            out[path.relative_to(area).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def open_working_copy(
    url: str,
    temp_dir: str | Path | None = None,
    cache: ObjectCache | str | None = "env",
    *,
    light: bool = False,
    share_open: bool = False,
) -> WorkingCopy:
    """A fresh working copy of the root at `url`, pulled, in the system temp dir (TMPDIR) unless told; through
    the cache LONGITUDE_CACHE_DIR names (the user's cache dir by default; schemas.object_cache) unless told."""
    if cache == "env":
        cache = cache_from_env()
        if cache is not None and not cache.usable():
            cache = None  # a read-only home (a pod): the pull goes uncached, and the CLI says so
    where = Path(tempfile.mkdtemp(prefix="longitude-root-", dir=temp_dir))
    copy = WorkingCopy(ObjectStore(url), where, cache, light, share_open)  # type: ignore[arg-type]
    try:
        copy.pull()
    except BaseException:
        copy.close()
        raise
    (where / MARKER).write_text(json.dumps({"url": url}) + "\n", encoding="utf-8")
    return copy
