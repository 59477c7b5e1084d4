"""A note's JSON sidecar as Windows tools write it (a byte-order mark, UTF-16) is read, not quarantined."""

import json
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.notes.files import ingest_note_files
from schemas.layout import Layout
from tests.conftest import TEST_SECRET


@pytest.mark.parametrize(
    "encode",
    [lambda s: b"\xef\xbb\xbf" + s.encode(), lambda s: s.encode("utf-16"), lambda s: s.encode("utf-32")],
    ids=["utf-8-bom", "utf-16", "utf-32"],
)
def test_a_sidecar_with_a_byte_order_mark_is_read(tmp_path: Path, encode):
    notes = tmp_path / "landing" / "notes"
    notes.mkdir(parents=True)
    (notes / "a.txt").write_text("Follow-up in two weeks.\n")
    (notes / "a.json").write_bytes(encode(json.dumps({"subject": "s1", "time": "2020-03", "type": "11506-3"})))
    layout = Layout(tmp_path)
    counts = ingest_note_files(layout, Keyring(TEST_SECRET), 1)
    assert counts == {"files": 1, "notes": 1, "quarantined": 0}
    raw = pl.read_parquet(sorted(layout.raw.glob("notes/notes/*/*.parquet")), hive_partitioning=False)
    assert raw["source_patient"].to_list() == ["s1"] and raw["note_type"].to_list() == ["NOTE//LOINC//11506-3"]
