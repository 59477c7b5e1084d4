"""A note that names another patient of the root has that name replaced, so the PHI audit passes."""

from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds.build import build_shard
from pipelines.defs.notes.deidentify import deidentify_shard
from quality.phi_audit import audit
from schemas.layout import Layout
from tests.conftest import TEST_SECRET, write_bundle
from tests.fhir_fixtures import patient
from tests.pipelines.notes.test_notes import _doc

KEYS = Keyring(TEST_SECRET)
FRACTIONS = (1.0, 0.0, 0.0)
# Constructed names: the subject, another patient of the root, and a third whose surname is a clinical word.
NOTE = (
    "Patient Brakspear seen today. Bed 2 (Brakspear) stable.\ncc: ottoline brakspear\n"
    "Pulse 72, regular. Pulses palpable. Plan: recheck in 2 weeks."
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_bundle(
        tmp_path / "landing" / "fhir" / "b.json",
        [
            patient("pa1", birth="1950-05-06", name=[{"family": "Quixley", "given": ["Harriet"]}]),
            patient("pa2", birth="1948-01-02", name=[{"family": "Brakspear", "given": ["Ottoline"]}]),
            patient("pa3", birth="1960-03-04", name=[{"family": "Pulse", "given": ["Hazel"]}]),
            _doc("d1", "pa1", NOTE),
        ],
    )
    return tmp_path


def _scrubbed(root: Path) -> str:
    notes = pl.read_parquet(sorted(Layout(root).notes.glob("*/*.parquet")))
    assert notes.height == 1
    return notes["text"][0]


def test_another_patients_name_in_a_note_is_replaced_and_the_audit_passes(root: Path):
    layout = Layout(root)
    ingest_fhir(layout, KEYS, 1)
    build_shard(layout, KEYS, 0, FRACTIONS)
    deidentify_shard(layout, KEYS, 0, FRACTIONS)
    text = _scrubbed(root)
    assert "brakspear" not in text.lower() and "ottoline" not in text.lower()
    assert "Pulse 72, regular. Pulses palpable." in text  # a surname that is a clinical word stays prose
    assert text.startswith("Patient ") and " seen today. Bed 2 (" in text and "\ncc: " in text
    result = audit(root, KEYS)
    assert result.passed, result.by_table()


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(1800)
def test_the_default_run_finishes_when_a_note_names_another_patient(root: Path):
    from tests.pipelines.test_unseen_roots import materialize_everything

    materialize_everything(root, "100/0/0")  # raises if a step fails or a blocking check (phi_audit) fails
    assert "brakspear" not in _scrubbed(root).lower()
    assert audit(root, KEYS).passed
