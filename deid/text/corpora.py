"""Readers for PHI-annotated corpora: each yields AnnotatedDoc(text, gold spans, known PHI)."""

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from deid.text.known import KnownPhi

FORMATS = ("presidio-research", "clinical-queries", "generator", "brat", "physionet")
PARTS = ("all", "tuning", "check")


@dataclass(frozen=True, slots=True)
class GoldSpan:
    start: int
    end: int
    label: str  # as the corpus names it


@dataclass(frozen=True, slots=True)
class AnnotatedDoc:
    doc_id: str
    text: str
    spans: tuple[GoldSpan, ...]
    known: KnownPhi | None = None
    subject: str | None = None
    unlocated: tuple[str, ...] = field(default=())  # gold labels whose value was not found in the text


def read_corpus(path: str | Path, fmt: str, limit: int | None = None) -> list[AnnotatedDoc]:
    readers = {
        "presidio-research": read_presidio_research,
        "clinical-queries": read_clinical_queries,
        "generator": read_generator,
        "brat": read_brat,
        "physionet": read_physionet,
    }
    if fmt not in readers:
        raise ValueError(f"unknown corpus format {fmt!r}; expected one of {FORMATS}")
    docs = []
    for doc in readers[fmt](Path(path)):
        docs.append(doc)
        if limit is not None and len(docs) >= limit:
            break
    return docs


def in_check_part(patient: str) -> bool:
    """The one patient-level split of a development corpus: a third of the patients (by a hash of the id,
    so the split never depends on the order or number of notes) form the check part, scored only; the rest
    are for tuning and training.

    >>> [in_check_part(p) for p in ("5", "11", "17")]
    [False, True, True]
    """
    return int(hashlib.sha256(patient.encode()).hexdigest(), 16) % 3 == 0


