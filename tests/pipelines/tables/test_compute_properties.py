"""Property: any expression the language accepts runs on any delivered text without raising.

`tables check` and the run rely on it: a mapping mistake surfaces when the expression compiles (with its line),
never as a crash halfway through a table; bad values become null and are quarantined by the usual rules.
"""

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.defs.tables.compute import FUNCTIONS, ExpressionError, compile_expression

COLUMNS = ["a", "b", "c"]
CELLS = st.one_of(
    st.none(),
    st.sampled_from(["", "0", "-1", "2.5", "120/80", "2150-03-04", "2020-02-30 25:61:00", "1e400", "NaN", "x"]),
    st.text(max_size=12),
    st.integers(-(10**20), 10**20).map(str),
)
LITERALS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.sampled_from(["'/'", "'-'", "''", "'%Y-%m-%d'", "'%d/%m/%Y %H:%M'", "None", "True", "0"]),
)
OPERATORS = ["+", "-", "*", "/", "//", "%", "==", "!=", "<", ">=", "and", "or"]


def _expr(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(st.sampled_from(COLUMNS), LITERALS)
    if depth == 0:
        return leaf
    sub = _expr(depth - 1)
    call = st.builds(
        lambda f, args: f"{f}({', '.join(args)})", st.sampled_from(FUNCTIONS), st.lists(sub, max_size=4)
    )
    binary = st.builds(lambda x, op, y: f"({x} {op} {y})", sub, st.sampled_from(OPERATORS), sub)
    other = st.one_of(
        st.builds(lambda x, y, z: f"({x} if {y} else {z})", sub, sub, sub),
        st.builds(lambda x: f"not ({x})", sub),
        st.builds(lambda x: f"({x} is None)", sub),
        st.builds(lambda x: f"({x} in ('1', '2'))", sub),
    )
    return st.one_of(leaf, call, binary, other)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=_expr(3), rows=st.lists(st.tuples(CELLS, CELLS, CELLS), min_size=1, max_size=6))
def test_an_accepted_expression_never_raises_on_any_text(source, rows):
    df = pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String), orient="row")
    try:
        compiled = compile_expression(source, dict.fromkeys(COLUMNS, "text"))
    except ExpressionError:
        return  # refused with a reason when the mapping loads: fine
    out = df.select(compiled.expr.alias("x"))
    assert out.height in (1, df.height)
