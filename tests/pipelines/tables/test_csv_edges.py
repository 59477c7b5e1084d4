"""Hostile CSV edges: empty and header-only files, null markers in numeric values, repeated header names."""

from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.tables.ingest import ingest_tables
from pipelines.defs.tables.mapping import DEFAULT_NULL_VALUES, MappingError, load_mapping
from schemas.layout import Layout
from tests.conftest import TEST_SECRET

KEYS = Keyring(TEST_SECRET)
PEOPLE = "id,born\np1,1970-01-01\np2,1980-05-05\n"


def _source(root: Path, tables: str, rule: str, files: dict[str, bytes | str]) -> Path:
    src = root / "landing" / "tables" / "clinic"
    src.mkdir(parents=True)
    (src / "mapping.yaml").write_text(
        f"source: clinic\ntables:\n  people: {{file: people.csv}}\n{tables}"
        f"subjects: {{table: people, key: id, birth: born}}\nevents:\n{rule}"
    )
    (src / "people.csv").write_text(PEOPLE)
    for name, body in files.items():
        (src / name).write_bytes(body.encode() if isinstance(body, str) else body)
    return src


LABS = "  labs: {file: 'labs*.csv'}\n"
RULE = "  - {table: labs, subject: pid, code: 'LAB//{item}', time: at, numeric_value: value}\n"


def _ingest(root: Path, files: dict[str, bytes | str], tables: str = LABS, rule: str = RULE):
    """(layout, the source's summary) after mapping `files` beside the people table."""
    _source(root, tables, rule, files)
    layout = Layout(root)
    [summary] = ingest_tables(layout, KEYS, 2)
    return layout, summary


def _ledger(layout: Layout) -> dict[str, tuple]:
    """Delivered file name -> (record type, in, out, quarantined, events), through the PHI-zone label map."""
    labels = pl.read_parquet(layout.raw / "_file_labels" / "tables_raw.parquet")
    path_of = dict(zip(labels["label"], labels["source_file"], strict=True))
    ledger = pl.read_parquet(layout.ledger("tables_raw"))
    return {Path(path_of[r[0]]).name: r[1:]
            for r in ledger.select("source_file", "record_type", "n_in", "n_out", "n_quarantined",
                                   "n_events").rows()}  # fmt: skip


def _quarantine(layout: Layout) -> pl.DataFrame:
    return pl.read_parquet(layout.quarantine("tables_raw") / "clinic.parquet")


def _events(layout: Layout) -> pl.DataFrame:
    files = sorted(layout.raw.glob("tables/clinic/events/*/*.parquet"))
    return pl.read_parquet(files, hive_partitioning=False).filter(pl.col("code").str.starts_with("LAB//"))


def test_every_landed_file_has_a_ledger_row_empty_ones_quarantined(tmp_path: Path):
    good = "pid,item,at,value\np1,GLU,2020-01-01,5.1\np2,GLU,2020-01-02,6.2\n"
    layout, summary = _ingest(tmp_path, {
        "labs_a.csv": good,
        "labs_b.csv": "pid,item,at,value\n",  # header only: a legitimate empty extract
        "labs_c.csv": b"",  # 0 bytes: most likely a failed export
        "labs_d.csv": "\r\n\r\n",  # only blank lines: no header either
        "labs_e.csv": "\ufeffpid,item,at,value\r\n",  # BOM and header only
    })  # fmt: skip
    ledger = _ledger(layout)
    assert ledger["labs_a.csv"] == ("labs", 2, 2, 0, 2)
    assert ledger["labs_b.csv"] == ("labs", 0, 0, 0, 0)
    assert ledger["labs_e.csv"] == ("labs", 0, 0, 0, 0)
    assert ledger["labs_c.csv"] == ("labs", 1, 0, 1, 0)  # the file itself is the one quarantined record
    assert ledger["labs_d.csv"] == ("labs", 1, 0, 1, 0)
    q = _quarantine(layout)
    empty = q.filter(pl.col("reason_code") == "EMPTY_FILE")
    assert sorted(Path(f).name for f in empty["source_file"]) == ["labs_c.csv", "labs_d.csv"]
    assert empty["position"].to_list() == [0, 0] and empty["record"].is_null().all()
    assert q.height == 2 and _events(layout).height == 2  # the run went on: the good file's events are there
    assert summary.quarantined == 2


