"""DICOM's chunks (pipelines.defs.chunks): a chunk's index rows as tables of its own, and back; its key.

A chunk keeps every file's outcome, not the published tables: which of two files with one SOP Instance UID
is kept, and which file gives a patient's record, are decided by path over the whole landing, so the gather
merges the chunks' rows and writes what a single parse writes.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from pipelines.defs import chunks as ch
from pipelines.defs.dicom.index import FileResult
from schemas.imaging import DICOM_CHUNK_FILES_SCHEMA, IMAGING_INSTANCES_SCHEMA, RAW_DICOM_INSTANCES_SCHEMA
from schemas.io import write_parquet
from schemas.publish import Stage
from schemas.raw import RAW_PATIENTS_SCHEMA

FILES_PART = "files.parquet"  # every file the chunk read: outcome, shard, reason
# One row per instance, in the order of FILES_PART's instances: (part, FileResult field, schema).
INSTANCE_PARTS = (
    ("raw.parquet", "raw", RAW_DICOM_INSTANCES_SCHEMA),
    ("patients.parquet", "patient", RAW_PATIENTS_SCHEMA),
    ("imaging.parquet", "imaging", IMAGING_INSTANCES_SCHEMA),
)
# What a chunk's rows depend on besides its files and settings: the indexer's and de-identifier's code.
_CODE = ("pipelines/defs/dicom", "pipelines/defs/chunks.py", "pipelines/landing.py", "deid/dicom",
         "deid/pseudonym.py", "schemas")  # fmt: skip


def plan_chunks(root: Path, files: list[Path], crosswalk: Mapping[str, str], secret: bytes, n_shards: int,
                n: int) -> list[ch.ChunkPlan]:  # fmt: skip
    """The `n` chunks of landing/dicom/; each key holds its files, the secret, shard count, the indexer's code
    and pydicom's version, and a digest of the identifier crosswalk (which source patient a PatientID is)."""
    import pydicom

    pairs = json.dumps(sorted(crosswalk.items())).encode()
    common = {
        "code": ch.code_version(_CODE, pydicom.__version__),
        "secret": ch.secret_digest(secret),
        "shards": n_shards,
        "crosswalk": hashlib.sha256(pairs).hexdigest(),
    }
    return ch.plan_chunks(root, files, common, n)


def stage_rows(stage: Stage, files: list[FileResult]) -> None:
    """A chunk's outcomes into its staging version: every file's, then each instance's rows."""
    outcomes = [{"source_file": f.source_file, "kind": f.kind, "shard": f.shard, "reason_code": f.reason_code,
                 "reason": f.reason} for f in files]  # fmt: skip
    table = pa.Table.from_pylist(outcomes, schema=DICOM_CHUNK_FILES_SCHEMA)
    write_parquet(table, stage.path(FILES_PART), DICOM_CHUNK_FILES_SCHEMA, durable=False)
    instances = [f for f in files if f.kind == "instance"]
    for part, attr, schema in INSTANCE_PARTS:
        rows = pa.Table.from_pylist([getattr(f, attr) for f in instances], schema=schema)
        write_parquet(rows, stage.path(part), schema, durable=False)


def read_rows(final: Path) -> list[FileResult]:
    """A published chunk's outcomes, as the indexer returned them."""
    outcomes = ch.chunk_table(final, FILES_PART)
    if outcomes is None:
        return []
    parts = {attr: iter(_rows(final, part)) for part, attr, _ in INSTANCE_PARTS}
    files = []
    for row in outcomes.to_pylist():
        f = FileResult(**row)
        if f.kind == "instance":
            f.raw, f.patient, f.imaging = (next(parts[attr]) for attr in ("raw", "patient", "imaging"))
        files.append(f)
    return files


def outcome_counts(final: Path) -> Counter:
    """A published chunk's files by outcome ("instance", "dicomdir", "rejected")."""
    table = ch.chunk_table(final, FILES_PART)
    return Counter(table.column("kind").to_pylist() if table is not None else ())


def _rows(final: Path, part: str) -> list[dict]:
    table = ch.chunk_table(final, part)
    return table.to_pylist() if table is not None else []
