"""FHIR ingest on hand-made files: events, quarantine with reasons, a balanced ledger, worker independence."""

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import ingest_fhir
from schemas.layout import Layout
from tests.conftest import TEST_SECRET, write_bundle, write_ndjson
from tests.fhir_fixtures import condition, encounter, lab, patient


def _ingest(root: Path, **kw):
    layout = Layout(root)
    return layout, ingest_fhir(layout, Keyring(TEST_SECRET), 2, **kw)


def _events(layout: Layout) -> pl.DataFrame:
    return pl.read_parquet(sorted(layout.raw.glob("fhir/events/*/*.parquet")), hive_partitioning=False)


def _quarantine(layout: Layout) -> pl.DataFrame:
    return pl.read_parquet(sorted(layout.quarantine("fhir_raw").glob("*.parquet")))


def _ledger(layout: Layout) -> pl.DataFrame:
    return pl.read_parquet(layout.ledger("fhir_raw"))


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    fhir = tmp_path / "landing" / "fhir"
    write_bundle(
        fhir / "bundles" / "p1.json",
        [
            patient("p1"),
            encounter("e1", "p1", "2020-01-02T10:00:00+01:00", "2020-01-02T11:00:00+01:00"),
            lab("o1", "p1", "2020-01-02T10:30:00Z", value=101.5),
            condition("c1", "p1", "2019-05"),
        ],
    )
    write_bundle(
        fhir / "bundles" / "p2.json.gz", [patient("p2", gender="male"), lab("o2", "p2", "2021-06-01")], gz=True
    )
    write_ndjson(fhir / "ndjson" / "Patient.ndjson", [patient("p3")])
    write_ndjson(
        fhir / "ndjson" / "Observation.ndjson",
        [
            lab("o3", "p3", "2022-02-02T08:00:00-05:00", ref="Patient/"),
            lab("o4", "p3", "2022-02-03", ref="Patient/"),
        ],
    )
    return tmp_path


def test_events_per_resource_follow_the_mapping(landing: Path):
    layout, summary = _ingest(landing)
    ev = _events(layout)
    assert summary.quarantined == 0
    assert summary.per_type["Patient"] == {"in": 3, "out": 3, "quarantined": 0, "events": 6}  # gender + birth
    assert summary.per_type["Encounter"]["events"] == 2  # start and end
    glucose = ev.filter(pl.col("code") == "LOINC//2345-7").sort("time")
    assert glucose.height == 4
    assert glucose["unit"].to_list() == ["mg/dL"] * 4
    first = glucose.row(0, named=True)
    assert first["numeric_value"] == pytest.approx(101.5)
    assert str(first["time"]) == "2020-01-02 10:30:00"  # Z kept as UTC
    enc = ev.filter(pl.col("code") == "ENCOUNTER//AMB").row(0, named=True)
    assert str(enc["time"]) == "2020-01-02 09:00:00"  # +01:00 converted to UTC
    assert ev.filter(pl.col("code") == "SNOMED//44054006")["time"].cast(str).to_list() == [
        "2019-05-01 00:00:00.000000"
    ]
    gender = ev.filter(pl.col("code").str.starts_with("GENDER//"))
    assert gender["time"].is_null().all() and sorted(gender["code"]) == [
        "GENDER//female",
        "GENDER//female",
        "GENDER//male",
    ]


def test_ndjson_references_resolve_to_the_same_patient_id(landing: Path):
    layout, _ = _ingest(landing)
    ev = _events(layout)
    assert set(ev.filter(pl.col("source_file").str.contains("Observation.ndjson"))["source_patient"]) == {"p3"}


def test_bad_records_are_quarantined_with_file_position_and_reason(tmp_path: Path):
    fhir = tmp_path / "landing" / "fhir"
    write_ndjson(
        fhir / "mixed.ndjson",
        [
            patient("ok1"),
            '{"resourceType": "Patient", "id": ',  # malformed JSON, line 2
            {"resourceType": "Spaceship", "id": "x"},  # unknown type, line 3
            lab("bad-date", "ok1", "2021-13-45", ref="Patient/"),  # unparseable date, line 4
            lab("no-tz", "ok1", "2021-03-04T10:00:00", ref="Patient/"),  # a time without zone is not FHIR, line 5
            {
                **lab("bad-value", "ok1", "2021-03-04", ref="Patient/"),
                "valueQuantity": {"value": "high"},
            },  # line 6
            {**lab("no-subject", "ok1", "2021-03-04"), "subject": None},  # line 7
            {
                "resourceType": "Condition",
                "id": "no-code",
                "subject": {"reference": "Patient/ok1"},
                "onsetDateTime": "2020",
            },
            ["not", "an", "object"],  # line 9
        ],
    )
    (fhir / "broken.json").write_text('{"resourceType": "Bundle", "entry": [')
    (fhir / "truncated.json.gz").write_bytes(gzip.compress(b'{"resourceType": "Bundle"}' * 100)[:40])
    layout, summary = _ingest(tmp_path)
    q = _quarantine(layout).sort("source_file", "position")
    got = {(r["source_file"].rsplit("/", 1)[-1], r["position"], r["reason_code"]) for r in q.to_dicts()}
    assert got == {
        ("broken.json", 0, "MALFORMED_JSON"),
        ("truncated.json.gz", 0, "UNREADABLE_FILE"),
        ("mixed.ndjson", 2, "MALFORMED_JSON"),
        ("mixed.ndjson", 3, "UNKNOWN_RESOURCE_TYPE"),
        ("mixed.ndjson", 4, "UNPARSEABLE_DATE"),
        ("mixed.ndjson", 5, "UNPARSEABLE_DATE"),
        ("mixed.ndjson", 6, "INVALID_RESOURCE"),
        ("mixed.ndjson", 7, "MISSING_SUBJECT_REFERENCE"),
        ("mixed.ndjson", 8, "MISSING_CODE"),
        ("mixed.ndjson", 9, "INVALID_RESOURCE"),
    }
    assert summary.per_type["Patient"]["out"] == 1
    # Reasons never carry record values; the record itself is kept for review (quarantine is a PHI zone).
    for row in q.to_dicts():
        assert (
            "2021-13-45" not in row["reason"] and "high" not in row["reason"] and "Spaceship" not in row["reason"]
        )
    assert q.filter(pl.col("position") == 4)["record"][0].startswith('{"resourceType":"Observation"')
    ledger = _ledger(layout)
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
    assert "Spaceship" not in set(ledger["record_type"])  # unknown names never leave the PHI zone
    assert int(ledger["n_in"].sum()) == 11  # 9 lines + 2 unreadable files


