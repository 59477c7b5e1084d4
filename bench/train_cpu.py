"""CPU training throughput: packed batches vs padding to the batch max and to the context length, same run.

    .venv/bin/python bench/train_cpu.py --root bench/out/synthea [--context 2048] [--budget 8192] [--steps 12]

All three train the same tiny-width model (model.config.tiny with the context set by --context) with AdamW on
the train split's documents (windows of at most `context` tokens), under the same token budget per step
(the tensor is never larger than `budget` tokens):

  packed        TrainingShards batches: documents back to back in one row of `budget` tokens (best-fit
                decreasing), block-diagonal causal attention
  pad-batch-max documents in random order, one per row, each row padded to the longest in the batch, as many
                rows as fit the budget (dynamic batch size, no sorting)
  pad-context   budget / context rows, one document per row, each padded to the context length

Padded rows are ordinary causal rows (padding after the document, labels -100 there), as in HF-style
padded training. Steps of the three alternate (packed, batch-max, context, packed, ...) so load from other
processes on this shared machine hits all three alike; we report real (non-padding) tokens per second of
wall time per step (data assembly, forward, backward, optimizer) and the ratios in the same run.
"""

import argparse
import dataclasses
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from model.config import tiny
from model.data import TrainingShards
from model.packing import windows
from model.tokenizer import Tokenizer
from model.transformer import TimelineTransformer, next_token_labels
from schemas.layout import Layout


def padded_batch(ids: np.ndarray, times: np.ndarray, docs: list[tuple[int, int]], row_len: int) -> dict:
    """(B, row_len) rows, one document each, tail padding; one causal segment per row."""
    n = len(docs)
    x = np.zeros((n, row_len), np.int64)
    t = np.zeros((n, row_len), np.float32)
    doc = np.full((n, row_len), -1, np.int64)
    for r, (a, b) in enumerate(docs):
        x[r, : b - a], t[r, : b - a], doc[r, : b - a] = ids[a:b], times[a:b], r
    x_t, doc_t = torch.from_numpy(x), torch.from_numpy(doc)
    return {
        "input_ids": x_t,
        "labels": next_token_labels(x_t, doc_t),
        "times": torch.from_numpy(t),
        "document_ids": doc_t,
        "cu_seqlens": torch.arange(0, n * row_len + 1, row_len, dtype=torch.int32),
    }


class PaddedBatches:
    """Documents of the train split in a seeded random order, served padded (to the batch max or context)."""

    def __init__(self, shards: TrainingShards, context: int, budget: int, seed: int = 0) -> None:
        shards.load()
        self.ids, self.times = shards._ids, shards._times  # the loader's flat token arrays (read-only)
        base = np.r_[0, np.cumsum(shards.lengths)]
        w = windows(shards.lengths, context, context)
        order = np.random.default_rng(seed).permutation(len(w.subject))
        self.docs = [
            (int(base[s] + a), int(base[s] + b)) for s, a, b in zip(w.subject, w.start, w.stop, strict=True)
        ]
        self.docs = [self.docs[i] for i in order]
        self.context, self.budget, self.next = context, budget, 0

    def _take(self, n: int) -> list[tuple[int, int]]:
        out = [self.docs[(self.next + i) % len(self.docs)] for i in range(n)]
        self.next += n
        return out

    def batch_max(self) -> dict:
        """As many documents as fit `budget` once each row is padded to the batch's longest."""
        chosen, longest = [], 0
        while True:
            a, b = self.docs[(self.next + len(chosen)) % len(self.docs)]
            if chosen and (len(chosen) + 1) * max(longest, b - a) > self.budget:
                break
            chosen.append((a, b))
            longest = max(longest, b - a)
        self.next += len(chosen)
        return padded_batch(self.ids, self.times, chosen, longest)

    def context_rows(self) -> dict:
        return padded_batch(self.ids, self.times, self._take(self.budget // self.context), self.context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("bench/out/synthea"))
    parser.add_argument("--context", type=int, default=2048)
    parser.add_argument("--budget", type=int, default=8192, help="tokens per step (the tensor ceiling)")
    parser.add_argument("--steps", type=int, default=12, help="measured steps per variant (after 2 warmup)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    tok = Tokenizer.load(Layout(args.root).tokens)
    config = dataclasses.replace(tiny(vocab_size=tok.size), context_length=args.context)
    shards = TrainingShards(args.root, "train", max_seq_len=args.context)
    packed_stream = iter(_cycle(shards, args.budget))
    padded = PaddedBatches(shards, args.context, args.budget)
    sources = {"packed": lambda: next(packed_stream), "pad-batch-max": padded.batch_max,
               "pad-context": padded.context_rows}  # fmt: skip
    models, optims = {}, {}
    for name in sources:
        torch.manual_seed(0)
        models[name] = TimelineTransformer(config)
        optims[name] = torch.optim.AdamW(models[name].parameters(), lr=1e-3)
    stats = {name: {"seconds": 0.0, "real": 0, "slots": 0, "steps": 0} for name in sources}
    for step in range(args.steps + 2):
        for name, source in sources.items():
            started = time.perf_counter()
            batch = source()
            out = models[name](batch)
            out.loss.backward()
            optims[name].step()
            optims[name].zero_grad(set_to_none=True)
            seconds = time.perf_counter() - started
            if step >= 2:  # warmup: allocator and first-call costs
                s = stats[name]
                s["seconds"] += seconds
                s["real"] += int((batch["document_ids"] >= 0).sum())
                s["slots"] += batch["input_ids"].numel()
                s["steps"] += 1
    rows = []
    for name, s in stats.items():
        rate = s["real"] / s["seconds"]
        rows.append({"variant": name, "real_tokens_per_s": round(rate),
                     "real_fraction": round(s["real"] / s["slots"], 4),
                     "step_s": round(s["seconds"] / s["steps"], 3),
                     "real_tokens_per_step": s["real"] // s["steps"]})  # fmt: skip
    packed_rate = rows[0]["real_tokens_per_s"]
    for r in rows:
        r["packed_speedup"] = round(packed_rate / r["real_tokens_per_s"], 2)
    report = {"root": str(args.root), "context": args.context, "budget": args.budget, "steps": args.steps,
              "threads": args.threads, "params": sum(p.numel() for p in models["packed"].parameters()),
              "machine": platform.processor() or platform.machine(), "rows": rows}  # fmt: skip
    print("| variant | real tokens/s | real-token fraction | s/step | real tokens/step | packed speedup |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['variant']} | {r['real_tokens_per_s']:,} | {r['real_fraction']:.1%} | {r['step_s']} | "
              f"{r['real_tokens_per_step']:,} | {r['packed_speedup']}x |")  # fmt: skip
    print(json.dumps(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def _cycle(shards: TrainingShards, budget: int):
    epoch = 0
    while True:
        yield from shards.batches(budget, seed=0, epoch=epoch)
        epoch += 1


if __name__ == "__main__":
    main()
