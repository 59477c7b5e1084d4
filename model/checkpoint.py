"""Training runs on disk: `models/<run>/` with safetensors checkpoints, the config, the tokenizer and metrics.

Layout of one run (relative to the root's `models/`):

    <run>/run.json                       model config, train config, tokenizer and trajectories fingerprints
    <run>/tokenizer/                     a copy of tokens/{vocabulary,value_bins}.parquet and tokenizer.json
    <run>/metrics.jsonl                  one JSON object per optimizer step (rank 0), plus eval records
    <run>/checkpoints/step-<N>/model.safetensors      weights; metadata: model config, tokenizer fingerprint
    <run>/checkpoints/step-<N>/optimizer.safetensors  AdamW moments; metadata: param groups
    <run>/checkpoints/step-<N>/state.json             step, data position, tokens seen
    <run>/checkpoints/latest             the name of the newest complete checkpoint (written last)

A run trained on several ranks writes DCP shards instead (`.metadata`, `__<rank>_0.distcp`, and a state.json
that also holds the model config and tokenizer fingerprint; model.sharded_checkpoint); load_model reads both.

Invariants:
1. A checkpoint directory appears under its final name only when complete (written aside, then renamed), and
   `latest` names it only after that, so a crash leaves the previous checkpoint readable.
2. Weights are stored in float32 whatever the training precision; loading checks the tokenizer fingerprint
   against the run's, so a model is never paired with another vocabulary.
3. Nothing in a run holds PHI: token ids, aggregate metrics and the (de-identified) vocabulary only.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.config import ModelConfig
from schemas.io import write_text
from schemas.layout import Layout
from schemas.tokens import TOKENIZER_FILE, VALUE_BINS_FILE, VOCABULARY_FILE

if TYPE_CHECKING:
    import torch

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
TOKENIZER_DIR = "tokenizer"
CHECKPOINTS_DIR = "checkpoints"
LATEST_FILE = "latest"
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"
DCP_METADATA = ".metadata"  # torch.distributed.checkpoint's index: a multi-rank run's sharded checkpoint


def run_dir(root: str | Path, run: str) -> Path:
    """`<root>/models/<run>/`; run names are single path components.

    >>> run_dir("/r", "tiny-1").as_posix()
    '/r/models/tiny-1'
    """
    if not run or "/" in run or run in (".", "..") or run.startswith("."):
        raise ValueError(f"run name must be a plain folder name, got {run!r}")
    return Layout(Path(root)).models / run


def checkpoint_name(step: int) -> str:
    """Folder name of the checkpoint after `step` optimizer steps (sorts by step).

    >>> checkpoint_name(120)
    'step-00000120'
    """
    return f"step-{step:08d}"


def latest_checkpoint(run: Path) -> Path | None:
    """The newest complete checkpoint of a run, or None when it has none."""
    pointer = Path(run) / CHECKPOINTS_DIR / LATEST_FILE
    if not pointer.exists():
        return None
    path = pointer.parent / pointer.read_text().strip()
    return path if (path / STATE_FILE).exists() else None


def model_config_from_dict(raw: dict) -> ModelConfig:
    return ModelConfig(**raw)


def write_run_info(run: Path, info: dict, tokens_dir: Path) -> None:
    """run.json and the tokenizer copy (the tokenizer travels with the model)."""
    run.mkdir(parents=True, exist_ok=True)
    target = run / TOKENIZER_DIR
    target.mkdir(exist_ok=True)
    for name in (VOCABULARY_FILE, VALUE_BINS_FILE, TOKENIZER_FILE):
        tmp = target / f".{name}.tmp"
        shutil.copyfile(Path(tokens_dir) / name, tmp)
        os.replace(tmp, target / name)
    write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", run / RUN_FILE)


def read_run_info(run: Path) -> dict:
    path = Path(run) / RUN_FILE
    if not path.exists():
        raise FileNotFoundError(f"no training run at {run} (missing {RUN_FILE})")
    return json.loads(path.read_text())


def _flatten_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    import torch

    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for idx, per_param in state["state"].items():
        for key, value in per_param.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{idx}.{key}"] = value.detach().contiguous().cpu()
            else:
                scalars[f"{idx}.{key}"] = value
    meta = {"param_groups": json.dumps(state["param_groups"]), "scalars": json.dumps(scalars)}
    return tensors, meta


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        _, idx, key = name.split(".", 2)
        state.setdefault(int(idx), {})[key] = value
    for name, value in json.loads(meta.get("scalars", "{}")).items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    return {"state": state, "param_groups": json.loads(meta["param_groups"])}


def save_checkpoint(
    run: Path,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    state: dict,
    *,
    tokenizer_fingerprint: str,
    keep: int = 2,
) -> Path:
    """Write checkpoints/step-<N>/ atomically, point `latest` at it, keep the newest `keep` checkpoints."""
    from safetensors.torch import save_file

    config: ModelConfig = model.config  # type: ignore[assignment]
    folder = Path(run) / CHECKPOINTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / checkpoint_name(step)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=folder))
    try:
        weights = {k: v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}
        meta = {"model_config": json.dumps(asdict(config)), "tokenizer_fingerprint": tokenizer_fingerprint,
                "step": str(step), "format": "longitude-timeline-transformer/1"}  # fmt: skip
        save_file(weights, str(tmp / MODEL_FILE), metadata=meta)
        if optimizer is not None:
            tensors, opt_meta = _flatten_optimizer(optimizer.state_dict())
            save_file(tensors, str(tmp / OPTIMIZER_FILE), metadata=opt_meta)
        (tmp / STATE_FILE).write_text(json.dumps({**state, "step": step}, indent=2, sort_keys=True) + "\n")
        if final.exists():  # re-saving the same step (a resumed run stopping where it started)
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_text(final.name + "\n", folder / LATEST_FILE)
    older = sorted(p for p in folder.glob("step-*") if p.is_dir() and p.name < final.name)
    for stale in older[: max(len(older) - (keep - 1), 0)] if keep > 0 else []:
        shutil.rmtree(stale, ignore_errors=True)
    return final


def load_weights(checkpoint: Path, *, expect_fingerprint: str | None = None) -> tuple[dict, ModelConfig, dict]:
    """(state dict, model config, metadata) of a checkpoint's model.safetensors."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(checkpoint) / MODEL_FILE
    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata() or {})
    if "model_config" not in meta:
        raise ValueError(f"{path} has no model config in its metadata; not a Longitude checkpoint")
    if expect_fingerprint is not None and meta.get("tokenizer_fingerprint") != expect_fingerprint:
        raise ValueError(
            f"checkpoint {checkpoint.name} was trained with tokenizer {meta.get('tokenizer_fingerprint')}, "
            f"not {expect_fingerprint}: re-tokenized data needs a new run"
        )
    return load_file(str(path)), model_config_from_dict(json.loads(meta["model_config"])), meta


