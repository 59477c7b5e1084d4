"""Note files under landing/notes/: `.txt` with a JSON sidecar, or a path naming subject, time and type.

Sidecar `<name>.json`: {"subject": "<source patient id>", "time": "<ISO 8601>", "type": "<LOINC code or
VOCAB//code>", "type_display": "...", "encounter": "<id>", "note_id": "<id>"}; subject and time are required.
Path convention without a sidecar: `<subject>/<YYYYMMDD>[T<HHMMSS>]__<type>.txt` (UTC).
"""

import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pyarrow as pa

from deid.pseudonym import Keyring
from pipelines import json_bytes
from pipelines.defs.fhir.primitives import InvalidRecordError, parse_datetime
from pipelines.landing import scan_landing
from pipelines.ledger import write_ledger
from pipelines.text_decoding import decode_bytes, looks_binary
from schemas import quarantine as q
from schemas.io import staging_dir, swap_dir, write_parquet
from schemas.layout import Layout
from schemas.ledger import LANDING_FILE, LEDGER_SCHEMA
from schemas.notes import NOTE_CODE_PREFIX, RAW_NOTES_SCHEMA
from schemas.quarantine import QUARANTINE_SCHEMA
from schemas.raw import RAW_EVENTS_SCHEMA
from schemas.values import plausible_time

ASSET = "notes_files_raw"
SOURCE = "notes"
_RECORD_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError, OverflowError, RecursionError)
_PATH_NAME = re.compile(r"(?P<date>\d{8})(?:T(?P<clock>\d{6}))?__(?P<type>[^/]+)\.txt", re.IGNORECASE)


def note_type_code(value: str | None) -> str:
    """`34117-2` -> NOTE//LOINC//34117-2; `SNOMED//x` -> NOTE//SNOMED//x; nothing -> NOTE//UNKNOWN."""
    if not value:
        return f"{NOTE_CODE_PREFIX}//UNKNOWN"
    return f"{NOTE_CODE_PREFIX}//{value}" if "//" in value else f"{NOTE_CODE_PREFIX}//LOINC//{value}"


_TEXT_FIELDS = ("type", "type_display", "encounter", "note_id")  # optional; a string when present


