"""The publish protocol's object-store backend: write-once version objects, then one pointer object written last.

The same protocol as the local filesystem (schemas.publish, docs/publishing.md), with the one atomic step an
object store has, a single PUT, in place of the symlink swap:

* The files of version `<vid>` of the dataset `raw/fhir` are objects under `raw/.fhir.versions/<vid>/` (the
  same relative keys as the local versions, so a working copy maps one to one). A vid is never reused, so a
  version's objects are written once and never overwritten; its `_manifest.json` is written after them.
* The *pointer* is the object `raw/fhir.pointer.json`: the current version's id, the previous one's, and the
  manifest (every file's relative path and size, and its sha256: what lets a reader's cache keep a file by
  its content across versions, schemas.object_cache). It is written last; until it is, readers see the
  previous version whole.
* The pointer PUT is conditional on the pointer the writer read (If-Match on its tag; If-None-Match: * for a
  dataset's first), and a fenced writer checks the root's lease right before it (schemas.store_lease.Fence):
  a writer whose run lost the root, or whose read is stale, is refused and removes the version it uploaded.
* Readers GET the pointer and read exactly the files it names: never a listing of a prefix, so a version a
  crashed writer left half-uploaded is never read.
* After the pointer moves, the version before the previous one is deleted (the previous one stays for a
  reader that resolved the pointer a moment ago), by the keys its own manifest lists.
* `longitude-index.json`, written after the pointers, names the root's datasets and its single files (ledger,
  check store, models ...), so a working copy finds them without listing either. Writers update it by
  compare-and-swap (`update_index`): reread and reapply on a failed If-Match, so no writer's update is lost.
"""

import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from schemas.object_cache import sha256_of
from schemas.publish import MANIFEST, matches, read_manifest
from schemas.store import ObjectStore, StoreError
from schemas.store_lease import LEASE_KEY, Fence, Lease, LeaseLostError

POINTER_FORMAT = "longitude-pointer/1"
POINTER_SUFFIX = ".pointer.json"
INDEX_KEY = "longitude-index.json"
INDEX_FORMAT = "longitude-root-index/1"
# The index's compare-and-swap: a writer that loses the race rereads and reapplies its change, after a random
# wait that doubles with each try (up to INDEX_WAIT_S), so writers that collided spread out.
INDEX_TRIES = 40
INDEX_WAIT_S = 0.5


class PointerError(RuntimeError):
    """A pointer or index object that is not what this protocol writes (names the key, never data)."""


class PublishConflictError(StoreError):
    """A conditional PUT of a pointer or the index was refused: another writer changed it since it was read."""


@dataclass(frozen=True, slots=True)
class Pointer:
    """What a dataset's pointer object says: the current version, the one before it, and its files' sizes
    and hashes (a pointer written before hashes has none: its files are cached by version key instead)."""

    version: str
    previous: str | None
    files: dict[str, int]
    sha256: dict[str, str] = field(default_factory=dict, compare=False)
    tag: str | None = field(default=None, compare=False)  # the pointer object's, as read or written

    def to_bytes(self) -> bytes:
        files = []
        for p, n in sorted(self.files.items()):
            files.append({"path": p, "bytes": n} | ({"sha256": self.sha256[p]} if p in self.sha256 else {}))
        doc = {"format": POINTER_FORMAT, "version": self.version, "previous": self.previous, "files": files}
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


def versions_prefix(dataset: str) -> str:
    """`raw/.fhir.versions`: the prefix every version of the dataset `raw/fhir` lives under.

    >>> versions_prefix("raw/tables/labs")
    'raw/tables/.labs.versions'
    """
    path = PurePosixPath(dataset)
    return str(path.parent / f".{path.name}.versions") if str(path.parent) != "." else f".{path.name}.versions"


def pointer_key(dataset: str) -> str:
    """`meds.pointer.json`: the key of the dataset's pointer object."""
    return f"{dataset}{POINTER_SUFFIX}"


def version_key(dataset: str, vid: str, rel: str) -> str:
    """The key of one file of one version."""
    return f"{versions_prefix(dataset)}/{vid}/{rel}"


