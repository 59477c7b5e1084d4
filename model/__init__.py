"""Timeline transformer: tokenizer, training shards and packing, Triton kernels, training.

`from model import TrainingShards` imports torch on first use only, so pipelines can import the tokenizer
without paying for torch.
"""

from typing import Any

from model.tokenizer import Tokenizer, TokenizerConfig, detokenize, fit_tokenizer, tokenize_events

_LAZY = {
    "TrainingShards": "model.data",
    "PackedDataset": "model.data",
    "BatchStream": "model.data",
    "collate_padded": "model.padded",
    "to_padded": "model.padded",
    "train": "model.train",
    "TrainConfig": "model.train",
    "train_config": "model.train",
    "load_model": "model.checkpoint",
    "evaluate_run": "model.evaluate",
    "sample_from_run": "model.sample",
    "TimelineTransformer": "model.transformer",
    "ModelOutput": "model.transformer",
    "next_token_labels": "model.transformer",
    "ModelConfig": "model.config",
    "get_config": "model.config",
}

__all__ = [
    "BatchStream",
    "ModelConfig",
    "ModelOutput",
    "PackedDataset",
    "TimelineTransformer",
    "Tokenizer",
    "TokenizerConfig",
    "TrainConfig",
    "TrainingShards",
    "collate_padded",
    "detokenize",
    "evaluate_run",
    "fit_tokenizer",
    "get_config",
    "load_model",
    "next_token_labels",
    "sample_from_run",
    "to_padded",
    "tokenize_events",
    "train",
    "train_config",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")
