"""The materialize plan: assets of one dependency level run in as few steps as their partitionings allow."""

import dagster as dg

from pipelines.materialize import plan

SHARDS = dg.StaticPartitionsDefinition(["0", "1"])


@dg.asset(partitions_def=SHARDS)
def events() -> None: ...


@dg.asset(partitions_def=SHARDS, deps=[events])
def a_features() -> None: ...


@dg.asset(deps=[events])
def b_store() -> None: ...


@dg.asset(partitions_def=SHARDS, deps=[events])
def c_trajectories() -> None: ...


def test_an_unpartitioned_asset_named_between_two_partitioned_ones_does_not_split_their_steps():
    steps = plan(dg.Definitions(assets=[events, a_features, b_store, c_trajectories]))
    labels = [([k.to_user_string() for k in s.keys], len(s.partition_keys)) for s in steps]
    assert labels == [(["events"], 2), (["a_features", "c_trajectories"], 2), (["b_store"], 1)]
    assert sum(n for _, n in labels) == 5  # shard steps run: 2 + 2 + 1, not 2 + 2 + 1 + 2
