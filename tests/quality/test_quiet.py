"""Quiet by default: `longitude quality` prints our summary only; `--verbose` lets Great Expectations' progress
bars through (hundreds of lines on a real root)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_SECRET
from tests.quality.conftest import build_root


def _quality(root: Path, *flags: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "quality", "--root", str(root), *flags]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def test_quality_is_quiet_unless_verbose(tmp_path: Path):
    root = build_root(tmp_path / "root")
    quiet = _quality(root.path)
    assert quiet.returncode == 0, quiet.stderr
    assert "Calculating Metrics" not in quiet.stderr and len(quiet.stderr.splitlines()) < 15, quiet.stderr
    assert "0 blocking failures, 0 open warnings" in quiet.stderr.replace("\n", " ")
    loud = _quality(root.path, "--verbose")
    assert loud.returncode == 0 and "Calculating Metrics" in loud.stderr
