"""Timeline transformer configuration: one frozen dataclass and the named sizes (torchtitan style)."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Vocabulary size the named sizes assume when the caller has no fitted tokenizer at hand (param counts in
# their docstrings are quoted at this size); real runs pass the fitted tokenizer's size.
DEFAULT_VOCAB_SIZE = 8192


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelConfig:
    """Shape of the decoder and of its time-aware position encoding.

    `times` in a batch are floats in units of `time_unit_days` days (365.25: years, the tokenizer's age
    convention); the model only sees log-scaled days, so the unit only needs to be stated, not tuned.
    """

    vocab_size: int
    d_model: int
    n_layers: int
    n_heads: int
    ffn_hidden: int  # SwiGLU inner width; ~8/3 d_model rounded to a multiple of 128 for tensor-core tiles
    context_length: int  # longest row the loaders build; rotary has no table, so this is a contract only
    rope_theta: float = 10_000.0
    norm_eps: float = 1e-6
    time_unit_days: float = 365.25
    n_time_frequencies: int = 8  # Fourier features per time channel; log-days span ~[-7, 10], 8 covers it
    tie_embeddings: bool = True
    init_std: float = 0.02

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "ffn_hidden", "context_length"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")
        if self.head_dim % 2:
            raise ValueError(f"rotary needs an even head_dim, got {self.head_dim}")
        if self.head_dim > 256:
            raise ValueError(f"head_dim={self.head_dim} is above the attention kernel's 256 limit")
        if self.n_time_frequencies < 0:
            raise ValueError("n_time_frequencies must be >= 0")
        for name in ("rope_theta", "norm_eps", "time_unit_days", "init_std"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    @property
    def n_time_features(self) -> int:
        """Two channels (age, time since the subject's first token), each raw plus sin/cos features."""
        return 2 * (1 + 2 * self.n_time_frequencies)

    def n_params(self, *, embeddings: bool = True) -> int:
        """Exact parameter count of `TimelineTransformer(self)` (asserted against the module in tests)."""
        d, f = self.d_model, self.ffn_hidden
        per_layer = 4 * d * d + 3 * d * f + 2 * d  # qkv + out, SwiGLU (w1, w3, w2), two RMSNorm scales
        body = self.n_layers * per_layer + d + self.n_time_features * d  # + final norm + time projection
        if not embeddings:
            return body
        emb = self.vocab_size * d * (1 if self.tie_embeddings else 2)
        return body + emb


def tiny(*, vocab_size: int = 256) -> ModelConfig:
    """~0.1M params: CPU tests and the CPU bench."""
    return ModelConfig(
        vocab_size=vocab_size, d_model=64, n_layers=2, n_heads=4, ffn_hidden=192, context_length=256
    )


def small(*, vocab_size: int = DEFAULT_VOCAB_SIZE) -> ModelConfig:
    """~30M params at the default vocabulary (25.7M non-embedding)."""
    return ModelConfig(
        vocab_size=vocab_size, d_model=512, n_layers=8, n_heads=8, ffn_hidden=1408, context_length=2048
    )


def base(*, vocab_size: int = DEFAULT_VOCAB_SIZE) -> ModelConfig:
    """~120M params at the default vocabulary (113M non-embedding); head_dim 64 like GPT-2."""
    return ModelConfig(
        vocab_size=vocab_size, d_model=768, n_layers=16, n_heads=12, ffn_hidden=2048, context_length=2048
    )


CONFIGS = {"tiny": tiny, "small": small, "base": base}


def get_config(name: str, *, vocab_size: int | None = None) -> ModelConfig:
    """Named size by name (`longitude train --config NAME`); vocab_size from the fitted tokenizer."""
    if name not in CONFIGS:
        raise KeyError(f"unknown model config {name!r}; known: {sorted(CONFIGS)}")
    return CONFIGS[name]() if vocab_size is None else CONFIGS[name](vocab_size=vocab_size)
