"""Tokenized timelines under `tokens/`: the vocabulary, numeric value bins, tokenizer config, trajectories.

Paths (relative to the root, see `Layout.tokens`):
    tokens/vocabulary.parquet            one row per token id (VOCABULARY_SCHEMA)
    tokens/value_bins.parquet            one row per code with numeric values in train (VALUE_BINS_SCHEMA)
    tokens/tokenizer.json                the tokenizer's config and a hash of the two tables above
    tokens/trajectories/<split>/<shard>.parquet   one row per subject (TRAJECTORY_SCHEMA)

Invariants the types cannot express:
1. The vocabulary, value bins and unit choices are fitted on the `train` split only; tuning and held-out
   data are tokenized with them, so a code never seen (or seen fewer than `min_count` times) in train maps
   to its vocabulary's UNK token (`LOINC//UNK`) or, for a vocabulary unseen in train, to `UNK`.
2. `token_id` is dense: row i of vocabulary.parquet has token_id i; id 0 is PAD, and tokens are unique.
3. No MEDS row is dropped: every row becomes exactly one code token (a code, a vocabulary UNK, or DEATH),
   followed by exactly one value token when numeric_value is not null (`VALUE//UNK` when it cannot be binned).
4. A trajectory reads BOS, static facts (sex, BIRTH_YEAR//<bucket>), TIMELINE_START, events in MEDS order
   with `TIME//<gap>` tokens before each new time at least 5 minutes after the previous one, TIMELINE_END, EOS.
5. `times` has one entry per token: years since `origin` (the subject's MEDS_BIRTH, else first timed event);
   `length == len(input_ids) == len(times)`.
6. Trajectories of split s and shard k hold exactly the subjects of meds/data/s/k.parquet, sorted by
   subject_id; nothing in tokens/ holds dates other than the already shifted `origin`.
"""

from pathlib import Path

import pyarrow as pa

TOKEN_KINDS = ("special", "time", "value", "static", "unk", "code")

VOCABULARY_SCHEMA = pa.schema(
    [
        pa.field("token_id", pa.int32(), nullable=False),
        pa.field("token", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
    ]
)
"""token_id: dense int32 id (row number). token: the code itself for kind `code` (`LOINC//2345-7`), else a
structural name (`BOS`, `TIME//1h`, `VALUE//3`, `BIRTH_YEAR//1950`, `LOINC//UNK`). kind: one of TOKEN_KINDS.
count: occurrences in the train split (codes and UNKs: rows mapped to the token; structural tokens: 0)."""

VALUE_BINS_SCHEMA = pa.schema(
    [
        pa.field("code", pa.string(), nullable=False),
        pa.field("unit", pa.string(), nullable=True),
        pa.field("edges", pa.list_(pa.float64()), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
    ]
)
"""code: a MEDS code with numeric values in train. unit: the code's canonical unit (its most frequent unit in
train; null when values carry none); values in other convertible units are converted to it first. edges:
strictly increasing interior quantile edges fitted on train; value v falls in bin searchsorted(edges, v,
'right') + 1, i.e. 1 .. len(edges) + 1. count: numeric train values of the code."""

TRAJECTORY_SCHEMA = pa.schema(
    [
        pa.field("subject_id", pa.int64(), nullable=False),
        pa.field("input_ids", pa.list_(pa.int32()), nullable=False),
        pa.field("times", pa.list_(pa.float32()), nullable=False),
        pa.field("length", pa.int32(), nullable=False),
        pa.field("origin", pa.timestamp("us"), nullable=True),
    ]
)
"""subject_id: MEDS pseudonym. input_ids: token ids (list<int32>). times: per token, years since origin as
float32 (about 2 minutes of resolution at age 100); static and leading structural tokens carry the time of
the first timed event. length: number of tokens. origin: MEDS_BIRTH time, else first timed event; null when
the subject has no timed event."""

VOCABULARY_FILE = "vocabulary.parquet"
VALUE_BINS_FILE = "value_bins.parquet"
TOKENIZER_FILE = "tokenizer.json"
TRAJECTORIES_DIR = "trajectories"


def vocabulary_path(tokens_dir: Path) -> Path:
    return Path(tokens_dir) / VOCABULARY_FILE


def value_bins_path(tokens_dir: Path) -> Path:
    return Path(tokens_dir) / VALUE_BINS_FILE


def tokenizer_config_path(tokens_dir: Path) -> Path:
    return Path(tokens_dir) / TOKENIZER_FILE


def trajectory_path(tokens_dir: Path, split: str, shard: int) -> Path:
    """`tokens/trajectories/<split>/<shard>.parquet`.

    >>> trajectory_path(Path("/r/tokens"), "train", 2)
    PosixPath('/r/tokens/trajectories/train/2.parquet')
    """
    return Path(tokens_dir) / TRAJECTORIES_DIR / split / f"{shard}.parquet"


def trajectory_shards(tokens_dir: Path, split: str) -> list[tuple[int, Path]]:
    """(shard, path) of every trajectory file of a split, in shard order."""
    from schemas.publish import dataset_files

    files = dataset_files(Path(tokens_dir), f"{TRAJECTORIES_DIR}/{split}/*.parquet")
    found = [(int(p.stem), p) for p in files if p.stem.isdigit()]
    return sorted(found)
