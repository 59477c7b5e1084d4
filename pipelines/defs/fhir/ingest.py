"""Landing FHIR files -> raw events, patients and code texts per shard, with quarantine and ledger.

The landing is split into chunks (pipelines.defs.chunks: the map, one partition each), a chunk's files into
units of whole files, processed in a process pool; each unit writes its own parts, so the output depends only
on the files, never on the worker or chunk count. A chunk publishes its parts as its own dataset; when every
chunk is current, they are gathered into raw/fhir, quarantine/fhir_raw and the ledger.
"""

import gc
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from deid.pseudonym import Keyring
from pipelines.defs import chunks as ch
from pipelines.defs.fhir import chunks as fch
from pipelines.defs.fhir import reader
from pipelines.defs.fhir.bundle_refs import renamed_entries, resolve
from pipelines.defs.fhir.conflicts import any_id_twice, conflicting_records
from pipelines.defs.fhir.extract import EXTRACTORS, MEDICATION_EXTRACTORS, check_events, patient_identity
from pipelines.defs.fhir.notes import diagnostic_report_notes, document_reference_notes
from pipelines.defs.fhir.primitives import InvalidRecordError
from pipelines.defs.fhir.resource_types import R4_RESOURCE_TYPES
from pipelines.defs.fhir.subjects import deferred_subject, patient_keys, resolution
from pipelines.landing import LandingScan
from pipelines.value_free_errors import value_free_errors
from schemas import quarantine as q
from schemas.imaging import FHIR_IMAGING_STUDY_UIDS_SCHEMA, study_uid_from_identifier
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.ledger import LANDING_FILE, LEDGER_SCHEMA, UNKNOWN_TYPE, UNPARSED
from schemas.notes import RAW_NOTES_SCHEMA
from schemas.publish import Stage, stage
from schemas.quarantine import QUARANTINE_SCHEMA
from schemas.raw import (
    PATIENT_KEYS_SCHEMA,
    PENDING_SUBJECTS_SCHEMA,
    RAW_CODES_SCHEMA,
    RAW_EVENTS_SCHEMA,
    RAW_PATIENTS_SCHEMA,
    RAW_RESOURCE_CONFLICTS_SCHEMA,
    RAW_RESOURCE_IDS_SCHEMA,
)

ASSET = "fhir_raw"
SOURCE = "fhir"
# Buffered events per unit before a flush: ~150 MB of Python objects, which keeps a worker well under 1 GB.
FLUSH_EVENTS = 400_000
# Bundle files per unit, by compressed size: big enough to amortize a flush, small enough to balance 2+ workers.
UNIT_BYTES = 3 << 20
_MAX_QUARANTINE_RECORD = 1 << 20  # keep at most 1 MB of an unparseable file's text for review
_EMPTY = "file holds no records (0 bytes or only blank lines): nothing to read; a failed export?"
# Bundles inside Bundles are read; deeper than this is a structure no exporter writes (and a recursion bomb).
MAX_BUNDLE_DEPTH = 8
# What a parser or extractor may raise on hostile structure; caught per record (never per file or run).
_RECORD_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError, OverflowError, RecursionError)


@dataclass(frozen=True, slots=True)
class Unit:
    index: int
    files: tuple[str, ...]  # relative to the root
    chunk: int = 0
    span: tuple[int, int | None] | None = None  # an NDJSON byte range [start, end): the lines starting there

    @property
    def part(self) -> str:
        """The unit's part-file id, unique across the chunks a gather links together."""
        return f"{self.chunk:03d}-{self.index:05d}"


@dataclass(slots=True)
class UnitResult:
    ledger: Counter = field(default_factory=Counter)  # (file, type, 'in'|'out'|'q'|'events') -> n
    descriptions: Counter = field(default_factory=Counter)  # (code, description) -> n
    bytes_read: int = 0


@dataclass(frozen=True, slots=True)
class IngestSummary:
    files: int
    resources: int
    events: int
    quarantined: int
    bytes_read: int
    per_type: dict[str, dict[str, int]]
    reused: bool = False  # the chunk's published parse was current: nothing parsed, nothing written
    gathered: bool | None = None  # raw/fhir published from every chunk (False: already was; None: set incomplete)


def _append_row(buffers: dict[int, list[list]], schema: pa.Schema, shard: int, row: tuple) -> None:
    cols = buffers.get(shard)
    if cols is None:
        cols = buffers[shard] = [[] for _ in schema.names]
    for col, value in zip(cols, row, strict=True):
        col.append(value)


