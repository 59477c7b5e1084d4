"""Ingest chunks, for every ingest that runs as chunk partitions (the map): which landing files a chunk reads,
whether its published parse is current, and the gather that publishes the set.

A file belongs to chunk `sha256(path) mod n`, so adding files never moves another file between chunks. A
chunk's parse is a dataset of its own, `chunks/<asset>/<k>` (schemas.publish: a write-once version, manifest
last), recording a key of everything its output depends on; a chunk whose key is unchanged is not parsed
again. When every chunk of the set is current, the step that made it so gathers them: the ingest's own
`publish_set` makes the datasets readers know (raw/<source>, quarantine/<asset>, the ledger) from the chunks',
then the record of what was gathered is written last, so readers see one source as before, and its files are
the same whatever the chunk count.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.publish import PublishError, Stage, current_version, dataset_files, datasets_under, unpublish

FORMAT = "longitude-ingest-chunk/1"
CHUNK_META = "chunk.json"  # in a chunk's version: its key, number, files and bytes read
GATHERED = "gathered.json"  # beside the chunks, written last by a gather: which chunk versions it published
_REPO = Path(__file__).resolve().parents[2]


def chunk_of(rel: str, n: int) -> int:
    """The chunk a landing file (its path relative to the root) belongs to, of `n`.

    >>> rel = "landing/fhir/a.json"
    >>> chunk_of(rel, 1), chunk_of(rel, 3) == chunk_of(rel, 3) < 3
    (0, True)
    """
    return int.from_bytes(hashlib.sha256(rel.encode()).digest()[:8], "big") % n


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    index: int
    count: int
    files: tuple[Path, ...]  # whole files, in landing order
    key: str
    ranges: tuple[tuple[Path, int, int | None], ...] = ()  # (file, start, end): ranges of files split over chunks

    @property
    def n_files(self) -> int:
        """Files this chunk counts as its own: its whole files, and each split file whose first range it holds."""
        return len(self.files) + sum(1 for _, start, _ in self.ranges if start == 0)


@cache
def code_version(entries: tuple[str, ...], *versions: str) -> str:
    """A digest of a parser's source files (paths relative to the repository; a missing one is skipped) and of
    the library versions given (the Parquet writer's, a header reader's)."""
    h = hashlib.sha256("\0".join((pa.__version__, *versions)).encode())
    for entry in entries:
        path = _REPO / entry
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.is_file() else []:
            h.update(f.relative_to(_REPO).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def file_stat(path: Path, root: Path) -> list:
    """A landing file in a chunk key: its path under the root, size and modification time."""
    try:
        st = path.stat()
        size, mtime = st.st_size, st.st_mtime_ns
    except OSError:  # gone or unreadable: the parse quarantines it; the key only has to differ from a readable one
        size, mtime = -1, -1
    return [path.relative_to(root).as_posix(), size, mtime]


def secret_digest(secret: bytes) -> str:
    """The secret as a chunk key holds it: a digest, never the secret."""
    return hashlib.sha256(b"longitude-ingest-chunk\0" + secret).hexdigest()


def plan_chunks(root: Path, files: Iterable[Path], common: dict, n: int,
                ranges: Mapping[Path, list[tuple[int, int | None]]] | None = None) -> list[ChunkPlan]:  # fmt: skip
    """The `n` chunks of the landing files and each one's key: its files (path, size, mtime), the chunk count
    and `common`, what every chunk's output depends on besides its files (code digest, secret digest, ...).
    A file in `ranges` is split: its j-th byte range goes to chunk `(chunk_of(file) + j) mod n`, so one large
    file spreads over the chunks (and its first range stays where the whole file would be)."""
    groups: list[list[Path]] = [[] for _ in range(n)]
    spans: list[list[tuple[Path, int, int | None]]] = [[] for _ in range(n)]
    for path in files:
        home = chunk_of(path.relative_to(root).as_posix(), n)
        if ranges and path in ranges:
            for j, (start, end) in enumerate(ranges[path]):
                spans[(home + j) % n].append((path, start, end))
        else:
            groups[home].append(path)
    plans = []
    for i, group in enumerate(groups):
        doc = {"format": FORMAT, **common, "chunks": n, "chunk": i, "files": [file_stat(p, root) for p in group]}
        if spans[i]:
            doc["ranges"] = [[*file_stat(p, root), start, end] for p, start, end in spans[i]]
        key = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
        plans.append(ChunkPlan(i, n, tuple(group), key, tuple(spans[i])))
    return plans


def write_chunk_meta(stage: Stage, plan: ChunkPlan, **counts: int) -> None:
    """A chunk's record in its staging version (its key, number and counts): the last file before publish."""
    from schemas.io import write_text

    meta = {"format": FORMAT, "key": plan.key, "chunk": plan.index, "chunks": plan.count,
            "files": plan.n_files, "ranges": len(plan.ranges), **counts}  # fmt: skip
    write_text(json.dumps(meta, indent=1) + "\n", stage.path(CHUNK_META))


