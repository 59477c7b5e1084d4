"""`timeline_model`: the timeline transformer trained on every shard's train trajectories, under models/<run>/.

The training runs in a process of its own launched through Dagster Pipes (training_process), so neither
torch nor the tokens are loaded into the step process or the code location.
"""

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
    nproc_per_node: int = 1  # ranks on this machine: more than 1 trains under torchrun (DDP, or FSDP2)
    sharding: str = "ddp"  # several ranks: "ddp" or "fsdp"


@dg.asset(
    deps=[dg.AssetDep("trajectories", partition_mapping=ALL_SHARDS), dg.AssetDep("vocabulary")],
    group_name="model",
    kinds={"pytorch", "safetensors"},
)
def timeline_model(
    context: dg.AssetExecutionContext, config: TimelineModelConfig, longitude: LongitudeResource
) -> dg.MaterializeResult:
    """Decoder-only transformer over packed timelines: safetensors checkpoints, config, tokenizer, metrics."""
    from pipelines.defs.model.training_process import training_command

    root = Path(longitude.root).resolve()
    if not trajectory_shards(Layout(root).tokens, "train"):
        # No train subject (an empty root, or every subject in tuning/held_out): nothing to fit; said, not raised.
        context.log.warning("no train trajectories under tokens/: no model trained")
        return dg.MaterializeResult(metadata={"trained": False, "reason": "no train subjects"})
    spec = {"root": str(root), **config.model_dump(exclude={"nproc_per_node"})}
    # Its own process (a torchrun job with several ranks): the step only waits and relays logs and metadata.
    client = dg.PipesSubprocessClient()
    return client.run(
        command=training_command(spec, config.nproc_per_node), context=context
    ).get_materialize_result()
