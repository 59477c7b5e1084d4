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
