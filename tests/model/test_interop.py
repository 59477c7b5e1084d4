"""Our MEDS output read by the real MEDS tools: meds_reader, meds-torch-data, MEDS-Tab and ACES.

The tools pin polars<2, which conflicts with ours, so they live in their own venv, bench/.venv-interop, built by
`make interop` from the pins in bench/interop-requirements.txt. Without it these tests skip and say so.
"""

import json
import subprocess
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from featurestore.labels import write_labels
from featurestore.tasks import load_task
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds.build import build_shard
from pipelines.defs.meds.metadata import write_codes, write_dataset_metadata, write_subject_splits
from schemas.labels import split_labels_dir
from schemas.layout import Layout
from synthetic import generate_landing
from tests.conftest import TEST_SECRET
from tests.model.synthetic_meds import SyntheticSpec, write_synthetic_meds

REPO = Path(__file__).resolve().parents[2]
INTEROP_PY = REPO / "bench" / ".venv-interop" / "bin" / "python"
PEER = Path(__file__).with_name("interop_peer.py")
TASK = "mortality_1y"
SHARDS = 2


def _need_interop() -> None:
    if not INTEROP_PY.exists():
        pytest.skip(
            "bench/.venv-interop is absent: `make interop` installs meds_reader, meds-torch-data, MEDS-Tab, ACES"
        )


def build_meds_root(root: Path, patients: int = 16, seed: int = 4) -> Layout:
    """Generated FHIR patients through ingest, the MEDS build, metadata and one task's labels (the assets' code)."""
    layout = Layout(root)
    keys = Keyring(TEST_SECRET)
    generate_landing(layout.landing, patients, seed, workers=1)
    ingest_fhir(layout, keys, SHARDS)
    for shard in range(SHARDS):
        build_shard(layout, keys, shard, (0.6, 0.2, 0.2))
    write_codes(layout)
    write_subject_splits(layout)
    write_dataset_metadata(layout)
    write_labels(layout, load_task(TASK))
    return layout


@pytest.mark.slow
@pytest.mark.integration
def test_meds_tools_read_every_event_subject_and_label_of_our_output(tmp_path):
    _need_interop()
    layout = build_meds_root(tmp_path / "root")
    data = pl.read_parquet(sorted(layout.meds.glob("data/*/*.parquet")))
    splits = pl.read_parquet(layout.meds_subject_splits)
    labels = pl.read_parquet(sorted(split_labels_dir(layout, TASK).glob("*/*.parquet")))
    assert labels.height > 0, "the task has labels to hand over"
    done = subprocess.run([str(INTEROP_PY), str(PEER), str(layout.root), str(tmp_path / "work"), TASK],
                          capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])

    reader = got["meds_reader"]
    assert reader["events"] == data.height and reader["numeric"] == data["numeric_value"].is_not_null().sum()
    ids = sorted(data["subject_id"].unique().to_list())
    assert reader["subjects"] == ids, "every subject id exactly, ids above 2^53 included"
    assert max(ids) > 2**53

    train = sorted(splits.filter(pl.col("split") == "train")["subject_id"].to_list())
    mtd = got["meds_torch_data"]
    assert sorted(set(mtd["plain"]["subject_ids"])) == train and mtd["plain"]["rows"] > 0
    train_labels = labels.join(splits.filter(pl.col("split") == "train"), on="subject_id")
    assert mtd["task"]["rows"] == train_labels.height, "one sample per train label row"
    assert set(mtd["task"]["subject_ids"]) == set(train_labels["subject_id"].to_list())

    answers = data.filter(pl.col("code").str.contains(r"^LOINC//72166-2//SNOMED//[0-9]+$"))
    expected = sorted([s, str(t)] for s, t in answers.select("subject_id", "time").unique().iter_rows())
    assert expected and got["aces"]["rows"] == expected, "ACES selects coded answers by their companion codes"

    tab = got["meds_tab"]
    assert tab["static_first_files"] > 0 and tab["static_first_nnz"] > 0, "static/first has values to aggregate"
    assert tab["task_rows"] == labels.height, "MEDS-Tab cached one row per label, every split"


@pytest.mark.slow
@pytest.mark.integration
def test_meds_reader_reads_every_event_of_a_synthetic_meds_root(tmp_path):
    _need_interop()
    write_synthetic_meds(tmp_path / "root", SyntheticSpec(n_subjects=20, seed=11))
    cmd = [str(INTEROP_PY), str(REPO / "bench" / "tokens.py"), "--peer", "--reader-only", "--out", str(tmp_path)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["meds_reader_ok"], result
    assert result["meds_reader_events"] > 0
