"""Packing speed: Triton vs the index-based reference, on token ids and on hidden states.

python -m model.kernels.packing.bench              # CUDA (or CPU for the reference alone)
"""

from __future__ import annotations

import torch

from model.kernels import use_backend
from model.kernels._bench import synthea_like_lengths, time_ms
from model.kernels.packing import layout_rows, pack_sequences, unpack_sequences


def bench_packing(
    *, device: str = "cuda", n_tokens: int = 65536, row_len: int = 2048, dim: int = 768,
    dtype: torch.dtype = torch.bfloat16, backends: tuple[str, ...] = ("reference", "triton"), reps: int = 20,
) -> list[dict]:  # fmt: skip
    """Per backend and payload: pack and unpack ms and effective GB/s (bytes read + written once)."""
    lengths = synthea_like_lengths(n_tokens, max_len=row_len)
    layout = layout_rows(lengths, row_len).to(device)
    payloads = {
        "ids": torch.randint(0, 8192, (layout.n_tokens,), device=device),
        "hidden": torch.randn(layout.n_tokens, dim, device=device, dtype=dtype),
    }
    rows = []
    for backend in backends:
        for name, values in payloads.items():
            with use_backend(backend):
                packed = pack_sequences(values, layout).values
                pack = time_ms(lambda v=values: pack_sequences(v, layout), device, reps=reps)
                unpack = time_ms(lambda p=packed: unpack_sequences(p, layout), device, reps=reps)
            moved = 2 * values.numel() * values.element_size()
            rows.append(
                {
                    "backend": backend, "payload": name, "pack_ms": pack, "unpack_ms": unpack,
                    "pack_gbps": moved / pack / 1e6, "unpack_gbps": moved / unpack / 1e6,
                }
            )  # fmt: skip
    return rows


if __name__ == "__main__":
    cuda = torch.cuda.is_available()
    for row in bench_packing(
        device="cuda" if cuda else "cpu", backends=("reference", "triton") if cuda else ("reference",)
    ):
        print(row)
