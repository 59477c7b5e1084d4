"""Training the timeline transformer on packed shards: AdamW, warmup + cosine, accumulation, DDP, resume.

    from model.train import train, train_config
    result = train("/data/root", train_config("tiny", steps=200))     # outputs under /data/root/models/tiny/

Under `torchrun --nproc_per_node K -m model.train --root R --config tiny --steps N` (or `longitude train
--nnodes N --nproc-per-node K`) every process trains on its rank's batches and DDP averages gradients (gloo on
CPU, NCCL on CUDA), or FSDP2 shards parameters, gradients and optimizer state (`sharding="fsdp"`). Each rank
reads only its token-balanced share of the subjects (model.rank_shards; `data_placement="global"`: every
rank holds the split and takes batches r, r+K, ... of one plan) and checkpoints are DCP shards
(model.sharded_checkpoint) that resume on any number of ranks. The loss of a step is the mean over every
target of every micro-batch on every rank: each micro-batch contributes its summed loss divided by the step's
global target count, so accumulation and world size change the batch, never the weighting of tokens.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model import checkpoint as ckpt
from model.config import CONFIGS, ModelConfig, get_config
from model.sharded_checkpoint import is_sharded, load_sharded, save_sharded

if TYPE_CHECKING:
    import torch

    from model.data import TrainingShards

_log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainConfig:
    """One training run's knobs. `steps` is the schedule's length (the cosine reaches min_lr there); tokens
    per optimizer step = tokens_per_batch * grad_accum * world size."""

    model: str = "tiny"  # a named size of model.config (tiny, small, base)
    steps: int = 1000
    tokens_per_batch: int = 4096  # per micro-batch and rank: one packed stream
    grad_accum: int = 1
    lr: float = 3e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 50
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    seed: int = 0
    max_seq_len: int | None = None  # longest document; default: the model's context_length
    stride: int | None = None  # window stride of long subjects; default: max_seq_len (no overlap)
    packing: str = "bfd"
    data_placement: str = "rank"  # several ranks: "rank" (each reads its share of subjects) or "global"
    sharding: str = "ddp"  # several ranks: "ddp" (a replica per rank) or "fsdp" (FSDP2, parameters sharded)
    checkpoint_every: int = 500  # 0: only at the end of an invocation
    keep_checkpoints: int = 2
    log_every: int = 1
    eval_every: int = 0  # 0: no validation during training
    eval_split: str = "tuning"
    eval_batches: int = 8
    record_data: bool = False  # per-rank log of the batches seen and final weight digest (DDP tests, audits)

    def __post_init__(self) -> None:
        if self.model not in CONFIGS:
            raise ValueError(f"unknown model config {self.model!r}; known: {sorted(CONFIGS)}")
        for name in ("steps", "tokens_per_batch", "grad_accum", "log_every", "eval_batches"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("warmup_steps", "checkpoint_every", "eval_every", "keep_checkpoints"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not (self.lr > 0 and 0 <= self.min_lr_ratio <= 1 and self.grad_clip > 0 and self.weight_decay >= 0):
            raise ValueError("need lr > 0, 0 <= min_lr_ratio <= 1, grad_clip > 0, weight_decay >= 0")
        if self.data_placement not in ("rank", "global"):
            raise ValueError(f"data_placement must be 'rank' or 'global', got {self.data_placement!r}")
        if self.sharding not in ("ddp", "fsdp"):
            raise ValueError(f"sharding must be 'ddp' or 'fsdp', got {self.sharding!r}")
        if self.max_seq_len is not None and self.max_seq_len > self.tokens_per_batch:
            raise ValueError(f"max_seq_len {self.max_seq_len} exceeds tokens_per_batch {self.tokens_per_batch}")


def tiny_cpu(**overrides: Any) -> TrainConfig:
    """CPU tests and the CPU bench: 0.1M-parameter model, 4k-token batches."""
    return TrainConfig(**{"model": "tiny", "tokens_per_batch": 4096, "lr": 3e-3, "warmup_steps": 20, **overrides})


def small_gpu(**overrides: Any) -> TrainConfig:
    """~30M parameters on one GPU: 64k tokens per micro-batch (32 rows of 2048)."""
    base = {"model": "small", "tokens_per_batch": 65536, "lr": 1e-3, "warmup_steps": 200}
    return TrainConfig(**{**base, **overrides})


def base_gpu(**overrides: Any) -> TrainConfig:
    """~120M parameters: 64k tokens per micro-batch, 4 micro-batches per step (256k tokens, GPT-2-like)."""
    base = {"model": "base", "tokens_per_batch": 65536, "grad_accum": 4, "lr": 6e-4, "warmup_steps": 500}
    return TrainConfig(**{**base, **overrides})


TRAIN_CONFIGS: dict[str, Callable[..., TrainConfig]] = {"tiny": tiny_cpu, "small": small_gpu, "base": base_gpu}


def train_config(name: str, **overrides: Any) -> TrainConfig:
    """The named run for a model size (`longitude train --config NAME`), with flags as overrides."""
    if name not in TRAIN_CONFIGS:
        raise KeyError(f"unknown config {name!r}; known: {sorted(TRAIN_CONFIGS)}")
    return TRAIN_CONFIGS[name](**{k: v for k, v in overrides.items() if v is not None})


def lr_at(step: int, config: TrainConfig) -> float:
    """Learning rate of optimizer step `step` (0-based): linear warmup, then cosine down to min_lr at `steps`.

    >>> c = TrainConfig(steps=100, warmup_steps=10, lr=1.0, min_lr_ratio=0.1)
    >>> [round(lr_at(s, c), 3) for s in (0, 9, 10, 55, 99, 150)]
    [0.1, 1.0, 1.0, 0.542, 0.1, 0.1]
    """
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    span = max(config.steps - 1 - config.warmup_steps, 1)
    progress = min((step - config.warmup_steps) / span, 1.0)
    floor = config.lr * config.min_lr_ratio
    return floor + (config.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


class IncompatibleRunError(ValueError):
    """The run folder holds a checkpoint of another model, tokenizer or data: resume would be meaningless."""


@dataclass(slots=True)
class TrainResult:
    run: Path
    step: int  # optimizer steps done in total
    last: dict | None  # the run's last metrics record (an earlier invocation's when this one had nothing to do)
    checkpoint: Path | None
    n_params: int
    steps_run: int = 0  # optimizer steps this invocation took (0: the run was already at config.steps)


@dataclass(slots=True)
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owned: bool = False  # this module initialized the process group (and tears it down)

    @property
    def main(self) -> bool:
        return self.rank == 0


def _dist_setup(device_kind: str) -> _Dist:
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    owned = not dist.is_initialized()
    if owned:
        dist.init_process_group(backend="nccl" if device_kind == "cuda" else "gloo")
    return _Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), owned)


def resolve_device(device: str, local_rank: int = 0) -> torch.device:
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda but torch sees no CUDA device")
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


class _MicroBatches:
    """This rank's micro-batches, epoch after epoch; (epoch, next_batch) is the whole resumable state."""

    def __init__(self, shards: TrainingShards, config: TrainConfig, dist: _Dist, epoch: int, next_batch: int):
        self.shards, self.config, self.dist = shards, config, dist
        self.epoch, self.next_batch = epoch, next_batch
        self.layout = data_layout(config, dist.world)

    def batches_per_epoch(self) -> int:
        c = self.config
        return self.shards.batches_per_rank(c.tokens_per_batch, c.seed, self.epoch, self.dist.world)

    def take(self) -> tuple[dict, int, int]:
        """(batch, epoch, global batch index)."""
        c = self.config
        while self.next_batch >= self.batches_per_epoch():
            if self.batches_per_epoch() == 0:
                raise ValueError("the train split has no batches to train on")
            self.epoch, self.next_batch = self.epoch + 1, 0
        i = self.next_batch
        self.next_batch += 1
        batch = self.shards.batch(c.tokens_per_batch, c.seed, self.epoch, self.dist.rank, self.dist.world, i)
        return batch, self.epoch, i * self.dist.world + self.dist.rank

    def state(self) -> dict:
        return {"epoch": self.epoch, "next_batch": self.next_batch, "world_size": self.dist.world,
                "layout": self.layout}  # fmt: skip


