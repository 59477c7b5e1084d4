"""Legal R4 that real exporters write and the reader once refused or mis-joined: byte-order marks, UTF-16
files, transaction Bundles whose resources have no id, fullUrls other than `urn:uuid:<id>`, long fractions."""

import json
from pathlib import Path

import polars as pl

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import ingest_fhir
from schemas.layout import Layout
from tests.conftest import TEST_SECRET
from tests.fhir_fixtures import encounter, lab, patient


def _ingest(root: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw events, quarantine rows) of a FHIR ingest of root/landing/fhir."""
    layout = Layout(root)
    ingest_fhir(layout, Keyring(TEST_SECRET), 2, workers=1)
    events = pl.read_parquet(sorted(layout.raw.glob("fhir/events/*/*.parquet")), hive_partitioning=False)
    qfiles = sorted(layout.quarantine("fhir_raw").glob("*.parquet"))
    return events, (pl.read_parquet(qfiles) if qfiles else pl.DataFrame())


def _bundle(entries: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def test_a_byte_order_mark_loses_no_bundle_and_no_first_line(tmp_path: Path):
    fhir = tmp_path / "landing" / "fhir"
    fhir.mkdir(parents=True)
    entries = [{"fullUrl": "urn:uuid:p1", "resource": patient("p1")},
               {"fullUrl": "urn:uuid:o1", "resource": lab("o1", "p1", "2020-01-02T10:00:00Z")}]  # fmt: skip
    (fhir / "b.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(_bundle(entries)).encode())
    (fhir / "w.json").write_bytes(json.dumps(_bundle([{"resource": patient("p2")}])).encode("utf-16"))
    lines = [patient("p3"), lab("o3", "p3", "2020-01-02T10:00:00Z", ref="Patient/")]
    (fhir / "n.ndjson").write_bytes(b"\xef\xbb\xbf" + b"".join(json.dumps(r).encode() + b"\r\n" for r in lines))
    events, quarantine = _ingest(tmp_path)
    assert quarantine.is_empty(), quarantine.drop("record").to_dicts()
    assert sorted(set(events["source_patient"])) == ["p1", "p2", "p3"]
    assert events.filter(pl.col("code").str.starts_with("LOINC")).height == 2


def test_transaction_entries_without_ids_join_their_patient_through_the_fullurl(tmp_path: Path):
    """A POST entry carries no id: the fullUrl is its identity, and the Observation's reference names it."""
    anon = {k: v for k, v in patient("ignored").items() if k != "id"}
    obs = {k: v for k, v in lab("x", "unused", "2020-01-02T10:00:00Z").items() if k != "id"}
    enc = encounter("e1", "unused", "2020-01-02T09:00:00Z")
    uuid = "6f0c1b1e-8f4e-4a7e-9d55-2b1f0c9e1a01"
    (tmp_path / "landing" / "fhir").mkdir(parents=True)
    (tmp_path / "landing" / "fhir" / "t.json").write_text(json.dumps(_bundle([
        {"fullUrl": f"urn:uuid:{uuid}", "resource": anon, "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:obs-1", "resource": {**obs, "subject": {"reference": f"urn:uuid:{uuid}"}}},
        # A fullUrl that is not urn:uuid:<id>: the reference by fullUrl still means this Patient.
        {"fullUrl": "urn:uuid:other-name", "resource": patient("p9")},
        {"fullUrl": "urn:uuid:enc-1", "resource": {**enc, "subject": {"reference": "urn:uuid:other-name"}}},
    ])))  # fmt: skip
    events, quarantine = _ingest(tmp_path)
    assert quarantine.is_empty(), quarantine.drop("record").to_dicts()
    by_patient = {p: set(g["code"]) for (p,), g in events.group_by("source_patient")}
    assert set(by_patient) == {uuid, "p9"}, "no event is filed under a subject that has no Patient"
    assert "MEDS_BIRTH" in by_patient[uuid] and "LOINC//2345-7" in by_patient[uuid]
    assert "MEDS_BIRTH" in by_patient["p9"] and any(c.startswith("ENCOUNTER//") for c in by_patient["p9"])


def test_a_datetime_with_more_than_nine_decimals_is_a_valid_time(tmp_path: Path):
    """R4's dateTime regex allows any number of decimals after the seconds."""
    (tmp_path / "landing" / "fhir").mkdir(parents=True)
    lines = [patient("p1"), lab("o1", "p1", "2020-06-01T10:00:00.123456789012+05:30", ref="Patient/")]
    (tmp_path / "landing" / "fhir" / "a.ndjson").write_text("".join(json.dumps(r) + "\n" for r in lines))
    events, quarantine = _ingest(tmp_path)
    assert quarantine.is_empty(), quarantine.drop("record").to_dicts()
    [t] = events.filter(pl.col("code") == "LOINC//2345-7")["time"].to_list()
    assert str(t) == "2020-06-01 04:30:00.123456"


def test_a_period_known_by_its_end_and_a_quantity_without_a_value_keep_their_events(tmp_path: Path):
    """R4 makes Period.start and Quantity.value optional: such records are dated by the end and keep their code
    (and unit) with no number, instead of being quarantined."""
    (tmp_path / "landing" / "fhir").mkdir(parents=True)
    ended = {k: v for k, v in lab("o1", "p1", "x", ref="Patient/").items() if k != "effectiveDateTime"}
    ended["effectivePeriod"] = {"end": "2020-06-01T10:00:00+02:00"}
    unvalued = {**lab("o2", "p1", "2020-06-02T10:00:00Z", ref="Patient/"),
                "valueQuantity": {"comparator": "<", "unit": "mg/dL"}}  # fmt: skip
    lines = [patient("p1"), ended, unvalued]
    (tmp_path / "landing" / "fhir" / "a.ndjson").write_text("".join(json.dumps(r) + "\n" for r in lines))
    events, quarantine = _ingest(tmp_path)
    assert quarantine.is_empty(), quarantine.drop("record").to_dicts()
    labs = events.filter(pl.col("code") == "LOINC//2345-7").sort("time")
    assert [str(t) for t in labs["time"]] == ["2020-06-01 08:00:00", "2020-06-02 10:00:00"]
    assert labs["numeric_value"].to_list() == [98.0, None] and labs["unit"].to_list() == ["mg/dL", "mg/dL"]