def read_pointer(store: ObjectStore, dataset: str) -> Pointer | None:
    """The dataset's pointer, or None when nothing is published there."""
    key = pointer_key(dataset)
    found = store.read_tagged(key)
    if found is None:
        return None
    body, tag = found[0], found[1]
    try:
        doc = json.loads(body)
        if doc.get("format") != POINTER_FORMAT:
            raise ValueError(doc.get("format"))
        files = {f["path"]: int(f["bytes"]) for f in doc["files"]}
        hashes = {f["path"]: str(f["sha256"]) for f in doc["files"] if "sha256" in f}
        return Pointer(doc["version"], doc.get("previous"), files, hashes, tag)
    except (ValueError, KeyError, TypeError) as err:
        raise PointerError(f"{store.url}/{key}: not a {POINTER_FORMAT} pointer ({type(err).__name__})") from None


def dataset_keys(store: ObjectStore, dataset: str, pattern: str = "**") -> dict[str, str]:
    """{relative path: key} of the published files whose relative path matches `pattern`, from the pointer."""
    pointer = read_pointer(store, dataset)
    if pointer is None:
        return {}
    return {
        rel: version_key(dataset, pointer.version, rel) for rel in sorted(pointer.files) if matches(pattern, rel)
    }


def publish_version(
    store: ObjectStore,
    dataset: str,
    version_dir: Path,
    previous: Pointer | None,
    fence: Lease | Fence | None = None,
) -> Pointer:
    """Upload a local version directory (its manifest's files, then the manifest) and move the pointer to it.

    `previous` is the pointer as the caller last read it: the PUT is conditional on it (a dataset another
    writer published since is refused) and the version before it is deleted afterwards. `fence`, the run's
    lease or token, is checked right before the PUT. Refused either way, the uploaded version is removed."""
    vid = Path(version_dir).name
    files = read_manifest(version_dir)
    kept = _kept_from(version_dir, previous, files)
    uploaded = [version_key(dataset, vid, rel) for rel in sorted(files)]
    key = pointer_key(dataset)
    try:
        store.copy({version_key(dataset, vid, rel): version_key(dataset, previous.version, rel) for rel in kept})  # type: ignore[union-attr]
        store.upload({version_key(dataset, vid, rel): version_dir / rel for rel in files if rel not in kept})
        store.upload({version_key(dataset, vid, MANIFEST): version_dir / MANIFEST})
        uploaded.append(version_key(dataset, vid, MANIFEST))
        hashes = {
            rel: (previous.sha256.get(rel) if previous and rel in kept else None) or sha256_of(version_dir / rel)
            for rel in files
        }
        pointer = Pointer(vid, previous.version if previous else None, files, hashes)
        if fence is not None:
            fence.check()
        body = pointer.to_bytes()  # the one step that makes the version visible:
        seen = None if previous is None else previous.tag or _tag_of(store, dataset, previous.version)
        tag = store.create(key, body) if previous is None else seen and store.replace(key, body, seen)
        if tag is None:
            raise _conflict(store, key, "its version was not published")
    except (LeaseLostError, PublishConflictError):
        store.remove(uploaded)  # nothing of a refused version stays: no reader could ever reach it anyway
        raise
    if previous is not None and previous.previous not in (None, vid, previous.version):
        drop_version(store, dataset, previous.previous)  # type: ignore[arg-type]
    return Pointer(vid, pointer.previous, files, hashes, tag)


def _tag_of(store: ObjectStore, dataset: str, vid: str) -> str | None:
    """The pointer's tag while it still names `vid` (a Pointer made by hand has none), else None."""
    now = read_pointer(store, dataset)
    return now.tag if now is not None and now.version == vid else None


def _conflict(store: ObjectStore, key: str, what: str) -> PublishConflictError:
    return PublishConflictError(
        f"{store.url}/{key}: changed by another writer since this run read it ({LEASE_KEY} may name another "
        f"run now); {what}"
    )


def _kept_from(version_dir: Path, previous: Pointer | None, files: dict[str, int]) -> set[str]:
    """Files of the new version that are the previous version's very files (hard links: a partial amend, such
    as one MEDS shard or the metadata beside the data): copied inside the store instead of uploaded again."""
    if previous is None:
        return set()
    before = Path(version_dir).parent / previous.version  # the local copy of what the store's pointer names
    kept = set()
    for rel in files:
        try:
            if rel in previous.files and os.path.samefile(before / rel, Path(version_dir) / rel):
                kept.add(rel)
        except OSError:  # not in the working copy (pulled before, collected since): upload it
            continue
    return kept


