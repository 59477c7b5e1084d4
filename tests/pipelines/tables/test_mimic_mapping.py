"""The walkthrough's MIMIC-style extract, mapped with every language feature, through `longitude materialize`."""

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.tables.ingest import ingest_tables
from schemas.layout import Layout
from tests.conftest import TEST_SECRET

# Raw and MEDS times are naive UTC by the schema.
# ruff: noqa: DTZ001

FIXTURE = Path(__file__).parent / "fixtures" / "mimic"
KEYS = Keyring(TEST_SECRET)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "landing" / "tables" / "mimic")
    return tmp_path


def _raw(layout: Layout, table: str) -> pl.DataFrame:
    files = sorted(layout.raw.glob(f"tables/mimic-demo/{table}/*/*.parquet"))
    return pl.read_parquet(files, hive_partitioning=False)


def test_every_feature_maps_as_the_walkthrough_says(root: Path):
    layout = Layout(root)
    [summary] = ingest_tables(layout, KEYS, 2)
    ev = _raw(layout, "events")
    one = ev.filter(pl.col("source_patient") == "10001")
    # computed birth: anchor_year - anchor_age, 1 January, local midnight in New York -> 05:00 UTC
    assert one.filter(pl.col("code") == "MEDS_BIRTH")["time"].to_list() == [datetime(2098, 1, 1, 5)]
    # per-source zone with DST rules in the 2100s: winter EST (+5h), summer EDT (+4h)
    enc = one.filter(pl.col("code").str.starts_with("ENCOUNTER//")).sort("time")
    assert enc["time"].to_list() == [datetime(2150, 1, 10, 13, 30), datetime(2150, 7, 2, 14, 0)]
    # case/when computed class; text_value from an expression
    assert enc["code"].to_list() == ["ENCOUNTER//EMER", "ENCOUNTER//IMP"]
    assert enc["text_value"].to_list() == ["emergency room", "physician referral"]
    # 120/80 -> two events with a constant unit; 118/-- quarantines its row and keeps the systolic
    bp = ev.filter(pl.col("code").is_in(["LOINC//8480-6", "LOINC//8462-4"]))
    got = {(r["source_patient"], r["code"]): (r["numeric_value"], r["unit"]) for r in bp.to_dicts()}
    assert got == {
        ("10001", "LOINC//8480-6"): (120.0, "mm[Hg]"),
        ("10001", "LOINC//8462-4"): (80.0, "mm[Hg]"),
        ("10002", "LOINC//8480-6"): (142.0, "mm[Hg]"),
        ("10002", "LOINC//8462-4"): (91.0, "mm[Hg]"),
        ("10003", "LOINC//8480-6"): (118.0, "mm[Hg]"),
    }
    q = pl.read_parquet(layout.quarantine("tables_raw") / "mimic-demo.parquet")
    assert q.select("resource_type", "position", "reason_code").rows() == [("omr", 5, "INVALID_VALUE")]
    # one event per column, empty cells make none
    wide = ev.filter(pl.col("resource_type") == "vitals_wide")
    assert wide.height == 5 and set(wide["unit"]) == {"/min", "Cel"}
    # lab text results keep their text, numeric ones do not; coalesce builds the unit-less code
    labs = ev.filter(pl.col("code").str.starts_with("LAB//")).sort("code")
    assert labs.filter(pl.col("code") == "LAB//51266")["text_value"].to_list() == ["NEG"]
    assert labs.filter(pl.col("numeric_value").is_not_null())["text_value"].null_count() == 4
    # extra columns are kept (raw zone) keyed to their events
    extra = _raw(layout, "extra")
    assert set(extra.columns) >= {"hadm_id", "stay_id", "specimen_id", "source_file", "position", "code"}
    assert extra.filter(pl.col("code") == "LAB//51266")["specimen_id"].to_list() == ["70003"]
    # the unknown chart item and the unmapped transfers file are counted, the ignored README is not
    unmapped = pl.read_parquet(layout.unmapped("tables_raw"))
    assert unmapped.filter(pl.col("kind") == "code").select("item", "rule", "n").rows() == [
        ("CHART_UNKNOWN//229999", "chartevents", 1)
    ]
    files = unmapped.filter(pl.col("kind") == "file")
    assert files["n"].to_list() == [2] and files["item"].str.ends_with(".csv").all()
    assert "transfers" not in files["item"][0]  # a keyed label, never the delivered name
    ledger = pl.read_parquet(layout.ledger("tables_raw"))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
    assert ledger.filter(pl.col("record_type") == "(unmapped file)")["n_in"].to_list() == [2]
    assert summary.unmapped_files == 1 and summary.unrecognized_events == 1 and summary.subjects == 3


def test_materialize_takes_the_extract_to_meds_with_code_descriptions_and_parents(root: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "materialize", "--root", str(root),
           "--shards", "1", "--workers", "1", "--select", "tables_raw", "--select", "meds_data",
           "--select", "meds_codes"]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "tables_raw_everything_mapped" in run.stdout + run.stderr  # the run summary names what was left out
    data = pl.read_parquet(sorted((root / "meds" / "data").glob("*/*.parquet")))
    assert data["subject_id"].n_unique() == 3
    assert data.filter(pl.col("code") == "LOINC//8462-4")["numeric_value"].sort().to_list() == [80.0, 91.0]
    codes = pl.read_parquet(root / "meds" / "metadata" / "codes.parquet")
    hr = codes.filter(pl.col("code") == "CHART//220045").to_dicts()[0]
    assert hr["description"] == "Heart Rate" and hr["parent_codes"] == ["CHART_CATEGORY//Routine Vital Signs"]
    smear = codes.filter(pl.col("code") == "LAB//51266").to_dicts()[0]
    assert smear["parent_codes"] == ["LAB_CATEGORY//Hematology"]


