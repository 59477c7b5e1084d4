"""User mistakes end in one short message and a non-zero exit, never a traceback (unless --debug), and a
mistyped root is never created."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET, write_bundle
from tests.fhir_fixtures import patient


def _longitude(*args: str, secret: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    if secret:
        env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    env["COLUMNS"] = "300"
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_bundle(tmp_path / "hospital" / "landing" / "fhir" / "p0.json", [patient("p0")])
    return tmp_path / "hospital"


def _short(run: subprocess.CompletedProcess) -> str:
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    return run.stderr


@pytest.mark.parametrize("command", [("materialize",), ("quality",), ("quality", "history"),
                                     ("quality", "accept", "check:x", "--note", "n")])  # fmt: skip
def test_a_mistyped_root_is_refused_with_the_closest_root_and_never_created(root: Path, command: tuple):
    typo = root.parent / "hospitl"
    err = _short(_longitude(*command, "--root", str(typo), cwd=root.parent))
    assert f"{typo} does not exist. Did you mean {root}?" in err
    assert not typo.exists() and not (root.parent / "longitude-data").exists()


def test_review_subcommands_take_root_and_write_no_stray_default_root(root: Path, tmp_path: Path):
    err = _short(_longitude("quality", "history", cwd=tmp_path))  # no --root, no LONGITUDE_ROOT
    assert "longitude-data does not exist" in err and not (tmp_path / "longitude-data").exists()
    assert _longitude("quality", "history", "--root", str(root), cwd=tmp_path).returncode == 0
    assert not (tmp_path / "longitude-data").exists()


def test_a_mistyped_review_target_is_refused_with_a_suggestion(root: Path):
    (root / "quarantine").mkdir()
    run = _longitude("quality", "--root", str(root), "--no-gx")
    assert run.returncode == 0, run.stderr
    err = _short(_longitude("quality", "accept", "check:phi_audit/no_phi_outside_phi_zone", "--note", "x",
                            "--root", str(root)))  # fmt: skip
    assert "did you mean check:phi_audit/no_phi_outside_phi_zones?" in err
    ok = _longitude("quality", "comment", "check:phi_audit/no_phi_outside_phi_zones", "--note", "seen", "--root",
                    str(root))  # fmt: skip
    assert ok.returncode == 0 and "commented on check:phi_audit/no_phi_outside_phi_zones" in ok.stderr


def test_an_unknown_asset_gets_a_did_you_mean(root: Path):
    err = _short(_longitude("materialize", "--root", str(root), "--select", "meds_dat"))
    assert "no asset named 'meds_dat'; did you mean meds_data" in err


def test_a_missing_secret_is_one_message(root: Path):
    err = _short(_longitude("materialize", "--root", str(root), secret=False))
    assert "LONGITUDE_SECRET is not set" in err and len(err.strip().splitlines()) <= 3


def test_a_mapping_error_names_the_step_and_the_problem(root: Path):
    tables = root / "landing" / "tables" / "clinic"
    tables.mkdir(parents=True)
    (tables / "visits.csv").write_text("pid,when\n1,2020-01-01\n")
    (tables / "mapping.yaml").write_text("tables: [this is not a mapping\n")
    err = _short(_longitude("materialize", "--root", str(root), "--select", "tables_raw"))
    assert "tables_raw failed" in err and "mapping.yaml" in err


def test_help_imports_nothing_heavy():
    # `longitude --help` must stay < 0.3 s: no numpy, pyarrow, polars, dagster, torch or Presidio at start.
    probe = ("import sys, pipelines.cli; heavy = ('numpy', 'pyarrow', 'polars', 'dagster', 'torch', 'presidio_analyzer',"
             " 'great_expectations', 'deid'); print(sorted(m for m in heavy if m in sys.modules))")  # fmt: skip
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr


def test_an_unknown_partition_gets_a_did_you_mean_and_the_valid_ones(root: Path):
    err = _short(_longitude("materialize", "--root", str(root), "--select", "meds_data", "--partition", "13"))
    assert "no partition '13'; did you mean 3? partitions are 0, 1, 2, 3" in err


def test_a_partition_narrows_per_shard_steps():
    from pipelines.definitions import defs
    from pipelines.materialize import plan

    steps = plan(defs, ["meds_data"], ["2"])
    assert [(tuple(k.to_user_string() for k in s.keys), s.partition_keys) for s in steps] == [
        (("meds_data",), ("2",))
    ]
