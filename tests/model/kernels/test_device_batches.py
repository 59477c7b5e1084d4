"""TrainingShards on a device packs with the Triton kernel and yields exactly the numpy reference's batches."""

from itertools import islice

import pytest
import torch

from model import TrainingShards

T, MAX_LEN, STRIDE = 256, 128, 96


def _batches(shards: TrainingShards, **kw) -> list[dict[str, torch.Tensor]]:
    """The first batches of an epoch (the Triton interpreter is slow; every batch goes the same way)."""
    return list(islice(shards.batches(T, seed=3, epoch=1, **kw), 4))


def _assert_same(host: list[dict], dev: list[dict]) -> None:
    assert len(host) == len(dev) > 1
    for a, b in zip(host, dev, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            got = b[key].cpu()
            assert got.dtype == a[key].dtype, key
            assert torch.equal(a[key], got), key


@pytest.mark.slow  # ~10 s each in the Triton interpreter
@pytest.mark.parametrize("packing", ["bfd", "stream"])
def test_the_kernel_path_gives_the_numpy_batches_bit_for_bit(tiny_root, device, triton_backend, packing):
    layout, _ = tiny_root
    host = TrainingShards(layout.root, "train", max_seq_len=MAX_LEN, stride=STRIDE, packing=packing)
    dev = TrainingShards(layout.root, "train", max_seq_len=MAX_LEN, stride=STRIDE, packing=packing, device=device)
    batches = _batches(dev)
    assert all(b["input_ids"].device.type == device.type for b in batches)
    _assert_same(_batches(host), batches)


def test_ranks_short_of_batches_get_the_same_all_padding_batch(tiny_root, device, triton_backend):
    layout, _ = tiny_root
    host = TrainingShards(layout.root, "train", max_seq_len=MAX_LEN, stride=STRIDE)
    dev = TrainingShards(layout.root, "train", max_seq_len=MAX_LEN, stride=STRIDE).to(device)
    world = host.epoch_plan(T, 3, 1).n_batches + 1  # more ranks than batches: the last rank gets padding only
    _assert_same(
        _batches(host, rank=world - 1, world_size=world) * 2, _batches(dev, rank=world - 1, world_size=world) * 2
    )
    assert int(host.batch(T, 3, 1, world - 1, world, 0)["cu_seqlens"][-1]) == T


def test_the_device_path_runs_the_triton_kernel(tiny_root, device, triton_backend, monkeypatch):
    """Not the reference in disguise: the Triton pack is what assembles the batch."""
    from model.kernels.packing import reference
    from model.kernels.packing import triton as kernel

    calls = []
    monkeypatch.setattr(reference, "pack_sequences", lambda *a, **k: pytest.fail("the reference ran"))
    real = kernel.pack_sequences
    monkeypatch.setattr(kernel, "pack_sequences", lambda *a, **k: calls.append(1) or real(*a, **k))
    layout, _ = tiny_root
    TrainingShards(layout.root, "train", max_seq_len=MAX_LEN, device=device).batch(T, 0, 0, 0, 1, 0)
    assert len(calls) == 3  # input ids, labels, times
