"""The tokenizer: fitted on train only, UNK per vocabulary, value bins, time gaps, statics, round trip."""

from datetime import datetime
from itertools import pairwise

import numpy as np
import polars as pl
import pytest

from model.tokenizer import GAP_BINS, Tokenizer, TokenizerConfig, detokenize, fit_tokenizer, tokenize_events
from schemas.meds import DATA_SCHEMA, SPLITS
from schemas.tokens import trajectory_path
from tests.model.synthetic_meds import LABS, ONLY_IN

GAP_MINUTES = np.array([lo for _, lo in GAP_BINS] + [np.inf])


def _meds(layout, split=None) -> pl.DataFrame:
    splits = [split] if split else SPLITS
    files = [p for s in splits for p in sorted((layout.meds / "data" / s).glob("*.parquet"))]
    return pl.concat([pl.read_parquet(p).with_columns(shard=int(p.stem)) for p in files])


def _trajectories(layout, split=None) -> pl.DataFrame:
    splits = [split] if split else SPLITS
    return pl.concat([pl.read_parquet(trajectory_path(layout.tokens, s, k)) for s in splits for k in range(2)])


def _expected_code(tok: Tokenizer, code: str) -> str:
    names = set(tok.tokens())
    if code == "MEDS_DEATH" or (code in names and tok.vocabulary["kind"][tok.id(code)] == "code"):
        return code
    unk = code.split("//")[0] + "//UNK"
    return unk if unk in names else "UNK"


def _to_canonical(code: str, value: float, unit: str) -> float | None:
    """Independent of the tokenizer's unit table: conversions for the synthetic labs only."""
    for c, canon, _, _, _alt, factor in LABS:
        if c != code:
            continue
        if unit == canon:
            return value
        if c == "LOINC//8310-5":
            return (value - 32) * 5 / 9
        return value / factor if factor else None
    raise AssertionError(code)


def test_round_trip_gives_back_every_row_with_codes_times_and_value_bins(tiny_root):
    layout, tok = tiny_root
    train = _meds(layout, "train").filter(pl.col("numeric_value").is_not_null())
    train = train.with_columns(
        v=pl.struct("code", "numeric_value", "unit").map_elements(
            lambda r: _to_canonical(r["code"], r["numeric_value"], r["unit"]), return_dtype=pl.Float64
        )
    ).drop_nulls("v")
    edges = {
        code: np.unique(np.quantile(g["v"].to_numpy(), np.arange(1, 10) / 10))
        for (code,), g in train.group_by("code")
    }
    for split in SPLITS:
        meds = _meds(layout, split).sort(["subject_id", "time"], nulls_last=False, maintain_order=True)
        back = detokenize(tok, _trajectories(layout, split)).sort("subject_id", maintain_order=True)
        assert back.height == meds.height, "every MEDS row comes back as exactly one code"
        assert back["subject_id"].to_list() == meds["subject_id"].to_list()
        assert back["code"].to_list() == [_expected_code(tok, c) for c in meds["code"].to_list()]
        assert (back["time"].is_null() == meds["time"].is_null()).all()
        err = (back["time"] - meds["time"]).dt.total_seconds().abs().max()
        assert err is None or err <= 120, "float32 years keep times within 2 minutes"
        for row, orig in zip(back.iter_rows(named=True), meds.iter_rows(named=True), strict=True):
            if orig["numeric_value"] is None:
                assert row["value_bin"] is None and not row["value_unk"]
                continue
            v = _to_canonical(orig["code"], orig["numeric_value"], orig["unit"])
            if v is None:
                assert row["value_unk"], "a value whose unit cannot be converted is kept as VALUE//UNK"
                continue
            expected = int(np.searchsorted(edges[orig["code"]], v, side="right")) + 1
            # float32 storage of the value can flip a bin only when it sits on an edge
            assert row["value_bin"] == expected or np.isclose(edges[orig["code"]], v, rtol=1e-6).any()
            assert row["value_low"] <= v * (1 + 1e-6) + 1e-6 and v < row["value_high"] * (1 + 1e-6) + 1e-6


