"""Document-masked (varlen) causal attention over packed rows: `varlen_attention(q, k, v, cu_seqlens)`."""

from __future__ import annotations

import torch

from model.kernels import backend_for
from model.kernels.attention import reference
from model.kernels.attention.reference import attention_mask, token_segments

__all__ = ["attention_mask", "token_segments", "varlen_attention"]


def varlen_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cu_seqlens: torch.Tensor, *, scale: float | None = None
) -> torch.Tensor:
    """(B, L, H, D) causal attention inside `cu_seqlens` segments; see `reference.py` for the exact contract."""
    if backend_for(q, k, v, cu_seqlens) == "triton":
        from model.kernels.attention import triton as kernel  # imports triton only when it is used

        return kernel.varlen_attention(q, k, v, cu_seqlens, scale=scale)
    return reference.varlen_attention(q, k, v, cu_seqlens, scale=scale)
