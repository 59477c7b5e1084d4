"""Writing a landing tree of synthetic patients, in parallel and byte-for-byte reproducible per seed.

Layout under the landing directory (a contract with the FHIR, DICOM and notes ingests):

    fhir/bundles/<patient>.json[.gz]   one transaction bundle per patient (about 1 in 3 gzipped)
    fhir/ndjson/<Type>.ndjson          bulk export of the other patients (about 1 in 4), plus Organization and
                                       Practitioner reference data; each patient is in exactly one of the two
    dicom/<year>/<month>/<file>        DICOM Part 10 files of every ImagingStudy (some named .dcm, some bare)
    notes/<patient>/<note>.txt|.json   plain-text notes (a few in cp1252/Latin-1) and their sidecars
    truth/phi_spans.jsonl              every note's exact PHI spans (text and DocumentReference notes)
    truth/patients.jsonl               every patient's identifiers, delivery form and resource counts
    truth/manifest.json                the summary below; marks the tree as generated (safe to replace)

Each patient depends only on (seed, index), and the shared facilities and staff only on the seed, so the
output is the same for any worker count. The tree is built aside and renamed into place at the end.
"""

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import orjson
from isal import igzip

from synthetic import fhir
from synthetic.imaging import write_study
from synthetic.patient import PatientData, build_patient
from synthetic.people import make_pool

SUBTREES = ("fhir", "dicom", "notes", "truth")
MANIFEST = "truth/manifest.json"
CHUNK = 16  # patients per task: ~0.2 s of work, small enough for a smooth progress bar
INLINE_BELOW = 48  # fewer patients than this are generated in-process (worker start-up costs ~0.5 s)


@dataclass(slots=True)
class PatientResult:
    """What a worker hands back: lines the parent appends in patient order, plus counts."""

    form: str
    gzip: bool
    ndjson: dict[str, list[bytes]]
    truth_notes: list[bytes]
    truth_patient: bytes
    resources: dict[str, int]
    notes_fhir: int
    notes_txt: int
    notes_not_utf8: int
    studies: int
    dicom_files: int
    files: int = 0
    nbytes: int = 0


def _write(path: Path, data: bytes) -> int:
    path.write_bytes(data)
    return len(data)


def _emit(data: PatientData, tmp: Path, made: set[Path]) -> PatientResult:
    """Write one patient's own files (bundle, text notes, DICOM) and return the rest for the parent."""
    person, rec = data.person, data.record
    files = nbytes = 0
    ndjson: dict[str, list[bytes]] = {}
    path = None
    if data.form == "bundle":
        raw = orjson.dumps(fhir.bundle(rec))
        name = f"{person.id}.json"
        if data.gzip:
            raw, name = igzip.compress(raw, mtime=0), name + ".gz"
        path = f"fhir/bundles/{name}"
        nbytes += _write(tmp / path, raw)
        files += 1
    else:
        for res in [fhir.patient(person), *rec.resources]:
            ndjson.setdefault(res["resourceType"], []).append(orjson.dumps(res) + b"\n")
    truth_notes = []
    for doc_id, spans in data.fhir_notes:
        truth_notes.append(
            {"note_id": doc_id, "subject": person.id, "origin": "fhir", "resource_id": doc_id, "spans": spans}
        )
    if data.text_notes:
        (tmp / "notes" / person.id).mkdir(parents=True)
    for note in data.text_notes:
        rel = f"notes/{person.id}/{note.note_id}.txt"
        nbytes += _write(tmp / rel, note.text.encode(note.encoding))
        nbytes += _write(
            tmp / rel.replace(".txt", ".json"), orjson.dumps(note.sidecar, option=orjson.OPT_INDENT_2)
        )
        files += 2
        truth_notes.append(
            {
                "note_id": note.note_id,
                "subject": person.id,
                "origin": "txt",
                "path": rel,
                "encoding": note.encoding,
                "spans": note.spans,
            }
        )
    dicom_files = 0
    for study in data.studies:
        for rel in write_study(tmp / "dicom", study, person, made):
            nbytes += (tmp / "dicom" / rel).stat().st_size
            dicom_files += 1
    counts = {"Patient": 1, **rec.counts()}
    truth_patient = {
        "id": person.id,
        "index": data.index,
        "given": [person.given] + ([person.middle] if person.middle else []),
        "family": person.family,
        "maiden": person.maiden,
        "prefix": person.prefix,
        "gender": person.gender,
        "birth_date": person.birth.isoformat(),
        "deceased": fhir.ts(person.death) if person.death else None,
        "mrn": person.mrn,
        "ssn": person.ssn,
        "phone": person.phone,
        "email": person.email,
        "address": {"line": person.street, "city": person.city, "state": person.state, "postal_code": person.zip},
        "relatives": [{"relation": r.relation, "given": r.given, "family": r.family} for r in person.relatives],
        "delivery": data.form,
        "path": path,
        "resources": counts,
        "notes": {"fhir": len(data.fhir_notes), "txt": len(data.text_notes)},
        "imaging_studies": len(data.studies),
        "dicom_files": dicom_files,
    }
    return PatientResult(
        form=data.form,
        gzip=data.gzip,
        ndjson=ndjson,
        truth_notes=[orjson.dumps(t) + b"\n" for t in truth_notes],
        truth_patient=orjson.dumps(truth_patient) + b"\n",
        resources=counts,
        notes_fhir=len(data.fhir_notes),
        notes_txt=len(data.text_notes),
        notes_not_utf8=sum(n.encoding != "utf-8" for n in data.text_notes),
        studies=len(data.studies),
        dicom_files=dicom_files,
        files=files + dicom_files,
        nbytes=nbytes,
    )


