"""Training: run outputs, schedule, loss going down, exact resume, accumulation, run compatibility, CLI, Dagster."""

import itertools
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from model import checkpoint as ckpt
from model.tokenizer import Tokenizer
from model.train import IncompatibleRunError, TrainConfig, lr_at, train, train_config

TPB = 512  # tokens per micro-batch: ~6 batches per epoch of the tiny root's train split


def train_root(tiny_root, tmp_path: Path) -> Path:
    """A root that shares the session's tokenized data (read-only) and gets its own models/ folder."""
    layout, _ = tiny_root
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "tokens").symlink_to(layout.tokens, target_is_directory=True)
    (tmp_path / "meds").symlink_to(layout.meds, target_is_directory=True)
    return tmp_path


@pytest.fixture
def root(tiny_root, tmp_path: Path) -> Path:
    return train_root(tiny_root, tmp_path)


def config(**overrides) -> TrainConfig:
    return train_config("tiny", **{"tokens_per_batch": TPB, "steps": 4, "warmup_steps": 2, **overrides})


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / ckpt.METRICS_FILE).read_text().splitlines()]


def weights(run: Path) -> dict[str, torch.Tensor]:
    return ckpt.load_model(run).state_dict()


def test_a_run_holds_checkpoint_config_tokenizer_and_metrics(root: Path):
    result = train(root, config(), run="r")
    run = root / "models" / "r"
    assert result.run == run and result.step == 4
    assert result.checkpoint == run / "checkpoints" / "step-00000004"
    info = json.loads((run / ckpt.RUN_FILE).read_text())
    tok = Tokenizer.load(root / "tokens")
    assert info["tokenizer_fingerprint"] == tok.fingerprint() == ckpt.load_tokenizer(run).fingerprint()
    state, model_config, meta = ckpt.load_weights(result.checkpoint, expect_fingerprint=tok.fingerprint())
    assert model_config.vocab_size == tok.size and meta["tokenizer_fingerprint"] == tok.fingerprint()
    assert all(t.dtype == torch.float32 for t in state.values())
    with pytest.raises(ValueError, match="tokenizer"):
        ckpt.load_weights(result.checkpoint, expect_fingerprint="another-vocabulary")

    rows = records(run)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    for r in rows:
        assert {"loss", "lr", "tokens_per_s", "real_token_fraction", "grad_norm"} <= set(r)
        assert r["lr"] == pytest.approx(lr_at(r["step"] - 1, config()))
        assert 0 < r["real_token_fraction"] <= 1 and r["tokens_per_s"] > 0
        assert r["tokens"] == round(r["real_token_fraction"] * TPB)
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)


def test_loss_goes_down_on_the_train_split(root: Path):
    train(root, config(steps=30, lr=1e-2, warmup_steps=3), run="r")
    losses = [r["loss"] for r in records(root / "models" / "r")]
    assert sum(losses[-5:]) / 5 < losses[0] - 0.75, losses  # ~0.95 nats in practice


def test_schedule_warms_up_then_decays_to_the_floor():
    c = TrainConfig(steps=50, warmup_steps=5, lr=2e-3, min_lr_ratio=0.1)
    lrs = [lr_at(s, c) for s in range(60)]
    assert lrs[:5] == pytest.approx([2e-3 * (i + 1) / 5 for i in range(5)])
    assert all(a >= b for a, b in itertools.pairwise(lrs[4:]))  # non-increasing after warmup
    assert lrs[49] == pytest.approx(2e-4) and lrs[59] == pytest.approx(2e-4)


def test_resuming_gives_the_weights_and_data_order_of_an_uninterrupted_run(tiny_root, tmp_path: Path):
    """8 steps straight vs 4 + resume 4: the same batches in the same order (across an epoch) and weights."""
    c = config(steps=8, checkpoint_every=0)
    straight_root = train_root(tiny_root, tmp_path / "a")
    resumed_root = train_root(tiny_root, tmp_path / "b")
    train(straight_root, c, run="r")
    first = train(resumed_root, c, run="r", stop_after=4)
    assert first.step == 4 and ckpt.latest_checkpoint(first.run).name == "step-00000004"
    second = train(resumed_root, c, run="r")
    assert second.step == 8

    a, b = records(straight_root / "models" / "r"), records(resumed_root / "models" / "r")
    assert [(r["step"], r["epoch"], r["batch"]) for r in a] == [(r["step"], r["epoch"], r["batch"]) for r in b]
    assert a[-1]["epoch"] >= 1, "the run should cross an epoch boundary"
    assert [r["loss"] for r in a] == pytest.approx([r["loss"] for r in b], rel=1e-5)
    wa, wb = weights(a_run := straight_root / "models" / "r"), weights(resumed_root / "models" / "r")
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], rtol=1e-5, atol=1e-6, msg=name)
    assert ckpt.load_state(ckpt.latest_checkpoint(a_run)) == ckpt.load_state(ckpt.latest_checkpoint(second.run))


