"""Any JSON text, however a delivering tool encoded it (UTF-8 with or without a mark, UTF-16 or UTF-32 with
one), reads as the same value; bytes that are no JSON raise the one error readers quarantine on."""

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.json_bytes import loads

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_ENCODINGS = {
    "utf-8": lambda s: s.encode(),
    "utf-8-bom": lambda s: b"\xef\xbb\xbf" + s.encode(),
    "utf-16": lambda s: s.encode("utf-16"),
    "utf-32": lambda s: s.encode("utf-32"),
}


@settings(max_examples=100, deadline=None)
@given(value=_json, encoding=st.sampled_from(sorted(_ENCODINGS)))
def test_any_json_reads_the_same_in_any_marked_encoding(value, encoding):
    text = json.dumps(value, ensure_ascii=False)
    assert loads(_ENCODINGS[encoding](text)) == value


@pytest.mark.parametrize(
    "data", [b"", b"\xef\xbb\xbf", b"\xff\xfe\x00", b'\xef\xbb\xbf{"a": ', b"\xff\xfe\x00\xd8"]
)
def test_no_json_raises_the_decode_error(data):
    with pytest.raises(orjson.JSONDecodeError):
        loads(data)
