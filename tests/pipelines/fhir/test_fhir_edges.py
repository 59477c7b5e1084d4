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
from tests.fhir_fixtures import lab, patient

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
    data, quarantine, ledger = _meds(tmp_path)
    per_code = dict(data.group_by("code").len().iter_rows())
    assert "LOINC//1111-1" not in per_code and "LOINC//2222-2" not in per_code
    assert per_code["LOINC//3333-3"] == 1 and per_code["LOINC//4444-4"] == 1
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
