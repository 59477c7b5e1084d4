"""The hostile corpus: one broken input per case under tests/hostile/<reader>/<case>/, with the quarantine
reason and position it must produce beside it (expected.yaml). Adding a case is adding a folder.

For every case: the reader finishes, each bad record is quarantined with the expected code, position and
reason, every good record is accepted, and no planted value appears in any reason, ledger or summary.
"""

from pathlib import Path

import pytest
import yaml

from tests.hostile.harness import READERS, land

HERE = Path(__file__).parent
CASES = sorted(p for reader in READERS for p in (HERE / reader).glob("*/expected.yaml"))


@pytest.mark.parametrize("expected_file", CASES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_hostile_case(expected_file: Path, tmp_path: Path):
    case, reader = expected_file.parent, expected_file.parent.parent.name
    expected = yaml.safe_load(expected_file.read_text())
    root = tmp_path / "root"
    land(case, reader, root, expected.get("build", []))
    outcome = READERS[reader][1](root)

    got = sorted((r["position"], r["reason_code"], r["reason"]) for r in outcome.quarantine)
    want = expected.get("quarantined", [])
    assert len(got) == len(want), f"quarantine rows: {got}"
    for w in want:
        match = [g for g in got if g[0] == w["position"] and g[1] == w["reason_code"] and w["reason"] in g[2]]
        assert match, f"no quarantine row like {w}; got {got}"
    assert outcome.accepted == expected["accepted"], outcome.ledger
    assert (outcome.ledger["n_in"] == outcome.ledger["n_out"] + outcome.ledger["n_quarantined"]).all()
    assert int(outcome.ledger["n_quarantined"].sum()) == len(want)
    for ident in expected.get("identifiers", []):
        assert ident in outcome.identifiers
    for value in expected.get("planted", []):
        assert value not in outcome.text, f"a planted value is quoted: {value!r}"


def test_the_corpus_covers_every_reader():
    assert {p.parent.parent.name for p in CASES} == set(READERS)


def test_the_encoding_of_each_csv_file_is_detected_and_recorded(tmp_path: Path):
    import polars as pl

    from schemas.layout import Layout
    from schemas.publish import dataset_files
    from tests.hostile.harness import run_tables

    case = HERE / "tables" / "cp1252_file"
    root = tmp_path / "root"
    land(case, "tables", root, yaml.safe_load((case / "expected.yaml").read_text())["build"])
    run_tables(root)
    [path] = dataset_files(Layout(root).raw / "tables" / "src", "files/*.parquet")
    got = dict(pl.read_parquet(path).iter_rows())
    assert got == {"landing/tables/src/patients.csv": "cp1252", "landing/tables/src/labs.csv": "utf-8"}