def test_vocabulary_is_fitted_on_train_only(tiny_root):
    layout, tok = tiny_root
    names = set(tok.tokens())
    for only in ONLY_IN.values():
        assert not names & set(only)
    assert "NEWVOCAB//UNK" not in names
    # Refitting on the train rows alone gives byte-identical tables: nothing else was read.
    alone = fit_tokenizer(_meds(layout, "train").drop("shard").lazy(), tok.config)
    assert alone.fingerprint() == tok.fingerprint()
    back = detokenize(tok, _trajectories(layout))
    codes = set(back["code"].to_list())
    assert {"SNOMED//UNK", "RXNORM//UNK", "UNK"} <= codes
    assert not codes & {c for only in ONLY_IN.values() for c in only}
    tuning_only = back.join(_trajectories(layout, "tuning").select("subject_id"), on="subject_id")
    assert tuning_only.filter(pl.col("code") == "UNK").height >= tuning_only["subject_id"].n_unique()


def test_rare_codes_map_to_their_vocabulary_unk_and_counts_add_up(tiny_root):
    layout, tok = tiny_root
    train = _meds(layout, "train")
    counts = train.group_by("code").len()
    rare = counts.filter((pl.col("len") < tok.config.min_count) & (pl.col("code") != "MEDS_DEATH"))
    assert rare.height > 0, "the fixture must have rare codes"
    voc = tok.vocabulary
    assert not set(rare["code"].to_list()) & set(voc["token"].to_list())
    # Train rows are all accounted for: own-token counts + UNK counts + DEATH == train rows.
    assert (
        int(voc.filter(pl.col("kind").is_in(["code", "unk"]))["count"].sum())
        + int(voc.filter(pl.col("token") == "DEATH")["count"].sum())
        == train.height
    )


def test_gap_tokens_bracket_the_real_gap_between_events(tiny_root):
    layout, tok = tiny_root
    traj = _trajectories(layout, "tuning")
    meds = _meds(layout, "tuning").filter(pl.col("time").is_not_null())
    names = np.array(tok.tokens())
    gap_index = {f"TIME//{name}": i for i, (name, _) in enumerate(GAP_BINS)}
    n_checked = 0
    for sid, ids in zip(traj["subject_id"].to_list(), traj["input_ids"].to_list(), strict=True):
        times = meds.filter(pl.col("subject_id") == sid)["time"].unique(maintain_order=True).to_list()
        gaps = [names[i] for i in ids if names[i].startswith("TIME//")]
        # One gap token per new time at least 5 minutes after the previous event time.
        expected = sum(1 for a, b in pairwise(times) if (b - a).total_seconds() >= 300)
        assert len(gaps) == expected
        real = [(b - a).total_seconds() / 60 for a, b in pairwise(times)]
        real = [g for g in real if g >= 5]
        for tok_name, minutes in zip(gaps, real, strict=True):
            k = gap_index[tok_name]
            assert GAP_MINUTES[k] <= minutes < GAP_MINUTES[k + 1]
            n_checked += 1
    assert n_checked > 100


def test_trajectory_has_bos_statics_timeline_markers_and_death(tiny_root):
    layout, tok = tiny_root
    traj = _trajectories(layout)
    meds = _meds(layout)
    names = tok.tokens()
    died = set(meds.filter(pl.col("code") == "MEDS_DEATH")["subject_id"].to_list())
    births = dict(meds.filter(pl.col("code") == "MEDS_BIRTH").select("subject_id", "time").iter_rows())
    for sid, ids, times, length in traj.select("subject_id", "input_ids", "times", "length").iter_rows():
        toks = [names[i] for i in ids]
        assert length == len(ids) == len(times)
        assert toks[0] == "BOS" and toks[-2:] == ["TIMELINE_END", "EOS"]
        start = toks.index("TIMELINE_START")
        statics = toks[1:start]
        assert any(t.startswith("GENDER//") for t in statics)
        year = births[sid].year
        assert f"BIRTH_YEAR//{year - (year - 1900) % 5}" in statics
        assert ("DEATH" in toks) == (sid in died)
        assert np.all(np.diff(np.asarray(times[start:], np.float64)) >= -1e-6), "times never go back"


def _frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["subject_id", "time", "code", "numeric_value", "unit"], orient="row"
    ).with_columns(pl.col("numeric_value").cast(pl.Float32), text_value=pl.lit(None, pl.String))


