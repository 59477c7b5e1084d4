"""Turning delivered note bytes into text: declared or detected encodings, and HTML reduced to its text."""

from html.parser import HTMLParser


def decode_bytes(raw: bytes, declared: str | None = None) -> tuple[str, str]:
    """(text, encoding used): the declared charset if it decodes, else UTF-8, else detected, else cp1252.

    >>> decode_bytes("Café".encode("cp1252"))
    ('Café', 'cp1252')
    >>> decode_bytes("Café".encode())
    ('Café', 'utf-8')
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace"), "utf-16"
    if wide := utf16_without_bom(raw):
        return raw.decode(wide, errors="replace"), wide
    for encoding in (declared, "utf-8"):
        if not encoding:
            continue
        try:
            return raw.decode(encoding), encoding.lower()
        except (UnicodeDecodeError, LookupError):
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    # Detection cannot tell the single-byte Latin code pages apart on short notes (it says cp1250 for Spanish
    # cp1252); western clinical systems write cp1252, so detection is trusted only for multi-byte encodings.
    if best is not None and best.encoding and best.encoding.startswith(_MULTIBYTE):
        try:
            return raw.decode(best.encoding), best.encoding
        except UnicodeDecodeError:
            pass
    return raw.decode("cp1252", errors="replace"), "cp1252"


def utf16_without_bom(raw: bytes) -> str | None:
    """`utf-16-le` or `utf-16-be` for text written two bytes a character with no byte-order mark (a SQL Server
    or Excel "Unicode" export, a note saved as "Unicode"): NUL bytes, which no text holds, fill one byte of most
    of its first characters. Read as UTF-8 such a file is valid and every character holds a NUL: no CSV column
    would be found, and a note would look binary.

    >>> utf16_without_bom("id,name\\n".encode("utf-16-le")), utf16_without_bom(b"id,name\\n1,x\\x00\\n")
    ('utf-16-le', None)
    """
    head = raw[:4096]
    half = len(head) // 2
    if half < 2:
        return None
    even, odd = head[0 : 2 * half : 2].count(0), head[1 : 2 * half : 2].count(0)
    # ASCII-heavy text: nearly every high byte is NUL; 3 in 4 leaves room for non-Latin characters.
    if odd >= 0.75 * half and even <= half // 20:
        return "utf-16-le"
    if even >= 0.75 * half and odd <= half // 20:
        return "utf-16-be"
    return None


def wide_encoding(head: bytes) -> str | None:
    """The encoding of text written two or four bytes a character, from its first bytes: `utf-32`/`utf-16`
    with a byte-order mark (the decoder drops it), `utf-32-le`/`-be` or `utf-16-le`/`-be` without one; None for
    UTF-8 (with or without its mark) and the single-byte code pages.

    >>> [wide_encoding(t.encode(e)) for t, e in (("{}", "utf-16"), ("{}\\n", "utf-32-be"), ("{}", "utf-8"))]
    ['utf-16', 'utf-32-be', None]
    """
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # UTF-32LE's mark starts with UTF-16LE's
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" not in head[:64]:  # UTF-8 and code-page text hold no NUL: the common case, decided here
        return None
    quads = len(head) // 4
    if quads >= 1:
        # ASCII-heavy UTF-32: three NULs in every four bytes, the character byte first (LE) or last (BE).
        lanes = [head[i : 4 * quads : 4].count(0) for i in range(4)]
        if lanes[1] == lanes[2] == lanes[3] == quads and lanes[0] <= quads // 20:
            return "utf-32-le"
        if lanes[0] == lanes[1] == lanes[2] == quads and lanes[3] <= quads // 20:
            return "utf-32-be"
    return utf16_without_bom(head)


# File signatures of formats that are no text (PDF, ZIP/DOCX, PNG, JPEG, GIF, gzip, OLE/DOC).
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"\xd0\xcf\x11\xe0")
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13} | {127}
# Share of control bytes in the first 8 KB above which bytes are no text in any single-byte code page (a
# cp1252 note has none; a mis-labelled binary has ~12% when its bytes are uniform).
MAX_CONTROL_SHARE = 0.01


def looks_binary(raw: bytes) -> bool:
    """Bytes that are no text in any encoding: a known binary signature, NUL bytes, or many control bytes.

    >>> looks_binary(b"%PDF-1.7 ..."), looks_binary("Café".encode("cp1252")), looks_binary("ok".encode("utf-16"))
    (True, False, False)
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs by design
        return False
    if raw.startswith(_BINARY_MAGIC):
        return True
    if utf16_without_bom(raw):
        return False
    head = raw[:8192]
    if b"\x00" in head:
        return True
    return bool(head) and sum(b in _CONTROL for b in head) > MAX_CONTROL_SHARE * len(head)


_MULTIBYTE = ("shift_jis", "cp932", "euc_jp", "gb", "big5", "euc_kr", "cp949", "iso2022")


class _TextOnly(HTMLParser):
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, block elements on their own lines.

    >>> html_to_text("<div><p>Seen <b>today</b>.</p><script>x()</script><p>Plan: rest</p></div>")
    'Seen today.\\nPlan: rest'
    """
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)
