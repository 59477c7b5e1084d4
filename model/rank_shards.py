"""One rank's share of a split's trajectories: a contiguous run of subjects balanced by token count, read alone.

    from model.rank_shards import RankShards
    shards = RankShards(root, "train", rank=rank, world_size=world, max_seq_len=2048)
    for batch in shards.batches(tokens_per_batch=8192, seed=0, epoch=0, rank=rank, world_size=world):
        ...

TrainingShards plans every batch of the epoch over the whole split and deals batch i to rank i % world, so
every rank must hold every token. Here the split's subjects, in shard-file order, are cut into `world_size`
contiguous ranges of about equal token count (the cuts depend only on the `length` column and the world
size, so every rank computes the same ones); a rank reads only the Parquet row groups that hold its range,
streaming them into arrays of exactly its token count, and plans its epochs over its own subjects. Memory
per rank is its share of tokens (12 bytes a token), not the split's.

Every rank serves the same number of batches per epoch (DDP steps in lockstep): the largest count of any
rank's plan, which each rank computes from the lengths alone; a rank with fewer batches gets all-padding
batches at its end, which carry no targets and so change no gradient. With world_size 1 the range is the
whole split and the batches are exactly TrainingShards'.
"""

import copy
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from model.data import TrainingShards
from model.token_reader import read_rows as _read_rows


def token_balanced_cuts(lengths: np.ndarray, world_size: int) -> np.ndarray:
    """(world_size + 1,) subject indices: rank r owns subjects cuts[r]:cuts[r + 1], each range's end chosen as
    the subject boundary nearest to r + 1 world_size-ths of the tokens (ties to the earlier boundary).

    >>> token_balanced_cuts(np.array([5, 5, 5, 5]), 2).tolist()
    [0, 2, 4]
    >>> token_balanced_cuts(np.array([10, 1, 1, 1, 1, 6]), 2).tolist()  # 20 tokens: a cut near 10
    [0, 1, 6]
    >>> token_balanced_cuts(np.array([3]), 3).tolist()  # fewer subjects than ranks: some ranks own none
    [0, 0, 1, 1]
    """
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    ends = np.r_[0, np.cumsum(np.asarray(lengths, dtype=np.int64))]  # (S + 1,) token offset of each boundary
    if len(ends) == 1:
        return np.zeros(world_size + 1, np.int64)
    targets = ends[-1] * np.arange(world_size + 1) / world_size
    right = np.clip(np.searchsorted(ends, targets, side="left"), 1, max(len(ends) - 1, 1))
    left = right - 1
    nearest = np.where(targets - ends[left] <= ends[right] - targets, left, right)
    cuts = np.maximum.accumulate(nearest)
    cuts[0], cuts[-1] = 0, len(ends) - 1
    return cuts


class RankShards(TrainingShards):
    """The subjects of `rank`'s token-balanced range of `split`, with TrainingShards' batches, packing and
    resume. Serve it with the same (rank, world_size) it was built for; the fingerprint is the split's, so runs
    and batch-stream states name the data, not the share."""

    def __init__(self, root: str | Path, split: str = "train", *, rank: int, world_size: int, **kwargs) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} not in 0..{world_size - 1}")
        super().__init__(root, split, **kwargs)
        self.rank, self.world_size = rank, world_size
        self._split_fingerprint = TrainingShards.fingerprint(self)
        self.split_tokens = int(self._base[-1])
        self.cuts = token_balanced_cuts(self.lengths, world_size)
        # Every rank's lengths stay (8 bytes a subject, not a token) to count every rank's batches.
        self._split_lengths, self._split_shard_of = self.lengths, self._shard_of
        lo, hi = int(self.cuts[rank]), int(self.cuts[rank + 1])
        self._restrict(lo, hi)
        self._counts_key: tuple | None = None
        self._counts: np.ndarray | None = None

    def _restrict(self, lo: int, hi: int) -> None:
        self.first_subject = lo
        self.lengths = self._split_lengths[lo:hi]
        self.subject_ids = self.subject_ids[lo:hi]
        self._shard_of = self._split_shard_of[lo:hi]
        self._base = np.r_[0, np.cumsum(self.lengths)]
        self._plan_key = self._plan = self._docs_key = self._docs = None

    def fingerprint(self) -> str:
        return self._split_fingerprint

    @property
    def loaded_tokens(self) -> int:
        """Tokens this rank holds in memory (0 before the first batch or load())."""
        return 0 if self._ids is None else len(self._ids)

    def load(self) -> None:
        """Stream this rank's rows of each shard file into arrays sized to its token count."""
        if self._ids is not None:
            return
        n = self.num_tokens
        ids, times = np.empty(n, np.int64), np.empty(n, np.float32)
        lo, hi = self.first_subject, self.first_subject + len(self.lengths)
        at, file_start = 0, 0
        for _, path in self._files:
            f = pq.ParquetFile(path)
            file_stop = file_start + f.metadata.num_rows
            if file_start < hi and lo < file_stop:
                at = _read_rows(
                    f, max(lo, file_start) - file_start, min(hi, file_stop) - file_start, ids, times, at
                )
            file_start = file_stop
        if at != n:
            raise ValueError("trajectory token counts disagree with their `length` column")
        self._ids, self._times = ids, times
        pa.default_memory_pool().release_unused()  # the row groups' decode buffers go back to the OS

    def batches_per_rank(self, tokens_per_batch: int, seed: int, epoch: int, world_size: int) -> int:
        """The largest plan of any rank this epoch: every rank serves that many batches."""
        self._check_world(world_size)
        key = (tokens_per_batch, seed, epoch)
        if self._counts_key != key:
            counts = [self._rank_view(r).epoch_plan(tokens_per_batch, seed, epoch).n_batches
                      for r in range(self.world_size)]  # fmt: skip
            self._counts_key, self._counts = key, np.array(counts, np.int64)
        assert self._counts is not None
        return int(self._counts.max(initial=0))

    def batch(self, tokens_per_batch: int, seed: int, epoch: int, rank: int, world_size: int, i: int) -> dict:
        """Batch i of this rank's own plan (all padding past its end, up to batches_per_rank)."""
        self._check_world(world_size)
        if rank != self.rank:
            raise ValueError(f"these shards hold rank {self.rank}'s subjects, not rank {rank}'s")
        if not 0 <= i < self.batches_per_rank(tokens_per_batch, seed, epoch, world_size):
            raise IndexError(f"batch {i} out of range for rank {rank}")
        plan = self.epoch_plan(tokens_per_batch, seed, epoch)
        lo, hi = (plan.packing.offsets[i], plan.packing.offsets[i + 1]) if i < plan.n_batches else (0, 0)
        return self._assemble(plan.docs.take(np.arange(lo, hi)), tokens_per_batch)

    def _check_world(self, world_size: int) -> None:
        if world_size != self.world_size:
            raise ValueError(f"these shards were cut for {self.world_size} ranks, not {world_size}")

    def _rank_view(self, rank: int) -> TrainingShards:
        """Rank `rank`'s subjects for planning only (shares this object's arrays; never loads tokens)."""
        if rank == self.rank:
            return self
        view = copy.copy(self)
        view._restrict(int(self.cuts[rank]), int(self.cuts[rank + 1]))
        view._ids = view._times = None
        return view
