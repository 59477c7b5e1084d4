"""Roots as URLs and the object-store publish backend, against a local S3 API server (moto in server mode)."""

import tempfile
from pathlib import Path

import pytest

from schemas import publish as pub
from schemas import publish_store as ps
from schemas.layout import Layout
from schemas.store import ObjectStore, RootError, parse_root
from schemas.working_copy import open_working_copy
from tests.s3_server import list_keys

BUCKET = "longitude-test"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("s3://bucket/a/b/", "s3://bucket/a/b"),
        ("s3://bucket", "s3://bucket"),
        ("gs://bucket//x", "gs://bucket/x"),
        ("abfs://container@account.dfs.core.windows.net/p", "abfs://container@account.dfs.core.windows.net/p"),
        ("file:///data/root", Path("/data/root")),
        ("/data/root", Path("/data/root")),
    ],
)
def test_a_root_is_a_local_path_or_a_normalized_url(text: str, parsed):
    assert parse_root(text) == parsed


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("s3:/bucket/prefix", "written s3://bucket/prefix"),
        ("s3:bucket", "written s3://bucket/prefix"),
        ("GS:/bucket", "written gs://bucket/prefix"),
        ("ftp://host/x", "unsupported scheme ftp://"),
        ("s3://", "no bucket name"),
        ("s3:///prefix", "no bucket name"),
        ("s3://bucket/../other", "'.' and '..'"),
    ],
)
def test_a_mistyped_or_unsupported_root_url_is_refused_in_one_line(text: str, says: str):
    with pytest.raises(RootError) as err:
        parse_root(text)
    assert says in str(err.value) and "\n" not in str(err.value)


def _version(tmp_path: Path, files: dict[str, str]) -> Path:
    final = tmp_path / "local" / "meds"
    with pub.publishing(final) as stage:
        for rel, text in files.items():
            stage.path(rel).parent.mkdir(parents=True, exist_ok=True)
            stage.path(rel).write_text(text)
    return pub.current_version(final)


def _read(store: ObjectStore, dataset: str) -> dict[str, bytes]:
    return {rel: store.read(key) for rel, key in ps.dataset_keys(store, dataset).items()}


@pytest.mark.slow  # moto's server and an S3 client per test: ~4 s on 2 shared cores
def test_readers_see_the_pointed_version_whole_and_old_versions_are_collected(tmp_path, store, s3_env):
    assert ps.read_pointer(store, "meds") is None and _read(store, "meds") == {}
    v1 = _version(tmp_path, {"data/train/0.parquet": "one", "metadata/codes.parquet": "c"})
    p1 = ps.publish_version(store, "meds", v1, None)
    assert _read(store, "meds") == {"data/train/0.parquet": b"one", "metadata/codes.parquet": b"c"}
    # a writer that died after uploading its files but before the pointer: nothing of it is read
    store.write(ps.version_key("meds", "v-crashed", "data/train/0.parquet"), b"half")
    assert _read(store, "meds")["data/train/0.parquet"] == b"one"
    v2 = _version(tmp_path, {"data/train/0.parquet": "two"})
    p2 = ps.publish_version(store, "meds", v2, p1)
    assert _read(store, "meds") == {"data/train/0.parquet": b"two"}
    assert ps.read_pointer(store, "meds") == ps.Pointer(v2.name, v1.name, {"data/train/0.parquet": 3})
    v3 = _version(tmp_path, {"data/train/0.parquet": "three"})
    ps.publish_version(store, "meds", v3, p2)
    prefix = store.url.removeprefix(f"s3://{BUCKET}/") + "/"
    keys = [k.removeprefix(prefix) for k in list_keys(s3_env, BUCKET) if k.startswith(prefix)]
    # the previous version stays for a reader that resolved the pointer a moment ago; the one before is gone
    assert not [k for k in keys if f"/{v1.name}/" in k]
    assert f".meds.versions/{v2.name}/data/train/0.parquet" in keys
    assert f".meds.versions/{v3.name}/_manifest.json" in keys and "meds.pointer.json" in keys


@pytest.mark.slow  # moto's server and an S3 client per test: ~4 s on 2 shared cores
def test_a_pointer_that_is_not_ours_is_named_not_trusted(store):
    store.write(ps.pointer_key("notes"), b'{"format": "something-else"}')
    with pytest.raises(ps.PointerError, match=r"notes\.pointer\.json: not a longitude-pointer/1 pointer"):
        ps.read_pointer(store, "notes")


@pytest.mark.slow  # moto's server and an S3 client per test: ~4 s on 2 shared cores
def test_a_working_copy_round_trips_datasets_single_files_and_landing(store, monkeypatch):
    listed: list[str] = []
    real_list = ObjectStore.list_objects
    monkeypatch.setattr(
        ObjectStore, "list_objects", lambda self, prefix: listed.append(prefix) or real_list(self, prefix)
    )
    first = open_working_copy(store.url)
    assert first.empty and Path(first.dir).parent == Path(tempfile.gettempdir())
    assert Layout(first.dir).store_url == store.url and Layout(Path("/data")).store_url is None
    (first.dir / "landing" / "fhir").mkdir(parents=True)
    (first.dir / "landing" / "fhir" / "p1.json").write_text("{}")
    (first.dir / "longitude.json").write_text('{"n_shards": 2}')
    with pub.publishing(first.dir / "raw" / "fhir") as stage:
        for rel, text in {
            "events/shard=0/part-0.parquet": "events",
            "patients/shard=0/part-0.parquet": "p",
        }.items():
            stage.path(rel).parent.mkdir(parents=True)
            stage.path(rel).write_text(text)
    assert first.push() == 3  # the dataset, longitude.json, the landing file
    assert first.push() == 0  # nothing changed since
    first.close()
    assert not first.dir.exists()

    second = open_working_copy(store.url)
    raw = second.dir / "raw" / "fhir"
    assert raw.is_symlink() and [p.read_text() for p in pub.dataset_files(raw)] == ["events", "p"]
    assert (second.dir / "landing" / "fhir" / "p1.json").read_text() == "{}"
    assert (second.dir / "longitude.json").read_text() == '{"n_shards": 2}'
    with pub.publishing(raw, keep_except=["events/**"]) as stage:  # a rerun amends events; a file goes away
        stage.path("events/shard=0/part-0.parquet").parent.mkdir(parents=True)
        stage.path("events/shard=0/part-0.parquet").write_text("events v2")
    (second.dir / "longitude.json").unlink()
    uploaded: list[str] = []
    real_upload = ObjectStore.upload
    monkeypatch.setattr(
        ObjectStore, "upload", lambda self, files: uploaded.extend(files) or real_upload(self, files)
    )
    assert second.push() == 2
    # the amend's kept file (a hard link to the previous version's) is copied inside the store, not uploaded
    assert [k.split("/", 3)[-1] for k in uploaded if "part-0" in k] == ["events/shard=0/part-0.parquet"]
    second.close()

    third = open_working_copy(store.url)
    assert [p.read_text() for p in pub.dataset_files(third.dir / "raw" / "fhir")] == ["events v2", "p"]
    assert not (third.dir / "longitude.json").exists()
    assert ps.read_index(store) == ps.RootIndex(("raw/fhir",), {})
    third.close()
    assert set(listed) == {"landing"}  # published data is found by pointers, never by listing