class _Buffers:
    """Column lists per shard, flushed to `part-<chunk>-<unit>-<seq>.parquet` files."""

    def __init__(self, out: Path, unit: str, n_shards: int) -> None:
        self.out, self.unit, self.n_shards = out, unit, n_shards
        self.events: dict[int, list[list]] = {}
        self.patients: dict[int, list[list]] = {}
        self.notes: dict[int, list[list]] = {}
        self.resource_ids: dict[int, list[list]] = {}  # Type/id of records with events: duplicates found later
        self.study_uids: list[dict] = []  # ImagingStudy study UIDs, for the DICOM link (unsharded, small)
        self.pending: list[dict] = []  # records whose subject waits for the gather (pipelines.defs.fhir.subjects)
        self.patient_keys: list[list] = [[], []]  # (identifier digest, patient id) of each Patient read
        self.written_ids: list[tuple[int, Path]] = []  # (shard, file) of the resource_ids parts written
        self.quarantine: list[list] = [[] for _ in QUARANTINE_SCHEMA.names]
        self.n_buffered = 0
        self.seq = 0

    def add_events(self, shard: int, pid: str, events: list, rtype: str, rel: str, pos: int,
                   descriptions: Counter) -> None:  # fmt: skip
        """Buffer one record's events and count each (code, description) pair for the code texts. Unrolled:
        most records have one event, and a loop over the nine columns cost three times as much."""
        cols = self.events.get(shard)
        if cols is None:
            cols = self.events[shard] = [[] for _ in RAW_EVENTS_SCHEMA.names]
        pids, times, codes, nums, texts, units, rtypes, rels, positions = cols
        for time, code, num, text, unit, display in events:
            pids.append(pid)
            times.append(time)
            codes.append(code)
            nums.append(num)
            texts.append(text)
            units.append(unit)
            rtypes.append(rtype)
            rels.append(rel)
            positions.append(pos)
            descriptions[code, display] += 1
        self.n_buffered += len(events)

    def add_patient(self, shard: int, row: tuple) -> None:
        _append_row(self.patients, RAW_PATIENTS_SCHEMA, shard, row)

    def add_resource_id(self, shard: int, rtype: str, rid: str, rel: str, pos: int, pid: str) -> None:
        """One row per record with events (most records): unrolled like add_events."""
        cols = self.resource_ids.get(shard)
        if cols is None:
            cols = self.resource_ids[shard] = [[] for _ in RAW_RESOURCE_IDS_SCHEMA.names]
        rtypes, rids, rels, positions, pids = cols
        rtypes.append(rtype)
        rids.append(rid)
        rels.append(rel)
        positions.append(pos)
        pids.append(pid)

    def add_note(self, shard: int, row: tuple) -> None:
        _append_row(self.notes, RAW_NOTES_SCHEMA, shard, row)

    def add_quarantine(self, row: tuple) -> None:
        for col, value in zip(self.quarantine, row, strict=True):
            col.append(value)

    def flush(self) -> None:
        for table, schema, buffers in (
            ("events", RAW_EVENTS_SCHEMA, self.events),
            ("patients", RAW_PATIENTS_SCHEMA, self.patients),
            ("notes", RAW_NOTES_SCHEMA, self.notes),
            ("resource_ids", RAW_RESOURCE_IDS_SCHEMA, self.resource_ids),
        ):
            for shard, cols in sorted(buffers.items()):
                arrays = [pa.array(c, type=f.type) for c, f in zip(cols, schema, strict=True)]
                path = Layout.source_shard_part(self.out, table, shard, f"{self.unit}-{self.seq:03d}")
                write_parquet(pa.Table.from_arrays(arrays, schema=schema), path, schema, durable=False)
                if table == "resource_ids":
                    self.written_ids.append((shard, path))
            buffers.clear()
        if self.pending:
            table = pa.Table.from_pylist(self.pending, schema=PENDING_SUBJECTS_SCHEMA)
            self._write_own(fch.PENDING_PART, table, PENDING_SUBJECTS_SCHEMA)
        if self.patient_keys[0]:
            arrays = [pa.array(c, pa.string()) for c in self.patient_keys]
            self._write_own(fch.PATIENT_KEYS_PART, pa.Table.from_arrays(arrays, schema=PATIENT_KEYS_SCHEMA),
                            PATIENT_KEYS_SCHEMA)  # fmt: skip
        self.pending, self.patient_keys = [], [[], []]
        if self.study_uids:
            table = pa.Table.from_pylist(self.study_uids, schema=FHIR_IMAGING_STUDY_UIDS_SCHEMA)
            path = self.out / "imaging_study_uids" / f"part-{self.unit}-{self.seq:03d}.parquet"
            write_parquet(table, path, FHIR_IMAGING_STUDY_UIDS_SCHEMA, durable=False)
            self.study_uids = []
        self.n_buffered = 0
        self.seq += 1

    def _write_own(self, folder: str, table: pa.Table, schema: pa.Schema) -> None:
        """A table the chunk keeps for the gather (pipelines.defs.fhir.chunks.CHUNK_ONLY_PARTS)."""
        write_parquet(table, self.out / folder / f"part-{self.unit}-{self.seq:03d}.parquet", schema, durable=False)

    def flush_quarantine(self, quarantine_dir: Path) -> None:
        if self.quarantine[0]:
            arrays = [pa.array(c, type=f.type) for c, f in zip(self.quarantine, QUARANTINE_SCHEMA, strict=True)]
            table = pa.Table.from_arrays(arrays, schema=QUARANTINE_SCHEMA)
            write_parquet(table, quarantine_dir / f"part-{self.unit}.parquet", QUARANTINE_SCHEMA, durable=False)


