"""Evaluation: held-out loss vs n-gram baselines on the same targets, leak-free probe embeddings, sampling."""

import itertools
import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from click.testing import CliRunner

from model import checkpoint as ckpt
from model.evaluate import NGramBaselines, evaluate_run, fit_baselines, next_token_report, train_pairs
from model.probe import (
    Trajectories,
    embeddings_at,
    feature_baseline,
    probe_task,
    read_label_table,
    task_label_dirs,
)
from model.sample import continuation_events, gap_years, sample_continuation
from model.tokenizer import Tokenizer, tokenize_events
from model.tokenizer.vocab import BOS, EOS, PAD_ID, TIMELINE_END
from model.train import train, train_config
from schemas.io import write_parquet
from schemas.labels import label_path, label_schema
from schemas.layout import Layout
from tests.model.test_train import TPB, train_root

CONTEXT = 256  # the tiny config's context length


@pytest.fixture(scope="module")
def run_root(tiny_root, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with a 3-step tiny run `models/tiny/` (weights barely trained: the tests check plumbing)."""
    root = train_root(tiny_root, tmp_path_factory.mktemp("eval"))
    torch.manual_seed(0)
    train(root, train_config("tiny", steps=3, tokens_per_batch=TPB), run="tiny")
    return root


@pytest.fixture(scope="module")
def model(run_root: Path):
    m = ckpt.load_model(run_root / "models" / "tiny")
    torch.nn.init.normal_(m.time.proj.weight, std=0.1)  # zero at init; non-zero so times reach the states
    return m


@pytest.fixture(scope="module")
def traj(run_root: Path) -> Trajectories:
    return Trajectories.load(run_root)


def trajectories(root: Path, split: str) -> pl.DataFrame:
    return pl.read_parquet(str(Layout(root).tokens / "trajectories" / split / "*.parquet"))


def meds(root: Path, split: str) -> pl.DataFrame:
    return pl.read_parquet(str(Layout(root).meds / "data" / split / "*.parquet"))


# ---- next-token report -------------------------------------------------------------------------------------
def test_train_pairs_are_consecutive_tokens_inside_each_subject(run_root: Path):
    prev, nxt = train_pairs(run_root, "train")
    expected = [
        (a, b)
        for ids in trajectories(run_root, "train")["input_ids"].to_list()
        for a, b in itertools.pairwise(ids)
    ]
    assert list(zip(prev.tolist(), nxt.tolist(), strict=True)) == expected


@pytest.mark.parametrize("context", [0, 5])
def test_witten_bell_bigram_is_a_distribution_for_seen_and_unseen_contexts(context):
    rng = np.random.default_rng(0)
    prev, nxt = rng.integers(1, 8, 200), rng.integers(0, 8, 200)  # token 0 never a context
    b = NGramBaselines.fit(prev, nxt, vocab_size=8)
    assert np.exp(b.unigram_logp).sum() == pytest.approx(1.0)
    p = np.exp(b.bigram_logp(np.full(8, context), np.arange(8)))
    assert p.sum() == pytest.approx(1.0) and (p > 0).all()
    if context == 0:
        np.testing.assert_allclose(p, np.exp(b.unigram_logp))  # unseen context: the unigram


def _window_loss(model, ids: list[int], times: list[float]) -> tuple[float, int]:
    """Summed loss of one subject run alone, window by window (windows of CONTEXT, each predicting its next)."""
    total, n = 0.0, 0
    for start in range(0, len(ids), CONTEXT):
        stop = min(start + CONTEXT, len(ids))
        x = torch.tensor(ids[start:stop])
        labels = torch.tensor([*ids[start + 1 : stop], ids[stop] if stop < len(ids) else -100])
        batch = {"input_ids": x, "labels": labels, "times": torch.tensor(times[start:stop]),
                 "cu_seqlens": torch.tensor([0, len(x)], dtype=torch.int32)}  # fmt: skip
        with torch.no_grad():
            out = model(batch, reduction="sum")
        total, n = total + float(out.loss), n + int(out.n_targets)
    return total, n


def test_report_scores_model_and_baselines_on_the_same_held_out_targets(run_root: Path, model):
    report = next_token_report(model, run_root, tokens_per_batch=TPB)
    held = trajectories(run_root, "held_out")
    assert report["targets"] == int((held["length"] - 1).sum())  # every token after a subject's first, once

    base = fit_baselines(run_root, model.config.vocab_size)
    pairs = [(a, b) for ids in held["input_ids"].to_list() for a, b in itertools.pairwise(ids)]
    prev, nxt = np.array(pairs).T
    assert report["unigram"]["loss"] == pytest.approx(-base.unigram_logp[nxt].mean(), abs=1e-4)
    assert report["bigram"]["loss"] == pytest.approx(-base.bigram_logp(prev, nxt).mean(), abs=1e-4)

    alone = [_window_loss(model, ids, t) for ids, t in held.select("input_ids", "times").iter_rows()]
    assert report["model"]["loss"] == pytest.approx(sum(s for s, _ in alone) / sum(n for _, n in alone), abs=1e-4)
    for name in ("model", "unigram", "bigram"):
        assert report[name]["perplexity"] == pytest.approx(math.exp(report[name]["loss"]), rel=1e-3)
    assert report["bigram"]["loss"] < report["unigram"]["loss"]


# ---- probes: embeddings strictly before the prediction time ------------------------------------------------
def _prediction_times(root: Path, split: str, per_subject: int = 2) -> pl.DataFrame:
    """Event times that follow a gap of over a day (so "strictly before" is unambiguous at float32)."""
    events = meds(root, split).filter(pl.col("time").is_not_null() & (pl.col("code") != "MEDS_BIRTH"))
    times = events.select("subject_id", "time").unique().sort("subject_id", "time")
    times = times.with_columns(gap=pl.col("time").diff().over("subject_id"))
    ok = times.filter(pl.col("gap") > pl.duration(days=1))
    return (
        ok.group_by("subject_id", maintain_order=True)
        .head(per_subject)
        .select("subject_id", pl.col("time").alias("prediction_time"))
    )


def test_history_is_exactly_the_tokens_of_events_before_the_prediction_time(run_root: Path, traj: Trajectories):
    tok = Tokenizer.load(run_root / "tokens")
    labels = _prediction_times(run_root, "held_out", per_subject=3)
    rows = traj.index_of(labels["subject_id"].to_numpy())
    prefix = traj.prefix_lengths(rows, labels["prediction_time"].cast(pl.Int64).to_numpy())
    events = meds(run_root, "held_out")
    for (subject, when), n in zip(labels.iter_rows(), prefix.tolist(), strict=True):
        before = events.filter(
            (pl.col("subject_id") == subject) & (pl.col("time").is_null() | (pl.col("time") < when))
        )
        expected = tokenize_events(tok, before).column("input_ids")[0].as_py()[:-2]  # minus TIMELINE_END, EOS
        row = int(traj.index_of(np.array([subject]))[0])
        assert traj.ids[traj.offsets[row] : traj.offsets[row] + n].tolist() == expected


def test_a_subject_without_history_or_trajectory_gets_no_embedding(traj: Trajectories):
    row = traj.index_of(np.array([traj.subject_ids[0], -5]))
    assert row[1] == -1
    assert traj.prefix_lengths(row, np.array([-(10**15), 0])).tolist() == [0, 0]  # 1938, before any token


def test_embedding_is_the_last_state_of_the_history_run_alone(model, traj: Trajectories):
    long_row = int(np.argmax(np.diff(traj.offsets)))
    assert traj.offsets[long_row + 1] - traj.offsets[long_row] > 2 * CONTEXT
    rows = np.array([0, 1, long_row, long_row, long_row])
    prefix = np.array([5, int(np.diff(traj.offsets)[1]), 100, CONTEXT + 40, 2 * CONTEXT + 10])
    got = embeddings_at(model, traj, rows, prefix, tokens_per_batch=CONTEXT)
    for j, (row, n) in enumerate(zip(rows, prefix, strict=True)):
        pos, half = n - 1, CONTEXT // 2
        start = max(0, -(-(pos - CONTEXT + 1) // half)) * half
        assert pos - start >= min(pos, half) and pos - start < CONTEXT  # at least half a context of history
        a, b = traj.offsets[row] + start, traj.offsets[row] + n
        batch = {"input_ids": torch.from_numpy(traj.ids[a:b]), "times": torch.from_numpy(traj.times[a:b])}
        with torch.no_grad():
            alone = model.hidden_states(batch)[-1].numpy()
        np.testing.assert_allclose(got[j], alone, rtol=1e-4, atol=1e-5)


def test_embedding_ignores_everything_at_or_after_the_prediction_time(model, traj: Trajectories):
    row, n = 2, 20
    before = embeddings_at(model, traj, np.array([row]), np.array([n]))
    a, b = traj.offsets[row] + n, traj.offsets[row + 1]
    ids, times = traj.ids.copy(), traj.times.copy()
    traj.ids[a:b] = np.random.default_rng(0).integers(1, model.config.vocab_size, b - a)
    traj.times[a:b] = traj.times[traj.offsets[row]] - 5.0  # even times before the whole history change nothing
    try:
        after = embeddings_at(model, traj, np.array([row]), np.array([n]))
    finally:
        traj.ids, traj.times = ids, times
    np.testing.assert_array_equal(before, after)


def _labels(root: Path, value: str = "boolean_value") -> pl.DataFrame:
    frames = [_prediction_times(root, split) for split in ("train", "held_out")]
    labels = pl.concat(frames)
    y = (labels["subject_id"] % 2 == 0).to_numpy()
    values = {"boolean_value": y, "integer_value": y.astype(np.int64), "float_value": y.astype(np.float32)}
    return labels.with_columns(pl.Series(value, values[value]))


def test_label_tables_are_read_from_a_file_or_a_folder_of_shards(run_root: Path, tmp_path: Path):
    labels = _labels(run_root)
    write_parquet(labels.to_arrow(), tmp_path / "one.parquet", label_schema("boolean_value"))
    half = len(labels) // 2
    for k, part in enumerate((labels[:half], labels[half:])):
        write_parquet(part.to_arrow(), tmp_path / "task" / f"{k}.parquet", label_schema("boolean_value"))
    for path in (tmp_path / "one.parquet", tmp_path / "task"):
        frame, column = read_label_table(path)
        assert column == "boolean_value" and frame.equals(labels)
    with pytest.raises(FileNotFoundError):
        read_label_table(tmp_path / "missing")
    aware = labels.with_columns(
        pl.col("prediction_time").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Paris")
    )
    aware.write_parquet(tmp_path / "aware.parquet")
    assert read_label_table(tmp_path / "aware.parquet")[0].equals(labels)  # zoned times read as naive UTC


def test_probe_fits_on_train_scores_held_out_and_skips_non_boolean_labels(run_root: Path, model, traj):
    labels = _labels(run_root)
    result = probe_task(model, traj, labels, "boolean_value")
    splits = pl.concat([pl.read_parquet(str(run_root / "meds" / "metadata" / "subject_splits.parquet"))])
    joined = labels.join(splits, on="subject_id")
    assert result["train_rows"] == joined.filter(pl.col("split") == "train").height
    assert result["test_rows"] == joined.filter(pl.col("split") == "held_out").height
    assert result["dropped_no_history"] == 0
    assert result["probe_auroc"] is None or 0.0 <= result["probe_auroc"] <= 1.0
    assert "baseline" not in result  # no root given
    skipped = probe_task(model, traj, _labels(run_root, "float_value"), "float_value")
    assert "float_value" in skipped["skipped"]


def test_feature_store_baseline_reads_the_task_feature_table(run_root: Path, tmp_path: Path):
    keys = (
        _labels(run_root)
        .join(pl.read_parquet(run_root / "meds" / "metadata" / "subject_splits.parquet"), on="subject_id")
        .with_columns(y=pl.col("boolean_value").cast(pl.Int8))
    )
    assert feature_baseline(tmp_path, "task", keys) is None  # no table: no baseline
    wide = keys.select(
        pl.int_range(pl.len()).alias("label_index"), "subject_id", "prediction_time", "boolean_value",
        pl.col("y").cast(pl.Float32).alias("CODE//x/all/present"),  # a feature that is the label itself
        pl.lit(None, pl.Float32).alias("CODE//y/all/last"),  # never observed: imputed, uninformative
    )  # fmt: skip
    folder = tmp_path / "features" / "tables" / "task" / "default"
    folder.mkdir(parents=True)
    wide.write_parquet(folder / "0.parquet")
    base = feature_baseline(tmp_path, "task", keys)
    assert base == {"auroc": 1.0, "features": 2, "rows": len(keys)}


def test_evaluate_run_writes_the_report_with_a_probe_per_task(run_root: Path):
    labels = _labels(run_root)
    for shard in (0, 1):
        part = labels.filter(pl.col("subject_id") % 2 == shard)  # any split of rows into shard files
        write_parquet(
            part.to_arrow(), label_path(Layout(run_root), "parity", shard), label_schema("boolean_value")
        )
    assert set(task_label_dirs(run_root)) == {"parity"}
    report = evaluate_run(run_root, "tiny")
    assert report["step"] == 3
    assert set(report["probes"]) == {"parity"} and report["probes"]["parity"]["baseline"] is None
    assert json.loads((run_root / "models" / "tiny" / "eval.json").read_text()) == report
    assert evaluate_run(run_root, "tiny", probes=False)["probes"] == {}


def test_evaluate_refuses_a_root_tokenized_by_another_tokenizer(run_root: Path, tmp_path: Path):
    run = run_root / "models" / "tiny"
    other = tmp_path / "models" / "tiny"
    other.parent.mkdir(parents=True)
    (tmp_path / "tokens").symlink_to(run_root / "tokens")
    import shutil

    shutil.copytree(run, other)
    info = json.loads((other / "run.json").read_text())
    (other / "run.json").write_text(json.dumps({**info, "tokenizer_fingerprint": "0" * 24}))
    with pytest.raises(ValueError, match="tokenizer"):
        evaluate_run(tmp_path, "tiny")


# ---- sampling ----------------------------------------------------------------------------------------------
def test_sampling_is_seeded_valid_and_advances_time_on_gap_tokens(run_root: Path, model):
    tok = Tokenizer.load(run_root / "tokens")
    row = trajectories(run_root, "held_out").row(0, named=True)
    a = sample_continuation(model, tok, row, prompt_tokens=30, max_new_tokens=40, seed=3)
    b = sample_continuation(model, tok, row, prompt_tokens=30, max_new_tokens=40, seed=3)
    assert a.new_ids.tolist() == b.new_ids.tolist() and 1 <= len(a.new_ids) <= 40
    assert PAD_ID not in a.new_ids and tok.id(BOS) not in a.new_ids
    assert a.prompt_ids.tolist() == row["input_ids"][:30]
    clock = np.r_[a.prompt_times[-1], a.new_times]
    np.testing.assert_allclose(np.diff(clock), gap_years(tok)[a.new_ids], atol=1e-4)
    if len(a.new_ids) < 40:
        assert a.new_ids[-1] == tok.id(EOS)


def test_a_prompt_longer_than_the_record_continues_its_last_event(run_root: Path, model):
    tok = Tokenizer.load(run_root / "tokens")
    row = trajectories(run_root, "held_out").row(0, named=True)
    cont = sample_continuation(model, tok, row, prompt_tokens=10**6, max_new_tokens=3)
    assert cont.prompt_ids.tolist() == row["input_ids"][:-2]  # up to TIMELINE_END, EOS
    assert row["input_ids"][-2] == tok.id(TIMELINE_END)


class _PrefersEos(torch.nn.Module):
    """A stand-in model whose next token is always EOS by a wide margin."""

    def __init__(self, config, eos: int) -> None:
        super().__init__()
        self.config, self.eos = config, eos

    def forward(self, batch, return_logits=False):
        from model.transformer import ModelOutput

        logits = torch.zeros(batch["input_ids"].shape[-1], self.config.vocab_size)
        logits[:, self.eos] = 20.0
        return ModelOutput(loss=None, logits=logits, n_targets=None)


def test_sampling_stops_at_eos_and_detokenizes_prompt_and_sample_as_one_timeline(run_root: Path, model):
    tok = Tokenizer.load(run_root / "tokens")
    row = trajectories(run_root, "held_out").row(0, named=True)
    cont = sample_continuation(_PrefersEos(model.config, tok.id(EOS)), tok, row, max_new_tokens=10)
    assert cont.new_ids.tolist() == [tok.id(EOS)]

    cont = sample_continuation(model, tok, row, prompt_tokens=40, max_new_tokens=30, seed=1)
    events = continuation_events(tok, cont)
    prompt = events.filter(pl.col("part") == "prompt")
    assert prompt.height == len(tok_events := _event_tokens(tok, cont.prompt_ids)) and prompt.height > 0
    assert prompt["code"].to_list() == [
        tok.tokens()[i] if tok.tokens()[i] != "DEATH" else "MEDS_DEATH" for i in tok_events
    ]
    sampled = events.filter(pl.col("part") == "sampled")
    assert prompt["time"][0] is None  # the static sex code comes before TIMELINE_START
    assert sampled["time"].null_count() == 0  # sampled after TIMELINE_START in the same timeline: dated


def _event_tokens(tok: Tokenizer, ids: np.ndarray) -> list[int]:
    kinds = tok.vocabulary["kind"].to_list()
    return [int(i) for i in ids if kinds[i] in ("code", "unk") or tok.tokens()[i] in ("DEATH", "UNK")]


def test_cli_evaluates_and_samples_readably(run_root: Path):
    from pipelines.cli import cli

    runner = CliRunner()
    out = runner.invoke(cli, ["train", "evaluate", "--root", str(run_root), "--run-name", "tiny", "--no-probes",
                              "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert {"model", "unigram", "bigram"} <= set(report["next_token"])
    out = runner.invoke(
        cli, ["train", "sample", "--root", str(run_root), "--run-name", "tiny", "--new-tokens", "20"]
    )
    assert out.exit_code == 0, out.output
    assert "sampled continuation" in out.output and "prompt (last events)" in out.output
    assert (
        runner.invoke(cli, ["train", "sample", "--root", str(run_root), "--subject-index", "999"]).exit_code == 1
    )
