"""The fast CSV path: polars' reader on every line proven well formed, the row-by-row parser on the rest.

A line is proven well formed, from its bytes alone, when it is one whole record: an even number of quote
characters, each quote at a field boundary (an opening one after a separator or the line start, a closing one
before a separator or the line end, `""` inside a quoted field), exactly the header's number of separators
outside quotes, and not blank. RFC 4180 then fixes the line's fields, and polars reads them as the row-by-row
parser (read.parse_csv) would. From an unproven line on, the row-by-row parser reads until a row would start
on a proven line after that run of unproven lines: a field spanning lines stays whole, a stray quote swallows
what it would swallow in the whole file, and every line is kept or rejected exactly as parsing the whole file
row by row would. Positions stay the file's lines.
"""

import csv
from collections.abc import Callable

import numpy as np
import polars as pl

ROW = "__position"
_QUOTE, _LF, _CR = ord('"'), ord("\n"), ord("\r")
Bad = list[tuple[int, str, str, str]]
# text, separator, lines skipped, stop(line), text ends at the end of the file -> frame, rejects, stopped at
SlowParser = Callable[[str, str, int, Callable[[int], bool], bool], tuple[pl.DataFrame, Bad, int | None]]


def _whole_file_proven(arr: np.ndarray, nl: np.ndarray, sep: int, quoted: bool) -> tuple[int, int] | None:
    """(the header's field count, separators outside quotes the file must hold) when the counts over the whole
    file leave every line proven, else None (then `_clean_lines` finds the lines that are not). numpy, not
    bytes.count: one pass per byte class at memory speed (bytes.count ran at ~0.6 GB/s here).

    With quotes, the separators inside quoted fields are counted in the parsed values (`_balanced`): a line
    with too many fields is refused by polars itself (truncate_ragged_lines=False, a newline ending the text),
    so equal totals leave none with too few either."""
    n_lines = len(nl) + (arr[-1] != _LF)
    gaps = np.diff(nl, prepend=-1)  # each line's length with its newline
    if np.any(gaps == 1) or np.any((gaps == 2) & (arr[np.maximum(nl - 1, 0)] == _CR)):
        return None  # a blank line
    head = int(nl[0]) if len(nl) else len(arr)
    header = arr[:head].tobytes().decode("latin-1")
    fields = len(next(csv.reader([header], delimiter=chr(sep)), [])) or 1  # the header: one line, parsed
    if not quoted:
        total = int(np.count_nonzero(arr == sep))
        return (fields, total) if total == n_lines * (fields - 1) else None
    q = np.flatnonzero(arr == _QUOTE)
    if q.size % 2 or np.any(np.searchsorted(q, nl) % 2):
        return None  # an odd number of quotes on a line, or a field running over lines
    prev = np.where(q > 0, arr[np.maximum(q - 1, 0)], _LF)
    nxt = np.where(q + 1 < len(arr), arr[np.minimum(q + 1, len(arr) - 1)], _LF)
    opening = np.arange(q.size) % 2 == 0  # every line's quotes pair up, so the count from the start tells
    good_open = (prev == sep) | (prev == _LF) | (prev == _QUOTE)
    good_close = (nxt == sep) | (nxt == _LF) | (nxt == _CR) | (nxt == _QUOTE)
    if np.any(np.where(opening, ~good_open, ~good_close)):
        return None  # a quote inside a field
    return fields, n_lines * (fields - 1)


def _balanced(frame: pl.DataFrame, arr: np.ndarray, sep: str, outside: int, header_inside: int) -> bool:
    """Every separator of the file is between fields or inside a parsed value: no line had a field too few."""
    values = [c for c in frame.columns if c != ROW]
    inside = frame.select(pl.sum_horizontal(pl.col(values).str.count_matches(sep, literal=True).sum()))
    total = int(np.count_nonzero(arr == ord(sep)))
    return total == outside + header_inside + int(inside.item() or 0)


