"""Reading a mapped table's files as all-string polars frames, with each row's file and position.

Row isolation: a CSV row that does not parse (too many or too few fields, an unbalanced quote) is rejected
on its own, with its line number, and the rows after it are still read; a file that cannot be read at all
(undecodable gzip, corrupt Parquet) or has no header (0 bytes, blank: EMPTY_FILE) is one rejected record at
position 0; a header-only file is read as a table of no rows. The encoding of each CSV file is
detected (UTF-8, else cp1252, else latin-1, which decodes any byte) and recorded. Reasons name the file, the
line and the field count, never a value; a parser's own message (which can quote the row) is never kept.
"""

import csv
import gzip
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.defs.tables.mapping import TableSpec
from pipelines.text_decoding import utf16_without_bom
from schemas import quarantine as q

ROW = "__position"
FILE = "__file"
REJECT_SCHEMA = {
    FILE: pl.String,
    ROW: pl.Int64,
    "reason_code": pl.String,
    "reason": pl.String,
    "record": pl.String,
}
# Single-byte fallbacks, in order: cp1252 is what western clinical systems write; latin-1 takes any byte.
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")
_NEWLINE = re.compile(r"\r\n|\n|\r")
_MAX_RECORD_TEXT = 1 << 16  # at most 64 KB of a rejected line is kept for review (PHI zone)
# What reading a whole file may raise: decompression, Parquet/Arrow decoding, OS errors.
_FILE_ERRORS = (OSError, EOFError, ValueError, pl.exceptions.PolarsError, csv.Error)


@dataclass(frozen=True, slots=True)
class TableRead:
    """One file: its good rows, its rejected rows (or one position-0 row for the whole file), its encoding."""

    frame: pl.DataFrame
    rejects: pl.DataFrame  # REJECT_SCHEMA
    encoding: str | None  # None for Parquet, or when the file could not be read
    # A header name given to more than one column -> their 1-based positions (the later ones are read as
    # `<name>_duplicated_<k>`, as polars names them); the caller decides whether that makes the file ambiguous.
    repeated: dict[str, list[int]] = field(default_factory=dict)


def table_files(source_dir: Path, spec: TableSpec) -> list[Path]:
    return sorted(p for p in source_dir.glob(spec.file) if p.is_file())


def read_table(path: Path, spec: TableSpec, root: Path) -> pl.DataFrame:
    """All columns as strings (a mapping decides types), plus __file and __position (CSV line or row number).

    Rows that do not parse are left out here; `read_table_checked` returns them with their reasons.
    """
    return read_table_checked(path, spec, root).frame


def read_table_checked(path: Path, spec: TableSpec, root: Path) -> TableRead:
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    name = path.name.lower()
    if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
        reason = "symlink resolves outside the root; not followed"
        empty = pl.DataFrame(schema={ROW: pl.Int64, FILE: pl.String})
        return TableRead(empty, _rejects([(rel, 0, q.SYMLINK_OUTSIDE_ROOT, reason, None)]), None)
    raw, sep = b"", spec.separator
    try:
        if name.endswith(".parquet"):
            df = pl.read_parquet(path).select(pl.all().cast(pl.String))
            df = df.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
            rejects, encoding = _rejects([]), None
        else:
            raw = path.read_bytes()
            if name.endswith(".gz"):
                raw = gzip.decompress(raw)
            sep = "\t" if name.endswith((".tsv", ".tsv.gz")) else spec.separator
            df, bad, encoding = _parse_bytes(raw, sep)
            rejects = _rejects([(rel, line, code, reason, record) for line, code, reason, record in bad])
    except _FILE_ERRORS as err:
        reason = f"file could not be read ({type(err).__name__})"
        empty = pl.DataFrame(schema={ROW: pl.Int64, FILE: pl.String})
        return TableRead(empty, _rejects([(rel, 0, q.UNREADABLE_FILE, reason, None)]), None)
    if encoding is not None and df.columns == [ROW]:  # no header (0 bytes, blank); header-only is no error
        reason = f"file is empty ({len(raw)} bytes, no header line): nothing to read; a failed export?"
        empty = pl.DataFrame(schema={ROW: pl.Int64, FILE: pl.String})
        return TableRead(empty, _rejects([(rel, 0, q.EMPTY_FILE, reason, None)]), encoding)
    renamed = any("_duplicated_" in c for c in df.columns)  # how both parsers name a repeated header name
    repeated = _repeated(raw, encoding, sep) if encoding is not None and renamed else {}
    if spec.columns:
        df = df.rename({k: v for k, v in spec.columns.items() if k in df.columns})
    df = df.with_columns(pl.lit(rel).alias(FILE), pl.all().exclude(ROW, FILE).replace("", None))
    return TableRead(df, rejects, encoding, repeated)


