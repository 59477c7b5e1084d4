"""The landing tree's layout contract: where each form lives, who is delivered how, and that references resolve."""

import re
from collections import Counter

import orjson

from tests.synthetic.conftest import PATIENTS, Landing, subject_id

REFERENCE = re.compile(rb'"reference":"([^"]+)"')
DATETIME = re.compile(rb'"(\d{4}-\d{2}-\d{2})(T[0-9:]+(?:[+-]\d{2}:\d{2}|Z))?"')


def test_fixture_covers_every_form(landing: Landing) -> None:
    s = landing.summary
    assert s["patients"] == PATIENTS == len(landing.patients)
    assert s["delivery"]["bundle"] > 0 and s["delivery"]["bundle_gz"] > 0 and s["delivery"]["ndjson"] > 0
    assert s["notes"]["fhir"] > 0 and s["notes"]["txt"] > 0 and s["notes"]["txt_not_utf8"] > 0
    names = [p.name for p in (landing.root / "dicom").rglob("*") if p.is_file()]
    assert any(n.endswith(".dcm") for n in names) and any("." not in n for n in names)
    assert any(p["deceased"] for p in landing.patients.values())


def test_bundles_are_synthea_style_transactions(landing: Landing) -> None:
    files = sorted((landing.root / "fhir" / "bundles").iterdir())
    assert {p.name.split(".")[0] for p in files} == set(landing.bundles)
    assert all(p.name.endswith((".json", ".json.gz")) for p in files)
    for pid, bundle in landing.bundles.items():
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
        assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"
        for e in bundle["entry"]:
            r = e["resource"]
            assert e["fullUrl"] == f"urn:uuid:{r['id']}"
            assert e["request"] == {"method": "POST", "url": r["resourceType"]}
        assert landing.patients[pid]["delivery"] == "bundle"


def test_each_patient_is_delivered_in_exactly_one_form(landing: Landing) -> None:
    in_bundles = set(landing.bundles)
    in_ndjson = [r["id"] for r in landing.ndjson["Patient"]]
    assert len(in_ndjson) == len(set(in_ndjson))
    assert in_bundles.isdisjoint(in_ndjson)
    assert in_bundles | set(in_ndjson) == set(landing.patients)
    for pid in in_ndjson:
        assert landing.patients[pid]["delivery"] == "ndjson"
        assert landing.patients[pid]["path"] is None
    # Every NDJSON resource of a patient belongs to an NDJSON patient, never to a bundle patient.
    for rtype, rows in landing.ndjson.items():
        if rtype not in ("Patient", "Organization", "Practitioner"):
            assert {subject_id(r) for r in rows} <= set(in_ndjson), rtype


def test_bundle_references_resolve_inside_the_bundle(landing: Landing) -> None:
    for pid, bundle in landing.bundles.items():
        full_urls = {e["fullUrl"] for e in bundle["entry"]}
        for e in bundle["entry"]:
            for ref in _references(e["resource"]):
                assert ref.startswith("urn:uuid:"), ref
                assert ref in full_urls, (e["resource"]["resourceType"], ref)
            if e["resource"]["resourceType"] not in ("Patient", "Organization", "Practitioner"):
                assert subject_id(e["resource"]) == pid


def test_ndjson_references_resolve_to_ndjson_resources(landing: Landing) -> None:
    ids = {(rtype, r["id"]) for rtype, rows in landing.ndjson.items() for r in rows}
    assert {"Organization", "Practitioner"} <= set(landing.ndjson)
    for rows in landing.ndjson.values():
        for r in rows:
            for ref in _references(r):
                rtype, _, rid = ref.partition("/")
                assert (rtype, rid) in ids, ref


def test_truth_counts_match_the_files(landing: Landing) -> None:
    total: Counter = Counter()
    for pid, resources in landing.by_patient().items():
        counts = Counter(r["resourceType"] for r in resources)
        assert counts == Counter(landing.patients[pid]["resources"]), pid
        total += counts
    assert total == Counter(landing.summary["resources"])
    reference = {k: len(landing.ndjson[k]) for k in ("Organization", "Practitioner")}
    assert reference == landing.summary["reference_data"]


def test_nothing_is_dated_after_2025(landing: Landing) -> None:
    dates = [m.group(1).decode() for r in landing.resources() for m in DATETIME.finditer(orjson.dumps(r))]
    assert len(dates) > 10_000
    assert max(dates) < "2026-01-01"
    assert min(dates) >= "1920-01-01"


def _references(resource: dict) -> list[str]:
    return [m.decode() for m in REFERENCE.findall(orjson.dumps(resource))]
