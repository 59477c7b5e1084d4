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

from schemas.object_cache import ObjectCache, PullStats, Wanted, cache_from_env, fetch_uncached
from schemas.publish import MANIFEST, read_manifest, versions_dir
from schemas.publish_store import (
    Pointer,
    PointerError,
    RootIndex,
    publish_version,
    read_index,
    read_pointer,
    unpublish,
    version_key,
    write_index,
)
from schemas.store import ObjectStore

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


@dataclass
class WorkingCopy:
    """A local directory standing in for the root at `store.url` for one run."""

    store: ObjectStore
    dir: Path
    cache: ObjectCache | None = None
    stats: PullStats = field(default_factory=PullStats)  # what the last pull took from the store and the cache
    _pointers: dict[str, Pointer] = field(default_factory=dict)  # the store's, as of the last pull or push
    _files: dict[str, tuple[int, int]] = field(default_factory=dict)  # single files in sync: (size, mtime)

    @property
    def empty(self) -> bool:
        """Nothing at the URL: no dataset, no single file (longitude.json) and no landing file."""
        return not self._pointers and not self._files

    def pull(self) -> None:
        """Download what the store publishes: datasets by pointer, single files by index, landing/ by listing;
        the immutable ones through the cache when there is one."""
        index = read_index(self.store) or RootIndex((), {})
        wanted: list[Wanted] = []
        for dataset in index.datasets:
            pointer = read_pointer(self.store, dataset)
            if pointer is None:  # unpublished since the index was written
                continue
            version = versions_dir(self.dir / dataset) / pointer.version
            for rel, size in pointer.files.items():
                key = version_key(dataset, pointer.version, rel)
                digest = pointer.sha256.get(rel)
                identity = f"sha256:{digest}" if digest else f"{self.store.url}/{key}"  # a vid is never reused
                wanted.append(Wanted(key, version / rel, identity, size))
            key = version_key(dataset, pointer.version, MANIFEST)
            wanted.append(Wanted(key, version / MANIFEST, f"{self.store.url}/{key}"))  # checked below
            self._pointers[dataset] = pointer
        wanted += [Wanted(rel, self.dir / rel) for rel in index.files]  # single files change in place: no cache
        for key, (size, tag) in self.store.list_objects(LANDING).items():
            if not Path(key).name.startswith("."):  # a delivered file changes its entity tag with its bytes
                wanted.append(
                    Wanted(key, self.dir / key, f"{self.store.url}/{key}@{tag}#{size}" if tag else None, size)
                )
        if self.cache is not None:
            self.stats = self.cache.fetch(self.store, wanted)
        else:
            self.stats = fetch_uncached(self.store, wanted)
        for dataset, pointer in self._pointers.items():
            version = versions_dir(self.dir / dataset) / pointer.version
            if read_manifest(version) != pointer.files:  # the manifest a cache or the store gave is the pointer's
                key = version_key(dataset, pointer.version, MANIFEST)
                raise PointerError(f"{self.store.url}/{key}: does not list the files its pointer names")
            link = self.dir / dataset
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(version, link.parent))
        self._files = self._scan()[1]

    def _scan(self) -> tuple[dict[str, str], dict[str, tuple[int, int]]]:
        """({dataset: current vid}, {single file: (size, mtime_ns)}) of the working copy as it stands."""
        datasets: dict[str, str] = {}
        files: dict[str, tuple[int, int]] = {}
        for dirpath, dirnames, filenames in os.walk(self.dir):
            here = Path(dirpath)
            rel_dir = here.relative_to(self.dir)
            if rel_dir == Path("."):
                dirnames[:] = [d for d in dirnames if d not in LOCAL_ONLY]
            for d in list(dirnames):
                target = Path(os.readlink(here / d)) if os.path.islink(here / d) else None
                if target is not None and target.parent.name == f".{d}.versions":  # a pointer (schemas.publish)
                    datasets[(rel_dir / d).as_posix()] = target.name
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not os.path.islink(here / d))
            for f in filenames:
                path = here / f
                if f.startswith(".") or path.is_symlink() or (rel_dir == Path(".") and f in LOCAL_ONLY):
                    continue
                st = path.stat()
                files[(rel_dir / f).as_posix()] = (st.st_size, st.st_mtime_ns)
        return datasets, files

    def push(self) -> int:
        """Publish to the store what changed locally since the last pull or push; returns datasets and files
        written. Order: each dataset's version objects then its pointer, then single files, then the index."""
        datasets, files = self._scan()
        changed = 0
        for dataset, vid in sorted(datasets.items()):
            current = self._pointers.get(dataset)
            if current is not None and current.version == vid:
                continue
            version = versions_dir(self.dir / dataset) / vid
            self._pointers[dataset] = pointer = publish_version(self.store, dataset, version, current)
            if self.cache is not None:  # what this run published, the next pull on this machine need not get
                manifest = f"{self.store.url}/{version_key(dataset, vid, MANIFEST)}"
                self.cache.adopt(
                    {f"sha256:{h}": version / rel for rel, h in pointer.sha256.items()}
                    | {manifest: version / MANIFEST}
                )
            changed += 1
        for dataset in sorted(set(self._pointers) - set(datasets)):
            unpublish(self.store, dataset, self._pointers.pop(dataset))
            changed += 1
        new = {rel: self.dir / rel for rel, state in files.items() if self._files.get(rel) != state}
        self.store.upload(new)
        # a step that removed a single file (not landing/: delivered files are the user's) removes its object
        gone = [rel for rel in self._files if rel not in files and not rel.startswith(f"{LANDING}/")]
        self.store.remove(gone)
        self._files = files
        changed += len(new) + len(gone)
        if changed:
            singles = {rel: size for rel, (size, _) in files.items() if not rel.startswith(f"{LANDING}/")}
            write_index(self.store, RootIndex(tuple(self._pointers), singles))
        return changed

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def open_working_copy(
    url: str, temp_dir: str | Path | None = None, cache: ObjectCache | str | None = "env"
) -> WorkingCopy:
    """A fresh working copy of the root at `url`, pulled, in the system temp dir (TMPDIR) unless told; through
    the cache LONGITUDE_CACHE_DIR names (the user's cache dir by default; schemas.object_cache) unless told."""
    if cache == "env":
        cache = cache_from_env()
        if cache is not None and not cache.usable():
            cache = None  # a read-only home (a pod): the pull goes uncached, and the CLI says so
    where = Path(tempfile.mkdtemp(prefix="longitude-root-", dir=temp_dir))
    copy = WorkingCopy(ObjectStore(url), where, cache)  # type: ignore[arg-type]
    try:
        copy.pull()
    except BaseException:
        copy.close()
        raise
    (where / MARKER).write_text(json.dumps({"url": url}) + "\n", encoding="utf-8")
    return copy
