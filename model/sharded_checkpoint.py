"""Checkpoints of multi-rank runs with torch.distributed.checkpoint (DCP): every rank writes its own shards.

A multi-rank run's `checkpoints/step-<N>/` holds DCP's files (`.metadata` and one `__<rank>_0.distcp` per
writing rank) under the keys `model.<name>` and `optim.<...>`, plus `state.json` (step, data position,
tokens seen, model config, tokenizer fingerprint). The invariants of model.checkpoint hold: the ranks write
into `.step-<N>.partial/`, rank 0 renames it once every rank is done and only then points `latest` at it.
DCP reshards on load, so a checkpoint saved by N ranks (DDP or FSDP2) resumes on M ranks, or in one process,
and `model.checkpoint.load_model` reads its weights without a process group. Needs a filesystem every rank
sees (a shared volume), as the run folder already does.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from model import checkpoint as ckpt
from model.checkpoint import is_sharded
from model.config import ModelConfig
from schemas.io import write_text

if TYPE_CHECKING:
    import torch

FORMAT = "longitude-timeline-transformer/dcp-1"


def save_sharded(run: Path, step: int, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: dict,
                 *, tokenizer_fingerprint: str, keep: int, rank: int) -> Path:  # fmt: skip
    """Collective: every rank calls it with its (DDP- or FSDP2-wrapped) model; returns the checkpoint folder."""
    import torch.distributed as dist
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    folder = Path(run) / ckpt.CHECKPOINTS_DIR
    final = folder / ckpt.checkpoint_name(step)
    partial = folder / f".{final.name}.partial"
    if rank == 0:
        shutil.rmtree(partial, ignore_errors=True)  # a crashed save of the same step
        partial.mkdir(parents=True)
    dist.barrier()
    model_state, optim_state = get_state_dict(model, optimizer)
    dcp.save({"model": model_state, "optim": optim_state}, checkpoint_id=str(partial))
    if rank == 0:
        config: ModelConfig = model.config  # type: ignore[assignment]
        meta = {"model_config": asdict(config), "tokenizer_fingerprint": tokenizer_fingerprint, "format": FORMAT,
                "world_size": dist.get_world_size()}  # fmt: skip
        write_text(json.dumps({**state, **meta, "step": step}, indent=2, sort_keys=True) + "\n",
                   partial / ckpt.STATE_FILE)  # fmt: skip
        if final.exists():  # re-saving the same step (a resumed run stopping where it started)
            shutil.rmtree(final)
        os.replace(partial, final)
        write_text(final.name + "\n", folder / ckpt.LATEST_FILE)
        older = sorted(p for p in folder.glob("step-*") if p.is_dir() and p.name < final.name)
        for stale in older[: max(len(older) - (keep - 1), 0)] if keep > 0 else []:
            shutil.rmtree(stale, ignore_errors=True)
    dist.barrier()  # nobody reads `latest` (or exits) before it names the new checkpoint
    return final


def load_sharded(checkpoint: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, *,
                 expect_fingerprint: str | None = None) -> None:  # fmt: skip
    """Load weights and optimizer state into a model however it is wrapped and however many ranks run now:
    collective under a process group, a plain read without one (weights alone: checkpoint.load_model)."""
    import torch.distributed as dist
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    meta = ckpt.load_state(checkpoint)
    if expect_fingerprint is not None and meta.get("tokenizer_fingerprint") != expect_fingerprint:
        raise ValueError(
            f"checkpoint {Path(checkpoint).name} was trained with tokenizer {meta.get('tokenizer_fingerprint')}, "
            f"not {expect_fingerprint}: re-tokenized data needs a new run"
        )
    no_dist = not (dist.is_available() and dist.is_initialized())
    model_state, optim_state = get_state_dict(model, optimizer)
    both = {"model": model_state, "optim": optim_state}
    dcp.load(both, checkpoint_id=str(checkpoint), no_dist=no_dist)
    set_state_dict(model, optimizer, model_state_dict=both["model"], optim_state_dict=both["optim"])


__all__ = ["FORMAT", "is_sharded", "load_sharded", "save_sharded"]
