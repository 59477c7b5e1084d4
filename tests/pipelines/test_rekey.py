"""`longitude rekey`: the one way to change a root's secret; it deletes everything derived and re-pins."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.commands.rekey import command as rekey
from pipelines.settings import SettingsError, pin, read_pinned, settings_from_env
from schemas.run_lock import LOCK_FILE, run_lock
from tests.conftest import TEST_SECRET

NEW = "a-new-secret-for-this-root-5f3c9d"


def _built_root(tmp_path: Path) -> Path:
    pin(settings_from_env(tmp_path, n_shards=2, environ={"LONGITUDE_SECRET": TEST_SECRET.decode()}))
    (tmp_path / "landing" / "fhir").mkdir(parents=True)
    (tmp_path / "landing" / "fhir" / "a.json").write_text("{}")
    for d in ("raw", "meds", "quarantine", "tokens"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "x.parquet").write_bytes(b"")
    (tmp_path / "catalog.duckdb").write_bytes(b"")
    return tmp_path


def test_rekey_deletes_derived_outputs_keeps_landing_and_pins_the_new_secret(tmp_path: Path):
    root = _built_root(tmp_path)
    old = read_pinned(root)["secret_fingerprint"]
    run = CliRunner().invoke(rekey, ["--root", str(root), "--yes"], env={"LONGITUDE_SECRET": NEW})
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in root.iterdir()) == [LOCK_FILE, "landing", "longitude.json"]  # the lock stays
    assert (root / "landing" / "fhir" / "a.json").exists()
    pinned = read_pinned(root)
    assert pinned["secret_fingerprint"] != old and pinned["n_shards"] == 2
    settings_from_env(root, environ={"LONGITUDE_SECRET": NEW})
    with pytest.raises(SettingsError, match="different"):
        settings_from_env(root, environ={"LONGITUDE_SECRET": TEST_SECRET.decode()})


def test_rekey_with_a_weak_secret_deletes_nothing(tmp_path: Path):
    root = _built_root(tmp_path)
    run = CliRunner().invoke(rekey, ["--root", str(root), "--yes"], env={"LONGITUDE_SECRET": "z" * 30})
    assert run.exit_code != 0 and "too weak" in run.output
    assert (root / "meds" / "x.parquet").exists()


def test_materialize_with_another_secret_stops_with_a_message_not_a_traceback(tmp_path: Path):
    import os
    import subprocess
    import sys

    root = _built_root(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    env["LONGITUDE_SECRET"] = NEW
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "materialize", "--root", str(root)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "different LONGITUDE_SECRET" in run.stderr and "longitude rekey" in run.stderr
    assert NEW not in run.stderr and (root / "meds" / "x.parquet").exists()  # nothing touched


def test_rekey_while_a_run_holds_the_root_deletes_nothing(tmp_path: Path):
    root = _built_root(tmp_path)
    before = sorted(p.name for p in root.iterdir())
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "rekey", "--root", str(root), "--yes"]
    with run_lock(root, wait=False, command="longitude materialize"):  # a run in this process holds the root
        run = subprocess.run(cmd, capture_output=True, text=True, env={"LONGITUDE_SECRET": NEW},
                             cwd=Path(__file__).resolve().parents[2], timeout=120)  # fmt: skip
    assert run.returncode == 1 and "is being written by" in run.stderr, run.stderr[-2000:]
    assert sorted(p.name for p in root.iterdir()) == sorted([*before, LOCK_FILE])
    assert (root / "raw" / "x.parquet").exists() and read_pinned(root)["n_shards"] == 2
