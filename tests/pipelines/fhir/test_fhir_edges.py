"""FHIR deliveries the hostile-input audit found quarantined or doubled: NDJSON written as UTF-16/32, subjects
named by identifier or by a contained Patient, and one resource delivered with two different subjects."""

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.fhir import chunks as fch
from pipelines.defs.fhir.ingest import ingest_fhir
from schemas.layout import Layout
from tests.conftest import TEST_SECRET
from tests.fhir_fixtures import condition, lab, patient

KEYS = Keyring(TEST_SECRET)


def _ingest(root: Path, **kw) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw events, quarantine rows) of a FHIR ingest of root/landing/fhir."""
    layout = Layout(root)
    ingest_fhir(layout, KEYS, 2, workers=kw.pop("workers", 1), **kw)
    events = pl.read_parquet(sorted(layout.raw.glob("fhir/events/*/*.parquet")), hive_partitioning=False)
    qfiles = sorted(layout.quarantine("fhir_raw").glob("*.parquet"))
    return events, (pl.read_parquet(qfiles) if qfiles else pl.DataFrame())


def _lines(resources: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in resources)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_ndjson_written_as_utf16_or_utf32_is_read_with_or_without_a_mark(tmp_path: Path, encoding: str):
    fhir = tmp_path / "landing" / "fhir"
    fhir.mkdir(parents=True)
    people = [patient("p1", name=[{"family": "Zoë Ñandú"}]), patient("p2")]
    labs = [lab(f"o{i}", f"p{1 + i % 2}", "2020-01-02T10:00:00Z", ref="Patient/") for i in range(6)]
    (fhir / "Patient.ndjson").write_bytes(_lines(people).encode(encoding))
    (fhir / "Observation.ndjson.gz").write_bytes(gzip.compress(_lines(labs).encode(encoding)))
    events, quarantine = _ingest(tmp_path)
    assert quarantine.is_empty(), quarantine.drop("record").to_dicts()
    assert sorted(set(events["source_patient"])) == ["p1", "p2"]
    obs = events.filter(pl.col("resource_type") == "Observation").sort("position")
    assert obs["position"].to_list() == [1, 2, 3, 4, 5, 6]  # line numbers as in the file


def test_a_large_utf16_ndjson_file_is_never_split_in_byte_ranges(tmp_path: Path, monkeypatch):
    """Byte ranges cut UTF-16 characters: a wide file is one work unit however large, and loses no line."""
    monkeypatch.setattr(fch, "RANGE_BYTES", 256)
    fhir = tmp_path / "landing" / "fhir"
    fhir.mkdir(parents=True)
    labs = [lab(f"o{i}", "p1", "2020-01-02T10:00:00Z", ref="Patient/") for i in range(40)]
    (fhir / "Patient.ndjson").write_text(_lines([patient("p1")]))
    (fhir / "Observation.ndjson").write_bytes(_lines(labs).encode("utf-16-le"))
    (fhir / "Observation2.ndjson").write_text(_lines([lab(f"q{i}", "p1", "2020-01-02T10:00:00Z",
                                                          ref="Patient/") for i in range(40)]))  # fmt: skip
    assert fch.split_ranges(sorted(fhir.iterdir()), 256).keys() == {fhir / "Observation2.ndjson"}
    events, quarantine = _ingest(tmp_path)
    assert quarantine.is_empty(), quarantine.drop("record").to_dicts()
    assert events.filter(pl.col("resource_type") == "Observation").height == 80


def test_a_utf16_line_that_does_not_decode_is_quarantined_alone(tmp_path: Path):
    fhir = tmp_path / "landing" / "fhir"
    fhir.mkdir(parents=True)
    bad = '{"resourceType": "Patient", "id": "p9"}\r\n'.encode("utf-16-le").replace(b"p\x00", b"\x00\xd8")
    lines = [_lines([patient("p1")]).encode("utf-16-le"), bad, _lines([patient("p2")]).encode("utf-16-le")]
    (fhir / "Patient.ndjson").write_bytes(b"".join(lines) + b"{")  # a lone surrogate; a cut last character
    events, quarantine = _ingest(tmp_path)
    assert sorted(set(events["source_patient"])) == ["p1", "p2"]
    assert quarantine.select("source_file", "position", "reason_code").to_dicts() == [
        {"source_file": "landing/fhir/Patient.ndjson", "position": p, "reason_code": "MALFORMED_JSON"}
        for p in (2, 4)
    ]


def _meds(root: Path, shards: int = 2) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(MEDS rows, meds_data quarantine, meds_data ledger) after a FHIR ingest and a build of every shard."""
    from pipelines.defs.meds.build import build_shard
    from schemas.publish import dataset_files

    layout = Layout(root)
    ingest_fhir(layout, KEYS, shards, workers=1)
    for shard in range(shards):
        build_shard(layout, KEYS, shard, (1.0, 0.0, 0.0))
    data = pl.read_parquet(dataset_files(layout.meds, "data/**/*.parquet"))
    qfiles = dataset_files(layout.quarantine("meds_data"), "**/*.parquet")
    quarantine = pl.read_parquet(qfiles) if qfiles else pl.DataFrame()
    ledger = pl.read_parquet(dataset_files(layout.quality / "ledger" / "meds_data", "*.parquet"))
    return data, quarantine, ledger