def data_layout(config: TrainConfig, world_size: int) -> str:
    """How batches map to ranks: "global" (one plan dealt round-robin; any world size resumes it exactly) or
    "rank/<world>" (a plan per rank over its own subjects; a data position means something at that size only).

    >>> data_layout(TrainConfig(), 1), data_layout(TrainConfig(), 4)
    ('global', 'rank/4')
    >>> data_layout(TrainConfig(data_placement="global"), 4)
    'global'
    """
    return f"rank/{world_size}" if world_size > 1 and config.data_placement == "rank" else "global"


def resume_position(data_state: dict, config: TrainConfig, world_size: int) -> tuple[int, int]:
    """(epoch, this rank's next batch) to continue a saved data position with `world_size` ranks.

    >>> resume_position({"epoch": 1, "next_batch": 3, "world_size": 2}, TrainConfig(), 1)  # global plan
    (1, 6)
    >>> resume_position({"epoch": 1, "next_batch": 3, "world_size": 2, "layout": "rank/2"}, TrainConfig(), 2)
    (1, 3)
    >>> resume_position({"epoch": 1, "next_batch": 3, "world_size": 2, "layout": "rank/2"}, TrainConfig(), 4)
    (2, 0)
    """
    epoch, next_batch = int(data_state.get("epoch", 0)), int(data_state.get("next_batch", 0))
    saved, now = data_state.get("layout", "global"), data_layout(config, world_size)
    if saved == now == "global":
        return epoch, next_batch * int(data_state.get("world_size", world_size)) // world_size
    if saved == now or next_batch == 0:
        return epoch, next_batch
    # The subjects are cut into ranks differently now, so which of this epoch's documents are left is unknown:
    # the rest of the epoch is skipped (said, not silent) rather than some documents seen twice.
    _log.warning(
        "resuming a %s data position with %s: the rest of epoch %d (%d batches per rank done) is skipped; "
        "training continues at the start of epoch %d", saved, now, epoch, next_batch, epoch + 1,
    )  # fmt: skip
    return epoch + 1, 0


