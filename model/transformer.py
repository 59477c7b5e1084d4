"""The timeline transformer: a GPT-style decoder over packed patient timelines with a time-aware encoding.

Input is one packed batch, the dict `TrainingShards.batches()` yields: per-token tensors are (T,) (one
stream of T tokens, as TrainingShards gives them) or (B, L) rows; cu_seqlens is always 1-D:

  input_ids     int   token ids; tail padding may hold any valid id
  labels        int   the target of the prediction made AT each position (already shifted: labels[t] is the
                      next token of the same subject), -100 where there is none (a subject's last token,
                      padding); `next_token_labels` builds them from input_ids and document_ids
  position_ids  int   0.. restarting at each subject (window): rotary positions
  times         float each token's time in units of `config.time_unit_days` days (years by default) from
                      the subject's origin; NaN where a token has no time
  cu_seqlens    int32 (S+1,) subject/segment offsets into the flattened B*L tokens (attention's contract,
                      `model.kernels.attention.reference`); optional if document_ids is given
  document_ids  int   which subject (window) each token belongs to, -1 on padding

Attention is block-diagonal causal: a token sees earlier tokens of its own segment only, so a packed batch
gives each subject exactly the loss it would get alone (tests/model/test_model.py checks it).

Time-aware position encoding (the choice, documented here): rotary positions (position_ids) carry token
order, and the clinical clock is added to the token embeddings as a learned projection of Fourier features
of two log-scaled times: log1p(age in days) and log1p(days since the first timed token of the subject's
window). Log scale because gaps in a record span minutes to decades; Fourier features (8 geometric
frequencies, periods 0.25 to 20 log-days) so a linear map can pick out narrow age bands. The projection is
zero-initialized, so training starts as a plain GPT and learns how much time to mix in. The alternative,
time-scaled rotary (time as the rotary position), gives tokens that share a time (all labs of one draw)
identical positions, and its frequencies would have to span minutes to decades at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import torch
import torch.nn.functional as F  # noqa: N812 (the universal PyTorch alias)
from torch import nn

from model.config import ModelConfig
from model.kernels.attention import token_segments, varlen_attention
from model.kernels.cross_entropy import IGNORE_INDEX, linear_cross_entropy


class ModelOutput(NamedTuple):
    loss: torch.Tensor | None  # scalar fp32, mean (or sum) over targets; None without labels
    logits: torch.Tensor | None  # (B, L, V), only when asked for
    n_targets: torch.Tensor | None  # number of labels != -100, to weight losses across batches


def next_token_labels(input_ids: torch.Tensor, document_ids: torch.Tensor) -> torch.Tensor:
    """(B, L) labels: the next token when it belongs to the same document (>= 0), else -100."""
    labels = torch.full_like(input_ids, IGNORE_INDEX)
    same = (document_ids[:, 1:] == document_ids[:, :-1]) & (document_ids[:, :-1] >= 0)
    labels[:, :-1] = torch.where(same, input_ids[:, 1:], labels[:, :-1])
    return labels


def segments_from_document_ids(document_ids: torch.Tensor) -> torch.Tensor:
    """cu_seqlens (int32) over the flattened tokens, a segment per run of equal document id in a row."""
    n_rows, row_len = document_ids.shape
    change = torch.ones_like(document_ids, dtype=torch.bool)
    change[:, 1:] = document_ids[:, 1:] != document_ids[:, :-1]
    starts = torch.nonzero(change.flatten()).flatten()
    total = torch.tensor([n_rows * row_len], device=document_ids.device)
    return torch.cat([starts, total]).to(torch.int32)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.to(torch.promote_types(x.dtype, torch.float32)).chunk(2, dim=-1)  # NeoX halves layout
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).to(x.dtype)


class TimeEncoding(nn.Module):
    """Log-scaled age and elapsed time -> Fourier features -> zero-initialized linear map to d_model."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.unit_days = config.time_unit_days
        n = config.n_time_frequencies
        periods = torch.logspace(math.log10(20.0), math.log10(0.25), n) if n else torch.empty(0)
        self.register_buffer("angular", 2 * math.pi / periods, persistent=False)
        self.proj = nn.Linear(config.n_time_features, config.d_model, bias=False)

    def forward(self, times: torch.Tensor, segment_start: torch.Tensor) -> torch.Tensor:
        days = times.float() * self.unit_days  # (B, L)
        valid = torch.isfinite(days)
        flat = torch.where(valid, days, torch.inf).flatten()
        first = torch.full_like(flat, torch.inf).scatter_reduce(0, segment_start.long(), flat, "amin")
        elapsed = (flat - first[segment_start.long()]).view_as(days)  # inf - inf = nan where no time
        channels = torch.stack([days, elapsed], dim=-1).clamp_min(0)  # (B, L, 2)
        ok = torch.isfinite(channels)
        channels = torch.log1p(torch.where(ok, channels, 0.0))
        angles = channels[..., None] * self.angular.float()  # (B, L, 2, F); fp32 even in a bf16 model
        feats = torch.cat([channels[..., None], angles.sin(), angles.cos()], dim=-1)  # (B, L, 2, 1 + 2F)
        feats = (feats * ok[..., None]).flatten(-2)  # untimed tokens get no time signal
        return self.proj(feats.to(self.proj.weight.dtype))


