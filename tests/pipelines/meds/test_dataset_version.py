"""dataset.json's dataset_version names the data (a content hash) and the code (the git commit) that built it."""

import json
import subprocess

import polars as pl

from pipelines.defs.meds.metadata import write_dataset_metadata
from pipelines.defs.meds.version import code_commit
from schemas.io import write_parquet
from schemas.meds import DATA_SCHEMA
from tests.model.synthetic_meds import SyntheticSpec, write_synthetic_meds


def test_dataset_version_changes_with_the_data_and_not_with_the_day(tmp_path):
    layout = write_synthetic_meds(tmp_path, SyntheticSpec(n_subjects=6, n_shards=1, seed=2))
    first = write_dataset_metadata(layout)["dataset_version"]
    assert write_dataset_metadata(layout)["dataset_version"] == first, "same bytes, same version"
    assert json.loads(layout.meds_dataset_json.read_text())["dataset_version"] == first
    shard = next(layout.meds.glob("data/*/*.parquet"))
    rows = pl.read_parquet(shard)
    write_parquet(rows.head(rows.height - 1).to_arrow(), shard, DATA_SCHEMA)  # one event fewer
    changed = write_dataset_metadata(layout)["dataset_version"]
    assert changed != first and changed.split("+")[1] == first.split("+")[1], "only the data part moved"


def test_dataset_version_carries_the_commit_of_a_git_checkout(tmp_path):
    layout = write_synthetic_meds(tmp_path, SyntheticSpec(n_subjects=3, n_shards=1, seed=1))
    version = write_dataset_metadata(layout)["dataset_version"]
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        assert code_commit() is None and "+longitude-" in version
        return
    assert version.split("+")[1].removeprefix("code-").removesuffix("-dirty") == head.stdout.strip()
