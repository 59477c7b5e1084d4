"""generate_landing and `longitude generate`: reproducible bytes, any worker count, safe replacement, speed."""

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from synthetic import generate_landing, landing
from synthetic.fhir import ts


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_for_any_worker_count(tmp_path: Path, monkeypatch) -> None:
    a = generate_landing(tmp_path / "a", 16, 7, workers=1)
    monkeypatch.setattr(landing, "CHUNK", 3)  # six tasks over two processes: each sees other neighbours
    b = generate_landing(tmp_path / "b", 16, 7, workers=2)
    assert a == b
    tree_a, tree_b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert len(tree_a) > 30
    assert tree_a == tree_b


def test_timestamps_keep_their_own_zone() -> None:
    # Equal instants in two zones are equal datetimes; the timestamp memo must not mix their offsets up.
    ny = datetime(2020, 7, 1, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    assert ts(ny) == "2020-07-01T12:00:00-04:00"
    assert ts(ny.astimezone(ZoneInfo("America/Chicago"))) == "2020-07-01T11:00:00-05:00"


def test_different_seed_gives_different_patients(tmp_path: Path) -> None:
    generate_landing(tmp_path / "a", 5, 1)
    generate_landing(tmp_path / "b", 5, 2)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a["truth/patients.jsonl"] != b["truth/patients.jsonl"]
    assert not {k for k in a if k.startswith("fhir/bundles/")} & {k for k in b if k.startswith("fhir/bundles/")}


def test_more_patients_extend_fewer(tmp_path: Path) -> None:
    generate_landing(tmp_path / "a", 4, 3)
    generate_landing(tmp_path / "b", 9, 3)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert b["truth/patients.jsonl"].startswith(a["truth/patients.jsonl"])
    assert all(b[k] == v for k, v in a.items() if k.startswith(("fhir/bundles/", "notes/", "dicom/")))


def test_rerun_replaces_its_own_tree(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    generate_landing(out, 6, 1)
    (out / "tables").mkdir()  # someone else's landing data is left alone
    (out / "tables" / "keep.csv").write_text("x\n")
    generate_landing(out, 2, 2)
    assert len((out / "truth" / "patients.jsonl").read_text().splitlines()) == 2
    assert len(list((out / "fhir" / "bundles").iterdir())) + _ndjson_patients(out) == 2
    assert (out / "tables" / "keep.csv").read_text() == "x\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_refuses_to_replace_files_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    (out / "fhir").mkdir(parents=True)
    (out / "fhir" / "real.json").write_text("{}")
    with pytest.raises(FileExistsError):
        generate_landing(out, 2, 1)
    assert (out / "fhir" / "real.json").read_text() == "{}"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_progress_reports_every_patient(tmp_path: Path) -> None:
    steps: list[int] = []
    generate_landing(tmp_path / "x", 37, 1, progress=steps.append)
    assert sum(steps) == 37 and len(steps) > 1


def test_cli_generate_writes_the_tree_and_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "root" / "landing"
    result = CliRunner().invoke(cli, ["generate", "--patients", "5", "--seed", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 synthetic patients" in result.output and "Observation" in result.output
    assert len((out / "truth" / "patients.jsonl").read_text().splitlines()) == 5
    (out / "fhir").rename(tmp_path / "elsewhere")
    (out / "truth" / "manifest.json").unlink()
    (out / "notes" / "stray.txt").write_text("x")
    result = CliRunner().invoke(cli, ["generate", "--patients", "5", "--out", str(out)])
    assert result.exit_code != 0 and "refusing" in result.output


def test_two_hundred_patients_take_a_few_cpu_seconds(tmp_path: Path) -> None:
    # CPU time, not wall time: this machine is shared. ~2.5 s measured here; 4x headroom for slower CI.
    cpu = time.process_time()
    summary = generate_landing(tmp_path / "x", 200, 11, workers=1)
    assert time.process_time() - cpu < 10
    assert summary["resources"]["Observation"] > 200 * 100


def _ndjson_patients(out: Path) -> int:
    path = out / "fhir" / "ndjson" / "Patient.ndjson"
    return len(path.read_text().splitlines()) if path.exists() else 0