def test_a_finished_run_is_left_as_it_is(root: Path):
    first = train(root, config(steps=2), run="r")
    again = train(root, config(steps=2), run="r")
    assert again.step == 2 and again.checkpoint == first.checkpoint and len(records(first.run)) == 2
    # a rerun reports the finished run's last loss (it printed nan), and says it took no step
    assert again.steps_run == 0 and first.steps_run == 2
    assert again.last == first.last and again.last["loss"] == again.last["loss"]  # finite, not nan


def test_gradient_accumulation_takes_that_many_batches_per_step(root: Path):
    train(root, config(steps=2, grad_accum=3), run="r")
    rows = records(root / "models" / "r")
    assert [r["batch"] for r in rows] == [0, 3]
    assert all(r["tokens"] == round(r["real_token_fraction"] * 3 * TPB) for r in rows)


def test_checkpoints_keep_the_newest_and_latest_names_the_last(root: Path):
    train(root, config(steps=6, checkpoint_every=2, keep_checkpoints=2), run="r")
    folder = root / "models" / "r" / "checkpoints"
    assert sorted(p.name for p in folder.glob("step-*")) == ["step-00000004", "step-00000006"]
    assert (folder / "latest").read_text().strip() == "step-00000006"
    assert not list(folder.glob(".*")), "no temporary folders are left behind"


def test_resume_refuses_another_batch_setting_and_fresh_starts_over(root: Path):
    train(root, config(steps=2), run="r")
    with pytest.raises(IncompatibleRunError, match="tokens_per_batch"):
        train(root, config(steps=4, tokens_per_batch=2 * TPB), run="r")
    result = train(root, config(steps=2, tokens_per_batch=2 * TPB), run="r", resume=False)
    assert result.step == 2 and [r["step"] for r in records(result.run)] == [1, 2]


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="steps"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="unknown model"):
        TrainConfig(model="huge")
    with pytest.raises(ValueError, match="max_seq_len"):
        TrainConfig(tokens_per_batch=128, max_seq_len=256)
    with pytest.raises(ValueError, match="run name"):
        ckpt.run_dir("/r", "../escape")


def test_validation_loss_is_logged_when_asked(root: Path):
    train(root, config(steps=2, eval_every=2, eval_batches=2), run="r")
    last = records(root / "models" / "r")[-1]
    assert last["val_loss"] > 0 and last["val_targets"] > 0


def test_cli_trains_resumes_and_explains_bad_devices(root: Path):
    from pipelines.cli import cli

    runner = CliRunner()
    args = ["train", "--config", "tiny", "--root", str(root), "--tokens-per-batch", str(TPB), "--device", "cpu"]
    out = runner.invoke(cli, [*args, "--steps", "2"])
    assert out.exit_code == 0, out.output
    assert "2 steps of tiny" in out.output
    out = runner.invoke(cli, [*args, "--steps", "3"])  # resumes: one more step
    assert out.exit_code == 0, out.output
    assert [r["step"] for r in records(root / "models" / "tiny")] == [1, 2, 3]
    again = runner.invoke(cli, [*args, "--steps", "3"])  # finished: nothing to do, the last loss, never nan
    assert again.exit_code == 0 and "nan" not in again.output and "nothing to do" in again.output
    assert f"loss {records(root / 'models' / 'tiny')[-1]['loss']:.4f} at step 3" in " ".join(again.output.split())
    assert runner.invoke(cli, ["train", "--root", str(root)]).exit_code == 2  # --steps is required
    if not torch.cuda.is_available():
        bad = runner.invoke(cli, [*args[:-2], "--device", "cuda", "--steps", "1", "--run-name", "gpu"])
        assert bad.exit_code == 1 and "CUDA" in bad.output


def test_dagster_asset_trains_one_epoch_by_default(root: Path):
    import dagster as dg

    from model.train import steps_per_epoch
    from pipelines.defs.model.assets import timeline_model
    from pipelines.defs.resources import LongitudeResource

    result = dg.materialize(
        [timeline_model],
        resources={"longitude": LongitudeResource(root=str(root))},
        run_config={"ops": {"timeline_model": {"config": {"tokens_per_batch": TPB, "run_name": "dg"}}}},
    )
    assert result.success
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    epoch = steps_per_epoch(root, config())
    assert meta["steps"].value == epoch == len(records(root / "models" / "dg"))
    assert meta["parameters"].value > 0 and meta["loss"].value > 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_on_cuda_uses_bf16_autocast_and_fp32_weights(root: Path):
    result = train(root, config(steps=3), run="gpu", device="cuda")
    rows = records(result.run)
    assert len(rows) == 3 and all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)
    state, _, _ = ckpt.load_weights(result.checkpoint)
    assert all(t.dtype == torch.float32 for t in state.values())
