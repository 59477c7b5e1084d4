"""Labels also in the MEDS `<split>/<shard>` layout that MEDS-Tab and meds-torch-data read beside meds/data."""

import polars as pl

from featurestore.labels import write_labels
from featurestore.tasks import load_task
from schemas.labels import label_path, split_label_path
from schemas.meds import SPLITS
from tests.features.conftest import write_root


def test_labels_by_split_hold_each_shards_rows_once_in_their_subjects_split(tmp_path, tiny_events):
    splits = {1: "held_out", 3: "tuning"}
    layout = write_root(tmp_path / "root", tiny_events, splits=splits, n_shards=2)
    task = load_task("mortality_1y")
    write_labels(layout, task)
    for shard in (0, 1):
        whole = pl.read_parquet(label_path(layout, task.name, shard))
        parts = []
        for split in SPLITS:
            path = split_label_path(layout, task.name, split, shard)
            assert path.exists() == layout.meds_shard(split, shard).exists(), "one label file per MEDS file"
            if path.exists():
                part = pl.read_parquet(path)
                assert all(splits.get(s, "train") == split for s in part["subject_id"].to_list())
                parts.append(part)
        assert pl.concat(parts).sort("subject_id", "prediction_time").equals(whole), "same rows, none twice"
    assert sum(pl.read_parquet(label_path(layout, task.name, k)).height for k in (0, 1)) > 0


def test_a_split_that_loses_its_subjects_loses_its_label_file(tmp_path, tiny_events):
    layout = write_root(tmp_path / "a", tiny_events, splits={1: "held_out"}, n_shards=1)
    task = load_task("mortality_1y")
    write_labels(layout, task)
    assert split_label_path(layout, task.name, "held_out", 0).exists()
    layout.meds_shard("held_out", 0).unlink()  # a rebuild where subject 1 is gone
    write_labels(layout, task)
    assert not split_label_path(layout, task.name, "held_out", 0).exists()
