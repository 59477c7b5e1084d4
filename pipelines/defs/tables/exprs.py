"""Polars expressions for mapping templates, values and times: one place that knows the mapping semantics."""

import polars as pl

from pipelines.defs.tables.compute import (
    DATE,
    DATETIME,
    TEXT,
    as_number,
    as_string,
    compile_expression,
)
from pipelines.defs.tables.mapping import Const, Expr, TimeSpec, placeholders

# ISO 8601 shapes tried in order when a mapping gives no format. Zoned values are converted to UTC;
# naive ones are read in the mapping's time zone.
_ZONED = ("%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z")
_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_TYPE_OF_DTYPE = {pl.Int64: "int", pl.Int32: "int", pl.Float64: "num", pl.Float32: "num", pl.Boolean: "bool"}


def column_types(schema: pl.Schema) -> dict[str, str]:
    """Expression-language types of a frame's columns: source columns are text, computed ones keep theirs."""
    out = {}
    for name, dtype in schema.items():
        if dtype == pl.String:
            out[name] = TEXT
        elif dtype == pl.Date:
            out[name] = DATE
        elif isinstance(dtype, pl.Datetime):
            out[name] = DATETIME
        else:
            out[name] = _TYPE_OF_DTYPE.get(dtype, TEXT)
    return out


def template(text: str, maps: dict[str, dict[str, str]]) -> pl.Expr:
    """A code/text template as a string expression; null when any referenced column is null.

    >>> df = pl.DataFrame({"c": ["a", None], "u": ["mg", "mg"]})
    >>> df.select(template("LAB//{c}//{u:up}", {"up": {"mg": "MG"}})).to_series().to_list()
    ['LAB//a//MG', None]
    """
    parts: list[pl.Expr] = []
    rest = text
    for col, map_name in placeholders(text):
        token = "{" + col + (f":{map_name}" if map_name else "") + "}"
        before, rest = rest.split(token, 1)
        if before:
            parts.append(pl.lit(before))
        expr = pl.col(col).cast(pl.String).str.strip_chars()
        if map_name:
            expr = expr.replace(maps[map_name])  # values missing from the map pass through unchanged
        parts.append(expr)
    if rest:
        parts.append(pl.lit(rest))
    if not parts:
        return pl.lit(text)
    return pl.concat_str(parts, ignore_nulls=False)


def template_columns(text: str) -> list[str]:
    return [c for c, _ in placeholders(text)]


def value_columns(value: str | Const | Expr | None, columns: dict[str, str]) -> list[str]:
    """Columns a value field reads (for the column check): a column, a template's, or an expression's."""
    if value is None or isinstance(value, Const):
        return []
    if isinstance(value, Expr):
        from pipelines.defs.tables.compute import ExpressionError

        try:
            return sorted(compile_expression(value.expr, columns).columns)
        except ExpressionError as err:
            missing = str(err).removeprefix("unknown column ").strip("'")
            return [missing] if str(err).startswith("unknown column") else []
    if placeholders(value):
        return template_columns(value)
    return [value]


def value_text(value: str | Const | Expr, columns: dict[str, str], maps: dict, literal_ok: bool) -> pl.Expr:
    """A value field as text: a column, a template, a constant, or an expression.

    A plain string that names no column is a literal only where `literal_ok` (text_value, description:
    the language has always allowed that); for unit and numeric_value it is a missing column.
    """
    if isinstance(value, Const):
        return pl.lit(str(value.const) if not isinstance(value.const, float) else _num_text(value.const))
    if isinstance(value, Expr):
        return as_string(compile_expression(value.expr, columns))
    if value in columns:
        return pl.col(value).cast(pl.String)
    if placeholders(value) or literal_ok:
        return template(value, maps) if placeholders(value) else pl.lit(value)
    raise KeyError(value)


