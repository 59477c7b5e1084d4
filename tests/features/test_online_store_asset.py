"""The online_feature_store asset: the online tables published to the configured store (local SQLite or Redis),
read back through OnlineReader with the in-memory store's values, rerun without changing the store, and
checked against the tables (a tampered store fails the check).

Redis is a real TCP server on this machine (fakeredis's TcpFakeServer) reached by the real redis-py client."""

import json
import sqlite3
from dataclasses import replace

import dagster as dg
import polars as pl
import pytest

from featurestore.online import OnlineStore, materialize_online
from featurestore.online_open import open_backend
from featurestore.online_publish import content_tag, publish_online_tables, store_matches_tables
from featurestore.online_reader import OnlineReader
from featurestore.online_records import from_values, subject_values
from pipelines.defs.features.assets import online_feature_store, online_features
from pipelines.defs.features.checks import store_matches_online_features
from pipelines.defs.resources import LongitudeResource
from schemas.online_store import local_store_path
from tests.features.conftest import read_tiny_meds, write_root
from tests.features.helpers import at
from tests.features.test_online_store import redis_url  # noqa: F401 - the fixture: a Redis server per test

LATER = at(2030, 1, 1)
SUBJECTS = [1, 2, 3, 4, 5]


def _materialize(resource: LongitudeResource, shards=("0", "1")) -> dg.ExecuteInProcessResult:
    """online_features for each shard, then the store asset and its check (as `make demo` orders them)."""
    for shard in shards:
        assert dg.materialize([online_features], resources={"longitude": resource}, partition_key=shard).success
    return dg.materialize(
        [online_feature_store, store_matches_online_features],
        resources={"longitude": resource},
        raise_on_error=False,
    )


def _metadata(run: dg.ExecuteInProcessResult) -> dict:
    (event,) = run.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _store_dump(root) -> tuple:
    with sqlite3.connect(local_store_path(root)) as conn:
        return tuple(
            tuple(conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall())
            for t in ("versions", "current", "subjects")
        )


def _assert_serves_the_tables(reader: OnlineReader, root) -> None:
    memory = OnlineStore.open(root, "default")
    for sid in SUBJECTS:
        assert reader.lookup(sid, LATER) == memory.lookup(sid, LATER)
    assert reader.feature_names == memory.feature_names


@pytest.mark.slow  # Dagster runs: ~2-3 CPU s each
def test_the_asset_publishes_the_online_tables_to_the_local_store_and_a_rerun_changes_nothing(tiny_root):
    resource = LongitudeResource(root=str(tiny_root.root), n_shards=2)
    run = _materialize(resource)
    assert run.success
    (check,) = run.get_asset_check_evaluations()
    assert check.passed and check.metadata["rows_checked"].value == len(SUBJECTS)
    meta = _metadata(run)
    assert meta["dagster/row_count"] == len(SUBJECTS) and meta["store"] == "local" and meta["written"] is True
    text = json.dumps({k: str(v) for k, v in meta.items()})
    assert "2018-" not in text and "2019-" not in text and "2020-" not in text  # no event time in metadata
    backend = open_backend("local", tiny_root.root)
    _assert_serves_the_tables(OnlineReader(backend, "default"), tiny_root)
    before = _store_dump(tiny_root)

    again = dg.materialize(
        [online_feature_store, store_matches_online_features], resources={"longitude": resource}
    )
    assert again.success and _metadata(again)["written"] is False
    assert _metadata(again)["version"] == meta["version"]
    assert _store_dump(tiny_root) == before  # the same versions, pointer and bytes
    backend.close()


@pytest.mark.slow  # Dagster runs: ~2-3 CPU s each
def test_the_asset_publishes_to_redis_when_the_settings_name_it(tiny_root, redis_url):  # noqa: F811
    resource = LongitudeResource(root=str(tiny_root.root), n_shards=2, online_store="redis", redis_url=redis_url)
    run = _materialize(resource)
    assert run.success and all(c.passed for c in run.get_asset_check_evaluations())
    assert _metadata(run)["store"] == "redis"
    assert not local_store_path(tiny_root).exists()
    backend = open_backend("redis", redis_url=redis_url)
    _assert_serves_the_tables(OnlineReader(backend, "default"), tiny_root)
    backend.close()


