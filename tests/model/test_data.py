"""TrainingShards: packed batches, windows, determinism, rank disjointness, resume, DataLoader workers."""

import numpy as np
import polars as pl
import pytest
import torch
from torch.utils.data import DataLoader

from model import TrainingShards
from model.tokenizer import PAD_ID
from schemas.tokens import trajectory_path

T, MAX_LEN, STRIDE = 256, 128, 96


def _tokens(layout, split="train") -> dict[int, np.ndarray]:
    frames = [pl.read_parquet(trajectory_path(layout.tokens, split, k)) for k in range(2)]
    return {sid: np.array(ids) for f in frames for sid, ids in f.select("subject_id", "input_ids").iter_rows()}


def _shards(layout, packing="bfd", **kw) -> TrainingShards:
    return TrainingShards(layout.root, "train", max_seq_len=MAX_LEN, stride=STRIDE, packing=packing, **kw)


def _same(a: list[dict], b: list[dict]) -> bool:
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x) for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("packing", ["bfd", "stream"])
def test_batches_are_fixed_budget_documents_of_one_subject_each_then_tail_padding(tiny_root, packing):
    layout, _ = tiny_root
    tokens = _tokens(layout)
    shards = _shards(layout, packing)
    plan = shards.plan(T, seed=3, epoch=0)
    assert plan["subject_id"].n_unique() == len(tokens)
    batches = list(shards.batches(T, seed=3, epoch=0))
    assert len(batches) == plan["batch"].max() + 1
    covered = {sid: np.zeros(len(ids), int) for sid, ids in tokens.items()}
    for b, batch in enumerate(batches):
        assert all(v.shape == (T,) for k, v in batch.items() if k != "cu_seqlens")
        cu = batch["cu_seqlens"].numpy()
        docs = plan.filter(pl.col("batch") == b)
        n_real = int((docs["stop"] - docs["start"]).sum())
        assert cu[0] == 0 and cu[-1] == T and (np.diff(cu) > 0).all()
        pad = batch["document_ids"].numpy() == -1
        assert not pad[:n_real].any() and pad[n_real:].all(), "padding only at the tail"
        assert (batch["input_ids"][n_real:] == PAD_ID).all() and (batch["labels"][n_real:] == -100).all()
        for d, (sid, start, stop) in enumerate(docs.select("subject_id", "start", "stop").iter_rows()):
            lo, hi = cu[d], cu[d + 1]
            assert hi - lo == stop - start <= MAX_LEN
            # One segment = one contiguous window of one subject; positions restart at 0.
            assert np.array_equal(batch["input_ids"][lo:hi].numpy(), tokens[sid][start:stop])
            assert np.array_equal(batch["position_ids"][lo:hi].numpy(), np.arange(hi - lo))
            assert (batch["document_ids"][lo:hi] == d).all()
            covered[sid][start:stop] += 1
    assert all((c >= 1).all() for c in covered.values()), "long subjects are windowed, never truncated"
    assert any(len(ids) > MAX_LEN for ids in tokens.values()), "the fixture must have long subjects"


def test_labels_are_next_tokens_of_the_same_subject_each_predicted_once(tiny_root):
    layout, _ = tiny_root
    tokens = _tokens(layout)
    shards = _shards(layout)
    plan = shards.plan(T, seed=0, epoch=0)
    hits = {sid: np.zeros(len(ids) + 1, int) for sid, ids in tokens.items()}
    for b, batch in enumerate(shards.batches(T, seed=0, epoch=0)):
        cu = batch["cu_seqlens"].numpy()
        labels = batch["labels"].numpy()
        for d, (sid, start, _stop) in enumerate(
            plan.filter(pl.col("batch") == b).select("subject_id", "start", "stop").iter_rows()
        ):
            seg = labels[cu[d] : cu[d + 1]]
            target = start + np.arange(len(seg)) + 1
            real = seg != -100
            assert np.array_equal(seg[real], tokens[sid][target[real]])
            hits[sid][target[real]] += 1
    for sid, h in hits.items():
        assert h[0] == 0 and (h[1 : len(tokens[sid])] == 1).all(), sid


@pytest.mark.parametrize("packing", ["bfd", "stream"])
def test_batches_are_deterministic_for_a_seed_and_change_with_seed_and_epoch(tiny_root, packing):
    layout, _ = tiny_root
    a = list(_shards(layout, packing).batches(T, seed=1, epoch=2))
    b = list(_shards(layout, packing).batches(T, seed=1, epoch=2))
    assert _same(a, b)
    assert not _same(a, list(_shards(layout, packing).batches(T, seed=2, epoch=2)))
    assert not _same(a, list(_shards(layout, packing).batches(T, seed=1, epoch=3)))


@pytest.mark.parametrize("packing", ["bfd", "stream"])
def test_ranks_get_disjoint_documents_that_cover_the_epoch_in_equal_step_counts(tiny_root, packing):
    layout, _ = tiny_root
    shards = _shards(layout, packing)
    plan = shards.plan(T, seed=5, epoch=1)
    world = 3
    seen = []
    counts = []
    for rank in range(world):
        stream = list(shards.batches(T, seed=5, epoch=1, rank=rank, world_size=world))
        counts.append(len(stream))
        for i, batch in enumerate(stream):
            g = i * world + rank
            docs = plan.filter(pl.col("batch") == g)
            n_real = int((batch["document_ids"] >= 0).sum())
            assert n_real == int((docs["stop"] - docs["start"]).sum())
            seen += [(g, *row) for row in docs.select("subject_id", "start").iter_rows()]
    assert len(set(counts)) == 1, "every rank takes the same number of steps"
    assert len(seen) == len(set(seen)) == plan.height, "each document goes to exactly one rank"