def _chunk(seed: int, start: int, stop: int, tmp: str) -> list[PatientResult]:
    pool, made = make_pool(seed), set()
    return [_emit(build_patient(seed, i, pool), Path(tmp), made) for i in range(start, stop)]


class _Sink:
    """Appends NDJSON and truth lines in patient order and tallies the summary."""

    def __init__(self, tmp: Path, patients: int, seed: int) -> None:
        self.tmp = tmp
        self.handles: dict[str, object] = {}
        self.summary: dict = {
            "patients": patients,
            "seed": seed,
            "delivery": {"bundle": 0, "bundle_gz": 0, "ndjson": 0},
            "resources": {},
            "reference_data": {},
            "notes": {"fhir": 0, "txt": 0, "txt_not_utf8": 0},
            "imaging_studies": 0,
            "dicom_files": 0,
            "files": 0,
            "bytes": 0,
        }

    def _append(self, rel: str, lines: list[bytes]) -> None:
        f = self.handles.get(rel)
        if f is None:
            f = self.handles[rel] = open(self.tmp / rel, "wb")  # noqa: SIM115 (closed in close())
        f.writelines(lines)  # type: ignore[attr-defined]

    def add(self, r: PatientResult) -> None:
        s = self.summary
        s["delivery"]["ndjson" if r.form == "ndjson" else "bundle_gz" if r.gzip else "bundle"] += 1
        for rtype, n in r.resources.items():
            s["resources"][rtype] = s["resources"].get(rtype, 0) + n
        for rtype, lines in r.ndjson.items():
            self._append(f"fhir/ndjson/{rtype}.ndjson", lines)
        self._append("truth/phi_spans.jsonl", r.truth_notes)
        self._append("truth/patients.jsonl", [r.truth_patient])
        s["notes"]["fhir"] += r.notes_fhir
        s["notes"]["txt"] += r.notes_txt
        s["notes"]["txt_not_utf8"] += r.notes_not_utf8
        s["imaging_studies"] += r.studies
        s["dicom_files"] += r.dicom_files
        s["files"] += r.files
        s["bytes"] += r.nbytes

    def close(self, seed: int) -> dict:
        pool = make_pool(seed)
        self._append(
            "fhir/ndjson/Organization.ndjson",
            [orjson.dumps(fhir.organization(o)) + b"\n" for o in pool.organizations],
        )
        self._append(
            "fhir/ndjson/Practitioner.ndjson",
            [orjson.dumps(fhir.practitioner(p, pool)) + b"\n" for p in pool.practitioners],
        )
        self.summary["reference_data"] = {
            "Organization": len(pool.organizations),
            "Practitioner": len(pool.practitioners),
        }
        for f in self.handles.values():
            f.close()  # type: ignore[attr-defined]
        s = self.summary
        s["resources"] = dict(sorted(s["resources"].items()))
        s["files"] += len(self.handles) + 1  # NDJSON and truth files, and the manifest written next
        s["bytes"] += sum((self.tmp / rel).stat().st_size for rel in self.handles)
        return s


def _check_target(out: Path) -> None:
    if (out / MANIFEST).exists():
        return
    for name in SUBTREES:
        if (out / name).exists() and any(p.is_file() for p in (out / name).rglob("*")):
            raise FileExistsError(
                f"{out / name} holds files that `longitude generate` did not write; refusing to replace them. "
                f"Choose an empty --out directory."
            )


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace the four subtrees with the new ones: each rename is atomic, old trees are removed after."""
    trash = out / f".replaced-{os.getpid()}"
    trash.mkdir()
    for name in SUBTREES:
        if (out / name).exists():
            (out / name).rename(trash / name)
        (tmp / name).rename(out / name)
    shutil.rmtree(trash)
    shutil.rmtree(tmp)


def generate_landing(
    out: Path,
    patients: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
    *,
    workers: int | None = None,
) -> dict:
    """Write `patients` synthetic patients under `out` (the landing directory itself) and return a summary.

    `progress` is called with the number of patients just finished (an increment, as rich's `advance`).
    `workers` defaults to the CPU count (1 below INLINE_BELOW patients); the output is identical for any value.
    """
    if patients < 1:
        raise ValueError(f"patients must be >= 1, got {patients}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _check_target(out)
    tmp = out / f".generating-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    for rel in ("fhir/bundles", "fhir/ndjson", "dicom", "notes", "truth"):
        (tmp / rel).mkdir(parents=True)
    sink = _Sink(tmp, patients, seed)
    chunks = [(seed, a, min(a + CHUNK, patients), str(tmp)) for a in range(0, patients, CHUNK)]
    if workers is None:
        workers = 1 if patients < INLINE_BELOW else os.cpu_count() or 1
    workers = max(1, min(workers, len(chunks)))
    try:
        if workers == 1:
            for args in chunks:
                _collect(sink, _chunk(*args), progress)
        else:
            # spawn, not fork: the caller may run threads (rich's progress refresher), and fork copies locks
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as ex:
                for results in ex.map(_chunk, *zip(*chunks, strict=True)):
                    _collect(sink, results, progress)
        summary = sink.close(seed)
        (tmp / MANIFEST).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _collect(sink: _Sink, results: list[PatientResult], progress: Callable[[int], None] | None) -> None:
    for r in results:
        sink.add(r)
    if progress is not None:
        progress(len(results))
