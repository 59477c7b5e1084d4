"""The vocabulary: structural tokens, time-gap and value bins, codes fitted on train; saved under tokens/."""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from model.tokenizer.units import canonical_units, conversion
from schemas.io import write_parquet, write_text
from schemas.meds import DEATH_CODE
from schemas.tokens import (
    VALUE_BINS_SCHEMA,
    VOCABULARY_SCHEMA,
    tokenizer_config_path,
    value_bins_path,
    vocabulary_path,
)

SEPARATOR = "//"
PAD, BOS, EOS, TIMELINE_START, TIMELINE_END, DEATH, UNK = (
    "PAD",
    "BOS",
    "EOS",
    "TIMELINE_START",
    "TIMELINE_END",
    "DEATH",
    "UNK",
)
SPECIAL_TOKENS = (PAD, BOS, EOS, TIMELINE_START, TIMELINE_END, DEATH, UNK)  # ids 0..6, in this order
PAD_ID = 0
VALUE_UNK = "VALUE//UNK"
BIRTH_YEAR_UNK = "BIRTH_YEAR//UNK"

# Time-gap bins (ETHOS / MEDS-style) as (name, lower bound in minutes); a gap under 5 minutes gets no token,
# the last bin is open-ended (20 years and more). Roughly doubling steps keep 20 tokens from minutes to decades.
GAP_BINS: tuple[tuple[str, float], ...] = (
    ("5m", 5),
    ("15m", 15),
    ("1h", 60),
    ("3h", 180),
    ("6h", 360),
    ("12h", 720),
    ("1d", 1440),
    ("2d", 2880),
    ("4d", 5760),
    ("1w", 10080),
    ("2w", 20160),
    ("1mo", 43830),
    ("2mo", 87660),
    ("3mo", 131490),
    ("6mo", 262980),
    ("1y", 525960),
    ("2y", 1051920),
    ("5y", 2629800),
    ("10y", 5259600),
    ("20y", 10519200),
)
GAP_EDGES_MINUTES = np.array([lo for _, lo in GAP_BINS], dtype=np.float64)
MINUTES_PER_YEAR = 525960.0  # 365.25 days


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenizerConfig:
    """Knobs of the fit. min_count: train occurrences a code needs for its own token. n_value_bins: quantile bins
    per numeric code (10 = deciles). birth_year_*: static birth-year bucket range and width in years."""

    min_count: int = 10
    n_value_bins: int = 10
    birth_year_min: int = 1900
    birth_year_max: int = 2030
    birth_year_width: int = 5

    def __post_init__(self) -> None:
        if self.min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {self.min_count}")
        if not 1 <= self.n_value_bins <= 100:
            raise ValueError(f"n_value_bins must be in 1..100, got {self.n_value_bins}")
        if self.birth_year_width < 1 or self.birth_year_max <= self.birth_year_min:
            raise ValueError("birth-year buckets need width >= 1 and max > min")

    def birth_year_buckets(self) -> list[int]:
        return list(range(self.birth_year_min, self.birth_year_max, self.birth_year_width))


def vocabulary_of(code: str) -> str:
    """The vocabulary prefix of a code, or the code itself when it has no `//`.

    >>> vocabulary_of("LOINC//2345-7"), vocabulary_of("IMAGING//CT//CHEST"), vocabulary_of("MEDS_BIRTH")
    ('LOINC', 'IMAGING', 'MEDS_BIRTH')
    """
    return code.split(SEPARATOR, 1)[0]


def unk_token(vocab: str) -> str:
    return f"{vocab}{SEPARATOR}UNK"