def test_strict_mode_rejects_what_fhir_resources_rejects(tmp_path: Path):
    fhir = tmp_path / "landing" / "fhir"
    bad_status = {**encounter("e9", "p1", "2020-01-01T00:00:00Z"), "status": 42, "colour": "not-fhir"}
    write_ndjson(fhir / "r.ndjson", [patient("p1"), bad_status])
    _, lenient = _ingest(tmp_path)
    assert lenient.quarantined == 0  # the fast path does not read Encounter.status
    layout, strict = _ingest(tmp_path, strict=True)
    assert strict.quarantined == 1
    reason = _quarantine(layout)["reason"][0]
    assert "status" in reason and "colour" in reason and "not-fhir" not in reason


def test_output_does_not_depend_on_worker_count(landing: Path, tmp_path_factory):
    layout1, _ = _ingest(landing, workers=1)
    one = _events(layout1).sort("source_file", "position", "code")
    layout2, _ = _ingest(landing, workers=2)
    two = _events(layout2).sort("source_file", "position", "code")
    assert one.equals(two)


def test_reingest_replaces_outputs_and_leaves_no_staging(landing: Path):
    layout, first = _ingest(landing)
    (landing / "landing" / "fhir" / "bundles" / "p1.json").unlink()
    _, second = _ingest(landing)
    assert second.resources < first.resources
    assert "bundles/p1.json" not in set(_events(layout)["source_file"].str.replace("landing/fhir/", ""))
    hidden = [p for p in layout.raw.iterdir() if p.name.startswith(".")]  # only published versions: no staging
    assert [p.name for p in hidden] == [".fhir.versions"] and (layout.raw / "fhir").is_symlink()
    assert not [v for v in hidden[0].iterdir() if v.name.endswith(".staging")]


def test_medication_reference_resolves_to_contained_and_bundle_medications(tmp_path: Path):
    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    med = {"resourceType": "Medication", "id": "m1", "code": {"coding": [{"system": rxnorm, "code": "197361"}]}}
    req = {"resourceType": "MedicationRequest", "id": "r1", "status": "active", "intent": "order",
           "subject": {"reference": "urn:uuid:p1"}, "authoredOn": "2020-01-01",
           "medicationReference": {"reference": "urn:uuid:m1"}}  # fmt: skip
    contained = {**req, "id": "r2", "contained": [{**med, "id": "c"}], "medicationReference": {"reference": "#c"}}
    write_bundle(tmp_path / "landing" / "fhir" / "b.json", [patient("p1"), med, req, contained])
    layout, summary = _ingest(tmp_path)
    assert summary.quarantined == 0
    assert _events(layout).filter(pl.col("code") == "RXNORM//197361").height == 2


def test_single_resource_files_are_read_as_one_record(tmp_path: Path):
    path = tmp_path / "landing" / "fhir" / "Patient-x.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(patient("x")))
    _, summary = _ingest(tmp_path)
    assert summary.per_type["Patient"]["out"] == 1


def test_empty_files_are_quarantined_as_empty_and_the_rest_is_read(tmp_path: Path):
    fhir = tmp_path / "landing" / "fhir"
    write_ndjson(fhir / "Patient.ndjson", [patient("ok1")])
    (fhir / "Observation.ndjson").write_bytes(b"")  # a bulk export that wrote nothing
    (fhir / "Condition.ndjson").write_bytes(b"\n\r\n  \n")  # blank lines only
    (fhir / "bundle.json").write_bytes(b"")
    (fhir / "bom.json").write_bytes(b"\xef\xbb\xbf\n")
    (fhir / "Encounter.ndjson").write_bytes(b"\xef\xbb\xbf\r\n\n")  # a byte-order mark and nothing else
    layout, summary = _ingest(tmp_path)
    q = _quarantine(layout)
    got = sorted((r["source_file"].rsplit("/", 1)[-1], r["position"], r["reason_code"]) for r in q.to_dicts())
    assert got == [(name, 0, "EMPTY_FILE") for name in ("Condition.ndjson", "Encounter.ndjson", "Observation.ndjson",
                                                         "bom.json", "bundle.json")]  # fmt: skip
    assert summary.per_type["Patient"]["out"] == 1
    ledger = _ledger(layout)
    assert ledger.height == 6 and (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