def test_resume_mid_epoch_yields_exactly_the_remaining_batches(tiny_root):
    layout, _ = tiny_root
    full = list(_shards(layout).batches(T, seed=9, epoch=0, rank=1, world_size=2))
    stream = _shards(layout).batches(T, seed=9, epoch=0, rank=1, world_size=2)
    head = [next(stream) for _ in range(3)]
    state = stream.state_dict()
    resumed = _shards(layout).resume(state)  # a fresh process: new TrainingShards
    assert len(resumed) == len(full) - 3
    assert _same(head + list(resumed), full)


def test_resume_refuses_state_of_other_data(tiny_root):
    layout, _ = tiny_root
    state = _shards(layout).batches(T).state_dict()
    with pytest.raises(ValueError, match="other trajectories"):
        TrainingShards(layout.root, "tuning", max_seq_len=MAX_LEN).resume(state)


@pytest.mark.parametrize("packing", ["bfd", "stream"])
def test_dataloader_workers_yield_the_same_batches_in_the_same_order(tiny_root, packing):
    layout, _ = tiny_root
    shards = _shards(layout, packing)
    reference = list(shards.batches(T, seed=4, epoch=0, rank=0, world_size=2))
    for workers in (0, 2):
        loader = DataLoader(
            shards.dataset(T, seed=4, epoch=0, rank=0, world_size=2), batch_size=None, num_workers=workers
        )
        assert _same(list(loader), reference), f"num_workers={workers}"
    ds = shards.dataset(T, seed=4, epoch=0, rank=0, world_size=2)
    ds.load_state_dict(ds.state_dict(batches_consumed=2))
    loader = DataLoader(ds, batch_size=None, num_workers=2)
    assert _same(list(loader), reference[2:]), "a resumed dataset skips what was consumed"


def test_max_seq_len_above_the_budget_is_refused(tiny_root):
    layout, _ = tiny_root
    with pytest.raises(ValueError, match="exceeds"):
        list(TrainingShards(layout.root, "train", max_seq_len=512).batches(256))


def test_dataloader_with_a_batch_size_stacks_padded_documents_with_an_attention_mask(tiny_root):
    from model import collate_padded

    layout, _ = tiny_root
    tokens = _tokens(layout)
    shards = _shards(layout)
    seen = {sid: np.zeros(len(ids) + 1, int) for sid, ids in tokens.items()}
    n_rows = 0
    for batch in DataLoader(shards, batch_size=8):  # the default collate
        assert batch["input_ids"].shape[1] == MAX_LEN and batch["attention_mask"].shape == batch["input_ids"].shape
        for row in range(batch["input_ids"].shape[0]):
            mask = batch["attention_mask"][row].bool().numpy()
            n = int(mask.sum())
            assert mask[:n].all() and not mask[n:].any(), "padding only after the tokens"
            ids, labels = batch["input_ids"][row].numpy(), batch["labels"][row].numpy()
            assert (ids[n:] == PAD_ID).all() and (labels[n:] == -100).all()
            sid = int(batch["subject_id"][row])
            start = int(np.flatnonzero([np.array_equal(tokens[sid][s : s + n], ids[:n]) for s in
                                        range(0, len(tokens[sid]) - n + 1, STRIDE)])[0]) * STRIDE  # fmt: skip
            real = labels[:n] != -100
            target = start + np.arange(n) + 1
            assert np.array_equal(labels[:n][real], tokens[sid][target[real]])
            seen[sid][target[real]] += 1
        n_rows += batch["input_ids"].shape[0]
    assert n_rows == len(shards) and len(shards) >= len(tokens)
    for sid, hits in seen.items():  # the packed layout's rule: every token after the first a target once
        assert hits[0] == 0 and (hits[1 : len(tokens[sid])] == 1).all(), sid
    trimmed = next(iter(DataLoader(shards, batch_size=4, collate_fn=collate_padded)))
    assert trimmed["input_ids"].shape[1] == int(trimmed["attention_mask"].sum(1).max()) <= MAX_LEN


def test_a_packed_batch_unpacks_to_one_padded_row_per_document(tiny_root):
    from model import to_padded

    layout, _ = tiny_root
    packed = next(iter(_shards(layout).batches(T, seed=0, epoch=0)))
    rows = to_padded(packed)
    cu = packed["cu_seqlens"].numpy()
    n_docs = int(packed["document_ids"].max()) + 1
    assert (
        rows["input_ids"].shape[0] == n_docs
        and rows["attention_mask"].sum() == (packed["document_ids"] >= 0).sum()
    )
    for d in range(n_docs):
        n = cu[d + 1] - cu[d]
        for key in ("input_ids", "labels", "position_ids", "times"):
            assert torch.equal(rows[key][d, :n], packed[key][cu[d] : cu[d + 1]]), key
        assert (rows["attention_mask"][d, :n] == 1).all() and (rows["attention_mask"][d, n:] == 0).all()
        assert (rows["labels"][d, n:] == -100).all()
