"""JSON texts as delivered: a byte-order mark dropped, a UTF-16 or UTF-32 file decoded, then parsed."""

import orjson

from pipelines.text_decoding import wide_encoding

# JSON texts from Windows tools start with a byte-order mark, which RFC 8259 lets a parser ignore and orjson
# refuses: without this a whole Bundle, an NDJSON file's first line or a note's sidecar would be quarantined.
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-32LE's mark starts with UTF-16LE's


def loads(data: bytes) -> object:
    """One JSON text (a FHIR Bundle file, an NDJSON line, a note's sidecar); a leading byte-order mark is
    dropped, and a whole file written as UTF-16 or UTF-32, with or without its mark, is decoded first.

    >>> loads(b'\\xef\\xbb\\xbf{"resourceType": "Patient"}')
    {'resourceType': 'Patient'}
    >>> loads('{"id": "x"}'.encode("utf-16")), loads('{"id": "x"}'.encode("utf-16-le"))
    ({'id': 'x'}, {'id': 'x'})
    """
    if data.startswith(_UTF8_BOM):
        data = data[3:]
    elif data.startswith(_UTF16_32_BOMS):
        encoding = "utf-32" if data.startswith(b"\xff\xfe\x00\x00") else "utf-16"
        try:
            data = data.decode(encoding).encode()
        except UnicodeDecodeError:
            raise orjson.JSONDecodeError("not valid UTF-16/32", "", 0) from None  # the bytes stay out of it
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        # A whole file written as UTF-16/32 without a mark (NULs in its first bytes): looked for only once
        # orjson has refused the bytes, so valid UTF-8 pays nothing.
        wide = wide_encoding(data[:4096])
        if wide is None:
            raise
        try:
            text = data.decode(wide)
        except UnicodeDecodeError:
            raise orjson.JSONDecodeError("not valid UTF-16/32", "", 0) from None
        return orjson.loads(text.encode())
