"""The publishing protocol on its own: readers see exactly one published version, whatever a writer left."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from schemas import publish as pub


def _publish(final: Path, files: dict[str, str], keep_except: list[str] | None = None) -> None:
    with pub.publishing(final, keep_except) as stage:
        for rel, text in files.items():
            stage.path(rel).parent.mkdir(parents=True, exist_ok=True)
            stage.path(rel).write_text(text)


def _read(final: Path, pattern: str = "**") -> dict[str, str]:
    return {p.relative_to(final).as_posix(): p.read_text() for p in pub.dataset_files(final, pattern)}


def test_readers_list_the_manifest_not_what_else_lies_in_the_directory(tmp_path: Path):
    ds = tmp_path / "raw" / "fhir"
    _publish(ds, {"events/shard=0/part-0.parquet": "a", "patients/shard=0/part-0.parquet": "p"})
    (ds / "events" / "shard=0" / "stray.parquet").write_text("x")  # not published: never listed
    assert _read(ds, "events/**") == {"events/shard=0/part-0.parquet": "a"}
    manifest = (ds / pub.MANIFEST).read_text()
    assert '"bytes": 1' in manifest and "stray" not in manifest


def test_a_crashed_runs_staging_beside_the_data_is_never_read(tmp_path: Path):
    """The issue's case: kill -9 during ingest left staging under raw/ and the MEDS build read both."""
    raw = tmp_path / "raw"
    _publish(raw / "fhir", {"events/shard=0/part-0.parquet": "published"})
    pub.stage(raw / "fhir").path("events/shard=0/part-0.parquet").parent.mkdir(parents=True)  # a new run's staging
    legacy = raw / ".fhir.staging-1a2b3c4d" / "events" / "shard=0"  # the old swap_dir's, from before this protocol
    legacy.mkdir(parents=True)
    (legacy / "part-0.parquet").write_text("doubled")
    (raw / "tables" / "ehr" / "events" / "shard=0").mkdir(parents=True)
    (raw / "tables" / "ehr" / "events" / "shard=0" / "part-0.parquet").write_text("unmanaged source")
    found = pub.files_under(raw, "**/events/shard=0/*.parquet")
    assert [p.relative_to(raw).as_posix() for p in found] == [
        "fhir/events/shard=0/part-0.parquet",
        "tables/ehr/events/shard=0/part-0.parquet",
    ]
    ledger = tmp_path / "quality" / "ledger"
    ledger.mkdir(parents=True)
    (ledger / ".fhir_raw.parquet.k1x2.tmp").write_text("a killed atomic write")
    removed = pub.sweep(tmp_path)
    assert ledger / ".fhir_raw.parquet.k1x2.tmp" in removed
    assert raw / ".fhir.staging-1a2b3c4d" in removed and not [
        v for v in pub.versions_dir(raw / "fhir").iterdir() if v.name.endswith(".staging")
    ]
    assert _read(raw / "fhir") == {"events/shard=0/part-0.parquet": "published"}


def test_amending_links_the_other_files_and_never_writes_a_published_file(tmp_path: Path):
    ds = tmp_path / "notes"
    _publish(ds, {"train/0.parquet": "t0", "train/1.parquet": "t1", "tuning/1.parquet": "u1"})
    old = pub.current_version(ds)
    _publish(ds, {"train/1.parquet": "T1"}, keep_except=["*/1.parquet"])
    assert _read(ds) == {"train/0.parquet": "t0", "train/1.parquet": "T1"}  # tuning/1 was shard 1's: gone
    assert (old / "train" / "1.parquet").read_text() == "t1"  # the previous version is untouched
    assert os.stat(ds / "train" / "0.parquet").st_ino == os.stat(old / "train" / "0.parquet").st_ino


def test_a_failed_writer_publishes_nothing(tmp_path: Path):
    ds = tmp_path / "imaging"
    _publish(ds, {"series/0.parquet": "s"})
    with pytest.raises(RuntimeError), pub.publishing(ds, keep_except=["series/**"]) as stage:
        stage.path("series").mkdir()
        stage.path("series/0.parquet").write_text("half")
        raise RuntimeError("the writer failed")
    assert _read(ds) == {"series/0.parquet": "s"}
    assert not [v for v in pub.versions_dir(ds).iterdir() if v.name.endswith(".staging")]


