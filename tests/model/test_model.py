"""The timeline transformer: configs, the packed-equals-separate invariant, gradients, and the batch contract."""

import dataclasses
import itertools
import math

import pytest
import torch

from model.config import ModelConfig, base, get_config, small, tiny
from model.kernels import use_backend
from model.kernels.packing import layout_rows, pack_sequences
from model.transformer import TimelineTransformer, next_token_labels, segments_from_document_ids

VOCAB = 50
LENGTHS = [5, 1, 12, 7, 3, 9]  # a length-1 subject; 12 fills a row of 12 exactly
ROW_LEN = 12


@pytest.fixture(scope="module")
def model() -> TimelineTransformer:
    torch.manual_seed(0)
    m = TimelineTransformer(tiny(vocab_size=VOCAB))
    torch.nn.init.normal_(m.time.proj.weight, std=0.1)  # zero at init; non-zero so time is exercised
    return m


@pytest.fixture(scope="module")
def subjects() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(token ids, times in years) per synthetic subject; two untimed tokens (NaN) like BOS."""
    gen = torch.Generator().manual_seed(1)
    out = []
    for i, n in enumerate(LENGTHS):
        ids = torch.randint(0, VOCAB, (n,), generator=gen)
        times = 20 + 3 * i + torch.cumsum(torch.rand(n, generator=gen), 0)
        times[0] = math.nan
        out.append((ids, times))
    return out


def _packed_batch(subjects, lengths=LENGTHS, row_len=ROW_LEN) -> dict[str, torch.Tensor]:
    lay = layout_rows(lengths, row_len)
    ids = pack_sequences(torch.cat([s[0] for s in subjects]), lay)
    times = pack_sequences(torch.cat([s[1] for s in subjects]), lay, pad_value=0.0).values
    return {
        "input_ids": ids.values,
        "labels": next_token_labels(ids.values, ids.document_ids),
        "position_ids": ids.position_ids,
        "cu_seqlens": ids.cu_seqlens,
        "times": times,
        "document_ids": ids.document_ids,
    }


def _padded_alone(ids: torch.Tensor, times: torch.Tensor, row_len: int = 16) -> dict[str, torch.Tensor]:
    """One subject alone in a row padded to `row_len`, described only by cu_seqlens = [0, n] (tail = padding)."""
    n = ids.numel()
    x = torch.zeros(1, row_len, dtype=torch.int64)
    x[0, :n] = ids
    t = torch.zeros(1, row_len)
    t[0, :n] = times
    labels = torch.full_like(x, -100)
    labels[0, : n - 1] = ids[1:]
    return {"input_ids": x, "labels": labels, "times": t, "cu_seqlens": torch.tensor([0, n], dtype=torch.int32)}


def test_named_sizes_have_the_advertised_parameter_counts():
    assert tiny().n_params() < 1_000_000
    assert 27e6 <= small().n_params() <= 33e6
    assert 110e6 <= base().n_params() <= 130e6
    # The formula the sizes are quoted from counts the real module (tied and untied, other widths).
    for config in (tiny(), dataclasses.replace(tiny(), tie_embeddings=False, d_model=96, n_heads=3, n_layers=3)):
        module = TimelineTransformer(config)
        assert sum(p.numel() for p in module.parameters()) == config.n_params()
    assert get_config("base", vocab_size=1000).vocab_size == 1000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_heads": 5}, "not divisible"),
        ({"d_model": 72, "n_heads": 8}, "even head_dim"),
        ({"vocab_size": 0}, "vocab_size must be positive"),
        ({"norm_eps": float("nan")}, "norm_eps"),
    ],
)
def test_config_rejects_inconsistent_shapes(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(tiny(), **change)
    with pytest.raises(TypeError):
        ModelConfig(50, 64, 2, 4, 192, 256)  # keyword-only
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny().d_model = 3


def test_packed_loss_equals_each_subject_run_alone_and_padded(model, subjects):
    """No attention leaks across subjects: the packed sum of losses is the sum of the separate ones."""
    with use_backend("reference"), torch.no_grad():
        packed = model(_packed_batch(subjects), reduction="sum")
        alone = [model(_padded_alone(*s), reduction="sum") for s in subjects]
    assert packed.n_targets.item() == sum(n - 1 for n in LENGTHS)
    # fp32; the same math on different row layouts, so only summation order differs (observed ~1e-6).
    torch.testing.assert_close(packed.loss, sum(o.loss for o in alone), rtol=1e-5, atol=1e-5)


def test_packed_gradients_equal_the_sum_of_separate_gradients(model, subjects):
    with use_backend("reference"):
        model.zero_grad()
        model(_packed_batch(subjects), reduction="sum").loss.backward()
        packed = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        for s in subjects:
            model(_padded_alone(*s), reduction="sum").loss.backward()
        alone = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
    for got, want in zip(packed, alone, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_a_subject_loss_does_not_depend_on_its_row_neighbours(model, subjects):
    changed = [(torch.randint(0, VOCAB, s[0].shape), s[1] + 5) if i != 2 else s for i, s in enumerate(subjects)]
    with use_backend("reference"), torch.no_grad():
        logits = model(_packed_batch(subjects), return_logits=True).logits
        logits_changed = model(_packed_batch(changed), return_logits=True).logits
    # subject 2 (12 tokens) fills row 1 alone; subjects 0 and 1 share row 0 and are all changed
    torch.testing.assert_close(logits[1], logits_changed[1], rtol=0, atol=0)
    assert not torch.allclose(logits[0], logits_changed[0])


def test_stream_batches_and_document_ids_give_the_same_loss(model, subjects):
    """TrainingShards yields (T,) streams; cu_seqlens may also be derived from document_ids."""
    batch = _packed_batch(subjects)
    stream = {k: (v.flatten() if k != "cu_seqlens" else v) for k, v in batch.items()}
    no_cu = {k: v for k, v in batch.items() if k != "cu_seqlens"}
    with use_backend("reference"), torch.no_grad():
        want = model(batch).loss
        got_stream = model(stream, return_logits=True)
        got_doc = model(no_cu).loss
    torch.testing.assert_close(got_stream.loss, want, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(got_doc, want, rtol=1e-6, atol=1e-6)
    assert got_stream.logits.shape == (batch["input_ids"].numel(), VOCAB)
    assert segments_from_document_ids(batch["document_ids"]).tolist() == batch["cu_seqlens"].tolist()


def test_loss_is_cross_entropy_of_the_logits_over_real_targets(model, subjects):
    batch = _packed_batch(subjects)
    with use_backend("reference"), torch.no_grad():
        out = model(batch, return_logits=True)
    mask = batch["labels"] != -100
    want = torch.nn.functional.cross_entropy(out.logits[mask], batch["labels"][mask])
    torch.testing.assert_close(out.loss, want, rtol=1e-6, atol=1e-6)
    assert model(batch).logits is None  # logits only when asked
    none = dict(batch, labels=torch.full_like(batch["labels"], -100))
    assert model(none).loss.item() == 0.0


def test_time_encoding_sees_time_and_tolerates_untimed_tokens(model, subjects):
    batch = _packed_batch(subjects)
    shifted = dict(batch, times=batch["times"] + 30.0)  # thirty years older, same gaps
    nan_times = dict(batch, times=torch.full_like(batch["times"], math.nan))
    with use_backend("reference"), torch.no_grad():
        losses = [model(b).loss for b in (batch, shifted, nan_times)]
    assert all(torch.isfinite(x) for x in losses)
    assert abs(losses[0] - losses[1]) > 1e-4  # age matters...
    with torch.no_grad():
        fresh = TimelineTransformer(tiny(vocab_size=VOCAB))  # ...but not at init (zero projection)
        assert fresh(batch).loss == fresh(nan_times).loss


def test_gradients_match_finite_differences_in_float64():
    torch.manual_seed(0)
    config = dataclasses.replace(tiny(vocab_size=11), d_model=16, n_heads=2, ffn_hidden=32, n_layers=1)
    m = TimelineTransformer(config).double()
    torch.nn.init.normal_(m.time.proj.weight, std=0.1)
    ids = torch.tensor([[3, 4, 5, 1, 2, 7, 7, 0]])
    docs = torch.tensor([[0, 0, 0, 1, 1, 1, 1, -1]])
    batch = {
        "input_ids": ids,
        "labels": next_token_labels(ids, docs),
        "document_ids": docs,
        "times": torch.tensor([[1.0, 1.5, 2.0, 40.0, 40.1, 41.0, 45.0, 0.0]], dtype=torch.float64),
    }
    names = ["embed.weight", "time.proj.weight", "blocks.0.attn.qkv.weight", "blocks.0.mlp.gate_up.weight"]
    params = dict(m.named_parameters())

    def loss_of(*tensors):
        overrides = dict(zip(names, tensors, strict=True))
        return torch.func.functional_call(m, {**params, **overrides}, (batch,)).loss

    with use_backend("reference"):
        inputs = tuple(params[n].detach().clone().requires_grad_() for n in names)
        assert torch.autograd.gradcheck(loss_of, inputs, fast_mode=True)


def test_training_shards_batches_train_the_model_without_cross_subject_leaks(tiny_root):
    """A real TrainingShards batch (a (T,) stream, windows, tail padding): each document alone gives the same
    loss as inside the pack, so the model and the loader agree on labels, positions and segments."""
    from model import TrainingShards

    layout, tok = tiny_root
    batch = next(iter(TrainingShards(layout.root, "train", max_seq_len=128).batches(256, seed=0)))
    torch.manual_seed(0)
    m = TimelineTransformer(tiny(vocab_size=tok.size))
    torch.nn.init.normal_(m.time.proj.weight, std=0.1)
    cu = batch["cu_seqlens"].tolist()
    with use_backend("reference"), torch.no_grad():
        packed = m(batch, reduction="sum")
        alone = 0.0
        for a, b in itertools.pairwise(cu):
            if batch["document_ids"][a] < 0:
                continue  # tail padding
            one = {k: batch[k][a:b] for k in ("input_ids", "labels", "position_ids", "times")}
            alone += m(dict(one, cu_seqlens=torch.tensor([0, b - a], dtype=torch.int32)), reduction="sum").loss
    assert packed.n_targets > 0 and torch.isfinite(packed.loss)
    torch.testing.assert_close(packed.loss, alone, rtol=1e-5, atol=1e-4)
