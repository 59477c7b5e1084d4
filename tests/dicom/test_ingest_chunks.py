"""The DICOM index in chunks (the map): any chunk count gives the same index, quarantine, ledger, DICOM events
and MEDS; an unchanged chunk is reused, a new file reindexes its chunk only, a crash in one chunk keeps the
others and leaves readers on the previous index."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs import chunks
from pipelines.defs.dicom.build import build_events, build_instances
from pipelines.defs.fhir.ingest import ingest_fhir
from pipelines.defs.meds.build import build_shard
from pipelines.settings import Settings
from schemas.imaging import INSTANCES_ASSET, SOURCE
from schemas.layout import Layout
from schemas.publish import current_version, files_under, sweep
from tests.conftest import TEST_SECRET, write_bundle
from tests.dicom.conftest import make_instance, write_instance
from tests.fhir_fixtures import patient
from tests.pipelines.chunk_steps import chunk_step_pids, run_until_killed

REPO = Path(__file__).resolve().parents[2]
N_SHARDS = 2


def _split(prefix: str, counts: tuple[int, ...] = (2, 3)) -> tuple[str, str]:
    """Two landing paths (under landing/dicom/) that fall in different chunks for every count in `counts`."""
    names = [f"{prefix}/im{i}" for i in range(64)]
    chunk = {n: [chunks.chunk_of(f"landing/dicom/{n}", c) for c in counts] for n in names}
    return next(
        (a, b) for a in names for b in names if all(x != y for x, y in zip(chunk[a], chunk[b], strict=True))
    )


def _landing(root: Path) -> Path:
    """Three patients (one is a FHIR patient's MRN), studies of several series, a SOP instance delivered twice
    in files of different chunks, one patient whose files disagree on sex, a file that is not DICOM."""
    dicom = root / "landing" / "dicom"
    write_bundle(root / "landing" / "fhir" / "b.json", [patient("f1")])  # its MRN is "MRN-f1"
    for p, pid in enumerate(["MRN-f1", "MRN-0042", "MRN-0077"]):
        for s in range(2):
            for i in range(3):
                uid = f"1.2.826.0.1.3680043.9.7.{p}"
                ds = make_instance(patient_id=pid, study_uid=uid, series_uid=f"{uid}.{s}",
                                   sop_uid=f"{uid}.{s}.{i}", instance_number=i + 1,
                                   modality="MR" if s else "CT")  # fmt: skip
                write_instance(dicom / pid / f"s{s}" / f"i{i}.dcm", ds)
    first, second = _split("dup")  # the same SOP instance twice: the file first by path is kept
    for name in (first, second):
        uid = "1.2.826.0.1.3680043.9.6"
        ds = make_instance(patient_id="MRN-0042", study_uid=uid, series_uid=f"{uid}.0", sop_uid=f"{uid}.0.1")
        write_instance(dicom / name, ds)
    first, second = _split("sex")  # a patient's record comes from their first file by path, whichever chunk
    for name, sex in ((first, "M"), (second, "F")):
        uid = "1.2.826.0.1.3680043.9.8"
        ds = make_instance(patient_id="MRN-0099", study_uid=uid, series_uid=f"{uid}.0",
                           sop_uid=f"{uid}.0.{sex == 'F':d}")  # fmt: skip
        ds.PatientSex = sex
        write_instance(dicom / name, ds)
    (dicom / "notes.txt").write_text("not DICOM")
    return root


def _late(root: Path, name: str) -> None:
    """A file delivered later, of a new patient (`name`: under landing/dicom/, ending in its number)."""
    n = name.rsplit("im", 1)[1]
    write_instance(root / "landing" / "dicom" / name, make_instance(
        patient_id="MRN-0123", study_uid="1.2.826.0.1.3680043.9.5", series_uid="1.2.826.0.1.3680043.9.5.0",
        sop_uid=f"1.2.826.0.1.3680043.9.5.0.{n}"))  # fmt: skip


def _built(root: Path, n_chunks: int) -> Layout:
    """A root with the landing above, its FHIR parsed and its DICOM indexed in `n_chunks` chunks."""
    _landing(root)
    _fhir(root)
    _index(root, n_chunks)
    return Layout(root)


def _settings(root: Path) -> Settings:
    return Settings(root=root, secret=TEST_SECRET, n_shards=N_SHARDS)


def _fhir(root: Path) -> None:
    ingest_fhir(Layout(root), Keyring(TEST_SECRET), N_SHARDS)


def _index(root: Path, n_chunks: int, chunk: int | None = None) -> dict:
    return build_instances(_settings(root), workers=1, chunk=chunk, n_chunks=n_chunks)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _outputs(layout: Layout) -> dict[str, object]:
    """What readers of the index see, by bytes: raw instances and patients, imaging instances, quarantine and
    ledger; then the DICOM events and MEDS shards built from them."""
    out: dict[str, object] = {}
    for base, pattern in ((layout.raw / SOURCE, "*/*/*.parquet"), (layout.imaging, "instances/*.parquet"),
                          (layout.quarantine(INSTANCES_ASSET), "*.parquet")):  # fmt: skip
        out |= {p.relative_to(layout.root).as_posix(): _sha(p) for p in files_under(base, pattern)}
    out["ledger"] = _sha(layout.ledger(INSTANCES_ASSET))
    settings = _settings(layout.root)
    for shard in range(N_SHARDS):
        build_events(settings, shard)
        build_shard(layout, Keyring(TEST_SECRET), shard, (0.8, 0.1, 0.1))
    out |= {p.relative_to(layout.root).as_posix(): _sha(p) for p in files_under(layout.raw / SOURCE, "events/**")}
    out |= {p.relative_to(layout.meds).as_posix(): _sha(p) for p in files_under(layout.meds, "data/*/*.parquet")}
    return out


def _versions(layout: Layout) -> dict[str, str]:
    """The published version of every dataset the index writes, and the ledger's modification time."""
    finals = [*chunks.chunk_datasets(layout.chunks / INSTANCES_ASSET), layout.raw / SOURCE, layout.imaging,
              layout.quarantine(INSTANCES_ASSET)]  # fmt: skip
    out = {f.relative_to(layout.root).as_posix(): current_version(f).name  # type: ignore[union-attr]
           for f in finals}  # fmt: skip
    return out | {"ledger": str(layout.ledger(INSTANCES_ASSET).stat().st_mtime_ns)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = _landing(tmp_path_factory.mktemp("one"))
    _fhir(root)
    summary = _index(root, 1)
    # 18 + 2 + 2 + 1 files; the second copy of the SOP instance and the text file are quarantined
    assert (summary["files"], summary["instances"], summary["quarantined"]) == (23, 21, 2)
    assert summary["quarantined_DUPLICATE_SOP_INSTANCE"] == 1
    layout = Layout(root)
    patients = pl.read_parquet(files_under(layout.raw / SOURCE, "patients/*/*.parquet"))
    assert "MRN-f1" not in patients["source_patient"].to_list()  # the FHIR patient's record stands
    assert patients.filter(pl.col("source_patient") == "MRN-0099")["sex"].to_list() == ["M"]
    return _outputs(layout)


@pytest.mark.parametrize("n_chunks", [2, 3])
def test_any_chunk_count_gives_the_same_index_quarantine_ledger_events_and_meds(tmp_path, reference, n_chunks):
    root = _landing(tmp_path)
    _fhir(root)
    summary = _index(root, n_chunks)
    layout = Layout(root)
    assert _outputs(layout) == reference
    published = chunks.chunk_datasets(layout.chunks / INSTANCES_ASSET)
    assert [d.name for d in published] == [str(k) for k in range(n_chunks)]
    parsed = [chunks.chunk_meta(d)["files"] for d in published]  # type: ignore[index]
    assert sum(parsed) == summary["files"] == 23 and all(parsed)  # every file in exactly one chunk


def test_a_rerun_indexes_nothing_and_writes_nothing(tmp_path):
    root = tmp_path
    layout = _built(root, 3)
    before = _versions(layout)
    for k in range(3):
        summary = _index(root, 3, chunk=k)
        assert summary["reused"] and summary["gathered"] == "unchanged"
    assert _versions(layout) == before


def test_a_new_landing_file_reindexes_its_chunk_only_and_equals_a_fresh_build(tmp_path):
    grown = tmp_path / "grown"
    layout = _built(grown, 3)
    before = _versions(layout)
    new = Path("landing/dicom/late/im0")
    fresh = _landing(tmp_path / "fresh")
    for root in (grown, fresh):
        _late(root, "late/im0")
    _index(grown, 3)
    after = _versions(layout)
    key = [f"chunks/{INSTANCES_ASSET}/{k}" for k in range(3)]
    reindexed = [before[key[k]] != after[key[k]] for k in range(3)]
    assert reindexed == [k == chunks.chunk_of(new.as_posix(), 3) for k in range(3)]
    assert after[f"raw/{SOURCE}"] != before[f"raw/{SOURCE}"]
    _fhir(fresh)
    _index(fresh, 1)
    assert _outputs(layout) == _outputs(Layout(fresh))


def test_a_new_fhir_patient_reindexes_every_chunk(tmp_path):
    """Which subject a PatientID is depends on the other sources' patients: a changed crosswalk reindexes."""
    root = tmp_path
    before = _versions(_built(root, 2))
    write_bundle(root / "landing" / "fhir" / "c.json", [patient("0077")])  # claims MRN-0077
    _fhir(root)
    assert not any(_index(root, 2, chunk=k)["reused"] for k in range(2))
    patients = pl.read_parquet(files_under(Layout(root).raw / SOURCE, "patients/*/*.parquet"))
    assert "MRN-0077" not in patients["source_patient"].to_list()
    assert _versions(Layout(root))[f"raw/{SOURCE}"] != before[f"raw/{SOURCE}"]


def test_a_kill_inside_one_chunk_keeps_the_others_and_readers_keep_the_previous_index(tmp_path):
    root = tmp_path
    layout = _built(root, 3)
    before = _versions(layout)
    first, second = _split("late", (3,))  # two new files in two chunks: both reindex, the second is killed
    for name in (first, second):
        _late(root, name)
    k1, k2 = sorted(chunks.chunk_of(f"landing/dicom/{n}", 3) for n in (first, second))
    # The second reindexed chunk's manifest is written, its version not yet renamed into place.
    run_until_killed(__name__, "_index", root, 3, "publish:manifest-written#2")
    crashed = _versions(layout)
    key = [f"chunks/{INSTANCES_ASSET}/{k}" for k in range(3)]
    changed = {k for k in range(3) if crashed[key[k]] != before[key[k]]}
    assert changed == {k1}  # the first reindexed chunk is published, the killed one is not
    # Readers see the previous index: no dataset the gather writes has a new version, nor the ledger.
    assert {k: v for k, v in crashed.items() if not k.startswith("chunks/")} == {
        k: v for k, v in before.items() if not k.startswith("chunks/")
    }
    sweep(root)  # what every run does first, under the run lock
    reused = [_index(root, 3, chunk=k)["reused"] for k in range(3)]
    assert reused == [k != k2 for k in range(3)]
    fresh = _landing(tmp_path / "fresh")
    for name in (first, second):
        _late(fresh, name)
    _fhir(fresh)
    _index(fresh, 1)
    assert _outputs(layout) == _outputs(Layout(fresh))


@pytest.mark.integration
@pytest.mark.slow
def test_multiprocess_runs_each_chunk_in_its_own_process_with_the_output_of_one_chunk(tmp_path):
    def materialize(root: Path, *args: str, n_chunks: int = 1) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
        env |= {"LONGITUDE_SECRET": TEST_SECRET.decode(), "LONGITUDE_INGEST_CHUNKS": str(n_chunks)}
        cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "materialize", "--root", str(root),
               "--shards", str(N_SHARDS), "--workers", "1", "--select", "fhir_raw", "--select", INSTANCES_ASSET,
               *args]  # fmt: skip
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        return run.stdout + run.stderr

    one, three = _landing(tmp_path / "one"), _landing(tmp_path / "three")
    materialize(one)
    progress = materialize(three, "--executor", "multiprocess", n_chunks=3)
    assert f"{INSTANCES_ASSET} [chunk c2]" in progress and "[shard c" not in progress  # a chunk is named a chunk
    chunk_pids = chunk_step_pids(three, INSTANCES_ASSET)
    assert sorted(chunk_pids) == ["c0", "c1", "c2"] and len(set(chunk_pids.values())) == 3
    # A second run with the same landing reuses every chunk: no dataset version changes, no ledger rewritten.
    before = _versions(Layout(three))
    materialize(three, n_chunks=3)
    assert _versions(Layout(three)) == before
    assert _outputs(Layout(one)) == _outputs(Layout(three))
