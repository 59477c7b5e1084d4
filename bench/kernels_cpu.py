"""CPU bench of the timeline model: packed vs padded training throughput, and the kernels' PyTorch references.

    python bench/kernels_cpu.py [--sizes tiny,small] [--out bench/results/kernels.md]

1. Real tokens/s of forward+backward for the same subjects laid out three ways, step by step: packed into
   fixed rows (cu_seqlens), each subject padded to the longest in its step, each padded to the context.
   Rounds interleave the layouts so load on a shared machine hits all three alike; ratios are per run.
2. The references (what CPU training runs): attention fwd/fwd+bwd, projection + cross-entropy, packing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from model.config import get_config
from model.kernels import use_backend
from model.kernels._bench import synthea_like_lengths, time_ms
from model.kernels.packing import PackLayout, layout_rows, pack_sequences
from model.transformer import TimelineTransformer, next_token_labels

# Per size: context (row length), packed rows per step, steps, rounds. `tiny` runs the GPU configs' 2048
# context; `small` (~30M params) runs 1024 so one round (~20k tokens over the three layouts) takes minutes
# on two shared cores. Both hold >= 4 packed rows per step: with fewer, one poorly filled best-fit-decreasing
# pack (the last packs are) or a two-subject "batch" makes the comparison meaningless.
PLAN = {"tiny": (2048, 4, 3, 3), "small": (1024, 4, 1, 2)}


def _batch(ids: torch.Tensor, times: torch.Tensor, layout: PackLayout) -> dict[str, torch.Tensor]:
    packed = pack_sequences(ids, layout)
    return {
        "input_ids": packed.values,
        "labels": next_token_labels(packed.values, packed.document_ids),
        "position_ids": packed.position_ids,
        "cu_seqlens": packed.cu_seqlens,
        "times": pack_sequences(times, layout).values,
    }


def _pack_rows(lengths: np.ndarray, context: int) -> np.ndarray:
    """Row of each subject: the training shards' best-fit-decreasing packer when present, else next-fit."""
    try:
        from model.packing import pack_bfd
    except ImportError:
        return (layout_rows(lengths, context).dst_offsets // context).numpy()
    packing = pack_bfd(lengths, context)
    rows = np.empty(len(lengths), dtype=np.int64)
    rows[packing.order] = np.repeat(np.arange(packing.n_packs), np.diff(packing.offsets))
    # BFD emits packs largest-first; training shuffles them (TrainingShards does), and so do we, so a step's
    # subjects are a random draw, as they are for the padded layouts a padded loader would build.
    return np.random.default_rng(0).permutation(packing.n_packs)[rows]


def _steps(size: str, vocab: int) -> tuple[list[dict[str, list]], int]:
    """Per step, the batches of its subjects in each layout; and the real tokens over all steps."""
    context, rows_per_step, n_steps, _ = PLAN[size]
    # Pack a pool 50x larger than the steps need, as training packs a whole epoch: best-fit-decreasing only
    # fills rows well when it has many subjects to choose from. The steps take random rows of it.
    lengths = synthea_like_lengths(50 * context * rows_per_step * n_steps, max_len=context, seed=1)
    rows_of = _pack_rows(lengths, context)
    gen = torch.Generator().manual_seed(0)
    steps, real = [], 0
    for s in range(n_steps):
        pick = np.flatnonzero((rows_of // rows_per_step) == s)
        lens = lengths[pick]
        n = int(lens.sum())
        real += n
        ids = torch.randint(0, vocab, (n,), generator=gen)
        times = 20 + torch.cumsum(torch.rand(n, generator=gen) * 0.01, 0)
        one_per_row = np.arange(len(lens))
        steps.append(
            {
                "packed": _batch(ids, times, layout_rows(lens, context, rows=rows_of[pick] % rows_per_step)),
                "padded to batch max": _batch(ids, times, layout_rows(lens, int(lens.max()), rows=one_per_row)),
                "padded to context": _batch(ids, times, layout_rows(lens, context, rows=one_per_row)),
            }
        )
    return steps, real


def packed_vs_padded(size: str) -> list[str]:
    config = get_config(size)
    torch.manual_seed(0)
    model = TimelineTransformer(config)
    steps, real = _steps(size, config.vocab_size)
    context, rows_per_step, n_steps, rounds = PLAN[size]
    layouts = list(steps[0])
    seconds: dict[str, list[float]] = {name: [] for name in layouts}
    for _ in range(rounds):
        for name in layouts:
            t0 = time.perf_counter()
            for step in steps:
                model(step[name]).loss.backward()
                model.zero_grad(set_to_none=True)
            seconds[name].append(time.perf_counter() - t0)
    best = {name: statistics.median(v) for name, v in seconds.items()}
    slots = {name: sum(s[name]["input_ids"].numel() for s in steps) for name in layouts}
    packed_tps = real / best["packed"]
    out = [
        f"### `{size}` ({config.n_params() / 1e6:.1f}M params), context {context}, {n_steps} steps of "
        f"{rows_per_step} packed rows, {real} real tokens, median of {rounds} rounds",
        "",
        "| layout | tokens computed | real fraction | fwd+bwd s | real tokens/s | packed speedup |",
        "|---|---|---|---|---|---|",
    ]
    for name in layouts:
        tps = real / best[name]
        out.append(
            f"| {name} | {slots[name]} | {real / slots[name]:.1%} | {best[name]:.2f} | {tps:,.0f} | "
            f"**{packed_tps / tps:.2f}x** |"
        )
    return [*out, ""]


def references() -> list[str]:
    from model.kernels.attention import reference as attention
    from model.kernels.cross_entropy import reference as cross_entropy

    out = ["## References on CPU (fp32)", "", "| op | shape | ms | throughput |", "|---|---|---|---|"]
    context, heads, dim = 1024, 8, 64
    lengths = synthea_like_lengths(4 * context, max_len=context, seed=2)
    layout = layout_rows(lengths, context)
    cu = pack_sequences(torch.zeros(layout.n_tokens), layout).cu_seqlens
    q, k, v = (torch.randn(layout.n_rows, context, heads, dim, requires_grad=True) for _ in range(3))
    n = layout.n_rows * context
    with torch.no_grad():
        ms = time_ms(lambda: attention.varlen_attention(q, k, v, cu), "cpu", warmup=1, reps=5)
    shape = f"{layout.n_rows}x{context} tokens, {cu.numel() - 1} segments, H={heads}, D={dim}"
    out.append(f"| attention fwd | {shape} | {ms:.1f} | {n / ms * 1e3:,.0f} tokens/s |")
    grad = torch.randn_like(q)
    ms = time_ms(
        lambda: torch.autograd.grad(attention.varlen_attention(q, k, v, cu), (q, k, v), grad),
        "cpu",
        warmup=1,
        reps=5,
    )
    out.append(f"| attention fwd+bwd | same | {ms:.1f} | {n / ms * 1e3:,.0f} tokens/s |")
    hidden = torch.randn(4096, 512, requires_grad=True)
    weight = torch.randn(8192, 512, requires_grad=True)
    labels = torch.randint(0, 8192, (4096,))
    ms = time_ms(
        lambda: cross_entropy.linear_cross_entropy(hidden, weight, labels).backward(), "cpu", warmup=1, reps=5
    )
    tps = 4096 / ms * 1e3
    out.append(f"| projection + cross-entropy fwd+bwd | N=4096, D=512, V=8192 | {ms:.1f} | {tps:,.0f} tokens/s |")
    lay = layout_rows(synthea_like_lengths(65536, max_len=2048, seed=3), 2048)
    hid = torch.randn(lay.n_tokens, 512)
    with use_backend("reference"):
        ms = time_ms(lambda: pack_sequences(hid, lay), "cpu", warmup=1, reps=5)
    gbps = 2 * hid.numel() * 4 / ms / 1e6
    shape = f"{lay.n_tokens} tokens x 512 fp32 into {lay.n_rows}x2048"
    out.append(f"| pack hidden states | {shape} | {ms:.1f} | {gbps:.2f} GB/s |")
    return [*out, ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="tiny,small")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "kernels.md"))
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads; 1 by default: on a shared 2-core machine two "
        "threads wait on each other's descheduling and made one layout 2x slower in one run and not the next",
    )  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lines = [
        "# Timeline model on CPU: packed vs padded training, and the kernel references",
        "",
        f"- command: `{' '.join(['python', 'bench/kernels_cpu.py', *sys.argv[1:]])}`",
        f"- machine: 2-core CPU, no GPU (shared with other jobs: compare ratios within a run, not absolute "
        f"numbers across runs); torch {torch.__version__}, torch threads: {torch.get_num_threads()}; "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "- subjects: Synthea-like token lengths (lognormal fitted to the shared Synthea FHIR set, "
        "median ~390 tokens), windowed at the context; packed rows from the training shards' best-fit-decreasing "
        "packer over a pool 50x the steps (steps take random rows); the padded layouts hold the same subjects "
        "per step; forward+backward, no optimizer step (the same per step in every layout).",
        "",
        "## Packed vs padded (target: packed >= 1.9x padding to the batch max, >= 3.5x padding to the context)",
        "",
    ]
    print("\n".join(lines), flush=True)
    with use_backend("reference"):
        for size in args.sizes.split(","):
            block = packed_vs_padded(size)
            print("\n".join(block), flush=True)
            lines += block
    block = references()
    print("\n".join(block))
    lines += block
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
