"""Shard partitions shared by every per-shard asset: "0" .. "N-1"."""

import dagster as dg

from pipelines.defs.resources import shard_count_from_env

shard_partitions = dg.StaticPartitionsDefinition([str(i) for i in range(shard_count_from_env())])