class _UnitProcessor:
    """Parses the files of one unit; holds the per-unit state the record handlers share."""

    def __init__(self, unit: Unit, root: Path, out: Path, qdir: Path, keyring: Keyring, n_shards: int,
                 strict: bool, medications: dict[str, dict]) -> None:  # fmt: skip
        self.unit, self.root, self.qdir = unit, root, qdir
        self.keyring, self.n_shards, self.strict = keyring, n_shards, strict
        self.medications = medications
        self.buffers = _Buffers(out, unit.part, n_shards)
        self.result = UnitResult()
        self.shards: dict[str, int] = {}

    def run(self) -> UnitResult:
        # The parsed JSON is millions of short-lived dicts with no cycles: the cyclic GC only burns time here
        # (about 1 s of 8 on the shared Synthea set).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if gc_was_enabled:
                gc.enable()

    def _run(self) -> UnitResult:
        for rel in self.unit.files:
            path = self.root / rel
            if reader.kind_of(path) == "ndjson":
                self._ndjson(path, rel, self.unit.span)
            else:
                self._bundle(path, rel)
            if self.buffers.n_buffered >= FLUSH_EVENTS:
                self.buffers.flush()
        self.buffers.flush()
        self.buffers.flush_quarantine(self.qdir)
        return self.result

    def _reject(self, rel: str, pos: int, rtype: str | None, code: str, reason: str, record: str | None) -> None:
        # The ledger (outside the PHI zones) never holds a type name we did not recognise.
        label = rtype or (UNKNOWN_TYPE if code == q.UNKNOWN_RESOURCE_TYPE else UNPARSED)
        self.result.ledger[rel, label, "q"] += 1
        self.result.ledger[rel, label, "in"] += 1
        self.buffers.add_quarantine((ASSET, rel, pos, rtype, code, reason, record))

    def _bundle(self, path: Path, rel: str) -> None:
        try:
            data = reader.read_bytes(path)
        except (OSError, EOFError, ValueError) as err:
            reason = f"file could not be read ({type(err).__name__})"
            self._reject(rel, 0, None, q.UNREADABLE_FILE, reason, None)
            return
        self.result.bytes_read += len(data)
        if not data.removeprefix(b"\xef\xbb\xbf").strip():
            self._reject(rel, 0, None, q.EMPTY_FILE, _EMPTY, None)
            return
        try:
            obj = reader.loads(data)
        except orjson.JSONDecodeError:
            text = data[:_MAX_QUARANTINE_RECORD].decode("utf-8", "replace")
            self._reject(rel, 0, None, q.MALFORMED_JSON, "file is not valid JSON", text)
            return
        if isinstance(obj, dict) and obj.get("resourceType") == "Bundle" and "entry" in obj:
            self._entries(obj, rel, None, self.medications, depth=1)
        else:
            self._resource(obj, rel, 1, self.medications)

    def _entries(self, bundle: dict, rel: str, outer: tuple[int, str] | None, medications: dict[str, dict],
                 depth: int) -> None:  # fmt: skip
        """A Bundle's entries, each its own record; a nested Bundle's entries count under the outer entry's
        position, and its reasons name the path (`entry 3 > entry 2`)."""
        pos0, where0 = outer or (0, "")
        entries = bundle["entry"]
        if not isinstance(entries, list):
            self._reject(rel, pos0, "Bundle", q.INVALID_RESOURCE, f"{where0}Bundle.entry is not a list", None)
            return
        medications = dict(medications)
        renamed = renamed_entries(entries)
        for e in entries:
            r = e.get("resource") if isinstance(e, dict) else None
            if isinstance(r, dict) and r.get("resourceType") == "Medication":
                url = e.get("fullUrl")
                medications[url if isinstance(url, str) else ""] = r
                if isinstance(r.get("id"), str):
                    medications[f"Medication/{r['id']}"] = r
        for i, e in enumerate(entries, 1):
            pos, where = (i, f"entry {i}: ") if outer is None else (pos0, f"{where0[:-2]} > entry {i}: ")
            r = e.get("resource") if isinstance(e, dict) else None
            if r is None:
                reason = f"{where}Bundle.entry has no resource"
                self._reject(rel, pos, None, q.INVALID_RESOURCE, reason, _dump(e))
            elif isinstance(r, dict) and r.get("resourceType") == "Bundle" and "entry" in r:
                if depth >= MAX_BUNDLE_DEPTH:
                    reason = f"{where}Bundle nested more than {MAX_BUNDLE_DEPTH} deep"
                    self._reject(rel, pos, "Bundle", q.INVALID_RESOURCE, reason, _dump(r))
                    continue
                self.result.ledger[rel, "Bundle", "in"] += 1  # the nested Bundle itself, read through
                self.result.ledger[rel, "Bundle", "out"] += 1
                self._entries(r, rel, (pos, where), medications, depth + 1)
            else:
                r = resolve(r, e.get("fullUrl"), renamed) if isinstance(r, dict) else r
                self._resource(r, rel, pos, medications, where if outer is not None else "")

    def _ndjson(self, path: Path, rel: str, span: tuple[int, int | None] | None) -> None:
        records = 0
        try:
            for lineno, line in reader.iter_ndjson_lines(path, span):
                records += 1
                self.result.bytes_read += len(line)
                try:
                    r = reader.loads(line)
                except orjson.JSONDecodeError:
                    text = line[:_MAX_QUARANTINE_RECORD].decode("utf-8", "replace")
                    self._reject(rel, lineno, None, q.MALFORMED_JSON, "line is not valid JSON", text)
                    continue
                if isinstance(r, dict) and r.get("resourceType") == "Bundle" and "entry" in r:
                    self.result.ledger[rel, "Bundle", "in"] += 1  # a Bundle on one line: read through
                    self.result.ledger[rel, "Bundle", "out"] += 1
                    self._entries(r, rel, (lineno, f"line {lineno}: "), self.medications, depth=1)
                else:
                    self._resource(r, rel, lineno, self.medications)
                if self.buffers.n_buffered >= FLUSH_EVENTS:
                    self.buffers.flush()
        except (OSError, EOFError, ValueError) as err:
            # A truncated gzip surfaces mid-stream: what was read stands, the rest is one quarantined record.
            self._reject(rel, 0, None, q.UNREADABLE_FILE, f"file could not be read ({type(err).__name__})", None)
            return
        if not records and span is None:  # a byte range of a big file may hold no line start; a file must
            self._reject(rel, 0, None, q.EMPTY_FILE, _EMPTY, None)

    def _resource(self, r: object, rel: str, pos: int, medications: dict[str, dict], where: str = "") -> None:
        if not isinstance(r, dict):
            self._reject(rel, pos, None, q.INVALID_RESOURCE, f"{where}record is not a JSON object", _dump(r))
            return
        rtype = r.get("resourceType")
        if not isinstance(rtype, str) or rtype not in R4_RESOURCE_TYPES:
            reason = "resourceType is missing" if rtype is None else "resourceType is not a FHIR R4 resource type"
            self._reject(rel, pos, None, q.UNKNOWN_RESOURCE_TYPE, where + reason, _dump(r))
            return
        if self.strict:
            from pipelines.defs.fhir.strict import validation_errors

            errors = validation_errors(r)
            if errors:
                reason = f"{where}fails FHIR validation: {errors}"
                self._reject(rel, pos, rtype, q.INVALID_RESOURCE, reason, _dump(r))
                return
        try:
            extracted = self._extract(r, rtype, medications)
            if extracted is not None:
                check_events(extracted[1], rtype)
            notes = self._notes(r, rtype, extracted[0], extracted[1], rel, pos) if extracted else []
        except InvalidRecordError as err:
            failure = err
            try:  # a patient named by identifier or contained Patient is resolved at the gather
                deferred = deferred_subject(self.keyring, r, rtype)
            except InvalidRecordError as subject_err:
                failure, deferred = subject_err, None
            if deferred is not None:
                self._defer(r, rtype, rel, pos, where, deferred, medications)
                return
            self._reject(rel, pos, rtype, failure.reason_code, where + failure.reason, _dump(r))
            return
        except _RECORD_ERRORS as err:
            reason = f"{where}unexpected structure in {rtype} ({type(err).__name__})"
            self._reject(rel, pos, rtype, q.INVALID_RESOURCE, reason, _dump(r))
            return
        led = self.result.ledger
        led[rel, rtype, "in"] += 1
        led[rel, rtype, "out"] += 1
        if extracted is None:
            return
        pid, events = extracted
        shard = self.shards.get(pid)
        if shard is None:
            shard = self.shards[pid] = self.keyring.shard(pid, self.n_shards)
        if notes:
            events = [*events, *(event for event, _ in notes)]
            for _, row in notes:
                self.buffers.add_note(shard, row)
        if events:
            self.buffers.add_events(shard, pid, events, rtype, rel, pos, self.result.descriptions)
            led[rel, rtype, "events"] += len(events)
            rid = r.get("id")
            if rtype != "Patient" and isinstance(rid, str):
                self.buffers.add_resource_id(shard, rtype, rid, rel, pos, pid)
        if rtype == "ImagingStudy":
            self._study_uids(r, pid, rel)
        if rtype == "Patient":
            birth = next((e[0] for e in events if e[1] == "MEDS_BIRTH"), None)
            death = next((e[0] for e in events if e[1] == "MEDS_DEATH"), None)
            gender = r.get("gender")
            self.buffers.add_patient(shard, (pid, birth, death, gender, *patient_identity(r), rel, pos))
            keys, pids = self.buffers.patient_keys
            for key in patient_keys(self.keyring, r):
                keys.append(key)
                pids.append(pid)

    def _defer(self, r: dict, rtype: str, rel: str, pos: int, where: str, deferred: tuple, meds: dict) -> None:
        """Set a record whose patient is named by identifier or contained Patient aside for the gather, with the
        Medication it refers to (a Bundle's own Medications are not known there). Counted in the ledger there."""
        field, how, keys = deferred
        ref = r.get("medicationReference")
        target = ref.get("reference") if isinstance(ref, dict) else None
        med = meds.get(target) if isinstance(target, str) and not target.startswith("#") else None
        self.buffers.pending.append({
            "source_file": rel, "position": pos, "where": where, "resource_type": rtype, "field": field,
            "how": how, "keys": keys, "record": _dump(r), "medications": _dump({target: med}) if med else None,
        })  # fmt: skip

    def _study_uids(self, r: dict, pid: str, rel: str) -> None:
        idents = r.get("identifier")
        for ident in idents if isinstance(idents, list) else ():  # the record is accepted: odd shapes are no UID
            value = ident.get("value") if isinstance(ident, dict) else None
            uid = study_uid_from_identifier(value) if isinstance(value, str) else None
            if uid and isinstance(r.get("id"), str):
                self.buffers.study_uids.append(
                    {"source_patient": pid, "resource_id": r["id"], "study_uid": uid, "source_file": rel}
                )

    def _notes(self, r: dict, rtype: str, pid: str, events: list, rel: str, pos: int) -> list:
        """Note texts of a DocumentReference or DiagnosticReport: raw note rows plus one NOTE event each."""
        if rtype == "DocumentReference":
            _, notes = document_reference_notes(r)
        elif r.get("presentedForm"):
            notes = diagnostic_report_notes(r, events[0][0])
        else:
            return []
        origin = r.get("id") if isinstance(r.get("id"), str) else f"{rel}:{pos}"
        out = []
        for i, time, code, display, encounter, text, encoding in notes:
            note_id = self.keyring.token("note", f"{rtype}/{origin}#{i}")
            out.append(((time, code, None, note_id, None, display),
                        (pid, time, note_id, code, display, encounter, text, encoding, rel, pos)))  # fmt: skip
        return out

    def _extract(self, r: dict, rtype: str, medications: dict[str, dict]):
        if rtype == "DocumentReference":
            pid, _ = document_reference_notes(r)  # validated here; texts are taken in _resource
            return pid, []
        extractor = EXTRACTORS.get(rtype)
        if extractor is not None:
            return extractor(r)
        med = MEDICATION_EXTRACTORS.get(rtype)
        if med is not None:
            contained = {c.get("id"): c for c in r.get("contained") or () if isinstance(c, dict)}
            return med(r, {**medications, **contained})
        return None  # a valid type we do not turn into events (Claim, Organization, ...): accepted, 0 events


