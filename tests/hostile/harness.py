"""Running one reader on a hostile case: a fresh root with the case's files in landing/, the reader's ingest,
and what came out (quarantine rows, ledger, accepted records, raw identifiers) for the assertions."""

import base64
import gzip
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from deid.pseudonym import Keyring
from schemas.layout import Layout
from schemas.ledger import LANDING_FILE
from schemas.publish import dataset_files
from tests.conftest import TEST_SECRET

KEYRING = Keyring(TEST_SECRET)
N_SHARDS = 2
CASE_FILES = ("expected.yaml",)


@dataclass(frozen=True)
class Outcome:
    quarantine: list[dict]  # asset, source_file, position, reason_code, reason (record left out)
    ledger: pl.DataFrame
    accepted: int  # records out, landing-file rows excluded
    identifiers: set[str]  # raw patients' identifiers (what the PHI audit's deny list will know)
    text: str  # every message a user or the event log could see: reasons, ledger, summary


def _read(base: Path) -> pl.DataFrame | None:
    files = [p for p in dataset_files(base, "**/*.parquet")] if base.exists() else []
    return pl.concat([pl.read_parquet(p) for p in files], how="diagonal_relaxed") if files else None


def _outcome(layout: Layout, asset: str, summary: object) -> Outcome:
    q = _read(layout.quarantine(asset))
    rows = q.drop("record").to_dicts() if q is not None else []
    ledger = pl.read_parquet(layout.ledger(asset))
    accepted = int(ledger.filter(pl.col("record_type") != LANDING_FILE)["n_out"].sum())
    ids: set[str] = set()
    for name in ("fhir", "notes", "tables", "dicom"):
        for part in (layout.raw / name).rglob("patients/**/*.parquet") if (layout.raw / name).exists() else ():
            for v in pl.read_parquet(part)["identifiers"].to_list():
                ids.update(v or ())
    text = "\n".join([*(str(r["reason"]) for r in rows), ledger.write_csv(), repr(summary)])
    return Outcome(rows, ledger, accepted, ids, text)


def run_fhir(root: Path) -> Outcome:
    from pipelines.defs.fhir.ingest import ASSET, ingest_fhir

    layout = Layout(root)
    summary = ingest_fhir(layout, KEYRING, N_SHARDS, workers=1)
    return _outcome(layout, ASSET, summary)


def run_tables(root: Path) -> Outcome:
    from pipelines.defs.tables.ingest import ingest_tables
    from pipelines.defs.tables.names import ASSET

    layout = Layout(root)
    summary = ingest_tables(layout, KEYRING, N_SHARDS)
    return _outcome(layout, ASSET, summary)


def run_notes(root: Path) -> Outcome:
    from pipelines.defs.notes.files import ASSET, ingest_note_files

    layout = Layout(root)
    summary = ingest_note_files(layout, KEYRING, N_SHARDS)
    return _outcome(layout, ASSET, summary)


def run_dicom(root: Path) -> Outcome:
    from pipelines.defs.dicom.build import build_instances
    from pipelines.settings import Settings
    from schemas.imaging import INSTANCES_ASSET

    settings = Settings(root=root, secret=TEST_SECRET, n_shards=N_SHARDS)
    summary = build_instances(settings, workers=1)
    return _outcome(settings.layout, INSTANCES_ASSET, summary)


READERS = {  # reader folder -> (landing subfolder, runner)
    "fhir": ("fhir", run_fhir),
    "tables": ("tables/src", run_tables),
    "notes": ("notes", run_notes),
    "dicom": ("dicom", run_dicom),
}


def land(case: Path, reader: str, root: Path, build: list[str]) -> Path:
    """Copy the case's files into the reader's landing folder, then run its builders there."""
    landing = root / "landing" / READERS[reader][0]
    landing.mkdir(parents=True, exist_ok=True)
    for f in sorted(case.iterdir()):
        if f.name not in CASE_FILES and f.is_file():
            shutil.copy(f, landing / f.name)
    for name in build:
        BUILDERS[name](landing, root)
    return landing


# Builders: inputs that must not be tracked as files (binary, gzip, DICOM, symlinks), made from code.


def _lines_to_ndjson(landing: Path, root: Path) -> None:
    """lines.json (a JSON list of raw line strings, bad ones included) -> data.ndjson."""
    lines = json.loads((landing / "lines.json").read_text())
    (landing / "lines.json").unlink()
    (landing / "data.ndjson").write_text("".join(f"{line}\n" for line in lines))