def _meta(path: Path) -> dict:
    sidecar = path.with_suffix(".json")
    if sidecar.exists():
        try:
            meta = json_bytes.loads(sidecar.read_bytes())
        except orjson.JSONDecodeError:
            raise InvalidRecordError(q.INVALID_SIDECAR, "sidecar is not valid JSON") from None
        if not isinstance(meta, dict):
            raise InvalidRecordError(q.INVALID_SIDECAR, "sidecar is not a JSON object")
        if not isinstance(meta.get("subject"), str) or not meta["subject"]:
            raise InvalidRecordError(q.MISSING_SUBJECT_REFERENCE, "sidecar.subject is missing or not a string")
        if meta.get("time") is None:
            raise InvalidRecordError("MISSING_TIME", "sidecar has no time")
        for name in _TEXT_FIELDS:
            if meta.get(name) is not None and not isinstance(meta[name], str):
                raise InvalidRecordError(q.INVALID_SIDECAR, f"sidecar.{name} is not a string")
        return {**meta, "time": parse_datetime(meta["time"], "sidecar.time")}
    m = _PATH_NAME.fullmatch(path.name)
    if not m:
        raise InvalidRecordError(
            "MISSING_METADATA", "no sidecar, and the path does not name subject, time and type"
        )
    try:
        stamp = datetime.strptime(m["date"] + (m["clock"] or "000000"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRecordError(q.UNPARSEABLE_DATE, "the time in the file name is not a date") from None
    if not plausible_time(stamp.replace(tzinfo=None)):
        raise InvalidRecordError(q.IMPLAUSIBLE_DATE, "the time in the file name is outside the plausible range")
    return {"subject": path.parent.name, "time": stamp.replace(tzinfo=None), "type": m["type"]}


def _is_note_file(path: Path) -> bool:
    """A .txt note, or a .json sidecar beside one (read with its note); any other file is reported."""
    suffix = path.suffix.lower()
    return suffix == ".txt" or (suffix == ".json" and path.with_suffix(".txt").exists())


def _read_note(path: Path) -> tuple[dict, str, str]:
    """(metadata, text, encoding) of one note file, or InvalidRecordError naming the field."""
    meta = _meta(path)
    raw = path.read_bytes()
    if looks_binary(raw):
        raise InvalidRecordError(q.BINARY_NOTE, "note body is binary, not text")
    text, encoding = decode_bytes(raw)
    return meta, text, encoding


def ingest_note_files(layout: Layout, keyring: Keyring, n_shards: int) -> dict[str, int]:
    """Read every .txt note; write raw notes and NOTE events per shard, quarantine and ledger."""
    scan = scan_landing(layout.landing_notes, layout.root, accept=_is_note_file)
    files = [p for p in scan.files if p.suffix.lower() == ".txt"]
    notes: list[dict] = []
    rejects: list[tuple] = [(ASSET, s.rel, 0, LANDING_FILE, s.reason_code, s.reason, None) for s in scan.skipped]
    for path in files:
        rel = str(path.relative_to(layout.root))
        try:
            meta, text, encoding = _read_note(path)
        except InvalidRecordError as err:
            rejects.append((ASSET, rel, 1, "note", err.reason_code, err.reason, None))
            continue
        except (OSError, *_RECORD_ERRORS) as err:
            reason = f"note or sidecar unreadable ({type(err).__name__})"
            rejects.append((ASSET, rel, 1, "note", q.UNREADABLE_FILE, reason, None))
            continue
        subject = meta["subject"]
        origin = meta.get("note_id") or rel
        notes.append(
            {
                "source_patient": subject,
                "time": meta["time"],
                "note_id": keyring.token("note", f"file/{origin}"),
                "note_type": note_type_code(meta.get("type")),
                "type_display": meta.get("type_display"),
                "encounter": meta.get("encounter"),
                "text": text,
                "encoding": encoding,
                "source_file": rel,
                "position": 1,
            }
        )
    _write(layout, keyring, n_shards, notes, rejects)
    return {"files": len(files), "notes": len(notes), "quarantined": len(rejects)}


def _write(layout: Layout, keyring: Keyring, n_shards: int, notes: list[dict], rejects: list[tuple]) -> None:
    final = layout.raw / SOURCE
    out = staging_dir(final)
    frame = pl.DataFrame(notes, schema=pl.from_arrow(RAW_NOTES_SCHEMA.empty_table()).schema) if notes else None
    if frame is not None:
        shards = frame["source_patient"].map_elements(lambda p: keyring.shard(p, n_shards), return_dtype=pl.Int64)
        frame = frame.with_columns(shards.alias("__shard"))
        for shard in sorted(frame["__shard"].unique()):
            part = frame.filter(pl.col("__shard") == shard).sort("source_patient", "time", "note_id")
            write_parquet(part.to_arrow(), Layout.source_shard_part(out, "notes", shard), RAW_NOTES_SCHEMA)
            events = part.select(
                "source_patient",
                "time",
                pl.col("note_type").alias("code"),
                pl.lit(None, pl.Float32).alias("numeric_value"),
                pl.col("note_id").alias("text_value"),
                pl.lit(None, pl.String).alias("unit"),
                pl.lit("note").alias("resource_type"),
                "source_file",
                "position",
            )
            write_parquet(events.to_arrow(), Layout.source_shard_part(out, "events", shard), RAW_EVENTS_SCHEMA)
    swap_dir(out, final)
    qtable = pa.Table.from_pylist(
        [dict(zip(QUARANTINE_SCHEMA.names, r, strict=True)) for r in rejects], schema=QUARANTINE_SCHEMA
    )
    write_parquet(qtable, layout.quarantine(ASSET) / "part-00000.parquet", QUARANTINE_SCHEMA)
    rows = [
        {
            "asset": ASSET,
            "source_file": n["source_file"],
            "record_type": "note",
            "n_in": 1,
            "n_out": 1,
            "n_quarantined": 0,
            "n_events": 1,
        }
        for n in notes
    ]
    rows += [
        {
            "asset": ASSET,
            "source_file": r[1],
            "record_type": r[3],
            "n_in": 1,
            "n_out": 0,
            "n_quarantined": 1,
            "n_events": 0,
        }
        for r in rejects
    ]
    ledger = pa.Table.from_pylist(sorted(rows, key=lambda r: r["source_file"]), schema=LEDGER_SCHEMA)
    write_ledger(ledger, layout.ledger(ASSET), layout, keyring)
