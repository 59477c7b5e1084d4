"""Notes from FHIR attachments and .txt files: land on the right subject and time, PHI scrubbed, all counted."""

import base64
import json
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds.build import build_shard
from pipelines.defs.notes.deidentify import deidentify_shard
from pipelines.defs.notes.files import ingest_note_files
from schemas.layout import Layout
from tests.conftest import TEST_SECRET, shared_dir, write_bundle
from tests.fhir_fixtures import patient

KEYS = Keyring(TEST_SECRET)
FRACTIONS = (1.0, 0.0, 0.0)


def _doc(
    did: str, pid: str, text: str, ctype: str = "text/plain; charset=utf-8", date: str = "2021-03-04T10:00:00Z"
) -> dict:
    data = base64.b64encode(text.encode("utf-8")).decode()
    return {
        "resourceType": "DocumentReference", "id": did, "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}]},
        "subject": {"reference": f"urn:uuid:{pid}"}, "date": date,
        "content": [{"attachment": {"contentType": ctype, "data": data}}],
        "context": {"encounter": [{"reference": "urn:uuid:enc-1"}]},
    }  # fmt: skip


def _raw_notes(layout: Layout, source: str) -> pl.DataFrame:
    return pl.read_parquet(sorted(layout.raw.glob(f"{source}/notes/*/*.parquet")), hive_partitioning=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    p = patient(
        "pn1",
        birth="1950-05-06",
        name=[{"family": "Quixley", "given": ["Harriet"]}],
        telecom=[{"system": "phone", "value": "617-555-0199"}],
    )
    write_bundle(
        tmp_path / "landing" / "fhir" / "b.json",
        [
            p,
            _doc(
                "d1", "pn1", "Harriet Quixley (DOB 05/06/1950) seen on 03/04/2021. Call 617-555-0199.\nBP 120/80."
            ),
            _doc(
                "d2",
                "pn1",
                "<html><body><p>Mrs. Quixley is <b>stable</b>.</p><script>x()</script></body></html>",
                "text/html",
            ),
            _doc("d3", "ghost", "Note for nobody."),
        ],
    )
    notes = tmp_path / "landing" / "notes" / "pn1"
    notes.mkdir(parents=True)
    (notes / "n1.txt").write_bytes("Señora Quixley's café visit.".encode("cp1252"))
    (notes / "n1.json").write_text(
        json.dumps({"subject": "pn1", "time": "2022-01-02T08:00:00-05:00", "type": "34117-2"})
    )
    (notes / "20220305T101500__18842-5.txt").write_text("Discharge summary for Harriet Quixley.")
    (notes / "stray.txt").write_text("No sidecar, no convention.")
    return tmp_path


def test_fhir_attachments_become_notes_and_note_events(root: Path):
    layout = Layout(root)
    summary = ingest_fhir(layout, KEYS, 1)
    raw = _raw_notes(layout, "fhir").sort("source_file", "position")
    assert raw.height == 3
    assert raw.filter(pl.col("text").str.contains("stable"))["text"][0] == "Mrs. Quixley is stable."
    assert set(raw["note_type"]) == {"NOTE//LOINC//11506-3"}
    assert summary.per_type["DocumentReference"] == {"in": 3, "out": 3, "quarantined": 0, "events": 3}


def test_note_files_with_sidecar_path_convention_and_other_encodings(root: Path):
    layout = Layout(root)
    counts = ingest_note_files(layout, KEYS, 1)
    assert counts == {"files": 3, "notes": 2, "quarantined": 1}
    raw = _raw_notes(layout, "notes").sort("time")
    assert raw["text"][0] == "Señora Quixley's café visit." and raw["encoding"][0] == "cp1252"
    assert raw["time"].to_list() == [datetime(2022, 1, 2, 13), datetime(2022, 3, 5, 10, 15)]  # noqa: DTZ001
    assert raw["note_type"].to_list() == ["NOTE//LOINC//34117-2", "NOTE//LOINC//18842-5"]
    q = pl.read_parquet(sorted(layout.quarantine("notes_files_raw").glob("*.parquet")))
    assert q["reason_code"].to_list() == ["MISSING_METADATA"] and q["source_file"][0].endswith("stray.txt")


def test_deidentified_notes_are_scrubbed_shifted_and_join_their_events(root: Path):
    layout = Layout(root)
    ingest_fhir(layout, KEYS, 1)
    ingest_note_files(layout, KEYS, 1)
    build_shard(layout, KEYS, 0, FRACTIONS)
    counts = deidentify_shard(layout, KEYS, 0, FRACTIONS)
    assert counts["notes"] == 4 and counts["quarantined"] == 1  # d3's patient does not exist
    notes = pl.read_parquet(layout.notes / "train" / "0.parquet")
    text = "\n".join(notes["text"])
    for phi in ("Quixley", "Harriet", "617-555-0199", "05/06/1950", "03/04/2021"):
        assert phi not in text
    shift = timedelta(days=KEYS.shift_days("pn1"))
    assert set(notes["subject_id"]) == {KEYS.subject_id("pn1")}
    assert datetime(2021, 3, 4, 10) + shift in notes["time"].to_list()  # noqa: DTZ001
    events = pl.read_parquet(layout.meds_shard("train", 0)).filter(pl.col("code").str.starts_with("NOTE//"))
    assert sorted(events["text_value"]) == sorted(notes["note_id"])
    ledger = pl.read_parquet(layout.ledger("notes_deidentified", "0"))
    assert ledger["n_in"].sum() == 5 and ledger["n_quarantined"].sum() == 1


def test_shared_bulk_notes_land_on_the_right_subjects_and_times(tmp_path: Path):
    data = shared_dir("synthea-fhir-bulk-ndjson") / "ndjson"
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "fhir").symlink_to(data)
    layout = Layout(tmp_path)
    ingest_fhir(layout, KEYS, 2)
    expected = []
    for line in (data / "DocumentReference.000.ndjson").read_text().splitlines():
        doc = json.loads(line)
        pid = doc["subject"]["reference"].split("/")[-1]
        when = datetime.fromisoformat(doc["date"]).astimezone().astimezone(tz=None)
        utc = (
            datetime.fromisoformat(doc["date"]).replace(tzinfo=None)
            - datetime.fromisoformat(doc["date"]).utcoffset()
        )
        expected.append((KEYS.subject_id(pid), utc + timedelta(days=KEYS.shift_days(pid))))
        del when
    got = []
    for shard in range(2):
        deidentify_shard(layout, KEYS, shard, FRACTIONS, n_process=1)
        path = layout.notes / "train" / f"{shard}.parquet"
        if path.exists():
            got.extend(pl.read_parquet(path).select("subject_id", "time").rows())
    assert len(expected) == 1215
    assert sorted(got) == sorted(expected)


def test_known_address_parts_keep_their_kind():
    # The raw patients table lists street lines, cities and ZIPs side by side: a city must be replaced by
    # a town and a ZIP by a ZIP, not both by street addresses ("1 Willow Lane, CO 64970 Willow Street").
    from deid import deidentify
    from pipelines.defs.notes.deidentify import known_phi

    patient = {"names": ["George Harper"], "addresses": ["997 Meadowbrook Road", "Louisville", "CO", "80027"]}
    known = known_phi(patient)
    assert known.addresses == ("997 Meadowbrook Road",)
    assert known.cities == ("Louisville",) and known.zips == ("80027",)
    line = "Lives at 997 Meadowbrook Road, Louisville, CO 80027 with his daughter."
    out = deidentify(line, "george", known=known, secret=b"test-secret-0123456789")
    assert "Louisville" not in out and "80027" not in out and "997 Meadowbrook" not in out
    town = out.split(", ")[1]
    assert not any(ch.isdigit() for ch in town)  # a town, not a street address
    assert ", CO 800 with" in out  # the ZIP generalised to its 3-digit prefix, as docs/deidentification.md says
