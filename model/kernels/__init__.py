"""Kernel dispatch: Triton on CUDA, the plain-PyTorch reference elsewhere, with an override for tests and benches.

Each op lives in its own subpackage (`attention`, `cross_entropy`, `packing`): `reference.py` is the spec,
`triton.py` the kernels, `__init__.py` the public function that calls `backend_for` to choose between them.

The choice, in order: `use_backend(...)` (a context manager, for tests and benches), then the environment
variable `LONGITUDE_KERNELS=auto|triton|reference`, then `auto` = Triton when every tensor is on CUDA and
triton imports, else the reference. Asking for `triton` on CPU tensors is only allowed under
`TRITON_INTERPRET=1`, the Triton interpreter the CPU tests use.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

BACKENDS = ("auto", "triton", "reference")
ENV_VAR = "LONGITUDE_KERNELS"

_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("longitude_kernels", default=None)


def _check(name: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f"unknown kernel backend {name!r}; expected one of {BACKENDS}")
    return name


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Force a backend inside the block: `with use_backend("reference"): loss = model(batch)`."""
    token = _override.set(_check(name))
    try:
        yield
    finally:
        _override.reset(token)


def triton_interpreting() -> bool:
    """True when Triton kernels run in its CPU interpreter (set before triton is first imported)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def triton_available() -> bool:
    return importlib.util.find_spec("triton") is not None


def requested_backend() -> str:
    return _override.get() or _check(os.environ.get(ENV_VAR, "auto"))


def backend_for(*tensors: torch.Tensor) -> str:
    """`"triton"` or `"reference"` for an op whose inputs are `tensors`."""
    name = requested_backend()
    on_cuda = all(t.is_cuda for t in tensors)
    if name == "auto":
        return "triton" if on_cuda and triton_available() else "reference"
    if name == "triton":
        if not triton_available():
            raise RuntimeError(f"{ENV_VAR}=triton but the triton package is not installed")
        if not on_cuda and not triton_interpreting():
            raise RuntimeError(
                f"{ENV_VAR}=triton needs CUDA tensors, or TRITON_INTERPRET=1 set before triton is imported "
                "to run the kernels in Triton's CPU interpreter"
            )
    return name
