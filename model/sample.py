"""Sampling a continuation of a timeline and printing it readably (detokenized codes, times, value ranges).

Generated tokens need times for the model's time encoding and for printing: a generated `TIME//<gap>` token
advances the clock by its bin's typical gap (the geometric middle of the bin; the open last bin, its lower
bound); every other token keeps the current time. PAD and BOS are never sampled; EOS ends the sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa

from model.tokenizer import GAP_BINS, PAD_ID, Tokenizer, detokenize
from model.tokenizer.vocab import BOS, DEATH, EOS, MINUTES_PER_YEAR, TIMELINE_END, UNK
from schemas.layout import Layout
from schemas.tokens import TRAJECTORY_SCHEMA

if TYPE_CHECKING:
    import torch


def gap_years(tok: Tokenizer) -> np.ndarray:
    """(V,) years each token advances the clock: the typical gap of TIME//<bin> tokens, 0 elsewhere.

    >>> from model.tokenizer.vocab import _structural_tokens, TokenizerConfig
    >>> rows = _structural_tokens(TokenizerConfig())
    >>> voc = pl.DataFrame({"token_id": range(len(rows)), "token": [r[0] for r in rows],
    ...                     "kind": [r[1] for r in rows], "count": [0] * len(rows)})
    >>> tok = Tokenizer(config=TokenizerConfig(), vocabulary=voc, value_bins=pl.DataFrame())
    >>> round(float(gap_years(tok)[tok.id("TIME//1d")]) * 365.25, 2)  # between 1 and 2 days
    1.41
    """
    out = np.zeros(tok.size)
    lows = [lo for _, lo in GAP_BINS]
    for i, (name, lo) in enumerate(GAP_BINS):
        minutes = math.sqrt(lo * lows[i + 1]) if i + 1 < len(lows) else lo
        out[tok.id(f"TIME//{name}")] = minutes / MINUTES_PER_YEAR
    return out


@dataclass(slots=True)
class Continuation:
    subject_id: int
    origin: object  # the trajectory's origin timestamp (already date-shifted), or None
    prompt_ids: np.ndarray
    prompt_times: np.ndarray
    new_ids: np.ndarray
    new_times: np.ndarray


def sample_continuation(
    model: torch.nn.Module,
    tok: Tokenizer,
    trajectory: dict,
    *,
    prompt_tokens: int | None = None,
    max_new_tokens: int = 64,
    temperature: float = 1.0,
    top_k: int | None = 50,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> Continuation:
    """Continue one trajectory row (subject_id, input_ids, times, origin) after its first `prompt_tokens`
    tokens (default: half of it; never past TIMELINE_END, so a long prompt continues the record's last event).
    The model sees the last context_length tokens."""
    import torch

    ids = np.asarray(trajectory["input_ids"], np.int64)
    times = np.asarray(trajectory["times"], np.float32)
    context = model.config.context_length  # type: ignore[attr-defined]
    n = prompt_tokens if prompt_tokens is not None else max(1, len(ids) // 2)
    end = np.flatnonzero(ids == tok.id(TIMELINE_END))  # continue the record, not what follows its end
    n = int(min(max(n, 1), end[0] if len(end) and end[0] > 0 else len(ids)))
    advance = torch.tensor(gap_years(tok), dtype=torch.float32)
    banned = [PAD_ID, tok.id(BOS)]
    eos = tok.id(EOS)
    gen = torch.Generator().manual_seed(seed)
    seq = torch.from_numpy(ids[:n].copy())
    clock = torch.from_numpy(times[:n].copy())
    model.eval()
    new: list[int] = []
    with torch.no_grad():
        for _ in range(max_new_tokens):
            x, t = seq[-context:], clock[-context:]
            batch = {"input_ids": x, "times": t, "cu_seqlens": torch.tensor([0, len(x)], dtype=torch.int32)}
            logits = (
                model({k: v.to(device) for k, v in batch.items()}, return_logits=True).logits[-1].float().cpu()
            )
            logits[banned] = -math.inf
            if top_k is not None and top_k < logits.numel():
                kth = torch.topk(logits, top_k).values[-1]
                logits[logits < kth] = -math.inf
            probs = torch.softmax(logits / max(temperature, 1e-6), dim=-1)
            token = int(torch.multinomial(probs, 1, generator=gen))
            new.append(token)
            seq = torch.cat([seq, torch.tensor([token])])
            clock = torch.cat([clock, (clock[-1] + advance[token]).reshape(1)])
            if token == eos:
                break
    return Continuation(
        subject_id=int(trajectory["subject_id"]),
        origin=trajectory.get("origin"),
        prompt_ids=ids[:n],
        prompt_times=times[:n],
        new_ids=np.array(new, np.int64),
        new_times=clock[n:].numpy(),
    )


def continuation_events(
    tok: Tokenizer, cont: Continuation, descriptions: dict[str, str] | None = None
) -> pl.DataFrame:
    """Detokenized events of the prompt and the sample: part (prompt/sampled), time, code, value, description.

    The two are detokenized as one trajectory, so sampled events keep the prompt's timeline (static facts
    before TIMELINE_START, dates after it).
    """
    ids = np.r_[cont.prompt_ids, cont.new_ids].astype(np.int32)
    times = np.r_[cont.prompt_times, cont.new_times].astype(np.float32)
    table = pa.table(
        {"subject_id": [cont.subject_id], "input_ids": [ids.tolist()], "times": [times.tolist()],
         "length": [len(ids)], "origin": [cont.origin]},
    ).cast(TRAJECTORY_SCHEMA)  # fmt: skip
    events = detokenize(tok, table)
    kinds = tok.vocabulary["kind"].to_numpy().astype(str)
    special = np.isin(cont.prompt_ids, [tok.id(DEATH), tok.id(UNK)])
    n_prompt = int((np.isin(kinds[cont.prompt_ids], ["code", "unk"]) | special).sum())  # detokenize's event rule
    names = descriptions or {}
    return events.with_columns(
        part=pl.when(pl.int_range(pl.len()) < n_prompt).then(pl.lit("prompt")).otherwise(pl.lit("sampled")),
        description=pl.col("code").replace_strict(names, default="", return_dtype=pl.String),
        value=pl.when(pl.col("value_bin").is_not_null())
        .then(pl.format("bin {} [{}, {}) {}", "value_bin", _num("value_low"), _num("value_high"),
                        pl.col("unit").fill_null("")))
        .when(pl.col("value_unk")).then(pl.lit("value (unbinned)"))
        .otherwise(pl.lit("")),
    ).select("part", "time", "code", "value", "description")  # fmt: skip


def _num(column: str) -> pl.Expr:
    return pl.col(column).round_sig_figs(3).cast(pl.String)


def code_descriptions(root: str | Path) -> dict[str, str]:
    """code -> description from meds/metadata/codes.parquet (empty when absent)."""
    path = Layout(Path(root)).meds_codes
    if not path.exists():
        return {}
    codes = pl.read_parquet(path, columns=["code", "description"]).drop_nulls()
    return dict(codes.iter_rows())


def format_events(events: pl.DataFrame, *, prompt_tail: int = 12) -> str:
    """Plain text: the last `prompt_tail` prompt events, then every sampled event."""
    if events.is_empty():
        return "(no events)"
    prompt = events.filter(pl.col("part") == "prompt").tail(prompt_tail)
    sampled = events.filter(pl.col("part") == "sampled")
    lines = []
    for title, frame in (("prompt (last events)", prompt), ("sampled continuation", sampled)):
        lines.append(f"-- {title}: {len(frame)} events")
        for time, code, value, description in frame.select("time", "code", "value", "description").iter_rows():
            when = time.strftime("%Y-%m-%d %H:%M") if time is not None else "(static)        "
            text = "  ".join(x for x in (when, code, description, value) if x)
            lines.append(f"   {text}")
    return "\n".join(lines)


def sample_from_run(
    root: str | Path,
    run: str,
    *,
    split: str = "held_out",
    subject_index: int = 0,
    prompt_tokens: int | None = None,
    max_new_tokens: int = 64,
    temperature: float = 1.0,
    top_k: int | None = 50,
    seed: int = 0,
    device: str = "cpu",
) -> tuple[Continuation, pl.DataFrame]:
    """Continue the `subject_index`-th trajectory of `split` with the run's model; (continuation, events)."""
    from model import checkpoint as ckpt
    from schemas.tokens import trajectory_shards

    run_path = ckpt.run_dir(root, run)
    model = ckpt.load_model(run_path, device=device)
    tok = ckpt.load_tokenizer(run_path)
    files = [p for _, p in trajectory_shards(Layout(Path(root)).tokens, split)]
    rows = pl.concat([pl.read_parquet(f) for f in files]) if files else pl.DataFrame()
    if not 0 <= subject_index < len(rows):
        raise IndexError(
            f"split {split!r} has {len(rows)} trajectories; subject index {subject_index} is out of range"
        )
    cont = sample_continuation(model, tok, rows.row(subject_index, named=True), prompt_tokens=prompt_tokens,
                               max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k, seed=seed,
                               device=device)  # fmt: skip
    return cont, continuation_events(tok, cont, code_descriptions(root))
