"""A note holding another patient's MRN, SSN, phone, e-mail or street line (any usual writing) has it replaced,
so the PHI audit passes; clinical numbers beside them stay as written."""

import json
import re
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds.build import build_shard
from pipelines.defs.notes.deidentify import deidentify_shard
from pipelines.defs.notes.files import ingest_note_files
from quality.phi_audit import audit
from schemas.layout import Layout
from synthetic import generate_landing
from tests.conftest import TEST_SECRET

KEYS = Keyring(TEST_SECRET)
FRACTIONS = (1.0, 0.0, 0.0)
CLINICAL = (
    "Plt 250, WBC 10.5, I/O 1200/850, BP 140/87, HR 78, Wt 87.5 kg, Na 138, K 4.1. "
    "NS 1000 mL at 125 mL/hr, insulin 12 units. Bed 12, room 4108. Code 99213."
)


def _people(layout: Layout) -> dict[str, dict]:
    files = sorted(layout.raw.glob("*/patients/*/*.parquet"))
    people = pl.read_parquet(files, hive_partitioning=False).unique("source_patient", keep="first")
    return {p["source_patient"]: p for p in people.to_dicts()}


def _planted(other: dict, third: dict) -> tuple[str, list[str]]:
    """A note's lines with another patient's values written otherwise than recorded, and those values' forms
    (digits only, lower-case) that must not be left."""
    mrn = next(i for i in other["identifiers"] if re.fullmatch(r"\d{8}", i))
    ssn = next(i for i in other["identifiers"] if re.fullmatch(r"\d{3}-\d{2}-\d{4}", i))
    phone = re.sub(r"\D", "", next(t for t in other["telecoms"] if "@" not in t))
    email = next(t for t in other["telecoms"] if "@" in t)
    street = next(a for a in other["addresses"] if re.match(r"\d+ ", a))
    number, *words = re.split(r"\s+(?:Apt|Unit|Suite)\b", street)[0].split()
    written_street = " ".join([number, *(w.upper() for w in words[:-1]), {"Avenue": "AVE", "Drive": "DR",
        "Street": "ST", "Road": "RD", "Terrace": "TER", "Lane": "LN"}.get(words[-1], words[-1].upper())])  # fmt: skip
    local = re.sub(r"\D", "", next(t for t in third["telecoms"] if "@" not in t))[-7:]
    text = (
        f"Old chart {mrn[:4]}-{mrn[4:]} merged into this one, ref {mrn} in chart.\n"
        f"Roommate's card: {ssn.replace('-', ' ')}, cell +1 {phone[:3]}.{phone[3:6]}.{phone[6:]}, {email.upper()}\n"
        f"DROPPED OFF AT {written_street} BY A NEIGHBOUR; her friend's cell {local[:3]}-{local[3:]}.\n"
        f"{CLINICAL}\n"
    )
    leaks = [mrn, re.sub(r"\D", "", ssn), phone, local, email.lower(), " ".join(words[:-1]).lower()]
    return text, leaks


@pytest.fixture
def root(tmp_path: Path) -> tuple[Path, list[str]]:
    layout = Layout(tmp_path)
    generate_landing(layout.landing, 3, 7, workers=1)
    ingest_fhir(layout, KEYS, 1)
    people = _people(layout)
    subject = sorted(p.name for p in (layout.landing / "notes").iterdir())[0]
    other, third = (people[k] for k in sorted(people) if k != subject)
    text, leaks = _planted(other, third)
    folder = layout.landing / "notes" / subject
    (folder / "planted.txt").write_text(text, encoding="utf-8")
    meta = json.loads(next(folder.glob("*.json")).read_text(encoding="utf-8"))
    (folder / "planted.json").write_text(json.dumps({**meta, "note_id": "planted"}), encoding="utf-8")
    ingest_note_files(layout, KEYS, 1)
    return tmp_path, leaks


def test_another_patients_ids_phone_and_street_in_a_note_are_replaced(root: tuple[Path, list[str]]):
    path, leaks = root
    layout = Layout(path)
    build_shard(layout, KEYS, 0, FRACTIONS)
    deidentify_shard(layout, KEYS, 0, FRACTIONS)
    notes = pl.read_parquet(sorted(layout.notes.glob("*/*.parquet")))
    planted = [t for t in notes["text"].to_list() if "merged into this one" in t]
    assert len(planted) == 1
    text = planted[0]
    digits = re.sub(r"\D", "", text)
    for leak in leaks:
        assert (leak not in digits) if leak.isdigit() else (leak not in text.lower())
    assert CLINICAL in text  # no lab value, dose, vital sign, bed or billing code touched
    assert (
        text.startswith("Old chart ") and " in chart.\nRoommate's card: " in text and "\nDROPPED OFF AT " in text
    )
    result = audit(path, KEYS)
    assert result.passed, result.by_table()
