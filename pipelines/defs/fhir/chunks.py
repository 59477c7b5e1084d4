"""Ingest chunks: which landing files a chunk parses, whether its published parse is current, and the gather.

A file belongs to chunk `sha256(path) mod n`, so adding files never moves another file between chunks. A
chunk's parse is a dataset of its own, `chunks/fhir_raw/<k>` (schemas.publish: a write-once version, manifest
last), recording a key of everything its output depends on; a chunk whose key is unchanged is not parsed
again. When every chunk of the set is current, the step that made it so gathers them: raw/fhir and
quarantine/fhir_raw become new versions made of hard links to the chunks' files (one link per file), with the
code texts and the ledger summed over the chunks, so readers (the per-shard MEDS build) see one source as
before, and its files are the same whatever the chunk count.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.publish import (
    PublishError,
    Stage,
    current_version,
    dataset_files,
    datasets_under,
    publishing,
    unpublish,
)

FORMAT = "longitude-ingest-chunk/1"
CHUNK_META = "chunk.json"  # in a chunk's version: its key, number, files and bytes read
LEDGER_PART = "ledger.parquet"  # the chunk's ledger rows (delivered paths: this is a PHI zone)
CODES_PART = "codes.parquet"  # the chunk's code texts with counts, summed by the gather
QUARANTINE_PART = "quarantine"  # the chunk's quarantined records, linked into quarantine/<asset>/
GATHERED = "gathered.json"  # beside the chunks, written last by a gather: which chunk versions it published
# What a chunk's output depends on besides its files and settings: the parser's code. Any change reparses.
_CODE = ("pipelines/defs/fhir", "pipelines/landing.py", "pipelines/value_free_errors.py", "schemas",
         "deid/pseudonym.py")  # fmt: skip
_REPO = Path(__file__).resolve().parents[3]


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
    files: tuple[Path, ...]  # in landing order
    key: str


@cache
def code_version() -> str:
    """A digest of the parser's source files and the Parquet writer's version."""
    h = hashlib.sha256(pa.__version__.encode())
    for entry in _CODE:
        path = _REPO / entry
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.is_file() else []:
            h.update(f.relative_to(_REPO).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _stat(path: Path, root: Path) -> list:
    try:
        st = path.stat()
        size, mtime = st.st_size, st.st_mtime_ns
    except OSError:  # gone or unreadable: the parse quarantines it; the key only has to differ from a readable one
        size, mtime = -1, -1
    return [path.relative_to(root).as_posix(), size, mtime]


def plan_chunks(root: Path, files: list[Path], medication_files: list[Path], secret: bytes, n_shards: int,
                strict: bool, n: int) -> list[ChunkPlan]:  # fmt: skip
    """The `n` chunks of the landing files and each one's key: its files (path, size, mtime), the medication
    files every chunk resolves references against, the secret, shard count, strictness and the parser code."""
    common = {
        "format": FORMAT,
        "code": code_version(),
        "secret": hashlib.sha256(b"longitude-ingest-chunk\0" + secret).hexdigest(),
        "shards": n_shards,
        "strict": strict,
        "chunks": n,
        "medications": [_stat(p, root) for p in medication_files],
    }
    groups: list[list[Path]] = [[] for _ in range(n)]
    for path in files:
        groups[chunk_of(path.relative_to(root).as_posix(), n)].append(path)
    plans = []
    for i, group in enumerate(groups):
        doc = {**common, "chunk": i, "files": [_stat(p, root) for p in group]}
        key = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
        plans.append(ChunkPlan(i, n, tuple(group), key))
    return plans


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
    """One of a published chunk's own tables (LEDGER_PART, CODES_PART)."""
    files = dataset_files(final, part)
    return pq.read_table(files[0]) if files else None


def ledger_counts(table: pa.Table | None) -> Counter:
    """A ledger table back into the parser's counts: (file, type, 'in'|'out'|'q'|'events') -> n."""
    counts: Counter = Counter()
    if table is None:
        return counts
    cols = ("n_in", "n_out", "n_quarantined", "n_events")
    for row in table.to_pylist():
        for col, kind in zip(cols, ("in", "out", "q", "events"), strict=True):
            counts[row["source_file"], row["record_type"], kind] += row[col]
    return counts


def description_counts(table: pa.Table | None) -> Counter:
    counts: Counter = Counter()
    for row in table.to_pylist() if table is not None else ():
        counts[row["code"], row["description"]] += row["n"]
    return counts


@dataclass(frozen=True, slots=True)
class Gathered:
    """What a gather did: published (a new raw/fhir), or found the set already gathered; None if not complete."""

    published: bool
    versions: tuple[str, ...]


def gather(layout, keyring, asset: str, source: str, plans: list[ChunkPlan], skipped: list,
           write_summed: Callable[[Stage, Stage, Counter, Counter], pa.Table]) -> Gathered | None:  # fmt: skip
    """When every chunk is current: publish quarantine/fhir_raw, then raw/fhir, from the chunks' files (hard
    links) with what is summed over the chunks (code texts, the landing paths not read), then the ledger; the
    record of what was gathered goes last, so a crash anywhere before it makes the rerun gather again. None
    while a chunk is missing or stale (a later chunk's step gathers). `write_summed(raw, quarantine, ledger,
    descriptions)` stages what is summed and returns the ledger table."""
    from pipelines.ledger import write_ledger

    finals = [layout.ingest_chunk(asset, p.index) for p in plans]
    if not all(is_current(f, p) for f, p in zip(finals, plans, strict=True)):
        return None
    versions = tuple(current_version(f).name for f in finals)  # type: ignore[union-attr]
    record = {
        "format": FORMAT,
        "chunks": list(versions),
        "skipped": sorted([s.rel, s.reason_code] for s in skipped),
    }
    marker = finals[0].parent / GATHERED
    if _read_json(marker) == record and (layout.raw / source).is_symlink():
        drop_stale_chunks(finals[0].parent, len(finals))
        return Gathered(False, versions)
    ledger: Counter = Counter()
    descriptions: Counter = Counter()
    raw_final, quarantine_final = layout.raw / source, layout.quarantine(asset)
    with publishing(quarantine_final, sync=True) as quarantine, publishing(raw_final, sync=True) as raw:
        for final in finals:
            for path in dataset_files(final):
                rel = path.relative_to(final).as_posix()
                if rel in (CHUNK_META, LEDGER_PART, CODES_PART):
                    continue
                if rel.startswith(f"{QUARANTINE_PART}/"):
                    quarantine.link(path, rel.removeprefix(f"{QUARANTINE_PART}/"))
                else:
                    raw.link(path, rel)
            ledger.update(ledger_counts(chunk_table(final, LEDGER_PART)))
            descriptions.update(description_counts(chunk_table(final, CODES_PART)))
        table = write_summed(raw, quarantine, ledger, descriptions)
        quarantine.publish()  # the quarantine first; raw/<source> as the `with` ends
    write_ledger(table, layout.ledger(asset), layout, keyring)
    from schemas.io import write_text

    write_text(json.dumps(record, indent=1) + "\n", marker)
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
