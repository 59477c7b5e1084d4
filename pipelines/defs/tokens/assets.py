"""Tokenized timelines: `vocabulary` (fitted on the train split only) and `trajectories` per shard."""

from pathlib import Path

import dagster as dg

from pipelines.defs.partitions import shard_partitions
from pipelines.defs.resources import LongitudeResource
from schemas.layout import Layout

MEDS_DATA = dg.AssetKey("meds_data")


class VocabularyConfig(dg.Config):
    """Tokenizer fit knobs: train rows a code needs for its own token, quantile bins per numeric code."""

    min_count: int = 10
    n_value_bins: int = 10


def _layout(longitude: LongitudeResource) -> Layout:
    # Tokens hold no PHI and need no secret, so only the root is read.
    return Layout(Path(longitude.root).resolve())


@dg.asset(deps=[MEDS_DATA], group_name="tokens", kinds={"polars", "parquet"})
def vocabulary(config: VocabularyConfig, longitude: LongitudeResource) -> dg.MaterializeResult:
    """Token vocabulary, per-code value bins and unit choices, fitted on meds/data/train only."""
    from model.tokenizer import TokenizerConfig, fit_vocabulary
    from model.tokenizer.summary import vocabulary_summary

    tok = fit_vocabulary(
        _layout(longitude), TokenizerConfig(min_count=config.min_count, n_value_bins=config.n_value_bins)
    )
    summary, table = vocabulary_summary(tok)
    return dg.MaterializeResult(
        metadata={**summary, "per_vocabulary": dg.MetadataValue.md(table)},
    )


@dg.asset(
    partitions_def=shard_partitions,
    deps=[dg.AssetKey("vocabulary"), MEDS_DATA],
    group_name="tokens",
    kinds={"polars", "parquet"},
)
def trajectories(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """One row per subject of this shard in every split: input_ids, times (years since origin), length."""
    from model.tokenizer import Tokenizer, tokenize_shard

    layout = _layout(longitude)
    stats = tokenize_shard(layout, Tokenizer.load(layout.tokens), int(context.partition_key))
    metadata: dict = {f"{split}/{k}": v for split, s in stats.items() for k, v in s.items() if k != "length_hist"}
    metadata["length_histogram"] = dg.MetadataValue.json({split: s["length_hist"] for split, s in stats.items()})
    metadata["dagster/row_count"] = sum(s["subjects"] for s in stats.values())
    return dg.MaterializeResult(metadata=metadata)