def test_new_tables_flip_to_a_new_version_and_the_previous_one_is_kept_until_the_next(tiny_root):
    materialize_online(tiny_root, "default")
    backend = open_backend("local", tiny_root.root)
    first = publish_online_tables(tiny_root, backend)
    assert first.written and first.subjects == len(SUBJECTS) and first.version.endswith(content_tag(tiny_root))
    assert publish_online_tables(tiny_root, backend) == replace(first, written=False)  # a rerun: nothing written
    materialize_online(tiny_root, "all_codes")  # another spec: its own pointer, the default's untouched
    other = publish_online_tables(tiny_root, backend, "all_codes")
    assert other.written and backend.published("default")[0] == first.version
    assert store_matches_tables(tiny_root, backend).passed and store_matches_tables(
        tiny_root, backend, "all_codes"
    )
    backend.close()


@pytest.mark.slow  # Dagster runs: ~2-3 CPU s each
def test_the_check_fails_when_the_store_serves_other_rows(tiny_root):
    resource = LongitudeResource(root=str(tiny_root.root), n_shards=2)
    assert _materialize(resource).success
    backend = open_backend("local", tiny_root.root)
    snap = backend.get_many("default", SUBJECTS)
    sids, records = from_values(snap.values)
    records["count"][sids == 1] += 1  # one subject's state changed: same subjects, other rows
    version = backend.begin("default", backend.compiled("default", snap.version))
    backend.put_many("default", version, dict(subject_values(sids, records)))
    backend.publish("default", version, expected=len(SUBJECTS))
    result = store_matches_tables(tiny_root, backend)
    assert not result.passed and result.counts["mismatches"] == 1 and result.counts["stale_version"] == 1
    run = dg.materialize(
        [online_feature_store, store_matches_online_features],
        resources={"longitude": resource},
        selection=dg.AssetSelection.checks(store_matches_online_features),  # the check alone, on this store
        raise_on_error=False,
    )
    (check,) = run.get_asset_check_evaluations()
    assert not check.passed
    backend.close()


def test_an_unknown_store_setting_stops_the_asset_in_one_line(tiny_root):
    resource = LongitudeResource(root=str(tiny_root.root), n_shards=2, online_store="memcache")
    with pytest.raises(Exception, match="LONGITUDE_ONLINE_STORE='memcache' names no online store"):
        resource.online_backend()


def test_a_publish_that_fails_midway_leaves_the_previous_version_serving(tiny_root, tmp_path):
    from featurestore.online_sqlite import SqliteBackend

    class FailingAfterOnePut(SqliteBackend):
        def put_many(self, spec, version, values):
            super().put_many(spec, version, values)
            raise OSError("disk full")  # after some values of the new version were stored

    materialize_online(tiny_root, "default")
    path = tmp_path / "store.sqlite"
    first = publish_online_tables(tiny_root, SqliteBackend(path))
    materialize_online(
        write_root(tmp_path / "other", read_tiny_meds().filter(pl.col("subject_id") != 3), n_shards=2), "default"
    )
    failing = FailingAfterOnePut(path)
    with pytest.raises(OSError, match="disk full"):
        publish_online_tables(tmp_path / "other", failing)
    assert failing.published("default") == (first.version, len(SUBJECTS))
    with sqlite3.connect(path) as conn:  # the half-written version was discarded
        assert conn.execute("SELECT count(*) FROM versions").fetchone() == (1,)
    assert store_matches_tables(tiny_root, failing).passed


def test_the_code_location_publishes_the_store_after_every_shard_of_online_features():
    from pipelines.definitions import defs

    node = defs.resolve_asset_graph().get(dg.AssetKey("online_feature_store"))
    assert node.partitions_def is None and dg.AssetKey("online_features") in node.parent_keys
    specs = {spec.key: spec for c in defs.asset_checks for spec in c.check_specs}
    check = specs[dg.AssetCheckKey(dg.AssetKey("online_feature_store"), "store_matches_online_features")]
    assert check.blocking
