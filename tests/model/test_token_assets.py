"""The tokens stage in Dagster: vocabulary then trajectories for one shard, metadata without PHI."""

import json

import dagster as dg
import polars as pl
import pytest

from pipelines.defs.resources import LongitudeResource
from pipelines.defs.tokens.assets import trajectories, vocabulary
from schemas.tokens import trajectory_path
from tests.model.synthetic_meds import SyntheticSpec, write_synthetic_meds


@pytest.mark.integration
def test_vocabulary_and_trajectories_materialize_with_aggregate_metadata_only(tmp_path):
    layout = write_synthetic_meds(tmp_path, SyntheticSpec(n_subjects=30, n_shards=2, seed=3))
    resources = {"longitude": LongitudeResource(root=str(tmp_path), n_shards=2)}
    run_config = {"ops": {"vocabulary": {"config": {"min_count": 2, "n_value_bins": 5}}}}
    vocab_run = dg.materialize([vocabulary], resources=resources, run_config=run_config)
    assert vocab_run.success
    traj_run = dg.materialize([trajectories], resources=resources, partition_key="1")
    assert traj_run.success

    meds = pl.read_parquet(layout.meds_shard("held_out", 1))
    out = pl.read_parquet(trajectory_path(layout.tokens, "held_out", 1))
    assert out["subject_id"].to_list() == sorted(meds["subject_id"].unique().to_list())
    assert not trajectory_path(layout.tokens, "train", 0).exists(), "only the requested shard"

    meta = {}
    for run in (vocab_run, traj_run):
        for event in run.get_asset_materialization_events():
            meta.update(event.materialization.metadata)
    assert meta["vocab_size"].value > 0 and meta["n_value_bins"].value == 5
    assert meta["held_out/subjects"].value == meds["subject_id"].n_unique()
    assert "train/length_p50" in meta and "length_histogram" in meta
    text = json.dumps({k: str(v.value) for k, v in meta.items()})
    for sid in meds["subject_id"].unique().to_list():
        assert str(sid) not in text, "no subject id in metadata"
    for year in {t.year for t in meds["time"].drop_nulls().to_list()}:
        assert f"{year}-" not in text, "no dates in metadata"


def test_code_location_lists_the_tokens_assets():
    from pipelines.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"vocabulary", "trajectories"} <= keys
