"""Tokenizer: MEDS codes, numeric values and time gaps to token ids (fitted on train only), and back."""

from model.tokenizer.build import fit_vocabulary, tokenize_shard, trajectory_stats
from model.tokenizer.encode import detokenize, tokenize_events
from model.tokenizer.vocab import (
    GAP_BINS,
    PAD_ID,
    SPECIAL_TOKENS,
    Tokenizer,
    TokenizerConfig,
    fit_tokenizer,
)

__all__ = [
    "GAP_BINS",
    "PAD_ID",
    "SPECIAL_TOKENS",
    "Tokenizer",
    "TokenizerConfig",
    "detokenize",
    "fit_tokenizer",
    "fit_vocabulary",
    "tokenize_events",
    "tokenize_shard",
    "trajectory_stats",
]