def _dump(obj: object) -> str:
    return orjson.dumps(obj).decode()


# Worker-process state, set once by the pool initializer so units stay small to pickle.
_WORKER: dict = {}


def _init_worker(root: str, out: str, qdir: str, secret: bytes, n_shards: int, strict: bool,
                 medications: dict[str, dict]) -> None:  # fmt: skip
    _WORKER.update(root=Path(root), out=Path(out), qdir=Path(qdir), keyring=Keyring(secret),
                   n_shards=n_shards, strict=strict, medications=medications)  # fmt: skip


class _NoPandas:
    """An import finder that refuses pandas: installed in the parser processes only (see `_init_pool_worker`)."""

    def find_spec(self, name: str, path=None, target=None) -> None:
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError("pandas is not loaded in a FHIR parser process", name=name)
        return None


def _init_pool_worker(*args) -> None:
    """A parser process's initializer: `_init_worker`, without pandas. pyarrow imports pandas on its first
    `pa.array` of a list only to ask whether the list is a pandas object (0.5-0.6 s of CPU per process, a tenth
    of a worker's work on the shared Synthea set); these processes build every array from plain lists, and
    pyarrow takes the refused import as "no pandas installed"."""
    import sys

    if "pandas" not in sys.modules:
        sys.meta_path.insert(0, _NoPandas())
    _init_worker(*args)


