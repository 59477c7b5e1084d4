"""Windows and packers: every token covered, every document packed once, budgets respected, efficiency."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.packing import pack_bfd, pack_greedy, pack_naive, pack_stream, windows

PACKERS = {
    "bfd": pack_bfd,
    "stream": lambda lengths, cap: pack_stream(lengths, cap, buffer_size=64),
    "greedy": pack_greedy,
    "naive": pack_naive,
}


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 300), min_size=1, max_size=30),
    max_len=st.integers(1, 64),
    stride_frac=st.floats(0.01, 1.0),
)
def test_windows_cover_every_token_and_target_each_token_exactly_once(lengths, max_len, stride_frac):
    stride = max(1, int(max_len * stride_frac))
    w = windows(np.array(lengths), max_len, stride)
    assert (w.lengths >= 1).all() and (w.lengths <= max_len).all()
    for s, n in enumerate(lengths):
        mine = np.flatnonzero(w.subject == s)
        covered = np.zeros(n, int)
        targeted = np.zeros(n + 1, int)
        for d in mine:
            covered[w.start[d] : w.stop[d]] += 1
            # position p of the window predicts token start + p + 1 when p >= label_from
            targets = np.arange(w.start[d] + w.label_from[d], w.stop[d]) + 1
            np.add.at(targeted, targets[targets < n], 1)
        assert (covered >= 1).all(), "no token is left out of every window"
        assert (targeted[1:n] == 1).all() and targeted[0] == 0, "each token after the first is a target once"
        assert w.stop[mine[-1]] == n


def test_windows_reject_a_stride_that_would_skip_tokens():
    with pytest.raises(ValueError, match="stride"):
        windows(np.array([10]), max_len=4, stride=5)


@pytest.mark.parametrize("name", sorted(PACKERS))
@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(1, 50), min_size=0, max_size=200))
def test_every_document_is_packed_exactly_once_within_budget(name, lengths):
    lengths = np.array(lengths, dtype=np.int64)
    p = PACKERS[name](lengths, 50)
    assert sorted(p.order.tolist()) == list(range(len(lengths)))
    per_pack = np.add.reduceat(lengths[p.order], p.offsets[:-1]) if len(lengths) else np.array([])
    assert (per_pack <= 50).all()
    assert (np.diff(p.offsets) >= 1).all(), "no empty pack"


def test_packers_reject_documents_longer_than_the_budget():
    for pack in PACKERS.values():
        with pytest.raises(ValueError, match="lengths"):
            pack(np.array([3, 9]), 8)


@pytest.mark.parametrize("capacity", [2048, 8192])
def test_bfd_and_stream_pack_log_normal_timelines_nearly_full(capacity):
    rng = np.random.default_rng(0)
    subjects = np.clip(rng.lognormal(np.log(2000), 1.0, 3000).astype(np.int64), 8, 100_000)
    w = windows(subjects, capacity, capacity)
    eff = {name: PACKERS[name](w.lengths, capacity).efficiency(w.lengths, capacity) for name in PACKERS}
    stream = pack_stream(w.lengths, capacity, buffer_size=2048).efficiency(w.lengths, capacity)
    assert eff["bfd"] >= 0.99
    assert stream >= 0.98
    assert eff["bfd"] >= stream >= eff["greedy"] > eff["naive"]


def test_stream_packer_only_sees_its_buffer():
    # With a buffer of one document it cannot combine out of order: it degenerates to next-fit.
    lengths = np.array([6, 6, 2, 2])
    p = pack_stream(lengths, 8, buffer_size=1)
    assert [p.order[p.offsets[b] : p.offsets[b + 1]].tolist() for b in range(p.n_packs)] == [[0], [1, 2], [3]]
