"""Pack/unpack: Triton (interpreted on CPU) against the index-based reference; copies, so exact."""

import pytest
import torch

from model.kernels.packing import layout_rows, pack_sequences, reference, unpack_sequences

# (lengths, row_len, explicit rows or None for next-fit)
LAYOUTS = {
    "next-fit-odd": ([5, 1, 12, 7, 3], 12, None),  # a length-1 sequence; 12 fills row 1 exactly
    "planned-rows": ([3, 9, 1, 4, 4], 9, [1, 0, 1, 2, 1]),  # a planner's assignment, rows out of order
    "single-token-rows": ([1, 1, 1], 1, None),
}
FEATURES = [(), (3,), (5, 7)]  # token ids (N,), a scalar-per-token float, hidden-state-like (N, 5, 7)
DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.int64]  # copies are exact in every dtype


def _values(n: int, features: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    gen = torch.Generator().manual_seed(n)
    if dtype == torch.int64:
        return torch.randint(0, 1000, (n, *features), generator=gen).to(device)
    return torch.randn(n, *features, generator=gen).to(device=device, dtype=dtype)


def test_layout_puts_sequences_back_to_back_and_describes_padding():
    lay = layout_rows([5, 1, 12, 7, 3], 12)
    assert lay.dst_offsets.tolist() == [0, 5, 12, 24, 31] and lay.n_rows == 3
    packed = reference.pack_sequences(torch.arange(28), lay, pad_value=-1)
    assert packed.document_ids[0].tolist() == [0] * 5 + [1] + [-1] * 6
    assert packed.position_ids[2].tolist() == [*range(7), 0, 1, 2, 0, 0]
    assert packed.cu_seqlens.tolist() == [0, 5, 6, 12, 24, 31, 34, 36]  # 6 and 34 start padding tails
    assert packed.values[1].tolist() == list(range(6, 18))


def test_layout_rejects_what_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        layout_rows([3, 13], 12)
    with pytest.raises(ValueError, match="holds 13 tokens"):
        layout_rows([6, 7], 12, rows=[0, 0])
    with pytest.raises(ValueError, match="at least one token"):
        layout_rows([3, 0], 12)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("features", FEATURES, ids=str)
@pytest.mark.parametrize("name", list(LAYOUTS))
def test_triton_pack_and_unpack_match_reference_exactly(name, features, dtype, device, triton_backend):
    lengths, row_len, rows = LAYOUTS[name]
    lay = layout_rows(lengths, row_len, rows=rows)
    values = _values(lay.n_tokens, features, dtype, torch.device("cpu"))
    got = pack_sequences(values.to(device), lay.to(device), pad_value=-3)
    want = reference.pack_sequences(values, lay, pad_value=-3)
    for field, g, w in zip(got._fields, got, want, strict=True):
        assert torch.equal(g.cpu(), w), field
    assert torch.equal(unpack_sequences(got.values, lay.to(device)).cpu(), values)  # round trip


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("name", list(LAYOUTS))
def test_pack_and_unpack_are_each_others_gradient(name, dtype, device, triton_backend):
    lengths, row_len, rows = LAYOUTS[name]
    lay = layout_rows(lengths, row_len, rows=rows).to(device)
    values = _values(lay.n_tokens, (3,), dtype, device).requires_grad_()
    packed = pack_sequences(values, lay).values
    grad_rows = torch.randn_like(packed)
    packed.backward(grad_rows)
    assert torch.equal(values.grad, reference.unpack_sequences(grad_rows, lay))

    rows_in = torch.randn(lay.n_rows, lay.row_len, 3, device=device, dtype=dtype, requires_grad=True)
    flat = unpack_sequences(rows_in, lay)
    grad_flat = torch.randn_like(flat)
    flat.backward(grad_flat)
    assert torch.equal(rows_in.grad, reference.pack_sequences(grad_flat, lay).values)  # zero on padding


def test_reference_gradients_agree_with_autograd_of_index_ops():
    lay = layout_rows([4, 2, 5], 6)
    values = torch.randn(11, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: reference.pack_sequences(x, lay).values, (values,))
    rows = torch.randn(lay.n_rows, 6, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: reference.unpack_sequences(x, lay), (rows,))
