"""Extra columns in the MEDS data shards: joined to their events and de-identified as each source declared.

MEDS allows columns after the required six. A tables source declares them in its mapping's `extra_columns`
(docs/tables.md); nothing undeclared gets here. Every shard of a build carries the same extra columns (the
union over sources, null where a source has none), so the shards share one schema.
"""

from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from deid.pseudonym import Keyring
from schemas.layout import Layout
from schemas.publish import files_under

_KEY = ["source_patient", "time", "code", "source_file", "position", "resource_type"]
_ARROW = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "datetime": pa.timestamp("us")}
_POLARS = {"string": pl.String, "int": pl.Int64, "float": pl.Float64, "datetime": pl.Datetime("us")}
_PREFIX = "__extra__"  # while joined: never collides with the build's own columns (split, shift_days, ...)


@dataclass(frozen=True, slots=True)
class ExtraColumnSpec:
    name: str
    type: str  # string, int, float, datetime
    deid: str  # keep, pseudonymize, shift, text


def declared_extra_columns(layout: Layout) -> list[ExtraColumnSpec]:
    """The extra columns every source declares for MEDS, by name; one name declared two ways is refused."""
    files = files_under(layout.raw, "tables/*/meds_extra/columns.parquet")
    specs: dict[str, tuple[ExtraColumnSpec, str]] = {}
    for path in files:
        source = path.relative_to(layout.raw).parts[1]
        for row in pl.read_parquet(path).iter_rows(named=True):
            spec = ExtraColumnSpec(row["name"], row["type"], row["deid"])
            seen = specs.setdefault(spec.name, (spec, source))
            if seen[0] != spec:
                raise ValueError(
                    f"extra column {spec.name!r} is declared as {seen[0].type}/{seen[0].deid} by tables source "
                    f"{seen[1]!r} and as {spec.type}/{spec.deid} by {source!r}: declare it the same way in both"
                )
    return [s for s, _ in sorted(specs.values(), key=lambda x: x[0].name)]


def meds_fields(specs: list[ExtraColumnSpec]) -> list[pa.Field]:
    return [pa.field(s.name, _ARROW[s.type], nullable=True) for s in specs]


def attach(layout: Layout, shard: int, events: pl.DataFrame, specs: list[ExtraColumnSpec]) -> pl.DataFrame:
    """`events` (raw, before any shift) with each extra column joined on its event's key, null elsewhere.

    The sidecar is made unique on the key first: a left join then never adds a row (two events of one rule
    with the same key, e.g. a row unpivoted into one code twice, carry that row's values)."""
    cols = [f"{_PREFIX}{s.name}" for s in specs]
    files = files_under(layout.raw, Layout.raw_shard_pattern("meds_extra", shard))
    frames = [pl.read_parquet(f, hive_partitioning=False) for f in files]
    frames = [f.select(*_KEY, *(pl.col(s.name).alias(f"{_PREFIX}{s.name}") for s in specs if s.name in f.columns))
              for f in frames]  # fmt: skip
    if not frames:
        return events.with_columns(
            pl.lit(None, _POLARS[s.type]).alias(c) for s, c in zip(specs, cols, strict=True)
        )
    side = pl.concat(frames, how="diagonal_relaxed").unique(_KEY, keep="first", maintain_order=True)
    side = side.with_columns(
        pl.col(c).cast(_POLARS[s.type]) if c in side.columns else pl.lit(None, _POLARS[s.type]).alias(c)
        for s, c in zip(specs, cols, strict=True)
    )
    return events.join(side, on=_KEY, how="left", nulls_equal=True)


def deidentify(
    data: pl.DataFrame, specs: list[ExtraColumnSpec], keyring: Keyring, patients: pl.DataFrame, root_phi=None
) -> pl.DataFrame:
    """Each extra column under its declared name, de-identified. Needs the build's columns: source_patient,
    shift_days, and the age cap's `capped` and `floor` (a shifted date-time is held to the cap like `time`).
    `root_phi` (pipelines.defs.known_phi.root_phi): free text also loses every other patient's names,
    identifiers, phones, e-mails and street lines."""
    out = []
    for s in specs:
        col = pl.col(f"{_PREFIX}{s.name}")
        if s.deid == "shift":
            capped = pl.col("capped").fill_null(False) & col.is_not_null() & (col < pl.col("floor"))
            value = pl.when(capped).then(pl.col("floor")).otherwise(col) + pl.duration(days=pl.col("shift_days"))
        elif s.deid == "pseudonymize":
            values = data.select(col.drop_nulls().unique()).to_series().to_list()
            tokens = {v: keyring.token(f"extra/{s.name}", v) for v in values}
            value = col.replace_strict(tokens, default=None, return_dtype=pl.String)
        elif s.deid == "text":
            texts = _deid_text(data, f"{_PREFIX}{s.name}", keyring, patients, root_phi)
            value = pl.Series(texts, dtype=pl.String)
        else:  # keep
            value = col
        out.append(value.alias(s.name))  # an expression, or (text) a Series aligned with data's rows
    return data.with_columns(out).drop(f"{_PREFIX}{s.name}" for s in specs)


def _deid_text(
    data: pl.DataFrame, col: str, keyring: Keyring, patients: pl.DataFrame, root_phi
) -> list[str | None]:
    """Free text through the notes' de-identifier, each value with its subject's known identifiers."""
    from deid.text.surrogates import deidentify_batch
    from pipelines.defs.known_phi import known_phi

    texts = data[col].to_list()
    keys = data["source_patient"].to_list()
    todo = [i for i, t in enumerate(texts) if t]
    if not todo:
        return texts
    first = patients.sort("source_file", "position").unique("source_patient", keep="first", maintain_order=True)
    known = {p["source_patient"]: known_phi(p) for p in first.to_dicts()}
    done = deidentify_batch([texts[i] for i in todo], [keys[i] for i in todo], [known.get(keys[i]) for i in todo],
                            policy="shifted", secret=keyring.secret, root_phi=root_phi)  # fmt: skip
    for i, t in zip(todo, done, strict=True):
        texts[i] = t
    return texts