def chunk_meta(final: Path) -> dict | None:
    """The published chunk's record (key, files, bytes read), or None when there is none or it is unreadable."""
    if not final.is_symlink():
        return None
    try:
        meta = dataset_files(final, CHUNK_META)
        return json.loads(meta[0].read_text(encoding="utf-8")) if meta else None
    except (OSError, ValueError, PublishError):
        return None


def is_current(final: Path, plan: ChunkPlan) -> bool:
    meta = chunk_meta(final)
    return meta is not None and meta.get("key") == plan.key


def chunk_table(final: Path, part: str) -> pa.Table | None:
    """One of a published chunk's own tables (its ledger, code texts, index rows)."""
    files = dataset_files(final, part)
    if not files:
        return None
    with pq.ParquetFile(files[0]) as f:  # not pq.read_table: its first call imports pyarrow.dataset (~0.3 s CPU)
        return f.read()


@dataclass(frozen=True, slots=True)
class Gathered:
    """What a gather did: published the set's datasets, or found the set already gathered."""

    published: bool
    versions: tuple[str, ...]


def gather(layout, asset: str, plans: list[ChunkPlan], record: dict, outputs: Iterable[Path],
           publish_set: Callable[[list[Path]], None]) -> Gathered | None:  # fmt: skip
    """When every chunk is current: `publish_set(chunk datasets)` publishes what readers read (each dataset
    by the publish protocol, so readers see the previous version until then), and the record of what was
    gathered (the chunk versions, plus `record`: what else the set's output depends on) goes last, so a crash
    anywhere before it makes the rerun gather again. Already gathered (same record, every dataset in `outputs`
    published): nothing is written. None while a chunk is missing or stale (a later chunk's step gathers)."""
    from schemas.io import write_text

    finals = [layout.ingest_chunk(asset, p.index) for p in plans]
    if not all(is_current(f, p) for f, p in zip(finals, plans, strict=True)):
        return None
    versions = tuple(current_version(f).name for f in finals)  # type: ignore[union-attr]
    doc = {"format": FORMAT, "chunks": list(versions), **record}
    marker = finals[0].parent / GATHERED
    if _read_json(marker) == doc and all(Path(p).is_symlink() for p in outputs):
        drop_stale_chunks(finals[0].parent, len(finals))
        return Gathered(False, versions)
    publish_set(finals)
    write_text(json.dumps(doc, indent=1) + "\n", marker)
    drop_stale_chunks(finals[0].parent, len(finals))
    return Gathered(True, versions)


def chunk_datasets(base: Path) -> list[Path]:
    """The chunk datasets published under `chunks/<asset>/`, by chunk number."""
    return sorted((d for d in datasets_under(base, depth=1) if d.name.isdigit()), key=lambda d: int(d.name))


def drop_stale_chunks(base: Path, n: int) -> None:
    """Remove the chunk datasets of a larger chunk count (k >= n): the current set was gathered without them."""
    for dataset in chunk_datasets(base):
        if int(dataset.name) >= n:
            unpublish(dataset)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_gathered(finals: list[Path]) -> bool:
    """Whether the published raw data is the gather of exactly these chunks' current versions."""
    record = _read_json(finals[0].parent / GATHERED) if finals else None
    if not isinstance(record, dict):
        return False
    versions = [current_version(f) for f in finals]
    return all(versions) and record.get("chunks") == [v.name for v in versions if v is not None]


def published_chunks(layout, asset: str, n: int) -> tuple[list[Path], bool]:
    """The published chunk datasets of the current count (k < n), and whether the set is gathered from them:
    what an ingest's ledger check reads while the set is not gathered yet."""
    finals = [f for f in chunk_datasets(layout.chunks / asset) if int(f.name) < n]
    return finals, bool(finals) and is_gathered([layout.ingest_chunk(asset, k) for k in range(n)])