def _same_and_other_shard(n_shards: int = 2) -> tuple[str, str, str]:
    """Three patient ids: the first two in one shard, the third in another."""
    ids = [f"p{i}" for i in range(50)]
    first = ids[0]
    same = next(p for p in ids[1:] if KEYS.shard(p, n_shards) == KEYS.shard(first, n_shards))
    other = next(p for p in ids[1:] if KEYS.shard(p, n_shards) != KEYS.shard(first, n_shards))
    return first, same, other


def test_one_resource_delivered_for_two_patients_keeps_no_copy_in_any_shard(tmp_path: Path):
    """`Observation/x` for patient A in one file and for patient B in another: a resource with two subjects.
    Whether B shares A's shard or not, every copy is quarantined with its file and position, naming the field
    (subject) and no value; a plain re-delivery (same subject) still keeps its first copy."""
    a, same, other = _same_and_other_shard()
    fhir = tmp_path / "landing" / "fhir"
    fhir.mkdir(parents=True)
    (fhir / "Patient.ndjson").write_text(_lines([patient(p) for p in (a, same, other)]))
    t = "2020-01-02T10:00:00Z"
    (fhir / "Observation.a.ndjson").write_text(_lines([
        lab("o-cross", a, t, code="1111-1", ref="Patient/"),  # A, and B in another shard below
        lab("o-near", a, t, code="2222-2", ref="Patient/"),  # A, and B in A's shard below
        lab("o-resent", a, t, code="3333-3", ref="Patient/"),  # A twice: a plain copy
        lab("o-alone", a, t, code="4444-4", ref="Patient/"),
    ]))  # fmt: skip
    (fhir / "Observation.b.ndjson").write_text(_lines([
        lab("o-cross", other, t, code="1111-1", ref="Patient/"),
        lab("o-near", same, t, code="2222-2", ref="Patient/"),
        lab("o-resent", a, t, code="3333-3", ref="Patient/"),
    ]))  # fmt: skip
    # The same id in another type is another resource: no conflict.
    (fhir / "Condition.ndjson").write_text(_lines([condition("o-alone", other, "2019-05-01", ref="Patient/")]))
    data, quarantine, ledger = _meds(tmp_path)
    per_code = dict(data.group_by("code").len().iter_rows())
    assert "LOINC//1111-1" not in per_code and "LOINC//2222-2" not in per_code
    assert per_code["LOINC//3333-3"] == 1 and per_code["LOINC//4444-4"] == 1 and per_code["SNOMED//44054006"] == 1
    rows = quarantine.sort("source_file", "position").select("source_file", "position", "reason_code").to_dicts()
    assert rows == [
        {"source_file": "landing/fhir/Observation.a.ndjson", "position": 1, "reason_code": "CONFLICTING_RESOURCE"},
        {"source_file": "landing/fhir/Observation.a.ndjson", "position": 2, "reason_code": "CONFLICTING_RESOURCE"},
        {"source_file": "landing/fhir/Observation.b.ndjson", "position": 1, "reason_code": "CONFLICTING_RESOURCE"},
        {"source_file": "landing/fhir/Observation.b.ndjson", "position": 2, "reason_code": "CONFLICTING_RESOURCE"},
        {"source_file": "landing/fhir/Observation.b.ndjson", "position": 3, "reason_code": "DUPLICATE_RESOURCE"},
    ]  # fmt: skip
    for reason in quarantine.filter(pl.col("reason_code") == "CONFLICTING_RESOURCE")["reason"]:
        assert "subject" in reason and not any(v in reason for v in ("o-cross", "o-near", a, same, other))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
    assert int(ledger["n_quarantined"].sum()) == 5


