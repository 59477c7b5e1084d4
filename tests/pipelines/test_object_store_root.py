"""`longitude materialize --root URL` through a local server of each object store (moto for s3://, fake-gcs-server
for gs://, Azurite for abfs://): the curated output of a local root, byte for byte, and nothing written under the
working directory or left in the temp dir; `quality` and `timeline` on an s3:// root publish to the bucket and
name its objects."""

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from schemas import publish_store as ps
from schemas.publish import MANIFEST, files_under
from schemas.store import ObjectStore
from schemas.store_lease import LEASE_KEY
from schemas.working_copy import LOCAL_ONLY, open_working_copy
from tests.conftest import TEST_SECRET
from tests.s3_server import TEST_AWS_ENV, list_keys, s3_server
from tests.store_servers import schemes, store_server

BUCKET = "hospital-extract"
URL = f"s3://{BUCKET}/longitude/root"
CURATED = ("meds", "notes", "imaging", "tokens", "features")
# What a night run builds short of training a model and the stewards' site (as tests/pipelines/test_crash_safety)
SELECT = ["*catalog", "*trajectories", "*online_features", "*features_readmission_30d", "*imaging_series",
          "*imaging_studies", "*imaging_fhir_links", "*notes_deidentified", "*meds_dataset_metadata"]  # fmt: skip
PATIENTS = 12  # the demo's generator: FHIR, notes, DICOM and tables for each
COMMON = ("--shards", "2", "--workers", "1", *(a for s in SELECT for a in ("--select", s)))


def _longitude(*args: str, cwd: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGITUDE_", "AWS_"))}
    env |= {"LONGITUDE_SECRET": TEST_SECRET.decode(), "COLUMNS": "300", **(env_extra or {})}
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)


def _normalized(rel: str, data: bytes) -> bytes:
    if rel.endswith("dataset.json"):  # its build time stamps differ between any two runs
        meta = json.loads(data)
        return json.dumps({k: v for k, v in meta.items() if k not in ("created_at", "dataset_version")}).encode()
    return data


def _single(rel: str, data: bytes) -> bytes:
    """A single file's bytes; a check result's verdicts only: its rows also say when and in which run they were
    checked, and how much (a first run builds the catalog before the features exist, a second one after)."""
    if rel.startswith("quality/checks/") and rel.endswith(".parquet"):
        rows = pq.read_table(io.BytesIO(data), columns=["check", "asset", "partition", "rule", "severity",
                                                         "passed", "failed"]).to_pylist()  # fmt: skip
        return json.dumps(rows).encode()
    return data


def _local_curated(root: Path) -> dict[str, str]:
    out = {}
    for top in CURATED:
        for path in files_under(root / top):
            rel = path.relative_to(root).as_posix()
            out[rel] = hashlib.sha256(_normalized(rel, path.read_bytes())).hexdigest()
    return out


def _store_curated(store: ObjectStore) -> dict[str, str]:
    """Read through the pointers, as any reader of the store would: never a listing."""
    out = {}
    for top in CURATED:
        for rel, key in ps.dataset_keys(store, top).items():
            out[f"{top}/{rel}"] = hashlib.sha256(_normalized(rel, store.read(key))).hexdigest()
    return out


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    from synthetic import generate_landing

    out = tmp_path_factory.mktemp("delivered") / "landing"
    generate_landing(out, PATIENTS, seed=0, workers=1)
    return out


@pytest.fixture(scope="module")
def local_root(tmp_path_factory, landing: Path) -> tuple[Path, dict[str, str]]:
    """The selection materialized on a local root (once per module), and its curated files' hashes."""
    local = tmp_path_factory.mktemp("reference") / "local"
    shutil.copytree(landing, local / "landing")
    run = _longitude("materialize", "--root", str(local), *COMMON, cwd=local.parent)
    assert run.returncode == 0, run.stderr[-3000:]
    expected = _local_curated(local)
    assert len(expected) > 20 and any(k.startswith("meds/data/") for k in expected)
    return local, expected


