"""Subject ids stay int64 end to end: ids above 2^53 that float64 would merge stay distinct everywhere.

2^62 + 1 and 2^62 + 2 are the same float64 (2^62): any stage that passes ids through a float merges these two
subjects or changes their ids, and every check below fails.
"""

import numpy as np
import polars as pl

from featurestore.labels import write_labels
from featurestore.offline import get_features
from featurestore.online import OnlineStore, materialize_online
from featurestore.tasks import load_task
from model.probe import Trajectories, read_label_table
from model.tokenizer import TokenizerConfig, fit_vocabulary, tokenize_shard
from schemas.labels import labels_dir, split_labels_dir
from schemas.meds import SPLITS
from schemas.tokens import trajectory_shards
from tests.features.conftest import read_tiny_meds, write_root

# Subjects 1 and 3 both get mortality labels in the tiny timeline; they become float-equal ids.
BIG = {1: 2**62 + 1, 2: 2**53 + 1, 3: 2**62 + 2, 4: 2**63 - 25, 5: 2**63 - 26}
SPLIT_OF = {BIG[3]: "held_out", BIG[4]: "tuning"}


def _root(tmp_path):
    events = read_tiny_meds().with_columns(pl.col("subject_id").replace_strict(BIG, return_dtype=pl.Int64))
    assert float(BIG[1]) == float(BIG[3]), "the fixture must hold ids that float64 cannot tell apart"
    return write_root(tmp_path / "root", events, splits=SPLIT_OF, n_shards=2), set(BIG.values())


def test_labels_features_tokens_probe_and_online_store_keep_every_id_exact(tmp_path):
    layout, ids = _root(tmp_path)
    task = load_task("mortality_1y")
    write_labels(layout, task)
    labels, _ = read_label_table(labels_dir(layout, task.name))
    assert labels["subject_id"].dtype == pl.Int64 and set(labels["subject_id"].to_list()) <= ids
    assert {BIG[1], BIG[3]} <= set(labels["subject_id"].to_list()), "both float-equal subjects get labels"
    by_split = pl.read_parquet(sorted(split_labels_dir(layout, task.name).glob("*/*.parquet")))
    assert sorted(by_split["subject_id"].to_list()) == sorted(labels["subject_id"].to_list())

    features = get_features(layout, labels, "all_codes")
    assert features.sort("label_index")["subject_id"].to_list() == labels["subject_id"].to_list()

    tok = fit_vocabulary(layout, TokenizerConfig(min_count=1))
    for shard in (0, 1):
        tokenize_shard(layout, tok, shard)
    tokenized = pl.concat(
        [
            pl.read_parquet(p, columns=["subject_id"])
            for s in SPLITS
            for _, p in trajectory_shards(layout.tokens, s)
        ]
    )
    assert tokenized["subject_id"].dtype == pl.Int64 and set(tokenized["subject_id"].to_list()) == ids
    traj = Trajectories.load(layout.root)
    wanted = np.array(sorted(ids), np.int64)
    rows = traj.index_of(wanted)
    assert (rows >= 0).all() and (traj.subject_ids[rows] == wanted).all()

    materialize_online(layout, "all_codes")
    store = OnlineStore.open(layout, "all_codes")
    as_of = labels["prediction_time"].max()
    online = store.get(sorted(ids), as_of)
    assert online["subject_id"].to_list() == sorted(ids)
    one, two = store.vector(BIG[1], as_of), store.vector(BIG[3], as_of)
    assert not np.array_equal(one, two, equal_nan=True), "two subjects, two feature vectors"
