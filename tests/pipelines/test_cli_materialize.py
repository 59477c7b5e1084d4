"""`longitude materialize` as a user runs it: a clear refusal without a secret, a full build with one."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TEST_SECRET, write_bundle, write_ndjson
from tests.fhir_fixtures import encounter, lab, patient

pytestmark = pytest.mark.integration


def _longitude(*args: str, secret: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    if secret:
        env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    fhir = tmp_path / "landing" / "fhir"
    for i in range(6):
        write_bundle(fhir / f"p{i}.json", [patient(f"p{i}"), encounter(f"e{i}", f"p{i}", "2019-01-01T10:00:00Z"),
                                           lab(f"o{i}", f"p{i}", "2019-01-01T10:05:00Z")])  # fmt: skip
    write_ndjson(fhir / "bad.ndjson", ["{not json"])
    return tmp_path


def test_materialize_without_a_secret_stops_with_a_clear_message(root: Path):
    run = _longitude("materialize", "--root", str(root), secret=False)
    assert run.returncode != 0
    assert "LONGITUDE_SECRET is not set" in run.stderr and "Traceback" not in run.stderr
    assert not (root / "meds").exists()


def test_materialize_builds_meds_and_catalog_and_rebuilds_identically(root: Path):
    run = _longitude("materialize", "--root", str(root), "--shards", "2", "--workers", "1")
    assert run.returncode == 0, run.stderr
    shards = sorted((root / "meds" / "data").glob("*/*.parquet"))
    assert shards and (root / "meds" / "metadata" / "codes.parquet").exists()
    con = duckdb.connect(str(root / "catalog.duckdb"), read_only=True)
    assert con.execute("select count(distinct subject_id) from meds_data").fetchone() == (6,)
    assert con.execute("select sum(n_quarantined) from ledger where asset = 'fhir_raw'").fetchone() == (1,)
    con.close()
    digest = {p.name + p.parent.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in shards}
    again = _longitude("materialize", "--root", str(root), "--workers", "1")  # shard count remembered by the root
    assert again.returncode == 0, again.stderr
    assert digest == {p.name + p.parent.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in shards}
    refused = _longitude("materialize", "--root", str(root), "--shards", "3")
    assert refused.returncode != 0 and "was built with 2 shards" in refused.stderr


def test_select_materializes_only_the_selection(root: Path):
    run = _longitude("materialize", "--root", str(root), "--select", "fhir_raw", "--workers", "1")
    assert run.returncode == 0, run.stderr
    assert (root / "raw" / "fhir" / "events").is_dir() and not (root / "meds").exists()
