"""Notes and their PHI truth: sidecars agree with the notes, and every PHI string inserted has an exact span."""

import re
from datetime import datetime, timedelta

import orjson

from synthetic.notes import NOTE_TYPES
from synthetic.phi_text import FULL_DATE_STYLES, LABELS, format_date
from tests.synthetic.conftest import Landing

NOTE_CODES = {code for code, _ in NOTE_TYPES.values()}


def _docs(landing: Landing) -> dict[str, dict]:
    return {r["id"]: r for r in landing.resources() if r["resourceType"] == "DocumentReference"}


def test_every_note_has_one_truth_line(landing: Landing) -> None:
    truth = landing.truth_notes()
    docs = _docs(landing)
    fhir = {t["resource_id"] for t in truth if t["origin"] == "fhir"}
    txt = {t["path"] for t in truth if t["origin"] == "txt"}
    assert fhir == set(docs)
    assert txt == {str(p.relative_to(landing.root)) for p in (landing.root / "notes").rglob("*.txt")}
    assert len(truth) == len(fhir) + len(txt) == landing.summary["notes"]["fhir"] + landing.summary["notes"]["txt"]


def test_spans_are_exact_and_ordered(landing: Landing) -> None:
    docs = _docs(landing)
    for t in landing.truth_notes():
        text = landing.note_text(t, docs)
        assert t["spans"], t["note_id"]
        end = 0
        for span in t["spans"]:
            assert span["label"] in LABELS
            assert text[span["start"] : span["end"]] == span["text"] != ""
            assert span["start"] >= end  # sorted, non-overlapping
            end = span["end"]
        assert {"NAME", "DATE", "ID"} <= {s["label"] for s in t["spans"]}


def _known_phi(patient: dict, staff: list[str], facilities: list[str]) -> set[str]:
    """Strings that must never appear outside a span: the patient's identifiers and everyone's names."""
    birth = datetime.fromisoformat(patient["birth_date"])
    phone = patient["phone"].split("-")
    known = {*patient["given"], patient["family"], patient["mrn"], patient["ssn"], patient["email"]}
    known |= {patient["address"]["line"], patient["address"]["city"], patient["address"]["postal_code"]}
    known |= {"-".join(phone), f"({phone[0]}) {phone[1]}-{phone[2]}", ".".join(phone)}
    known |= {format_date(birth, style) for style in FULL_DATE_STYLES}
    known |= {r["given"] for r in patient["relatives"]} | {r["family"] for r in patient["relatives"]}
    return known | set(staff) | set(facilities)


def test_no_known_phi_occurs_outside_a_span(landing: Landing) -> None:
    docs = _docs(landing)
    staff = [n for p in landing.ndjson["Practitioner"] for n in (p["name"][0]["family"], p["name"][0]["given"][0])]
    facilities = [o["name"] for o in landing.ndjson["Organization"]]
    checked = 0
    for t in landing.truth_notes():
        text = landing.note_text(t, docs)
        covered = [(s["start"], s["end"]) for s in t["spans"]]
        for phi in _known_phi(landing.patients[t["subject"]], staff, facilities):
            for m in re.finditer(rf"(?<!\w){re.escape(phi)}(?!\w)", text, flags=re.IGNORECASE):
                assert any(a <= m.start() and m.end() <= b for a, b in covered), (t["note_id"], phi)
                checked += 1
    assert checked > 1000


def test_notes_mention_the_patients_own_identifiers(landing: Landing) -> None:
    docs = _docs(landing)
    found = {"family": 0, "mrn": 0, "phone": 0, "street": 0, "birth": 0}
    for t in landing.truth_notes():
        p = landing.patients[t["subject"]]
        spans = {s["text"].lower() for s in t["spans"]}
        found["family"] += any(p["family"].lower() in s for s in spans)
        found["mrn"] += p["mrn"] in spans
        found["phone"] += any(re.sub(r"\D", "", s) == re.sub(r"\D", "", p["phone"]) for s in spans)
        found["street"] += p["address"]["line"].lower() in spans
        birth = datetime.fromisoformat(p["birth_date"])
        found["birth"] += any(format_date(birth, st).lower() in spans for st in FULL_DATE_STYLES)
        assert landing.note_text(t, docs)  # decodes with the recorded encoding
    n = len(landing.truth_notes())
    assert found["family"] > 0.8 * n and found["mrn"] == n and found["birth"] > 0.8 * n
    assert found["phone"] > 0.1 * n and found["street"] > 0.1 * n


def test_sidecars_describe_their_notes(landing: Landing) -> None:
    encounters = {r["id"]: r for r in landing.resources() if r["resourceType"] == "Encounter"}
    sidecars = sorted((landing.root / "notes").rglob("*.json"))
    assert sidecars
    for path in sidecars:
        meta = orjson.loads(path.read_bytes())
        assert set(meta) == {"subject", "time", "type", "type_display", "encounter", "note_id"}
        assert meta["subject"] == path.parent.name in landing.patients
        assert meta["note_id"] == path.stem and path.with_suffix(".txt").exists()
        assert meta["type"] in NOTE_CODES
        when = datetime.fromisoformat(meta["time"])
        assert when.utcoffset() is not None
        if meta["encounter"] is not None:
            enc = encounters[meta["encounter"]]
            assert enc["subject"]["reference"].endswith(meta["subject"])
            start = datetime.fromisoformat(enc["period"]["start"])
            end = datetime.fromisoformat(enc["period"]["end"])
            assert start <= when <= end + timedelta(hours=6)


def test_some_text_notes_are_not_utf8(landing: Landing) -> None:
    odd = [t for t in landing.truth_notes() if t["origin"] == "txt" and t["encoding"] != "utf-8"]
    assert odd
    for t in odd:
        raw = (landing.root / t["path"]).read_bytes()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        raise AssertionError(f"{t['path']} is declared {t['encoding']} but is valid UTF-8")


def test_document_references_carry_the_note_as_text_plain(landing: Landing) -> None:
    codes = set()
    for doc in _docs(landing).values():
        att = doc["content"][0]["attachment"]
        assert att["contentType"] == "text/plain"
        assert doc["context"]["encounter"][0]["reference"]
        assert datetime.fromisoformat(doc["date"]).utcoffset() is not None
        codes.add(doc["type"]["coding"][0]["code"])
    assert {"11506-3", "18842-5"} <= codes
