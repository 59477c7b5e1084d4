"""The values policy at the MEDS build, for every source at once: implausible times and non-finite values
quarantined (never clamped or stored as inf), one patient record per subject (a second one's demographic
events quarantined, conflicting or repeated), and age-cap moves counted instead of silent."""

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds.build import build_shard
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.publish import dataset_files
from schemas.raw import RAW_EVENTS_SCHEMA, RAW_PATIENTS_SCHEMA
from tests.conftest import TEST_SECRET, write_bundle
from tests.fhir_fixtures import encounter, lab, patient

KEYS = Keyring(TEST_SECRET)


def _naive(*args: int) -> datetime:
    return datetime(*args)  # noqa: DTZ001 -- raw tables hold naive UTC


SHARDS = 2
FRACTIONS = (1.0, 0.0, 0.0)


def _raw_source(root: Path, pid: str, events: list[tuple], birth: datetime) -> None:
    """A source's raw tables written directly (as a tables or DICOM source would), for values the FHIR reader
    already refuses at its own boundary."""
    shard = KEYS.shard(pid, SHARDS)
    rows = [{"source_patient": pid, "time": t, "code": c, "numeric_value": v, "text_value": None, "unit": None,
             "resource_type": "lab", "source_file": "landing/tables/x/labs.csv", "position": i + 2}
            for i, (t, c, v) in enumerate(events)]  # fmt: skip
    base = root / "raw" / "tables" / "x"
    write_parquet(pa.Table.from_pylist(rows, schema=RAW_EVENTS_SCHEMA),
                  base / "events" / f"shard={shard}" / "part-0.parquet", RAW_EVENTS_SCHEMA)  # fmt: skip
    patient_row = {"source_patient": pid, "birth_time": birth, "death_time": None, "sex": None, "names": None,
                   "identifiers": None, "telecoms": None, "addresses": None,
                   "source_file": "landing/tables/x/patients.csv", "position": 2}  # fmt: skip
    write_parquet(pa.Table.from_pylist([patient_row], schema=RAW_PATIENTS_SCHEMA),
                  base / "patients" / f"shard={shard}" / "part-0.parquet", RAW_PATIENTS_SCHEMA)  # fmt: skip


@pytest.fixture
def built(tmp_path: Path) -> tuple[Layout, list]:
    fhir = tmp_path / "landing" / "fhir"
    write_bundle(fhir / "a.json", [patient("dup", birth="1960-01-01"), patient("conf", birth="1970-05-05"),
                                   encounter("e1", "dup", "2020-01-01T10:00:00Z")])  # fmt: skip
    write_bundle(fhir / "b.json", [patient("dup", birth="1960-01-01"), patient("conf", birth="1971-06-06"),
                                   encounter("e2", "conf", "2020-01-01T10:00:00Z")])  # fmt: skip
    write_bundle(fhir / "c.json", [patient("old", birth="1950-01-01"), lab("o1", "old", "2000-01-01T00:00:00Z"),
                                   lab("o2", "old", "2005-01-01T00:00:00Z"), lab("o3", "old", "2150-01-01T00:00:00Z")])  # fmt: skip
    layout = Layout(tmp_path)
    ingest_fhir(layout, KEYS, SHARDS, workers=1)
    _raw_source(tmp_path, "tab", [(_naive(2020, 1, 1), "LAB//A", 1.5), (_naive(2020, 1, 2), "LAB//B", float("inf")),
                                  (_naive(1, 1, 1), "LAB//C", 2.0), (_naive(2020, 1, 3), "LAB//D", float("nan"))],
                _naive(1980, 1, 1))  # fmt: skip
    summaries = [build_shard(layout, KEYS, s, FRACTIONS) for s in range(SHARDS)]
    return layout, summaries


def _data(layout: Layout) -> pl.DataFrame:
    return pl.read_parquet(dataset_files(layout.meds, "data/**/*.parquet"))


def _quarantine(layout: Layout) -> pl.DataFrame:
    return pl.read_parquet(dataset_files(layout.quarantine("meds_data"), "**/*.parquet"))


def test_implausible_times_and_non_finite_values_are_quarantined_not_stored(built):
    layout, _ = built
    data = _data(layout).filter(pl.col("subject_id") == KEYS.subject_id("tab"))
    assert data.filter(pl.col("code").str.starts_with("LAB//"))["code"].to_list() == ["LAB//A"]
    assert data["numeric_value"].drop_nulls().is_finite().all()
    q = _quarantine(layout)
    got = sorted(q.filter(pl.col("source_file") == "landing/tables/x/labs.csv")["reason_code"].to_list())
    assert got == ["IMPLAUSIBLE_DATE", "NON_FINITE_VALUE", "NON_FINITE_VALUE"]
    assert not q["reason"].str.contains("inf|nan|0001").any()


def test_a_second_patient_record_is_never_a_second_birth(built):
    layout, _ = built
    data = _data(layout)
    for pid, birth in (("dup", _naive(1960, 1, 1)), ("conf", _naive(1970, 5, 5))):  # the first by file wins
        births = data.filter((pl.col("subject_id") == KEYS.subject_id(pid)) & (pl.col("code") == "MEDS_BIRTH"))
        assert births["time"].to_list() == [birth + timedelta(days=KEYS.shift_days(pid))]
    q = _quarantine(layout).filter(pl.col("source_file") == "landing/fhir/b.json")
    assert set(q["reason_code"]) == {"DUPLICATE_PATIENT", "CONFLICTING_PATIENT"}
    ledger = pl.read_parquet(sorted((layout.quality / "ledger" / "meds_data").glob("*.parquet")))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()


def test_an_age_cap_that_moves_a_whole_timeline_is_counted(built):
    _, summaries = built
    assert sum(s.age_cap_whole_timelines for s in summaries) == 1  # "old": a 2150 event moves everything
    assert sum(s.age_cap_moved_events for s in summaries) == 2