def test_the_stewards_site_lists_unmapped_files_and_unrecognized_codes(root: Path):
    from quality.report import load_report
    from quality.site import render

    ingest_tables(Layout(root), KEYS, 1)
    report = load_report(root)
    assert sorted(report.unmapped["kind"].to_list()) == ["code", "file"]
    html = render(report, {}, False)
    section = html[html.index('id="unmapped"') : html.index('id="quarantine"')]
    assert "CHART_UNKNOWN//229999" in section and "landing/tables/" in section
    assert "transfers" not in html  # the delivered file name can carry PHI: only its keyed label is shown


def test_a_part_where_narrows_the_rule_rows_and_constants_fill_values(tmp_path: Path):
    src = tmp_path / "landing" / "tables" / "clinic"
    src.mkdir(parents=True)
    (src / "people.csv").write_text("id\np1\np2\n")
    (src / "obs.csv").write_text(
        "pid,when,kind,val\np1,2021-01-01,bp,120/80\np1,2021-01-02,temp,37.1\np2,2021-01-03,bp,110/70\n"
    )
    (src / "mapping.yaml").write_text(
        "source: clinic\ntables:\n  people: {file: people.csv}\n  obs: {file: obs.csv}\n"
        "subjects: {table: people, key: id}\n"
        "events:\n"
        "  - table: obs\n    subject: pid\n    time: when\n    code: OBS//{kind}\n    where: \"pid = 'p1'\"\n"
        "    each:\n"
        "      - {where: \"kind = 'bp'\", code: BP//SYS, numeric_value: {expr: \"split(val, '/', 0)\"}, unit: {const: 'mm[Hg]'}}\n"
        "      - {where: \"kind = 'temp'\", numeric_value: val, unit: {const: Cel}}\n"
        "      - {numeric_value: {const: 1}}\n"
    )
    [summary] = ingest_tables(Layout(tmp_path), KEYS, 1)
    ev = _raw_source(Layout(tmp_path), "clinic").filter(pl.col("source_patient") == "p1")
    got = sorted(
        (r["code"], r["numeric_value"], r["unit"]) for r in ev.filter(pl.col("time").is_not_null()).to_dicts()
    )
    assert got == [
        ("BP//SYS", 120.0, "mm[Hg]"),
        ("OBS//bp", 1.0, None),
        ("OBS//temp", 1.0, None),
        ("OBS//temp", 37.099998474121094, "Cel"),
    ]
    assert summary.quarantined == 0
    assert _raw_source(Layout(tmp_path), "clinic").filter(pl.col("source_patient") == "p2").height == 0


def _raw_source(layout: Layout, source: str) -> pl.DataFrame:
    return pl.read_parquet(sorted(layout.raw.glob(f"tables/{source}/events/*/*.parquet")), hive_partitioning=False)


def test_a_file_outside_any_source_folder_is_reported(root: Path):
    (root / "landing" / "tables" / "stray_export.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    ingest_tables(Layout(root), KEYS, 1)
    files = pl.read_parquet(Layout(root).unmapped("tables_raw")).filter(pl.col("kind") == "file")
    assert sorted(zip(files["source"], files["n"], strict=True)) == [("(no source folder)", 3), ("mimic-demo", 2)]
    ledger = pl.read_parquet(Layout(root).ledger("tables_raw"))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()


def test_an_unreadable_table_is_quarantined_and_its_rules_see_no_rows(root: Path):
    """A file the reader rejects whole (here: a symlink out of the root) is no mapping mistake: the run goes on."""
    src = root / "landing" / "tables" / "mimic" / "icu"
    outside = root.parent / "outside_vitals.csv"
    (src / "vitals_wide.csv").rename(outside)
    (src / "vitals_wide.csv").symlink_to(outside)
    [summary] = ingest_tables(Layout(root), KEYS, 1)
    q = pl.read_parquet(Layout(root).quarantine("tables_raw") / "mimic-demo.parquet")
    assert "vitals_wide" in q.filter(pl.col("position") == 0)["resource_type"].to_list()
    assert _raw(Layout(root), "events").filter(pl.col("resource_type") == "vitals_wide").height == 0
    assert summary.subjects == 3


def test_a_rule_without_time_makes_static_facts(tmp_path: Path):
    src = tmp_path / "landing" / "tables" / "clinic"
    src.mkdir(parents=True)
    (src / "people.csv").write_text("id\np1\np2\n")
    (src / "allergy.csv").write_text("pid,substance\np1,PENICILLIN\np2,\n")
    (src / "mapping.yaml").write_text(
        "source: clinic\ntables:\n  people: {file: people.csv}\n  allergy: {file: allergy.csv}\n"
        "subjects: {table: people, key: id}\n"
        "events:\n  - {table: allergy, subject: pid, code: 'ALLERGY//{substance}'}\n"
    )
    [summary] = ingest_tables(Layout(tmp_path), KEYS, 1)
    ev = _raw_source(Layout(tmp_path), "clinic")
    assert ev.select("source_patient", "time", "code").rows() == [("p1", None, "ALLERGY//PENICILLIN")]
    q = pl.read_parquet(Layout(tmp_path).quarantine("tables_raw") / "clinic.parquet")
    assert q.select("position", "reason_code").rows() == [(3, "MISSING_CODE")] and summary.quarantined == 1
