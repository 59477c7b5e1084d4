"""Fused projection + cross-entropy: Triton (interpreted on CPU) against the materialized-logits reference."""

import pytest
import torch

from model.kernels.cross_entropy import linear_cross_entropy, reference

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

# (rows N, hidden D, vocab V, rows per chunk: None = the default rule)
SHAPES = {
    "odd-many-chunks": (21, 16, 77, 8),  # last chunk is partial (21 = 2 * 8 + 5), V spans 3 vocab blocks
    "one-row": (1, 16, 33, None),
    "exact-chunk": (24, 32, 131, 24),  # one chunk exactly; V = 131 is prime
}
# Per-dtype tolerance against the fp32 reference on the same (rounded) inputs:
#  fp32: same math, different summation order (observed ~1e-7);
#  fp16: logits are formed in fp16 by both, but the kernel also stores d loss / d logits in fp16 (2^-11
#        relative) before the gradient matmuls, so gradients differ by ~1e-3 of their scale.
TOL = {torch.float32: dict(atol=1e-5, rtol=1e-5), torch.float16: dict(atol=3e-3, rtol=3e-3)}


def _inputs(shape: str, dtype: torch.dtype, device: torch.device, ignore_every: int = 3):
    n, d, v, _ = SHAPES[shape]
    gen = torch.Generator().manual_seed(n * 1000 + v)
    hidden = torch.randn(n, d, generator=gen).to(device=device, dtype=dtype).requires_grad_()
    weight = (torch.randn(v, d, generator=gen) / d**0.25).to(device=device, dtype=dtype).requires_grad_()
    labels = torch.randint(0, v, (n,), generator=gen)
    labels[1::ignore_every] = -100  # padding and subjects' last tokens
    return hidden, weight, labels.to(device)


def _check(hidden, weight, labels, dtype, reduction, chunk_rows):
    from model.kernels.cross_entropy import triton as kernel

    loss = kernel.linear_cross_entropy(hidden, weight, labels, reduction=reduction, chunk_rows=chunk_rows)
    (2.5 * loss).backward()  # a non-unit upstream gradient
    ref_h = hidden.detach().float().requires_grad_()
    ref_w = weight.detach().float().requires_grad_()
    # The reference forms logits in the inputs' dtype, as the kernel does.
    ref_loss = reference.linear_cross_entropy(ref_h.to(dtype), ref_w.to(dtype), labels, reduction=reduction)
    (2.5 * ref_loss).backward()
    torch.testing.assert_close(loss, ref_loss, **TOL[dtype])
    torch.testing.assert_close(hidden.grad.float(), ref_h.grad, **TOL[dtype])
    torch.testing.assert_close(weight.grad.float(), ref_w.grad, **TOL[dtype])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["fp32", "fp16"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_triton_matches_reference_loss_and_gradients(shape, dtype, reduction, device):
    hidden, weight, labels = _inputs(shape, dtype, device)
    _check(hidden, weight, labels, dtype, reduction, SHAPES[shape][3])


def test_all_ignored_labels_give_zero_loss_and_zero_gradients(device, triton_backend):
    hidden, weight, labels = _inputs("odd-many-chunks", torch.float32, device)
    labels = torch.full_like(labels, -100)
    loss = linear_cross_entropy(hidden, weight, labels)
    loss.backward()
    assert loss.item() == 0.0
    assert hidden.grad.abs().max() == 0 and weight.grad.abs().max() == 0
    assert reference.linear_cross_entropy(hidden.detach(), weight.detach(), labels).item() == 0.0


def test_only_hidden_needs_grad_for_a_frozen_head(device, triton_backend):
    hidden, weight, labels = _inputs("exact-chunk", torch.float32, device)
    weight = weight.detach()
    linear_cross_entropy(hidden, weight, labels).backward()
    ref_h = hidden.detach().clone().requires_grad_()
    reference.linear_cross_entropy(ref_h, weight, labels).backward()
    torch.testing.assert_close(hidden.grad, ref_h.grad, **TOL[torch.float32])


def test_no_grad_forward_matches_reference(device, triton_backend):
    hidden, weight, labels = _inputs("odd-many-chunks", torch.float32, device)
    with torch.no_grad():
        got = linear_cross_entropy(hidden, weight, labels)
    want = reference.linear_cross_entropy(hidden.detach(), weight.detach(), labels)
    torch.testing.assert_close(got, want, **TOL[torch.float32])


def test_out_of_range_label_is_an_error(device, triton_backend):
    hidden, weight, labels = _inputs("one-row", torch.float32, device)
    with pytest.raises(RuntimeError, match="outside"):
        linear_cross_entropy(hidden, weight, torch.full_like(labels, 33))


@pytest.mark.gpu
@needs_cuda
def test_fused_loss_on_gpu_uses_under_half_the_memory_of_logits():
    """bf16 at model scale: same loss as materialized logits, at most half their peak memory."""
    torch.manual_seed(0)
    n, d, v = 16384, 768, 32000
    hidden = torch.randn(n, d, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    weight = (torch.randn(v, d, device="cuda") * 0.02).to(torch.bfloat16).requires_grad_()
    labels = torch.randint(0, v, (n,), device="cuda")
    from model.kernels import use_backend

    peaks = {}
    for name in ("reference", "triton"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        with use_backend(name):
            loss = linear_cross_entropy(hidden, weight, labels)
            loss.backward()
        torch.cuda.synchronize()
        peaks[name] = (torch.cuda.max_memory_allocated() - base, loss.item())
        hidden.grad = weight.grad = None
    assert abs(peaks["triton"][1] - peaks["reference"][1]) < 1e-2
    assert peaks["triton"][0] <= 0.5 * peaks["reference"][0]
