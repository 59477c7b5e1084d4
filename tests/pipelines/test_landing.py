"""Walking landing/: links inside the root (or inside a linked delivery area) are followed, others reported."""

import os
from pathlib import Path

from pipelines.landing import scan_landing


def test_a_linked_delivery_area_is_walked_and_links_leaving_it_are_reported(tmp_path: Path):
    root, delivery, elsewhere = tmp_path / "root", tmp_path / "delivery", tmp_path / "elsewhere"
    (delivery / "batch1").mkdir(parents=True)
    (delivery / "batch1" / "a.json").write_text("{}")
    elsewhere.mkdir()
    (elsewhere / "b.json").write_text("{}")
    (root / "landing").mkdir(parents=True)
    os.symlink(delivery, root / "landing" / "fhir")  # the operator mounts the delivery area as landing/fhir
    os.symlink(delivery / "batch1", delivery / "latest")  # a link that stays inside the delivery: followed
    os.symlink(elsewhere, delivery / "stray")  # a link out of both: reported
    scan = scan_landing(root / "landing" / "fhir", root)
    assert [p.relative_to(root).as_posix() for p in scan.files] == ["landing/fhir/batch1/a.json"]
    assert sorted((s.rel, s.reason_code) for s in scan.skipped) == [
        ("landing/fhir/latest", "SYMLINK_LOOP"),  # batch1 reached a second time: read once
        ("landing/fhir/stray", "SYMLINK_OUTSIDE_ROOT"),
    ]
