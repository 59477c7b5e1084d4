"""`longitude tables check` runs a mapping on a sample of its data and catches what would fail a run."""

import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.defs.tables.check import check_source
from pipelines.defs.tables.mapping import MappingError, load_mapping

FIXTURE = Path(__file__).parent / "fixtures" / "mimic"
MAPPING = (FIXTURE / "mapping.yaml").read_text()


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    dest = tmp_path / "mimic"
    shutil.copytree(FIXTURE, dest)
    return dest


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_walkthrough_mapping_checks_clean_and_previews_what_each_table_makes(extract: Path):
    report = check_source(load_mapping(extract / "mapping.yaml"), extract)
    assert report.ok, report.problems
    by_rule = {r.name: r for r in report.rules}
    assert dict(by_rule["omr (blood pressure) [0]"].codes) == {"LOINC//8480-6": 3}
    assert dict(by_rule["vitals_wide"].codes) == {"LOINC//8867-4": 1, "LOINC//9279-1": 2, "LOINC//8310-5": 2}
    assert by_rule["omr (blood pressure) [1]"].rejected == {"INVALID_VALUE": 1}  # 118/-- : a bad row, a warning
    assert any("hosp/transfers.csv" in w and "2 rows" in w for w in report.warnings)
    assert not any("README" in w for w in report.warnings)  # listed under `ignore`


def test_examples_are_de_identified(extract: Path):
    report = check_source(load_mapping(extract / "mapping.yaml"), extract, n_examples=50)
    ids = {"10001", "10002", "10003"}
    real_days = {
        line.split(",")[5][:10] for line in (extract / "icu" / "chartevents.csv").read_text().splitlines()[1:]
    }
    assert report.examples
    for e in report.examples:
        assert e["subject"].startswith("subject-") and not any(i in e["subject"] for i in ids)
        assert e["time"] is None or e["time"][:10] not in real_days
        assert e["text_value"] is None or re.fullmatch(r"<text, \d+ chars>", e["text_value"])


# Each mistake would fail (or silently empty) a run. (old text, new text, mapping text naming the line,
# words the message must carry: table and column)
BROKEN = [
    pytest.param('code: "CHART//{d_itemid}"', 'code: "CHART//{d_item_id}"', 'code: "CHART//{d_item_id}"',
                 ["'chartevents'", "'d_item_id'", "did you mean 'd_itemid'"], id="code-template-column"),
    pytest.param("numeric_value: valuenum", "numeric_value: value_num", "numeric_value: value_num",
                 ["'labevents'", "'value_num'"], id="numeric-value-column"),
    pytest.param("    time: charttime\n    numeric_value: reading", "    time: {column: charttime, format: \"%d/%m/%Y %H:%M\"}\n    numeric_value: reading",
                 "time: {column: charttime, format", ["'vitals_wide'", "time does not parse"], id="time-format"),
    pytest.param("    numeric_value: reading", "    numeric_value: vital", "numeric_value: vital",
                 ["'vitals_wide'", "numeric_value is not a number"], id="numeric-value-not-numeric"),
    pytest.param("keys: {itemid: itemid}", "keys: {itemid: item_id}", "keys: {itemid: item_id}",
                 ["'d_items'", "'item_id'"], id="join-key"),
    pytest.param("where: \"result_name <> 'Blood Pressure'\"", "where: \"result <> 'Blood Pressure'\"",
                 "where: \"result <> 'Blood Pressure'\"", ["'omr'", "result"], id="where-column"),
    pytest.param('"int(anchor_year) - int(anchor_age)"', '"int(anchor_year) - int(age_at_anchor)"',
                 "birth_year:", ["'patients'", "'age_at_anchor'"], id="computed-column"),
    pytest.param("subject: subject_id\n    unpivot", "subject: subjectid\n    unpivot", "subject: subjectid",
                 ["'vitals_wide'", "'subjectid'"], id="subject-column"),
    pytest.param("{file: icu/d_items.csv}", "{file: icu/d_item.csv}", "d_items: {file: icu/d_item.csv}",
                 ["'d_items'", "icu/d_item.csv"], id="file-glob"),
    pytest.param("columns: [heartrate, respiration, temperature_c]", "columns: [heart_rate, respiration, temperature_c]",
                 "columns: [heart_rate", ["'vitals_wide'", "'heart_rate'"], id="unpivot-column"),
    pytest.param("description: label, parent: \"CHART_CATEGORY", "description: labels, parent: \"CHART_CATEGORY",
                 "description: labels", ["'d_items'", "'labels'"], id="vocabulary-column"),
    pytest.param("death: dod", "death: date_of_death", "death: date_of_death", ["'patients'", "'date_of_death'"],
                 id="subject-death-column"),
    pytest.param("    time: admittime\n", "    time: {column: admittime, format: \"%Y%m%d\"}\n", "admittime, format",
                 ["'admissions'", "time does not parse"], id="time-format-subjects-rule"),
    pytest.param('unit_text: "case(result_name', 'unit_text: "case(resultname', "unit_text:",
                 ["'omr'", "'resultname'"], id="rule-computed-column"),
    pytest.param("unit: unit_text", "unit: units_text", "unit: units_text", ["'omr'", "'units_text'"],
                 id="unit-column"),
    pytest.param("    time: dischtime\n    optional_time: true\n", "    time: deathtime\n", "time: deathtime",
                 ["'admissions'", "time is empty"], id="time-mostly-empty"),
    pytest.param("extra: {stay_id: stay_id}", "extra: {stay_id: stayid}", "extra: {stay_id: stayid}",
                 ["'vitals_wide'", "'stayid'"], id="extra-column"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "anchor", "words"), BROKEN)