def _clean_lines(raw: bytes, sep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """(line starts, line ends incl. the newline, per line: proven one well-formed record, header fields), or
    None when the header line itself is not proven (the whole file goes row by row)."""
    arr = np.frombuffer(raw, dtype=np.uint8)
    nl = np.flatnonzero(arr == _LF)
    n_lines = len(nl) + (not raw.endswith(b"\n"))
    starts = np.concatenate(([0], nl + 1))[:n_lines]
    ends = np.append(nl + 1, len(raw))[:n_lines]  # exclusive, the newline included
    content = ends - starts - (arr[ends - 1] == _LF) if n_lines else ends - starts
    content = content - ((content > 0) & (arr[np.maximum(starts + content - 1, 0)] == _CR))
    seps = np.flatnonzero(arr == sep)
    sep_line = np.searchsorted(nl, seps)  # the line a byte is on: the newlines before it
    ok = content > 0
    quotes = np.flatnonzero(arr == _QUOTE)
    if quotes.size:
        q_line = np.searchsorted(nl, quotes)
        per_line = np.bincount(q_line, minlength=n_lines)
        before_line = np.cumsum(per_line) - per_line  # quotes on earlier lines
        rank = np.arange(quotes.size) - before_line[q_line]  # 0, 1, 2, ... within its line
        prev = np.where(quotes > 0, arr[np.maximum(quotes - 1, 0)], _LF)
        nxt = np.where(quotes + 1 < len(arr), arr[np.minimum(quotes + 1, len(arr) - 1)], _LF)
        opening = rank % 2 == 0
        good_open = (prev == sep) | (prev == _LF) | (prev == _QUOTE)
        good_close = (nxt == sep) | (nxt == _LF) | (nxt == _CR) | (nxt == _QUOTE)
        misplaced = np.where(opening, ~good_open, ~good_close)
        ok &= per_line % 2 == 0
        ok &= np.bincount(q_line[misplaced], minlength=n_lines) == 0
        inside = (np.searchsorted(quotes, seps) - before_line[sep_line]) % 2 == 1
        sep_line = sep_line[~inside]
    fields = np.bincount(sep_line, minlength=n_lines) + 1
    ok &= fields == fields[0] if n_lines else ok
    if not n_lines or not ok[0]:
        return None
    return starts, ends, ok, int(fields[0])


def parse_bytes(raw: bytes, sep: str, slow: SlowParser) -> tuple[pl.DataFrame, Bad] | None:
    """All-string columns plus __position, and the rejected rows, exactly as `slow` would give them on the whole
    file; polars reads the proven lines. None when the bytes are not UTF-8, hold a lone CR, or the header is
    not proven: the caller then decodes (or parses) the whole file another way."""
    if not raw or len(sep) != 1:
        return None
    arr = np.frombuffer(raw, dtype=np.uint8)
    nl = np.flatnonzero(arr == _LF)
    cr = np.flatnonzero(arr == _CR)
    if cr.size and (cr[-1] + 1 >= len(arr) or np.any(arr[cr + 1] != _LF)):
        return None  # a CR that ends no line: the row-by-row parser's
    quoted = bool(np.any(arr == _QUOTE))
    proven = _whole_file_proven(arr, nl, ord(sep), quoted)
    if proven is not None:  # the common case, by a few counts over the bytes
        n = len(nl) + (arr[-1] != _LF)
        frame = _polars(raw, sep, quoted, proven[0], np.arange(2, n + 1))
        head = raw[: nl[0]] if len(nl) else raw
        inside = head.count(sep.encode()) - (proven[0] - 1)  # separators within quoted header names
        if frame is not None and (not quoted or _balanced(frame, arr, sep, proven[1], inside)):
            return frame, []
    lines = _clean_lines(raw, ord(sep))
    if lines is None:
        return None
    starts, ends, ok, n_fields = lines
    n = len(ok)
    if ok[1:].all():
        frame = _polars(raw, sep, quoted, n_fields, np.arange(2, n + 1))
        return (frame, []) if frame is not None else None
    header = raw[: ends[0]]
    unproven = np.flatnonzero(~ok)
    frames, bad, i = [], [], 1
    while i < n:
        if ok[i]:  # proven lines up to the next unproven one: polars
            later = unproven[np.searchsorted(unproven, i) :]
            end = int(later[0]) if later.size else n
            frame = _polars(
                header + raw[starts[i] : ends[end - 1]], sep, quoted, n_fields, np.arange(i + 1, end + 1)
            )
            if frame is None:
                return None
            frames.append(frame)
            i = end
            continue
        # Row by row from here, until a row would start on a proven line past this unproven run: there the
        # whole-file parse would be at a record boundary too, so both agree on every line. A row still open at
        # the end of the text read so far makes the text twice as long, up to the end of the file.
        nxt = np.flatnonzero(ok[i:])
        run_end = i + int(nxt[0]) if nxt.size else n
        window = max(run_end - i, 64)
        while True:
            last = min(i + window, n)
            try:
                text = (header + raw[starts[i] : ends[last - 1]]).decode("utf-8")
            except UnicodeDecodeError:
                return None
            frame, rejected, stopped = slow(
                text, sep, i - 1, lambda line, run_end=run_end: line >= run_end and bool(ok[line]), last == n
            )
            if stopped is not None or last == n:
                break
            window *= 2
        frames.append(frame)
        bad += rejected
        i = stopped if stopped is not None else n
    return pl.concat(frames, how="vertical"), bad


def _polars(body: bytes, sep: str, quoted: bool, n_fields: int, positions: np.ndarray) -> pl.DataFrame | None:
    if not body.endswith(b"\n"):  # polars lets the last line have a field too many when no newline ends it
        body += b"\n"
    try:
        df = pl.read_csv(body, separator=sep, infer_schema=False, quote_char='"' if quoted else None,
                         truncate_ragged_lines=False, raise_if_empty=False)  # fmt: skip
    except pl.exceptions.PolarsError:  # not UTF-8 (the caller decodes it), or a line too long
        return None
    if df.width != n_fields or df.height != len(positions):
        return None  # never expected on proven lines; the row-by-row parser then decides
    return df.with_columns(pl.Series(ROW, positions, dtype=pl.Int64))