def test_a_partitioned_set_switches_only_when_every_partition_is_staged(tmp_path: Path):
    meds = tmp_path / "meds"
    _publish(meds, {"data/train/0.parquet": "old0", "data/train/1.parquet": "old1", "metadata/codes.parquet": "c"})
    keys = ["0", "1"]
    first = pub.partition_stage(meds, "meds_data", "0", keys, ["data/**"], ["data/*/0.parquet"])
    first.path("data/train").mkdir(parents=True)
    first.path("data/train/0.parquet").write_text("new0")
    assert first.commit() is None
    assert _read(meds, "data/**") == {"data/train/0.parquet": "old0", "data/train/1.parquet": "old1"}
    pending = pub.pending_files(meds, "data/**")  # what shard 0's checks must see: the staged shard 0
    assert [p.read_text() for p in pending] == ["new0", "old1"]
    assert {p.read_text() for p in pub.files_under(tmp_path, "meds/data/**", pending=True)} == {"new0", "old1"}
    second = pub.partition_stage(meds, "meds_data", "1", keys, ["data/**"], ["data/*/1.parquet"])
    second.path("data/tuning").mkdir(parents=True)
    second.path("data/tuning/1.parquet").write_text("new1")  # shard 1's subjects moved split: no train/1
    assert second.commit() is not None
    assert _read(meds) == {"data/train/0.parquet": "new0", "data/tuning/1.parquet": "new1",
                           "metadata/codes.parquet": "c"}  # fmt: skip


def test_a_directory_from_before_the_protocol_is_adopted_then_replaced(tmp_path: Path):
    ds = tmp_path / "meds"
    (ds / "data" / "train").mkdir(parents=True)
    (ds / "data" / "train" / "0.parquet").write_text("legacy")
    (ds / ".0.parquet.x.tmp").write_text("temp")
    assert _read(ds) == {"data/train/0.parquet": "legacy"}  # unmanaged: read as it stands, hidden skipped
    _publish(ds, {"metadata/codes.parquet": "c"}, keep_except=["metadata/**"])
    assert ds.is_symlink() and _read(ds) == {"data/train/0.parquet": "legacy", "metadata/codes.parquet": "c"}
    pub.unpublish(ds)
    assert not ds.exists() and not pub.versions_dir(ds).exists()


_CRASHING_WRITER = """
import sys
from pathlib import Path
from schemas import publish as pub
ds = Path(sys.argv[1])
with pub.publishing(ds, keep_except=["b/**"]) as stage:
    stage.path("b").mkdir()
    stage.path("b/new.txt").write_text("new")
"""


@pytest.mark.parametrize(
    "point", ["publish:manifest-written", "publish:version-renamed", "publish:pointer-swapped"]
)
def test_a_kill_at_any_point_of_a_publish_leaves_the_old_version_or_the_new(tmp_path: Path, point: str):
    ds = tmp_path / "ds"
    _publish(ds, {"a.txt": "a", "b/old.txt": "old"})
    env = {**os.environ, pub.CRASH_ENV: point}
    run = subprocess.run([sys.executable, "-c", _CRASHING_WRITER, str(ds)], env=env, cwd=Path(__file__).parents[2])
    assert run.returncode == -9, "the writer killed itself at the crash point"
    seen = _read(ds)
    new = {"a.txt": "a", "b/new.txt": "new"}
    assert seen == (new if point == "publish:pointer-swapped" else {"a.txt": "a", "b/old.txt": "old"})
    pub.sweep(tmp_path)
    assert not [v for v in pub.versions_dir(ds).iterdir() if v.name.endswith(".staging")]
    subprocess.run([sys.executable, "-c", _CRASHING_WRITER, str(ds)], check=True, cwd=Path(__file__).parents[2])
    assert _read(ds) == new


def test_path_patterns_match_whole_segments():
    assert pub.matches("**/events/shard=0/*.parquet", "tables/ehr/events/shard=0/part-0.parquet")
    assert pub.matches("**/events/shard=0/*.parquet", "events/shard=0/part-0.parquet")
    assert not pub.matches("**/events/shard=0/*.parquet", "fhir/events/shard=01/part-0.parquet")
    assert not pub.matches("data/*/*.parquet", "data/train/sub/0.parquet")
