"""Timeline transformer: tokenizer, training shards and packing, Triton kernels, training.

`from model import TrainingShards` imports torch on first use only, so pipelines can import the tokenizer
without paying for torch.
"""

from typing import Any

from model.tokenizer import Tokenizer, TokenizerConfig, detokenize, fit_tokenizer, tokenize_events

_LAZY = {"TrainingShards": "model.data", "PackedDataset": "model.data", "BatchStream": "model.data"}

__all__ = [
    "BatchStream",
    "PackedDataset",
    "Tokenizer",
    "TokenizerConfig",
    "TrainingShards",
    "detokenize",
    "fit_tokenizer",
    "tokenize_events",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")
