"""Held-out next-token loss and perplexity of a trained run, beside unigram and bigram baselines fitted on train.

Every number is over the same targets: the (token, next token) pairs of the split's packed batches whose
label is not -100 (each token after a subject's first, once). The baselines never see the split they are
scored on: counts come from the train trajectories only.

  unigram  P(w) = (c(w) + 1) / (N + V)                       add-one over the vocabulary
  bigram   P(w | v) = (c(v, w) + T(v) P(w)) / (c(v) + T(v))  Witten-Bell: T(v) distinct successors of v,
                                                             so a rarely seen context leans on the unigram
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.parquet as pq

from schemas.layout import Layout
from schemas.tokens import trajectory_shards

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True, slots=True)
class NGramBaselines:
    """Unigram and Witten-Bell bigram log-probabilities from train (token, next token) pairs."""

    vocab_size: int
    unigram_logp: np.ndarray  # (V,) float64
    pair_keys: np.ndarray  # (P,) int64 v * V + w, sorted: the seen bigrams
    pair_counts: np.ndarray  # (P,) int64
    context_counts: np.ndarray  # (V,) int64 c(v): pairs starting with v
    context_types: np.ndarray  # (V,) int64 T(v): distinct successors of v

    @classmethod
    def fit(cls, prev: np.ndarray, nxt: np.ndarray, vocab_size: int) -> NGramBaselines:
        """From parallel arrays of (token, next token) pairs.

        >>> b = NGramBaselines.fit(np.array([1, 1, 2]), np.array([2, 2, 1]), vocab_size=3)
        >>> np.round(np.exp(b.unigram_logp), 3).tolist()  # (c + 1) / (3 + 3)
        [0.167, 0.333, 0.5]
        >>> round(float(np.exp(b.bigram_logp(np.array([1]), np.array([2]))[0])), 3)  # (2 + 1 * 0.5) / (2 + 1)
        0.833
        """
        prev, nxt = np.asarray(prev, np.int64), np.asarray(nxt, np.int64)
        counts = np.bincount(nxt, minlength=vocab_size).astype(np.float64)
        unigram = np.log((counts + 1) / (counts.sum() + vocab_size))
        keys, pair_counts = np.unique(prev * vocab_size + nxt, return_counts=True)
        ctx = keys // vocab_size
        return cls(
            vocab_size=vocab_size,
            unigram_logp=unigram,
            pair_keys=keys,
            pair_counts=pair_counts.astype(np.int64),
            context_counts=np.bincount(ctx, weights=pair_counts, minlength=vocab_size).astype(np.int64),
            context_types=np.bincount(ctx, minlength=vocab_size).astype(np.int64),
        )

    def bigram_logp(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        prev, nxt = np.asarray(prev, np.int64), np.asarray(nxt, np.int64)
        keys = prev * self.vocab_size + nxt
        at = np.searchsorted(self.pair_keys, keys).clip(max=max(len(self.pair_keys) - 1, 0))
        seen = self.pair_keys[at] == keys if len(self.pair_keys) else np.zeros(len(keys), bool)
        c_vw = np.where(seen, self.pair_counts[at] if len(self.pair_keys) else 0, 0).astype(np.float64)
        c_v, t_v = self.context_counts[prev].astype(np.float64), self.context_types[prev].astype(np.float64)
        p_w = np.exp(self.unigram_logp[nxt])
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(c_v > 0, (c_vw + t_v * p_w) / (c_v + t_v), p_w)
        return np.log(p)


def train_pairs(root: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Every (token, next token) pair inside a subject's trajectory, over the split's shards."""
    prev, nxt = [], []
    for _, path in trajectory_shards(Layout(Path(root)).tokens, split):
        column = pq.read_table(path, columns=["input_ids"]).column("input_ids").combine_chunks()
        ids = column.flatten().to_numpy().astype(np.int64)
        offsets = column.offsets.to_numpy()
        last = np.zeros(len(ids), bool)
        last[offsets[1:][offsets[1:] > offsets[:-1]] - 1] = True  # a subject's last token has no successor
        prev.append(ids[~last])
        nxt.append(np.roll(ids, -1)[~last])
    if not prev:
        raise FileNotFoundError(f"no trajectories for split {split!r} under {Layout(Path(root)).tokens}")
    return np.concatenate(prev), np.concatenate(nxt)


