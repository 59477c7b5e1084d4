"""`longitude tables draft`: a first mapping from the extract's structure that loads and checks cleanly."""

import shutil
from pathlib import Path

from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.defs.tables.check import check_source
from pipelines.defs.tables.draft import draft_mapping
from pipelines.defs.tables.mapping import load_mapping

FIXTURE = Path(__file__).parent / "fixtures" / "mimic"


def _extract(tmp_path: Path) -> Path:
    dest = tmp_path / "hospital-x"
    shutil.copytree(FIXTURE, dest)
    (dest / "mapping.yaml").unlink()
    return dest


def test_the_draft_finds_subjects_times_and_dictionaries_and_checks_clean(tmp_path: Path):
    extract = _extract(tmp_path)
    path = extract / "mapping.yaml"
    path.write_text(draft_mapping(extract, "hospital-x"))
    m = load_mapping(path)
    assert (m.subjects.table, m.subjects.key) == ("patients", "subject_id")  # unique there, refers to nothing
    rules = {e.table: e for e in m.events}
    assert set(rules) == {
        "admissions",
        "diagnoses_icd",
        "labevents",
        "omr",
        "transfers",
        "chartevents",
        "vitals_wide",
    }
    assert rules["chartevents"].time == "charttime" and rules["omr"].time == "chartdate"
    assert rules["chartevents"].code == "CHARTEVENTS//{itemid}"  # the column the d_items dictionary is keyed by
    assert rules["diagnoses_icd"].time is None  # no time of its own: a TODO says so
    assert "d_labitems, d_items" in path.read_text() and m.ignore == ["README.txt"]
    report = check_source(m, extract)
    assert report.ok, report.problems
    assert sum(r.events for r in report.rules) > 20


def test_cli_writes_the_draft_once(tmp_path: Path):
    extract = _extract(tmp_path)
    out = tmp_path / "draft.yaml"
    runner = CliRunner()
    first = runner.invoke(cli, ["tables", "draft", str(extract), "-o", str(out)])
    assert first.exit_code == 0, first.output
    assert load_mapping(out).source == "hospital-x"
    again = runner.invoke(cli, ["tables", "draft", str(extract), "-o", str(out)])
    assert again.exit_code != 0 and "exists" in again.output


def test_the_draft_of_an_omop_extract_finds_person_and_checks_clean(tmp_path: Path):
    import zipfile

    from tests.conftest import shared_dir

    archive = shared_dir("omop-synthea27") / "Synthea27Nj_5.4.zip"
    extract = tmp_path / "omop"
    with zipfile.ZipFile(archive) as z:
        z.extractall(extract, [n for n in z.namelist() if not n.startswith("__MACOSX")])
    (extract / "mapping.yaml").write_text(draft_mapping(extract, "omop-draft"))
    m = load_mapping(extract / "mapping.yaml")
    assert (m.subjects.table, m.subjects.key) == ("person", "person_id")
    report = check_source(m, extract)
    assert report.ok, report.problems