def select_part(docs: list[AnnotatedDoc], part: str) -> list[AnnotatedDoc]:
    """The notes of one part (`all`, `tuning`, `check`) by their patient, or by their own id where they
    have none (each sentence of a sentence corpus is its own unit)."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; expected one of {PARTS}")
    if part == "all":
        return list(docs)
    want = part == "check"
    return [d for d in docs if in_check_part(d.subject if d.subject is not None else d.doc_id) == want]


def _find_file(path: Path, name: str) -> Path:
    if path.is_dir():
        hits = sorted(path.rglob(name))
        if not hits:
            raise FileNotFoundError(f"no {name} under {path}")
        return hits[0]
    return path


def read_presidio_research(path: Path) -> Iterator[AnnotatedDoc]:
    """presidio-research's synth_dataset_v2.json: [{full_text, spans[{entity_type, start_position,
    end_position}], template_id}], end exclusive."""
    items = json.loads(_find_file(path, "*.json").read_text())
    for i, item in enumerate(items):
        spans = tuple(GoldSpan(s["start_position"], s["end_position"], s["entity_type"]) for s in item["spans"])
        yield AnnotatedDoc(f"{i}", item["full_text"], spans)


def read_clinical_queries(path: Path) -> Iterator[AnnotatedDoc]:
    """synthetic-clinical-queries: blocks `===QUERY===`, text, `===PHI_TAGS===`, one JSON
    {identifier_type, value} a line. Values have no offsets: every occurrence of a value is gold."""
    raw = _find_file(path, "synthetic_dataset.txt").read_text()
    for i, block in enumerate(raw.split("===QUERY===")[1:]):
        text, _, tags = block.partition("===PHI_TAGS===")
        text = text.strip("\n")
        spans: list[GoldSpan] = []
        unlocated = []
        for line in tags.strip().splitlines():
            if not line.strip():
                continue
            tag = json.loads(line)
            found = _occurrences(text, tag["value"])
            if not found:
                unlocated.append(tag["identifier_type"])
            spans.extend(GoldSpan(s, e, tag["identifier_type"]) for s, e in found)
        yield AnnotatedDoc(f"q{i}", text, tuple(sorted(set(spans), key=lambda s: (s.start, s.end))),
                           unlocated=tuple(unlocated))  # fmt: skip


def _occurrences(text: str, value: str) -> list[tuple[int, int]]:
    out = []
    for haystack, needle in ((text, value), (text.lower(), value.lower())):
        start = haystack.find(needle)
        while needle and start >= 0:
            out.append((start, start + len(needle)))
            start = haystack.find(needle, start + 1)
        if out:
            break
    return out


_PHYSIONET_HEADER = "START_OF_RECORD="
_PHYSIONET_END = "||||END_OF_RECORD"


def read_physionet(path: Path) -> Iterator[AnnotatedDoc]:
    """The PhysioNet deid gold standard: `id.text` holds records `START_OF_RECORD=<patient>||||<note>||||`
    (one line), the body, `||||END_OF_RECORD`; `id-phi.phrase` one gold span a line, `<patient> <note>
    <start> <end> <type> <text>`, 0-based offsets into the body, end exclusive. A span whose offsets do
    not reproduce its text is an error naming the file and line (never the text)."""
    text_file = _find_file(path, "id.text")
    phrase_file = text_file.with_name("id-phi.phrase")
    gold: dict[tuple[str, str], list[tuple[int, int, int, str, str]]] = {}
    if phrase_file.exists():
        for lineno, line in enumerate(phrase_file.read_text().splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split(" ", 5)
            if len(parts) < 5:
                raise ValueError(f"{phrase_file}:{lineno}: expected <patient> <note> <start> <end> <type> <text>")
            patient, note, start, end, label = parts[:5]
            gold.setdefault((patient, note), []).append(
                (lineno, int(start), int(end), label, parts[5] if len(parts) > 5 else "")
            )
    raw = text_file.read_text()
    pos = 0
    while (head := raw.find(_PHYSIONET_HEADER, pos)) >= 0:
        line_end = raw.find("\n", head)
        header = raw[head + len(_PHYSIONET_HEADER) : line_end].split("||||")
        patient, note = header[0], header[1]
        stop = raw.find(_PHYSIONET_END, line_end)
        if stop < 0:
            raise ValueError(f"{text_file}: record {patient}/{note} has no {_PHYSIONET_END}")
        body = raw[line_end + 1 : stop]
        spans = []
        for lineno, start, end, label, expected in gold.pop((patient, note), []):
            if expected and body[start:end] != expected:
                raise ValueError(
                    f"{phrase_file}:{lineno}: span offsets do not match the text of record {patient}/{note}"
                )
            spans.append(GoldSpan(start, end, label))
        yield AnnotatedDoc(f"{patient}/{note}", body, tuple(sorted(spans, key=lambda s: (s.start, s.end))),
                           subject=patient)  # fmt: skip
        pos = stop + len(_PHYSIONET_END)
    if gold:
        raise ValueError(f"{phrase_file}: {len(gold)} annotated records are not in {text_file.name}")


def read_brat(path: Path) -> Iterator[AnnotatedDoc]:
    """BRAT standoff: NAME.txt with NAME.ann; `T1<TAB>LABEL start end[;start end]<TAB>text` lines."""
    for txt in sorted(path.rglob("*.txt") if path.is_dir() else [path]):
        ann = txt.with_suffix(".ann")
        text = txt.read_text()
        spans = []
        if ann.exists():
            for line in ann.read_text().splitlines():
                if not line.startswith("T"):
                    continue
                _, middle, *_ = line.split("\t")
                label, _, offsets = middle.partition(" ")
                for frag in offsets.split(";"):
                    s, e = frag.split()
                    spans.append(GoldSpan(int(s), int(e), label))
        yield AnnotatedDoc(str(txt.relative_to(path) if path.is_dir() else txt.name), text, tuple(spans))


def read_generator(path: Path) -> Iterator[AnnotatedDoc]:
    """The demo generator's truth under a landing directory (or a root containing `landing/`):
    truth/phi_spans.jsonl lines {note_id, subject, origin: fhir|txt, resource_id | path, spans[{start, end,
    label, text}]}; txt notes at the path (relative to landing), fhir notes as base64 text/plain
    DocumentReference attachments in fhir/bundles/*.json(.gz) and fhir/ndjson/DocumentReference.ndjson;
    truth/patients.jsonl gives each subject's identifiers (the deny list)."""
    landing = path / "landing" if (path / "landing" / "truth").exists() else path
    truth = landing / "truth"
    known: dict[str, KnownPhi] = {}
    patients = truth / "patients.jsonl"
    if patients.exists():
        for line in patients.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                key = next(
                    (str(record[k]) for k in ("subject", "patient", "patient_id", "id") if k in record), None
                )
                if key is not None:
                    known[key] = KnownPhi.from_dict(
                        {k: v for k, v in record.items() if k not in ("subject", "id")}
                    )
    documents: dict[str, str] | None = None
    for line in (truth / "phi_spans.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        note = json.loads(line)
        if note.get("origin") == "fhir":
            if documents is None:
                documents = _fhir_notes(landing / "fhir")
            text = documents.get(note["resource_id"])
            if text is None:
                raise FileNotFoundError(f"DocumentReference {note['resource_id']} not found under {landing}/fhir")
        else:
            text = (landing / note["path"]).read_bytes().decode(note.get("encoding") or "utf-8")
        spans = tuple(GoldSpan(s["start"], s["end"], s["label"]) for s in note["spans"])
        subject = str(note.get("subject")) if note.get("subject") is not None else None
        yield AnnotatedDoc(str(note["note_id"]), text, spans, known.get(subject) if subject else None, subject)


def _fhir_notes(fhir: Path) -> dict[str, str]:
    """DocumentReference id -> decoded text/plain attachment, from bundles and NDJSON."""
    resources = []
    for f in sorted(fhir.glob("bundles/*.json")) + sorted(fhir.glob("bundles/*.json.gz")):
        data = json.loads(gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes())
        resources.extend(e.get("resource", {}) for e in data.get("entry", []))
    for f in sorted(fhir.glob("ndjson/DocumentReference*.ndjson")):
        resources.extend(json.loads(line) for line in f.read_text().splitlines() if line.strip())
    out = {}
    for r in resources:
        if r.get("resourceType") != "DocumentReference":
            continue
        for content in r.get("content", []):
            att = content.get("attachment", {})
            if att.get("contentType", "").startswith("text/plain") and "data" in att:
                out[r["id"]] = base64.b64decode(att["data"]).decode("utf-8")
                break
    return out
