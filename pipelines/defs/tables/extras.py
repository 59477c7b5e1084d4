"""Extra columns bound for the MEDS data shards: typed as the mapping declares, and their sidecar per shard.

Every extra column a rule keeps is written as delivered (text) to the raw zone's `extra/` sidecar. Those the
mapping's `extra_columns` declares with a `deid` other than `drop` are also typed here and written to
`meds_extra/` with their declarations; the MEDS build joins them to their events and de-identifies them
(pipelines.defs.meds.extra_columns). An undeclared extra column never reaches MEDS.
"""

from pathlib import Path

import polars as pl
import pyarrow as pa

from pipelines.defs.tables.mapping import ExtraColumn, TimeSpec
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.raw import RAW_EVENTS_SCHEMA, RAW_EXTRA_COLUMNS_SCHEMA

MEDS_PREFIX = "__meds__"  # event column holding an extra column's typed value, until the sidecar is written
# An extra column's row is its event's: these identify an event of a tables source (resource_type is the rule)
EXTRA_KEY = ["source_patient", "time", "code", "source_file", "position", "resource_type"]
POLARS_TYPES = {"string": pl.String, "int": pl.Int64, "float": pl.Float64, "datetime": pl.Datetime("us")}
ARROW_TYPES = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "datetime": pa.timestamp("us")}


def typed_extras(
    df: pl.DataFrame, extra: dict[str, pl.Expr], declared: dict[str, ExtraColumn], tz: str, types: dict[str, str]
) -> tuple[pl.DataFrame, list[pl.Expr], dict[str, int]]:
    """(`df` with each declared extra column typed, the columns to keep with the events, per column the number
    of delivered values that do not convert: they become null and are counted, never guessed)."""
    from pipelines.defs.tables.exprs import with_time

    wanted = {k: c for k, c in declared.items() if k in extra}
    if not wanted:
        return df, [], {}
    text = {k: f"{MEDS_PREFIX}{k}__text" for k in wanted}
    df = df.with_columns(extra[k].str.strip_chars().alias(text[k]) for k in wanted)
    out, bad = [], []
    for k, col in wanted.items():
        name, delivered = f"{MEDS_PREFIX}{k}", pl.col(text[k])
        if col.type == "datetime":
            spec = TimeSpec(column=text[k])
            df = with_time(df, spec, tz, {**types, text[k]: "text"}, prefix=name).drop(f"{name}_present")
        elif col.type in ("int", "float"):
            dtype = pl.Int64 if col.type == "int" else pl.Float64
            df = df.with_columns(delivered.cast(dtype, strict=False).alias(name))
        else:
            df = df.with_columns(delivered.alias(name))
        out.append(pl.col(name))
        bad.append((delivered.is_not_null() & pl.col(name).is_null()).sum().alias(k))
    counts = df.select(bad).row(0, named=True)
    return df.drop(text.values()), out, {k: int(n) for k, n in counts.items() if n}


def meds_extra_schema(declared: dict[str, ExtraColumn]) -> pa.Schema:
    key = [f for f in RAW_EVENTS_SCHEMA if f.name in EXTRA_KEY]
    return pa.schema([*key, *(pa.field(k, ARROW_TYPES[c.type], nullable=True) for k, c in declared.items())])


def write_meds_extra(staging: Path, events: pl.DataFrame, shard: int, declared: dict[str, ExtraColumn]) -> None:
    """One shard's typed extra columns (rows with at least one value), keyed to their events."""
    cols = [f"{MEDS_PREFIX}{k}" for k in declared]
    side = events.select(*EXTRA_KEY, *(pl.col(c).alias(k) for c, k in zip(cols, declared, strict=True)))
    side = side.filter(pl.any_horizontal(pl.col(list(declared)).is_not_null()))
    path = Layout.source_shard_part(staging, "meds_extra", shard)
    write_parquet(side.to_arrow(), path, meds_extra_schema(declared), durable=False)


def write_declarations(staging: Path, declared: dict[str, ExtraColumn]) -> None:
    """meds_extra/columns.parquet: name, type and de-identification of each column the sidecar holds."""
    rows = [(k, c.type, c.deid) for k, c in declared.items()]
    table = pl.DataFrame(rows, schema=["name", "type", "deid"], orient="row")
    write_parquet(table.to_arrow(), staging / "meds_extra" / "columns.parquet", RAW_EXTRA_COLUMNS_SCHEMA,
                  durable=False)  # fmt: skip
