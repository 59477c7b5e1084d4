"""Fused final projection + cross-entropy: row chunks of logits, a Triton online-logsumexp kernel per chunk.

The (N, V) logits never exist: rows go through in chunks of C, each chunk's (C, V) logits come from one
cuBLAS matmul, and a Triton kernel reduces each row with an online logsumexp over vocabulary blocks, then
overwrites the chunk's logits in place with d loss / d logits = (softmax - onehot) * scale. Two more matmuls
turn that into the chunk's grad wrt hidden and its share of the grad wrt weight, so the gradients are ready
when forward returns and backward only scales them by the incoming gradient (the Liger-Kernel
FusedLinearCrossEntropy scheme). Peak extra memory is one chunk of logits plus an fp32 (V, D) accumulator.
"""

# ruff: noqa: N803  (Triton constexpr parameters are UPPER_CASE, STYLE.md section 2)

from __future__ import annotations

import torch
import triton
import triton.language as tl

from model.kernels import triton_interpreting


@triton.jit
def _ce_rows_kernel(
    logits_ptr, stride_row, labels_ptr, loss_ptr, scale_ptr,
    n_cols, ignore_index,
    WRITE_GRAD: tl.constexpr, BLOCK_V: tl.constexpr,
):  # fmt: skip
    row = tl.program_id(0).to(tl.int64)
    logits_ptr += row * stride_row
    label = tl.load(labels_ptr + row)
    cols = tl.arange(0, BLOCK_V)
    if label == ignore_index:
        if WRITE_GRAD:
            for v0 in range(0, n_cols, BLOCK_V):
                tl.store(logits_ptr + v0 + cols, tl.zeros([BLOCK_V], dtype=tl.float32), mask=v0 + cols < n_cols)
        tl.store(loss_ptr + row, 0.0)
        return

    m = float("-inf")
    d = 0.0
    for v0 in range(0, n_cols, BLOCK_V):  # pass 1: online logsumexp (running max m, running sum d)
        x = tl.load(logits_ptr + v0 + cols, mask=v0 + cols < n_cols, other=float("-inf")).to(tl.float32)
        m_new = tl.maximum(m, tl.max(x, axis=0))
        d = d * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new), axis=0)
        m = m_new
    lse = m + tl.log(d)
    target = tl.load(logits_ptr + label).to(tl.float32)
    tl.store(loss_ptr + row, lse - target)

    if WRITE_GRAD:  # pass 2: the logits become their gradient, in place
        scale = tl.load(scale_ptr)
        for v0 in range(0, n_cols, BLOCK_V):
            mask = v0 + cols < n_cols
            x = tl.load(logits_ptr + v0 + cols, mask=mask, other=float("-inf")).to(tl.float32)
            g = tl.exp(x - lse)
            g = tl.where(v0 + cols == label, g - 1.0, g) * scale
            tl.store(logits_ptr + v0 + cols, g.to(logits_ptr.dtype.element_ty), mask=mask)


def _block_v(n_cols: int) -> tuple[int, int]:
    if triton_interpreting():
        return 32, 1  # several blocks per row even at the tests' vocabularies (odd sizes near 100)
    # Liger's cross-entropy settings: up to 32K columns per block (65536 // 2, the largest that compiles
    # without spilling on A100/H100) with 32 warps, so a row of a clinical vocabulary (~8K) is one block.
    return min(32768, triton.next_power_of_2(n_cols)), 32


def default_chunk_rows(n_rows: int, vocab: int, dim: int) -> int:
    """Chunk so one chunk's (C, V) logits are about the size of the (N, D) hidden states (Liger's rule)."""
    return triton.next_power_of_2(triton.cdiv(n_rows, triton.cdiv(vocab, dim)))


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, labels, ignore_index, mean, compute_dtype, chunk_rows):  # type: ignore[override]
        n_rows, dim = hidden.shape
        vocab = weight.shape[0]
        need_h, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        write_grad = need_h or need_w
        h = hidden.to(compute_dtype)
        w = weight.to(compute_dtype)
        n_valid = (labels != ignore_index).sum()
        scale = (1.0 / n_valid.clamp_min(1).float()) if mean else torch.ones((), device=hidden.device)
        scale = scale.reshape(1).float()
        loss_rows = torch.empty(n_rows, dtype=torch.float32, device=hidden.device)
        grad_h = torch.empty((n_rows, dim), dtype=hidden.dtype, device=hidden.device) if need_h else None
        grad_w = torch.zeros((vocab, dim), dtype=torch.float32, device=hidden.device) if need_w else None
        block_v, num_warps = _block_v(vocab)
        chunk = chunk_rows or default_chunk_rows(n_rows, vocab, dim)
        for c0 in range(0, n_rows, chunk):
            h_c = h[c0 : c0 + chunk]
            logits = h_c @ w.t()  # (C, V), the only logits alive at any time
            _ce_rows_kernel[(h_c.shape[0],)](
                logits, logits.stride(0), labels[c0 : c0 + chunk], loss_rows[c0 : c0 + chunk], scale,
                vocab, ignore_index, WRITE_GRAD=write_grad, BLOCK_V=block_v, num_warps=num_warps,
            )  # fmt: skip
            if need_h:
                grad_h[c0 : c0 + chunk] = logits @ w  # (C, D)
            if need_w:
                grad_w += (logits.t() @ h_c).float()  # (V, D)
        ctx.save_for_backward(grad_h, grad_w)
        ctx.weight_dtype = weight.dtype
        return loss_rows.sum() * scale[0]  # scale: 1/n_valid for mean, 1 for sum

    @staticmethod
    def backward(ctx, grad_loss):  # type: ignore[override]
        grad_h, grad_w = ctx.saved_tensors
        if grad_h is not None:
            grad_h = grad_h * grad_loss.to(grad_h.dtype)
        if grad_w is not None:
            grad_w = (grad_w * grad_loss).to(ctx.weight_dtype)
        return grad_h, grad_w, None, None, None, None, None


def linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    labels: torch.Tensor,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    chunk_rows: int | None = None,
) -> torch.Tensor:
    """Same contract as `reference.linear_cross_entropy`; `chunk_rows` overrides the chunk size (tests)."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    if hidden.dim() != 2 or weight.dim() != 2 or hidden.shape[1] != weight.shape[1]:
        raise ValueError(f"expected hidden (N, D) and weight (V, D), got {hidden.shape} and {weight.shape}")
    if labels.shape != hidden.shape[:1]:
        raise ValueError(f"labels {labels.shape} do not match hidden rows {hidden.shape[0]}")
    ok = (labels == ignore_index) | ((labels >= 0) & (labels < weight.shape[0]))
    torch._assert_async(ok.all(), "a label is outside [0, vocab) and is not ignore_index")
    device_type = hidden.device.type
    compute_dtype = (
        torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else hidden.dtype
    )
    with torch.autocast(device_type, enabled=False):
        return _LinearCrossEntropy.apply(
            hidden, weight, labels.contiguous(), ignore_index, reduction == "mean", compute_dtype, chunk_rows
        )
