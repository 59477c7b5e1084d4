"""A small generated root (MEDS shards, metadata, ledger, raw patients, quarantine) and ways to plant defects."""
# ruff: noqa: DTZ001 -- MEDS times are naive UTC timestamps (schemas.meds), so the test data is naive too

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from deid.pseudonym import Keyring
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.ledger import LEDGER_SCHEMA
from schemas.meds import CODES_SCHEMA, DATA_SCHEMA, SUBJECT_SPLITS_SCHEMA
from schemas.quarantine import QUARANTINE_SCHEMA
from schemas.raw import RAW_PATIENTS_SCHEMA
from tests.conftest import TEST_SECRET

KEYRING = Keyring(TEST_SECRET)
# Synthetic people; their names are not dictionary words, so the audit searches them on their own.
PEOPLE = [
    # source id, given, family, MRN, phone, street, birth, shard, split
    ("src-a", "Zyxwanda", "Quorbelt", "MRN-88301", "555-201-7733", "12 Plimsoll Crescent", datetime(1950, 3, 4), 0, "train"),
    ("src-b", "Orvetta", "Kranzhaus", "MRN-88302", "555-201-7734", "7 Vantor Row", datetime(1984, 11, 23), 0, "train"),
    ("src-c", "Will", "Pendergrove", "MRN-88303", "555-201-7735", "40 Osk Lane", datetime(1971, 6, 9), 1, "held_out"),
]  # fmt: skip


@dataclass
class Root:
    path: Path

    @property
    def layout(self) -> Layout:
        return Layout(self.path)

    def data(self, split: str, shard: int) -> pl.DataFrame:
        return pl.read_parquet(self.layout.meds_shard(split, shard))

    def write_data(self, split: str, shard: int, df: pl.DataFrame) -> None:
        write_parquet(df.to_arrow(), self.layout.meds_shard(split, shard), DATA_SCHEMA)
        self.write_codes()

    def write_codes(self) -> None:
        codes = pl.read_parquet(self.layout.meds_data_glob, columns=["code"])
        table = codes.select(pl.col("code").unique().sort()).with_columns(
            description=pl.lit("a code"), parent_codes=pl.lit(None, dtype=pl.List(pl.String))
        )
        write_parquet(table.to_arrow(), self.layout.meds_codes, CODES_SCHEMA)

    def subject_id(self, source: str) -> int:
        return KEYRING.subject_id(source)


def _events(source: str, birth: datetime, death: datetime | None = None) -> list[dict]:
    sid = KEYRING.subject_id(source)
    shift = KEYRING.shift(source)
    b = birth + shift
    rows = [
        {"subject_id": sid, "time": None, "code": "GENDER//female", "numeric_value": None, "unit": None},
        {"subject_id": sid, "time": b, "code": "MEDS_BIRTH", "numeric_value": None, "unit": None},
    ]
    for year in (20, 30, 40):
        t = b + timedelta(days=365 * year, hours=10)
        rows += [
            {"subject_id": sid, "time": t, "code": "ENCOUNTER//AMB", "numeric_value": None, "unit": None},
            {"subject_id": sid, "time": t + timedelta(minutes=5), "code": "LOINC//8867-4", "numeric_value": 72.0,
             "unit": "/min"},
            {"subject_id": sid, "time": t + timedelta(minutes=5), "code": "LOINC//8480-6", "numeric_value": 128.0,
             "unit": "mm[Hg]"},
            {"subject_id": sid, "time": t + timedelta(minutes=9), "code": "LOINC//2345-7", "numeric_value": 98.0,
             "unit": "mg/dL"},
            {"subject_id": sid, "time": t + timedelta(minutes=9), "code": "SNOMED//44054006", "numeric_value": None,
             "unit": None},
        ]  # fmt: skip
    if death is not None:
        rows.append({"subject_id": sid, "time": death + shift, "code": "MEDS_DEATH", "numeric_value": None,
                     "unit": None})  # fmt: skip
    return rows


def build_root(path: Path) -> Root:
    root = Root(path)
    layout = root.layout
    by_file: dict[tuple[str, int], list[dict]] = {}
    for src, *_, birth, shard, split in PEOPLE:
        death = datetime(2025, 1, 1) if src == "src-b" else None
        by_file.setdefault((split, shard), []).extend(_events(src, birth, death))
    for (split, shard), rows in by_file.items():
        df = pl.DataFrame(rows, schema={"subject_id": pl.Int64, "time": pl.Datetime("us"), "code": pl.String,
                                         "numeric_value": pl.Float32, "unit": pl.String}, orient="row")  # fmt: skip
        df = df.with_columns(text_value=pl.lit(None, dtype=pl.String)).sort("subject_id", "time", nulls_last=False)
        write_parquet(df.to_arrow(), layout.meds_shard(split, shard), DATA_SCHEMA)
    root.write_codes()
    splits = pl.DataFrame(
        {"subject_id": [KEYRING.subject_id(p[0]) for p in PEOPLE], "split": [p[8] for p in PEOPLE]}
    )
    write_parquet(splits.to_arrow(), layout.meds_subject_splits, SUBJECT_SPLITS_SCHEMA)
    ledger = pl.DataFrame({"asset": ["fhir_raw"] * 2, "source_file": ["landing/fhir/b1.json", "landing/fhir/b2.json"],
                           "record_type": ["Observation", "Patient"], "n_in": [40, 3], "n_out": [38, 3],
                           "n_quarantined": [2, 0], "n_events": [38, 3]})  # fmt: skip
    write_parquet(ledger.to_arrow(), layout.ledger("fhir_raw"), LEDGER_SCHEMA)
    patients = pa.table({
        "source_patient": [p[0] for p in PEOPLE], "birth_time": [p[6] for p in PEOPLE], "death_time": [None] * 3,
        "sex": ["female"] * 3, "names": [["Ms.", p[1], p[2]] for p in PEOPLE], "identifiers": [[p[3]] for p in PEOPLE],
        "telecoms": [[p[4]] for p in PEOPLE], "addresses": [[p[5], "Springfield", "01234"] for p in PEOPLE],
        "source_file": ["landing/fhir/b1.json"] * 3, "position": [1, 2, 3],
    })  # fmt: skip
    write_parquet(patients, layout.raw_shard("fhir", "patients", 0) / "part-0.parquet", RAW_PATIENTS_SCHEMA)
    quarantine = pa.table({
        "asset": ["fhir_raw", "fhir_raw"], "source_file": ["landing/fhir/b1.json"] * 2, "position": [7, 9],
        "resource_type": ["Observation", "Observation"], "reason_code": ["UNPARSEABLE_DATE"] * 2,
        "reason": ["effectiveDateTime is not a FHIR dateTime"] * 2,
        "record": ['{"note": "Zyxwanda Quorbelt called"}', '{"note": "MRN-88301"}'],
    })  # fmt: skip
    write_parquet(quarantine, layout.quarantine("fhir_raw") / "part-0.parquet", QUARANTINE_SCHEMA)
    return root


@pytest.fixture
def root(tmp_path: Path) -> Root:
    return build_root(tmp_path / "root")