@contextmanager
def _served(scheme: str, url: str, tmp_path: Path, monkeypatch, landing: Path | None = None):
    """A local server of `scheme` with `landing` uploaded under `url`: yields the store, the CLI's environment
    (the client's variables and a cache of its own), and an empty working directory and temp dir."""
    with store_server(scheme, BUCKET) as client_env:
        for key, value in client_env.items():
            monkeypatch.setenv(key, value)
        store = ObjectStore(url)
        if landing is not None:
            files = {f"landing/{p.relative_to(landing).as_posix()}": p for p in landing.rglob("*") if p.is_file()}
            store.upload(files)
        cwd, temp = tmp_path / "cwd", tmp_path / "tmp"
        cwd.mkdir()
        temp.mkdir()
        yield store, {**client_env, "LONGITUDE_CACHE_DIR": str(tmp_path / "cache")}, cwd, temp


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(2400)
def test_an_s3_root_materializes_the_curated_output_of_a_local_root(
    tmp_path: Path, landing: Path, local_root, monkeypatch
):
    local, expected = local_root
    with _served("s3", URL, tmp_path, monkeypatch, landing) as (store, aws, cwd, temp):
        run = _longitude(
            "materialize", "--root", URL + "/", *COMMON, cwd=cwd, env_extra={**aws, "TMPDIR": str(temp)}
        )
        assert run.returncode == 0, run.stderr[-3000:]
        assert f"steps under {URL};" in run.stderr.replace("\n", "")
        assert list(cwd.iterdir()) == [] and list(temp.iterdir()) == []  # the working copy went with the run
        assert _store_curated(store) == expected

        # A second run starts from what the store publishes: meds_codes reads the MEDS data through its pointer.
        before, singles = ps.read_pointer(store, "meds"), len(ps.read_index(store).files)
        run = _longitude("materialize", "--root", URL, "--select", "meds_codes", cwd=cwd, env_extra=aws)
        assert run.returncode == 0, run.stderr[-3000:]
        # ... and downloads single files at most (those whose bytes the cache has not seen): every version the
        # first run pushed, and the landing it pulled, are in the cache
        pulled = re.search(r"Pulled .*?: (\d+) objects .*? downloaded, (\d+) ", run.stderr.replace("\n", " "))
        assert pulled and int(pulled[1]) <= singles and int(pulled[2]) > len(expected)
        after = ps.read_pointer(store, "meds")
        assert after.version != before.version and after.previous == before.version
        assert _store_curated(store) == expected

        # A command that reads the root (features) gets the same answer from the bucket as from the local root.
        task = ("features", "labels", "--task", "readmission_30d")
        for where, name in ((str(local), "local"), (URL, "s3")):
            run = _longitude(*task, "--root", where, "--out", str(tmp_path / f"labels_{name}.parquet"), cwd=cwd,
                             env_extra=aws)  # fmt: skip
            assert run.returncode == 0, run.stderr[-3000:]
            run = _longitude("features", "--root", where, "--labels", str(tmp_path / f"labels_{name}.parquet"),
                             "--out", str(tmp_path / f"features_{name}.parquet"), cwd=cwd, env_extra=aws)  # fmt: skip
            assert run.returncode == 0, run.stderr[-3000:]
        for made in ("labels", "features"):
            assert (tmp_path / f"{made}_s3.parquet").read_bytes() == (
                tmp_path / f"{made}_local.parquet"
            ).read_bytes()

        keys = list_keys(aws, BUCKET)
        assert all(k.startswith("longitude/root/") for k in keys)
        assert f"longitude/root/{LEASE_KEY}" not in keys  # every run released its lease (schemas.store_lease)
        assert "longitude/root/dagster" not in {
            k.rsplit("/", 1)[0] for k in keys
        }  # the run's instance stays local
        assert not any("/dagster/" in k or k.endswith((".staging", "catalog.duckdb")) for k in keys)
        assert list(cwd.iterdir()) == []