def test_a_table_whose_only_file_is_empty_is_quarantined_not_unmapped(tmp_path: Path):
    layout, summary = _ingest(tmp_path, {"labs.csv": b""})
    assert _ledger(layout)["labs.csv"] == ("labs", 1, 0, 1, 0)
    assert _quarantine(layout)["reason_code"].to_list() == ["EMPTY_FILE"]
    assert summary.unmapped_files == 0


def test_null_markers_in_a_numeric_column_keep_the_event_with_no_number(tmp_path: Path):
    rows = [("NA", None), ("NULL", None), ("N/A", None), ("\\N", None), (" na ", None), ("#N/A", None),
            ("<NA>", None), ("7.5", 7.5), ("12..5", "bad"), ("high", "bad"), ("nan", "nan")]  # fmt: skip
    body = "pid,item,at,value\n" + "".join(f"p1,GLU,2020-01-{i + 1:02d},{v}\n" for i, (v, _) in enumerate(rows))
    layout, summary = _ingest(tmp_path, {"labs.csv": body})
    q = _quarantine(layout)
    assert q.select("position", "reason_code").rows() == [(10, "INVALID_VALUE"), (11, "INVALID_VALUE")]
    assert not q["reason"].str.contains("12..5|high").any()
    ev = _events(layout).sort("time")
    assert ev["code"].to_list() == ["LAB//GLU"] * 9  # 7 markers, 7.5, and nan (NON_FINITE at the MEDS build)
    values = ev["numeric_value"].to_list()
    assert values[:7] == [None] * 7 and values[7] == 7.5 and values[8] != values[8]
    assert summary.null_markers == 7
    assert _ledger(layout)["labs.csv"] == ("labs", 11, 9, 2, 9)


def test_null_values_per_table_and_per_column_replace_the_default(tmp_path: Path):
    tables = ("  labs: {file: labs.csv, null_values: {value: ['-999', ND]}}\n"
              "  vitals: {file: vitals.csv, null_values: [missing, NaN]}\n")  # fmt: skip
    rule = RULE + "  - {table: vitals, subject: pid, code: 'VITAL//{item}', time: at, numeric_value: value}\n"
    labs = "pid,item,at,value\np1,GLU,2020-01-01,-999\np1,GLU,2020-01-02,ND\np1,GLU,2020-01-03,NA\n"
    vitals = "pid,item,at,value\np1,HR,2020-01-01,missing\np1,HR,2020-01-02,NaN\np1,HR,2020-01-03,NA\n"
    layout, summary = _ingest(tmp_path, {"labs.csv": labs, "vitals.csv": vitals}, tables, rule)
    q = _quarantine(layout)
    # labs: the column's list is its markers (NA no longer); vitals: the table's list replaces the default
    assert sorted((Path(f).name, p) for f, p in zip(q["source_file"], q["position"], strict=True)) == [
        ("labs.csv", 4), ("vitals.csv", 4)]  # fmt: skip
    files = sorted(layout.raw.glob("tables/clinic/events/*/*.parquet"))
    vital = pl.read_parquet(files, hive_partitioning=False).filter(pl.col("code") == "VITAL//HR")
    assert vital.height == 2 and vital["numeric_value"].null_count() == 2  # a listed NaN is no value too
    assert summary.null_markers == 4


