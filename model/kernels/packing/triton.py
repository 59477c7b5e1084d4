"""Packing and the scatter back in Triton: one program per (sequence, token tile) copying feature tiles.

Pack pre-fills the rows with the pad value (a memset), then each program copies its sequence's tokens to
their slots and, in the same pass, writes position_ids and document_ids. Unpack is the same copy reversed.
Each is the other's backward, so both are autograd-capable with no extra kernel.
"""

# ruff: noqa: N803  (Triton constexpr parameters are UPPER_CASE, STYLE.md section 2)

from __future__ import annotations

import torch
import triton
import triton.language as tl

from model.kernels import triton_interpreting
from model.kernels.packing.reference import Packed, PackLayout, cu_seqlens


@triton.jit
def _copy_tokens_kernel(
    flat_ptr, rows_ptr, pos_ptr, doc_ptr, lengths_ptr, src_off_ptr, dst_off_ptr,
    n_feat,
    UNPACK: tl.constexpr, WRITE_IDS: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_F: tl.constexpr,
):  # fmt: skip
    seq = tl.program_id(0)
    tile = tl.program_id(1)
    length = tl.load(lengths_ptr + seq)
    t = tile * BLOCK_T + tl.arange(0, BLOCK_T)
    t_ok = t < length
    src = tl.load(src_off_ptr + seq).to(tl.int64) + t  # (BLOCK_T,) source token index
    dst = tl.load(dst_off_ptr + seq).to(tl.int64) + t  # (BLOCK_T,) flattened row slot
    for f0 in range(0, n_feat, BLOCK_F):
        f = f0 + tl.arange(0, BLOCK_F)
        mask = t_ok[:, None] & (f < n_feat)[None, :]
        flat_at = flat_ptr + src[:, None] * n_feat + f[None, :]
        rows_at = rows_ptr + dst[:, None] * n_feat + f[None, :]
        if UNPACK:
            tl.store(flat_at, tl.load(rows_at, mask=mask), mask=mask)
        else:
            tl.store(rows_at, tl.load(flat_at, mask=mask), mask=mask)
    if WRITE_IDS:
        tl.store(pos_ptr + dst, t.to(tl.int64), mask=t_ok)
        tl.store(doc_ptr + dst, tl.zeros([BLOCK_T], dtype=tl.int64) + seq, mask=t_ok)


def _tiles(n_feat: int) -> tuple[int, int, int]:
    if triton_interpreting():
        return 8, min(16, triton.next_power_of_2(n_feat)), 1  # several tiles at the tests' small sizes
    # A bandwidth-bound copy: 64 tokens x up to 128 features (32 KB of fp32 per tile) with 4 warps keeps
    # 128-bit loads coalesced along the feature axis; token ids (F = 1) get a 64-element tile. Not swept
    # (no GPU in this task); bench.py reports GB/s against the reference's index_put to revisit it.
    return 64, min(128, triton.next_power_of_2(n_feat)), 4


def _launch(flat, rows, pos, doc, layout: PackLayout, *, unpack: bool) -> None:
    n_feat = flat[0].numel() if flat.dim() > 1 else 1
    block_t, block_f, num_warps = _tiles(n_feat)
    grid = (layout.lengths.numel(), triton.cdiv(layout.max_len, block_t))
    write_ids = pos is not None
    _copy_tokens_kernel[grid](
        flat, rows, pos if write_ids else rows, doc if write_ids else rows,
        layout.lengths, layout.src_offsets, layout.dst_offsets, n_feat,
        UNPACK=unpack, WRITE_IDS=write_ids, BLOCK_T=block_t, BLOCK_F=block_f, num_warps=num_warps,
    )  # fmt: skip


def _pack_values(values: torch.Tensor, layout: PackLayout, pad_value: float, ids: bool):
    slots = layout.n_rows * layout.row_len
    values = values.contiguous()
    rows = values.new_full((slots, *values.shape[1:]), pad_value)
    pos = doc = None
    if ids:
        pos = torch.zeros(slots, dtype=torch.int64, device=values.device)
        doc = torch.full((slots,), -1, dtype=torch.int64, device=values.device)
    _launch(values, rows, pos, doc, layout, unpack=False)
    return rows.view(layout.n_rows, layout.row_len, *values.shape[1:]), pos, doc


def _unpack_values(packed: torch.Tensor, layout: PackLayout) -> torch.Tensor:
    packed = packed.contiguous()
    flat = packed.new_empty((layout.n_tokens, *packed.shape[2:]))
    _launch(flat, packed, None, None, layout, unpack=True)
    return flat


class _Pack(torch.autograd.Function):
    @staticmethod
    def forward(ctx, values, layout, pad_value):  # type: ignore[override]
        rows, pos, doc = _pack_values(values, layout, pad_value, ids=True)
        ctx.layout = layout
        ctx.mark_non_differentiable(pos, doc)
        return rows, pos, doc

    @staticmethod
    def backward(ctx, grad_rows, _grad_pos, _grad_doc):  # type: ignore[override]
        return _unpack_values(grad_rows, ctx.layout), None, None


class _Unpack(torch.autograd.Function):
    @staticmethod
    def forward(ctx, packed, layout):  # type: ignore[override]
        ctx.layout = layout
        return _unpack_values(packed, layout)

    @staticmethod
    def backward(ctx, grad_flat):  # type: ignore[override]
        rows, _, _ = _pack_values(grad_flat, ctx.layout, 0.0, ids=False)
        return rows, None


def pack_sequences(values: torch.Tensor, layout: PackLayout, *, pad_value: float = 0) -> Packed:
    """Same contract as `reference.pack_sequences`."""
    if values.shape[0] != layout.n_tokens:
        raise ValueError(f"values has {values.shape[0]} tokens, the layout {layout.n_tokens}")
    rows, pos, doc = _Pack.apply(values, layout, pad_value)
    shape = (layout.n_rows, layout.row_len)
    return Packed(rows, pos.view(shape), doc.view(shape), cu_seqlens(layout))


def unpack_sequences(packed: torch.Tensor, layout: PackLayout) -> torch.Tensor:
    """Same contract as `reference.unpack_sequences`."""
    if packed.shape[:2] != (layout.n_rows, layout.row_len):
        raise ValueError(f"packed is {tuple(packed.shape[:2])}, the layout {(layout.n_rows, layout.row_len)}")
    return _Unpack.apply(packed, layout)
