"""Our MEDS output is readable by meds_reader (in bench/.venv-interop, whose polars<2 pin conflicts with ours)."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.model.synthetic_meds import SyntheticSpec, write_synthetic_meds

REPO = Path(__file__).resolve().parents[2]
INTEROP_PY = REPO / "bench" / ".venv-interop" / "bin" / "python"


@pytest.mark.slow
@pytest.mark.integration
def test_meds_reader_reads_every_event_of_our_meds_root(tmp_path):
    if not INTEROP_PY.exists():
        pytest.skip("bench/.venv-interop is absent (see bench/results/tokens.md to create it)")
    write_synthetic_meds(tmp_path / "root", SyntheticSpec(n_subjects=20, seed=11))
    cmd = [str(INTEROP_PY), str(REPO / "bench" / "tokens.py"), "--peer", "--reader-only", "--out", str(tmp_path)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["meds_reader_ok"], result
    assert result["meds_reader_events"] > 0
