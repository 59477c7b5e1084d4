"""The fast CSV path gives exactly what the row-by-row parser gives, on any bytes, and reads quoted files fast."""

import csv
import io
import random

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.defs.tables.csv_fast import parse_bytes
from pipelines.defs.tables.read import ROW, parse_csv, parse_csv_part

# Pieces that make CSV structure (and break it): quotes at and off field boundaries, separators, CR, LF.
PIECES = ['"', '""', ",", "\n", "\r\n", "\r", "a", "b c", " ", "x,y", '"q"', "é", "1"]


def _read(df: pl.DataFrame) -> pl.DataFrame:
    """As the reader hands rows on: an empty field is null, whether it was quoted or not."""
    return df.with_columns(pl.all().exclude(ROW).replace("", None))


def _same(text: str, sep: str = ",", fast_only: bool = False) -> tuple[pl.DataFrame, list]:
    slow_df, slow_bad = parse_csv(text, sep)
    fast = parse_bytes(text.encode("utf-8"), sep, parse_csv_part)
    assert fast is not None or not fast_only
    if fast is None:  # the whole file goes row by row (a bad header, a lone CR): nothing to compare
        return slow_df, slow_bad
    fast_df, fast_bad = fast
    assert fast_df.columns == slow_df.columns
    assert _read(fast_df).rows() == _read(slow_df).rows()
    assert fast_bad == slow_bad  # line, reason code, reason and the line kept for review
    return fast_df, fast_bad


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(st.sampled_from(PIECES), max_size=60), header=st.sampled_from(["h1,h2,h3", '"h1",h2', "h"]))
def test_any_text_parses_the_same_fast_and_row_by_row(header: str, body: list[str]):
    _same(header + "\n" + "".join(body))


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(st.text(alphabet='ab ,"\n\r1é', max_size=6), min_size=3, max_size=3), max_size=12),
    damage=st.lists(st.tuples(st.integers(0, 400), st.sampled_from(['"', ",", "\n", "\r\n", "x"])), max_size=3),
    crlf=st.booleans(),
)
def test_well_formed_files_with_some_damage_parse_the_same(rows, damage, crlf):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n").writerows([["a", "b", "c"], *rows])
    text = buf.getvalue()
    for at, piece in damage:
        at = min(at, len(text))
        text = text[:at] + piece + text[at:]
    _same(text)


def test_a_quoted_file_is_read_by_polars_and_a_bad_line_is_rejected_alone():
    rng = random.Random(3)
    lines = ["id,note,value"]
    for i in range(2000):
        note = rng.choice(['"plain"', '"with, comma"', '"said ""hi"""', "bare", '""'])
        lines.append(f"{i},{note},{rng.random():.3f}")
    lines[1500] = '1499,"unbalanced,0.5'  # an open quote: swallows nothing beyond its own run
    lines[700] = "699,too,many,fields"
    text = "\n".join(lines) + "\n"
    df, bad = _same(text, fast_only=True)
    assert df.height == 1998 and sorted(line for line, *_ in bad) == [701, 1501]
    assert df.filter(pl.col("id") == "1500")[ROW].item() == 1502  # positions stay the file's lines


def test_a_field_spanning_lines_stays_whole_between_proven_lines():
    text = 'a,b,c\n1,2,3\n4,"first\nx,y,z\nend",6\n7,8,9\n'
    df, bad = _same(text, fast_only=True)
    assert bad == [] and df.rows() == [("1", "2", "3", 2), ("4", "first\nx,y,z\nend", "6", 3), ("7", "8", "9", 6)]


def test_a_last_line_with_a_field_too_many_and_no_newline_is_rejected():
    # polars alone takes `a,b,` as two fields when no newline ends the file; the counts balance with `c`
    for text, rejected in (("h1,h2\nc\na,b,", [2, 3]), ('"h1",h2\n \na," ",', [3])):  # ` `: a blank line
        _, bad = _same(text, fast_only=True)
        assert [line for line, *_ in bad] == rejected
