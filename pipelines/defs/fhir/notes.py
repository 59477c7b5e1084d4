"""Note texts inside FHIR: DocumentReference and DiagnosticReport attachments (base64 text/plain, text/html)."""

import base64
import binascii
from datetime import datetime

from pipelines.defs.fhir.primitives import InvalidRecordError, first_coding, parse_datetime, reference_id
from pipelines.text_decoding import decode_bytes, html_to_text, looks_binary
from schemas.codes import vocab_code, vocabulary
from schemas.notes import NOTE_CODE_PREFIX

# (note index within the resource, time, type code, type display, encounter id, text, encoding)
Note = tuple[int, datetime, str, str | None, str | None, str, str]
_TEXT_TYPES = ("text/plain", "text/html", "application/xhtml+xml")


def _attachments(items: object, path: str) -> list[dict]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise InvalidRecordError("INVALID_RESOURCE", f"{path} is not a list")
    return [a for a in items if isinstance(a, dict)]


def _decode(att: dict, path: str) -> tuple[str, str] | None:
    """(text, encoding) of an inline text attachment; None for other content (PDF, URL-only)."""
    ctype = att.get("contentType")
    if not isinstance(ctype, str) or ctype.split(";")[0].strip().lower() not in _TEXT_TYPES or "data" not in att:
        return None
    try:
        raw = base64.b64decode(att["data"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise InvalidRecordError("INVALID_RESOURCE", f"{path}.data is not base64") from None
    charset = None
    for part in ctype.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"')
    if looks_binary(raw):
        raise InvalidRecordError("BINARY_NOTE", f"{path}.data is binary, not {ctype.split(';')[0].strip()}")
    text, encoding = decode_bytes(raw, charset)
    if ctype.split(";")[0].strip().lower() != "text/plain":
        text = html_to_text(text)
    return text, encoding


def _type(concept: object, path: str) -> tuple[str, str | None]:
    try:
        system, code, display = first_coding(concept, path)
    except InvalidRecordError as err:
        if err.reason_code != "MISSING_CODE":
            raise
        return vocab_code(NOTE_CODE_PREFIX, "UNKNOWN"), None
    return vocab_code(NOTE_CODE_PREFIX, vocabulary(system), code), display


def document_reference_notes(r: dict) -> tuple[str, list[Note]]:
    pid = reference_id(r.get("subject"), "DocumentReference.subject") if r.get("subject") else None
    if pid is None:
        raise InvalidRecordError("MISSING_SUBJECT_REFERENCE", "DocumentReference.subject is missing")
    ctx = r.get("context") if isinstance(r.get("context"), dict) else {}
    if r.get("date") is not None:
        time = parse_datetime(r["date"], "DocumentReference.date")
    elif isinstance(ctx.get("period"), dict) and ctx["period"].get("start"):
        time = parse_datetime(ctx["period"]["start"], "DocumentReference.context.period.start")
    else:
        raise InvalidRecordError("MISSING_TIME", "DocumentReference has no date or context.period.start")
    unknown = (f"{NOTE_CODE_PREFIX}//UNKNOWN", None)
    code, display = _type(r.get("type"), "DocumentReference.type") if r.get("type") else unknown
    encounters = ctx.get("encounter") or []
    encounter = reference_id(encounters[0], "DocumentReference.context.encounter") if encounters else None
    notes = []
    for i, content in enumerate(_attachments(r.get("content"), "DocumentReference.content")):
        decoded = _decode(content.get("attachment") or {}, "DocumentReference.content.attachment")
        if decoded is not None:
            notes.append((i, time, code, display, encounter, *decoded))
    return pid, notes


def diagnostic_report_notes(r: dict, time: datetime) -> list[Note]:
    forms = _attachments(r.get("presentedForm"), "DiagnosticReport.presentedForm")
    if not forms:
        return []
    code, display = _type(r.get("code"), "DiagnosticReport.code")
    enc_ref = r.get("encounter")
    enc = reference_id(enc_ref, "DiagnosticReport.encounter") if isinstance(enc_ref, dict) else None
    notes = []
    for i, att in enumerate(forms):
        decoded = _decode(att, "DiagnosticReport.presentedForm")
        if decoded is not None:
            notes.append((i, time, code, display, enc, *decoded))
    return notes
