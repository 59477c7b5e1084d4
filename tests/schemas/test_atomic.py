"""The single-file protocol: a file killed mid-write is the old file; the leftover temp file is swept."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.atomic import replacing, write_text
from schemas.publish import CRASH_ENV, sweep

REPO = Path(__file__).resolve().parents[2]


def test_a_process_killed_between_write_and_rename_leaves_the_old_file_and_a_swept_temp(tmp_path: Path):
    target = tmp_path / "quality" / "ledger" / "fhir_raw.parquet"
    write_text("old\n", target)
    code = f"from schemas.atomic import write_text; write_text('new\\n', {str(target)!r})"
    env = {**os.environ, CRASH_ENV: "write"}
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, timeout=60)
    assert run.returncode == -9  # SIGKILL at the crash point
    assert target.read_text() == "old\n"
    leftovers = [p for p in target.parent.iterdir() if p != target]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".fhir_raw.parquet.")
    assert leftovers[0].read_text() == "new\n"  # written whole, never renamed
    assert sweep(tmp_path) == leftovers and sorted(target.parent.iterdir()) == [target]


def test_an_error_while_writing_leaves_the_target_and_no_temp(tmp_path: Path):
    target = tmp_path / "catalog.duckdb"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("the writer failed")
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]


def test_a_library_that_creates_its_own_file_gets_a_fresh_path(tmp_path: Path):
    import duckdb

    target = tmp_path / "catalog.duckdb"
    with replacing(target, create=False) as tmp:
        assert not tmp.exists()
        con = duckdb.connect(str(tmp))
        con.execute("create view v as select 1 as x")
        con.close()
    con = duckdb.connect(str(target), read_only=True)
    assert con.execute("select x from v").fetchall() == [(1,)]
    con.close()
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.duckdb"]
