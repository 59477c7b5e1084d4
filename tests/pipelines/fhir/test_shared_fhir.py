"""Ingest of the shared public FHIR sets: every resource counted, event counts match an independent count."""

import gzip
import json
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds.build import build_shard
from schemas.layout import Layout
from tests.conftest import TEST_SECRET, shared_dir

MAPPED = {"Patient", "Encounter", "Condition", "Observation", "Procedure", "Immunization", "AllergyIntolerance",
          "DiagnosticReport", "ImagingStudy", "MedicationRequest", "MedicationAdministration"}  # fmt: skip
_VALUE_KEYS = ("valueQuantity", "valueCodeableConcept", "valueString", "valueBoolean", "valueInteger")


def _expected_events(r: dict) -> int:
    """How many events a resource should yield, written from the mapping's spec, not from its code."""
    t = r["resourceType"]
    if t == "Patient":
        race_eth = sum(
            1
            for ext in r.get("extension", [])
            if ext["url"].endswith(("us-core-race", "us-core-ethnicity"))
            for sub in ext.get("extension", [])
            if sub["url"] == "ombCategory"
        )
        return ("gender" in r) + ("birthDate" in r) + ("deceasedDateTime" in r) + race_eth
    if t == "Encounter":  # start, end, and one event per coded reason
        reasons = sum(any(c.get("code") for c in rc.get("coding", [])) for rc in r.get("reasonCode", []))
        return 1 + ("end" in r.get("period", {})) + reasons
    if t == "Observation":
        comps = r.get("component", [])
        has_value = any(k in r for k in _VALUE_KEYS)
        return len(comps) + (1 if has_value or not comps else 0)
    if t == "ImagingStudy":
        return max(1, len(r.get("series", [])))
    # Note texts: one NOTE event per inline text attachment.
    texts = sum(1 for c in r.get("content", []) if _is_text(c.get("attachment", {})))
    texts += sum(1 for a in r.get("presentedForm", []) if _is_text(a))
    return (1 if t in MAPPED else 0) + texts


def _is_text(att: dict) -> bool:
    return "data" in att and att.get("contentType", "").split(";")[0] in ("text/plain", "text/html")


def _link(root: Path, data: Path) -> None:
    (root / "landing").mkdir(parents=True)
    (root / "landing" / "fhir").symlink_to(data)


def _read_all(files: list[Path]) -> list[dict]:
    out = []
    for f in files:
        opener = gzip.open if f.name.endswith(".gz") else open
        if ".ndjson" in f.name:
            with opener(f, "rt") as fh:
                out.extend(json.loads(line) for line in fh if line.strip())
        else:
            with opener(f, "rt") as fh:
                obj = json.load(fh)
            out.extend(e["resource"] for e in obj["entry"]) if obj.get("resourceType") == "Bundle" else out.append(
                obj
            )
    return out


@pytest.mark.slow
def test_synthea_bundles_every_resource_counted_and_events_match(tmp_path: Path):
    data = shared_dir("synthea-fhir-r4") / "bundles"
    _link(tmp_path, data)
    layout = Layout(tmp_path)
    summary = ingest_fhir(layout, Keyring(TEST_SECRET), 4, workers=2)
    resources = _read_all(sorted(data.glob("*.json.gz")))
    per_type_in = Counter(r["resourceType"] for r in resources)
    per_type_events = Counter()
    for r in resources:
        per_type_events[r["resourceType"]] += _expected_events(r)
    assert summary.quarantined == 0
    assert {t: v["in"] for t, v in summary.per_type.items()} == dict(per_type_in)
    assert {t: v["events"] for t, v in summary.per_type.items() if v["events"]} == {
        t: n for t, n in per_type_events.items() if n
    }
    ledger = pl.read_parquet(layout.ledger("fhir_raw"))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
    assert ledger["source_file"].n_unique() == len(list(data.glob("*.json.gz")))

    # Through the MEDS stage: every patient becomes one subject in exactly one shard, nothing lost.
    totals = [build_shard(layout, Keyring(TEST_SECRET), k, (0.8, 0.1, 0.1)) for k in range(4)]
    assert sum(s.events_out for s in totals) == summary.events
    assert sum(sum(s.subjects.values()) for s in totals) == per_type_in["Patient"] == 548
    assert sum(s.quarantined for s in totals) == 0


def test_bulk_ndjson_counts_and_ledger(tmp_path: Path):
    data = shared_dir("synthea-fhir-bulk-ndjson") / "ndjson"
    _link(tmp_path, data)
    summary = ingest_fhir(Layout(tmp_path), Keyring(TEST_SECRET), 2)
    resources = [r for r in _read_all(sorted(data.glob("*.ndjson"))) if "resourceType" in r]
    expected = Counter()
    for r in resources:
        expected[r["resourceType"]] += _expected_events(r)
    assert {t: v["events"] for t, v in summary.per_type.items() if v["events"]} == {
        t: n for t, n in expected.items() if n
    }
    # log.ndjson is the bulk-export log, not FHIR: its lines are quarantined, not silently skipped.
    log_lines = sum(1 for line in (data / "log.ndjson").read_text().splitlines() if line.strip())
    assert summary.quarantined == log_lines
    assert summary.per_type["Patient"]["out"] == 13


def test_us_core_examples_each_parse_or_are_quarantined_with_a_reason(tmp_path: Path):
    data = shared_dir("fhir-us-core-examples") / "examples"
    _link(tmp_path, data)
    layout = Layout(tmp_path)
    summary = ingest_fhir(layout, Keyring(TEST_SECRET), 2)
    n_files = len(list(data.glob("*.json")))
    ledger = pl.read_parquet(layout.ledger("fhir_raw"))
    assert ledger["source_file"].n_unique() == n_files == summary.files
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
    q = pl.read_parquet(sorted(layout.quarantine("fhir_raw").glob("*.parquet")))
    assert q.height == summary.quarantined
    assert q["reason"].str.len_chars().min() > 10
    assert set(q["reason_code"]) <= {
        "MISSING_TIME",
        "UNRESOLVED_REFERENCE",
        "MISSING_CODE",
        "MISSING_SUBJECT_REFERENCE",
    }
    # Strict validation also catches what the fast path does not read: diagnosticreport-cbc.json has a
    # Narrative without its required div.
    strict = ingest_fhir(layout, Keyring(TEST_SECRET), 2, strict=True)
    sq = pl.read_parquet(sorted(layout.quarantine("fhir_raw").glob("*.parquet")))
    extra = sq.filter(pl.col("reason_code") == "INVALID_RESOURCE")
    assert strict.quarantined == summary.quarantined + extra.height
    assert extra.to_dicts()[0]["reason"] == "fails FHIR validation: text.div: model_field_validation.missing"