def _run_unit(unit: Unit) -> UnitResult:
    w = _WORKER
    processor = _UnitProcessor(unit, w["root"], w["out"], w["qdir"], w["keyring"], w["n_shards"], w["strict"],
                               w["medications"])  # fmt: skip
    # Records are isolated one by one; this is the last boundary, for what a writer or a library raises.
    with value_free_errors(f"{ASSET}: chunk {unit.chunk} work unit {unit.index}"):
        return processor.run()


def plan_units(root: Path, files: list[Path] | tuple[Path, ...], chunk: int = 0,
               ranges: tuple[tuple[Path, int, int | None], ...] = ()) -> list[Unit]:  # fmt: skip
    """Group a chunk's files into units: each NDJSON file alone, bundles together up to UNIT_BYTES compressed;
    then each byte range of a split file alone."""
    units: list[Unit] = []
    batch: list[str] = []
    size = 0
    for path in files:
        rel = str(path.relative_to(root))
        if reader.kind_of(path) == "ndjson":
            units.append(Unit(len(units), (rel,), chunk))
            continue
        batch.append(rel)
        size += path.stat().st_size * (1 if path.name.endswith(".gz") else 0.1)  # ~10x gzip ratio on FHIR
        if size >= UNIT_BYTES:
            units.append(Unit(len(units), tuple(batch), chunk))
            batch, size = [], 0
    if batch:
        units.append(Unit(len(units), tuple(batch), chunk))
    for path, start, end in ranges:
        units.append(Unit(len(units), (str(path.relative_to(root)),), chunk, (start, end)))
    return units


