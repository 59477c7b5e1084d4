"""Tokenized synthetic MEDS roots shared by the tokenizer, packing and training-shard tests."""

from pathlib import Path

import pytest

from model.tokenizer import Tokenizer, TokenizerConfig, fit_vocabulary, tokenize_shard
from schemas.layout import Layout
from tests.model.synthetic_meds import SyntheticSpec, write_synthetic_meds

TINY = SyntheticSpec(n_subjects=40, n_shards=2, median_events=40, max_events=400, seed=7)
MIN_COUNT = 3


def tokenized_root(root: Path, spec: SyntheticSpec = TINY, min_count: int = MIN_COUNT) -> tuple[Layout, Tokenizer]:
    """Write a synthetic MEDS root, fit the tokenizer on its train split and tokenize every shard."""
    layout = write_synthetic_meds(root, spec)
    tok = fit_vocabulary(layout, TokenizerConfig(min_count=min_count))
    for shard in range(spec.n_shards):
        tokenize_shard(layout, tok, shard)
    return layout, tok


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layout, Tokenizer]:
    """A tokenized root of 40 subjects in 2 shards over train/tuning/held_out (read-only for tests)."""
    return tokenized_root(tmp_path_factory.mktemp("tiny-meds"))


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny matmuls run several times faster on one thread than on two here (thread sync costs more than the
    work); every model test gets that, torch imported only when a test runs."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
