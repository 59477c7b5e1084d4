"""Packed batches assembled where the model trains, by the packing kernel (Triton on CUDA); model.data's numpy
assembly stays the CPU reference, and both give identical batches (tests/model/kernels/test_device_batches.py).

The split's tokens are copied to the device once; a batch is then a gather of its documents' tokens on the
device and one `pack_sequences` per column into a single row of `tokens_per_batch` slots, which also writes the
position_ids, document_ids and cu_seqlens. Nothing per batch crosses the host-device bus but the plan's
handful of document offsets.
"""

from __future__ import annotations

import numpy as np
import torch

from model.kernels.cross_entropy.reference import IGNORE_INDEX
from model.kernels.packing import layout_rows, pack_sequences
from model.packing import Windows
from model.tokenizer.vocab import PAD_ID


class DeviceTokens:
    """One split's token ids and times resident on `device`, with each subject's flat offset."""

    def __init__(self, ids: np.ndarray, times: np.ndarray, base: np.ndarray, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.ids = torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64)).to(self.device)
        self.times = torch.from_numpy(np.ascontiguousarray(times, dtype=np.float32)).to(self.device)
        self.base = torch.from_numpy(np.ascontiguousarray(base, dtype=np.int64)).to(self.device)

    def assemble(self, docs: Windows, budget: int) -> dict[str, torch.Tensor]:
        """The packed batch of `docs` in one row of `budget` tokens; same keys, dtypes and values as
        `TrainingShards._assemble`."""
        lens = torch.from_numpy(np.ascontiguousarray(docs.lengths, dtype=np.int64))
        n = int(lens.sum())
        if n == 0:  # a rank short of batches gets an all-padding one
            return self._padding(budget)
        dev = self.device
        lens_d = lens.to(dev)
        subject = torch.from_numpy(np.ascontiguousarray(docs.subject, dtype=np.int64)).to(dev)
        start = torch.from_numpy(np.ascontiguousarray(docs.start, dtype=np.int64)).to(dev)
        label_from = torch.from_numpy(np.ascontiguousarray(docs.label_from, dtype=np.int64)).to(dev)
        doc_of = torch.repeat_interleave(torch.arange(len(lens), device=dev), lens_d, output_size=n)
        pos = torch.arange(n, device=dev) - (torch.cumsum(lens_d, 0) - lens_d)[doc_of]
        src = (self.base[subject] + start)[doc_of] + pos  # flat index of each token in the split
        has_target = (src + 1 < self.base[subject + 1][doc_of]) & (pos >= label_from[doc_of])
        next_ids = self.ids[torch.clamp(src + 1, max=len(self.ids) - 1)]
        labels = torch.where(has_target, next_ids, torch.full_like(next_ids, IGNORE_INDEX))

        layout = layout_rows(lens, budget, rows=torch.zeros_like(lens), n_rows=1).to(dev)
        ids = pack_sequences(self.ids[src], layout, pad_value=PAD_ID)
        return {
            "input_ids": ids.values[0],
            "labels": pack_sequences(labels, layout, pad_value=IGNORE_INDEX).values[0],
            "position_ids": ids.position_ids[0],
            "cu_seqlens": ids.cu_seqlens,
            "times": pack_sequences(self.times[src], layout, pad_value=0.0).values[0],
            "document_ids": ids.document_ids[0].to(torch.int32),
        }

    def _padding(self, budget: int) -> dict[str, torch.Tensor]:
        dev = self.device
        return {
            "input_ids": torch.full((budget,), PAD_ID, dtype=torch.int64, device=dev),
            "labels": torch.full((budget,), IGNORE_INDEX, dtype=torch.int64, device=dev),
            "position_ids": torch.zeros(budget, dtype=torch.int64, device=dev),
            "cu_seqlens": torch.tensor([0, budget], dtype=torch.int32, device=dev),
            "times": torch.zeros(budget, dtype=torch.float32, device=dev),
            "document_ids": torch.full((budget,), -1, dtype=torch.int32, device=dev),
        }