def _medication_files(files: list[Path]) -> list[Path]:
    """Bulk exports put Medication resources in their own file; MedicationRequests elsewhere refer to them, so
    every chunk reads these files (and its key depends on them)."""
    return [p for p in files if reader.kind_of(p) == "ndjson" and p.name.startswith("Medication.")]


def _load_medications(files: list[Path]) -> dict[str, dict]:
    meds: dict[str, dict] = {}
    for path in files:
        try:
            for _, line in reader.iter_ndjson_lines(path):
                try:
                    r = reader.loads(line)
                except orjson.JSONDecodeError:
                    continue  # quarantined when the file itself is processed
                if isinstance(r, dict) and isinstance(r.get("id"), str):
                    meds[f"Medication/{r['id']}"] = r
        except (OSError, EOFError, ValueError):
            continue  # a truncated file: what was read stands; the file itself is quarantined later
    return meds


def ingest_fhir(
    layout: Layout,
    keyring: Keyring,
    n_shards: int,
    *,
    strict: bool = False,
    workers: int = 1,
    on_unit_done: Callable[[int, int], None] | None = None,
    chunk: int | None = None,
    n_chunks: int = 1,
) -> IngestSummary:
    """Parse chunk `chunk` of `n_chunks` of landing/fhir/ into its dataset, and gather raw/fhir/ and
    quarantine/fhir_raw/ when every chunk is current. `chunk=None`: every chunk, one after another (the summary
    is then of the whole landing, as one parse)."""
    if chunk is None:
        for i in range(n_chunks):
            ingest_fhir(layout, keyring, n_shards, strict=strict, workers=workers, on_unit_done=on_unit_done,
                        chunk=i, n_chunks=n_chunks)  # fmt: skip
        return whole_summary(layout)
    started = take_begun(parse_key(layout, keyring, n_shards, strict, workers, chunk, n_chunks))
    if started is not None:  # the CLI began this very parse before Dagster loaded (pipelines.defs.fhir.head_start)
        return started.finish(on_unit_done)
    job = begin_parse(layout, keyring, n_shards, strict, chunk, n_chunks)
    if job.stage is None:  # the chunk's published parse is current: nothing to parse
        return finish_parse(job, [])
    units = job.units
    results: list[UnitResult | None] = [None] * len(units)
    try:
        if workers <= 1 or len(units) <= 1:
            _init_worker(*job.args)
            for i, unit in enumerate(units):
                results[i] = _run_unit(unit)
                if on_unit_done:
                    on_unit_done(i + 1, len(units))
        else:
            with parser_pool(job, workers) as pool:
                for i, res in enumerate(pool.map(_run_unit, units)):
                    results[i] = res
                    if on_unit_done:
                        on_unit_done(i + 1, len(units))
        return finish_parse(job, results)
    finally:
        discard_parse(job)


# The parse begun ahead of its step in this process, if any (pipelines.defs.fhir.head_start puts it here): an
# object with `key`, `finish(on_unit_done)` and `cancel()`. Held here so this module never imports that one.
BEGUN: dict[str, Any] = {}


def parse_key(layout: Layout, keyring: Keyring, n_shards: int, strict: bool, workers: int, chunk: int = 0,
              n_chunks: int = 1) -> tuple:  # fmt: skip
    """What makes two parses the same parse."""
    return str(layout.root.resolve()), keyring.secret, n_shards, strict, workers, chunk, n_chunks


def take_begun(key: tuple | None) -> Any:
    """The parse begun for exactly `key`, now the caller's to finish; any other begun parse is cancelled (a step
    never publishes a parse of other settings)."""
    begun = BEGUN.pop("parse", None)
    if begun is not None and begun.key == key:
        return begun
    if begun is not None:
        begun.cancel()
    return None


