"""Model and feature outputs are artifacts with their own checks, not tables: a model run's tokenizer copy is
never validated as a data table, and its own check catches an altered copy."""

# ruff: noqa: DTZ001 -- MEDS times are naive UTC timestamps (schemas.meds)
from datetime import datetime
from pathlib import Path

import polars as pl

from model.checkpoint import TOKENIZER_DIR
from model.tokenizer.vocab import fit_tokenizer
from pipelines.defs.model.checks import runs_intact
from quality.suite_checks import recheck_root
from quality.tables import inventory
from tests.quality.conftest import Root


def _model_run(root: Root) -> Path:
    rows = [{"subject_id": s, "time": datetime(2020, 1, 1 + i), "code": c, "numeric_value": v, "unit": None}
            for s in range(3) for i, (c, v) in enumerate([("LOINC//2345-7", 90.0 + s), ("SNOMED//44054006", None)])]  # fmt: skip
    tok = fit_tokenizer(pl.LazyFrame(rows, schema_overrides={"numeric_value": pl.Float32}))
    run = root.path / "models" / "tiny"
    tok.save(run / TOKENIZER_DIR)
    (run / "run.json").write_text("{}")
    return run


def test_a_tokenizer_copy_is_an_artifact_checked_by_its_fingerprint_not_a_table(root: Root):
    run = _model_run(root)
    inv = inventory(root.path)
    assert Path("models/tiny/tokenizer/vocabulary.parquet") in inv.artifacts
    assert not [f for f in inv.files if f.rel.parts[0] == "models"] and inv.unregistered == []
    assert not [r for r in recheck_root(root.path) if not r.passed]  # nothing validated it as a table
    assert runs_intact(root.path / "models").passed
    vocab = pl.read_parquet(run / TOKENIZER_DIR / "vocabulary.parquet")
    vocab.head(vocab.height - 1).write_parquet(run / TOKENIZER_DIR / "vocabulary.parquet")  # a row lost
    broken = runs_intact(root.path / "models")
    assert not broken.passed and broken.examples == [{"run": "tiny", "problem": "ValueError"}]