def _truncated_gzip(landing: Path, root: Path) -> None:
    """data.ndjson -> data.ndjson.gz cut off before its end: the lines before the cut are read."""
    raw = gzip.compress((landing / "data.ndjson").read_bytes())
    (landing / "data.ndjson").unlink()
    (landing / "data.ndjson.gz").write_bytes(raw[: len(raw) - 12])


def _as_medication_export(landing: Path, root: Path) -> None:
    """data.ndjson.gz -> Medication.ndjson.gz: bulk exports' Medication file is read ahead of the others."""
    (landing / "data.ndjson.gz").rename(landing / "Medication.ndjson.gz")


def _pdf_attachment(landing: Path, root: Path) -> None:
    """Replace the placeholder attachment data of every bundle with a PDF's bytes, labelled text/plain."""
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\x00\x01\x02" * 4
    for f in landing.glob("*.json"):
        f.write_text(f.read_text().replace("PDF_BYTES_BASE64", base64.b64encode(pdf).decode()))


def _binary_note(landing: Path, root: Path) -> None:
    (landing / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (landing / "binary.json").write_text('{"subject": "p1", "time": "2020-01-02T03:04:05Z", "type": "11506-3"}')


def _latin1_csv(landing: Path, root: Path) -> None:
    """Every .csv.utf8 file rewritten as cp1252 bytes named .csv (a Windows extract)."""
    for f in landing.glob("*.csv.utf8"):
        f.with_suffix("").write_bytes(f.read_text(encoding="utf-8").encode("cp1252"))
        f.unlink()


def _symlinked_folder_inside(landing: Path, root: Path) -> None:
    """Move the landing files to a folder elsewhere in the root and link it from landing/."""
    elsewhere = root / "elsewhere" / landing.name
    elsewhere.mkdir(parents=True)
    for f in list(landing.iterdir()):
        shutil.move(f, elsewhere / f.name)
    os.symlink(elsewhere, landing / "linked")


def _symlink_outside(landing: Path, root: Path) -> None:
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir()
    (outside / "stray.json").write_text('{"resourceType": "Patient", "id": "outsider"}')
    os.symlink(outside, landing / "outside")


def _symlink_loop(landing: Path, root: Path) -> None:
    (landing / "sub").mkdir()
    os.symlink(landing, landing / "sub" / "back")


def _duplicate_route(landing: Path, root: Path) -> None:
    """A second link to a file already in landing: read once, the second route reported."""
    first = sorted(p for p in landing.iterdir() if p.is_file())[0]
    os.symlink(first, landing / f"zz-again{''.join(first.suffixes)}")


def _tables_patients_outside(landing: Path, root: Path) -> None:
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir()
    (outside / "patients.csv").write_text("id,name,mrn,birth\np9,Zebediah Quigley,MRN-9,1961-04-12\n")
    os.symlink(outside / "patients.csv", landing / "patients_z.csv")


def _broken_symlink(landing: Path, root: Path) -> None:
    os.symlink(root / "nowhere.json", landing / "broken.json")


def _dicom_files(landing: Path, root: Path) -> None:
    """Two good CT headers (two patients, each its own study and series), a truncated one, and a text file in
    the DICOM tree."""
    from tests.dicom.conftest import make_instance

    for i in (1, 2):
        study = f"1.2.826.0.1.3680043.9.7.{i}"
        ds = make_instance(patient_id=f"MRN-{i}", study_uid=study, series_uid=f"{study}.2",
                           sop_uid=f"1.2.826.0.1.3680043.9.7.1.2.{i}", instance_number=i)  # fmt: skip
        ds.save_as(landing / f"ct{i}.dcm", enforce_file_format=True)
    bad = make_instance(patient_id="MRN-3", sop_uid="1.2.826.0.1.3680043.9.7.1.2.3")
    bad.save_as(landing / "ct3.dcm", enforce_file_format=True)
    data = (landing / "ct3.dcm").read_bytes()
    (landing / "ct3.dcm").write_bytes(data[: len(data) - 20])  # cut inside the last header element


BUILDERS = {
    "ndjson": _lines_to_ndjson,
    "truncated_gzip": _truncated_gzip,
    "as_medication_export": _as_medication_export,
    "pdf_attachment": _pdf_attachment,
    "binary_note": _binary_note,
    "latin1_csv": _latin1_csv,
    "symlinked_folder_inside": _symlinked_folder_inside,
    "symlink_outside": _symlink_outside,
    "symlink_loop": _symlink_loop,
    "duplicate_route": _duplicate_route,
    "broken_symlink": _broken_symlink,
    "tables_patients_outside": _tables_patients_outside,
    "dicom_files": _dicom_files,
}
