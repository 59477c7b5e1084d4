"""Text saved as "Unicode" with no byte-order mark (UTF-16, two bytes a character): a CSV table is read with
its columns found, and a note is text, not a binary body."""

import json
from pathlib import Path

import pytest

from tests.hostile.harness import run_notes, run_tables

_MAPPING = """source: src
tables:
  patients: {file: patients.csv}
  labs: {file: labs.csv}
subjects: {table: patients, key: id, birth: birth, names: [name]}
events:
  - {table: labs, subject: pid, code: "LAB//{code}", time: time, numeric_value: value}
"""


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_table_without_a_mark_is_read(tmp_path: Path, encoding: str):
    src = tmp_path / "landing" / "tables" / "src"
    src.mkdir(parents=True)
    (src / "mapping.yaml").write_text(_MAPPING)
    (src / "patients.csv").write_text("id,name,birth\np1,Zoë Example,1961-04-12\n")
    labs = "pid,code,time,value\r\np1,GLU,2020-01-01T00:00:00Z,5.5\r\np1,NA,2020-01-02T00:00:00Z,139\r\n"
    (src / "labs.csv").write_bytes(labs.encode(encoding))
    outcome = run_tables(tmp_path)
    assert outcome.quarantine == []
    assert outcome.accepted == 3  # the patient and both labs


def test_a_utf16_note_without_a_mark_is_text(tmp_path: Path):
    notes = tmp_path / "landing" / "notes"
    notes.mkdir(parents=True)
    (notes / "a.txt").write_bytes("Seen in clinic; afebrile, 37.0 °C.\r\n".encode("utf-16-le"))
    (notes / "a.json").write_text(json.dumps({"subject": "p1", "time": "2020-01-02T10:00:00Z"}))
    outcome = run_notes(tmp_path)
    assert outcome.quarantine == [] and outcome.accepted == 1