def load_optimizer_state(checkpoint: Path) -> dict | None:
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(checkpoint) / OPTIMIZER_FILE
    if not path.exists():
        return None
    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata() or {})
    return _unflatten_optimizer(load_file(str(path)), meta)


def load_state(checkpoint: Path) -> dict:
    return json.loads((Path(checkpoint) / STATE_FILE).read_text())


def load_model(run_or_checkpoint: str | Path, *, device: str | torch.device = "cpu") -> torch.nn.Module:
    """A TimelineTransformer from a run folder (its latest checkpoint) or a checkpoint folder (safetensors, or
    a multi-rank run's DCP shards), in eval mode."""
    from model.transformer import TimelineTransformer

    path = Path(run_or_checkpoint)
    checkpoint = path if (path / MODEL_FILE).exists() or is_sharded(path) else latest_checkpoint(path)
    if checkpoint is None:
        raise FileNotFoundError(f"no checkpoint under {path}")
    if is_sharded(checkpoint):  # a multi-rank run's DCP checkpoint (model.sharded_checkpoint), read here alone
        model = TimelineTransformer(model_config_from_dict(load_state(checkpoint)["model_config"]))
        _load_sharded_weights(checkpoint, model)
        return model.to(device).eval()
    weights, config, _ = load_weights(checkpoint)
    model = TimelineTransformer(config)
    model.load_state_dict(weights)
    return model.to(device).eval()


def is_sharded(checkpoint: Path) -> bool:
    return (Path(checkpoint) / DCP_METADATA).exists()


def _load_sharded_weights(checkpoint: Path, model: torch.nn.Module) -> None:
    """The weights of a DCP checkpoint saved by any number of ranks, read by this one process."""
    import warnings

    import torch.distributed.checkpoint as dcp

    weights = {"model": model.state_dict()}
    with warnings.catch_warnings():  # DCP warns that it reads in one process: that is the intent here
        warnings.filterwarnings("ignore", message="torch.distributed is disabled", category=UserWarning)
        dcp.load(weights, checkpoint_id=str(checkpoint), no_dist=True)
    model.load_state_dict(weights["model"])


def load_tokenizer(run: str | Path):
    """The tokenizer saved with a run (checked against its fingerprint)."""
    from model.tokenizer import Tokenizer

    return Tokenizer.load(Path(run) / TOKENIZER_DIR)
