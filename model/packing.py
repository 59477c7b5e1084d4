"""Windows over long subjects and bin packing of documents into fixed token budgets.

A *document* is a window [start, stop) of one subject's tokens, at most `max_len` long; a *pack* is a list of
documents whose lengths add up to at most the batch's token budget. Packers only look at lengths, so a plan
for a whole epoch costs one pass over documents (per document, never per token) and no token data.
"""

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Windows:
    """Documents: subject index, [start, stop) token range, and label_from (targets before it were already
    predicted by the previous window of the same subject, so they are masked out of the loss)."""

    subject: np.ndarray  # (D,) int64
    start: np.ndarray  # (D,) int64
    stop: np.ndarray  # (D,) int64
    label_from: np.ndarray  # (D,) int64, position inside the document

    @property
    def lengths(self) -> np.ndarray:
        return self.stop - self.start

    def take(self, idx: np.ndarray) -> "Windows":
        return Windows(self.subject[idx], self.start[idx], self.stop[idx], self.label_from[idx])


@dataclass(frozen=True, slots=True)
class Packing:
    """Documents in pack order: pack b holds order[offsets[b]:offsets[b + 1]]."""

    order: np.ndarray  # (D,) int64 document indices
    offsets: np.ndarray  # (P + 1,) int64

    @property
    def n_packs(self) -> int:
        return len(self.offsets) - 1

    def efficiency(self, lengths: np.ndarray, capacity: int) -> float:
        """Real tokens / (packs * capacity)."""
        return float(lengths[self.order].sum()) / max(self.n_packs * capacity, 1)


