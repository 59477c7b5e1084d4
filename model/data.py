"""Training shards for modelers: trajectories of one split as packed, fixed-budget batches of torch tensors.

    from model import TrainingShards
    shards = TrainingShards(root, "train", max_seq_len=2048)
    for batch in shards.batches(tokens_per_batch=8192, seed=0, epoch=0, rank=rank, world_size=world):
        ...  # batch["input_ids"]: (T,), batch["cu_seqlens"]: (n_docs + 2,) when there is tail padding

Each batch holds T = tokens_per_batch tokens: documents back to back, then tail padding. A document is a
window of one subject (at most max_seq_len tokens, a new window every `stride` tokens), so no subject is
truncated; labels are next tokens of the same subject (the token right after a window included), -100 on
padding and on targets an earlier overlapping window already predicted, so each token after a subject's
first is a target exactly once per epoch. The plan of an epoch depends only on (seed, epoch, budget) and
the trajectory lengths: it is the same in every process, which makes ranks disjoint (batch i goes to rank
i % world_size), DataLoader workers disjoint (a rank's batch j goes to worker j % num_workers, which is also
the order DataLoader yields them in) and resuming exact (skip the first `next_batch` batches).
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from model.kernels.cross_entropy.reference import IGNORE_INDEX
from model.packing import Packing, Windows, pack_bfd, pack_stream, windows
from model.tokenizer.vocab import PAD_ID
from schemas.layout import Layout
from schemas.tokens import trajectory_shards

__all__ = ["IGNORE_INDEX", "BatchStream", "EpochPlan", "PackedDataset", "TrainingShards"]
Packer = Literal["bfd", "stream"]


@dataclass(frozen=True, slots=True)
class EpochPlan:
    docs: Windows  # documents in batch order
    packing: Packing  # over `docs`, order = identity
    n_batches: int


class TrainingShards(Dataset):
    """The trajectories of one split under `root/tokens/`, served as packed batches, or as a map-style Dataset
    of padded documents (`DataLoader(shards, batch_size=8)`; see model.padded for the padded layout).

    max_seq_len: longest document (defaults to the batch budget); stride: tokens between window starts of a
    long subject (defaults to max_seq_len, i.e. no overlap); packing: "bfd" (best-fit decreasing over the whole
    epoch, then packs in random order) or "stream" (documents shard by shard, in random shard order and random
    order within a shard, through a shuffle buffer of `buffer_size` documents). Either way the split's tokens
    are held in memory (12 bytes per token), loaded on the first batch: load() before forking DataLoader
    workers to share the pages copy-on-write.

    device: where batches are assembled. None (the default): on the host in numpy, the reference. A device
    (`shards.to("cuda")` or `device="cuda"`): the split's tokens are copied there once and each batch is
    gathered and packed there by the packing kernel (Triton on CUDA, see model.device_packing), with the same
    values; iterate in the main process then (CUDA does not cross DataLoader worker forks).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        max_seq_len: int | None = None,
        stride: int | None = None,
        packing: Packer = "bfd",
        buffer_size: int = 2048,
        device: str | torch.device | None = None,
    ) -> None:
        if packing not in ("bfd", "stream"):
            raise ValueError(f"packing must be 'bfd' or 'stream', got {packing!r}")
        self.root = Path(root)
        self.split = split
        self.max_seq_len = max_seq_len
        self.stride = stride
        self.packing = packing
        self.buffer_size = buffer_size
        self._files = trajectory_shards(Layout(self.root).tokens, split)
        if not self._files:
            raise FileNotFoundError(
                f"no trajectories for split {split!r} under {Layout(self.root).tokens}; materialize the "
                "`trajectories` asset first"
            )
        lengths, shard_of, subject_ids = [], [], []
        for shard, path in self._files:
            t = pq.read_table(path, columns=["subject_id", "length"])
            lengths.append(t.column("length").to_numpy().astype(np.int64))
            subject_ids.append(t.column("subject_id").to_numpy())
            shard_of.append(np.full(t.num_rows, shard, np.int64))
        self.lengths = np.concatenate(lengths)  # (S,) tokens per subject, subjects in shard-file order
        self.subject_ids = np.concatenate(subject_ids)
        self._shard_of = np.concatenate(shard_of)
        self._base = np.r_[0, np.cumsum(self.lengths)]  # (S + 1,) flat offset of each subject
        self._ids: np.ndarray | None = None
        self._times: np.ndarray | None = None
        self._plan_key: tuple | None = None
        self._plan: EpochPlan | None = None
        self._docs_key: tuple | None = None
        self._docs: Windows | None = None
        self.device = None if device is None else torch.device(device)
        self._on_device: Any = None  # model.device_packing.DeviceTokens once loaded with a device set

    def to(self, device: str | torch.device | None) -> "TrainingShards":
        """Assemble batches on `device` from now on (None: back to the host reference); returns self."""
        self.device = None if device is None else torch.device(device)
        self._on_device = None
        return self

    @property
    def num_tokens(self) -> int:
        return int(self._base[-1])

    def fingerprint(self) -> str:
        """Identifies the data a plan was made from (lengths and subject order)."""
        h = hashlib.blake2b(self.lengths.tobytes(), digest_size=8)
        h.update(self.subject_ids.tobytes())
        return h.hexdigest()

    def load(self) -> None:
        """Read all token ids and times (12 bytes per token) into memory; done on first use. Files stream into
        arrays sized from the `length` column, so the peak is the arrays plus one small batch."""
        if self._ids is not None:
            return
        from model.token_reader import read_rows

        ids, times = np.empty(self.num_tokens, np.int64), np.empty(self.num_tokens, np.float32)
        at = 0
        for _, path in self._files:
            f = pq.ParquetFile(path)
            at = read_rows(f, 0, f.metadata.num_rows, ids, times, at)
        if at != self.num_tokens:
            raise ValueError("trajectory token counts disagree with their `length` column")
        self._ids, self._times = ids, times
        pa.default_memory_pool().release_unused()  # the decode buffers go back to the OS

    # ---- map-style: one document per item, for DataLoader(shards, batch_size=B) ------------------------------
    def _documents(self) -> tuple[Windows, int]:
        """Every document of the split in subject order, and the length items are padded to."""
        max_len = self.max_seq_len or int(self.lengths.max(initial=1))  # default: whole subjects, none cut
        key = (max_len, self.stride or max_len)
        if self._docs_key != key:
            self._docs_key, self._docs = key, windows(self.lengths, max_len, key[1])
        assert self._docs is not None
        return self._docs, max_len

    def __len__(self) -> int:
        """Documents in the split (one per subject when max_seq_len is unset)."""
        return len(self._documents()[0].subject)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        """Document i padded to max_seq_len (model.padded): `DataLoader(shards, batch_size=8)` stacks them
        into (8, max_seq_len) with an attention_mask; pass `collate_fn=model.collate_padded` to trim each batch
        to its longest document. Labels follow the packed layout's rule (each token a target once per epoch)."""
        from model.padded import pad_item

        docs, max_len = self._documents()
        if not -len(docs.subject) <= i < len(docs.subject):
            raise IndexError(f"document {i} out of range ({len(docs.subject)} documents)")
        one = docs.take(np.array([i % len(docs.subject)]))
        n = int(one.lengths[0])
        packed = self._assemble(one, n)  # exactly one document, no tail padding
        item = pad_item({k: packed[k] for k in ("input_ids", "labels", "position_ids", "times")}, max_len)
        item["subject_id"] = torch.tensor(int(self.subject_ids[one.subject[0]]))
        return item

    # ---- planning -----------------------------------------------------------------------------------------
    def _doc_len(self, tokens_per_batch: int) -> tuple[int, int]:
        max_len = self.max_seq_len or tokens_per_batch
        if max_len > tokens_per_batch:
            raise ValueError(f"max_seq_len {max_len} exceeds tokens_per_batch {tokens_per_batch}")
        return max_len, self.stride or max_len

    def epoch_plan(self, tokens_per_batch: int, seed: int, epoch: int) -> EpochPlan:
        """Every batch of the epoch (all ranks) as documents; cached for the last (budget, seed, epoch)."""
        key = (tokens_per_batch, seed, epoch)
        if self._plan_key == key and self._plan is not None:
            return self._plan
        max_len, stride = self._doc_len(tokens_per_batch)
        docs = windows(self.lengths, max_len, stride)
        rng = np.random.default_rng([seed, epoch])
        if not len(docs.subject):
            packing, order, counts = None, np.zeros(0, np.int64), np.zeros(0, np.int64)
        elif self.packing == "bfd":
            perm = rng.permutation(len(docs.subject))  # random ties, then a random order of packs
            packing = pack_bfd(docs.lengths[perm], tokens_per_batch)
            batch_order = rng.permutation(packing.n_packs)
            order = perm[_reorder(packing, batch_order)]
            counts = np.diff(packing.offsets)[batch_order]
        else:
            shard_rank = rng.permutation(int(self._shard_of.max()) + 1)
            stream = np.lexsort((rng.random(len(docs.subject)), shard_rank[self._shard_of[docs.subject]]))
            packing = pack_stream(docs.lengths[stream], tokens_per_batch, self.buffer_size)
            order = stream[packing.order]
            counts = np.diff(packing.offsets)
        plan = EpochPlan(
            docs.take(order), Packing(np.arange(len(order)), np.r_[0, np.cumsum(counts)]), len(counts)
        )
        self._plan_key, self._plan = key, plan
        return plan

    def plan(self, tokens_per_batch: int, seed: int = 0, epoch: int = 0) -> "Any":
        """The epoch's plan as a polars DataFrame: batch, subject_id, start, stop, label_from (for inspection)."""
        import polars as pl

        p = self.epoch_plan(tokens_per_batch, seed, epoch)
        return pl.DataFrame(
            {
                "batch": np.repeat(np.arange(p.n_batches), np.diff(p.packing.offsets)),
                "subject_id": self.subject_ids[p.docs.subject],
                "start": p.docs.start,
                "stop": p.docs.stop,
                "label_from": p.docs.label_from,
            }
        )

    def batches_per_rank(self, tokens_per_batch: int, seed: int, epoch: int, world_size: int) -> int:
        return -(-self.epoch_plan(tokens_per_batch, seed, epoch).n_batches // world_size)

    # ---- serving ------------------------------------------------------------------------------------------
    def batches(
        self,
        tokens_per_batch: int,
        seed: int = 0,
        epoch: int = 0,
        rank: int = 0,
        world_size: int = 1,
        *,
        start_batch: int = 0,
    ) -> "BatchStream":
        """This rank's packed batches of the epoch, from `start_batch` on (see BatchStream.state_dict)."""
        return BatchStream(self, tokens_per_batch, seed, epoch, rank, world_size, start_batch)

    def resume(self, state: dict) -> "BatchStream":
        """Continue where a BatchStream's state_dict() left off."""
        if state.get("fingerprint") != self.fingerprint() or state.get("split") != self.split:
            raise ValueError("this state was saved for other trajectories (split or data changed)")
        keys = ("tokens_per_batch", "seed", "epoch", "rank", "world_size")
        return self.batches(*(state[k] for k in keys), start_batch=state["next_batch"])

    def dataset(
        self, tokens_per_batch: int, seed: int = 0, epoch: int = 0, rank: int = 0, world_size: int = 1
    ) -> "PackedDataset":
        """A torch IterableDataset of this rank's batches; use DataLoader(ds, batch_size=None, num_workers=k)."""
        return PackedDataset(self, tokens_per_batch, seed, epoch, rank, world_size)

    def batch(self, tokens_per_batch: int, seed: int, epoch: int, rank: int, world_size: int, i: int) -> dict:
        """Batch i of this rank (an all-padding batch when the epoch's batch count leaves this rank short)."""
        plan = self.epoch_plan(tokens_per_batch, seed, epoch)
        g = i * world_size + rank
        if not 0 <= i < self.batches_per_rank(tokens_per_batch, seed, epoch, world_size):
            raise IndexError(f"batch {i} out of range for rank {rank}")
        lo, hi = (plan.packing.offsets[g], plan.packing.offsets[g + 1]) if g < plan.n_batches else (0, 0)
        return self._assemble(plan.docs.take(np.arange(lo, hi)), tokens_per_batch)

    def _assemble(self, docs: Windows, budget: int) -> dict[str, torch.Tensor]:
        """Gather documents into one packed batch; vectorized over tokens (no per-token Python)."""
        self.load()
        assert self._ids is not None and self._times is not None
        if self.device is not None:
            return self._device_tokens().assemble(docs, budget)
        lens = docs.lengths
        n = int(lens.sum())
        doc_of = np.repeat(np.arange(len(lens)), lens)  # (n,)
        seg_start = np.r_[0, np.cumsum(lens)[:-1]]
        pos = np.arange(n) - seg_start[doc_of]  # (n,) position inside its document
        src = self._base[docs.subject][doc_of] + docs.start[doc_of] + pos  # flat index of each token
        subj_end = self._base[docs.subject + 1][doc_of]
        has_target = (src + 1 < subj_end) & (pos >= docs.label_from[doc_of])

        input_ids = np.full(budget, PAD_ID, np.int64)
        labels = np.full(budget, IGNORE_INDEX, np.int64)
        position_ids = np.zeros(budget, np.int64)
        times = np.zeros(budget, np.float32)
        document_ids = np.full(budget, -1, np.int32)
        input_ids[:n] = self._ids[src]
        labels[:n] = np.where(has_target, self._ids[np.minimum(src + 1, len(self._ids) - 1)], IGNORE_INDEX)
        position_ids[:n] = pos
        times[:n] = self._times[src]
        document_ids[:n] = doc_of
        # Tail padding is one more segment, so cu_seqlens[-1] == budget and varlen kernels see every row.
        cu = np.r_[0, np.cumsum(lens), [budget] if n < budget else []].astype(np.int32)
        return {
            "input_ids": torch.from_numpy(input_ids),  # (T,)
            "labels": torch.from_numpy(labels),  # (T,)
            "position_ids": torch.from_numpy(position_ids),  # (T,)
            "cu_seqlens": torch.from_numpy(cu),  # (n_docs + 1 [+ 1 for padding],)
            "times": torch.from_numpy(times),  # (T,) years since the subject's origin
            "document_ids": torch.from_numpy(document_ids),  # (T,) -1 on padding
        }

    def _device_tokens(self) -> Any:
        if self._on_device is None or self._on_device.device != self.device:
            from model.device_packing import DeviceTokens

            self._on_device = DeviceTokens(self._ids, self._times, self._base, self.device)
        return self._on_device


def _reorder(packing: Packing, batch_order: np.ndarray) -> np.ndarray:
    """Document order after permuting whole packs."""
    counts = np.diff(packing.offsets)[batch_order]
    starts = packing.offsets[batch_order]
    idx = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(int(counts.sum()))
    return packing.order[idx]


class BatchStream:
    """An iterator over one rank's batches that knows how far it got (state_dict) to resume mid-epoch."""

    def __init__(
        self,
        shards: TrainingShards,
        tokens_per_batch: int,
        seed: int,
        epoch: int,
        rank: int,
        world_size: int,
        start_batch: int = 0,
    ) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} not in 0..{world_size - 1}")
        self.shards = shards
        self.args = (tokens_per_batch, seed, epoch, rank, world_size)
        self.total = shards.batches_per_rank(tokens_per_batch, seed, epoch, world_size)
        self.next_batch = start_batch

    def __len__(self) -> int:
        return max(self.total - self.next_batch, 0)

    def __iter__(self) -> "BatchStream":
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        if self.next_batch >= self.total:
            raise StopIteration
        batch = self.shards.batch(*self.args, self.next_batch)
        self.next_batch += 1
        return batch

    def state_dict(self) -> dict:
        t, seed, epoch, rank, world = self.args
        return {
            "split": self.shards.split,
            "fingerprint": self.shards.fingerprint(),
            "tokens_per_batch": t,
            "seed": seed,
            "epoch": epoch,
            "rank": rank,
            "world_size": world,
            "next_batch": self.next_batch,
        }


