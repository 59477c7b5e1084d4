"""The online key-value store: the local (SQLite) and Redis backends give the offline rows, publish atomically,
keep int64 ids exact, and serve from a restarted server without reloading anything.

Redis is a real TCP server on this machine (fakeredis's TcpFakeServer) reached by the real redis-py client."""

import json
import shutil
import threading
import urllib.request
from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from featurestore.offline import get_features
from featurestore.online import OnlineStore, materialize_online
from featurestore.online_backend import StoreError
from featurestore.online_open import open_backend
from featurestore.online_push import push_online
from featurestore.online_reader import OnlineReader
from featurestore.online_redis import RedisBackend
from featurestore.online_sqlite import SqliteBackend
from pipelines.cli import cli
from schemas.online_store import ONLINE_STORE_DIR, local_store_path
from tests.features.conftest import read_tiny_meds, write_root
from tests.features.helpers import at

LATER = at(2030, 1, 1)  # a fixed "as of": now would move the ages between two reads
BIG = {1: 2**62 + 1, 2: 2**53 + 1, 3: 2**62 + 2, 4: 2**63 - 25, 5: 2**63 - 26}


@pytest.fixture
def redis_url():
    """A Redis server of its own for each test, on a free local TCP port."""
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.server_address[1]}/0"
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["local", "redis"])
def backend(request, tmp_path):
    """A fresh store of each kind."""
    if request.param == "local":
        store = SqliteBackend(tmp_path / "store" / "features.sqlite")
    else:
        store = RedisBackend(request.getfixturevalue("redis_url"))
    yield store
    store.close()


def random_events(n_subjects: int, seed: int, shift: float = 0.0) -> pl.DataFrame:
    """A MEDS timeline: sex, birth, visits and a numeric lab per subject (lab values + shift)."""
    rng = np.random.default_rng(seed)
    rows = []
    for sid in range(1, n_subjects + 1):
        rows.append((sid, None, "GENDER//" + ("female" if sid % 2 else "male"), None))
        rows.append((sid, at(1940 + sid % 50, 1, 1), "MEDS_BIRTH", None))
        for day in sorted(rng.choice(3000, size=int(rng.integers(1, 12)), replace=False)):
            when = at(2012, 1, 1) + timedelta(days=int(day), hours=int(rng.integers(0, 24)))
            rows.append((sid, when, "ENCOUNTER//AMB", None))
            rows.append((sid, when + timedelta(hours=1), "LOINC//4548-4", float(rng.normal(6.5, 1.0)) + shift))
    frame = pl.DataFrame(
        rows,
        schema={"subject_id": pl.Int64, "time": pl.Datetime("us"), "code": pl.String, "numeric_value": pl.Float32},
        orient="row",
    )
    return frame.sort("subject_id", "time", nulls_last=False, maintain_order=True)


