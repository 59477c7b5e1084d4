"""The padded layout, for models that are not varlen: one document per row, (B, L), with an attention_mask.

Two ways in, the same rows:

    from torch.utils.data import DataLoader
    from model import TrainingShards, collate_padded, to_padded

    shards = TrainingShards(root, "train", max_seq_len=512)
    loader = DataLoader(shards, batch_size=8, shuffle=True)  # each item padded to 512: default collate stacks
    loader = DataLoader(shards, batch_size=8, shuffle=True, collate_fn=collate_padded)  # trimmed to the longest
    batch = to_padded(next(iter(shards.batches(tokens_per_batch=8192))))  # a packed batch, one row per document

Rows hold `input_ids`, `labels` (-100 where there is no target), `position_ids`, `times` (B, L) and
`attention_mask` (B, L), 1 on tokens and 0 on padding; map-style items also carry `subject_id` (B,).
"""

import torch

from model.kernels.cross_entropy.reference import IGNORE_INDEX
from model.tokenizer.vocab import PAD_ID

# Value of each per-token column on padding.
PAD_VALUES = {"input_ids": PAD_ID, "labels": IGNORE_INDEX, "position_ids": 0, "times": 0.0}


def to_padded(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A packed batch (T,) as rows: document d's tokens in row d from column 0; tail padding dropped.

    >>> b = {"input_ids": torch.tensor([5, 6, 7, 8, 0]), "labels": torch.tensor([6, -100, 8, -100, -100]),
    ...      "position_ids": torch.tensor([0, 1, 0, 1, 0]), "times": torch.zeros(5),
    ...      "document_ids": torch.tensor([0, 0, 1, 1, -1], dtype=torch.int32)}
    >>> p = to_padded(b)
    >>> p["input_ids"].tolist(), p["attention_mask"].tolist()
    ([[5, 6], [7, 8]], [[1, 1], [1, 1]])
    """
    doc = batch["document_ids"].long()  # (T,) -1 on padding
    real = doc >= 0
    rows = int(doc.max()) + 1 if bool(real.any()) else 0
    width = int(batch["position_ids"][real].max()) + 1 if rows else 0
    where = (doc[real], batch["position_ids"][real].long())
    out = {}
    for key, fill in PAD_VALUES.items():
        column = batch[key]
        dest = torch.full((rows, width), fill, dtype=column.dtype)  # (B, L)
        dest[where] = column[real]
        out[key] = dest
    out["attention_mask"] = torch.zeros((rows, width), dtype=torch.long)
    out["attention_mask"][where] = 1
    return out


def pad_item(item: dict[str, torch.Tensor], length: int) -> dict[str, torch.Tensor]:
    """One document's (n,) columns padded to (length,), with its attention_mask."""
    n = item["input_ids"].shape[0]
    out = {}
    for key, fill in PAD_VALUES.items():
        column = item[key]
        out[key] = torch.cat([column, torch.full((length - n,), fill, dtype=column.dtype)])  # (length,)
    out["attention_mask"] = (torch.arange(length) < n).long()
    return out


def collate_padded(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """DataLoader collate_fn: stack items and cut the columns no row uses (pads to the batch's longest).

    >>> a = {"input_ids": torch.tensor([1, 2, 0]), "attention_mask": torch.tensor([1, 1, 0])}
    >>> b = {"input_ids": torch.tensor([3, 0, 0]), "attention_mask": torch.tensor([1, 0, 0])}
    >>> collate_padded([a, b])["input_ids"].tolist()
    [[1, 2], [3, 0]]
    """
    stacked = torch.utils.data.default_collate(items)
    width = int(stacked["attention_mask"].sum(dim=1).max()) if len(items) else 0
    return {k: v[:, :width] if v.dim() == 2 else v for k, v in stacked.items()}
