"""Every GPU target of the timeline model in one command (issue 7), written to bench/results/gpu.md.

    python bench/gpu.py [--root DIR] [--compile] [--out bench/results/gpu.md]

Measures, on the first CUDA device:
  1. real-token fraction of packed batches (TrainingShards under --root if given, and Synthea-like lengths);
  2. Triton varlen attention vs PyTorch's varlen flash attention (and flash_attn when installed), fwd+bwd;
  3. peak memory of the fused projection + cross-entropy vs materialized logits;
  4. pack/unpack bandwidth, Triton vs reference;
  5. training tokens/s of the `base` model (bf16 autocast, fused AdamW) on packed 2048-token rows.
Without CUDA it stops with a message and exit status 2. `--smoke` runs the same code at toy sizes on the CPU
through the Triton interpreter, to check the script itself where no GPU is available (timings meaningless).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

TARGETS = {"real_tokens": 0.99, "attention_ratio": 1.3, "loss_memory_ratio": 0.5, "base_tokens_per_s": 400_000}


def _no_cuda_message() -> str | None:
    import torch

    if torch.cuda.is_available():
        return None
    build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
    return (
        f"bench/gpu.py needs a CUDA GPU, and torch {torch.__version__} ({build}) sees none on this machine.\n"
        "Run it on a GPU machine (after `make setup`), or `python bench/kernels_cpu.py` for the CPU benches; "
        "`--smoke` checks this script at toy sizes on the CPU."
    )


def real_token_fraction(root: str | None, smoke: bool) -> list[tuple[str, float]]:
    import numpy as np

    from model.kernels._bench import synthea_like_lengths
    from model.kernels.packing import layout_rows

    rows = []
    for budget in (2048, 8192):
        lengths = synthea_like_lengths(20_000 if smoke else 2_000_000, max_len=budget)
        nf = layout_rows(lengths, budget)
        rows.append((f"Synthea-like lengths, next-fit, budget {budget}", lengths.sum() / (nf.n_rows * budget)))
        try:
            from model.packing import pack_bfd
        except ImportError:
            continue
        bfd = pack_bfd(lengths, budget).efficiency(lengths, budget)
        rows.append((f"Synthea-like lengths, best-fit-decreasing (model.packing), budget {budget}", bfd))
    if root:
        from model import TrainingShards

        shards = TrainingShards(root, "train")
        real = total = 0
        for i, batch in enumerate(shards.batches(tokens_per_batch=8192, seed=0, epoch=0, rank=0, world_size=1)):
            real += int((batch["document_ids"] >= 0).sum())
            total += batch["document_ids"].numel()
            if i == 200:
                break
        rows.append((f"TrainingShards({root!r}, 'train'), 8192-token batches", real / max(total, 1)))
    return [(name, float(np.round(frac, 4))) for name, frac in rows]


def base_tokens_per_s(device: str, *, smoke: bool, compile_blocks: bool) -> dict:
    import torch

    from model.config import base, tiny
    from model.kernels._bench import first_rows, synthea_like_lengths
    from model.kernels.packing import layout_rows, pack_sequences
    from model.transformer import TimelineTransformer, next_token_labels

    config = tiny() if smoke else base()
    row_len, n_rows = (128, 2) if smoke else (2048, 16)  # 32,768 tokens per step
    torch.manual_seed(0)
    model = TimelineTransformer(config).to(device)
    if compile_blocks:
        for block in model.blocks:  # the pure-PyTorch parts; attention stays the Triton autograd.Function
            block.mlp = torch.compile(block.mlp)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, fused=device == "cuda")
    lengths = first_rows(synthea_like_lengths(4 * n_rows * row_len, max_len=row_len), row_len, n_rows)
    layout = layout_rows(lengths, row_len, n_rows=n_rows).to(device)
    n = layout.n_tokens
    ids = pack_sequences(torch.randint(0, config.vocab_size, (n,), device=device), layout)
    batch = {
        "input_ids": ids.values,
        "labels": next_token_labels(ids.values, ids.document_ids),
        "position_ids": ids.position_ids,
        "cu_seqlens": ids.cu_seqlens,
        "times": pack_sequences(torch.linspace(20, 60, n, device=device), layout).values,
    }
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda")

    def step():
        with autocast:
            loss = model(batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    for _ in range(2 if smoke else 5):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    steps = 2 if smoke else 20
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - t0) / steps
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "tokens_per_step": n_rows * row_len,
        "real_fraction": n / (n_rows * row_len),
        "tokens_per_s": n_rows * row_len / seconds,
        "real_tokens_per_s": n / seconds,
        "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="a Longitude root with tokens/ to measure TrainingShards batches")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "gpu.md"))
    parser.add_argument("--compile", action="store_true", help="also time base with torch.compile'd MLPs")
    parser.add_argument("--smoke", action="store_true", help="toy sizes on CPU via TRITON_INTERPRET=1")
    args = parser.parse_args()
    if args.smoke:
        os.environ["TRITON_INTERPRET"] = "1"  # before anything imports triton
    else:
        message = _no_cuda_message()
        if message:
            print(message, file=sys.stderr)
            return 2
    import torch
    import triton

    from model.kernels.attention.bench import bench_attention, max_abs_error
    from model.kernels.cross_entropy.bench import bench_cross_entropy
    from model.kernels.packing.bench import bench_packing

    device = "cpu" if args.smoke else "cuda"
    dtype = torch.float16 if args.smoke else torch.bfloat16  # the interpreter's bf16 tl.dot is wrong
    name = "CPU (smoke run, Triton interpreter)" if args.smoke else torch.cuda.get_device_name()
    lines = [
        "# GPU bench (issue 7)",
        "",
        f"- command: `{' '.join(['python', 'bench/gpu.py', *sys.argv[1:]])}`",
        f"- machine: {name}; torch {torch.__version__}, triton {triton.__version__}; "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
    ]

    def say(text: str = "") -> None:
        lines.append(text)
        print(text, flush=True)

    for text in lines[:-1]:
        print(text)
    say("## 1. Real tokens per batch (target >= 99%)")
    say("")
    say("| batches | real-token fraction |")
    say("|---|---|")
    for label, frac in real_token_fraction(args.root, args.smoke):
        say(f"| {label} | {frac:.2%} |")

    say("")
    say("## 2. Varlen causal attention, fwd+bwd (target: Triton within 1.3x of PyTorch varlen / FA2)")
    say("")
    shape = dict(n_rows=2, row_len=64, heads=2, head_dim=16, reps=1) if args.smoke else {}
    att = bench_attention(device=device, dtype=dtype, **shape)
    say(f"Synthea-like subjects in {att[0]['segments']} segments, {att[0]['tokens']} real tokens, {dtype}.")
    say("")
    say("| impl | fwd ms | fwd+bwd ms | fwd TFLOP/s | fwd+bwd TFLOP/s |")
    say("|---|---|---|---|---|")
    by = {r["impl"]: r for r in att}
    for r in att:
        ms = f"{r['fwd_ms']:.3f} | {r['fwd_bwd_ms']:.3f}"
        say(f"| {r['impl']} | {ms} | {r['fwd_tflops']:.1f} | {r['fwd_bwd_tflops']:.1f} |")
    for peer in ("torch_varlen", "flash_attn"):
        if peer in by and "triton" in by:
            ratio = by["triton"]["fwd_bwd_ms"] / by[peer]["fwd_bwd_ms"]
            ok = "meets" if ratio <= TARGETS["attention_ratio"] else "MISSES"
            say(f"\nTriton / {peer} fwd+bwd time: **{ratio:.2f}x** ({ok} the 1.3x target)")
    if not args.smoke:
        say(f"\nmax |Triton - PyTorch varlen| on 2 rows of 2048 (bf16): {max_abs_error():.4f}")

    say("")
    say("## 3. Fused projection + cross-entropy memory (target <= 0.5x of materialized logits)")
    say("")
    ce_shape = dict(n_tokens=64, dim=32, vocab=100, reps=1) if args.smoke else {}
    ce = {r["backend"]: r for r in bench_cross_entropy(device=device, dtype=dtype, **ce_shape)}
    n_tok, vocab = ce_shape.get("n_tokens", 65536), ce_shape.get("vocab", 8192)
    say(f"N = {n_tok} tokens, D = {ce_shape.get('dim', 768)}, V = {vocab}, {dtype} autocast, fwd+bwd.")
    say("")
    say("| backend | fwd+bwd ms | peak extra MiB | loss |")
    say("|---|---|---|---|")
    for r in ce.values():
        peak = "n/a" if r["peak_bytes"] is None else f"{r['peak_bytes'] / 2**20:.0f}"
        say(f"| {r['backend']} | {r['fwd_bwd_ms']:.2f} | {peak} | {r['loss']:.4f} |")
    if ce["reference"]["peak_bytes"]:
        ratio = ce["triton"]["peak_bytes"] / ce["reference"]["peak_bytes"]
        ok = "meets" if ratio <= TARGETS["loss_memory_ratio"] else "MISSES"
        say(f"\nfused / materialized peak memory: **{ratio:.2f}x** ({ok} the 0.5x target)")

    say("")
    say("## 4. Pack / unpack bandwidth")
    say("")
    pk_shape = dict(n_tokens=500, row_len=128, dim=16, reps=1) if args.smoke else {}
    say("| backend | payload | pack GB/s | unpack GB/s |")
    say("|---|---|---|---|")
    for r in bench_packing(device=device, dtype=dtype, **pk_shape):
        say(f"| {r['backend']} | {r['payload']} | {r['pack_gbps']:.1f} | {r['unpack_gbps']:.1f} |")

    say("")
    say("## 5. Training throughput of `base` (target >= 400k tokens/s on one H100)")
    say("")
    say("| variant | params | tokens/step | real fraction | tokens/s | real tokens/s | peak GiB |")
    say("|---|---|---|---|---|---|---|")
    for compiled in (False, True) if args.compile else (False,):
        r = base_tokens_per_s(device, smoke=args.smoke, compile_blocks=compiled)
        variant = "compiled MLPs" if compiled else "eager"
        say(
            f"| {variant} | {r['params'] / 1e6:.1f}M | {r['tokens_per_step']} | {r['real_fraction']:.2%} | "
            f"{r['tokens_per_s']:,.0f} | {r['real_tokens_per_s']:,.0f} | {r['peak_gib']:.1f} |"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