def _assert_frames_equal(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.columns == want.columns and got["subject_id"].to_list() == want["subject_id"].to_list()
    np.testing.assert_array_equal(
        got.drop("subject_id", "prediction_time", "label_index").to_numpy(),
        want.drop("subject_id", "prediction_time", "label_index").to_numpy(),
    )


def test_both_backends_give_the_offline_rows_for_the_same_subjects(backend, tiny_root, tmp_path):
    counts = push_online(tiny_root, backend, "all_codes")
    assert sum(counts.values()) == 5 and set(counts) == {"0", "1"}
    reader = OnlineReader(backend, "all_codes")
    labels = pl.DataFrame(
        {
            "subject_id": [5, 1, 5, 99, 4, 2],
            "prediction_time": [
                at(2018, 7, 1, 0, 0, 1),
                at(2020, 1, 22, 12),
                at(2018, 7, 1),  # exactly at a lab result: not usable
                at(2020, 1, 1),  # a subject the store does not hold
                at(2019, 9, 1, 8),
                at(2030, 1, 1),
            ],
        },
        schema={"subject_id": pl.Int64, "prediction_time": pl.Datetime("us")},
    )
    offline = get_features(tiny_root, labels, "all_codes").sort("label_index")
    assert reader.feature_names == tuple(c for c in offline.columns if "/" in c)
    for row in offline.iter_rows(named=True):
        want = np.array([np.nan if row[n] is None else row[n] for n in reader.feature_names], np.float32)
        np.testing.assert_array_equal(reader.vector(row["subject_id"], row["prediction_time"]), want)
    wide = reader.get(labels["subject_id"].to_list(), labels["prediction_time"].to_list())
    _assert_frames_equal(wide, offline.drop("label_index").with_row_index("label_index"))
    materialize_online(tiny_root, "all_codes")
    memory = OnlineStore.open(tiny_root, "all_codes")
    assert reader.lookup(5, at(2030, 1, 1)) == memory.lookup(5, at(2030, 1, 1))
    assert reader.lookup(5)["LOINC//4548-4/all/count"] == 4  # as of now


def test_a_larger_root_matches_the_in_memory_store_subject_for_subject(backend, tmp_path):
    layout = write_root(tmp_path / "root", random_events(120, seed=7), n_shards=3)
    push_online(layout, backend, "all_codes")
    materialize_online(layout, "all_codes")
    memory = OnlineStore.open(layout, "all_codes")
    reader = OnlineReader(backend, "all_codes")
    ids = list(range(1, 121))
    for when in (at(2013, 6, 1), at(2016, 1, 1), None):
        _assert_frames_equal(reader.get(ids, when), memory.get(ids, when))


def test_ids_above_2_53_stay_exact_in_both_backends(backend, tmp_path):
    events = read_tiny_meds().with_columns(pl.col("subject_id").replace_strict(BIG, return_dtype=pl.Int64))
    layout = write_root(tmp_path / "root", events, n_shards=2)
    push_online(layout, backend, "all_codes")
    reader = OnlineReader(backend, "all_codes")
    ids = sorted(BIG.values())
    wide = reader.get(ids, at(2021, 1, 1))
    assert wide["subject_id"].dtype == pl.Int64 and wide["subject_id"].to_list() == ids
    one, three = reader.vector(BIG[1], at(2021, 1, 1)), reader.vector(BIG[3], at(2021, 1, 1))
    assert not np.array_equal(one, three, equal_nan=True), "float-equal ids, two subjects, two vectors"
    assert set(backend.get_many("all_codes", ids).values) == set(ids)


def test_a_new_version_is_invisible_until_its_pointer_flips(backend, tmp_path):
    old = write_root(tmp_path / "old", random_events(40, seed=1), n_shards=2)
    new = write_root(tmp_path / "new", random_events(40, seed=1, shift=100.0), n_shards=2)
    push_online(old, backend, "all_codes")
    reader = OnlineReader(backend, "all_codes")
    ids = list(range(1, 41))
    before = reader.get(ids, LATER)
    # Half of a new version's values written, not published: readers still get the old version whole.
    from featurestore.offline import EVENT_COLUMNS, compile_for_root, shard_files
    from featurestore.online import state_table
    from featurestore.online_records import subject_values, to_records

    cs = compile_for_root(new, "all_codes")
    version = backend.begin("all_codes", cs.to_json())
    events = pl.concat([pl.read_parquet(p, columns=EVENT_COLUMNS) for p in shard_files(new, 0)])
    values = dict(subject_values(*to_records(state_table(events, cs))))
    backend.put_many("all_codes", version, values)
    _assert_frames_equal(reader.get(ids, LATER), before)
    with pytest.raises(StoreError, match="expected"):  # a version missing subjects is never published
        backend.publish("all_codes", version, expected=len(values) + 1)
    backend.discard("all_codes", version)
    _assert_frames_equal(reader.get(ids, LATER), before)
    push_online(new, backend, "all_codes")
    after = reader.get(ids, LATER)
    assert after["LOINC//4548-4/all/max"].min() > 50 > before["LOINC//4548-4/all/max"].max()


@pytest.mark.slow  # threads through six publishes (~1.5 s a store); the deterministic test above stays fast
def test_readers_never_see_a_mix_of_versions_while_versions_flip(backend, tmp_path):
    roots = [
        write_root(tmp_path / f"r{i}", random_events(30, seed=3, shift=100.0 * i), n_shards=2) for i in range(2)
    ]
    ids = list(range(1, 31))
    push_online(roots[0], backend, "all_codes")
    reader = OnlineReader(backend, "all_codes")
    want = [reader.get(ids, LATER)]
    push_online(roots[1], backend, "all_codes")
    want.append(reader.get(ids, LATER))
    stop, seen, bad = threading.Event(), [0, 0], []

    def read() -> None:
        while not stop.is_set():
            got = reader.get(ids, LATER)
            maxima = got["LOINC//4548-4/all/max"]
            which = int(maxima[0] > 50)
            if (maxima > 50).any() != (maxima > 50).all():
                bad.append("mixed")
            try:
                _assert_frames_equal(got, want[which])
                seen[which] += 1
            except AssertionError:
                bad.append("differs")

    def read_safely() -> None:
        try:
            read()
        except Exception as err:  # a failed read is a failure of the test, not a silent thread death
            bad.append(repr(err))

    threads = [threading.Thread(target=read_safely) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(6):  # each push: new values shard by shard, then the flip; old versions dropped
            push_online(roots[i % 2], backend, "all_codes")
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not bad, bad[:3]
    assert all(seen), f"reads of each version: {seen}"  # the readers did run across flips
    _assert_frames_equal(reader.get(ids, LATER), want[1])


def test_a_redis_reader_whose_version_is_dropped_mid_read_reads_the_pointer_again(redis_url, tmp_path):
    backend = RedisBackend(redis_url)
    roots = [write_root(tmp_path / f"r{i}", random_events(10, seed=5, shift=100.0 * i)) for i in range(2)]
    push_online(roots[0], backend, "all_codes")
    stale = backend.client.get(f"{backend.prefix}:all_codes:current")
    push_online(roots[1], backend, "all_codes")
    push_online(roots[0], backend, "all_codes")  # the first version is dropped now
    real_get, calls = backend.client.get, []

    def pointer_then_stale(key):  # the first pointer read saw the dropped version
        calls.append(key)
        return stale if len(calls) == 1 else real_get(key)

    backend.client.get = pointer_then_stale
    snap = backend.get_many("all_codes", list(range(1, 11)))
    backend.client.get = real_get
    assert len(calls) == 2 and snap.version != stale.decode() and len(snap.values) == 10


def _serve(reader):
    from featurestore.serve import make_server

    server = make_server(reader, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _fetch(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_a_restarted_server_answers_at_once_from_the_store_with_the_root_gone(kind, tiny_root, request):
    url = request.getfixturevalue("redis_url") if kind == "redis" else None
    push_online(tiny_root, open_backend(kind, tiny_root.root, url), "all_codes")
    materialize_online(tiny_root, "all_codes")
    want = OnlineStore.open(tiny_root, "all_codes").lookup(5, at(2018, 7, 1, 0, 0, 1))
    for entry in tiny_root.root.iterdir():  # nothing left to load: only the store answers
        if entry.name != ONLINE_STORE_DIR:
            entry.unlink() if entry.is_symlink() or entry.is_file() else shutil.rmtree(entry)
    assert [p.name for p in tiny_root.root.iterdir()] == ([ONLINE_STORE_DIR] if kind == "local" else [])
    for _ in range(2):  # start, stop, start again: the second start reloads nothing
        backend = open_backend(kind, tiny_root.root, url)
        server, base = _serve(OnlineReader(backend, "all_codes"))
        try:
            body = _fetch(f"{base}/features/5?as_of=2018-07-01T00:00:01")
            everything = _fetch(f"{base}/features/5?as_of=2018-07-01T00:00:01&all=1")
        finally:
            server.shutdown()
            server.server_close()
            backend.close()
        assert body["features"] == want and body["features"]["LOINC//4548-4/all/last"] == pytest.approx(7.2)
        assert len(everything["features"]) > len(body["features"])
    if kind == "local":
        assert local_store_path(tiny_root).exists()


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_cli_materializes_into_the_store_and_prints_the_in_memory_answer(kind, tiny_root, request):
    store_args = ["--online-store", kind]
    if kind == "redis":
        store_args += ["--redis-url", request.getfixturevalue("redis_url")]
    common = ["features", "online", "--root", str(tiny_root.root), "--spec", "all_codes"]
    when = ["5", "1", "--as-of", "2020-01-22T12:00:00"]
    memory = CliRunner().invoke(cli, [*common, "--materialize", *when])
    assert memory.exit_code == 0, memory.output
    pushed = CliRunner().invoke(cli, [*common, *store_args, "--materialize"])
    assert pushed.exit_code == 0, pushed.output
    assert "5 subjects" in pushed.output
    stored = CliRunner().invoke(cli, [*common, *store_args, *when])
    assert stored.exit_code == 0, stored.output

    def payload(run):
        return json.loads(run.stdout[run.stdout.index("{") :])

    assert payload(stored) == payload(memory) and payload(stored)["5"]


def test_an_unreachable_redis_is_one_line_without_the_password(tiny_root):
    with pytest.raises(StoreError) as err:
        RedisBackend("redis://user:hunter2secret@127.0.0.1:1/0")
    assert "127.0.0.1:1" in str(err.value) and "hunter2secret" not in str(err.value)
    run = CliRunner().invoke(
        cli,
        [
            "features",
            "online",
            "--root",
            str(tiny_root.root),
            "--online-store",
            "redis",
            "--redis-url",
            "redis://:hunter2secret@127.0.0.1:1/0",
            "5",
        ],
    )
    assert run.exit_code != 0 and "not reachable" in run.output and "hunter2secret" not in run.output


def test_push_holds_one_shard_at_a_time(backend, tmp_path, monkeypatch):
    import featurestore.online_push as push

    layout = write_root(tmp_path / "root", random_events(30, seed=2), n_shards=3)
    seen: list[set[int]] = []
    real = push.state_table

    def recording(events, cs):
        seen.append(set(events["subject_id"].to_list()))
        return real(events, cs)

    monkeypatch.setattr(push, "state_table", recording)
    counts = push_online(layout, backend, "all_codes")
    assert seen == [{s for s in range(1, 31) if s % 3 == k} for k in range(3)]
    assert counts == {str(k): 10 for k in range(3)}


def test_two_server_replicas_on_one_redis_serve_a_new_version_without_restarting(redis_url, tmp_path):
    roots = [write_root(tmp_path / f"r{i}", random_events(8, seed=4, shift=100.0 * i)) for i in range(2)]
    push_online(roots[0], RedisBackend(redis_url), "all_codes")
    replicas = [_serve(OnlineReader(RedisBackend(redis_url), "all_codes")) for _ in range(2)]
    try:
        path = "/features/3?as_of=2030-01-01T00:00:00"
        first = [_fetch(base + path)["features"] for _, base in replicas]
        push_online(roots[1], RedisBackend(redis_url), "all_codes")
        second = [_fetch(base + path)["features"] for _, base in replicas]
    finally:
        for server, _ in replicas:
            server.shutdown()
            server.server_close()
    assert first[0] == first[1] and second[0] == second[1]
    assert first[0]["LOINC//4548-4/all/max"] < 50 < second[0]["LOINC//4548-4/all/max"]