@dataclass(slots=True)
class Tokenizer:
    """A fitted tokenizer: the vocabulary table, per-code value bins and the config they came from."""

    config: TokenizerConfig
    vocabulary: pl.DataFrame  # token_id, token, kind, count
    value_bins: pl.DataFrame  # code, unit, edges, count
    _ids: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        tokens = self.vocabulary["token"].to_list()
        if len(set(tokens)) != len(tokens):
            dupes = sorted({t for t in tokens if tokens.count(t) > 1})[:5]
            raise ValueError(f"vocabulary tokens must be unique; duplicated: {dupes}")
        if self.vocabulary["token_id"].to_list() != list(range(len(tokens))):
            raise ValueError("vocabulary token_id must be dense 0..V-1 in row order")
        self._ids = dict(zip(tokens, range(len(tokens)), strict=True))

    @property
    def size(self) -> int:
        return self.vocabulary.height

    def id(self, token: str) -> int:
        return self._ids[token]

    def tokens(self) -> list[str]:
        return self.vocabulary["token"].to_list()

    @property
    def gap_ids(self) -> np.ndarray:
        return np.array([self._ids[f"TIME//{name}"] for name, _ in GAP_BINS], dtype=np.int32)

    @property
    def value_ids(self) -> np.ndarray:
        """Ids of VALUE//1 .. VALUE//n_value_bins; index b-1 is bin b."""
        return np.array([self._ids[f"VALUE//{b}"] for b in range(1, self.config.n_value_bins + 1)], np.int32)

    def fingerprint(self) -> str:
        """A hash of the vocabulary and value bins: trajectories made by another fit are not compatible."""
        h = hashlib.blake2b(digest_size=12)
        h.update(json.dumps(asdict(self.config), sort_keys=True).encode())
        for frame in (self.vocabulary, self.value_bins):
            # Row values, not IPC bytes: equal frames may differ in chunking and buffer layout.
            h.update(json.dumps([frame.columns, frame.rows()], default=str).encode())
        return h.hexdigest()

    def save(self, tokens_dir: Path) -> None:
        write_parquet(self.vocabulary.to_arrow(), vocabulary_path(tokens_dir), VOCABULARY_SCHEMA)
        write_parquet(self.value_bins.to_arrow(), value_bins_path(tokens_dir), VALUE_BINS_SCHEMA)
        meta = {
            "config": asdict(self.config),
            "fitted_on": ["train"],
            "vocab_size": self.size,
            "gap_bins_minutes": dict(GAP_BINS),
            "fingerprint": self.fingerprint(),
        }
        write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", tokenizer_config_path(tokens_dir))

    @classmethod
    def load(cls, tokens_dir: Path) -> "Tokenizer":
        meta = json.loads(tokenizer_config_path(tokens_dir).read_text())
        tok = cls(
            config=TokenizerConfig(**meta["config"]),
            vocabulary=pl.read_parquet(vocabulary_path(tokens_dir)),
            value_bins=pl.read_parquet(value_bins_path(tokens_dir)),
        )
        if tok.fingerprint() != meta["fingerprint"]:
            raise ValueError(f"tokenizer files under {tokens_dir} do not match their tokenizer.json fingerprint")
        return tok


def _structural_tokens(config: TokenizerConfig) -> list[tuple[str, str]]:
    rows = [(t, "special") for t in SPECIAL_TOKENS]
    rows += [(f"TIME//{name}", "time") for name, _ in GAP_BINS]
    rows += [(f"VALUE//{b}", "value") for b in range(1, config.n_value_bins + 1)] + [(VALUE_UNK, "value")]
    rows += [(f"BIRTH_YEAR//{y}", "static") for y in config.birth_year_buckets()] + [(BIRTH_YEAR_UNK, "static")]
    return rows


def fit_tokenizer(train: pl.LazyFrame, config: TokenizerConfig | None = None) -> Tokenizer:
    """Fit the vocabulary and value bins on MEDS rows of the train split (a LazyFrame over its shards).

    Codes with at least `min_count` train rows get their own token, most frequent first; every vocabulary
    seen in train gets an UNK token. MEDS_DEATH always maps to DEATH.
    """
    config = config or TokenizerConfig()
    counts = (
        train.group_by("code").agg(pl.len().alias("count")).sort(["count", "code"], descending=[True, False])
    ).collect()
    counts = counts.with_columns(vocab=pl.col("code").map_elements(vocabulary_of, return_dtype=pl.String))
    kept = counts.filter((pl.col("count") >= config.min_count) & (pl.col("code") != DEATH_CODE))
    dropped = counts.filter((pl.col("count") < config.min_count) & (pl.col("code") != DEATH_CODE))
    unk_counts = dict(dropped.group_by("vocab").agg(pl.col("count").sum()).iter_rows())
    death_count = int(counts.filter(pl.col("code") == DEATH_CODE)["count"].sum())

    rows = [(t, k, death_count if t == DEATH else 0) for t, k in _structural_tokens(config)]
    vocabs = sorted(set(counts["vocab"].to_list()))
    rows += [(unk_token(v), "unk", int(unk_counts.get(v, 0))) for v in vocabs]
    rows += [(c, "code", int(n)) for c, n in kept.select("code", "count").iter_rows()]
    vocabulary = pl.DataFrame(
        {
            "token_id": np.arange(len(rows), dtype=np.int32),
            "token": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "count": np.array([r[2] for r in rows], dtype=np.int64),
        }
    )
    return Tokenizer(config=config, vocabulary=vocabulary, value_bins=_fit_value_bins(train, config))


