"""MEDS shards: pseudonyms, one shift per subject, age cap, orphans quarantined, sorted, byte-identical reruns."""

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds.build import MAX_AGE_US, build_shard
from pipelines.defs.meds.metadata import write_codes, write_subject_splits
from schemas.layout import Layout
from tests.conftest import TEST_SECRET, write_bundle, write_ndjson
from tests.fhir_fixtures import condition, encounter, lab, patient

KEYS = Keyring(TEST_SECRET)
SHARDS = 3


@pytest.fixture
def root(tmp_path: Path) -> Path:
    fhir = tmp_path / "landing" / "fhir"
    for i in range(12):
        pid = f"pat{i}"
        write_bundle(
            fhir / f"{pid}.json",
            [
                patient(pid, birth=f"19{50 + i}-02-0{1 + i % 9}"),
                encounter(f"e{i}", pid, "2015-03-01T08:00:00Z", "2015-03-03T12:00:00Z", cls="IMP"),
                lab(f"o{i}a", pid, "2015-03-01T09:00:00Z", value=90 + i),
                lab(f"o{i}b", pid, "2016-07-04T10:30:00Z", value=120 + i),
                condition(f"c{i}", pid, "2014-01-01"),
            ],
        )
    # Born 1900: 115 years old at the last event, so the age cap applies; one event in childhood.
    write_bundle(fhir / "old.json", [patient("old", birth="1900-01-01"), lab("ox", "old", "2015-01-01T00:00:00Z"),
                                     condition("cx", "old", "1905-06-01")])  # fmt: skip
    write_ndjson(fhir / "orphans.ndjson", [lab("orph", "nobody", "2020-01-01", ref="Patient/")])
    layout = Layout(tmp_path)
    ingest_fhir(layout, KEYS, SHARDS)
    for k in range(SHARDS):
        build_shard(layout, KEYS, k, (0.6, 0.2, 0.2))
    return tmp_path


def _data(root: Path) -> pl.DataFrame:
    frames = [pl.read_parquet(p).with_columns(pl.lit(p.parent.name).alias("split"), pl.lit(p.stem).alias("shard"))
              for p in sorted((root / "meds" / "data").glob("*/*.parquet"))]  # fmt: skip
    return pl.concat(frames)


def test_subjects_are_keyed_pseudonyms_with_keyed_splits_and_shards(root: Path):
    data = _data(root)
    for i in range(12):
        pid = f"pat{i}"
        rows = data.filter(pl.col("subject_id") == KEYS.subject_id(pid))
        assert rows.height == 8  # gender, birth, birth year, encounter start and end, 2 labs, condition
        assert set(rows["split"]) == {KEYS.split(pid, (0.6, 0.2, 0.2))}
        assert set(rows["shard"]) == {str(KEYS.shard(pid, SHARDS))}
    assert data["subject_id"].n_unique() == 13


def test_every_date_of_a_subject_moves_by_the_same_keyed_shift(root: Path):
    data = _data(root)
    pid = "pat3"
    rows = data.filter((pl.col("subject_id") == KEYS.subject_id(pid)) & pl.col("time").is_not_null())
    shift = timedelta(days=KEYS.shift_days(pid))
    got = dict(zip(rows["code"], rows["time"], strict=False))
    assert got["ENCOUNTER//IMP"] == datetime(2015, 3, 1, 8) + shift  # noqa: DTZ001
    assert got["ENCOUNTER_END//IMP"] == datetime(2015, 3, 3, 12) + shift  # noqa: DTZ001
    assert got["MEDS_BIRTH"] == datetime(1953, 2, 4) + shift  # noqa: DTZ001
    assert KEYS.shift_days(pid) % 7 == 0 and KEYS.shift_days(pid) < 0


def test_ages_over_89_are_capped_at_90(root: Path):
    data = _data(root)
    old = data.filter(pl.col("subject_id") == KEYS.subject_id("old")).drop_nulls("time")
    birth = old.filter(pl.col("code") == "MEDS_BIRTH")["time"][0]
    last = old["time"].max()
    assert (last - birth) == timedelta(microseconds=MAX_AGE_US)
    assert old["time"].min() == birth  # the childhood event was moved up to the capped birth
    young = data.filter(pl.col("subject_id") == KEYS.subject_id("pat0")).drop_nulls("time")
    assert young.filter(pl.col("code") == "MEDS_BIRTH")["time"][0] == datetime(1950, 2, 1) + timedelta(  # noqa: DTZ001
        days=KEYS.shift_days("pat0")
    )


def test_events_of_missing_patients_are_quarantined_and_the_ledger_balances(root: Path):
    layout = Layout(root)
    q = pl.read_parquet(sorted(layout.quarantine("meds_data").glob("*.parquet")))
    assert q["reason_code"].to_list() == ["MISSING_PATIENT"]
    assert q["source_file"][0].endswith("orphans.ndjson") and q["position"][0] == 1
    ledger = pl.read_parquet(sorted((layout.quality / "ledger" / "meds_data").glob("*.parquet")))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
    assert int(ledger["n_quarantined"].sum()) == 1


def test_shards_are_sorted_static_first_and_hold_no_source_ids(root: Path):
    for path in sorted((root / "meds" / "data").glob("*/*.parquet")):
        df = pl.read_parquet(path)
        assert df.equals(df.sort(["subject_id", "time"], nulls_last=False, maintain_order=True))
        assert df.columns == ["subject_id", "time", "code", "numeric_value", "text_value", "unit"]
        text = path.read_bytes()
        assert b"pat1" not in text and b"Testperson" not in text and b"MRN-" not in text


def test_rebuilding_a_shard_gives_identical_bytes(root: Path):
    layout = Layout(root)

    def digest() -> dict[str, str]:
        return {
            str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(layout.meds.glob("data/*/*.parquet"))
        }

    before = digest()
    for k in range(SHARDS):
        build_shard(layout, KEYS, k, (0.6, 0.2, 0.2))
    assert digest() == before


def test_codes_and_splits_cover_the_data(root: Path):
    layout = Layout(root)
    write_codes(layout)
    counts = write_subject_splits(layout)
    codes = pl.read_parquet(layout.meds_codes)
    assert set(_data(root)["code"]) == set(codes["code"])
    assert codes.filter(pl.col("code") == "LOINC//2345-7")["description"][0] == "Glucose"
    assert sum(counts.values()) == 13
