"""bench/gpu.py measures every GPU target in one command; GPU time is scarce, so the script itself is run
here at toy sizes on the CPU (Triton interpreter) to make sure it will not crash when a GPU is lent."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_bench_smoke_runs_every_section(tmp_path):
    out = tmp_path / "gpu.md"
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu.py"), "--smoke", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = out.read_text()
    for section in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5."):
        assert section in report, section
    assert "tokens/s" in report and "GB/s" in report


def test_gpu_bench_without_cuda_says_so():
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is here: the bench would run")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu.py")], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 2 and "needs a CUDA GPU" in result.stdout + result.stderr