def test_null_markers_never_apply_to_codes_or_subjects(tmp_path: Path):
    body = "pid,item,at,value\nNA,GLU,2020-01-01,1\np1,NA,2020-01-02,2\np1,GLU,2020-01-03,NA\n"
    layout, _ = _ingest(tmp_path, {"labs.csv": body})
    assert _quarantine(layout).select("position", "reason_code").rows() == [(2, "MISSING_PATIENT")]
    ev = _events(layout).sort("time")
    assert ev["code"].to_list() == ["LAB//NA", "LAB//GLU"] and ev["numeric_value"].to_list() == [2.0, None]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("NA", "null_values is one string"),
        ("[NA, NULL]", r"null_values\[1\]: YAML reads an unquoted null"),
        ("[NA, -999]", r"null_values\[1\]: YAML reads it as a number, not text; quote"),
        ("[NA, NO]", r"null_values\[1\]: YAML reads it as a yes/no"),
        ("{value: NA}", "null_values.value must be a list of strings"),
        ("[NA, '']", r"null_values\[1\] is empty"),
        ("7", "null_values must be a list or a mapping"),
    ],
)
def test_a_wrong_null_values_names_the_line_and_what_to_write(tmp_path: Path, value: str, message: str):
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "source: clinic\ntables:\n  people: {file: people.csv}\n"
        f"  labs:\n    file: labs.csv\n    null_values: {value}\n"
        "subjects: {table: people, key: id}\nevents: []\n"
    )
    with pytest.raises(MappingError, match=message) as err:
        load_mapping(path)
    assert f"{path}:6: tables.labs.null_values" in str(err.value)


def test_the_default_markers_are_never_numbers():
    import math

    for marker in DEFAULT_NULL_VALUES:
        try:
            number = float(marker)
        except ValueError:
            continue
        pytest.fail(f"{marker!r} reads as {number} (nan: {math.isnan(number)})")


def test_a_repeated_header_name_a_rule_reads_quarantines_the_file(tmp_path: Path):
    good = "pid,item,at,value\np1,GLU,2020-01-01,5.1\n"
    twice = "pid,item,at,value,value\np1,GLU,2020-01-02,5.2,MARKER-9\np2,GLU,2020-01-03,5.3,MARKER-8\n"
    layout, summary = _ingest(tmp_path, {"labs_a.csv": good, "labs_b.csv": twice})
    q = _quarantine(layout)
    assert q.select("position", "reason_code").rows() == [(0, "AMBIGUOUS_COLUMN")]
    assert Path(q["source_file"][0]).name == "labs_b.csv"
    assert "'value' at columns 4, 5" in q["reason"][0] and "MARKER" not in q["reason"][0]
    assert _events(layout)["numeric_value"].to_list() == [pytest.approx(5.1)]  # the other file goes on
    assert _ledger(layout)["labs_b.csv"] == ("labs", 1, 0, 1, 0)
    assert summary.repeated_columns == []


def test_a_repeated_header_name_no_rule_reads_is_a_warning_naming_file_and_column(tmp_path: Path):
    body = "pid,item,at,value,note,note\np1,GLU,2020-01-02,5.2,MARKER-1,MARKER-2\n"
    layout, summary = _ingest(tmp_path, {"labs.csv": body})
    assert _quarantine(layout).height == 0 and _events(layout).height == 1
    [line] = summary.repeated_columns
    assert "columns 5, 6 are all named 'note'" in line and "table labs" in line
    assert "labs.csv" not in line and line.split("file ")[1].startswith("landing/tables/")  # the ledger label
    assert "MARKER" not in line


def test_a_file_without_a_header_repeating_a_value_is_reported_without_the_value(tmp_path: Path):
    # No header: the first row stands where the names would be, and two of its cells repeat a value.
    files = {"labs_a.csv": "pid,item,at,value\np1,GLU,2020-01-01,5\n", "labs_b.csv": "p1,Smith,Smith,4\n"}
    layout, summary = _ingest(tmp_path, files)
    [line] = summary.repeated_columns
    assert "columns 2, 3 have one name" in line and "Smith" not in line
    q = _quarantine(layout)
    assert q["reason_code"].to_list() == ["MISSING_COLUMN"] and not q["reason"].str.contains("Smith").any()


