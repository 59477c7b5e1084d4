"""Fused final projection + cross-entropy that never materializes the (N, V) logits: `linear_cross_entropy`."""

from __future__ import annotations

import torch

from model.kernels import backend_for
from model.kernels.cross_entropy import reference
from model.kernels.cross_entropy.reference import IGNORE_INDEX

__all__ = ["IGNORE_INDEX", "linear_cross_entropy"]


def linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    labels: torch.Tensor,
    *,
    ignore_index: int = IGNORE_INDEX,
    reduction: str = "mean",
) -> torch.Tensor:
    """Scalar fp32 loss of logits `hidden @ weight.T` (N, V) against `labels` (N,); see `reference.py`."""
    if backend_for(hidden, weight, labels) == "triton":
        from model.kernels.cross_entropy import triton as kernel

        return kernel.linear_cross_entropy(hidden, weight, labels, ignore_index=ignore_index, reduction=reduction)
    return reference.linear_cross_entropy(hidden, weight, labels, ignore_index=ignore_index, reduction=reduction)
