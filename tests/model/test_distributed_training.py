"""Training across processes on CPU (gloo): two torchrun agents meeting by c10d rendezvous through
`longitude train --nnodes 2`, each rank reading only its share of the tokens, and DCP checkpoints that load in
one process and resume on the same or another number of ranks."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from model import checkpoint as ckpt
from model.data import TrainingShards
from model.rank_shards import RankShards
from model.sharded_checkpoint import is_sharded
from model.train import weights_digest
from tests.model.test_train import TPB, train_root

REPO = Path(__file__).resolve().parents[2]
STEPS = 4
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
TRAIN = ["--config", "tiny", "--steps", str(STEPS), "--tokens-per-batch", str(TPB), "--device", "cpu"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_agents(commands: list[list[str]], timeout: float = 400) -> list[tuple[int, str]]:
    """Start every command at once (agents must meet), wait for all; (exit status, output) of each."""
    procs = [subprocess.Popen(c, cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for c in commands]  # fmt: skip
    deadline = time.monotonic() + timeout
    done = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        done.append((p.returncode, out))
    return done


def rank_records(run: Path) -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in (run / "ranks").glob("rank*.json")), key=lambda r: r["rank"])


@pytest.fixture(scope="module")
def two_agents(tiny_root, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`longitude train --nnodes 2 --nproc-per-node 1` started twice, as on two machines: STEPS steps."""
    root = train_root(tiny_root, tmp_path_factory.mktemp("agents"))
    agent = [sys.executable, "-c", "from pipelines.cli import main; main()", "train", "--root", str(root), *TRAIN, "--run-name", "two",
             "--record-data", "--nnodes", "2", "--nproc-per-node", "1", "--rdzv-endpoint",
             f"127.0.0.1:{free_port()}"]  # fmt: skip
    for code, out in run_agents([agent, agent]):
        assert code == 0, out[-4000:]
    return root


@pytest.mark.slow  # torchrun agents and their workers start in tens of seconds on a busy machine
def test_two_agents_train_every_rank_to_the_same_weights_and_leave_a_loadable_checkpoint(two_agents: Path):
    run = two_agents / "models" / "two"
    ranks = rank_records(run)
    assert [r["rank"] for r in ranks] == [0, 1] and {r["world_size"] for r in ranks} == {2}
    assert all(len(r["batches"]) == STEPS for r in ranks)
    checkpoint = ckpt.latest_checkpoint(run)
    assert checkpoint is not None and checkpoint.name == ckpt.checkpoint_name(STEPS) and is_sharded(checkpoint)
    assert len(list(checkpoint.glob("*.distcp"))) == 2  # each rank wrote its own file
    model = ckpt.load_model(run)  # one process, no process group
    assert ranks[0]["weights_sha256"] == ranks[1]["weights_sha256"] == weights_digest(model)
    steps = [json.loads(line)["step"] for line in (run / ckpt.METRICS_FILE).read_text().splitlines()]
    assert steps == list(range(1, STEPS + 1))


@pytest.mark.slow
def test_each_rank_loaded_only_its_half_of_the_tokens(two_agents: Path):
    ranks = rank_records(two_agents / "models" / "two")
    split = TrainingShards(two_agents, "train")
    assert {r["split_tokens"] for r in ranks} == {split.num_tokens}
    loaded = [r["tokens_loaded"] for r in ranks]
    assert sum(loaded) == split.num_tokens  # nothing loaded twice, nothing left out
    assert max(abs(n - split.num_tokens / 2) for n in loaded) <= split.lengths.max() / 2 + 1


def test_a_rank_holds_its_share_of_the_tokens_in_memory(tiny_root, tmp_path: Path):
    """Token arrays allocated by load(): one rank of two holds about half of what a single rank holds."""
    import tracemalloc

    root = train_root(tiny_root, tmp_path)

    def loaded_bytes(rank: int, world: int) -> tuple[int, int]:
        shards = RankShards(root, "train", rank=rank, world_size=world, max_seq_len=256)
        tracemalloc.start()
        shards.load()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, shards.loaded_tokens

    measured = [loaded_bytes(r, w) for r, w in ((0, 1), (0, 2), (1, 2))]
    n_one, halves = measured[0][1], measured[1:]
    assert n_one == TrainingShards(root, "train").num_tokens
    assert sum(n for _, n in halves) == n_one and all(n < 0.55 * n_one for _, n in halves)
    # 12 bytes per own token (int64 id, float32 time) plus the same few KB of readers whatever the share.
    rest = [peak - 12 * n for peak, n in measured]
    assert all(0 <= r < 16_384 for r in rest) and max(rest) - min(rest) < 2_048, rest


def test_ranks_partition_the_subjects_and_one_rank_is_the_single_process_data(tiny_root, tmp_path: Path):
    root = train_root(tiny_root, tmp_path)
    split = TrainingShards(root, "train", max_seq_len=256)
    single = RankShards(root, "train", rank=0, world_size=1, max_seq_len=256)
    n = split.batches_per_rank(TPB, 0, 0, 1)
    assert single.batches_per_rank(TPB, 0, 0, 1) == n
    for i in range(n):
        a, b = split.batch(TPB, 0, 0, 0, 1, i), single.batch(TPB, 0, 0, 0, 1, i)
        assert all(torch.equal(a[k], b[k]) for k in a)
    for world in (2, 3):
        ranks = [RankShards(root, "train", rank=r, world_size=world, max_seq_len=256) for r in range(world)]
        assert np.array_equal(np.concatenate([r.subject_ids for r in ranks]), split.subject_ids)
        per_rank = {r.batches_per_rank(TPB, 0, 0, world) for r in ranks}
        assert len(per_rank) == 1  # every rank steps the same number of times
        for r in ranks:  # each target of the rank's own subjects once per epoch (all padding after its plan ends)
            batches = [r.batch(TPB, 0, 0, r.rank, world, i) for i in range(next(iter(per_rank)))]
            assert sum(int((b["labels"] != -100).sum()) for b in batches) == int((r.lengths - 1).sum())
        with pytest.raises(ValueError, match="rank 0"):
            ranks[0].batch(TPB, 0, 0, 1, world, 0)  # another rank's batches are not here to serve


