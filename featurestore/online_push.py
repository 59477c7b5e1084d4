"""Materialize a spec's online state into a key-value store, one MEDS shard at a time, published as one version."""

from pathlib import Path

import polars as pl

from featurestore.offline import EVENT_COLUMNS, as_layout, compile_for_root, shard_files
from featurestore.online import state_table
from featurestore.online_backend import OnlineBackend
from featurestore.online_records import subject_values, to_records
from featurestore.spec import FeatureSpec
from schemas.layout import Layout

_PUT_BATCH = 5000  # subjects per put_many call


def push_online(
    root: str | Path | Layout, backend: OnlineBackend, spec: FeatureSpec | str | None = None
) -> dict[str, int]:
    """Write a new version of the spec's per-subject state into `backend`, shard by shard, then publish it.

    Memory holds one shard's events and state table at a time. Readers keep the previous version until the
    pointer flips; a failure before that discards the new version and leaves the published one serving.
    Returns subjects stored per shard.
    """
    layout = as_layout(root)
    cs = compile_for_root(layout, spec)
    name = cs.spec.name
    shards = sorted({int(p.stem) for p in shard_files(layout)})
    version = backend.begin(name, cs.to_json())
    counts: dict[str, int] = {}
    try:
        for shard in shards:
            events = pl.concat([pl.read_parquet(f, columns=EVENT_COLUMNS) for f in shard_files(layout, shard)])
            sids, records = to_records(state_table(events, cs))
            del events
            counts[str(shard)] = put_subjects(backend, name, version, sids, records)
        backend.publish(name, version, expected=sum(counts.values()))
    except BaseException:
        backend.discard(name, version)
        raise
    return counts


def put_subjects(backend: OnlineBackend, name: str, version: str, sids, records) -> int:
    """Put each subject's encoded state into the unpublished `version`, _PUT_BATCH subjects a call; returns
    the subjects put."""
    n, batch = 0, {}
    for sid, value in subject_values(sids, records):
        batch[sid] = value
        if len(batch) >= _PUT_BATCH:
            backend.put_many(name, version, batch)
            n, batch = n + len(batch), {}
    if batch:
        backend.put_many(name, version, batch)
        n += len(batch)
    return n