def steps_per_epoch(root: str | Path, config: TrainConfig, world_size: int = 1) -> int:
    """Optimizer steps in one epoch of the train split (the Dagster asset's default length)."""
    shards = _shards(Path(root), config, _max_seq_len(config), dist=_Dist(0, world_size))
    per_rank = shards.batches_per_rank(config.tokens_per_batch, config.seed, 0, world_size)
    return max(-(-per_rank // config.grad_accum), 1)


def _max_seq_len(config: TrainConfig, model_config: ModelConfig | None = None) -> int:
    context = (model_config or get_config(config.model)).context_length
    return min(config.max_seq_len or context, config.tokens_per_batch)


def _shards(root: Path, config: TrainConfig, max_seq_len: int, split: str = "train",
            dist: _Dist | None = None) -> TrainingShards:  # fmt: skip
    """The split's trajectories; with several ranks and rank placement, only this rank's share of them."""
    from model.data import TrainingShards

    kwargs: dict[str, Any] = {"max_seq_len": max_seq_len, "stride": config.stride, "packing": config.packing}
    if dist is not None and data_layout(config, dist.world) != "global":
        from model.rank_shards import RankShards

        return RankShards(root, split, rank=dist.rank, world_size=dist.world, **kwargs)
    return TrainingShards(root, split, **kwargs)


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Decay matrices and embeddings; not norms (nanoGPT's rule: decay every parameter with >= 2 dims)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    rest = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def _to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def weights_digest(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if hasattr(tensor, "full_tensor"):  # an FSDP2 shard: all-gather (every rank calls this, same order)
            tensor = tensor.full_tensor()
        h.update(name.encode())
        h.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _trim_metrics(path: Path, step: int) -> None:
    """Drop records past `step` (logged after the checkpoint a run resumes from)."""
    if not path.exists():
        return
    kept = [line for line in path.read_text().splitlines() if line and json.loads(line).get("step", 0) <= step]
    from schemas.io import write_text

    write_text("".join(f"{line}\n" for line in kept), path)


def _last_record(path: Path, step: int) -> dict | None:
    """The last metrics record at or before `step` (what a finished run reports when it is run again)."""
    if not path.exists():
        return None
    found = [json.loads(line) for line in path.read_text().splitlines() if line]
    found = [r for r in found if r.get("step", 0) <= step]
    return found[-1] if found else None


def _run_info(model_config: ModelConfig, config: TrainConfig, tok_fp: str, data_fp: str, n_params: int) -> dict:
    return {
        "model_config": dataclasses.asdict(model_config),
        "train_config": dataclasses.asdict(config),
        "tokenizer_fingerprint": tok_fp,
        "trajectories_fingerprint": data_fp,
        "n_params": n_params,
    }


def _check_compatible(info: dict, expected: dict) -> None:
    for key in ("model_config", "tokenizer_fingerprint", "trajectories_fingerprint"):
        if info.get(key) != expected[key]:
            raise IncompatibleRunError(
                f"the run was started with another {key.replace('_', ' ')}; resume only continues the same model "
                "on the same data (choose another --run, or --fresh to start this one over)"
            )
    old, new = info["train_config"], expected["train_config"]
    for key in ("tokens_per_batch", "grad_accum", "seed", "max_seq_len", "stride", "packing"):
        if old.get(key) != new.get(key):
            raise IncompatibleRunError(f"resume needs the same {key} ({old.get(key)} before, {new.get(key)} now)")


def validation_loss(model: torch.nn.Module, shards: TrainingShards, config: TrainConfig, device: torch.device,
                    max_batches: int | None) -> dict:  # fmt: skip
    """Mean next-token loss over the first `max_batches` batches of a split (all of them with None)."""
    import torch

    total, targets = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad(), _autocast(device):
        for i, batch in enumerate(shards.batches(config.tokens_per_batch, seed=config.seed)):
            if max_batches is not None and i >= max_batches:
                break
            out = model(_to_device(batch, device), reduction="sum")
            total += float(out.loss)
            targets += int(out.n_targets)
    model.train(was_training)
    return {"loss": total / max(targets, 1), "targets": targets}


def _autocast(device: torch.device):
    import torch

    # bf16 on CUDA (no loss scaling needed, unlike fp16); fp32 on CPU, where bf16 matmuls are slow or emulated.
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def train(
    root: str | Path,
    config: TrainConfig,
    *,
    run: str | None = None,
    device: str = "auto",
    resume: bool = True,
    stop_after: int | None = None,
    on_log: Callable[[dict], None] | None = None,
) -> TrainResult:
    """Train (or continue) the run `models/<run>/` (default: the model name) to `config.steps` steps.

    resume: continue from the run's latest checkpoint when it has one (same model, tokenizer, data and batch
    settings, else IncompatibleRunError); False starts the run over. stop_after: stop this invocation after
    that many steps in total (the schedule still spans config.steps) and checkpoint, as an interruption would.
    on_log: called on rank 0 with each metrics record (progress bars, Dagster logs).
    """
    import torch

    from model.tokenizer import Tokenizer
    from model.transformer import TimelineTransformer
    from schemas.layout import Layout

    root = Path(root)
    tokens_dir = Layout(root).tokens
    tok = Tokenizer.load(tokens_dir)
    model_config = get_config(config.model, vocab_size=tok.size)
    run_path = ckpt.run_dir(root, run or config.model)

    dist = _dist_setup("cuda" if device == "cuda" or (device == "auto" and torch.cuda.is_available()) else "cpu")
    try:
        shards = _shards(root, config, _max_seq_len(config, model_config), dist=dist)
        dev = resolve_device(device, dist.local_rank)
        if dev.type == "cuda":  # batches gathered and packed on the GPU by the Triton kernel (issue 18)
            shards.to(dev)
        torch.manual_seed(config.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
        model = TimelineTransformer(model_config).to(dev)
        n_params = sum(p.numel() for p in model.parameters())
        info = _run_info(model_config, config, tok.fingerprint(), shards.fingerprint(), n_params)
        start, saved_state = _prepare_run(run_path, info, resume, dist, tokens_dir)
        last = ckpt.latest_checkpoint(run_path) if start > 0 else None
        opt_state = None
        if last is not None and not is_sharded(last):  # safetensors: full weights, loaded before any sharding
            weights, _, _ = ckpt.load_weights(last, expect_fingerprint=tok.fingerprint())
            model.load_state_dict(weights)
            opt_state = ckpt.load_optimizer_state(last)
        ddp = _wrap(model, dist, dev, config)
        optimizer = torch.optim.AdamW(
            _param_groups(model, config.weight_decay), lr=config.lr, betas=config.betas,
            fused=dev.type == "cuda",
        )  # fmt: skip
        if opt_state is not None:
            _load_full_optimizer_state(model, optimizer, opt_state, config, dist)
        if last is not None and is_sharded(last):  # DCP: resharded onto this run's ranks and wrapping
            load_sharded(last, model, optimizer, expect_fingerprint=tok.fingerprint())
        epoch, next_batch = resume_position(saved_state.get("data", {}), config, dist.world)
        stream = _MicroBatches(shards, config, dist, epoch, next_batch)
        loop = _Loop(config, model, ddp, optimizer, stream, dist, dev, run_path, tok.fingerprint(), on_log)
        loop.tokens_seen = int(saved_state.get("tokens_seen", 0))
        end = min(config.steps, stop_after) if stop_after is not None else config.steps
        last_record = loop.run(start, end, root)
        if last_record is None:  # nothing left to do: report the finished run, not a missing loss (was nan)
            last_record = _last_record(run_path / ckpt.METRICS_FILE, start)
        saved = None
        if dist.main or dist.world > 1:  # an invocation with nothing left to do keeps its checkpoint as it is
            saved = loop.save(end) if end > start else ckpt.latest_checkpoint(run_path)
        if config.record_data:
            loop.write_rank_record()
        if dist.world > 1:
            torch.distributed.barrier()
        return TrainResult(run_path, max(end, start), last_record, saved, n_params, max(end - start, 0))
    finally:
        if dist.owned:
            torch.distributed.destroy_process_group()


def _prepare_run(run_path: Path, info: dict, resume: bool, dist: _Dist, tokens_dir: Path) -> tuple[int, dict]:
    """(first step, saved state.json): from the latest checkpoint when resuming, else a clean run folder."""
    import torch

    last = ckpt.latest_checkpoint(run_path) if resume else None
    if last is not None:
        _check_compatible(ckpt.read_run_info(run_path), info)
        state = ckpt.load_state(last)
        if dist.main:
            _trim_metrics(run_path / ckpt.METRICS_FILE, state["step"])
            ckpt.write_run_info(run_path, info, tokens_dir)  # the new schedule length, if --steps changed
        return int(state["step"]), state
    if dist.main:
        for stale in (run_path / ckpt.CHECKPOINTS_DIR, run_path / "ranks"):
            shutil.rmtree(stale, ignore_errors=True)
        (run_path / ckpt.METRICS_FILE).unlink(missing_ok=True)
        ckpt.write_run_info(run_path, info, tokens_dir)
    if dist.world > 1:
        torch.distributed.barrier()  # nobody reads the folder before rank 0 has reset it
    return 0, {}


def _wrap(model: torch.nn.Module, dist: _Dist, device: torch.device, config: TrainConfig) -> torch.nn.Module:
    """The module the loop calls: the model itself (one process, or FSDP2, which shards it in place) or DDP."""
    if dist.world == 1:
        return model
    if config.sharding == "fsdp":
        import torch
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        # bf16 compute and fp32 gradient reduction on CUDA (as autocast does for one GPU); fp32 on CPU.
        cuda = device.type == "cuda"
        policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16 if cuda else None,
                                      reduce_dtype=torch.float32 if cuda else None)  # fmt: skip
        for block in model.blocks:  # type: ignore[union-attr]
            fully_shard(block, mp_policy=policy)  # one all-gather per block, freed after its forward
        fully_shard(model, mp_policy=policy)  # embeddings, time encoding, final norm (and head)
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def _load_full_optimizer_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: dict,
                               config: TrainConfig, dist: _Dist) -> None:  # fmt: skip
    """A safetensors checkpoint's optimizer state (full tensors, keyed by parameter index) into this run's."""
    if dist.world == 1 or config.sharding != "fsdp":
        optimizer.load_state_dict(state)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    # Index i is the i-th parameter in _param_groups' order; FSDP2 takes full tensors by name and shards them.
    names = [name for group in _named_param_groups(model) for name in group]
    by_name = {
        "state": {names[int(i)]: value for i, value in state["state"].items()},
        "param_groups": [{**g, "params": [names[int(i)] for i in g["params"]]} for g in state["param_groups"]],
    }
    set_optimizer_state_dict(model, optimizer, by_name, options=StateDictOptions(full_state_dict=True))


def _named_param_groups(model: torch.nn.Module) -> list[list[str]]:
    """Parameter names in _param_groups' order (decayed, then not)."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [[n for n, p in named if p.dim() >= 2], [n for n, p in named if p.dim() < 2]]


def peak_rss_bytes() -> int:
    """This process's peak resident memory: VmHWM on Linux (ru_maxrss would count the peak of the process
    that exec'd this one, e.g. a launcher that had built the data)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


@contextlib.contextmanager
def _gradients_kept_local(module: torch.nn.Module):
    """A micro-batch that is not the step's last: no gradient all-reduce (DDP) or reduce-scatter (FSDP2)."""
    if hasattr(module, "no_sync"):
        with module.no_sync():
            yield
        return
    module.set_requires_gradient_sync(False)  # type: ignore[operator]
    try:
        yield
    finally:
        module.set_requires_gradient_sync(True)  # type: ignore[operator]


class _Loop:
    """The optimizer-step loop of one invocation (state that `train` would otherwise thread through)."""

    def __init__(self, config, model, ddp, optimizer, stream, dist, device, run_path, tok_fp, on_log) -> None:
        self.config, self.model, self.ddp, self.optimizer = config, model, ddp, optimizer
        self.stream, self.dist, self.device, self.run_path = stream, dist, device, run_path
        self.tok_fp, self.on_log = tok_fp, on_log
        self.tokens_seen = 0
        self.seen: list[list[int]] = []  # (epoch, global batch index) of each micro-batch, for record_data
        self.val_shards: TrainingShards | None = None

    def run(self, start: int, end: int, root: Path) -> dict | None:
        record = None
        for step in range(start, end):
            record = self.step(step)
            done = step + 1
            if self.config.eval_every and done % self.config.eval_every == 0:
                record = {**record, **self.validate(root)}
            if self.dist.main and (done % self.config.log_every == 0 or done == end):
                self.log(record)
            every = self.config.checkpoint_every
            if (self.dist.main or self.dist.world > 1) and every and done % every == 0 and done < end:
                self.save(done)  # several ranks: every rank writes its DCP shards
        return record

    def step(self, step: int) -> dict:
        import torch

        c, dist = self.config, self.dist
        lr = lr_at(step, c)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        started = time.perf_counter()
        micro = [self.stream.take() for _ in range(c.grad_accum)]
        position = (micro[0][1], micro[0][2] // dist.world)  # epoch and this rank's index of the first batch
        self.seen += [[epoch, index] for _, epoch, index in micro]
        counts = torch.tensor(
            [sum(int((b["labels"] != -100).sum()) for b, _, _ in micro),
             sum(int((b["document_ids"] >= 0).sum()) for b, _, _ in micro)],
            dtype=torch.float64, device=self.device,
        )  # fmt: skip
        if dist.world > 1:
            torch.distributed.all_reduce(counts)  # global targets fix every micro-batch's weight up front
        targets, real = float(counts[0]), float(counts[1])
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        for j, (batch, _, _) in enumerate(micro):
            sync = dist.world == 1 or j == len(micro) - 1
            with contextlib.nullcontext() if sync else _gradients_kept_local(self.ddp):
                with _autocast(self.device):
                    out = self.ddp(_to_device(batch, self.device), reduction="sum")
                # DDP averages gradients over ranks, hence * world: the result is sum(all losses) / targets.
                (out.loss * (dist.world / max(targets, 1.0))).backward()
            loss_sum += out.loss.detach().double()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip)
        if hasattr(grad_norm, "full_tensor"):  # FSDP2: the norm over every rank's shards
            grad_norm = grad_norm.full_tensor()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if dist.world > 1:
            torch.distributed.all_reduce(loss_sum)
        loss = float(loss_sum) / max(targets, 1.0)
        if not math.isfinite(loss):
            raise FloatingPointError(f"loss is {loss} at step {step + 1}; lower --lr or check the data")
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        seconds = time.perf_counter() - started
        self.tokens_seen += int(real)
        budget = c.tokens_per_batch * c.grad_accum * dist.world
        return {
            "step": step + 1,
            "loss": round(loss, 6),
            "lr": lr,
            "grad_norm": round(float(grad_norm), 6),
            "tokens_per_s": round(real / seconds, 1),
            "real_token_fraction": round(real / budget, 6),
            "tokens": int(real),
            "tokens_seen": self.tokens_seen,
            "epoch": position[0],
            "batch": position[1],
            "step_s": round(seconds, 4),
        }

    def validate(self, root: Path) -> dict:
        import torch

        c = self.config
        if self.val_shards is None:
            try:
                self.val_shards = _shards(root, c, _max_seq_len(c, self.model.config), c.eval_split)
            except FileNotFoundError:
                return {}
        result = validation_loss(self.model, self.val_shards, c, self.device, c.eval_batches)
        if self.dist.world > 1:
            torch.distributed.barrier()
        return {"val_loss": round(result["loss"], 6), "val_targets": result["targets"]}

    def log(self, record: dict) -> None:
        path = self.run_path / ckpt.METRICS_FILE
        with path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        if self.on_log is not None:
            self.on_log(record)

    def save(self, step: int) -> Path:
        state = {"data": self.stream.state(), "tokens_seen": self.tokens_seen}
        if self.dist.world > 1:
            return save_sharded(self.run_path, step, self.model, self.optimizer, state,
                                tokenizer_fingerprint=self.tok_fp, keep=self.config.keep_checkpoints,
                                rank=self.dist.rank)  # fmt: skip
        return ckpt.save_checkpoint(
            self.run_path, step, self.model, self.optimizer, state,
            tokenizer_fingerprint=self.tok_fp, keep=self.config.keep_checkpoints,
        )  # fmt: skip

    def write_rank_record(self) -> None:
        from schemas.io import write_text

        shards = self.stream.shards
        record = {"rank": self.dist.rank, "world_size": self.dist.world, "batches": self.seen,
                  "weights_sha256": weights_digest(self.model),
                  "tokens_loaded": 0 if shards._ids is None else len(shards._ids),
                  "split_tokens": getattr(shards, "split_tokens", shards.num_tokens),
                  "peak_rss_bytes": peak_rss_bytes()}  # fmt: skip
        write_text(json.dumps(record) + "\n", self.run_path / "ranks" / f"rank{self.dist.rank}.json")


def main(argv: list[str] | None = None) -> None:
    """`python -m model.train` (or under torchrun): the same as `longitude train`, without the progress bar."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--root", required=True)
    parser.add_argument("--config", default="tiny", choices=sorted(TRAIN_CONFIGS))
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--run-name", default=None, help="folder under models/ (default: the config name)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--tokens-per-batch", type=int, default=None)
    parser.add_argument("--grad-accum", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--checkpoint-every", type=int, default=None)
    parser.add_argument("--eval-every", type=int, default=None)
    parser.add_argument("--sharding", default=None, choices=["ddp", "fsdp"], help="several ranks: DDP or FSDP2")
    parser.add_argument(
        "--data-placement",
        default=None,
        choices=["rank", "global"],
        help="several ranks: each reads its share of subjects (rank) or all of them (global)",
    )
    parser.add_argument("--record-data", action="store_true")
    parser.add_argument("--stop-after", type=int, default=None, help="stop (and checkpoint) after this step")
    parser.add_argument("--fresh", action="store_true", help="start the run over instead of resuming")
    args = parser.parse_args(argv)
    config = train_config(
        args.config, steps=args.steps, tokens_per_batch=args.tokens_per_batch, grad_accum=args.grad_accum,
        lr=args.lr, seed=args.seed, checkpoint_every=args.checkpoint_every, record_data=args.record_data or None,
        eval_every=args.eval_every, sharding=args.sharding, data_placement=args.data_placement,
    )  # fmt: skip
    rank = int(os.environ.get("RANK", "0"))

    def show(record: dict) -> None:
        print(json.dumps(record), flush=True)

    result = train(args.root, config, run=args.run_name, device=args.device, resume=not args.fresh,
                   stop_after=args.stop_after, on_log=show if rank == 0 else None)  # fmt: skip
    if rank == 0:
        print(f"trained {result.step} steps; checkpoint {result.checkpoint}", flush=True)


if __name__ == "__main__":
    main()
