"""A full `longitude materialize` on a hostile root: values planted in broken records of every reader must
appear nowhere outside landing/, raw/ and the quarantine's record column; not in the run log, not in the
Dagster event log or metadata, not in any quarantine reason, ledger, catalog or quality output."""

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import TEST_SECRET, write_bundle
from tests.fhir_fixtures import encounter, lab, patient
from tests.hostile.harness import _dicom_files

pytestmark = pytest.mark.integration

PLANTED = ("Zyxquorbel", "Quixotaneer", "MRN-77319461", "8675309112")
_MAPPING = (Path(__file__).parent / "tables" / "ragged_rows" / "mapping.yaml").read_text()


def _hostile_root(root: Path) -> None:
    fhir = root / "landing" / "fhir"
    bad_text = {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}], "text": {"div": PLANTED[0]}}
    write_bundle(fhir / "a.json", [
        patient("p1"), encounter("e1", "p1", "2020-01-02T10:00:00Z"),
        {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}, "code": bad_text,
         "onsetDateTime": "2020-01-02"},
        {**encounter("e2", "p1", "9999-12-31T23:00:00-05:00"), "identifier": [{"value": PLANTED[2]}]},
        {**lab("o1", "p1", "2020-01-02T10:10:00Z"), "valueQuantity": {"value": 1e308, "unit": PLANTED[1]}},
        {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {**patient("p2"), "birthDate": f"{PLANTED[3]}"}}]},
    ])  # fmt: skip
    (fhir / "b.ndjson").write_text(
        json.dumps(patient("p3")) + "\n" + '{"resourceType": "Patient", "id": "' + PLANTED[1] + '\n'
        + json.dumps({"resourceType": PLANTED[0]}) + "\n" + json.dumps(encounter("e3", "p3", "2021-01-01T00:00:00Z")) + "\n"
    )  # fmt: skip
    tables = root / "landing" / "tables" / "src"
    tables.mkdir(parents=True)
    (tables / "mapping.yaml").write_text(_MAPPING)
    (tables / "patients.csv").write_text("id,name,mrn,birth\np1,Ann Lee,MRN-1,1961-04-12\n")
    (tables / "labs.csv").write_text(
        f"pid,code,time,value\np1,GLU,2020-01-02T10:00:00Z,5.1\np1,GLU,{PLANTED[0]},2020,5,{PLANTED[2]}\n"
        f'p1,"NA {PLANTED[1]},2020-01-03T10:00:00Z,139\np1,NA,2020-01-04T10:00:00Z,{PLANTED[3]}e400\n'
    )
    notes = root / "landing" / "notes"
    notes.mkdir(parents=True)
    (notes / "good.txt").write_text("Seen for follow-up; stable.\n")
    (notes / "good.json").write_text('{"subject": "p1", "time": "2020-01-02T10:00:00Z"}')
    (notes / "bad.txt").write_text(f"{PLANTED[0]} note\n")
    (notes / "bad.json").write_text(
        json.dumps({"subject": "p1", "time": "2020-01-02T10:00:00Z", "type": {"x": PLANTED[1]}})
    )
    (notes / "bin.txt").write_bytes(b"%PDF-1.4 " + PLANTED[2].encode() + b"\x00\x01")
    dicom = root / "landing" / "dicom"
    dicom.mkdir(parents=True)
    _dicom_files(dicom, root)


def _leaks(text: str) -> list[str]:
    return [v for v in PLANTED if v in text]


def _scan_outputs(root: Path) -> dict[str, list[str]]:
    """Every file outside landing/ and raw/; of the quarantine, every column but the record itself."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[0] in ("landing", "raw") or ".raw.versions" in str(rel):
            continue
        if path.suffix == ".parquet":
            df = pl.read_parquet(path)
            if "quarantine" in rel.parts or any("quarantine" in p for p in rel.parts):
                df = df.drop("record", strict=False)
            text = df.write_ndjson()  # nested and list columns included
        else:
            text = path.read_bytes().decode("utf-8", "replace")
        if leaks := _leaks(text):
            found[str(rel)] = leaks
    return found


def test_no_planted_value_reaches_any_log_or_output(tmp_path: Path):
    root = tmp_path / "root"
    _hostile_root(root)
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    env.update(LONGITUDE_SECRET=TEST_SECRET.decode(), DAGSTER_HOME=str(home))
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "materialize", "--root", str(root),
           "--shards", "2", "--workers", "1"]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert (root / "meds").exists(), run.stderr[-3000:]
    assert not _leaks(run.stdout + run.stderr)
    # The event log: the root's own instance (<root>/dagster) or DAGSTER_HOME, whichever the CLI used.
    logs = [p for d in (home, root / "dagster") for p in d.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in logs), "no Dagster event log was written"
    assert not {str(p): leak for p in logs if (leak := _leaks(p.read_bytes().decode("utf-8", "replace")))}
    assert _scan_outputs(root) == {}
    # The broken records were quarantined (their values kept only there, in the record column).
    quarantined = pl.concat(
        [pl.read_parquet(p) for p in root.rglob("*.parquet") if "quarantine" in str(p.relative_to(root))],
        how="diagonal_relaxed",
    )
    assert all(any(v in r for r in quarantined["record"].drop_nulls().to_list()) for v in PLANTED[:2])