def _published(store: ObjectStore) -> tuple[ps.RootIndex, dict[str, ps.Pointer], dict[str, bytes]]:
    """The root's index, every dataset's pointer and every single file (normalized), as the store has them now."""
    index = ps.read_index(store)
    assert index is not None
    pointers = {d: p for d in index.datasets if (p := ps.read_pointer(store, d)) is not None}
    return index, pointers, {rel: _single(rel, store.read(rel) or b"") for rel in index.files}


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("scheme", schemes("gs", "abfs"))
def test_a_gcs_or_azure_root_materializes_the_curated_output_of_a_local_root_and_a_rerun_changes_nothing(
    tmp_path: Path, landing: Path, local_root, monkeypatch, scheme: str
):
    """The same run as on s3://, on fake-gcs-server and Azurite: the client libraries (gcsfs, adlfs) read their
    emulator from the standard variables (STORAGE_EMULATOR_HOST; AZURE_STORAGE_CONNECTION_STRING)."""
    _, expected = local_root
    url = f"{scheme}://{BUCKET}/longitude/root"
    with _served(scheme, url, tmp_path, monkeypatch, landing) as (store, env, cwd, temp):
        run = _longitude("materialize", "--root", url, *COMMON, cwd=cwd, env_extra={**env, "TMPDIR": str(temp)})
        assert run.returncode == 0, run.stderr[-3000:]
        said = run.stdout.replace("\n", "") + run.stderr.replace("\n", "")
        assert f"steps under {url};" in said and f"(stored in {url}/quality/checks)" in said
        assert "longitude-root-" not in said  # no path of the working copy, which goes with the process
        assert list(cwd.iterdir()) == [] and list(temp.iterdir()) == []
        assert _store_curated(store) == expected
        index, pointers, singles = _published(store)
        keys = store.list_objects("")
        assert LEASE_KEY not in keys and not any(k.startswith("dagster/") or k == "catalog.duckdb" for k in keys)

        # The same run again: the same bytes everywhere. The FHIR chunk is current, so it is neither parsed nor
        # gathered again; a step that runs again publishes a new version of the same files over the old one.
        run = _longitude("materialize", "--root", url, *COMMON, cwd=cwd, env_extra={**env, "TMPDIR": str(temp)})
        assert run.returncode == 0, run.stderr[-3000:]
        assert list(cwd.iterdir()) == [] and list(temp.iterdir()) == []
        assert _store_curated(store) == expected
        again, moved, singles_again = _published(store)
        assert set(again.files) == set(index.files) and singles_again == singles  # the same names and verdicts
        assert {d: p.version for d, p in moved.items() if d == "raw/fhir" or d.startswith("chunks/")} == {
            d: p.version for d, p in pointers.items() if d == "raw/fhir" or d.startswith("chunks/")
        }
        assert set(moved) == set(pointers)
        for dataset, pointer in moved.items():
            before = pointers[dataset]
            assert set(pointer.files) == set(before.files), dataset
            stamped = {rel for rel in before.files if rel.endswith("dataset.json")}  # its build time differs
            assert {r: h for r, h in pointer.sha256.items() if r not in stamped} == {
                r: h for r, h in before.sha256.items() if r not in stamped
            }, dataset
            if pointer.version != before.version:  # the version it replaced is kept whole (the protocol keeps two)
                manifest = store.read(ps.version_key(dataset, pointer.previous or "", MANIFEST))
                assert manifest is not None, dataset
                files = [f["path"] for f in json.loads(manifest)["files"]]
                assert None not in [store.read(ps.version_key(dataset, pointer.previous, f)) for f in files]
        assert LEASE_KEY not in store.list_objects("")


