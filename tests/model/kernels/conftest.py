"""Kernel tests run Triton in its CPU interpreter unless a CUDA device is present, where they compile.

`triton.jit` decides at decoration time whether a kernel is interpreted, so TRITON_INTERPRET must be set
before a kernel module is imported; kernel modules imported earlier in this process are reloaded.
"""

import importlib
import os
import sys

import pytest
import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"
    for _name in [m for m in sys.modules if m.startswith("model.kernels.") and m.endswith(".triton")]:
        importlib.reload(sys.modules[_name])


@pytest.fixture
def device() -> torch.device:
    """Where the Triton side runs: the GPU when there is one, else the CPU through the interpreter."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@pytest.fixture
def triton_backend():
    from model.kernels import use_backend

    with use_backend("triton"):
        yield
