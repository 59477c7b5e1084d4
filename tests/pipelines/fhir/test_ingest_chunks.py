"""FHIR ingest in chunks (the map): any chunk count gives the same raw data, quarantine, ledger and MEDS; an
unchanged chunk is reused, a new file reparses its chunk only, a crash in one chunk keeps the others."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs import chunks
from pipelines.defs.fhir import chunks as fhir_chunks
from pipelines.defs.fhir.ingest import ASSET, ingest_fhir
from pipelines.defs.meds.build import build_shard
from quality.integrity import ledger_balances
from schemas.layout import Layout
from schemas.publish import current_version, files_under, sweep
from tests.conftest import TEST_SECRET, write_bundle, write_ndjson
from tests.fhir_fixtures import condition, encounter, lab, patient
from tests.pipelines.chunk_steps import chunk_step_pids, run_until_killed

REPO = Path(__file__).resolve().parents[3]
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _landing(root: Path, patients: range = range(9)) -> Path:
    fhir = root / "landing" / "fhir"
    for i in patients:
        pid = f"p{i}"
        write_bundle(fhir / "bundles" / (f"{pid}.json.gz" if i % 2 else f"{pid}.json"), [
            patient(pid, birth=f"19{40 + i}-03-0{1 + i % 9}"),
            encounter(f"e{i}", pid, "2018-05-01T10:00:00Z", "2018-05-04T09:00:00Z", cls="IMP"),
            lab(f"o{i}", pid, "2018-05-01T10:05:00Z", value=90 + i),
            condition(f"c{i}", pid, "2017-01-01"),
        ], gz=i % 2 == 1)  # fmt: skip
    # Bulk NDJSON: MedicationRequests referring to a Medication in another file, which may be another chunk's.
    med = {"resourceType": "Medication", "id": "m1", "code": {"coding": [{"system": RXNORM, "code": "197361"}]}}
    write_ndjson(fhir / "bulk" / "Medication.ndjson", [med])
    requests = [{"resourceType": "MedicationRequest", "id": f"r{i}", "status": "active", "intent": "order",
                 "subject": {"reference": f"Patient/p{i}"}, "authoredOn": "2020-01-01",
                 "medicationReference": {"reference": "Medication/m1"}} for i in patients]  # fmt: skip
    write_ndjson(fhir / "bulk" / "MedicationRequest.ndjson", requests)
    write_ndjson(fhir / "bulk" / "bad.ndjson", ["{not json"])
    (fhir / "readme.docx").write_bytes(b"not FHIR")  # a landing path no parser reads: quarantined once
    return root


def _ingest(root: Path, n_chunks: int, chunk: int | None = None):
    layout = Layout(root)
    return layout, ingest_fhir(layout, Keyring(TEST_SECRET), 2, workers=1, chunk=chunk, n_chunks=n_chunks)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _outputs(layout: Layout) -> dict[str, object]:
    """What readers of the ingest see: raw rows per table and shard (in a fixed order), the code texts, the
    ledger and quarantine, and the MEDS shards built from them."""
    out: dict[str, object] = {}
    raw = layout.raw / "fhir"
    for table in ("events", "patients", "notes"):
        for shard in (0, 1):
            files = files_under(raw, f"{table}/shard={shard}/*.parquet")
            df = pl.read_parquet(files, hive_partitioning=False) if files else pl.DataFrame()
            out[f"{table}/{shard}"] = df.sort(df.columns).rows() if df.height else []
    out["codes"] = _sha(raw / "codes" / "codes.parquet")
    out["ledger"] = _sha(layout.ledger(ASSET))
    q = pl.read_parquet(files_under(layout.quarantine(ASSET), "*.parquet"))
    out["quarantine"] = q.sort(q.columns).rows()
    for shard in (0, 1):
        build_shard(layout, Keyring(TEST_SECRET), shard, (0.8, 0.1, 0.1))
    out |= {p.relative_to(layout.meds).as_posix(): _sha(p) for p in files_under(layout.meds, "data/*/*.parquet")}
    return out


def _versions(layout: Layout) -> dict[str, str]:
    """The published version of every dataset the ingest writes, and the ledger's modification time."""
    finals = [*chunks.chunk_datasets(layout.chunks / ASSET), layout.raw / "fhir", layout.quarantine(ASSET)]
    out = {f.relative_to(layout.root).as_posix(): current_version(f).name for f in finals}  # type: ignore[union-attr]
    return out | {"ledger": str(layout.ledger(ASSET).stat().st_mtime_ns)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    layout, summary = _ingest(_landing(tmp_path_factory.mktemp("one")), 1)
    assert summary.quarantined == 2 and summary.files == 12  # bad.ndjson's line, and the landing path not read
    assert (
        pl.read_parquet(files_under(layout.raw / "fhir", "events/*/*.parquet"))
        .filter(pl.col("code") == "RXNORM//197361")
        .height
        == 9
    )  # every MedicationRequest resolved its Medication, whichever chunk holds the file
    return _outputs(layout)


@pytest.mark.parametrize("n_chunks", [2, 3])
def test_any_chunk_count_gives_the_same_raw_data_quarantine_ledger_and_meds(tmp_path, reference, n_chunks):
    layout, summary = _ingest(_landing(tmp_path), n_chunks)
    assert _outputs(layout) == reference
    published = chunks.chunk_datasets(layout.chunks / ASSET)
    assert [d.name for d in published] == [str(k) for k in range(n_chunks)]
    parsed = [chunks.chunk_meta(d)["files"] for d in published]  # type: ignore[index]
    assert sum(parsed) == summary.files == 12 and all(parsed)  # every file in exactly one chunk
    assert ledger_balances([layout.ledger(ASSET)]).passed


def test_a_rerun_parses_nothing_and_writes_nothing(tmp_path):
    layout, _ = _ingest(_landing(tmp_path), 3)
    before = _versions(layout)
    for k in range(3):
        _, summary = _ingest(tmp_path, 3, chunk=k)
        assert summary.reused and summary.gathered is False
    assert _versions(layout) == before


def test_a_new_landing_file_reparses_its_chunk_only_and_equals_a_fresh_build(tmp_path):
    layout, _ = _ingest(_landing(tmp_path / "grown"), 3)
    before = _versions(layout)
    new = Path("landing/fhir/bundles/late.json")
    for root in (tmp_path / "grown", _landing(tmp_path / "fresh")):
        write_bundle(root / new, [patient("late"), lab("ol", "late", "2019-01-01T00:00:00Z")])
    _, summary = _ingest(tmp_path / "grown", 3)
    after = _versions(layout)
    reparsed = [before[f"chunks/{ASSET}/{k}"] != after[f"chunks/{ASSET}/{k}"] for k in range(3)]
    assert reparsed == [k == chunks.chunk_of(new.as_posix(), 3) for k in range(3)]
    assert after["raw/fhir"] != before["raw/fhir"] and summary.per_type["Patient"]["out"] == 10
    fresh, _ = _ingest(tmp_path / "fresh", 1)
    assert _outputs(layout) == _outputs(fresh)


def _bulk_with_a_bad_line(root: Path) -> Path:
    """The landing above, its MedicationRequest file grown by a blank line, a line that is not JSON (line 11)
    and two more requests: a file that byte ranges split mid-file."""
    path = _landing(root) / "landing" / "fhir" / "bulk" / "MedicationRequest.ndjson"
    more = [{"resourceType": "MedicationRequest", "id": f"x{i}", "status": "active", "intent": "order",
             "subject": {"reference": f"Patient/p{i}"}, "authoredOn": "2021-02-03",
             "medicationReference": {"reference": "Medication/m1"}} for i in range(2)]  # fmt: skip
    with path.open("a") as f:
        f.write("\n{not json\n" + "".join(json.dumps(r) + "\n" for r in more))
    return root


@pytest.mark.parametrize("n_chunks", [1, 3])
def test_byte_ranges_of_one_ndjson_file_spread_over_chunks_and_give_the_output_of_the_whole_file(
    tmp_path, monkeypatch, n_chunks
):
    whole, _ = _ingest(_bulk_with_a_bad_line(tmp_path / "whole"), 1)
    monkeypatch.setattr(fhir_chunks, "RANGE_BYTES", 300)  # the ~3.3 kB file in 12 ranges, cut mid-line
    layout, summary = _ingest(_bulk_with_a_bad_line(tmp_path / "ranges"), n_chunks)
    metas = [chunks.chunk_meta(d) for d in chunks.chunk_datasets(layout.chunks / ASSET)]
    assert all(m["ranges"] > 0 for m in metas)  # type: ignore[index]  # the one file is parsed in every chunk
    assert summary.files == 12  # a split file is still one file
    assert _outputs(layout) == _outputs(whole)
    q = pl.read_parquet(files_under(layout.quarantine(ASSET), "*.parquet"))
    bad = q.filter(pl.col("source_file").str.ends_with("MedicationRequest.ndjson"))
    assert bad.select("position", "reason_code").rows() == [(11, "MALFORMED_JSON")]  # named by file and line


def test_a_smaller_chunk_count_drops_the_larger_counts_chunks(tmp_path, reference):
    layout, _ = _ingest(_landing(tmp_path), 3)
    _ingest(tmp_path, 2)
    assert [d.name for d in chunks.chunk_datasets(layout.chunks / ASSET)] == ["0", "1"]
    assert not (layout.chunks / ASSET / ".2.versions").exists()
    assert _outputs(layout) == reference


def test_a_kill_inside_one_chunk_keeps_the_others_and_the_rerun_completes(tmp_path, reference):
    root = _landing(tmp_path)
    # The second chunk's manifest is written, its version not yet renamed into place: a kill mid-publish.
    run_until_killed(__name__, "_ingest", root, 3, "publish:manifest-written#2")
    layout = Layout(root)
    first = layout.ingest_chunk(ASSET, 0)
    assert chunks.chunk_meta(first) is not None and not layout.ingest_chunk(ASSET, 1).exists()
    assert not (layout.raw / "fhir").exists()  # nothing gathered: readers see no half set
    kept = current_version(first)
    sweep(root)  # what every run does first, under the run lock
    for k in range(3):
        _, summary = _ingest(root, 3, chunk=k)
        assert summary.reused == (k == 0)
    assert current_version(first) == kept
    assert _outputs(layout) == reference


def _materialize(root: Path, *args: str, chunks_env: int | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    if chunks_env is not None:
        env["LONGITUDE_INGEST_CHUNKS"] = str(chunks_env)
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "materialize", "--root", str(root),
           "--shards", "2", "--workers", "1", "--select", "fhir_raw", *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


@pytest.mark.integration
@pytest.mark.slow
def test_multiprocess_runs_each_chunk_in_its_own_process_with_the_output_of_one_chunk(tmp_path):
    # A process per step costs ~10-40 s on a busy machine: the map alone here, the reduce (MEDS shards) after.
    one, three = _landing(tmp_path / "one"), _landing(tmp_path / "three")
    run = _materialize(one)
    assert run.returncode == 0, run.stderr[-3000:]
    run = _materialize(three, "--executor", "multiprocess", chunks_env=3)
    assert run.returncode == 0, run.stderr[-3000:]
    chunk_pids = chunk_step_pids(three, ASSET)
    assert sorted(chunk_pids) == ["c0", "c1", "c2"] and len(set(chunk_pids.values())) == 3
    # A second run with the same landing reuses every chunk: no dataset version changes, no ledger rewritten.
    before = _versions(Layout(three))
    run = _materialize(three, chunks_env=3)
    assert run.returncode == 0, run.stderr[-3000:]
    assert _versions(Layout(three)) == before
    assert _outputs(Layout(one)) == _outputs(Layout(three))