def _without_timings(html: bytes) -> list[bytes]:
    """The site's lines without when each check ran and how long the PHI audit took."""
    html = re.sub(rb"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC", b"", html)
    return re.sub(rb"\(\d+(\.\d+)? s\)", b"", html).splitlines()


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(1200)
def test_quality_and_timeline_on_an_s3_root_publish_to_the_bucket_and_print_its_objects(
    tmp_path: Path, local_root, monkeypatch
):
    """`quality --no-gx` and `timeline` on a URL write what they write on a local root, into a working copy
    that is pushed when they end: the same files land on the bucket, and what they print names the objects."""
    reference = tmp_path / "local"
    # what a bucket holds of a root: no run history, no catalog (its views name local paths; not uploaded)
    shutil.copytree(local_root[0], reference, symlinks=True, ignore=shutil.ignore_patterns(*LOCAL_ONLY))
    subject = pq.read_table(next(reference.glob("meds/data/train/*.parquet")), columns=["subject_id"])[0][0]
    url = f"s3://{BUCKET}/longitude/quality-root"  # moto keeps its buckets per process: a prefix of its own
    with _served("s3", url, tmp_path, monkeypatch) as (store, env, cwd, temp):
        env["TMPDIR"] = str(temp)
        # The bucket holds what the local root publishes (its datasets by pointer, single files, landing/),
        # pushed by a working copy as a run's steps push theirs.
        seed = open_working_copy(url, temp_dir=tmp_path, cache=None)
        assert seed.empty
        shutil.copytree(reference, seed.dir, symlinks=True, dirs_exist_ok=True)
        seed.push()
        seed.close()
        assert _store_curated(store) == local_root[1]

        runs = {}
        for where in (str(reference), url):
            runs[where] = [
                _longitude("timeline", str(subject), "--root", where, cwd=cwd, env_extra=env),
                _longitude("quality", "--no-gx", "--root", where, cwd=cwd, env_extra=env),
            ]
            assert list(cwd.iterdir()) == [] and list(temp.iterdir()) == []  # the copy went with each command
        for local, remote in zip(runs[str(reference)], runs[url], strict=True):
            assert remote.returncode == local.returncode, remote.stderr[-3000:]  # its verdict (the same root)
            assert "longitude-root-" not in remote.stdout + remote.stderr  # never the temp copy's path
            assert f"Published what this command wrote to {url}." in remote.stderr.replace("\n", "")
        timeline, quality = ((r.stdout + r.stderr).replace("\n", "") for r in runs[url])

        pages = reference / "quality" / "site" / "timelines"
        for suffix in ("html", "png"):
            rel = f"quality/site/timelines/{subject}.{suffix}"
            assert f"{url}/{rel}" in timeline
            assert store.read(rel) == (pages / f"{subject}.{suffix}").read_bytes()
        assert f"Site: {url}/quality/site/index.html" in quality and f"(stored in {url}/quality/checks)" in quality
        index = ps.read_index(store)
        written = {p.relative_to(reference).as_posix() for p in (reference / "quality").rglob("*") if p.is_file()}
        assert written <= set(index.files)  # everything the two commands wrote is on the bucket
        site = store.read("quality/site/index.html")
        assert _without_timings(site) == _without_timings((reference / "quality/site/index.html").read_bytes())
        assert {r: _single(r, store.read(r)) for r in written if r.startswith("quality/checks/")} == {
            r: _single(r, (reference / r).read_bytes()) for r in written if r.startswith("quality/checks/")
        }
        assert LEASE_KEY not in store.list_objects("")


@pytest.mark.slow  # a CLI subprocess each: ~2-3 s on 2 shared cores
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("materialize", "--root", "s3:/bucket/prefix"), "an s3 root is written s3://bucket/prefix"),
        (("materialize", "--root", "ftp://host/prefix"), "unsupported scheme ftp://"),
        (("rekey", "--root", "s3://bucket/prefix"), "`longitude rekey` needs a local root"),
        (
            ("materialize", "--root", "s3://bucket/p", "--executor", "k8s"),
            "Kubernetes cluster not reachable",  # k8s on an s3 root is supported now; no cluster here
        ),
    ],
)
def test_a_mistyped_or_unsupported_root_url_is_one_line_and_creates_nothing(tmp_path: Path, args, says):
    run = _longitude(*args, cwd=tmp_path, env_extra=TEST_AWS_ENV)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert says in run.stderr.replace("\n", " ")
    assert list(tmp_path.iterdir()) == []  # no folder named `s3:` or `ftp:`


@pytest.mark.slow
@pytest.mark.integration
def test_an_empty_bucket_prefix_is_not_a_root(tmp_path: Path):
    with s3_server(BUCKET) as aws:
        run = _longitude("materialize", "--root", f"s3://{BUCKET}/nothing-here", cwd=tmp_path, env_extra=aws)
        # moto's backends live in the process, shared by every server a test starts: look at this prefix only
        left = [k for k in list_keys(aws, BUCKET) if k.startswith("nothing-here/")]
    assert left == []  # its lease released after the refusal: nothing left at the prefix
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert f"s3://{BUCKET}/nothing-here holds no Longitude root" in run.stderr.replace("\n", " ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("root", "says"),
    [
        ("s3://bucket/prefix", "needs a local root"),
        ("s3:/bucket/prefix", "an s3 root is written s3://bucket/prefix"),
    ],
)
def test_the_code_location_refuses_a_url_root_instead_of_making_a_folder_named_s3(
    tmp_path, monkeypatch, root, says
):
    from pipelines.settings import SettingsError, resolve_root_values

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match=re.escape(says)):
        resolve_root_values(environ={"LONGITUDE_ROOT": root})
    assert list(tmp_path.iterdir()) == []
