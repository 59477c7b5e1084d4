"""Data the tokenizer never saw: unseen codes and values in every split, roots without units or train subjects."""

from datetime import datetime, timedelta

import polars as pl
import pytest

from model.tokenizer import Tokenizer, TokenizerConfig, detokenize, fit_vocabulary, tokenize_shard
from model.tokenizer.vocab import UNK, VALUE_UNK
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.meds import DATA_SCHEMA, SPLITS
from schemas.tokens import trajectory_path

T0 = datetime(2010, 1, 1)  # noqa: DTZ001 - MEDS times are naive UTC
CONFIG = TokenizerConfig(min_count=2, n_value_bins=4)
HELD = tuple(s for s in SPLITS if s != "train")


def _rows(subject: int, events: list[tuple[str, float | None, str | None]]) -> list[dict]:
    return [
        {"subject_id": subject, "time": T0 + timedelta(days=i), "code": c, "numeric_value": v, "unit": u}
        for i, (c, v, u) in enumerate(events)
    ]


def _write(layout: Layout, split: str, shard: int, rows: list[dict]) -> None:
    frame = pl.DataFrame(rows, schema={k: v for k, v in pl.from_arrow(DATA_SCHEMA.empty_table()).schema.items()})
    write_parquet(frame.to_arrow(), layout.meds_shard(split, shard), DATA_SCHEMA)


# Train: a binned lab (g/dL), a code seen only without a value, and SNOMED/LOINC codes frequent enough to keep.
TRAIN = [("LOINC//718-7", float(v), "g/dL") for v in range(10, 18)] + [("SNOMED//1", None, None)] * 2
UNSEEN = [
    ("LOINC//718-7", 99.0, "g/dL"),  # known code, value far above anything in train: the top bin, not UNK
    ("LOINC//718-7", 12.0, "mmol/L"),  # known code, a unit that does not convert: VALUE//UNK
    ("LOINC//718-7", 120.0, "g/L"),  # known code, a unit that converts: binned (12 g/dL)
    ("LOINC//9999-9", 3.0, "mg"),  # unseen code of a known vocabulary, with a value
    ("SNOMED//1", 4.0, "mg"),  # known code that train saw only without a value
    ("ICD10CM//I10", 1.0, None),  # a vocabulary train never saw, with a value
    ("SNOMED//2", None, None),  # unseen code of a known vocabulary, no value
]
EXPECTED = [
    ("LOINC//718-7", 4, False),
    ("LOINC//718-7", None, True),
    ("LOINC//718-7", 2, False),
    ("LOINC//UNK", None, True),
    ("SNOMED//1", None, True),
    (UNK, None, True),
    ("SNOMED//UNK", None, False),
]


@pytest.fixture
def root(tmp_path) -> tuple[Layout, Tokenizer]:
    layout = Layout(tmp_path)
    _write(layout, "train", 0, _rows(1, TRAIN) + _rows(2, TRAIN))
    for k, split in enumerate(HELD):
        _write(layout, split, 1, _rows(10 + k, UNSEEN))
    tok = fit_vocabulary(layout, CONFIG)
    for shard in (0, 1):
        tokenize_shard(layout, tok, shard)
    return layout, tok


@pytest.mark.parametrize("split", HELD)
def test_codes_and_values_train_never_saw_get_their_vocabulary_unknowns_in_every_split(root, split):
    """(In train itself a code below min_count is the unseen case: see test_tokenizer's rare-code test.)"""
    layout, tok = root
    back = detokenize(tok, pl.read_parquet(trajectory_path(layout.tokens, split, 1)))
    assert list(zip(back["code"], back["value_bin"], back["value_unk"], strict=True)) == EXPECTED


def test_a_root_whose_events_have_no_unit_at_all_fits_and_tokenizes(tmp_path):
    """A DICOM-only root: numeric values, never a unit (the column reads back as Null-typed in polars)."""
    layout = Layout(tmp_path)
    rows = [("IMAGING//CT", float(v), None) for v in range(8)] + [("IMAGING//MR", None, None)] * 2
    _write(layout, "train", 0, _rows(1, rows))
    _write(layout, "held_out", 0, _rows(2, [("IMAGING//CT", 3.5, None), ("IMAGING//US", 1.0, None)]))
    tok = fit_vocabulary(layout, CONFIG)
    assert tok.value_bins["unit"].to_list() == [None]
    tokenize_shard(layout, tok, 0)
    back = detokenize(tok, pl.read_parquet(trajectory_path(layout.tokens, "held_out", 0)))
    assert back["code"].to_list() == ["IMAGING//CT", "IMAGING//UNK"]
    assert back["value_unk"].to_list() == [False, True] and back["value_bin"][0] is not None


def test_a_root_without_train_subjects_fits_structural_tokens_and_every_code_is_unknown(tmp_path):
    """All subjects in held_out (a one-patient root, or splits 0/0/100): the run goes on, nothing is dropped."""
    layout = Layout(tmp_path)
    _write(layout, "held_out", 0, _rows(7, UNSEEN))
    tok = fit_vocabulary(layout, CONFIG)
    assert set(tok.vocabulary["kind"].unique()) == {"special", "time", "value", "static"}
    assert Tokenizer.load(layout.tokens).fingerprint() == tok.fingerprint()
    stats = tokenize_shard(layout, tok, 0)
    assert list(stats) == ["held_out"] and stats["held_out"]["unk_rate"] == 1.0
    back = detokenize(tok, pl.read_parquet(trajectory_path(layout.tokens, "held_out", 0)))
    assert back["code"].to_list() == [UNK] * len(UNSEEN)
    with_value = [v is not None for _, v, _ in UNSEEN]
    assert back["value_unk"].to_list() == with_value
    assert tok.id(VALUE_UNK) >= 0


def test_an_empty_root_fits_and_tokenizes_nothing(tmp_path):
    layout = Layout(tmp_path)
    tok = fit_vocabulary(layout, CONFIG)
    assert tokenize_shard(layout, tok, 0) == {}


def test_the_model_asset_on_a_root_without_train_subjects_trains_nothing_and_says_so(tmp_path):
    import dagster as dg

    from pipelines.defs.model.assets import timeline_model
    from pipelines.defs.resources import LongitudeResource

    layout = Layout(tmp_path)
    _write(layout, "held_out", 0, _rows(7, UNSEEN))
    tokenize_shard(layout, fit_vocabulary(layout, CONFIG), 0)
    result = dg.materialize([timeline_model], resources={"longitude": LongitudeResource(root=str(tmp_path))})
    assert result.success
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["trained"].value is False and meta["reason"].value == "no train subjects"
    assert not (tmp_path / "models").exists()
