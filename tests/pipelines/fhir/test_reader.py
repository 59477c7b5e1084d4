"""Reading NDJSON in byte ranges: consecutive ranges of any size read every line once, numbered as whole."""

import pytest

from pipelines.defs.fhir.reader import byte_ranges, iter_ndjson_lines, splittable

CONTENTS = {
    "blank lines and CRLF, no final newline": b'{"a": 1}\n\n{"b": 22}\r\n  \n{"c": 333}',
    "leading blank lines": b"\n\n\n{}\n",
    "one line": b'{"resourceType": "Patient"}',
    "empty": b"",
}


@pytest.mark.parametrize("content", CONTENTS.values(), ids=CONTENTS.keys())
def test_ranges_of_any_size_read_every_line_once_with_its_whole_file_line_number(tmp_path, content):
    path = tmp_path / "Observation.ndjson"
    path.write_bytes(content)
    whole = list(iter_ndjson_lines(path))
    for size in range(1, len(content) + 2):  # every cut: mid-line, on a newline, right after one
        ranges = byte_ranges(len(content), size)
        assert [line for span in ranges for line in iter_ndjson_lines(path, span)] == whole, size


def test_only_uncompressed_ndjson_is_split(tmp_path):
    names = ["a.ndjson", "b.jsonl", "c.ndjson.gz", "d.json"]
    assert [splittable(tmp_path / n) for n in names] == [True, True, False, False]


def test_the_last_range_reads_lines_appended_after_the_file_was_measured(tmp_path):
    path = tmp_path / "Observation.ndjson"
    path.write_bytes(b'{"a": 1}\n{"b": 2}\n')
    ranges = byte_ranges(path.stat().st_size, 5)
    with path.open("ab") as f:
        f.write(b'{"c": 3}\n')  # a delivery still being written: read, as a whole-file read would
    assert [line for span in ranges for line in iter_ndjson_lines(path, span)] == list(iter_ndjson_lines(path))
    assert len(list(iter_ndjson_lines(path))) == 3
