"""FHIR's chunks (pipelines.defs.chunks): their key, what each publishes besides its raw parts, and the gather
by hard links into raw/fhir and quarantine/fhir_raw, with the code texts and the ledger summed."""

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from pipelines.defs import chunks as ch
from pipelines.defs.fhir import reader
from schemas.layout import Layout
from schemas.publish import Stage, dataset_files, publishing

LEDGER_PART = "ledger.parquet"  # the chunk's ledger rows (delivered paths: this is a PHI zone)
CODES_PART = "codes.parquet"  # the chunk's code texts with counts, summed by the gather
QUARANTINE_PART = "quarantine"  # the chunk's quarantined records, linked into quarantine/<asset>/
# A chunk's tables that the gather reads across every chunk rather than links (pipelines.defs.fhir.subjects).
PENDING_PART = "pending_subjects"  # records whose subject is named by identifier or a contained Patient
PATIENT_KEYS_PART = "patient_keys"  # keyed digests of each delivered Patient's identifiers
CHUNK_ONLY_PARTS = (PENDING_PART, PATIENT_KEYS_PART)
# An uncompressed NDJSON file larger than this is read in line-aligned byte ranges of this size, spread over the
# chunks (a bulk export has one file per resource type); each range is a work unit of its own. 32 MiB is about
# a bundle unit's JSON (UNIT_BYTES of gzip, ~10x): seconds of parsing, which amortize the range's flush and the
# count of the newlines before it (GB/s).
RANGE_BYTES = 32 << 20
# What a chunk's output depends on besides its files and settings: the parser's code. Any change reparses.
_CODE = ("pipelines/defs/fhir", "pipelines/defs/chunks.py", "pipelines/landing.py",
         "pipelines/value_free_errors.py", "schemas", "deid/pseudonym.py")  # fmt: skip


def plan_chunks(root: Path, files: list[Path], medication_files: list[Path], secret: bytes, n_shards: int,
                strict: bool, n: int) -> list[ch.ChunkPlan]:  # fmt: skip
    """The `n` chunks of the landing files; each key holds its files, the medication files every chunk resolves
    references against, the secret, shard count, strictness and the parser code."""
    common = {
        "code": ch.code_version(_CODE),
        "secret": ch.secret_digest(secret),
        "shards": n_shards,
        "strict": strict,
        "medications": [ch.file_stat(p, root) for p in medication_files],
    }
    return ch.plan_chunks(root, files, common, n, split_ranges(files, RANGE_BYTES))


def split_ranges(files: list[Path], range_bytes: int) -> dict[Path, list[tuple[int, int | None]]]:
    """The byte ranges of each file read in more than one range (uncompressed NDJSON over `range_bytes`)."""
    out = {}
    for path in files:
        size = path.stat().st_size if reader.splittable(path) and path.is_file() else 0
        if size > range_bytes and not reader.is_wide(path):
            out[path] = reader.byte_ranges(size, range_bytes)
    return out


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


def chunk_files(finals: list[Path], table: str) -> list[tuple[int, Path]]:
    """(shard, file) of every part of a sharded raw table (`resource_ids`) in the chunks, in a fixed order."""
    out = []
    for final in finals:
        for path in dataset_files(final):
            rel = path.relative_to(final)
            if rel.parts[0] == table:
                out.append((int(Layout.shard_of(rel)), path))
    return sorted(out)


def chunk_parts(finals: list[Path], folder: str) -> list[Path]:
    """Every file of one of the chunks' own folders (CHUNK_ONLY_PARTS), chunk by chunk, in a fixed order."""
    return [path for final in finals for path in sorted(dataset_files(final, f"{folder}/*.parquet"))]


def description_counts(table: pa.Table | None) -> Counter:
    counts: Counter = Counter()
    for row in table.to_pylist() if table is not None else ():
        counts[row["code"], row["description"]] += row["n"]
    return counts


def gather(layout, keyring, asset: str, source: str, plans: list[ch.ChunkPlan], skipped: list,
           write_summed: Callable[[Stage, Stage, Counter, Counter, list[Path]], pa.Table]
           ) -> ch.Gathered | None:  # fmt: skip
    """When every chunk is current: publish quarantine/fhir_raw, then raw/fhir, from the chunks' files (hard
    links) with what is summed over the chunks (code texts, the landing paths not read), then the ledger
    (pipelines.defs.chunks.gather writes the record last). `write_summed(raw, quarantine, ledger,
    descriptions, finals)` stages what is summed or found across the chunks and returns the ledger table."""

    def publish_set(finals: list[Path]) -> None:
        from pipelines.ledger import write_ledger

        ledger: Counter = Counter()
        descriptions: Counter = Counter()
        with publishing(layout.quarantine(asset), sync=True) as quarantine, \
                publishing(layout.raw / source, sync=True) as raw:  # fmt: skip
            for final in finals:
                for path in dataset_files(final):
                    rel = path.relative_to(final).as_posix()
                    own = rel in (ch.CHUNK_META, LEDGER_PART, CODES_PART) or rel.split("/")[0] in CHUNK_ONLY_PARTS
                    if own:
                        continue
                    if rel.startswith(f"{QUARANTINE_PART}/"):
                        quarantine.link(path, rel.removeprefix(f"{QUARANTINE_PART}/"))
                    else:
                        raw.link(path, rel)
                ledger.update(ledger_counts(ch.chunk_table(final, LEDGER_PART)))
                descriptions.update(description_counts(ch.chunk_table(final, CODES_PART)))
            table = write_summed(raw, quarantine, ledger, descriptions, finals)
            quarantine.publish()  # the quarantine first; raw/<source> as the `with` ends
        write_ledger(table, layout.ledger(asset), layout, keyring)

    record = {"skipped": sorted([s.rel, s.reason_code] for s in skipped)}
    return ch.gather(layout, asset, plans, record, [layout.raw / source], publish_set)
