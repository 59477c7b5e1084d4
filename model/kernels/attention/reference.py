"""Document-masked causal attention in plain PyTorch (causal SDPA per segment): the spec.

Layout: q, k, v are (B, L, H, D) rows of packed tokens. `cu_seqlens` (S+1,) int32 holds segment offsets into
the flattened B*L token stream, starting at 0. A query attends to the keys at or before it in its own segment:

  * a segment never crosses a row: a row start always starts a new segment;
  * tokens after `cu_seqlens[-1]` (tail padding) form one segment per row;

so padding attends only to padding (its outputs carry no loss), and no subject sees another.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 (the universal PyTorch alias)


def token_segments(cu_seqlens: torch.Tensor, n_rows: int, row_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per flattened token, the [start, end) of its segment: two (B*L,) int32 tensors, no host sync."""
    total = n_rows * row_len
    device = cu_seqlens.device
    bounds = cu_seqlens.to(torch.int64)
    tokens = torch.arange(total, device=device)
    idx = (torch.searchsorted(bounds, tokens, right=True) - 1).clamp_min(0)  # segment of each token
    start = bounds[idx]
    nxt = (idx + 1).clamp_max(bounds.numel() - 1)
    # the tail past cu_seqlens[-1] runs to the end (then to its row's end, below)
    end = torch.where(idx + 1 < bounds.numel(), bounds[nxt], torch.full_like(start, total))
    row_start = tokens - tokens % row_len
    start = torch.maximum(start, row_start)  # rows are independent
    end = torch.minimum(end, row_start + row_len)
    return start.to(torch.int32), end.to(torch.int32)


def attention_mask(cu_seqlens: torch.Tensor, n_rows: int, row_len: int) -> torch.Tensor:
    """(B, 1, L, L) bool, True where query i may attend key j: j <= i and j in i's segment."""
    start, _ = token_segments(cu_seqlens, n_rows, row_len)
    start = start.view(n_rows, row_len).to(torch.int64)
    start = start - torch.arange(n_rows, device=start.device)[:, None] * row_len  # row-local
    pos = torch.arange(row_len, device=start.device)
    causal = pos[None, :] <= pos[:, None]  # (L, L)
    in_segment = pos[None, None, :] >= start[:, :, None]  # (B, L, L)
    return (causal[None] & in_segment)[:, None]


def varlen_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cu_seqlens: torch.Tensor, *, scale: float | None = None
) -> torch.Tensor:
    """(B, L, H, D) attention output; softmax scale defaults to 1/sqrt(D).

    Each segment is plain causal attention on its own tokens (one SDPA call per segment, so memory is
    O(longest segment^2), not O((B*L)^2)); `attention_mask` states the same rule as one mask.
    """
    n_rows, row_len, n_heads, head_dim = q.shape
    start, end = token_segments(cu_seqlens, n_rows, row_len)
    first = torch.ones_like(start, dtype=torch.bool)
    first[1:] = start[1:] != start[:-1]
    bounds = zip(start[first].tolist(), end[first].tolist(), strict=True)  # host sync: this is the slow path
    # (1, H, T, D): 4-D inputs reach SDPA's fused CPU kernel; 3-D ones fall back to the ~10x slower math path
    qf, kf, vf = (x.reshape(1, n_rows * row_len, n_heads, head_dim).transpose(1, 2) for x in (q, k, v))
    out = torch.cat(
        [
            F.scaled_dot_product_attention(
                qf[:, :, a:b], kf[:, :, a:b], vf[:, :, a:b], is_causal=True, scale=scale
            )
            for a, b in bounds
        ],
        dim=2,
    )  # (1, H, T, D): segments are contiguous and cover every token in order
    return out.transpose(1, 2).reshape(n_rows, row_len, n_heads, head_dim)