SYS = "urn:oid:1.2.3"  # the fixtures' MRN system (tests.fhir_fixtures.patient)


def _by_identifier(value: str, system: str | None = SYS) -> dict:
    return {"identifier": {**({"system": system} if system else {}), "value": value}}


def _subject_cases(fhir: Path) -> None:
    """Patients p1 and p2 (MRN-p1, MRN-p2), and a third and fourth that share one identifier; records that
    name their patient by identifier or by a contained Patient, resolvable or not."""
    twin = {"system": "urn:oid:9.9", "value": "SHARED-1"}
    people = [patient("p1"), patient("p2"), patient("p3", identifier=[twin]), patient("p4", identifier=[twin])]
    t = "2020-01-02T10:00:00Z"

    def obs(oid: str, subject: dict, **extra) -> dict:
        return {**lab(oid, "x", t, code="1111-1"), "subject": subject, **extra}

    contained_mrn = {"resourceType": "Patient", "id": "cp", "identifier": [{"system": SYS, "value": "MRN-p2"}]}
    lines = [
        obs("o1", _by_identifier("MRN-p1")),  # resolves to p1
        obs("o2", {"reference": "#cp"}, contained=[contained_mrn]),  # resolves to p2 through its identifier
        obs("o3", _by_identifier("MRN-nobody")),  # UNRESOLVED_SUBJECT
        obs("o4", _by_identifier("SHARED-1", "urn:oid:9.9")),  # AMBIGUOUS_SUBJECT
        obs("o5", {"reference": "#anon"}, contained=[{"resourceType": "Patient", "id": "anon"}]),  # no identifier
        obs("o6", _by_identifier("MRN-p1", None)),  # a value without its system matches no system+value
        obs("o7", {"reference": "#gone"}),  # nothing contained
        {**obs("o8", _by_identifier("MRN-p2")), "effectiveDateTime": "not a date"},  # resolves, then fails
    ]
    imm = {"resourceType": "Immunization", "id": "i1", "status": "completed", "occurrenceDateTime": t,
           "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "140"}]},
           "patient": _by_identifier("MRN-p2")}  # fmt: skip
    # The Patients come in a file read after the records, and in a Bundle: resolution waits for every file.
    (fhir / "a.ndjson").write_text(_lines([*lines, imm]))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": p} for p in people]}
    (fhir / "z.json").write_text(json.dumps(bundle))


def test_subjects_by_identifier_or_contained_patient_resolve_across_files_or_say_why_not(tmp_path: Path):
    fhir = tmp_path / "landing" / "fhir"
    fhir.mkdir(parents=True)
    _subject_cases(fhir)
    events, quarantine = _ingest(tmp_path)
    obs = events.filter(pl.col("resource_type").is_in(["Observation", "Immunization"])).sort("position")
    assert obs.select("position", "source_patient").rows() == [(1, "p1"), (2, "p2"), (9, "p2")]
    rows = quarantine.sort("position").select("position", "reason_code", "reason").rows()
    assert [(p, c) for p, c, _ in rows] == [
        (3, "UNRESOLVED_SUBJECT"), (4, "AMBIGUOUS_SUBJECT"), (5, "UNRESOLVED_SUBJECT"), (6, "UNRESOLVED_SUBJECT"),
        (7, "UNRESOLVED_SUBJECT"), (8, "UNPARSEABLE_DATE")]  # fmt: skip
    reasons = dict((p, r) for p, _, r in rows)
    assert reasons[3] == "Observation.subject.identifier matches no delivered Patient"
    assert reasons[4].startswith("Observation.subject.identifier matches 2 delivered Patients")
    assert "no identifier" in reasons[5] and "contained" in reasons[7]
    for _, _, reason in rows:  # identifiers are PHI: never in a reason
        assert not any(v in reason for v in ("MRN", "SHARED", "urn:oid", "cp", "anon", "gone"))
    layout = Layout(tmp_path)
    ledger = pl.read_parquet(layout.ledger("fhir_raw"))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
    per_type = dict(ledger.group_by("record_type").agg(pl.col("n_in").sum()).iter_rows())
    assert per_type == {"Observation": 8, "Immunization": 1, "Patient": 4}  # every record counted once


