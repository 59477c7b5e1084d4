"""DDP under torchrun on CPU (gloo, 2 processes) with the global data placement (every rank holds the split and
takes every other batch of one plan): disjoint data per rank, identical weights, exact weighting. The default
placement (each rank reads its own subjects) is tested in test_distributed_training."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from model import checkpoint as ckpt
from model.data import TrainingShards
from model.train import train, train_config, weights_digest
from tests.model.test_train import TPB, train_root

REPO = Path(__file__).resolve().parents[2]
STEPS = 3


@pytest.fixture(scope="module")
def ddp_run(tiny_root, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One torchrun launch: 2 ranks x STEPS steps of the tiny config, each rank logging what it saw."""
    root = train_root(tiny_root, tmp_path_factory.mktemp("ddp"))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "model.train", "--root", str(root), "--config", "tiny", "--steps", str(STEPS),
           "--tokens-per-batch", str(TPB), "--run-name", "ddp", "--device", "cpu", "--record-data",
           "--data-placement", "global"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root


def rank_records(root: Path) -> list[dict]:
    return [json.loads((root / "models" / "ddp" / "ranks" / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_ranks_see_disjoint_batches_and_subject_windows(ddp_run: Path):
    ranks = rank_records(ddp_run)
    assert [r["world_size"] for r in ranks] == [2, 2]
    seen = [{tuple(b) for b in r["batches"]} for r in ranks]
    assert all(len(s) == STEPS for s in seen)
    assert not seen[0] & seen[1]
    assert {i % 2 for _, i in seen[0]} == {0} and {i % 2 for _, i in seen[1]} == {1}  # batch g -> rank g % 2

    plan = TrainingShards(ddp_run, "train", max_seq_len=256).plan(TPB, seed=0, epoch=0)  # the epoch's documents
    docs = [
        {
            (s, a)
            for _, s, a in plan.filter(plan["batch"].is_in([i for _, i in r]))
            .select("batch", "subject_id", "start")
            .iter_rows()
        }
        for r in seen
    ]
    assert docs[0] and docs[1] and not docs[0] & docs[1]


def test_ranks_end_with_identical_weights_equal_to_the_saved_checkpoint(ddp_run: Path):
    ranks = rank_records(ddp_run)
    assert ranks[0]["weights_sha256"] == ranks[1]["weights_sha256"]
    assert weights_digest(ckpt.load_model(ddp_run / "models" / "ddp")) == ranks[0]["weights_sha256"]


def test_two_ranks_train_like_one_process_accumulating_two_batches(ddp_run: Path, tiny_root, tmp_path: Path):
    """Rank r's micro-batch g = 2 i + r is what one process with grad_accum 2 takes as its i-th pair, and the
    loss weights every target of the step equally in both, so the runs agree to float tolerance."""
    torch.set_num_threads(1)
    single = train(train_root(tiny_root, tmp_path), train_config("tiny", steps=STEPS, tokens_per_batch=TPB,
                                                                grad_accum=2), run="acc")  # fmt: skip
    ddp, acc = ckpt.load_model(ddp_run / "models" / "ddp").state_dict(), ckpt.load_model(single.run).state_dict()
    for name in acc:
        torch.testing.assert_close(ddp[name], acc[name], rtol=1e-4, atol=1e-5, msg=name)
    lines = (ddp_run / "models" / "ddp" / ckpt.METRICS_FILE).read_text().splitlines()
    ddp_losses = [json.loads(line)["loss"] for line in lines]
    acc_losses = [json.loads(line)["loss"] for line in (single.run / ckpt.METRICS_FILE).read_text().splitlines()]
    assert ddp_losses == pytest.approx(acc_losses, rel=1e-5)
