"""Fit the tokenizer on a MEDS root's train split and write trajectories per split and shard under tokens/."""

import numpy as np
import polars as pl
import pyarrow as pa

from model.tokenizer.encode import tokenize_events
from model.tokenizer.vocab import UNK, VALUE_UNK, Tokenizer, TokenizerConfig, fit_tokenizer
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.meds import DATA_SCHEMA, SPLITS, TRAIN
from schemas.publish import dataset_files, publishing
from schemas.tokens import TRAJECTORIES_DIR, TRAJECTORY_SCHEMA, trajectory_path


def fit_vocabulary(layout: Layout, config: TokenizerConfig | None = None) -> Tokenizer:
    """Fit on meds/data/train/*.parquet only and save vocabulary, value bins and config under tokens/.

    A root with no train subject (empty, or every subject in another split) gets the structural tokens only:
    every code of the other splits then reads as UNK, and the run goes on.
    """
    train_files = dataset_files(layout.meds, f"data/{TRAIN}/*.parquet")
    train = pl.scan_parquet([str(p) for p in train_files]) if train_files else _empty_meds().lazy()
    tok = fit_tokenizer(train, config)
    # The vocabulary files are published together; trajectories stay until their shards are retokenized.
    with publishing(layout.tokens, keep_except=["*"]) as stage:  # "*": every top-level file, not trajectories/
        tok.save(stage.dir)
    return tok


def _empty_meds() -> pl.DataFrame:
    return pl.from_arrow(DATA_SCHEMA.empty_table())  # type: ignore[return-value]


def tokenize_shard(layout: Layout, tok: Tokenizer, shard: int) -> dict[str, dict]:
    """Tokenize shard `shard` of every split that has it; returns per-split summary stats (no PHI)."""
    stats = {}
    sources = {p.parent.name: p for p in dataset_files(layout.meds, f"data/*/{shard}.parquet")}
    # This shard's trajectories in every split are published at once (a split it left loses its file).
    with publishing(layout.tokens, keep_except=[f"{TRAJECTORIES_DIR}/*/{shard}.parquet"]) as stage:
        for split in SPLITS:
            if split not in sources:
                continue
            table = tokenize_events(tok, pl.read_parquet(sources[split]))
            write_parquet(table, stage.path(trajectory_path(layout.tokens, split, shard)), TRAJECTORY_SCHEMA)
            stats[split] = trajectory_stats(tok, table)
    return stats


def trajectory_stats(tok: Tokenizer, table: pa.Table) -> dict:
    """Counts and length quantiles of a trajectories table: aggregate numbers only, no subject ids or dates.

    `unk_rate` is the share of code tokens that are an UNK (per vocabulary or global).
    """
    lengths = table.column("length").to_numpy()
    ids = table.column("input_ids").combine_chunks().flatten().to_numpy()
    # Integer kind codes per token id: indexing a small int array per token, not strings.
    kinds = tok.vocabulary["kind"].to_numpy().astype(str)
    is_unk_id = (kinds == "unk") | (np.arange(tok.size) == tok.id(UNK))
    code_like = np.bincount(ids, minlength=tok.size)
    n_unk = int(code_like[is_unk_id].sum())
    n_code = int(code_like[kinds == "code"].sum()) + n_unk
    n_value = int(code_like[kinds == "value"].sum())
    q = np.quantile(lengths, [0.5, 0.9, 0.99]) if len(lengths) else [0, 0, 0]
    return {
        "subjects": len(lengths),
        "tokens": int(lengths.sum()),
        "length_p50": float(q[0]),
        "length_p90": float(q[1]),
        "length_p99": float(q[2]),
        "length_max": int(lengths.max()) if len(lengths) else 0,
        "code_tokens": n_code,
        "unk_rate": n_unk / max(n_code, 1),
        "value_tokens": n_value,
        "value_unk": int(code_like[tok.id(VALUE_UNK)]),
        "length_hist": length_histogram(lengths),
    }


def length_histogram(lengths: np.ndarray) -> dict[str, int]:
    """Subjects per power-of-two length bucket, keyed by the bucket's lower bound.

    >>> length_histogram(np.array([1, 3, 4, 1000]))
    {'1': 1, '2': 1, '4': 1, '512': 1}
    """
    if not len(lengths):
        return {}
    bucket = np.floor(np.log2(np.maximum(lengths, 1))).astype(int)
    values, counts = np.unique(bucket, return_counts=True)
    return {str(2 ** int(v)): int(c) for v, c in zip(values, counts, strict=True)}
