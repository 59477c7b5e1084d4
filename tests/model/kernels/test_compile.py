"""The kernels build for an H100 (sm_90) with Triton's own compiler and ptxas, no GPU needed."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_every_kernel_compiles_for_sm90_within_shared_memory():
    # The interpreter (which the other tests here use) runs kernels as Python and would accept code the
    # compiler rejects, so this compiles them for real, in a process without TRITON_INTERPRET.
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_DEFAULT_FP_FUSION"] = "1"  # the current default, stated to silence Triton 3.9's warning
    done = subprocess.run(
        [sys.executable, "-m", "model.kernels.compile_check", "--arch", "90"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    built = [line.split(":")[0] for line in done.stdout.splitlines() if "compiled for sm_90" in line]
    assert built == [
        "attention forward",
        "attention dK/dV",
        "attention dQ",
        "cross-entropy rows",
        "pack",
        "unpack",
    ]
