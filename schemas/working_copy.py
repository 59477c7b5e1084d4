"""A run's local working copy of an object-store root: pulled by pointers into the system temp dir, pushed back.

Every step reads and writes a local root (the Layout paths, the local publish protocol), so an object-store
root runs through the same code: `open_working_copy` makes a fresh directory under the system temp dir (never
the working directory), downloads the root's published datasets through their pointer objects, its single
files through the index, and `landing/` (files as delivered: the one prefix that is listed). After each step
`push` uploads every dataset version the step published with the object-store backend (schemas.publish_store:
version objects, then the pointer) and the single files it changed, then the index. `close` removes the copy.
"""

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from schemas.publish import MANIFEST, versions_dir
from schemas.publish_store import (
    Pointer,
    RootIndex,
    publish_version,
    read_index,
    read_pointer,
    unpublish,
    version_key,
    write_index,
)
from schemas.store import ObjectStore
from schemas.store_lease import Lease

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
    _pointers: dict[str, Pointer] = field(default_factory=dict)  # the store's, as of the last pull or push
    _files: dict[str, tuple[int, int]] = field(default_factory=dict)  # single files in sync: (size, mtime)
    lease: Lease | None = None  # the run's lease on the root (schemas.store_lease): checked before each push

    @property
    def empty(self) -> bool:
        """Nothing at the URL: no dataset, no single file (longitude.json) and no landing file."""
        return not self._pointers and not self._files

    def pull(self) -> None:
        """Download what the store publishes: datasets by pointer, single files by index, landing/ by listing."""
        index = read_index(self.store) or RootIndex((), {})
        wanted: dict[str, Path] = {}
        for dataset in index.datasets:
            pointer = read_pointer(self.store, dataset)
            if pointer is None:  # unpublished since the index was written
                continue
            version = versions_dir(self.dir / dataset) / pointer.version
            for rel in [*pointer.files, MANIFEST]:
                wanted[version_key(dataset, pointer.version, rel)] = version / rel
            self._pointers[dataset] = pointer
        wanted |= {rel: self.dir / rel for rel in index.files}
        landing = self.store.list_files(LANDING)
        wanted |= {key: self.dir / key for key in landing if not Path(key).name.startswith(".")}
        self.store.download(wanted)
        for dataset, pointer in self._pointers.items():
            link = self.dir / dataset
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(versions_dir(link) / pointer.version, link.parent))
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
        if self.lease is not None:
            self.lease.check()  # a run that lost the root to another never publishes over it
        datasets, files = self._scan()
        changed = 0
        for dataset, vid in sorted(datasets.items()):
            current = self._pointers.get(dataset)
            if current is not None and current.version == vid:
                continue
            version = versions_dir(self.dir / dataset) / vid
            self._pointers[dataset] = publish_version(self.store, dataset, version, current)
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


def open_working_copy(url: str, temp_dir: str | Path | None = None) -> WorkingCopy:
    """A fresh working copy of the root at `url`, pulled, in the system temp dir (TMPDIR) unless told."""
    where = Path(tempfile.mkdtemp(prefix="longitude-root-", dir=temp_dir))
    copy = WorkingCopy(ObjectStore(url), where)
    try:
        copy.pull()
    except BaseException:
        copy.close()
        raise
    (where / MARKER).write_text(json.dumps({"url": url}) + "\n", encoding="utf-8")
    return copy