def unit_conversions(value_bins: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """For distinct (code, unit) pairs: scale and shift into the code's canonical unit (null: not convertible).

    A value without a unit is taken to be in its code's canonical unit: sources often omit the unit of a
    measurement they otherwise report in one unit (Synthea's blood pressures, for one).
    """
    canonical = dict(value_bins.select("code", "unit").iter_rows())
    codes, units, scales, shifts = [], [], [], []
    for code, unit in pairs.select("code", "unit").unique().iter_rows():
        conv = (
            (conversion(unit, canonical[code]) if unit is not None else (1.0, 0.0)) if code in canonical else None
        )
        codes.append(code)
        units.append(unit)
        scales.append(conv[0] if conv else None)
        shifts.append(conv[1] if conv else None)
    return pl.DataFrame(
        {"code": codes, "unit": units, "scale": scales, "shift": shifts},
        schema={"code": pl.String, "unit": pl.String, "scale": pl.Float64, "shift": pl.Float64},
    )


def _fit_value_bins(train: pl.LazyFrame, config: TokenizerConfig) -> pl.DataFrame:
    numeric = train.filter(pl.col("numeric_value").is_not_null() & pl.col("numeric_value").is_not_nan())
    numeric = numeric.select("code", "unit", pl.col("numeric_value").cast(pl.Float64).alias("value")).collect()
    numeric = numeric.with_columns(canonical_units(numeric["unit"]))
    if numeric.is_empty():
        return pl.DataFrame(schema=pl.from_arrow(VALUE_BINS_SCHEMA.empty_table()).schema)
    # Canonical unit: the most frequent non-null unit in train (null only when a code never has one); ties are
    # broken by spelling so the fit is deterministic.
    canon = (
        numeric.group_by("code", "unit")
        .len()
        .with_columns(_no_unit=pl.col("unit").is_null())
        .sort(["code", "_no_unit", "len", "unit"], descending=[False, False, True, False], nulls_last=True)
        .group_by("code", maintain_order=True)
        .first()
        .select("code", "unit")
    )
    conv = unit_conversions(canon, numeric)
    converted = (
        numeric.join(conv, on=["code", "unit"], how="left", nulls_equal=True)
        .filter(pl.col("scale").is_not_null())
        .select("code", (pl.col("value") * pl.col("scale") + pl.col("shift")).alias("value"))
    )
    qs = [i / config.n_value_bins for i in range(1, config.n_value_bins)]
    edges = converted.group_by("code").agg(
        pl.len().alias("count"),
        pl.concat_list([pl.col("value").quantile(q, interpolation="linear") for q in qs]).alias("edges")
        if qs
        else pl.lit([], dtype=pl.List(pl.Float64)).alias("edges"),
    )
    # Ties (discrete values) collapse to unique edges, so such a code simply has fewer bins.
    edges = edges.with_columns(pl.col("edges").list.unique(maintain_order=False).list.sort())
    out = canon.join(edges, on="code", how="inner").sort("code")
    return out.select("code", "unit", "edges", pl.col("count").cast(pl.Int64))


def bin_edges_matrix(value_bins: pl.DataFrame, n_bins: int) -> np.ndarray:
    """(n_codes, n_bins - 1) edges padded with +inf, row i for value_bins row i."""
    width = max(n_bins - 1, 1)
    out = np.full((value_bins.height, width), np.inf)
    for i, edges in enumerate(value_bins["edges"].to_list()):
        out[i, : len(edges)] = edges
    return out


def birth_year_token(year: int | None, config: TokenizerConfig) -> str:
    """Static birth-year bucket, clamped to the configured range.

    >>> birth_year_token(1953, TokenizerConfig()), birth_year_token(1850, TokenizerConfig())
    ('BIRTH_YEAR//1950', 'BIRTH_YEAR//1900')
    """
    if year is None:
        return BIRTH_YEAR_UNK
    buckets = config.birth_year_buckets()
    lo = (
        config.birth_year_min
        + ((year - config.birth_year_min) // config.birth_year_width) * config.birth_year_width
    )
    return f"BIRTH_YEAR//{min(max(lo, buckets[0]), buckets[-1])}"