@dataclass(frozen=True, slots=True)
class ParseJob:
    """One chunk's parse: what the landing scan found, every chunk's plan, this chunk's work units, the staging
    version of its dataset the parsers write into (None: its published parse is current), and the arguments
    each parser process starts with."""

    layout: Layout
    keyring: Keyring
    scan: LandingScan
    plans: list[ch.ChunkPlan]
    chunk: int
    units: list[Unit]
    stage: Stage | None
    args: tuple
    n_shards: int = 1
    strict: bool = False


def begin_parse(layout: Layout, keyring: Keyring, n_shards: int, strict: bool, chunk: int = 0,
                n_chunks: int = 1) -> ParseJob:  # fmt: skip
    """Scan landing/fhir/, plan the chunks; unless the chunk's published parse is current, plan its work units
    and open a fresh staging version of its dataset."""
    scan = reader.scan_files(layout.landing_fhir, layout.root)
    med_files = _medication_files(scan.files)
    plans = fch.plan_chunks(layout.root, scan.files, med_files, keyring.secret, n_shards, strict, n_chunks)
    plan = plans[chunk]
    final = layout.ingest_chunk(ASSET, chunk)
    if ch.is_current(final, plan):
        return ParseJob(layout, keyring, scan, plans, chunk, [], None, (), n_shards, strict)
    units = plan_units(layout.root, plan.files, chunk, plan.ranges)
    st = stage(final, sync=True)  # parts are written without their own fsync
    out, qdir = st.dir, st.dir / fch.QUARANTINE_PART
    args = (str(layout.root), str(out), str(qdir), keyring.secret, n_shards, strict, _load_medications(med_files))
    return ParseJob(layout, keyring, scan, plans, chunk, units, st, args, n_shards, strict)


def parser_pool(job: ParseJob, workers: int) -> ProcessPoolExecutor:
    """The parser processes of a job."""
    # spawn, not fork: the caller (Dagster, polars) may hold threads that fork would copy mid-lock.
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_pool_worker,
                               initargs=job.args)  # fmt: skip


def finish_parse(job: ParseJob, results: list) -> IngestSummary:
    """Publish the chunk's parse (its units' parts, its ledger and code texts, its key: manifest last), then
    gather raw/fhir if every chunk is now current; summarize the chunk."""
    plan = job.plans[job.chunk]
    final = job.layout.ingest_chunk(ASSET, job.chunk)
    if job.stage is not None:
        ledger, descriptions, bytes_read = Counter(), Counter(), 0
        for res in results:
            assert res is not None
            ledger.update(res.ledger)
            descriptions.update(res.descriptions)
            bytes_read += res.bytes_read
        write_parquet(ledger_table(ledger), job.stage.path(fch.LEDGER_PART), LEDGER_SCHEMA, durable=False)
        write_codes(job.stage.dir, descriptions, fch.CODES_PART)
        ch.write_chunk_meta(job.stage, plan, bytes_read=bytes_read)
        job.stage.publish()
    meta = ch.chunk_meta(final) or {}
    gathered = fch.gather(job.layout, job.keyring, ASSET, SOURCE, job.plans, job.scan.skipped,
                         partial(_write_summed, skipped=job.scan.skipped, job=job))  # fmt: skip
    summary = _summary(plan.n_files, ch.chunk_table(final, fch.LEDGER_PART), int(meta.get("bytes_read", 0)))
    return replace(summary, reused=job.stage is None, gathered=None if gathered is None else gathered.published)


def discard_parse(job: ParseJob) -> None:
    """Remove the chunk's staging version, unless it was published."""
    if job.stage is not None and not job.stage._published:
        job.stage.discard()


def whole_summary(layout: Layout) -> IngestSummary:
    """The summary of the whole landing, from the gathered ledger (skipped landing paths included)."""
    import pyarrow.parquet as pq

    path = layout.ledger(ASSET)
    chunks = [ch.chunk_meta(f) or {} for f in ch.chunk_datasets(layout.chunks / ASSET)]
    ledger = pq.read_table(path) if path.exists() else None
    files = sum(int(m.get("files", 0)) for m in chunks)
    return _summary(files, ledger, sum(int(m.get("bytes_read", 0)) for m in chunks))


def _write_summed(raw: Stage, quarantine: Stage, ledger: Counter, descriptions: Counter, finals: list[Path], *,
                  skipped: list, job: ParseJob) -> pa.Table:  # fmt: skip
    """What the gather stages from every chunk: the records whose subject resolves only across the chunks (by
    identifier or contained Patient), the code texts, the landing paths not read, the records of one resource
    delivered for two patients (pipelines.defs.fhir.conflicts); the ledger."""
    import pyarrow.parquet as pq

    resolved = _resolve_subjects(job, finals, raw.dir, quarantine.dir)
    ledger.update(resolved.result.ledger)
    descriptions.update(resolved.result.descriptions)
    report_skipped(skipped, ledger, quarantine.dir)
    write_codes(raw.dir, descriptions)
    paths = [*fch.chunk_files(finals, "resource_ids"), *resolved.buffers.written_ids]
    ids = []
    if any_id_twice([path for _, path in paths]):
        for shard, path in paths:
            with pq.ParquetFile(path) as f:  # not pq.read_table: its first call imports pyarrow.dataset
                ids.append((shard, f.read()))
    for shard, table in sorted(conflicting_records(ids).items()):
        path = Layout.source_shard_part(raw.dir, "resource_conflicts", shard, "conflicts")
        write_parquet(table, path, RAW_RESOURCE_CONFLICTS_SCHEMA, durable=False)
    return ledger_table(ledger)


