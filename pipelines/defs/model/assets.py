"""`timeline_model`: the timeline transformer trained on every shard's train trajectories, under models/<run>/.

torch is imported inside the asset body only, so the code location loads without it.
"""

import dataclasses
from pathlib import Path

import dagster as dg

from pipelines.defs.resources import LongitudeResource
from schemas.layout import Layout
from schemas.tokens import trajectory_shards

ALL_SHARDS = dg.AllPartitionMapping()


class TimelineModelConfig(dg.Config):
    """The knobs of `longitude train`; 0 means "the named run's default" (steps 0: one epoch of train)."""

    config: str = "tiny"
    steps: int = 0
    run_name: str = ""  # default: the config name
    device: str = "auto"
    tokens_per_batch: int = 0
    grad_accum: int = 0
    lr: float = 0.0
    seed: int = 0
    resume: bool = True  # continue the run's latest checkpoint when it was made on the same model and data


@dg.asset(
    deps=[dg.AssetDep("trajectories", partition_mapping=ALL_SHARDS), dg.AssetDep("vocabulary")],
    group_name="model",
    kinds={"pytorch", "safetensors"},
)
def timeline_model(
    context: dg.AssetExecutionContext, config: TimelineModelConfig, longitude: LongitudeResource
) -> dg.MaterializeResult:
    """Decoder-only transformer over packed timelines: safetensors checkpoints, config, tokenizer, metrics."""
    from model.train import IncompatibleRunError, steps_per_epoch, train, train_config

    root = Path(longitude.root).resolve()
    if not trajectory_shards(Layout(root).tokens, "train"):
        # No train subject (an empty root, or every subject in tuning/held_out): nothing to fit; said, not raised.
        context.log.warning("no train trajectories under tokens/: no model trained")
        return dg.MaterializeResult(metadata={"trained": False, "reason": "no train subjects"})
    overrides = {"tokens_per_batch": config.tokens_per_batch, "grad_accum": config.grad_accum, "lr": config.lr}
    train_cfg = train_config(config.config, seed=config.seed, **{k: v for k, v in overrides.items() if v})
    steps = config.steps or steps_per_epoch(root, train_cfg)
    train_cfg = dataclasses.replace(train_cfg, steps=steps)
    every = max(steps // 20, 1)

    def on_log(record: dict) -> None:
        if record["step"] % every == 0 or record["step"] == steps:
            context.log.info(
                f"step {record['step']}/{steps}: loss {record['loss']:.4f}, lr {record['lr']:.2e}, "
                f"{record['tokens_per_s']:.0f} tokens/s, real-token fraction {record['real_token_fraction']:.3f}"
            )

    run = config.run_name or config.config
    try:
        result = train(root, train_cfg, run=run, device=config.device, resume=config.resume, on_log=on_log)
    except IncompatibleRunError as err:
        context.log.warning(f"starting run {run!r} over: {err}")
        result = train(root, train_cfg, run=run, device=config.device, resume=False, on_log=on_log)
    last = result.last or {}
    metadata = {
        "trained": True,
        "run": dg.MetadataValue.path(str(result.run)),
        "checkpoint": dg.MetadataValue.path(str(result.checkpoint)),
        "config": config.config,
        "steps": result.step,
        "parameters": result.n_params,
    }
    for key in ("loss", "tokens_per_s", "real_token_fraction", "tokens_seen"):
        if key in last:
            metadata[key] = last[key]
    return dg.MaterializeResult(metadata=metadata)