def test_subject_resolution_is_the_same_whatever_the_chunks_workers_or_rerun(tmp_path: Path):
    """Chunks parse apart (one may hold the records, another the Patients): the gather resolves, in the same
    order every time, so one chunk or three, one worker or two, first run or rerun, give the same files."""
    import hashlib

    def digest(root: Path) -> dict[str, str]:
        raw = Layout(root).raw / "fhir"
        out = {}
        for table in ("events", "resource_ids", "resource_conflicts"):
            for path in sorted(raw.glob(f"{table}/*/*.parquet")):
                rows = sorted(map(str, pl.read_parquet(path, hive_partitioning=False).rows()))
                out.setdefault(f"{table}/{path.parent.name}", []).extend(rows)
        q = sorted(Layout(root).quarantine("fhir_raw").glob("*.parquet"))
        out["quarantine"] = sorted(map(str, pl.read_parquet(q).drop("record").rows()))
        return {k: hashlib.sha256(str(sorted(v)).encode()).hexdigest() for k, v in out.items()}

    results = []
    for i, (chunks, workers) in enumerate([(1, 1), (3, 2), (3, 2)]):
        root = tmp_path / f"r{i if i < 2 else 1}"  # the third run reruns the second root
        fhir = root / "landing" / "fhir"
        fhir.mkdir(parents=True, exist_ok=True)
        _subject_cases(fhir)
        ingest_fhir(Layout(root), KEYS, 2, workers=workers, n_chunks=chunks)
        results.append(digest(root))
    assert results[0] == results[1] == results[2]


def test_a_set_aside_medication_request_keeps_its_bundles_medication_and_nothing_set_aside_reaches_raw(
    tmp_path: Path,
):
    """A MedicationRequest named by identifier, whose Medication is an entry of its own Bundle: resolved at the
    gather, where that Bundle is no longer at hand, it still finds its code. The records set aside and the
    identifier digests stay in the chunk (a PHI zone) and are never linked into raw/fhir."""
    fhir = tmp_path / "landing" / "fhir"
    fhir.mkdir(parents=True)
    med = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975"}]},
    }
    request = {"resourceType": "MedicationRequest", "id": "mr1", "status": "active", "intent": "order",
               "subject": _by_identifier("MRN-p1"), "authoredOn": "2020-01-02T10:00:00Z",
               "medicationReference": {"reference": "urn:uuid:m1"}}  # fmt: skip
    entries = [{"fullUrl": "urn:uuid:m1", "resource": med}, {"fullUrl": "urn:uuid:mr1", "resource": request}]
    (fhir / "b.json").write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    (fhir / "Patient.ndjson").write_text(_lines([patient("p1")]))
    events, quarantine = _ingest(tmp_path)
    assert quarantine.is_empty(), quarantine.drop("record").to_dicts()
    rx = events.filter(pl.col("resource_type") == "MedicationRequest")
    assert rx.select("source_patient", "code", "position").rows() == [("p1", "RXNORM//860975", 2)]
    raw = Layout(tmp_path).raw / "fhir"
    assert not (raw / fch.PENDING_PART).exists() and not (raw / fch.PATIENT_KEYS_PART).exists()
    assert list((Layout(tmp_path).chunks).rglob(f"{fch.PENDING_PART}/*.parquet"))
