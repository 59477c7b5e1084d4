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


def value_number(value: str | Const | Expr, columns: dict[str, str]) -> tuple[pl.Expr, pl.Expr]:
    """(number, delivered but not a number?) for numeric_value."""
    if isinstance(value, Const):
        return pl.lit(float(value.const), pl.Float64), pl.lit(False)
    if isinstance(value, Expr):
        compiled = compile_expression(value.expr, columns)
        if compiled.type != TEXT:
            return as_number(compiled), pl.lit(False)
        text = compiled.expr.str.strip_chars()
    else:
        if value not in columns:
            raise KeyError(value)
        if columns[value] != TEXT:
            return pl.col(value).cast(pl.Float64, strict=False), pl.lit(False)
        text = pl.col(value).cast(pl.String).str.strip_chars()
    number = text.cast(pl.Float64, strict=False)
    return number, text.is_not_null() & number.is_null()


def _num_text(v: float) -> str:
    return str(int(v)) if v == int(v) else str(v)


def time_expr(
    spec: str | TimeSpec, tz: str, columns: dict[str, str] | None = None
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(zoned values as naive UTC, naive values as wall-clock time, raw value present?) for a time field.

    A value with an offset (or Z) is converted here; a naive value is read in the zone by `with_time`.
    """
    if isinstance(spec, str):
        spec = TimeSpec(column=spec)
    columns = columns or {}
    none = pl.lit(None, pl.Datetime("us"))
    if spec.expr:
        compiled = compile_expression(spec.expr, columns)
        if compiled.type in (DATE, DATETIME):
            value = compiled.expr.cast(pl.Datetime("us"))
            return none, value, value.is_not_null()
        raw = as_string(compiled).str.strip_chars()
    elif spec.column and columns.get(spec.column, TEXT) in (DATE, DATETIME):
        value = pl.col(spec.column).cast(pl.Datetime("us"))
        return none, value, value.is_not_null()
    elif spec.column:
        raw = pl.col(spec.column).cast(pl.String).str.strip_chars()
    else:
        date = pl.col(spec.date).cast(pl.String).str.strip_chars()
        raw = date if not spec.time else pl.concat_str([date, pl.lit(" "), pl.col(spec.time).cast(pl.String)])
    text = raw.str.replace(r"Z$", "+00:00")
    parse = lambda f: text.str.to_datetime(f, strict=False, time_unit="us")  # noqa: E731
    if spec.format:
        if "%z" in spec.format or "%:z" in spec.format:
            return _zoned_to_utc(parse(spec.format)), none, raw.is_not_null()
        return none, parse(spec.format), raw.is_not_null()
    zoned = pl.coalesce([_zoned_to_utc(parse(f)) for f in _ZONED])
    naive = pl.coalesce([parse(f) for f in _NAIVE])
    return zoned, naive, raw.is_not_null()


def with_time(
    df: pl.DataFrame, spec: str | TimeSpec, tz: str, columns: dict[str, str], prefix: str = "__time"
) -> pl.DataFrame:
    """Add `<prefix>` (naive UTC; null when it does not parse) and `<prefix>_present` to `df`.

    Naive values are read in the spec's zone (else `tz`) with its daylight-saving rules (see timezones).
    """
    from pipelines.defs.tables.timezones import wall_to_utc

    spec = TimeSpec(column=spec) if isinstance(spec, str) else spec
    zoned, naive, present = time_expr(spec, tz, columns)
    df = df.with_columns(
        zoned.alias(f"{prefix}_z"), naive.alias(f"{prefix}_l"), present.alias(f"{prefix}_present")
    )
    local = wall_to_utc(df[f"{prefix}_l"], spec.timezone or tz)
    return df.with_columns(pl.coalesce(pl.col(f"{prefix}_z"), local).alias(prefix)).drop(
        f"{prefix}_z", f"{prefix}_l"
    )


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