@pytest.mark.slow
def test_resuming_dcp_checkpoints_continues_the_step_count_on_any_number_of_ranks(two_agents: Path, tmp_path):
    """Same world size: stopped at step 2 (DDP) and resumed with FSDP2, two ranks end where the uninterrupted
    DDP agents did (DCP reshards the weights and optimizer moments onto FSDP2's parameter shards).
    Another world size: one process picks up the two-rank checkpoint and continues its step count."""
    root = train_root_from(two_agents, tmp_path)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                "-m", "model.train", "--root", str(root), *TRAIN, "--run-name", "resumed"]  # fmt: skip
    for then in (["--stop-after", "2"], ["--sharding", "fsdp"]):  # DDP's DCP shards resumed by FSDP2
        ((code, out),) = run_agents([torchrun + then])
        assert code == 0, out[-4000:]
    run = root / "models" / "resumed"
    steps = [json.loads(line)["step"] for line in (run / ckpt.METRICS_FILE).read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    uninterrupted = ckpt.load_model(two_agents / "models" / "two").state_dict()
    for name, value in ckpt.load_model(run).state_dict().items():
        torch.testing.assert_close(value, uninterrupted[name], rtol=1e-5, atol=1e-6, msg=name)

    one = [sys.executable, "-m", "model.train", "--root", str(root), *TRAIN[:2], "--steps", str(STEPS + 2),
           *TRAIN[4:], "--run-name", "resumed"]  # fmt: skip
    ((code, out),) = run_agents([one])
    assert code == 0, out[-4000:]
    assert "is skipped" in out  # the two-rank data position cannot be continued exactly by one rank: said
    steps = [json.loads(line)["step"] for line in (run / ckpt.METRICS_FILE).read_text().splitlines()]
    assert steps == list(range(1, STEPS + 3))
    last = ckpt.latest_checkpoint(run)
    assert last is not None and last.name == ckpt.checkpoint_name(STEPS + 2) and not is_sharded(last)


def train_root_from(root: Path, tmp_path: Path) -> Path:
    """A fresh root sharing another root's tokens (its own models/)."""
    (tmp_path / "tokens").symlink_to(root / "tokens", target_is_directory=True)
    (tmp_path / "meds").symlink_to(root / "meds", target_is_directory=True)
    return tmp_path


@pytest.mark.slow
def test_the_model_asset_trains_as_a_torchrun_job_through_dagster_pipes(tiny_root, tmp_path: Path):
    """nproc_per_node 2: the step launches a torchrun job; rank 0 reports the materialization over Pipes."""
    import dagster as dg

    from model.train import steps_per_epoch, train_config
    from pipelines.defs.model.assets import timeline_model
    from pipelines.defs.resources import LongitudeResource

    root = train_root(tiny_root, tmp_path)
    config = {"tokens_per_batch": TPB, "run_name": "pipes", "nproc_per_node": 2, "device": "cpu"}
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([timeline_model], resources={"longitude": LongitudeResource(root=str(root))},
                            run_config={"ops": {"timeline_model": {"config": config}}}, instance=instance)  # fmt: skip
    assert result.success
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    epoch = steps_per_epoch(root, train_config("tiny", tokens_per_batch=TPB), world_size=2)
    assert meta["ranks"].value == 2 and meta["steps"].value == epoch and meta["loss"].value > 0
    checkpoint = Path(meta["checkpoint"].value)
    assert is_sharded(checkpoint) and checkpoint.name == ckpt.checkpoint_name(epoch)
    logs = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any(f"step {epoch}/{epoch}: loss" in m for m in logs)  # rank 0's progress, relayed to the step


def test_agents_of_one_job_get_the_same_rendezvous_and_several_nodes_need_an_endpoint(tmp_path: Path):
    from click.testing import CliRunner

    from model.distributed import Launch, torchrun_command
    from pipelines.cli import cli

    launch = Launch(nnodes=2, nproc_per_node=4, rdzv_endpoint="node0:29400")
    a, b = (torchrun_command(launch, ["--steps", "5"], root="/r", run="tiny") for _ in range(2))
    assert a == b  # every node computes the same command, so the same rendezvous id
    assert a[a.index("--rdzv-backend") + 1] == "c10d" and a[a.index("--rdzv-endpoint") + 1] == "node0:29400"
    assert a[a.index("--nproc-per-node") + 1] == "4" and a[-4:] == ["-m", "model.train", "--steps", "5"]
    single = torchrun_command(Launch(nproc_per_node=2), [], root="/r", run="tiny")
    assert "--standalone" in single and "--rdzv-endpoint" not in single
    out = CliRunner().invoke(cli, ["train", "--root", str(tmp_path), "--steps", "1", "--nnodes", "2"])
    assert out.exit_code == 2 and "--rdzv-endpoint" in out.output