def value_number(
    value: str | Const | Expr, columns: dict[str, str], nulls: frozenset[str] = frozenset()
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(number, delivered but no number?, a null marker?) for numeric_value. Text in `nulls` (after trimming
    spaces, case as written) is no value: its number is null, and the caller clears `bad` where the marker
    test holds. The test is separate so it runs only when some value is bad (in clean data, never).

    >>> df = pl.DataFrame({"v": ["1.5", " NA ", "high", None, "-1"]})
    >>> number, bad, marker = value_number("v", {"v": "text"}, frozenset({"NA", "-1"}))
    >>> df.select(number.alias("n"), bad.alias("bad"), marker.alias("marker")).rows()
    [(1.5, False, False), (None, True, True), (None, True, False), (None, False, False), (None, True, True)]
    """
    no = pl.lit(False)
    if isinstance(value, Const):
        return pl.lit(float(value.const), pl.Float64), no, no
    if isinstance(value, Expr):
        compiled = compile_expression(value.expr, columns)
        if compiled.type != TEXT:
            return as_number(compiled), no, no
        text = compiled.expr.str.strip_chars()
    else:
        if value not in columns:
            raise KeyError(value)
        if columns[value] != TEXT:
            return pl.col(value).cast(pl.Float64, strict=False), no, no
        text = pl.col(value).cast(pl.String).str.strip_chars()
    number = text.cast(pl.Float64, strict=False)
    if not nulls:
        return number, text.is_not_null() & number.is_null(), no
    marker = text.is_in(sorted(nulls)).fill_null(False)
    if any(_is_number(m) for m in nulls):  # a listed -999 or NaN: its number is null too
        number = pl.when(marker).then(None).otherwise(number)
    return number, text.is_not_null() & number.is_null(), marker


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _num_text(v: float) -> str:
    return str(int(v)) if v == int(v) else str(v)


def time_expr(spec: str | TimeSpec, columns: dict[str, str] | None = None) -> tuple[pl.Expr, pl.Expr, bool]:
    """(value, raw value present?, typed?) for a time field: a date/datetime expression when typed, else the
    delivered text (Z written as +00:00) for `with_time` to parse."""
    if isinstance(spec, str):
        spec = TimeSpec(column=spec)
    columns = columns or {}
    if spec.expr:
        compiled = compile_expression(spec.expr, columns)
        if compiled.type in (DATE, DATETIME):
            value = compiled.expr.cast(pl.Datetime("us"))
            return value, value.is_not_null(), True
        raw = as_string(compiled).str.strip_chars()
    elif spec.column and columns.get(spec.column, TEXT) in (DATE, DATETIME):
        value = pl.col(spec.column).cast(pl.Datetime("us"))
        return value, value.is_not_null(), True
    elif spec.column:
        raw = pl.col(spec.column).cast(pl.String).str.strip_chars()
    else:
        date = pl.col(spec.date).cast(pl.String).str.strip_chars()
        raw = date if not spec.time else pl.concat_str([date, pl.lit(" "), pl.col(spec.time).cast(pl.String)])
    return raw.str.replace(r"Z$", "+00:00"), raw.is_not_null(), False


def _parsed(text: pl.Expr, fmt: str, zoned: bool) -> pl.Expr:
    value = text.str.to_datetime(fmt, strict=False, time_unit="us")
    return _zoned_to_utc(value) if zoned else value


def with_time(
    df: pl.DataFrame, spec: str | TimeSpec, tz: str, columns: dict[str, str], prefix: str = "__time"
) -> pl.DataFrame:
    """Add `<prefix>` (naive UTC; null when it does not parse) and `<prefix>_present` to `df`.

    Without a `format`, the ISO 8601 shapes are tried; they are exclusive (a value parses in at most one), so
    the shape most of a sample parses in is applied to every row and only the rows it leaves are tried in the
    others: one parse per row instead of seven. Naive values are read in the spec's zone (else `tz`) with its
    daylight-saving rules (see timezones); values with an offset are converted as given.
    """
    from pipelines.defs.tables.timezones import wall_to_utc

    spec = TimeSpec(column=spec) if isinstance(spec, str) else spec
    value, present, typed = time_expr(spec, columns)
    z, raw, local = f"{prefix}_z", f"{prefix}_raw", f"{prefix}_l"
    if typed:
        df = df.with_columns(pl.lit(None, pl.Datetime("us")).alias(z), value.alias(local))
    else:
        df = df.with_columns(value.alias(raw))
        if spec.format:
            candidates = [(spec.format, "%z" in spec.format or "%:z" in spec.format)]
        else:
            candidates = [(f, True) for f in _ZONED] + [(f, False) for f in _NAIVE]
            sample = df.select(pl.col(raw).drop_nulls().head(500))
            hits = sample.select(_parsed(pl.col(raw), f, zd).is_not_null().sum().alias(str(i))
                                 for i, (f, zd) in enumerate(candidates)).row(0)  # fmt: skip
            candidates = [c for _, c in sorted(zip(hits, candidates, strict=True), key=lambda x: -x[0])]
        first_fmt, first_zoned = candidates[0]
        first = _parsed(pl.col(raw), first_fmt, first_zoned)
        none = pl.lit(None, pl.Datetime("us"))
        df = df.with_columns(
            (first if first_zoned else none).alias(z), (none if first_zoned else first).alias(local)
        )
        rest = candidates[1:]
        left = pl.col(raw).is_not_null() & pl.col(z).is_null() & pl.col(local).is_null()
        if rest and df.select(left.any()).item():
            zoned_rest = [_parsed(pl.col(raw), f, True) for f, zd in rest if zd] or [none]
            naive_rest = [_parsed(pl.col(raw), f, False) for f, zd in rest if not zd] or [none]
            df = df.with_columns(
                pl.when(left).then(pl.coalesce(zoned_rest)).otherwise(pl.col(z)).alias(z),
                pl.when(left).then(pl.coalesce(naive_rest)).otherwise(pl.col(local)).alias(local),
            )
        df = df.drop(raw)
    df = df.with_columns(present.alias(f"{prefix}_present"))
    utc = wall_to_utc(df[local], spec.timezone or tz)
    return df.with_columns(pl.coalesce(pl.col(z), utc).alias(prefix)).drop(z, local)


def time_columns(spec: str | TimeSpec | None, columns: dict[str, str]) -> list[str]:
    if spec is None:
        return []
    if isinstance(spec, str):
        return [spec]
    if spec.expr:
        return value_columns(Expr(expr=spec.expr), columns)
    return [c for c in (spec.column, spec.date, spec.time) if c]


def _zoned_to_utc(expr: pl.Expr) -> pl.Expr:
    return expr.dt.convert_time_zone("UTC").dt.replace_time_zone(None)


def column_or_template(value: str, columns: list[str], maps: dict[str, dict[str, str]]) -> pl.Expr:
    """A bare column name is that column; anything with {placeholders} is a template; else a literal."""
    if value in columns:
        return pl.col(value).cast(pl.String)
    if placeholders(value):
        return template(value, maps)
    return pl.lit(value)
