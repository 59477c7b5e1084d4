"""Document-masked causal flash attention in Triton: forward, and backward as separate dK/dV and dQ passes.

Instead of a per-segment grid (which needs max_seqlen on the host, a sync), the grid tiles the flattened
token stream. Each token carries its segment's [start, end) (`reference.token_segments`); a query tile only
visits key tiles from its earliest segment start to its own diagonal, and a key tile only visits query tiles
up to its latest segment end, so work is ~sum(len_i^2)/2 plus one partial tile per boundary. Backward keeps
dK/dV and dQ in two kernels (FlashAttention-2 style) so there are no atomics and gradients are deterministic.
Softmax runs in base 2 (scale folded with log2(e)) and the saved LSE is in that base.
"""

# ruff: noqa: N803  (Triton constexpr parameters are UPPER_CASE, STYLE.md section 2)

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from model.kernels import triton_interpreting
from model.kernels.attention.reference import token_segments

_LOG2E = 1.4426950408889634


@dataclass(frozen=True, slots=True)
class _Tiles:
    block_m: int
    block_n: int
    num_warps: int
    num_stages: int


def _tiles(head_dim: int, *, backward: bool, dkdv: bool = False) -> _Tiles:
    if triton_interpreting():
        # The interpreter runs tiles as NumPy arrays: 16 (tl.dot's minimum) keeps CPU tests fast and makes
        # the small test shapes span several tiles, so the loop bounds and tile-crossing masks are exercised.
        return _Tiles(16, 16, 1, 1)
    if not backward:
        # Triton fused-attention tutorial settings for H100 at head_dim 64/128 (128x64 tiles, 4 warps,
        # 3 stages); head_dim > 128 halves BLOCK_M to stay inside 228 KB of shared memory. Not re-swept
        # here: this task had no GPU; bench/gpu.py prints the timing to revisit them.
        return _Tiles(128 if head_dim <= 128 else 64, 64, 4 if head_dim <= 64 else 8, 3)
    # Tutorial backward: dK/dV holds a 128-key tile and streams 32-query tiles; dQ is the transpose.
    return _Tiles(32, 128, 4, 3) if dkdv else _Tiles(128, 32, 4, 3)


@triton.jit
def _split(lo, hi, full_lo, full_hi):
    """[lo, hi) as masked [lo, a), mask-free [a, b), masked [b, hi); [a, b) is empty unless full_lo < full_hi."""
    a = tl.minimum(full_lo, hi)
    b = tl.maximum(tl.minimum(full_hi, hi), a)
    return a, b


@triton.jit
def _fwd_tiles(
    acc, l_i, m_i, q, offs_m, start, k_ptr, v_ptr, stride_kt, stride_vt, offs_d, d_ok,
    n_tokens, qk_scale, lo, hi,
    MASKED: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        n_ok = offs_n < n_tokens
        kt = tl.load(
            k_ptr + offs_n[None, :] * stride_kt + offs_d[:, None], mask=n_ok[None, :] & d_ok[:, None], other=0.0
        )
        v = tl.load(
            v_ptr + offs_n[:, None] * stride_vt + offs_d[None, :], mask=n_ok[:, None] & d_ok[None, :], other=0.0
        )
        s = tl.dot(q, kt, input_precision=PRECISION) * qk_scale  # (M, N), log2 domain
        if MASKED:
            allowed = (offs_n[None, :] <= offs_m[:, None]) & (offs_n[None, :] >= start[:, None])
            s = tl.where(allowed, s, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, axis=1))
            m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)  # a row with no key yet in this tile
        else:
            m_new = tl.maximum(m_i, tl.max(s, axis=1))
            m_safe = m_new
        p = tl.exp2(s - m_safe[:, None])
        alpha = tl.exp2(m_i - m_safe)
        l_i = l_i * alpha + tl.sum(p, axis=1)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
        m_i = m_new
    return acc, l_i, m_i


