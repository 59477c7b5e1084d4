"""Raw shard paths come from Layout only: what writers produce, the readers' manifest patterns find."""

from pathlib import Path

from schemas.layout import Layout
from schemas.publish import files_under, publishing


def _write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_a_shard_written_through_layout_is_read_back_by_its_pattern_and_no_other(tmp_path: Path):
    layout = Layout(tmp_path)
    for source in ("fhir", "tables/ehr"):
        with publishing(layout.raw / source) as stage:
            for shard in (3, 31):
                _write(Layout.source_shard_part(stage.path(layout.raw / source), "events", shard))
    found = files_under(layout.raw, Layout.raw_shard_pattern("events", 3))
    assert sorted(str(Layout.shard_of(p.relative_to(layout.raw))) for p in found) == ["3", "3"]
    assert {p.parent.parent.parent.name for p in found} == {"fhir", "ehr"}
    assert len(files_under(layout.raw, Layout.raw_shard_pattern("events", "*"))) == 4
    assert Layout.source_shard_part(layout.raw / "fhir", "events", 3).parent == layout.raw_shard(
        "fhir", "events", 3
    )


def test_unsharded_files_have_no_shard():
    assert Layout.shard_of(Path("fhir/imaging_study_uids/part-00000-000.parquet")) is None
    assert Layout.shard_of(Path("fhir/events/shard=12/part-00000-000.parquet")) == "12"
