"""Publish the materialized online tables (features/online/<spec>/) into a key-value store, once per content.

The values are the tables' rows per subject (featurestore.online_records), the same bytes `push_online` writes
from MEDS, without recomputing the state. A version's id ends in a digest of the compiled spec and every
shard's rows (`content_tag`): when the published version already carries the tables' digest nothing is
written, so a rerun leaves the store exactly as it was; otherwise a new version is written and published by
the backend's one atomic pointer flip.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from featurestore.offline import as_layout
from featurestore.online_backend import OnlineBackend, version_tag
from featurestore.online_push import put_subjects
from featurestore.online_records import from_values, to_records
from featurestore.spec import CompiledSpec
from quality.integrity import RuleResult
from schemas.features import ONLINE_SPEC_FILE, online_dir
from schemas.layout import Layout
from schemas.online_store import ONLINE_RECORD
from schemas.publish import dataset_files

_TAG_HEX = 16  # 64 bits of sha256: a digest of the content, never a value of it


@dataclass(frozen=True, slots=True)
class Published:
    """What `publish_online_tables` left serving: counts and the version, never a value or an id."""

    version: str
    subjects: int
    rows: int
    shards: int
    written: bool  # False: the published version already held these tables (a rerun wrote nothing)


def _tables(layout: Layout, spec: str) -> tuple[str, list[Path]]:
    """The compiled spec (JSON) and the shard files of the spec's online table, in shard order."""
    folder = online_dir(layout, spec)
    if not (folder / ONLINE_SPEC_FILE).exists():
        raise FileNotFoundError(
            f"no online table for spec {spec!r} under {layout.features}; materialize online_features first"
        )
    rel = folder.relative_to(layout.features).as_posix()
    files = sorted(dataset_files(layout.features, f"{rel}/*.parquet"), key=lambda p: int(p.stem))
    return (folder / ONLINE_SPEC_FILE).read_text(encoding="utf-8"), files


def _records(path: Path) -> tuple[np.ndarray, np.ndarray]:
    return to_records(pl.read_parquet(path))


def content_tag(root: str | Path | Layout, spec: str = "default") -> str:
    """A digest of the compiled spec and every shard's rows as stored (ids and packed records, in order)."""
    compiled, files = _tables(as_layout(root), spec)
    digest = hashlib.sha256(compiled.encode())
    for path in files:
        sids, records = _records(path)
        digest.update(f"{path.stem}:{len(sids)}".encode())
        digest.update(sids.astype("<i8").tobytes())
        digest.update(records.tobytes())
    return digest.hexdigest()[:_TAG_HEX]


def publish_online_tables(root: str | Path | Layout, backend: OnlineBackend, spec: str = "default") -> Published:
    """Make the spec's online tables the store's published version (a no-op when it already is)."""
    layout = as_layout(root)
    compiled, files = _tables(layout, spec)
    name = CompiledSpec.from_json(compiled).spec.name
    tag = content_tag(layout, spec)
    current = backend.published(name)
    rows = 0
    if current is not None and version_tag(current[0]) == tag:
        for path in files:  # the counts only: a rerun reads the tables once more and writes nothing
            rows += pl.scan_parquet(path).select(pl.len()).collect().item()
        return Published(current[0], current[1], rows, len(files), written=False)
    version = backend.begin(name, compiled, tag)
    subjects = 0
    try:
        for path in files:
            sids, records = _records(path)
            rows += len(sids)
            subjects += put_subjects(backend, name, version, sids, records)
        backend.publish(name, version, expected=subjects)
    except BaseException:
        backend.discard(name, version)
        raise
    return Published(version, subjects, rows, len(files), written=True)


def store_matches_tables(
    root: str | Path | Layout, backend: OnlineBackend, spec: str = "default", sample: int = 20
) -> RuleResult:
    """The published version is the tables' content: same digest, same subject count, and the rows of `sample`
    subjects spread over the id range (first and last included) read back through the store equal the tables'."""
    layout = as_layout(root)
    compiled, files = _tables(layout, spec)
    name = CompiledSpec.from_json(compiled).spec.name
    current = backend.published(name)
    if current is None:
        return RuleResult(False, "nothing is published in the online store for this spec")
    stored = current[1]
    sids = np.concatenate([pl.read_parquet(p, columns=["subject_id"])["subject_id"].to_numpy() for p in files]
                          or [np.empty(0, np.int64)])  # fmt: skip
    subjects = np.unique(sids)
    picked = np.unique(subjects[np.linspace(0, len(subjects) - 1, min(sample, len(subjects))).astype(int)])
    want = _by_subject(*_sampled_rows(files, picked))
    snap = backend.get_many(name, picked.tolist())
    got = _by_subject(*from_values(snap.values))
    mismatched = sum(got.get(s) != want.get(s) for s in picked.tolist())  # a missing subject is a mismatch
    counts = {
        "subjects": len(subjects),
        "store_subjects": stored,
        "sampled_subjects": len(picked),
        "sampled_rows": sum(len(v) for v in want.values()) // ONLINE_RECORD.itemsize,
        "mismatches": mismatched,
        "stale_version": int(version_tag(snap.version) != content_tag(layout, spec)),
    }
    if stored != len(subjects):
        return RuleResult(False, "the store holds a different number of subjects than the online table", counts)
    if mismatched:
        return RuleResult(False, f"{mismatched} sampled subjects' rows in the store differ from the table", counts)
    if counts["stale_version"]:
        return RuleResult(False, "the published version is not the latest online table", counts)
    return RuleResult(True, f"{len(subjects)} subjects; {len(picked)} sampled subjects' rows agree", counts)


def _sampled_rows(files: list[Path], picked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(subject id of each row, records) of the picked subjects, in the tables' order."""
    keep = pl.Series(picked, dtype=pl.Int64).implode()
    parts = [to_records(pl.read_parquet(p).filter(pl.col("subject_id").is_in(keep))) for p in files]
    if not parts:
        return np.empty(0, np.int64), np.empty(0, ONLINE_RECORD)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _by_subject(ids: np.ndarray, records: np.ndarray) -> dict[int, bytes]:
    """Each subject's packed rows (NaN sentinels compare as bytes), from rows grouped by subject."""
    if not len(ids):
        return {}
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    return {int(ids[a]): records[a:b].tobytes() for a, b in zip(starts.tolist(), ends.tolist(), strict=True)}