class Attention(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.n_heads, self.head_dim = config.n_heads, config.head_dim
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=False)
        self.out = nn.Linear(config.d_model, config.d_model, bias=False)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], cu_seqlens: torch.Tensor):
        n_rows, row_len, _ = x.shape
        q, k, v = self.qkv(x).view(n_rows, row_len, 3, self.n_heads, self.head_dim).unbind(2)  # (B, L, H, Dh)
        q, k = _rotate(q, *rope), _rotate(k, *rope)
        y = varlen_attention(q, k, v, cu_seqlens)  # (B, L, H, Dh)
        return self.out(y.reshape(n_rows, row_len, -1))


class SwiGLU(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.gate_up = nn.Linear(config.d_model, 2 * config.ffn_hidden, bias=False)  # w1 and w3 in one matmul
        self.down = nn.Linear(config.ffn_hidden, config.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.attn_norm = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.attn = Attention(config)
        self.mlp_norm = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.mlp = SwiGLU(config)

    def forward(self, x, rope, cu_seqlens):
        x = x + self.attn(self.attn_norm(x), rope, cu_seqlens)
        return x + self.mlp(self.mlp_norm(x))


_PER_TOKEN = ("input_ids", "labels", "position_ids", "times", "document_ids")


def _as_rows(batch: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], bool]:
    """A (T,) stream becomes one (1, T) row; returns the batch and whether it was a stream."""
    stream = batch["input_ids"].dim() == 1
    if batch["input_ids"].dim() not in (1, 2):
        raise ValueError(f"input_ids must be (T,) or (B, L), got {tuple(batch['input_ids'].shape)}")
    rows = {k: (v[None] if stream and k in _PER_TOKEN else v) for k, v in batch.items()}
    return rows, stream


class TimelineTransformer(nn.Module):
    """Decoder-only transformer over packed timelines; `forward(batch)` gives the next-token loss."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.time = TimeEncoding(config)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.lm_head = None if config.tie_embeddings else nn.Linear(config.d_model, config.vocab_size, bias=False)
        if not self.embed.weight.is_meta:  # meta-device builds (param counts, FSDP) initialize later
            self.reset_parameters()

    def reset_parameters(self) -> None:
        std = self.config.init_std
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, std=std)
            elif isinstance(module, nn.RMSNorm):
                nn.init.ones_(module.weight)
        for block in self.blocks:  # GPT-2: residual writers scaled by 1/sqrt(2 * n_layers)
            nn.init.normal_(block.attn.out.weight, std=std / math.sqrt(2 * self.config.n_layers))
            nn.init.normal_(block.mlp.down.weight, std=std / math.sqrt(2 * self.config.n_layers))
        nn.init.zeros_(self.time.proj.weight)

    @property
    def output_weight(self) -> torch.Tensor:
        return self.embed.weight if self.lm_head is None else self.lm_head.weight  # (V, D)

    def hidden_states(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(B, L, D) or (T, D) final-norm hidden states: the per-token embeddings probes and sampling read."""
        batch, stream = _as_rows(batch)
        h = self._hidden(batch)
        return h[0] if stream else h

    def _hidden(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        input_ids = batch["input_ids"]
        n_rows, row_len = input_ids.shape
        cu_seqlens = batch.get("cu_seqlens")
        if cu_seqlens is None:
            document_ids = batch.get("document_ids")
            cu_seqlens = (
                segments_from_document_ids(document_ids)
                if document_ids is not None
                else torch.arange(0, n_rows * row_len + 1, row_len, device=input_ids.device, dtype=torch.int32)
            )
        start, _ = token_segments(cu_seqlens, n_rows, row_len)  # (B*L,) segment start per token
        position_ids = batch.get("position_ids")
        if position_ids is None:
            position_ids = (torch.arange(n_rows * row_len, device=input_ids.device) - start).view(n_rows, row_len)
        # Angles in fp32 (fp64 for a double model), whatever the parameter dtype: bf16 cannot count to 2048.
        dtype = torch.promote_types(self.embed.weight.dtype, torch.float32)
        dims = torch.arange(0, self.config.head_dim, 2, device=input_ids.device, dtype=dtype)
        inv_freq = self.config.rope_theta ** (-dims / self.config.head_dim)  # (Dh/2,)
        angles = position_ids.to(dtype)[..., None] * inv_freq  # (B, L, Dh/2)
        rope = (angles.cos()[:, :, None, :], angles.sin()[:, :, None, :])  # broadcast over heads

        x = self.embed(input_ids)  # (B, L, D)
        times = batch.get("times")
        if times is not None:
            x = x + self.time(times, start).to(x.dtype)
        for block in self.blocks:
            x = block(x, rope, cu_seqlens)
        return self.norm(x)

    def forward(
        self, batch: Mapping[str, torch.Tensor], *, return_logits: bool = False, reduction: str = "mean"
    ) -> ModelOutput:
        """Next-token loss over labels != -100 (fused, no (N, V) logits); logits only when asked."""
        batch, stream = _as_rows(batch)
        h = self._hidden(batch)  # (B, L, D)
        weight = self.output_weight
        labels = batch.get("labels")
        loss = n_targets = None
        if labels is not None:
            loss = linear_cross_entropy(h.flatten(0, 1), weight, labels.flatten(), reduction=reduction)
            n_targets = (labels != IGNORE_INDEX).sum()
        logits = None
        if return_logits:
            logits = F.linear(h[0] if stream else h, weight)  # (B, L, V) or (T, V)
        return ModelOutput(loss=loss, logits=logits, n_targets=n_targets)