def _repeated(raw: bytes, encoding: str, sep: str) -> dict[str, list[int]]:
    """Header names given to several columns, from the header itself (a column really named `x_duplicated_0`
    is not a repeat); only called when the reader renamed a column that way.

    >>> _repeated(b"id,v,t,v\\n1,2,3,4\\n", "utf-8", ",")
    {'v': [2, 4]}
    """
    text = raw[:_MAX_RECORD_TEXT].decode(encoding, errors="replace")  # a header is one line, well within this
    header, _ = _header(_lines(text), sep)
    positions: dict[str, list[int]] = {}
    for i, col in enumerate(header, 1):
        positions.setdefault(col, []).append(i)
    return {col: at for col, at in positions.items() if len(at) > 1}


def decode_table_bytes(raw: bytes) -> tuple[str, str]:
    """(text, encoding): a BOM wins, then strict UTF-8, then cp1252, then latin-1 (never fails).

    >>> decode_table_bytes("id,name\\n1,José\\n".encode("cp1252"))[1], decode_table_bytes(b"a,b\\n")[1]
    ('cp1252', 'utf-8')
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace"), "utf-16"
    if wide := utf16_without_bom(raw):
        return raw.decode(wide, errors="replace"), wide
    for encoding in ("utf-8", *_FALLBACK_ENCODINGS):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _parse_bytes(raw: bytes, sep: str) -> tuple[pl.DataFrame, list[tuple[int, str, str, str]], str]:
    """(frame, rejected rows, encoding): polars on every line proven well formed, row by row on the others
    (csv_fast); a file that is not UTF-8 is decoded first (see `decode_table_bytes`) and takes the same path.

    Measured (BENCHMARKS.md, issue 16, bench/csv_reader.py): the shared Synthea CSV x10 at 186 MB per CPU-s
    (polars alone, before issue 15: 136); the same files with every field quoted at 80 (row by row: 38)."""
    from pipelines.defs.tables.csv_fast import parse_bytes

    encoding = "utf-8"
    if raw.startswith(b"\xef\xbb\xbf"):
        raw, encoding = raw[3:], "utf-8-sig"
    wide = raw.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16_without_bom(raw) is not None
    parsed = None if wide else parse_bytes(raw, sep, parse_csv_part)
    if parsed is None:
        text, encoding = decode_table_bytes(raw if encoding == "utf-8" else b"\xef\xbb\xbf" + raw)
        parsed = parse_bytes(text.encode("utf-8"), sep, parse_csv_part) if encoding != "utf-8" else None
        parsed = parsed or parse_csv(text, sep)
    return parsed[0], parsed[1], encoding


def _parse_fast(text: str, sep: str) -> tuple[pl.DataFrame, list[tuple[int, str, str, str]]]:
    """`parse_csv`'s result, by polars on the lines proven well formed (see csv_fast)."""
    from pipelines.defs.tables.csv_fast import parse_bytes

    return parse_bytes(text.encode(), sep, parse_csv_part) or parse_csv(text, sep)


def parse_csv(text: str, sep: str) -> tuple[pl.DataFrame, list[tuple[int, str, str, str]]]:
    """All-string columns plus __position (the 1-based line a row starts on), and the rows that do not parse
    as (line, reason code, reason, raw line).

    A row whose field count differs from the header's is rejected. When such a row ran over several lines, its
    first line had an unbalanced quote: that line alone is rejected and parsing resumes on the next line, so
    one stray quote cannot swallow the rest of the file.

    >>> df, bad = parse_csv('id,v\\n1,a\\n2,b,EXTRA\\n3,"c\\n4,d\\n', ",")
    >>> df.rows(), [(line, code) for line, code, _, _ in bad]
    ([('1', 'a', 2), ('4', 'd', 5)], [(3, 'MALFORMED_ROW'), (4, 'MALFORMED_ROW')])
    """
    frame, bad, _ = parse_csv_part(text, sep)
    return frame, bad