def windows(lengths: np.ndarray, max_len: int, stride: int) -> Windows:
    """Split each subject of `lengths` tokens into windows of at most max_len starting every `stride` tokens,
    until a window reaches the subject's end: every token lies in at least one window, none is cut off.

    >>> w = windows(np.array([3, 10]), max_len=4, stride=3)
    >>> w.subject.tolist(), w.start.tolist(), w.stop.tolist(), w.label_from.tolist()
    ([0, 1, 1, 1], [0, 0, 3, 6], [3, 4, 7, 10], [0, 0, 1, 1])
    >>> windows(np.array([10]), max_len=4, stride=2).label_from.tolist()  # overlap: 2 targets seen before
    [0, 2, 2, 2]
    """
    if not 1 <= stride <= max_len:
        raise ValueError(f"stride must be in 1..max_len ({max_len}), got {stride}; a larger stride skips tokens")
    lengths = np.asarray(lengths, dtype=np.int64)
    if (lengths < 1).any():
        raise ValueError("every subject needs at least one token")
    n_win = 1 + np.maximum(0, -(-(lengths - max_len) // stride))  # ceil((n - L) / S) extra windows
    subject = np.repeat(np.arange(len(lengths)), n_win)
    first = np.cumsum(n_win) - n_win
    k = np.arange(len(subject)) - np.repeat(first, n_win)
    start = k * stride
    stop = np.minimum(start + max_len, lengths[subject])
    # Window k predicts targets start+1 .. stop (the next token after the window included); those up to
    # the previous window's stop are already predicted there.
    label_from = np.where(k > 0, max_len - stride, 0)
    label_from = np.minimum(label_from, stop - start)
    return Windows(subject, start, stop, label_from)


def pack_bfd(lengths: np.ndarray, capacity: int) -> Packing:
    """Best-fit decreasing: longest first, each into the open pack with the least room that still fits it.

    Ties keep input order, so callers shuffle first to randomize. Full-capacity documents are packed alone
    without entering the loop; open packs are bucketed by remaining room (O(capacity) numpy scan per document).
    >>> p = pack_bfd(np.array([5, 3, 4, 2, 6]), capacity=8)
    >>> [p.order[p.offsets[b]:p.offsets[b + 1]].tolist() for b in range(p.n_packs)]
    [[4, 3], [0, 1], [2]]
    """
    lengths = _check(lengths, capacity)
    n = len(lengths)
    pack_of = np.empty(n, np.int64)
    full = np.flatnonzero(lengths == capacity)
    pack_of[full] = np.arange(len(full))
    n_packs = len(full)
    rooms: list[list[int]] = [[] for _ in range(capacity + 1)]
    open_room = np.zeros(capacity + 1, dtype=bool)
    rest = np.flatnonzero(lengths < capacity)
    for d in rest[np.argsort(-lengths[rest], kind="stable")].tolist():
        need = int(lengths[d])
        r = need + int(open_room[need:].argmax())
        if open_room[r]:
            p = rooms[r].pop()
            if not rooms[r]:
                open_room[r] = False
        else:
            p, r = n_packs, capacity
            n_packs += 1
        pack_of[d] = p
        left = r - need
        if left:
            rooms[left].append(p)
            open_room[left] = True
    return _group(pack_of, n_packs, placed_order=np.argsort(-lengths, kind="stable"))


def pack_stream(lengths: np.ndarray, capacity: int, buffer_size: int = 2048) -> Packing:
    """Online packing through a shuffle buffer: documents arrive in stream order and wait in a buffer of
    `buffer_size`; each pack takes the longest buffered document that fits its remaining room, repeatedly,
    refilling the buffer from the stream after every pick. Memory O(buffer_size + capacity).

    >>> p = pack_stream(np.array([5, 3, 4, 2, 6]), capacity=8, buffer_size=3)
    >>> [p.order[p.offsets[b]:p.offsets[b + 1]].tolist() for b in range(p.n_packs)]
    [[0, 1], [4, 3], [2]]
    """
    lengths = _check(lengths, capacity)
    n = len(lengths)
    by_len: list[deque[int]] = [deque() for _ in range(capacity + 1)]
    present = np.zeros(capacity + 1, dtype=bool)
    order = np.empty(n, np.int64)
    offsets = [0]
    nxt = buffered = placed = 0
    while nxt < n or buffered:
        room = capacity
        while room:
            while buffered < buffer_size and nxt < n:
                length = int(lengths[nxt])
                by_len[length].append(nxt)
                present[length] = True
                nxt += 1
                buffered += 1
            length = room - int(present[room:0:-1].argmax())
            if not present[length]:
                break
            order[placed] = by_len[length].popleft()
            if not by_len[length]:
                present[length] = False
            placed += 1
            buffered -= 1
            room -= length
        offsets.append(placed)
    return Packing(order, np.array(offsets, dtype=np.int64))


def pack_greedy(lengths: np.ndarray, capacity: int) -> Packing:
    """Next-fit in input order (torchtune-style greedy packing without splitting): the baseline."""
    lengths = _check(lengths, capacity)
    pack_of = np.empty(len(lengths), np.int64)
    p, room = -1, 0
    for d, length in enumerate(lengths.tolist()):
        if length > room:
            p, room = p + 1, capacity
        pack_of[d] = p
        room -= length
    return _group(pack_of, p + 1, placed_order=np.arange(len(lengths)))


def pack_naive(lengths: np.ndarray, capacity: int) -> Packing:
    """One document per pack, padded to capacity: the no-packing baseline."""
    lengths = _check(lengths, capacity)
    return Packing(np.arange(len(lengths)), np.arange(len(lengths) + 1))


def _check(lengths: np.ndarray, capacity: int) -> np.ndarray:
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(lengths) and (lengths.min() < 1 or lengths.max() > capacity):
        raise ValueError(f"document lengths must be in 1..{capacity}; window long subjects first")
    return lengths


def _group(pack_of: np.ndarray, n_packs: int, placed_order: np.ndarray) -> Packing:
    """Order documents by pack, and within a pack by the order they were placed."""
    rank = np.empty(len(pack_of), np.int64)
    rank[placed_order] = np.arange(len(pack_of))
    order = np.lexsort((rank, pack_of))
    offsets = np.r_[0, np.cumsum(np.bincount(pack_of, minlength=n_packs))].astype(np.int64)
    return Packing(order, offsets)
