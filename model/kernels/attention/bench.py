"""Varlen attention speed: Triton vs PyTorch's flash varlen (and flash_attn, if installed) vs the reference.

python -m model.kernels.attention.bench            # CUDA; prints one row per implementation
"""

from __future__ import annotations

import torch

from model.kernels import triton_interpreting
from model.kernels._bench import first_rows, synthea_like_lengths, time_ms
from model.kernels.attention import reference
from model.kernels.packing import cu_seqlens, layout_rows


def _contenders(q, k, v, cu, row_len):
    """name -> fn(q, k, v) on (B, L, H, D) for every implementation present on this device."""
    n_rows, _, heads, dim = q.shape
    flat = (n_rows * row_len, heads, dim)
    out = {"reference": lambda q, k, v: reference.varlen_attention(q, k, v, cu)}
    if q.is_cuda or triton_interpreting():
        from model.kernels.attention import triton as kernel

        out["triton"] = lambda q, k, v: kernel.varlen_attention(q, k, v, cu)
    if q.is_cuda:
        from torch.nn.attention.varlen import varlen_attn

        max_len = int((cu[1:] - cu[:-1]).max())  # host ints once, outside the timed region
        out["torch_varlen"] = lambda q, k, v: varlen_attn(
            q.reshape(flat), k.reshape(flat), v.reshape(flat), cu, cu, max_len, max_len, window_size=(-1, 0)
        )
        try:
            from flash_attn import flash_attn_varlen_func
        except ImportError:
            pass
        else:
            out["flash_attn"] = lambda q, k, v: flash_attn_varlen_func(
                q.reshape(flat), k.reshape(flat), v.reshape(flat), cu, cu, max_len, max_len, causal=True
            )
    return out


def bench_attention(
    *, device: str = "cuda", n_rows: int = 16, row_len: int = 2048, heads: int = 12, head_dim: int = 64,
    dtype: torch.dtype = torch.bfloat16, reps: int = 20, names: tuple[str, ...] | None = None,
) -> list[dict]:  # fmt: skip
    """One dict per implementation: forward and forward+backward ms and TFLOP/s on Synthea-like rows."""
    lengths = first_rows(synthea_like_lengths(4 * n_rows * row_len, max_len=row_len), row_len, n_rows)
    layout = layout_rows(lengths, row_len, n_rows=n_rows).to(device)
    cu = cu_seqlens(layout)
    seg = (cu[1:] - cu[:-1]).double()
    flops_fwd = float(4 * heads * head_dim * (seg * (seg + 1) / 2).sum())  # QK^T and PV over the causal half
    gen = torch.Generator(device=device).manual_seed(0)
    q, k, v = (
        torch.randn(n_rows, row_len, heads, head_dim, device=device, dtype=dtype, generator=gen).requires_grad_()
        for _ in range(3)
    )
    grad = torch.randn_like(q)
    rows = []
    for name, fn in _contenders(q, k, v, cu, row_len).items():
        if names is not None and name not in names:
            continue

        def fwd_bwd(fn=fn):
            out = fn(q, k, v)
            torch.autograd.grad(out, (q, k, v), grad.reshape(out.shape))

        with torch.no_grad():
            fwd = time_ms(lambda fn=fn: fn(q, k, v), device, reps=reps)
        both = time_ms(fwd_bwd, device, reps=reps)
        rows.append(
            {
                "impl": name, "fwd_ms": fwd, "fwd_bwd_ms": both,
                "fwd_tflops": flops_fwd / fwd / 1e9, "fwd_bwd_tflops": 3.5 * flops_fwd / both / 1e9,
                "tokens": int(lengths.sum()), "segments": int(seg.numel()),
            }
        )  # fmt: skip  # backward ~2.5x forward FLOPs (FlashAttention-2 convention), so fwd+bwd = 3.5x
    return rows


def max_abs_error(*, device: str = "cuda", dtype: torch.dtype = torch.bfloat16) -> float:
    """Triton vs PyTorch varlen output difference on one bench-shaped row (a sanity check for the timing)."""
    rows = 2
    lengths = first_rows(synthea_like_lengths(8 * 2048, max_len=2048), 2048, rows)
    layout = layout_rows(lengths, 2048, n_rows=rows).to(device)
    cu = cu_seqlens(layout)
    q, k, v = (torch.randn(rows, 2048, 12, 64, device=device, dtype=dtype) for _ in range(3))
    impls = _contenders(q, k, v, cu, 2048)
    return float(
        (impls["triton"](q, k, v).float() - impls["torch_varlen"](q, k, v).float().view(q.shape)).abs().max()
    )


if __name__ == "__main__":
    for row in bench_attention():
        print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()})
    print("max |triton - torch_varlen| =", max_abs_error(), "(bf16, 2 rows of 2048)")
