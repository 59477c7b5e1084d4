"""A FHIR parse begun ahead of its step (the CLI's head start) publishes nothing by itself, and the step that
takes it over writes exactly what a parse of its own would have written."""

import shutil
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.fhir import head_start
from pipelines.defs.fhir.ingest import BEGUN, ingest_fhir
from schemas.layout import Layout
from tests.conftest import TEST_SECRET, write_bundle, write_ndjson
from tests.fhir_fixtures import condition, encounter, lab, patient


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    fhir = tmp_path / "landing" / "fhir"
    write_bundle(fhir / "p1.json", [patient("p1"), encounter("e1", "p1", "2020-01-02T10:00:00Z",
                                                              "2020-01-02T11:00:00Z"), condition("c1", "p1", "2019-05")])  # fmt: skip
    write_ndjson(fhir / "Patient.ndjson", [patient("p2")])
    write_ndjson(fhir / "Observation.ndjson", [lab("o1", "p2", "2022-02-02", ref="Patient/"), "{not json"])
    return tmp_path


def _outputs(root: Path) -> dict[str, pl.DataFrame]:
    layout = Layout(root)
    events = sorted(layout.raw.glob("fhir/events/*/*.parquet"))
    return {
        "events": pl.read_parquet(events, hive_partitioning=False).sort("source_file", "position", "code"),
        "quarantine": pl.read_parquet(sorted(layout.quarantine("fhir_raw").glob("*.parquet"))),
        "ledger": pl.read_parquet(layout.ledger("fhir_raw")),
        "codes": pl.read_parquet(layout.raw / "fhir" / "codes" / "codes.parquet"),
    }


def _staging(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".staging")]


def test_a_taken_over_parse_writes_what_the_step_alone_writes(landing: Path, tmp_path_factory):
    other = tmp_path_factory.mktemp("plain")
    shutil.copytree(landing / "landing", other / "landing")
    plain = ingest_fhir(Layout(other), Keyring(TEST_SECRET), 2, workers=2)

    layout = Layout(landing)
    assert head_start.begin(layout, Keyring(TEST_SECRET), 2, False, 2)
    assert not (layout.raw / "fhir").exists()  # begun: staged only, nothing published
    seen = []
    summary = ingest_fhir(
        layout, Keyring(TEST_SECRET), 2, workers=2, on_unit_done=lambda d, t: seen.append((d, t))
    )
    assert summary == plain and seen[-1] == (3, 3)  # two NDJSON files alone, the bundle in a unit of its own
    mine, theirs = _outputs(landing), _outputs(other)
    assert all(mine[k].equals(theirs[k]) for k in mine)
    assert not _staging(landing) and not BEGUN  # taken: nothing left to cancel


def test_a_parse_begun_with_other_settings_is_cancelled_not_published(landing: Path):
    layout = Layout(landing)
    assert head_start.begin(layout, Keyring(TEST_SECRET), 4, False, 2)  # 4 shards; the step asks for 2
    ingest_fhir(layout, Keyring(TEST_SECRET), 2, workers=2)
    assert not _staging(landing)
    shards = {p.parent.name for p in layout.raw.glob("fhir/events/*/*.parquet")}
    assert shards and shards <= {"shard=0", "shard=1"}


def test_a_cancelled_parse_leaves_nothing(landing: Path):
    layout = Layout(landing)
    assert head_start.begin(layout, Keyring(TEST_SECRET), 2, False, 2)
    head_start.cancel()
    assert not _staging(landing) and not (layout.raw / "fhir").exists()
    assert not head_start.begin(layout, Keyring(TEST_SECRET), 2, False, 1)  # one process: parsed in the step
