"""Final projection + cross-entropy in plain PyTorch, materializing the full (N, V) logits: the spec.

loss = sum over rows with label != ignore_index of (logsumexp(h W^T) - (h W^T)[label]),
divided by the number of such rows (at least 1, so a batch with no target gives 0, not NaN) for
`reduction="mean"`, undivided for `"sum"`. Logits are formed in the inputs' dtype (as `F.linear` under
autocast does) and reduced in fp32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 (the universal PyTorch alias)

IGNORE_INDEX = -100


def linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    labels: torch.Tensor,
    *,
    ignore_index: int = IGNORE_INDEX,
    reduction: str = "mean",
) -> torch.Tensor:
    """hidden (N, D), weight (V, D), labels (N,) int -> scalar fp32 loss."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    logits = F.linear(hidden, weight)  # (N, V)
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))  # fp16/bf16 -> fp32; fp64 stays
    total = F.cross_entropy(logits, labels, ignore_index=ignore_index, reduction="sum")
    if reduction == "sum":
        return total
    return total / (labels != ignore_index).sum().clamp_min(1)