@pytest.mark.parametrize("head_only", [False, True])
def test_check_names_empty_files_ambiguous_headers_and_repeats(tmp_path: Path, monkeypatch, head_only: bool):
    from pipelines.defs.tables import landing
    from pipelines.defs.tables.check import check_source

    if head_only:  # a big file is checked on its head only: the header is still judged
        monkeypatch.setattr(landing, "SAMPLE_BYTES", 0)

    good = "pid,item,at,value,note,note\np1,GLU,2020-01-01,5.1,a,b\n"
    files = {
        "labs_a.csv": good,
        "labs_b.csv": b"",
        "labs_c.csv": "pid,item,at,value,value\np1,GLU,2020-01-02,1,2\n",
    }
    src = _source(tmp_path, LABS, RULE, files)
    report = check_source(load_mapping(src / "mapping.yaml"), src)
    assert [p for p in report.problems if "labs_c.csv" in p and "AMBIGUOUS_COLUMN" in p]
    assert [w for w in report.warnings if "labs_b.csv" in w and "EMPTY_FILE" in w]
    assert [w for w in report.warnings if "labs_a.csv" in w and "columns 5, 6 are all named 'note'" in w]


def test_null_values_empty_list_turns_markers_off(tmp_path: Path):
    tables = "  labs: {file: labs.csv, null_values: []}\n"
    layout, summary = _ingest(tmp_path, {"labs.csv": "pid,item,at,value\np1,GLU,2020-01-01,NA\n"}, tables)
    assert _quarantine(layout).select("position", "reason_code").rows() == [(2, "INVALID_VALUE")]
    assert summary.null_markers == 0


def test_a_rule_may_read_the_later_of_two_same_named_columns_by_its_read_name(tmp_path: Path):
    rule = "  - {table: labs, subject: pid, code: 'LAB//{item}', time: at, numeric_value: value_duplicated_0}\n"
    body = "pid,item,at,value,value\np1,GLU,2020-01-01,1,2\n"
    layout, summary = _ingest(tmp_path, {"labs.csv": body}, LABS, rule)
    assert _events(layout)["numeric_value"].to_list() == [2.0]
    assert len(summary.repeated_columns) == 1 and _quarantine(layout).height == 0


def test_a_repeated_name_read_as_a_plain_text_value_is_ambiguous_too(tmp_path: Path):
    rule = "  - {table: labs, subject: pid, code: 'LAB//{item}', time: at, text_value: note}\n"
    body = "pid,item,at,note,note\np1,GLU,2020-01-01,MARKER-1,MARKER-2\n"
    layout, summary = _ingest(tmp_path, {"labs.csv": body}, LABS, rule)
    assert _quarantine(layout).select("position", "reason_code").rows() == [(0, "AMBIGUOUS_COLUMN")]
    assert summary.repeated_columns == []


def test_a_subject_without_its_optional_source_id_is_named_by_its_key(tmp_path: Path):
    # OMOP's person_source_value may be empty: the person and their events stay, under an id of their own
    src = tmp_path / "landing" / "tables" / "clinic"
    src.mkdir(parents=True)
    (src / "mapping.yaml").write_text(
        "source: clinic\ntables:\n  people: {file: people.csv}\n  labs: {file: labs.csv}\n"
        "subjects: {table: people, key: id, id: source_value, birth: born}\nevents:\n" + RULE
    )
    (src / "people.csv").write_text("id,source_value,born\n1,,1970-01-01\n2,1,1980-05-05\n3,  ,1990-01-01\n")
    (src / "labs.csv").write_text("pid,item,at,value\n1,GLU,2020-01-01 08:00,5.5\n2,GLU,2020-01-01 08:00,6.1\n"
                                  "3,GLU,2020-01-01 08:00,4.9\n")  # fmt: skip
    layout = Layout(tmp_path)
    ingest_tables(layout, KEYS, 2)
    assert not (layout.quarantine("tables_raw") / "clinic.parquet").exists() or _quarantine(layout).height == 0
    events = _events(layout)
    # three people, three subjects: person 1's key never becomes person 2's source value "1"
    assert events.height == 3 and events["source_patient"].n_unique() == 3
    assert sorted(events["source_patient"]) == ["1", "people.id=1", "people.id=3"]
