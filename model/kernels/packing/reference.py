"""Packing variable-length sequences into fixed-budget rows, and the scatter back, in plain PyTorch: the spec.

S sequences are concatenated in a flat (N, *F) tensor (sequence i is rows src_offsets[i]:+lengths[i]).
A `PackLayout` puts each one whole into one of R rows of L tokens, back to back from the row's start, so
each row is [seq, seq, ..., padding]. Packing gives:

  * values (R, L, *F): the tokens, `pad_value` in the tail of each row;
  * position_ids (R, L) int64: 0.. within each sequence (rotary restarts per subject), 0 on padding;
  * document_ids (R, L) int64: the sequence's index i, -1 on padding;
  * cu_seqlens (K+1,) int32: segment offsets into the flattened R*L tokens: one segment per sequence and one
    per row's padding tail, ending at R*L (the attention kernels' contract).

Unpacking gathers the (N, *F) tokens back; each is the other's gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch


@dataclass(frozen=True, slots=True)
class PackLayout:
    """Where each sequence goes. Build with `layout_rows`; the tensors are (S,) int64 on one device."""

    lengths: torch.Tensor
    src_offsets: torch.Tensor
    dst_offsets: torch.Tensor  # row * row_len + offset in row
    n_rows: int
    row_len: int
    max_len: int  # host copies of lengths.max() and lengths.sum(): kernels size grids without a device sync
    n_tokens: int

    def to(self, device: torch.device | str) -> PackLayout:
        return PackLayout(
            lengths=self.lengths.to(device),
            src_offsets=self.src_offsets.to(device),
            dst_offsets=self.dst_offsets.to(device),
            n_rows=self.n_rows,
            row_len=self.row_len,
            max_len=self.max_len,
            n_tokens=self.n_tokens,
        )


def _next_fit(lengths: list[int], row_len: int) -> list[int]:
    rows, used, row = [], 0, 0
    for n in lengths:
        if used + n > row_len:
            row, used = row + 1, 0
        rows.append(row)
        used += n
    return rows


def layout_rows(
    lengths: torch.Tensor | list[int], row_len: int, *, rows: torch.Tensor | list[int] | None = None,
    n_rows: int | None = None,
) -> PackLayout:  # fmt: skip
    """Layout for `lengths` in rows of `row_len`: `rows[i]` is sequence i's row (a planner's output, e.g.
    best-fit-decreasing), or next-fit in order when omitted. Sequences sharing a row keep their order."""
    lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()
    if lengths.dim() != 1 or lengths.numel() == 0:
        raise ValueError("lengths must be a non-empty 1-D list of sequence lengths")
    if row_len <= 0:
        raise ValueError(f"row_len must be positive, got {row_len}")
    if int(lengths.min()) < 1:
        raise ValueError("every sequence needs at least one token")
    if int(lengths.max()) > row_len:
        raise ValueError(
            f"a sequence of {int(lengths.max())} tokens does not fit a row of {row_len}; window it first"
        )
    rows = torch.as_tensor(_next_fit(lengths.tolist(), row_len) if rows is None else rows, dtype=torch.int64).cpu()
    if rows.shape != lengths.shape or int(rows.min()) < 0:
        raise ValueError("rows must give a non-negative row for every sequence")
    n_rows = int(rows.max()) + 1 if n_rows is None else n_rows
    if int(rows.max()) >= n_rows:
        raise ValueError(f"a sequence is assigned to row {int(rows.max())} but there are {n_rows} rows")
    order = torch.sort(rows, stable=True).indices
    sorted_len = lengths[order]
    before = torch.cumsum(sorted_len, 0) - sorted_len  # tokens before each sequence, over all rows
    sorted_rows = rows[order]
    group_first = torch.searchsorted(sorted_rows, sorted_rows)  # first sequence of the same row
    offset_in_row = torch.empty_like(lengths)
    offset_in_row[order] = before - before[group_first]
    used = torch.zeros(n_rows, dtype=torch.int64).index_add_(0, rows, lengths)
    if int(used.max()) > row_len:
        raise ValueError(f"row {int(used.argmax())} holds {int(used.max())} tokens, more than {row_len}")
    return PackLayout(
        lengths=lengths,
        src_offsets=torch.cumsum(lengths, 0) - lengths,
        dst_offsets=rows * row_len + offset_in_row,
        n_rows=n_rows,
        row_len=row_len,
        max_len=int(lengths.max()),
        n_tokens=int(lengths.sum()),
    )


def token_destinations(layout: PackLayout) -> torch.Tensor:
    """(N,) int64: the flattened R*L slot of every source token."""
    seq = torch.repeat_interleave(
        torch.arange(layout.lengths.numel(), device=layout.lengths.device), layout.lengths
    )
    return layout.dst_offsets[seq] + torch.arange(seq.numel(), device=seq.device) - layout.src_offsets[seq]


def cu_seqlens(layout: PackLayout) -> torch.Tensor:
    """(K+1,) int32 segment offsets: every sequence start, every non-empty padding tail, and R*L."""
    dev = layout.lengths.device
    row_of = layout.dst_offsets // layout.row_len
    used = torch.zeros(layout.n_rows, dtype=torch.int64, device=dev).index_add_(0, row_of, layout.lengths)
    row_start = torch.arange(layout.n_rows, device=dev) * layout.row_len
    tails = (row_start + used)[used < layout.row_len]
    total = torch.tensor([layout.n_rows * layout.row_len], device=dev)
    return torch.cat([torch.sort(torch.cat([layout.dst_offsets, tails])).values, total]).to(torch.int32)


class Packed(NamedTuple):
    values: torch.Tensor  # (R, L, *F)
    position_ids: torch.Tensor  # (R, L) int64
    document_ids: torch.Tensor  # (R, L) int64, -1 on padding
    cu_seqlens: torch.Tensor  # (K+1,) int32


def pack_sequences(values: torch.Tensor, layout: PackLayout, *, pad_value: float = 0) -> Packed:
    """Flat (N, *F) tokens -> rows; differentiable in `values`."""
    if values.shape[0] != layout.n_tokens:
        raise ValueError(f"values has {values.shape[0]} tokens, the layout {layout.n_tokens}")
    slots = layout.n_rows * layout.row_len
    dest = token_destinations(layout)
    seq = torch.repeat_interleave(torch.arange(layout.lengths.numel(), device=dest.device), layout.lengths)
    out = values.new_full((slots, *values.shape[1:]), pad_value).index_put((dest,), values)
    position_ids = torch.zeros(slots, dtype=torch.int64, device=dest.device)
    position_ids[dest] = torch.arange(dest.numel(), device=dest.device) - layout.src_offsets[seq]
    document_ids = torch.full((slots,), -1, dtype=torch.int64, device=dest.device)
    document_ids[dest] = seq
    shape = (layout.n_rows, layout.row_len)
    return Packed(
        out.view(*shape, *values.shape[1:]), position_ids.view(shape), document_ids.view(shape), cu_seqlens(layout)
    )


def unpack_sequences(packed: torch.Tensor, layout: PackLayout) -> torch.Tensor:
    """Rows (R, L, *F) -> the flat (N, *F) tokens, padding dropped; differentiable in `packed`."""
    if packed.shape[:2] != (layout.n_rows, layout.row_len):
        raise ValueError(f"packed is {tuple(packed.shape[:2])}, the layout {(layout.n_rows, layout.row_len)}")
    return packed.reshape(-1, *packed.shape[2:])[token_destinations(layout)]
