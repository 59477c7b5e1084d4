"""Coded values, encounter reasons and birth years become codes in MEDS, where code-only tools can see them."""

from datetime import timedelta
from pathlib import Path

import polars as pl

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds.build import build_shard
from schemas.layout import Layout
from tests.conftest import TEST_SECRET, write_bundle
from tests.fhir_fixtures import encounter, lab, patient

KEYS = Keyring(TEST_SECRET)
SNOMED = "http://snomed.info/sct"


def _smoking(oid: str, pid: str, when: str, answer: str) -> dict:
    obs = lab(oid, pid, when, code="72166-2")
    del obs["valueQuantity"]
    obs["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": answer, "display": "Never smoker"}]}
    return obs


def _typed_encounter(eid: str, pid: str, start: str, end: str, etype: str) -> dict:
    enc = encounter(eid, pid, start, end)
    enc["type"] = [{"coding": [{"system": SNOMED, "code": etype}]}]
    enc["reasonCode"] = [{"coding": [{"system": SNOMED, "code": "444814009"}]}, {"text": "uncoded reason"}]
    return enc


def test_coded_answers_and_encounter_types_get_codes_and_every_subject_a_birth_year(tmp_path: Path):
    fhir = tmp_path / "landing" / "fhir"
    write_bundle(fhir / "a.json", [
        patient("a", birth="1971-06-30"),
        _smoking("s1", "a", "2020-01-01T10:00:00Z", "266919005"),
        _typed_encounter("e1", "a", "2020-01-01T09:00:00Z", "2020-01-01T11:00:00Z", "185349003"),
        lab("l1", "a", "2020-01-01T10:05:00Z"),
    ])  # fmt: skip
    layout = Layout(tmp_path)
    ingest_fhir(layout, KEYS, 1)
    build_shard(layout, KEYS, 0, (1.0, 0.0, 0.0))
    data = pl.read_parquet(layout.meds_shard("train", 0))
    codes = data["code"].to_list()
    answer = data.filter(pl.col("code") == "LOINC//72166-2//SNOMED//266919005")
    original = data.filter(pl.col("code") == "LOINC//72166-2")
    assert answer.height == 1 and original.height == 1, "the original row stays; one companion is added"
    assert original["text_value"].to_list() == ["SNOMED//266919005"]
    assert answer["time"].to_list() == original["time"].to_list() and answer["text_value"].to_list() == [None]
    assert "ENCOUNTER//AMB//SNOMED//185349003" in codes and "ENCOUNTER_END//AMB//SNOMED//185349003" in codes
    assert not any(c.startswith("LOINC//2345-7//") for c in codes), "numeric rows get no companion"
    reason = data.filter(pl.col("code").str.starts_with("ENCOUNTER_REASON//"))
    assert reason["code"].to_list() == ["ENCOUNTER_REASON//SNOMED//444814009"], "a coded reason, not a text one"
    assert reason["time"].to_list() == data.filter(pl.col("code") == "ENCOUNTER//AMB")["time"].to_list()
    birth = data.filter(pl.col("code") == "MEDS_BIRTH")["time"].item()
    year = data.filter(pl.col("code") == "BIRTH//YEAR")
    assert year["time"].to_list() == [None], "a static row"
    assert year["numeric_value"].to_list() == [float(birth.year)], "the shifted birth's year"
    assert birth.year in (1971, 1970) and birth <= data["time"].drop_nulls().min() + timedelta(days=1)
