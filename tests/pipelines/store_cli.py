"""The CLI as the distributed object-store tests run it: a subprocess with a clean environment and the test key."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_SECRET


def cli_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without LONGITUDE_* and AWS_* (nothing leaks in), the test secret, `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGITUDE_", "AWS_"))}
    return env | {"LONGITUDE_SECRET": TEST_SECRET.decode(), "COLUMNS": "300", **extra}


def run_longitude(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)
