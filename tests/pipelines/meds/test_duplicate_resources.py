"""One FHIR resource delivered twice (the same `Type/id` in two files: a re-sent file, overlapping bulk
exports) gives its events once; the later copy is quarantined with its file, position and a reason."""

import json
from pathlib import Path

import polars as pl

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds.build import build_shard
from schemas.layout import Layout
from schemas.publish import dataset_files
from tests.conftest import TEST_SECRET, write_bundle
from tests.fhir_fixtures import condition, lab, patient

KEYS = Keyring(TEST_SECRET)
SHARDS = 2


def _ndjson(path: Path, resources: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in resources))


def test_a_resource_delivered_twice_gives_its_events_once(tmp_path: Path):
    fhir = tmp_path / "landing" / "fhir"
    fhir.mkdir(parents=True)
    twice = lab("o-twice", "p1", "2020-02-02T02:02:02Z", ref="Patient/")
    _ndjson(fhir / "Patient.ndjson", [patient("p1")])
    _ndjson(fhir / "Observation.ndjson", [twice, lab("o-once", "p1", "2020-02-02T02:02:02Z", ref="Patient/")])
    _ndjson(fhir / "Observation.resent.ndjson", [twice])  # the same export, delivered again
    # Two resources with identical content and different ids are two events, not a copy.
    write_bundle(fhir / "b.json", [condition("c1", "p1", "2019-05-01"), condition("c2", "p1", "2019-05-01")])
    layout = Layout(tmp_path)
    ingest_fhir(layout, KEYS, SHARDS, workers=1)
    for shard in range(SHARDS):
        build_shard(layout, KEYS, shard, (1.0, 0.0, 0.0))
    data = pl.read_parquet(dataset_files(layout.meds, "data/**/*.parquet"))
    assert data.filter(pl.col("code") == "LOINC//2345-7").height == 2  # o-twice once, o-once once
    assert data.filter(pl.col("code") == "SNOMED//44054006").height == 2
    quarantine = pl.read_parquet(dataset_files(layout.quarantine("meds_data"), "**/*.parquet"))
    assert quarantine.select("source_file", "position", "resource_type", "reason_code").to_dicts() == [
        {"source_file": "landing/fhir/Observation.resent.ndjson", "position": 1, "resource_type": "Observation",
         "reason_code": "DUPLICATE_RESOURCE"}
    ]  # fmt: skip
    assert "o-twice" not in quarantine["reason"][0]
    ledger = pl.read_parquet(dataset_files(layout.quality / "ledger" / "meds_data", "*.parquet"))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
    assert int(ledger["n_quarantined"].sum()) == 1