@triton.jit
def _attn_fwd_kernel(
    q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr, start_ptr,
    n_tokens, qk_scale,
    stride_qt, stride_qh, stride_kt, stride_kh, stride_vt, stride_vh, stride_ot, stride_oh,
    HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
    PRECISION: tl.constexpr,
):  # fmt: skip
    pid_m = tl.program_id(0)
    head = tl.program_id(1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    m_ok = offs_m < n_tokens
    d_ok = offs_d < HEAD_DIM
    q = tl.load(
        q_ptr + offs_m[:, None] * stride_qt + head * stride_qh + offs_d[None, :],
        mask=m_ok[:, None] & d_ok[None, :], other=0.0,
    )  # fmt: skip
    start = tl.load(start_ptr + offs_m, mask=m_ok, other=n_tokens)  # rows past the end attend nothing
    lo = (tl.min(start, axis=0) // BLOCK_N) * BLOCK_N
    hi = tl.minimum((pid_m + 1) * BLOCK_M, n_tokens)
    # Key tiles every row of this query tile sees whole: at or after every row's segment start, and
    # wholly at or before the tile's first row. They skip the mask; the rest (segment starts, diagonal) pay it.
    full_lo = ((tl.max(start, axis=0) + BLOCK_N - 1) // BLOCK_N) * BLOCK_N
    full_hi = ((pid_m * BLOCK_M + 1) // BLOCK_N) * BLOCK_N
    a, b = _split(lo, hi, full_lo, full_hi)

    m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
    k_ptr += head * stride_kh
    v_ptr += head * stride_vh
    args = (q, offs_m, start, k_ptr, v_ptr, stride_kt, stride_vt, offs_d, d_ok, n_tokens, qk_scale)
    acc, l_i, m_i = _fwd_tiles(acc, l_i, m_i, *args, lo, a, True, BLOCK_N, PRECISION)
    acc, l_i, m_i = _fwd_tiles(acc, l_i, m_i, *args, a, b, False, BLOCK_N, PRECISION)
    acc, l_i, m_i = _fwd_tiles(acc, l_i, m_i, *args, b, hi, True, BLOCK_N, PRECISION)

    l_safe = tl.where(l_i > 0.0, l_i, 1.0)
    out = acc / l_safe[:, None]
    tl.store(
        o_ptr + offs_m[:, None] * stride_ot + head * stride_oh + offs_d[None, :],
        out.to(o_ptr.dtype.element_ty), mask=m_ok[:, None] & d_ok[None, :],
    )  # fmt: skip
    tl.store(lse_ptr + head * n_tokens + offs_m, m_i + tl.log2(l_safe), mask=m_ok)


@triton.jit
def _dkdv_tiles(
    dk, dv, k, v, offs_n, q_ptr, do_ptr, lse_ptr, delta_ptr, start_ptr, stride_qt, stride_dot, offs_d, d_ok,
    n_tokens, qk_scale, lo, hi,
    MASKED: tl.constexpr, BLOCK_M: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    for start_m in range(lo, hi, BLOCK_M):
        offs_m = start_m + tl.arange(0, BLOCK_M)
        m_ok = offs_m < n_tokens
        md_mask = m_ok[:, None] & d_ok[None, :]
        q = tl.load(q_ptr + offs_m[:, None] * stride_qt + offs_d[None, :], mask=md_mask, other=0.0)
        do = tl.load(do_ptr + offs_m[:, None] * stride_dot + offs_d[None, :], mask=md_mask, other=0.0)
        lse = tl.load(lse_ptr + offs_m, mask=m_ok, other=0.0)
        delta = tl.load(delta_ptr + offs_m, mask=m_ok, other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale - lse[:, None]  # (M, N)
        if MASKED:
            start = tl.load(start_ptr + offs_m, mask=m_ok, other=n_tokens)
            allowed = (offs_n[None, :] <= offs_m[:, None]) & (offs_n[None, :] >= start[:, None]) & m_ok[:, None]
            s = tl.where(allowed, s, float("-inf"))  # masked before exp2: no overflow
        p = tl.exp2(s)
        dv += tl.dot(tl.trans(p.to(do.dtype)), do, input_precision=PRECISION)
        dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)  # (M, N)
        ds = p * (dp - delta[:, None])
        dk += tl.dot(tl.trans(ds.to(q.dtype)), q, input_precision=PRECISION)
    return dk, dv


@triton.jit
def _attn_bwd_dkdv_kernel(
    q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, start_ptr, end_ptr, dk_ptr, dv_ptr,
    n_tokens, qk_scale, sm_scale,
    stride_qt, stride_qh, stride_kt, stride_kh, stride_vt, stride_vh, stride_dot, stride_doh,
    stride_gt, stride_gh,
    HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
    PRECISION: tl.constexpr,
):  # fmt: skip
    pid_n = tl.program_id(0)
    head = tl.program_id(1)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    n_ok = offs_n < n_tokens
    d_ok = offs_d < HEAD_DIM
    nd_mask = n_ok[:, None] & d_ok[None, :]
    k = tl.load(k_ptr + offs_n[:, None] * stride_kt + head * stride_kh + offs_d[None, :], mask=nd_mask, other=0.0)
    v = tl.load(v_ptr + offs_n[:, None] * stride_vt + head * stride_vh + offs_d[None, :], mask=nd_mask, other=0.0)
    end = tl.load(end_ptr + offs_n, mask=n_ok, other=0)
    lo = ((pid_n * BLOCK_N) // BLOCK_M) * BLOCK_M
    hi = tl.minimum(tl.max(end, axis=0), n_tokens)
    # Query tiles that see every key of this tile: wholly at or after its last key, and before the end of
    # every key's segment (so the tile's keys share one segment; otherwise the range is empty).
    full_lo = ((pid_n * BLOCK_N + BLOCK_N - 1 + BLOCK_M - 1) // BLOCK_M) * BLOCK_M
    full_hi = (tl.min(end, axis=0) // BLOCK_M) * BLOCK_M
    a, b = _split(lo, hi, full_lo, full_hi)

    dk = tl.zeros([BLOCK_N, BLOCK_D], dtype=tl.float32)
    dv = tl.zeros([BLOCK_N, BLOCK_D], dtype=tl.float32)
    q_ptr += head * stride_qh
    do_ptr += head * stride_doh
    args = (
        k, v, offs_n, q_ptr, do_ptr, lse_ptr + head * n_tokens, delta_ptr + head * n_tokens, start_ptr,
        stride_qt, stride_dot, offs_d, d_ok, n_tokens, qk_scale,
    )  # fmt: skip
    dk, dv = _dkdv_tiles(dk, dv, *args, lo, a, True, BLOCK_M, PRECISION)
    dk, dv = _dkdv_tiles(dk, dv, *args, a, b, False, BLOCK_M, PRECISION)
    dk, dv = _dkdv_tiles(dk, dv, *args, b, hi, True, BLOCK_M, PRECISION)

    tl.store(
        dk_ptr + offs_n[:, None] * stride_gt + head * stride_gh + offs_d[None, :],
        (dk * sm_scale).to(dk_ptr.dtype.element_ty), mask=nd_mask,
    )  # fmt: skip
    tl.store(
        dv_ptr + offs_n[:, None] * stride_gt + head * stride_gh + offs_d[None, :],
        dv.to(dv_ptr.dtype.element_ty), mask=nd_mask,
    )  # fmt: skip


@triton.jit
def _dq_tiles(
    dq, q, do, lse, delta, offs_m, m_ok, start, k_ptr, v_ptr, stride_kt, stride_vt, offs_d, d_ok,
    n_tokens, qk_scale, lo, hi,
    MASKED: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        nd_mask = (offs_n < n_tokens)[:, None] & d_ok[None, :]
        k = tl.load(k_ptr + offs_n[:, None] * stride_kt + offs_d[None, :], mask=nd_mask, other=0.0)
        v = tl.load(v_ptr + offs_n[:, None] * stride_vt + offs_d[None, :], mask=nd_mask, other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale - lse[:, None]
        if MASKED:
            allowed = (offs_n[None, :] <= offs_m[:, None]) & (offs_n[None, :] >= start[:, None]) & m_ok[:, None]
            s = tl.where(allowed, s, float("-inf"))
        p = tl.exp2(s)
        dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)
        ds = p * (dp - delta[:, None])
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PRECISION)
    return dq


@triton.jit
def _attn_bwd_dq_kernel(
    q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, start_ptr, dq_ptr,
    n_tokens, qk_scale, sm_scale,
    stride_qt, stride_qh, stride_kt, stride_kh, stride_vt, stride_vh, stride_dot, stride_doh,
    stride_gt, stride_gh,
    HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
    PRECISION: tl.constexpr,
):  # fmt: skip
    pid_m = tl.program_id(0)
    head = tl.program_id(1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    m_ok = offs_m < n_tokens
    d_ok = offs_d < HEAD_DIM
    md_mask = m_ok[:, None] & d_ok[None, :]
    q = tl.load(q_ptr + offs_m[:, None] * stride_qt + head * stride_qh + offs_d[None, :], mask=md_mask, other=0.0)
    do = tl.load(
        do_ptr + offs_m[:, None] * stride_dot + head * stride_doh + offs_d[None, :], mask=md_mask, other=0.0
    )
    lse = tl.load(lse_ptr + head * n_tokens + offs_m, mask=m_ok, other=0.0)
    delta = tl.load(delta_ptr + head * n_tokens + offs_m, mask=m_ok, other=0.0)
    start = tl.load(start_ptr + offs_m, mask=m_ok, other=n_tokens)
    lo = (tl.min(start, axis=0) // BLOCK_N) * BLOCK_N
    hi = tl.minimum((pid_m + 1) * BLOCK_M, n_tokens)
    full_lo = ((tl.max(start, axis=0) + BLOCK_N - 1) // BLOCK_N) * BLOCK_N  # as in the forward
    full_hi = ((pid_m * BLOCK_M + 1) // BLOCK_N) * BLOCK_N
    a, b = _split(lo, hi, full_lo, full_hi)

    dq = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
    k_ptr += head * stride_kh
    v_ptr += head * stride_vh
    args = (
        q,
        do,
        lse,
        delta,
        offs_m,
        m_ok,
        start,
        k_ptr,
        v_ptr,
        stride_kt,
        stride_vt,
        offs_d,
        d_ok,
        n_tokens,
        qk_scale,
    )
    dq = _dq_tiles(dq, *args, lo, a, True, BLOCK_N, PRECISION)
    dq = _dq_tiles(dq, *args, a, b, False, BLOCK_N, PRECISION)
    dq = _dq_tiles(dq, *args, b, hi, True, BLOCK_N, PRECISION)

    tl.store(
        dq_ptr + offs_m[:, None] * stride_gt + head * stride_gh + offs_d[None, :],
        (dq * sm_scale).to(dq_ptr.dtype.element_ty), mask=md_mask,
    )  # fmt: skip


def _flat(x: torch.Tensor) -> torch.Tensor:
    """(B, L, H, D) -> (B*L, H, D) with unit stride on D (a view when the layout allows, e.g. a qkv split)."""
    x = x.reshape(-1, *x.shape[2:])
    return x if x.stride(-1) == 1 else x.contiguous()


def _precision(dtype: torch.dtype) -> str:
    # fp32 inputs are the exactness tests' dtype: keep full fp32 products rather than TF32's 10-bit mantissa.
    return "ieee" if dtype == torch.float32 else "tf32"


class _VarlenAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, start, end, sm_scale):  # type: ignore[override]
        n_rows, row_len, n_heads, head_dim = q.shape
        qf, kf, vf = _flat(q), _flat(k), _flat(v)
        n_tokens = qf.shape[0]
        out = torch.empty((n_tokens, n_heads, head_dim), dtype=q.dtype, device=q.device)
        lse = torch.empty((n_heads, n_tokens), dtype=torch.float32, device=q.device)
        t = _tiles(head_dim, backward=False)
        block_d = max(16, triton.next_power_of_2(head_dim))
        grid = (triton.cdiv(n_tokens, t.block_m), n_heads)
        _attn_fwd_kernel[grid](
            qf, kf, vf, out, lse, start, n_tokens, sm_scale * _LOG2E,
            qf.stride(0), qf.stride(1), kf.stride(0), kf.stride(1), vf.stride(0), vf.stride(1),
            out.stride(0), out.stride(1),
            HEAD_DIM=head_dim, BLOCK_D=block_d, BLOCK_M=t.block_m, BLOCK_N=t.block_n,
            PRECISION=_precision(q.dtype), num_warps=t.num_warps, num_stages=t.num_stages,
        )  # fmt: skip
        ctx.save_for_backward(qf, kf, vf, out, lse, start, end)
        ctx.sm_scale = sm_scale
        ctx.shape = q.shape
        return out.view(n_rows, row_len, n_heads, head_dim)

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        qf, kf, vf, out, lse, start, end = ctx.saved_tensors
        n_tokens, n_heads, head_dim = qf.shape
        do = grad_out.reshape(n_tokens, n_heads, head_dim).contiguous()
        delta = (do.float() * out.float()).sum(-1).t().contiguous()  # (H, T): rowsum(dO * O)
        dq = torch.empty((n_tokens, n_heads, head_dim), dtype=qf.dtype, device=qf.device)
        dk = torch.empty_like(dq)
        dv = torch.empty_like(dq)
        block_d = max(16, triton.next_power_of_2(head_dim))
        common = dict(HEAD_DIM=head_dim, BLOCK_D=block_d, PRECISION=_precision(qf.dtype))
        qk_scale = ctx.sm_scale * _LOG2E
        strides = (qf.stride(0), qf.stride(1), kf.stride(0), kf.stride(1), vf.stride(0), vf.stride(1))
        strides += (do.stride(0), do.stride(1), dq.stride(0), dq.stride(1))  # dq, dk, dv: contiguous
        t = _tiles(head_dim, backward=True, dkdv=True)
        _attn_bwd_dkdv_kernel[(triton.cdiv(n_tokens, t.block_n), n_heads)](
            qf, kf, vf, do, lse, delta, start, end, dk, dv, n_tokens, qk_scale, ctx.sm_scale, *strides,
            BLOCK_M=t.block_m, BLOCK_N=t.block_n, num_warps=t.num_warps, num_stages=t.num_stages, **common,
        )  # fmt: skip
        t = _tiles(head_dim, backward=True, dkdv=False)
        _attn_bwd_dq_kernel[(triton.cdiv(n_tokens, t.block_m), n_heads)](
            qf, kf, vf, do, lse, delta, start, dq, n_tokens, qk_scale, ctx.sm_scale, *strides,
            BLOCK_M=t.block_m, BLOCK_N=t.block_n, num_warps=t.num_warps, num_stages=t.num_stages, **common,
        )  # fmt: skip
        shape = ctx.shape
        return dq.view(shape), dk.view(shape), dv.view(shape), None, None, None


def varlen_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cu_seqlens: torch.Tensor, *, scale: float | None = None
) -> torch.Tensor:
    """Same contract as `reference.varlen_attention`: (B, L, H, D) in and out."""
    if not (q.shape == k.shape == v.shape) or q.dim() != 4:
        raise ValueError(f"q, k, v must share a (B, L, H, D) shape, got {q.shape}, {k.shape}, {v.shape}")
    if q.dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise TypeError(f"attention supports fp16/bf16/fp32, got {q.dtype}")
    if 3 * q.numel() >= 2**31:  # offsets are int32 in the kernels; a qkv view spans 3x q's elements
        raise ValueError(f"attention input {tuple(q.shape)} is too large for int32 offsets; split the batch")
    n_rows, row_len, _, head_dim = q.shape
    start, end = token_segments(cu_seqlens, n_rows, row_len)
    sm_scale = scale if scale is not None else 1.0 / math.sqrt(head_dim)
    return _VarlenAttention.apply(q, k, v, start, end, sm_scale)
