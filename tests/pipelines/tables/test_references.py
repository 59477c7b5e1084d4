"""Every column a mapping refers to is read, wherever it is referred to; `tables check` names each one missing."""

from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.tables.check import check_source
from pipelines.defs.tables.ingest import ingest_tables
from pipelines.defs.tables.mapping import load_mapping
from pipelines.defs.tables.references import references
from schemas.layout import Layout
from tests.conftest import TEST_SECRET

# Synthea-shaped: the reason of an encounter is in REASONCODE; only a `where` and an `each` part's `where` name
# REASONCODE and SEVERITY; vitals are wide and one column (FLAG) only filters them.
PATIENTS = "Id,BIRTHDATE,FIRST,LAST\np1,1970-01-01,Ann,Lee\np2,1980-05-05,Bo,Kim\n"
ENCOUNTERS = """\
Id,START,PATIENT,CODE,REASONCODE,SEVERITY
e1,2020-01-01T10:00:00Z,p1,185345009,195662009,high
e2,2020-02-01T10:00:00Z,p1,410620009,,
e3,2020-03-01T10:00:00Z,p2,185345009,444814009,low
e4,2020-04-01T10:00:00Z,p2,185349003,10509002,high
"""
VITALS = "PATIENT,DATE,HR,RR,FLAG\np1,2020-01-01T10:00:00Z,80,16,ok\np2,2020-01-02T10:00:00Z,90,,error\n"
MAPPING = """\
source: syn
tables:
  patients: {file: patients.csv}
  encounters: {file: encounters.csv}
  vitals: {file: vitals.csv}
subjects: {table: patients, key: Id, birth: BIRTHDATE, names: [FIRST, LAST]}
events:
  - table: encounters
    name: reasons
    subject: PATIENT
    where: "REASONCODE IS NOT NULL"
    code: "ENCOUNTER_REASON//{CODE}"
    time: START
  - table: encounters
    name: severe
    subject: PATIENT
    code: "ENCOUNTER//{CODE}"
    time: START
    each:
      - {where: "SEVERITY = 'high'", code: "SEVERE//{CODE}"}
  - table: vitals
    subject: PATIENT
    where: "FLAG <> 'error'"
    unpivot: {columns: [HR, RR], name: vital, value: reading}
    code: "VITAL//{vital}"
    time: DATE
    numeric_value: reading
"""


def _source(tmp_path: Path, mapping: str = MAPPING) -> Path:
    src = tmp_path / "landing" / "tables" / "syn"
    src.mkdir(parents=True)
    for name, text in (("patients", PATIENTS), ("encounters", ENCOUNTERS), ("vitals", VITALS)):
        (src / f"{name}.csv").write_text(text)
    (src / "mapping.yaml").write_text(mapping)
    return src


def test_columns_named_only_by_a_where_are_read_and_select_their_rows(tmp_path: Path):
    src = _source(tmp_path)
    layout = Layout(tmp_path)
    [summary] = ingest_tables(layout, Keyring(TEST_SECRET), 1)
    assert summary.quarantined == 0
    ev = pl.read_parquet(sorted(layout.raw.glob("tables/syn/events/*/*.parquet")), hive_partitioning=False)
    codes = ev.group_by("code").len().sort("code").rows()
    assert [c for c in codes if c[0].startswith("ENCOUNTER_REASON//")] == [
        ("ENCOUNTER_REASON//185345009", 2),
        ("ENCOUNTER_REASON//185349003", 1),
    ]
    assert sorted(ev.filter(pl.col("code").str.starts_with("SEVERE//"))["code"]) == [
        "SEVERE//185345009",
        "SEVERE//185349003",
    ]
    assert ev.filter(pl.col("code").str.starts_with("VITAL//")).height == 2  # p2's flagged row: none
    refs = {(r.table, r.column) for r in references(load_mapping(src / "mapping.yaml"))}
    assert {("encounters", "REASONCODE"), ("encounters", "SEVERITY"), ("vitals", "FLAG")} <= refs
    assert ("vitals", "vital") not in refs and ("vitals", "reading") not in refs  # made by the unpivot


@pytest.mark.parametrize(
    ("old", "new", "words", "kind"),
    [
        ('"REASONCODE IS NOT NULL"', '"REASON_CODE IS NOT NULL"', ["'REASON_CODE'", "events[0].where"], "problem"),
        ("\"SEVERITY = 'high'\"", "\"SEVERITYX = 'high'\"", ["'SEVERITYX'", "each[0].where"], "problem"),
        ("\"FLAG <> 'error'\"", "\"FLAGS <> 'error'\"", ["'FLAGS'", "did you mean 'FLAG'"], "problem"),
        ("names: [FIRST, LAST]", "names: [FIRST, SURNAME]", ["'SURNAME'", "subjects.names"], "warning"),
    ],
)
def test_check_names_a_referenced_column_the_header_lacks(tmp_path: Path, old, new, words, kind):
    src = _source(tmp_path, MAPPING.replace(old, new))
    report = check_source(load_mapping(src / "mapping.yaml"), src)
    found = report.problems if kind == "problem" else report.warnings
    assert any(all(w in line for w in words) for line in found), (report.problems, report.warnings)
    assert report.ok == (kind == "warning")


def test_check_reports_every_missing_column_of_a_rule_not_only_the_first(tmp_path: Path):
    broken = MAPPING.replace('"REASONCODE IS NOT NULL"', '"REASON IS NOT NULL"').replace(
        'code: "ENCOUNTER_REASON//{CODE}"', 'code: "ENCOUNTER_REASON//{KODE}"'
    )
    src = _source(tmp_path, broken)
    report = check_source(load_mapping(src / "mapping.yaml"), src)
    text = "\n".join(report.problems)
    assert "'REASON'" in text and "'KODE'" in text and "mapping.yaml:" in text