def test_units_are_normalized_per_code_before_binning():
    t0 = datetime(2000, 1, 1)  # noqa: DTZ001 - MEDS times are naive UTC
    train = _frame([(1, t0, "LOINC//718-7", float(v), "g/dL") for v in range(1, 101)] * 2)
    # More rows without a unit than with one: the canonical unit is still the real unit.
    train = pl.concat([train, _frame([(1, t0, "LOINC//718-7", float(v), None) for v in range(1, 101)] * 3)])
    tok = fit_tokenizer(train.lazy(), TokenizerConfig(min_count=1, n_value_bins=4))
    assert tok.value_bins["unit"].to_list() == ["g/dL"]
    probe = _frame(
        [
            (2, t0, "LOINC//718-7", 80.0, "g/dL"),
            (2, t0, "LOINC//718-7", 800.0, "g/L"),  # the same value in another unit
            (2, t0, "LOINC//718-7", 80.0, "mmol/L"),  # not convertible: kept, as VALUE//UNK
            (2, t0, "LOINC//718-7", 80.0, "G/DL"),  # spelling only
            (2, t0, "LOINC//718-7", 80.0, None),  # no unit: taken as the canonical unit
            (2, t0, "LOINC//718-7", 20.0, None),
        ]
    )
    back = detokenize(tok, tokenize_events(tok, probe.select(DATA_SCHEMA.names)))
    assert back["value_bin"].to_list() == [4, 4, None, 4, 4, 1]
    assert back["value_unk"].to_list() == [False, False, True, False, False, False]


def test_unknown_vocabulary_and_values_of_unbinned_codes_are_never_dropped():
    t0 = datetime(2000, 1, 1)  # noqa: DTZ001
    tok = fit_tokenizer(_frame([(1, t0, "SNOMED//1", None, None)] * 3).lazy(), TokenizerConfig(min_count=2))
    probe = _frame(
        [(5, None, "GENDER//male", None, None), (5, t0, "ICD10//X", 1.5, "mg"), (5, t0, "SNOMED//2", None, None)]
    )
    back = detokenize(tok, tokenize_events(tok, probe))
    assert back["code"].to_list() == ["UNK", "UNK", "SNOMED//UNK"]
    assert back["value_unk"].to_list() == [False, True, False]
    assert back["time"].is_null().to_list() == [True, False, False]


def test_saved_tokenizer_loads_identically_and_rejects_tampering(tiny_root, tmp_path):
    _, tok = tiny_root
    tok.save(tmp_path)
    again = Tokenizer.load(tmp_path)
    assert again.fingerprint() == tok.fingerprint() and again.tokens() == tok.tokens()
    config = (tmp_path / "tokenizer.json").read_text().replace('"min_count": 3', '"min_count": 4')
    (tmp_path / "tokenizer.json").write_text(config)
    with pytest.raises(ValueError, match="fingerprint"):
        Tokenizer.load(tmp_path)


def test_a_shard_mixing_binned_codes_with_numeric_codes_train_never_saw_tokenizes():
    """Held-out shards hold numeric codes without bins from train: they get VALUE//UNK, the rest keep bins."""
    t0 = datetime(2000, 1, 1)  # noqa: DTZ001
    train = _frame([(1, t0, "LOINC//718-7", float(v), "g/dL") for v in range(1, 101)])
    train = pl.concat([train, _frame([(1, t0, "LOINC//2345-7", None, None)] * 3)])  # seen, never with a value
    tok = fit_tokenizer(train.lazy(), TokenizerConfig(min_count=1, n_value_bins=4))
    probe = _frame(
        [
            (2, t0, "LOINC//718-7", 80.0, "g/dL"),
            (2, t0, "LOINC//9999-9", 3.0, "mg"),  # unseen code with a value
            (2, t0, "LOINC//2345-7", 4.0, "mmol/L"),  # seen code, value never seen in train
            (2, t0, "LOINC//718-7", 20.0, "g/dL"),
        ]
    )
    back = detokenize(tok, tokenize_events(tok, probe))
    assert back["code"].to_list() == ["LOINC//718-7", "LOINC//UNK", "LOINC//2345-7", "LOINC//718-7"]
    assert back["value_bin"].to_list() == [4, None, None, 1]
    assert back["value_unk"].to_list() == [False, True, True, False]
