"""Partitions: shards "0" .. "N-1" for every per-shard asset, ingest chunks "c0" .. "cM-1" for the ingest map."""

import dagster as dg

from pipelines.defs.resources import chunk_count_from_env, shard_count_from_env
from schemas.layout import CHUNK_PREFIX  # chunk keys are not shard numbers: never grouped with a shard step

shard_partitions = dg.StaticPartitionsDefinition([str(i) for i in range(shard_count_from_env())])

ingest_chunk_partitions = dg.StaticPartitionsDefinition(
    [f"{CHUNK_PREFIX}{i}" for i in range(chunk_count_from_env())]
)


def chunk_of_key(key: str) -> int:
    """The chunk number of a chunk partition key.

    >>> chunk_of_key("c3")
    3
    """
    return int(key.removeprefix(CHUNK_PREFIX))


def after_every_chunk(asset: str) -> dg.AssetDep:
    """A dependency on every chunk of an ingest asset: a per-shard step reads what all chunks published."""
    return dg.AssetDep(asset, partition_mapping=dg.AllPartitionMapping())
