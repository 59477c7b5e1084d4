"""`longitude materialize --root s3://bucket/prefix` through a local S3 API server (moto): the curated output of a
local root, byte for byte, and nothing written under the working directory or left in the temp dir."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from schemas import publish_store as ps
from schemas.publish import files_under
from schemas.store import ObjectStore
from schemas.store_lease import LEASE_KEY
from tests.conftest import TEST_SECRET
from tests.s3_server import TEST_AWS_ENV, list_keys, s3_server

BUCKET = "hospital-extract"
URL = f"s3://{BUCKET}/longitude/root"
CURATED = ("meds", "notes", "imaging", "tokens", "features")
# What a night run builds short of training a model and the stewards' site (as tests/pipelines/test_crash_safety)
SELECT = ["*catalog", "*trajectories", "*online_features", "*features_readmission_30d", "*imaging_series",
          "*imaging_studies", "*imaging_fhir_links", "*notes_deidentified", "*meds_dataset_metadata"]  # fmt: skip
PATIENTS = 12  # the demo's generator: FHIR, notes, DICOM and tables for each


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


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(2400)
def test_an_s3_root_materializes_the_curated_output_of_a_local_root(tmp_path: Path, landing: Path, monkeypatch):
    local = tmp_path / "local"
    shutil.copytree(landing, local / "landing")
    select = [a for s in SELECT for a in ("--select", s)]
    common = ("--shards", "2", "--workers", "1", *select)
    run = _longitude("materialize", "--root", str(local), *common, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    expected = _local_curated(local)
    assert len(expected) > 20 and any(k.startswith("meds/data/") for k in expected)

    with s3_server(BUCKET) as aws:
        for key, value in aws.items():
            monkeypatch.setenv(key, value)
        aws = {**aws, "LONGITUDE_CACHE_DIR": str(tmp_path / "cache")}
        store = ObjectStore(URL)
        store.upload(
            {f"landing/{p.relative_to(landing).as_posix()}": p for p in landing.rglob("*") if p.is_file()}
        )
        cwd, temp = tmp_path / "cwd", tmp_path / "tmp"
        cwd.mkdir()
        temp.mkdir()
        run = _longitude(
            "materialize", "--root", URL + "/", *common, cwd=cwd, env_extra={**aws, "TMPDIR": str(temp)}
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