class PackedDataset(IterableDataset):
    """This rank's packed batches as an IterableDataset; DataLoader workers take every num_workers-th batch,
    so any worker count yields the same batches in the same order. Resume with load_state_dict."""

    def __init__(
        self, shards: TrainingShards, tokens_per_batch: int, seed: int, epoch: int, rank: int, world_size: int
    ) -> None:
        super().__init__()
        self.shards = shards
        self.tokens_per_batch, self.seed, self.epoch = tokens_per_batch, seed, epoch
        self.rank, self.world_size = rank, world_size
        self.start_batch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.start_batch = epoch, 0

    def __len__(self) -> int:
        total = self.shards.batches_per_rank(self.tokens_per_batch, self.seed, self.epoch, self.world_size)
        return max(total - self.start_batch, 0)

    def state_dict(self, batches_consumed: int) -> dict:
        """State after the consumer took `batches_consumed` batches from this dataset's current iteration."""
        stream = self.shards.batches(
            self.tokens_per_batch,
            self.seed,
            self.epoch,
            self.rank,
            self.world_size,
            start_batch=self.start_batch + batches_consumed,
        )
        return stream.state_dict()

    def load_state_dict(self, state: dict) -> None:
        if state.get("fingerprint") != self.shards.fingerprint():
            raise ValueError("this state was saved for other trajectories")
        self.tokens_per_batch, self.seed, self.epoch = state["tokens_per_batch"], state["seed"], state["epoch"]
        self.rank, self.world_size, self.start_batch = state["rank"], state["world_size"], state["next_batch"]

    def __iter__(self):
        info = get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        total = self.shards.batches_per_rank(self.tokens_per_batch, self.seed, self.epoch, self.world_size)
        args = (self.tokens_per_batch, self.seed, self.epoch, self.rank, self.world_size)
        for i in range(self.start_batch + worker, total, n_workers):
            yield self.shards.batch(*args, i)