def parse_csv_part(
    text: str, sep: str, skipped: int = 0, stop: Callable[[int], bool] | None = None, at_eof: bool = True
) -> tuple[pl.DataFrame, list[tuple[int, str, str, str]], int | None]:
    """`parse_csv` on the header and a part of a file (csv_fast): `skipped` lines of the file left out after
    the header (added to every line number), `stop(line)` ends the part at a row starting on that 0-based file
    line (returned; None when the text ran out first), `at_eof` says whether the text ends where the file does.
    """
    lines = _lines(text)
    header, start = _header(lines, sep)
    names = _unique_names(header)
    n = len(names)
    columns: list[list[str]] = [[] for _ in range(n)]
    positions: list[int] = []
    bad: list[tuple[int, str, str, str]] = []
    stopped = None
    i = start
    while i < len(lines):
        feed = _Lines(lines, i)
        reader = csv.reader(feed, delimiter=sep, strict=False)
        i = len(lines)  # unless a bad row makes the parser restart on the line after it
        while True:
            first = feed.pos  # the reader pulls lines one by one, only as a row needs them
            if stop is not None and first < len(lines) and stop(first + skipped):
                stopped = first + skipped
                break
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as err:  # its message may quote the row: only its type is kept
                reason = f"line {first + 1 + skipped}: row does not parse ({type(err).__name__})"
                bad.append((first + 1 + skipped, q.MALFORMED_ROW, reason, _record(lines[first])))
                i = first + 1
                break
            if not row or (n != 1 and len(row) == 1 and not row[0].strip()):  # a blank line is no record
                continue
            spanned = feed.pos - first
            # A quote left open swallows lines up to the next quote or the end of the file; balanced quoting
            # always uses quote characters in pairs, so an odd count over a row that ran on is the tell.
            at_end = at_eof and feed.pos == len(lines)
            open_quote = (spanned > 1 or at_end) and _odd_quotes(lines, first, feed.pos)
            if len(row) == n and not open_quote:
                for col, value in zip(columns, row, strict=True):
                    col.append(value)
                positions.append(first + 1 + skipped)
                continue
            reason = (
                f"line {first + 1 + skipped}: unbalanced quote (the row runs over {spanned} line(s) to "
                f"{len(row)} fields, the header has {n})"
                if spanned > 1 or open_quote
                else f"line {first + 1 + skipped}: row has {len(row)} fields, the header has {n}"
            )
            bad.append((first + 1 + skipped, q.MALFORMED_ROW, reason, _record(lines[first])))
            i = first + 1
            break
    frame = pl.DataFrame({name: col for name, col in zip(names, columns, strict=True)},
                         schema=dict.fromkeys(names, pl.String))  # fmt: skip
    frame = frame.with_columns(pl.Series(ROW, positions, dtype=pl.Int64))
    return frame, bad, stopped


def column_gaps(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """One position-0 reject per file that lacks columns other files of the same table have (a glob matched
    extracts of two layouts): its rows are read with those columns empty, and the gap is reported.

    A column is named only when at least two files have it: a file without a header would otherwise put its
    first row's values into the reason (which the stewards' site shows); the others are counted.

    >>> a = pl.DataFrame({"id": ["1"], "code": ["x"], FILE: ["a.csv"], ROW: [2]})
    >>> b = pl.DataFrame({"id": ["2"], FILE: ["b.csv"], ROW: [2]})
    >>> column_gaps([a, a.with_columns(pl.lit("c.csv").alias(FILE)), b])["reason"].to_list()
    ['file lacks column(s) code that other files of this table have; its 1 rows read them as empty']
    """
    seen: dict[str, int] = {}
    for df in frames:
        for c in df.columns:
            if c not in (ROW, FILE):
                seen[c] = seen.get(c, 0) + 1
    out = []
    for df in frames:
        missing = [c for c in seen if c not in df.columns]
        if missing and df.height:
            named = [c for c in missing if seen[c] >= 2]
            unnamed = len(missing) - len(named)
            what = ", ".join(named) + (f"{' and ' if named else ''}{unnamed} more" if unnamed else "")
            reason = (f"file lacks column(s) {what} that other files of this table have; its "
                      f"{df.height} rows read them as empty")  # fmt: skip
            out.append((df[FILE][0], 0, q.MISSING_COLUMN, reason, None))
    return _rejects(out)


class _Lines:
    """An iterator over physical lines from `pos`, telling how far the csv reader has read."""

    def __init__(self, lines: list[str], pos: int) -> None:
        self.lines, self.pos = lines, pos

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _lines(text: str) -> list[str]:
    """Physical lines with their endings; only CR, LF and CRLF end a line (not U+2028 and friends)."""
    out, start = [], 0
    for m in _NEWLINE.finditer(text):
        out.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    return out


def _header(lines: list[str], sep: str) -> tuple[list[str], int]:
    """The header's fields and the index of the line after it (blank leading lines skipped)."""
    feed = _Lines(lines, 0)
    for row in csv.reader(feed, delimiter=sep, strict=False):
        if row:
            return row, feed.pos
    return [], len(lines)


def _unique_names(header: list[str]) -> list[str]:
    """Header names, a repeated one suffixed `_duplicated_<k>` (as polars names them)."""
    seen: dict[str, int] = {}
    out = []
    for name in header:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}_duplicated_{seen[name] - 1}")
        else:
            seen[name] = 0
            out.append(name)
    return out


def _odd_quotes(lines: list[str], first: int, end: int) -> bool:
    return sum(line.count('"') for line in lines[first:end]) % 2 == 1


def _record(line: str) -> str:
    return line[:_MAX_RECORD_TEXT].rstrip("\r\n")


def _rejects(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=REJECT_SCHEMA, orient="row")
