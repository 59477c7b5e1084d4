"""What a command prints for a file of its root: on a working copy of an object-store root, the object's URL
(the copy is a temp dir that goes with the process); for any other root, or outside the root, the path."""

import json
from pathlib import Path

from schemas.working_copy import MARKER, shown


def test_a_file_of_a_working_copy_is_shown_as_its_object_and_any_other_as_its_path(tmp_path: Path):
    copy = tmp_path / "longitude-root-x"
    copy.mkdir()
    (copy / MARKER).write_text(json.dumps({"url": "gs://bucket/prefix"}), encoding="utf-8")
    assert shown(copy, copy / "quality" / "site" / "index.html") == "gs://bucket/prefix/quality/site/index.html"
    assert shown(copy, copy) == "gs://bucket/prefix"
    elsewhere = tmp_path / "out" / "7.html"  # `timeline --out DIR`: a local file either way
    assert shown(copy, elsewhere) == str(elsewhere)
    local = tmp_path / "local"
    local.mkdir()
    assert shown(local, local / "quality" / "checks") == str(local / "quality" / "checks")
