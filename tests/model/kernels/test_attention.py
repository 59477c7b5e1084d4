"""Varlen causal attention: Triton (interpreted on CPU) against the per-segment SDPA reference."""

import zlib

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from model.kernels.attention import reference, varlen_attention

# (rows, row_len, segment lengths per row; a row's remainder is tail padding left out of cu_seqlens)
CASES = {
    # odd length, a length-1 subject, and the last subject ends exactly at the row's end
    "odd-row-filled": (1, 37, [[1, 16, 20]]),
    # a subject filling a row exactly; a second row with a length-1 subject and 7 tokens of tail padding
    "two-rows-padded": (2, 24, [[24], [5, 1, 11]]),
    # one subject longer than a tile in both directions plus a single-token row remainder
    "long-and-short": (3, 20, [[19], [3, 9], [20]]),
    # subjects spanning several 16-token tiles, so whole tiles take the kernels' mask-free path
    "multi-tile": (2, 48, [[40], [3, 45]]),
}
HEAD_DIMS = [16, 24]  # 24 is not a power of two: the kernels mask the padded head lanes
# Per-dtype tolerance of Triton vs the fp32 reference on the same (rounded) inputs:
#  fp32: both accumulate in fp32 and differ only in summation order (observed <= 1e-6);
#  fp16: the kernel rounds P and dS to fp16 before its dots and stores fp16 (2^-11 relative), so errors
#        reach ~2e-3 on outputs of unit scale; 1e-2 would still catch a wrong mask (errors of O(1)).
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
TOL = {torch.float32: dict(atol=2e-5, rtol=2e-5), torch.float16: dict(atol=1e-2, rtol=1e-2)}


def _cu_seqlens(row_len: int, rows: list[list[int]]) -> torch.Tensor:
    bounds = [0]
    for r, lengths in enumerate(rows):
        bounds[-1] = r * row_len  # a row starts a segment (padding of the previous row is its tail)
        for n in lengths:
            bounds.append(bounds[-1] + n)
    return torch.tensor(bounds, dtype=torch.int32)


def _inputs(case: str, heads: int, head_dim: int, dtype: torch.dtype, device: torch.device):
    n_rows, row_len, rows = CASES[case]
    # crc32, not hash(): str hashes are salted per process, so a failure must reproduce with the same inputs.
    gen = torch.Generator().manual_seed(zlib.crc32(f"{case}/{heads}/{head_dim}".encode()))
    qkv = torch.randn(n_rows, row_len, 3, heads, head_dim, generator=gen).to(device=device, dtype=dtype)
    return qkv.requires_grad_(), _cu_seqlens(row_len, rows).to(device)


def test_reference_matches_one_block_diagonal_mask():
    """The per-segment reference and the single-mask statement of the rule agree (two views of the spec)."""
    qkv, cu = _inputs("two-rows-padded", 2, 16, torch.float64, torch.device("cpu"))
    q, k, v = qkv.unbind(2)
    mask = reference.attention_mask(cu, *q.shape[:2])
    masked = F.scaled_dot_product_attention(*(x.transpose(1, 2) for x in (q, k, v)), attn_mask=mask)
    torch.testing.assert_close(reference.varlen_attention(q, k, v, cu), masked.transpose(1, 2))


def test_segments_never_cross_rows_and_padding_is_its_own_segment():
    start, end = reference.token_segments(torch.tensor([0, 24, 29, 30, 41], dtype=torch.int32), 2, 24)
    assert start[24:29].tolist() == [24] * 5 and end[24:29].tolist() == [29] * 5
    assert start[41:].tolist() == [41] * 7 and end[41:].tolist() == [48] * 7  # tail padding of row 1
    assert start[29].item() == 29 and end[29].item() == 30  # the length-1 subject


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["fp32", "fp16"])
@pytest.mark.parametrize("head_dim", HEAD_DIMS)
@pytest.mark.parametrize("case", list(CASES))
def test_triton_matches_reference_forward_and_backward(case, head_dim, dtype, device, triton_backend):
    qkv, cu = _inputs(case, 2, head_dim, dtype, device)
    q, k, v = qkv.unbind(2)  # strided views of one qkv tensor, as the model passes them
    out = varlen_attention(q, k, v, cu)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    got_grad, qkv.grad = qkv.grad, None

    ref_qkv = qkv.detach().float().requires_grad_()
    ref_out = reference.varlen_attention(*ref_qkv.unbind(2), cu)
    ref_out.backward(grad_out.float())
    torch.testing.assert_close(out.float(), ref_out, **TOL[dtype])
    torch.testing.assert_close(got_grad.float(), ref_qkv.grad, **TOL[dtype])


def test_triton_attention_never_reads_another_subject(device, triton_backend):
    """Changing subject B's q, k, v leaves subject A's outputs bit-identical, and A's loss sends B no gradient."""
    qkv, cu = _inputs("odd-row-filled", 2, 16, torch.float32, device)
    a = slice(1, 17)  # the 16-token subject; its neighbours are [0, 1) and [17, 37)
    out = varlen_attention(*qkv.unbind(2), cu)
    noisy = qkv.detach().clone()
    noisy[:, 17:] += 100 * torch.randn_like(noisy[:, 17:])
    noisy[:, :1] -= 50
    noisy.requires_grad_()
    out_noisy = varlen_attention(*noisy.unbind(2), cu)
    assert torch.equal(out[:, a], out_noisy[:, a])
    out_noisy[:, a].sum().backward()
    assert noisy.grad[:, 17:].abs().max() == 0 and noisy.grad[:, :1].abs().max() == 0
    assert noisy.grad[:, a].abs().max() > 0


def test_triton_attention_scale_argument(device, triton_backend):
    qkv, cu = _inputs("long-and-short", 1, 16, torch.float32, device)
    got = varlen_attention(*qkv.unbind(2), cu, scale=0.3)
    want = reference.varlen_attention(*(x.detach().cpu() for x in qkv.unbind(2)), cu.cpu(), scale=0.3)
    torch.testing.assert_close(got.detach().cpu(), want, **TOL[torch.float32])


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
def test_triton_attention_on_gpu_at_model_shapes(dtype):
    """Real compiled tiles (128x64) at head_dim 64 on a 4096-token row of many subjects."""
    torch.manual_seed(0)
    lengths = torch.randint(1, 700, (40,))
    lengths = lengths[torch.cumsum(lengths, 0) <= 4096]
    cu = torch.cat([torch.zeros(1, dtype=torch.int64), torch.cumsum(lengths, 0)]).to(torch.int32).cuda()
    qkv = torch.randn(1, 4096, 3, 12, 64, device="cuda", dtype=dtype, requires_grad=True)
    from model.kernels import use_backend

    with use_backend("triton"):
        out = varlen_attention(*qkv.unbind(2), cu)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    ref_qkv = qkv.detach().float().requires_grad_()
    ref_out = reference.varlen_attention(*ref_qkv.unbind(2), cu)
    ref_out.backward(grad_out.float())
    # bf16 keeps 8 mantissa bits (2^-9 relative) and its P/dS roundings compound over ~700-key rows.
    tol = dict(atol=3e-2, rtol=3e-2) if dtype == torch.bfloat16 else dict(atol=1e-2, rtol=1e-2)
    torch.testing.assert_close(out.float(), ref_out, **tol)
    torch.testing.assert_close(qkv.grad.float(), ref_qkv.grad, **tol)