def drop_version(store: ObjectStore, dataset: str, vid: str) -> None:
    """Delete one version's objects, by the keys its manifest lists (no listing); the manifest goes last."""
    manifest_key = version_key(dataset, vid, MANIFEST)
    body = store.read(manifest_key)
    if body is None:
        return
    try:
        files = [f["path"] for f in json.loads(body)["files"]]
    except (ValueError, KeyError, TypeError):
        return  # not ours to interpret: left in place
    store.remove([version_key(dataset, vid, rel) for rel in files])
    store.remove([manifest_key])


def unpublish(store: ObjectStore, dataset: str, pointer: Pointer, fence: Lease | Fence | None = None) -> None:
    """Remove a dataset: the pointer first (readers stop seeing it at once; only if it is still the one read),
    then its versions' objects."""
    key = pointer_key(dataset)
    if fence is not None:
        fence.check()
    if pointer.tag is not None:
        if not store.remove_if(key, pointer.tag) and store.read_tagged(key) is not None:
            raise _conflict(store, key, "it was not removed")
    else:
        store.remove([key])
    for vid in (pointer.version, pointer.previous):
        if vid:
            drop_version(store, dataset, vid)


@dataclass(frozen=True, slots=True)
class RootIndex:
    """The root's datasets (their pointers) and single files ({relative path: bytes}), for a working copy; and
    the open partition sets ({`raw/.x.versions/open-<group>`: {relative path: bytes}}) that steps in separate
    working copies (Celery workers) build together: staged partitions and their done marks, not yet published
    (schemas.publish.partition_stage). A run sweeps them at its start, as it sweeps a local root's."""

    datasets: tuple[str, ...]
    files: dict[str, int]
    open: dict[str, dict[str, int]] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict, compare=False)  # of single files: a cache's key

    def to_bytes(self) -> bytes:
        doc: dict = {
            "format": INDEX_FORMAT,
            "datasets": sorted(self.datasets),
            "files": dict(sorted(self.files.items())),
        }
        if self.open:  # absent when there is none: an index of a root that never had one keeps its bytes
            doc["open"] = {area: dict(sorted(files.items())) for area, files in sorted(self.open.items())}
        if self.sha256:
            doc["sha256"] = {rel: h for rel, h in sorted(self.sha256.items()) if rel in self.files}
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


def read_index(store: ObjectStore) -> RootIndex | None:
    """The root's index, or None for a root nothing was published to yet."""
    body = store.read(INDEX_KEY)
    return None if body is None else _index_from(store, body)


def _index_from(store: ObjectStore, body: bytes) -> RootIndex:
    try:
        doc = json.loads(body)
        if doc.get("format") != INDEX_FORMAT:
            raise ValueError(doc.get("format"))
        areas = {a: {k: int(v) for k, v in files.items()} for a, files in (doc.get("open") or {}).items()}
        hashes = {str(k): str(v) for k, v in (doc.get("sha256") or {}).items()}
        return RootIndex(tuple(doc["datasets"]), {k: int(v) for k, v in doc["files"].items()}, areas, hashes)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise PointerError(f"{store.url}/{INDEX_KEY}: not a {INDEX_FORMAT} index ({type(err).__name__})") from None


def update_index(
    store: ObjectStore, change: Callable[[RootIndex], RootIndex], fence: Lease | Fence | None = None
) -> RootIndex:
    """Apply `change` to the index as the store has it, by compare-and-swap: PUT with If-Match on the tag read
    (If-None-Match: * when there is none); when another writer got in between, reread and reapply. Returns
    the index written. `fence` is checked before every PUT."""
    for attempt in range(INDEX_TRIES):
        found = store.read_tagged(INDEX_KEY)
        index = _index_from(store, found[0]) if found else RootIndex((), {})
        new = change(index)
        if fence is not None:
            fence.check()
        body = new.to_bytes()
        if (
            store.create(INDEX_KEY, body) if found is None else store.replace(INDEX_KEY, body, found[1])
        ) is not None:
            return new
        time.sleep(random.uniform(0, min(INDEX_WAIT_S, 0.01 * 2**attempt)))  # jitter: collided writers spread out
    raise _conflict(store, INDEX_KEY, f"gave up after {INDEX_TRIES} tries; this push's index entries are missing")
