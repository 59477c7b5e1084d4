"""Mappings are checked before any data is read, and every error names its file and line."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.defs.tables.mapping import SHIPPED, MappingError, load_mapping

GOOD = """\
source: tiny
tables:
  people: {file: people.csv}
  labs: {file: labs.csv}
maps:
  sex: {M: male}
subjects:
  table: people
  key: id
  sex: sex
  sex_map: sex
events:
  - table: labs
    subject: pid
    code: "LAB//{item}//{unit}"
    time: {date: day, time: clock, timezone: America/New_York}
    numeric_value: value
    unit: unit
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    return path


def test_shipped_mappings_are_valid():
    names = sorted(p.stem for p in SHIPPED.glob("*.yaml"))
    assert names == ["omop-cdm54", "synthea-csv"]
    for path in SHIPPED.glob("*.yaml"):
        load_mapping(path)


def test_a_good_mapping_loads(tmp_path: Path):
    m = load_mapping(_write(tmp_path, GOOD))
    assert m.events[0].time.timezone == "America/New_York"


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("table: labs", "table: lab"), 1, "unknown table 'lab'"),  # cross-reference errors point at the top
        (('code: "LAB//{item}//{unit}"', 'code: "LAB//{item:units}"'), 1, "unknown value map 'units'"),
        (("    subject: pid\n", "    subject: pid\n    colour: red\n"), 15, "events.0.colour: Extra inputs"),
        (("  key: id\n", ""), 8, "subjects.key: Field required"),
        (
            ("time: {date: day, time: clock, timezone: America/New_York}", "time: {time: clock}"),
            16,
            "events.0.time",
        ),
        (("source: tiny", "source: Not A Slug"), 1, "source"),
        (("timezone: America/New_York}", "timezone: America/New_York, format: '%Y-%m-%d %H'}"), 16, "not usable"),
        (("timezone: America/New_York}", "timezone: '+02:00'}"), 16, "fixed offset"),
        (("    unit: unit\n", "    unit: unit\n    compute: {x: 'open(unit)'}\n"), 19, "unknown function 'open'"),
    ],
)
def test_errors_name_the_line(tmp_path: Path, change, line, message):
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    text = str(err.value)
    assert f"{path}:{line}:" in text and message in text


def test_yaml_syntax_errors_name_the_line(tmp_path: Path):
    path = _write(tmp_path, GOOD.replace("  labs: {file: labs.csv}", "  labs: {file: labs.csv"))
    with pytest.raises(MappingError, match=rf"{path}:\d+: not valid YAML"):
        load_mapping(path)


def test_cli_check_reports_ok_and_errors(tmp_path: Path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["tables", "check", str(_write(tmp_path, GOOD))])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(cli, ["tables", "check", str(_write(tmp_path, GOOD.replace("table: labs", "table: x")))])
    assert bad.exit_code != 0 and "unknown table 'x'" in bad.output