def _resolve_subjects(job: ParseJob, finals: list[Path], out: Path, qdir: Path) -> "_UnitProcessor":
    """Read the records every chunk set aside (pipelines.defs.fhir.subjects) against the identifiers of every
    Patient delivered: one match, the record is read for that patient into raw/fhir like any other; none or
    several, it is quarantined saying which. Records in (file, position) order, so the output is the same
    whatever the chunk or worker count. Returns the processor that wrote them (its ledger, code texts, files)."""
    import pyarrow.parquet as pq

    def rows(folder: str) -> list[dict]:
        out_rows: list[dict] = []
        for path in fch.chunk_parts(finals, folder):
            with pq.ParquetFile(path) as f:
                out_rows.extend(f.read().to_pylist())
        return out_rows

    unit = Unit(0, (), len(job.plans))  # a part id no chunk uses
    processor = _UnitProcessor(unit, job.layout.root, out, qdir, job.keyring, job.n_shards, job.strict, {})
    pending = rows(fch.PENDING_PART)
    if pending:
        index: dict[str, set[str]] = {}
        for row in rows(fch.PATIENT_KEYS_PART):
            index.setdefault(row["key"], set()).add(row["source_patient"])
        pending.sort(key=lambda p: (p["source_file"], p["position"], p["where"]))
        for p in pending:
            pids = set().union(*(index.get(k, ()) for k in p["keys"]))
            rtype, path = p["resource_type"], f"{p['resource_type']}.{p['field']}"
            pid, code, reason = resolution(path, p["how"], pids)
            r = orjson.loads(p["record"])
            if pid is None:
                processor._reject(p["source_file"], p["position"], rtype, code, p["where"] + reason, p["record"])
                continue
            meds = orjson.loads(p["medications"]) if p["medications"] else {}
            r[p["field"]] = {"reference": f"Patient/{pid}"}
            processor._resource(r, p["source_file"], p["position"], meds, p["where"])
    processor.buffers.flush()
    processor.buffers.flush_quarantine(qdir)
    return processor


def report_skipped(skipped: list, ledger: Counter, qdir: Path) -> None:
    """Landing paths not read (unsupported, symlinked outside the root, ...): one quarantined file record each."""
    if not skipped:
        return
    for s in skipped:
        ledger[s.rel, LANDING_FILE, "in"] += 1
        ledger[s.rel, LANDING_FILE, "q"] += 1
    rows = [(ASSET, s.rel, 0, None, s.reason_code, s.reason, None) for s in skipped]
    table = pa.Table.from_pylist([dict(zip(QUARANTINE_SCHEMA.names, r, strict=True)) for r in rows],
                                 schema=QUARANTINE_SCHEMA)  # fmt: skip
    write_parquet(table, qdir / "part-landing.parquet", QUARANTINE_SCHEMA, durable=False)


def write_codes(out: Path, descriptions: Counter, rel: str = "codes/codes.parquet") -> None:
    codes = sorted(descriptions.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    table = pa.table(
        {
            "code": [c for (c, _), _ in codes],
            "description": [d for (_, d), _ in codes],
            "n": [n for _, n in codes],
        }
    )
    write_parquet(table, out / rel, RAW_CODES_SCHEMA)


def ledger_table(ledger: Counter) -> pa.Table:
    keys = sorted({(f, t) for f, t, _ in ledger})
    return pa.table(
        {
            "asset": [ASSET] * len(keys),
            "source_file": [f for f, _ in keys],
            "record_type": [t for _, t in keys],
            "n_in": [ledger[f, t, "in"] for f, t in keys],
            "n_out": [ledger[f, t, "out"] for f, t in keys],
            "n_quarantined": [ledger[f, t, "q"] for f, t in keys],
            "n_events": [ledger[f, t, "events"] for f, t in keys],
        }
    )


def _summary(n_files: int, ledger: pa.Table | None, bytes_read: int) -> IngestSummary:
    per_type: dict[str, dict[str, int]] = {}
    for row in ledger.to_pylist() if ledger is not None else ():
        t = per_type.setdefault(row["record_type"], {"in": 0, "out": 0, "quarantined": 0, "events": 0})
        t["in"] += row["n_in"]
        t["out"] += row["n_out"]
        t["quarantined"] += row["n_quarantined"]
        t["events"] += row["n_events"]
    total = {k: sum(t[k] for t in per_type.values()) for k in ("in", "events", "quarantined")}
    return IngestSummary(n_files, total["in"], total["events"], total["quarantined"], bytes_read, per_type)