def test_every_broken_mapping_is_caught_with_file_line_table_and_column(extract, old, new, anchor, words):
    assert old in MAPPING, old
    text = MAPPING.replace(old, new, 1)
    path = extract / "mapping.yaml"
    path.write_text(text)
    report = check_source(load_mapping(path), extract)
    assert not report.ok
    line = _line_of(text, anchor)
    hits = [p for p in report.problems if f"{path}:{line}:" in p]
    assert hits, (line, report.problems)
    assert all(any(w in p for p in hits) for w in words), (words, hits)


def test_a_vocabulary_that_spells_codes_differently_is_flagged(extract: Path):
    path = extract / "mapping.yaml"
    path.write_text(
        MAPPING.replace(
            'code: "CHART//{itemid}", description: label', 'code: "ITEM//{itemid}", description: label'
        )
    )
    report = check_source(load_mapping(path), extract)
    assert any("vocabulary[1]" in w and "'d_items'" in w and "describes none" in w for w in report.warnings)


def test_a_broken_mapping_fails_the_run_that_check_warned_about(extract, tmp_path):
    """The check is not stricter than the run: the same column mistake stops ingest_tables."""
    from deid.pseudonym import Keyring
    from pipelines.defs.tables.ingest import ingest_tables
    from schemas.layout import Layout

    root = tmp_path / "root"
    shutil.copytree(extract, root / "landing" / "tables" / "mimic")
    path = root / "landing" / "tables" / "mimic" / "mapping.yaml"
    path.write_text(MAPPING.replace('code: "CHART//{d_itemid}"', 'code: "CHART//{d_item_id}"'))
    with pytest.raises(MappingError, match=r"mapping.yaml:\d+: .*'chartevents' has no column 'd_item_id'"):
        ingest_tables(Layout(root), Keyring(b"0123456789abcdef0123"), 1)


def test_cli_check_prints_the_preview_and_fails_on_a_mistake(extract: Path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["tables", "check", str(extract / "mapping.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "LOINC//8480-6" in ok.output and "hosp/transfers.csv" in ok.output and "10001" not in ok.output
    (extract / "mapping.yaml").write_text(MAPPING.replace("numeric_value: reading", "numeric_value: readings"))
    bad = runner.invoke(cli, ["tables", "check", str(extract)])
    assert bad.exit_code != 0 and "'readings'" in bad.output


def test_a_big_file_is_sampled_from_its_head_with_real_positions(extract: Path, monkeypatch):
    from pipelines.defs.tables import engine, landing

    monkeypatch.setattr(landing, "SAMPLE_BYTES", 0)  # every CSV counts as big
    report = check_source(load_mapping(extract / "mapping.yaml"), extract, sample=2)
    assert report.ok, report.problems
    labs = next(r for r in report.rules if r.name == "labevents")
    assert labs.rows == 2 and labs.events == 2
    from deid.pseudonym import Keyring

    mapped = engine.map_source(
        load_mapping(extract / "mapping.yaml"), extract, extract, Keyring(b"k" * 20), sample=2
    )
    lab_rows = mapped.events.filter(pl.col("resource_type") == "labevents")
    assert lab_rows["__file"].unique().to_list() == ["hosp/labevents.csv"]
    assert sorted(lab_rows["__position"].to_list()) == [2, 3]  # CSV lines of the real file


def test_a_where_that_fails_on_a_value_names_the_line_but_never_the_value(extract: Path):
    path = extract / "mapping.yaml"
    text = MAPPING.replace(
        "where: \"result_name = 'Blood Pressure'\"", 'where: "CAST(result_value AS INTEGER) > 0"'
    )
    path.write_text(text)
    report = check_source(load_mapping(path), extract)
    [problem] = report.problems
    line = _line_of(text, "CAST(result_value")
    assert f"{path}:{line}:" in problem and "TRY_CAST" in problem
    assert "120/80" not in problem and "118" not in problem


def test_a_table_sampled_for_its_own_rules_is_read_whole_as_a_dictionary(extract: Path, monkeypatch):
    from pipelines.defs.tables import landing

    monkeypatch.setattr(landing, "SAMPLE_BYTES", 0)
    report = check_source(load_mapping(extract / "mapping.yaml"), extract, sample=2)
    assert report.ok, report.problems
    dx = next(r for r in report.rules if r.name == "diagnoses_icd")
    # admissions' rules saw 2 rows; the join still finds the 4th admission's discharge for E119
    assert dict(dx.codes) == {"ICD10CM//I10": 1}
    report = check_source(load_mapping(extract / "mapping.yaml"), extract, sample=3)
    dx = next(r for r in report.rules if r.name == "diagnoses_icd")
    assert dict(dx.codes) == {"ICD10CM//I10": 1, "ICD10CM//E119": 1} and not dx.rejected
