"""Fused projection + cross-entropy: peak memory and time against materialized logits (the reference).

python -m model.kernels.cross_entropy.bench        # CUDA
"""

from __future__ import annotations

import torch

from model.kernels import use_backend
from model.kernels._bench import time_ms
from model.kernels.cross_entropy import linear_cross_entropy


def bench_cross_entropy(
    *, device: str = "cuda", n_tokens: int = 65536, dim: int = 768, vocab: int = 8192,
    dtype: torch.dtype = torch.bfloat16, reps: int = 10, backends: tuple[str, ...] = ("reference", "triton"),
) -> list[dict]:  # fmt: skip
    """Per backend: fwd+bwd ms and, on CUDA, peak bytes allocated above the inputs during fwd+bwd."""
    gen = torch.Generator(device=device).manual_seed(0)
    hidden = torch.randn(n_tokens, dim, device=device, dtype=dtype, generator=gen).requires_grad_()
    weight = (0.02 * torch.randn(vocab, dim, device=device, generator=gen)).requires_grad_()  # fp32 master
    labels = torch.randint(0, vocab, (n_tokens,), device=device, generator=gen)
    labels[::17] = -100
    autocast = torch.autocast(device_type=torch.device(device).type, dtype=dtype)
    rows = []
    for backend in backends:

        def step(backend=backend):
            with use_backend(backend), autocast:
                loss = linear_cross_entropy(hidden, weight, labels)
            loss.backward()
            hidden.grad = weight.grad = None
            return loss.detach()

        peak = None
        if hidden.is_cuda:
            step()
            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            step()
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - base
        ms = time_ms(step, device, reps=reps)
        rows.append({"backend": backend, "fwd_bwd_ms": ms, "peak_bytes": peak, "loss": float(step())})
    return rows


if __name__ == "__main__":
    for row in bench_cross_entropy():
        print(row)
