"""Variable-length sequences <-> fixed-budget rows with position_ids, document_ids and cu_seqlens."""

from __future__ import annotations

import torch

from model.kernels import backend_for
from model.kernels.packing import reference
from model.kernels.packing.reference import Packed, PackLayout, cu_seqlens, layout_rows, token_destinations

__all__ = [
    "PackLayout",
    "Packed",
    "cu_seqlens",
    "layout_rows",
    "pack_sequences",
    "token_destinations",
    "unpack_sequences",
]


def pack_sequences(values: torch.Tensor, layout: PackLayout, *, pad_value: float = 0) -> Packed:
    """Flat (N, *F) tokens of the layout's sequences -> (R, L, *F) rows plus ids; see `reference.py`."""
    if backend_for(values, layout.lengths) == "triton":
        from model.kernels.packing import triton as kernel

        return kernel.pack_sequences(values, layout, pad_value=pad_value)
    return reference.pack_sequences(values, layout, pad_value=pad_value)


def unpack_sequences(packed: torch.Tensor, layout: PackLayout) -> torch.Tensor:
    """(R, L, *F) rows -> the flat (N, *F) tokens, padding dropped (the scatter back)."""
    if backend_for(packed, layout.lengths) == "triton":
        from model.kernels.packing import triton as kernel

        return kernel.unpack_sequences(packed, layout)
    return reference.unpack_sequences(packed, layout)