def fit_baselines(root: str | Path, vocab_size: int) -> NGramBaselines:
    return NGramBaselines.fit(*train_pairs(root, "train"), vocab_size=vocab_size)


def _scores(nll: float, targets: int) -> dict:
    loss = nll / max(targets, 1)
    return {"loss": round(loss, 5), "perplexity": round(math.exp(loss), 3)}


def next_token_report(
    model: torch.nn.Module,
    root: str | Path,
    *,
    split: str = "held_out",
    tokens_per_batch: int = 8192,
    max_batches: int | None = None,
    baselines: NGramBaselines | None = None,
    device: str | torch.device = "cpu",
) -> dict:
    """Loss (nats per target) and perplexity of the model and both baselines on the same targets of `split`."""
    import torch

    from model.data import TrainingShards

    config = model.config  # type: ignore[attr-defined]
    baselines = baselines or fit_baselines(root, config.vocab_size)
    max_len = min(config.context_length, tokens_per_batch)
    shards = TrainingShards(root, split, max_seq_len=max_len)
    model.eval()
    nll = {"model": 0.0, "unigram": 0.0, "bigram": 0.0}
    targets = 0
    with torch.no_grad():
        for i, batch in enumerate(shards.batches(tokens_per_batch, seed=0)):
            if max_batches is not None and i >= max_batches:
                break
            out = model({k: v.to(device) for k, v in batch.items()}, reduction="sum")
            mask = batch["labels"] != -100
            prev, nxt = batch["input_ids"][mask].numpy(), batch["labels"][mask].numpy()
            nll["model"] += float(out.loss)
            nll["unigram"] -= float(baselines.unigram_logp[nxt].sum())
            nll["bigram"] -= float(baselines.bigram_logp(prev, nxt).sum())
            targets += int(mask.sum())
    report = {name: _scores(value, targets) for name, value in nll.items()}
    return {"split": split, "targets": targets, **report}


def _checked_model(root: Path, run: Path, device: str | torch.device) -> torch.nn.Module:
    """The run's latest model, refusing a root whose tokens were made by another tokenizer."""
    from model import checkpoint as ckpt
    from model.tokenizer import Tokenizer

    theirs = Tokenizer.load(Layout(root).tokens).fingerprint()
    ours = ckpt.read_run_info(run)["tokenizer_fingerprint"]
    if theirs != ours:
        raise ValueError(f"{root}/tokens was made by tokenizer {theirs}, the run was trained on {ours}")
    return ckpt.load_model(run, device=device)


def evaluate_run(
    root: str | Path,
    run: str,
    *,
    split: str = "held_out",
    label_tables: dict[str, Path] | None = None,
    probes: bool = True,
    max_batches: int | None = None,
    device: str | torch.device = "cpu",
) -> dict:
    """Next-token report and linear probes of `models/<run>/`, also written to `models/<run>/eval.json`.

    label_tables: {task: MEDS label Parquet file or folder}; default: every task under features/labels/.
    """
    import json

    from model import checkpoint as ckpt
    from model.probe import Trajectories, probe_task, read_label_table, task_label_dirs
    from schemas.io import write_text

    root = Path(root)
    run_path = ckpt.run_dir(root, run)
    model = _checked_model(root, run_path, device)
    checkpoint = ckpt.latest_checkpoint(run_path)
    report: dict = {"run": run, "step": ckpt.load_state(checkpoint)["step"] if checkpoint else None}
    report["next_token"] = next_token_report(model, root, split=split, max_batches=max_batches, device=device)
    report["probes"] = {}
    tables = label_tables if label_tables is not None else (task_label_dirs(root) if probes else {})
    if tables:
        traj = Trajectories.load(root)
        for task, path in tables.items():
            labels, column = read_label_table(path)
            report["probes"][task] = probe_task(model, traj, labels, column, root=root, task=task,
                                                test_split=split, device=device)  # fmt: skip
    write_text(json.dumps(report, indent=2) + "\n", run_path / "eval.json")
    return report
