"""The mapping expression language: what it computes, and that nothing outside the whitelist compiles."""

from datetime import date

import polars as pl
import pytest

from pipelines.defs.tables.compute import ExpressionError, as_string, compile_expression

ROWS = pl.DataFrame(
    {
        "anchor_year": ["2150", "2161", None],
        "anchor_age": ["52", "oops", "34"],
        "bp": ["120/80", "95", None],
        "when": ["2150-03-04 10:20:00", "2161-11-01", None],
        "kind": ["EW EMER.", "ELECTIVE", "URGENT"],
    }
)
TEXT = {c: "text" for c in ROWS.columns}


def _eval(source: str) -> list:
    return ROWS.select(compile_expression(source, TEXT).expr.alias("x"))["x"].to_list()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("anchor_year - anchor_age", [2098.0, None, None]),  # text is cast; a non-number is null, not an error
        ("int(anchor_year) - int(anchor_age)", [2098, None, None]),
        ("date(int(anchor_year) - int(anchor_age), 1, 1)", [date(2098, 1, 1), None, None]),
        ("split(bp, '/', 0)", ["120", "95", None]),
        ("split(bp, '/', 1)", ["80", None, None]),  # no second part: null
        ("float(split(bp, '/', 1)) * 2", [160.0, None, None]),
        ("coalesce(split(bp, '/', 1), 'none')", ["80", "none", "none"]),
        ("concat(kind, '|', anchor_year)", ["EW EMER.|2150", "ELECTIVE|2161", None]),
        ("kind + ' @ ' + anchor_year", ["EW EMER. @ 2150", "ELECTIVE @ 2161", None]),  # a string literal: concat
        ("year(when)", [2150, 2161, None]),
        ("month(when) * 100 + day(when)", [304, 1101, None]),
        ("hour(when) * 60 + minute(when)", [620, 0, None]),
        (
            "case(kind in ('EW EMER.', 'URGENT'), 'EMER', kind == 'ELECTIVE', 'IMP', 'OTHER')",
            ["EMER", "IMP", "EMER"],
        ),
        ("'old' if anchor_age >= 50 else 'young'", ["old", "young", "young"]),  # null condition -> else
        ("bp is None", [False, False, True]),
        ("not (anchor_year > 2155) and anchor_year is not None", [True, False, False]),
        ("lower(kind)", ["ew emer.", "elective", "urgent"]),
        ("replace(kind, '.', '')", ["EW EMER", "ELECTIVE", "URGENT"]),
        ("substr(when, 0, 4)", ["2150", "2161", None]),
        ("length(kind)", [8, 8, 6]),
        ("round(float(anchor_age) / 3, 1)", [17.3, None, 11.3]),
        ("date(anchor_year, 2, 31)", [None, None, None]),  # an impossible date is null; it does not stop a run
        ("date(anchor_year, 2, 28)", [date(2150, 2, 28), date(2161, 2, 28), None]),
        ("float(anchor_age) / (float(anchor_age) - 52)", [None, None, pytest.approx(-34 / 18)]),  # no infinity
    ],
)
def test_expressions_compute_per_row(source, expected):
    assert _eval(source) == expected


def test_whole_numbers_render_as_integers_in_codes():
    c = compile_expression("int(anchor_year) - 100.0", TEXT)
    assert ROWS.select(as_string(c).alias("x"))["x"].to_list() == ["2050", "2061", None]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('true')", "only plain calls"),
        ("kind.__class__", "Attribute syntax"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("[c for c in kind]", "ListComp syntax"),
        ("kind[0]", "Subscript syntax"),
        ("(lambda: 1)()", "only plain calls"),
        ("f'{kind}'", "JoinedStr syntax"),
        ("missing + 1", "unknown column 'missing'"),
        ("kind +", "not a valid expression"),
        ("not kind", "used as a condition"),
        ("split(kind, sep, 0)", "literal"),
        ("coalesce()", "coalesce() takes"),
        ("case(kind == 'x', 1)", "case() takes"),
        ("year(when) - date(when)", "date arithmetic"),
        ("x" * 2001, "longer than 2000"),
        ("datetime(when, '%Y-%m-%d %H')", "time format '%Y-%m-%d %H' is not usable"),
    ],
)
def test_anything_outside_the_language_is_refused_with_a_reason(source, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        compile_expression(source, TEXT)
