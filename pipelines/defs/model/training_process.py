"""The `timeline_model` asset's training, in a process of its own launched through Dagster Pipes.

    python -m pipelines.defs.model.training_process SPEC_JSON          (one process)
    torchrun --standalone --nproc-per-node K -m pipelines.defs.model.training_process SPEC_JSON

The Dagster step only starts this process (PipesSubprocessClient) and waits: the model, the data and the
optimizer live here, so the step process stays small and a training job can run under torchrun. Rank 0
sends progress logs and the materialization's metadata back over the Pipes channel; other ranks only train.
This module imports dagster_pipes (the dependency-free half of Pipes), never dagster.
"""

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

MODULE = "pipelines.defs.model.training_process"


def training_command(spec: dict, nproc_per_node: int = 1) -> list[str]:
    """argv of the training job: this module in one process, or under a standalone torchrun agent."""
    if nproc_per_node <= 1:
        return [sys.executable, "-m", MODULE, json.dumps(spec)]
    from model.distributed import Launch, torchrun_command

    run = spec["run_name"] or spec["config"]
    return torchrun_command(
        Launch(1, nproc_per_node), [json.dumps(spec)], root=spec["root"], run=run, module=MODULE
    )


def train_from_spec(spec: dict, log: Any | None) -> dict:
    """Train as the asset's config says (steps 0: one epoch); the materialization's metadata, Pipes-typed."""
    from model.train import IncompatibleRunError, steps_per_epoch, train, train_config

    root = Path(spec["root"])
    overrides = {k: spec[k] for k in ("tokens_per_batch", "grad_accum", "lr") if spec.get(k)}
    cfg = train_config(spec["config"], seed=spec["seed"], sharding=spec.get("sharding") or None, **overrides)
    steps = spec["steps"] or steps_per_epoch(root, cfg, int(os.environ.get("WORLD_SIZE", "1")))
    cfg = dataclasses.replace(cfg, steps=steps)
    every = max(steps // 20, 1)

    def on_log(record: dict) -> None:
        if log is not None and (record["step"] % every == 0 or record["step"] == steps):
            log.info(
                f"step {record['step']}/{steps}: loss {record['loss']:.4f}, lr {record['lr']:.2e}, "
                f"{record['tokens_per_s']:.0f} tokens/s, real-token fraction {record['real_token_fraction']:.3f}"
            )

    run = spec["run_name"] or spec["config"]
    device = spec["device"]
    try:
        result = train(root, cfg, run=run, device=device, resume=spec["resume"], on_log=on_log)
    except IncompatibleRunError as err:
        if log is not None:
            log.warning(f"starting run {run!r} over: {err}")
        result = train(root, cfg, run=run, device=device, resume=False, on_log=on_log)
    last = result.last or {}
    metadata: dict[str, Any] = {
        "trained": True,
        "run": {"raw_value": str(result.run), "type": "path"},
        "checkpoint": {"raw_value": str(result.checkpoint), "type": "path"},
        "config": spec["config"],
        "steps": result.step,
        "parameters": result.n_params,
        "ranks": int(os.environ.get("WORLD_SIZE", "1")),
    }
    for key in ("loss", "tokens_per_s", "real_token_fraction", "tokens_seen"):
        if key in last:
            metadata[key] = last[key]
    return metadata


def main(argv: list[str] | None = None) -> None:
    spec = json.loads((sys.argv[1:] if argv is None else argv)[0])
    if int(os.environ.get("RANK", "0")) != 0:
        train_from_spec(spec, None)  # one channel back to the step: rank 0's
        return
    from dagster_pipes import open_dagster_pipes

    with open_dagster_pipes() as pipes:
        pipes.report_asset_materialization(metadata=train_from_spec(spec, pipes.log))


if __name__ == "__main__":
    main()
