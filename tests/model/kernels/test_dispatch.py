"""Dispatch: the reference off CUDA, Triton on CUDA, overrides by context manager and environment variable."""

import pytest
import torch

from model.kernels import backend_for, use_backend


def test_cpu_tensors_get_the_reference(monkeypatch):
    monkeypatch.delenv("LONGITUDE_KERNELS", raising=False)
    assert backend_for(torch.zeros(2)) == "reference"


def test_environment_variable_and_context_manager_override(monkeypatch):
    monkeypatch.setenv("LONGITUDE_KERNELS", "triton")
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert backend_for(torch.zeros(2)) == "triton"  # CPU tensors are allowed under the interpreter
    with use_backend("reference"):
        assert backend_for(torch.zeros(2)) == "reference"  # the context manager wins
    assert backend_for(torch.zeros(2)) == "triton"


def test_unknown_backend_is_an_error(monkeypatch):
    with pytest.raises(ValueError, match="unknown kernel backend"), use_backend("cuda"):
        pass
    monkeypatch.setenv("LONGITUDE_KERNELS", "fast")
    with pytest.raises(ValueError, match="unknown kernel backend"):
        backend_for(torch.zeros(2))


def test_triton_on_cpu_without_the_interpreter_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with use_backend("triton"), pytest.raises(RuntimeError, match="TRITON_INTERPRET=1"):
        backend_for(torch.zeros(2))


def test_model_loss_and_gradients_are_the_same_with_either_backend(device):
    """The tiny model end to end on a packed batch: Triton kernels (interpreted here) vs the references."""
    from model.config import tiny
    from model.kernels.packing import layout_rows, pack_sequences
    from model.transformer import TimelineTransformer, next_token_labels

    torch.manual_seed(0)
    model = TimelineTransformer(tiny(vocab_size=40)).to(device)
    torch.nn.init.normal_(model.time.proj.weight, std=0.05)  # make the time path matter
    lay = layout_rows([9, 1, 14, 6], 16).to(device)
    ids = torch.randint(0, 40, (lay.n_tokens,), device=device)
    times = torch.linspace(30, 31, lay.n_tokens, device=device)
    results = {}
    for name in ("reference", "triton"):
        with use_backend(name):
            packed = pack_sequences(ids, lay)
            batch = {
                "input_ids": packed.values,
                "labels": next_token_labels(packed.values, packed.document_ids),
                "position_ids": packed.position_ids,
                "times": pack_sequences(times, lay).values,
                "cu_seqlens": packed.cu_seqlens,
            }
            model.zero_grad()
            loss = model(batch).loss
            loss.backward()
            results[name] = (loss.detach(), [p.grad.clone() for p in model.parameters()])
    # fp32 end to end; the kernels only reorder sums (observed ~1e-7 relative).
    torch.testing.assert_close(results["triton"][0], results["reference"][0], atol=1e-5, rtol=1e-5)
    for got, want in zip(results["triton"][1], results["reference"][1], strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
