"""Polars expressions for mapping templates, times and values: one place that knows the mapping semantics."""

import polars as pl

from pipelines.defs.tables.mapping import TimeSpec, placeholders

# ISO 8601 shapes tried in order when a mapping gives no format. Zoned values are converted to UTC;
# naive ones are read in the mapping's time zone.
_ZONED = ("%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z")
_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")


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


def time_expr(spec: str | TimeSpec, default_tz: str) -> tuple[pl.Expr, pl.Expr]:
    """(parsed naive-UTC datetime, raw value present?) for a time field."""
    if isinstance(spec, str):
        spec = TimeSpec(column=spec)
    tz = spec.timezone or default_tz
    if spec.column:
        raw = pl.col(spec.column).cast(pl.String).str.strip_chars()
    else:
        date = pl.col(spec.date).cast(pl.String).str.strip_chars()
        raw = date if not spec.time else pl.concat_str([date, pl.lit(" "), pl.col(spec.time).cast(pl.String)])
    text = raw.str.replace(r"Z$", "+00:00")
    if spec.format:
        zoned = "%z" in spec.format or "%:z" in spec.format
        parsed = _to_utc(text.str.to_datetime(spec.format, strict=False, time_unit="us"), zoned, tz)
    else:
        candidates = [_to_utc(text.str.to_datetime(f, strict=False, time_unit="us"), True, tz) for f in _ZONED]
        candidates += [_to_utc(text.str.to_datetime(f, strict=False, time_unit="us"), False, tz) for f in _NAIVE]
        parsed = pl.coalesce(candidates)
    return parsed, raw.is_not_null()


def _to_utc(expr: pl.Expr, zoned: bool, tz: str) -> pl.Expr:
    if zoned:
        return expr.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    if tz == "UTC":
        return expr
    return (
        expr.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )


def column_or_template(value: str, columns: list[str], maps: dict[str, dict[str, str]]) -> pl.Expr:
    """A bare column name is that column; anything with {placeholders} is a template; else a literal."""
    if value in columns:
        return pl.col(value).cast(pl.String)
    if placeholders(value):
        return template(value, maps)
    return pl.lit(value)
