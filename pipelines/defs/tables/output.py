"""Persist a mapped source: raw events, patients, notes, extra columns and code metadata per shard, the
quarantine, and its ledger rows (with landing files no rule reads) and unrecognized-code counts."""

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from deid.pseudonym import Keyring
from pipelines.defs.tables.engine import UNRECOGNIZED, MappedSource
from pipelines.defs.tables.extras import MEDS_PREFIX, POLARS_TYPES, write_declarations, write_meds_extra
from pipelines.defs.tables.mapping import ExtraColumn, Mapping
from pipelines.defs.tables.names import ASSET
from pipelines.defs.tables.read import FILE, ROW
from pipelines.ledger import file_label
from schemas.io import staging_dir, swap_dir, write_parquet
from schemas.layout import Layout
from schemas.ledger import UNMAPPED_FILE
from schemas.notes import RAW_NOTES_SCHEMA
from schemas.quarantine import QUARANTINE_SCHEMA
from schemas.raw import (
    RAW_CODE_METADATA_SCHEMA,
    RAW_CODES_SCHEMA,
    RAW_EVENTS_SCHEMA,
    RAW_FILE_ENCODINGS_SCHEMA,
    RAW_PATIENTS_SCHEMA,
)

_EVENT_KEY = ["source_patient", "time", "code", "source_file", "position"]


@dataclass(frozen=True, slots=True)
class SourceSummary:
    source: str
    rows: int
    events: int
    quarantined: int
    subjects: int
    unmapped_files: int = 0
    unrecognized_events: int = 0
    encodings: dict[str, int] = field(default_factory=dict)  # text encoding -> CSV files decoded with it
    extra_unconverted: dict[str, int] = field(default_factory=dict)  # extra column -> values not of its type
    null_markers: int = 0  # events kept with no number: their numeric value was a `null_values` marker
    # A header name repeated in a file no rule reads it from (read as <name>_duplicated_<k>): one line each,
    # the file as its ledger label; the name only when the file has a real header (see engine._ambiguous)
    repeated_columns: list[str] = field(default_factory=list)


def write_source(
    layout: Layout, keyring: Keyring, n_shards: int, mapping: Mapping, mapped: MappedSource
) -> tuple[SourceSummary, pl.DataFrame, pl.DataFrame]:
    """Write raw/tables/<source>/ and the quarantine; returns the summary, ledger rows and unmapped rows."""
    events, keys = mapped.events, mapped.keys
    shard_of = {p: keyring.shard(p, n_shards) for p in keys["source_patient"].to_list()}
    events = events.with_columns(
        pl.col("source_patient").replace_strict(shard_of, return_dtype=pl.Int64, default=None).alias("__shard")
    )
    out = layout.raw_table(f"tables/{mapping.source}", "")
    staging = staging_dir(out)
    try:
        declared = mapping.meds_extra()
        events = events.with_columns(
            pl.lit(None, POLARS_TYPES[c.type]).alias(col)
            for k, c in declared.items()
            if (col := f"{MEDS_PREFIX}{k}") not in events.columns
        )
        _write_shards(staging, events, keys, shard_of, mapped.extra_columns, declared)
        if declared:
            write_declarations(staging, declared)
        _write_notes(staging, mapped.notes, shard_of)
        codes = (
            events.group_by("code", "description")
            .len("n")
            .sort("code", "description", nulls_last=True)
            .with_columns(pl.col("n").cast(pl.Int64))
        )
        write_parquet(codes.to_arrow(), staging / "codes" / "codes.parquet", RAW_CODES_SCHEMA, durable=False)
        encodings = pl.DataFrame(
            sorted(mapped.encodings.items()),
            schema={"source_file": pl.String, "encoding": pl.String},
            orient="row",
        )
        write_parquet(
            encodings.to_arrow(), staging / "files" / "encodings.parquet", RAW_FILE_ENCODINGS_SCHEMA, durable=False
        )
        if mapped.code_metadata.height:
            write_parquet(
                mapped.code_metadata.to_arrow(),
                staging / "code_metadata" / "vocabulary.parquet",
                RAW_CODE_METADATA_SCHEMA,
                durable=False,
            )
        swap_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    qtable = mapped.rejects.select(
        pl.lit(ASSET).alias("asset"),
        pl.col(FILE).alias("source_file"),
        pl.col(ROW).alias("position"),
        pl.col("table").alias("resource_type"),
        "reason_code",
        "reason",
        "record",
    )
    write_parquet(
        qtable.sort("source_file", "position").to_arrow(),
        layout.quarantine(ASSET) / f"{mapping.source}.parquet",
        QUARANTINE_SCHEMA,
    )
    ledger = _ledger(mapped, events, layout)
    unrecognized = (
        events.filter(pl.col(UNRECOGNIZED))
        .group_by("resource_type", "code")
        .len("n")
        .select(
            pl.lit(mapping.source).alias("source"),
            pl.lit("code").alias("kind"),
            pl.col("code").alias("item"),
            pl.col("resource_type").alias("rule"),
            pl.col("n").cast(pl.Int64),
        )
    )
    summary = SourceSummary(
        mapping.source,
        int(ledger.filter(pl.col("record_type") != UNMAPPED_FILE)["n_in"].sum()),
        events.height,
        int(ledger["n_quarantined"].sum()),
        keys.height,
        len(mapped.unmapped),
        int(unrecognized["n"].sum()),
        dict(Counter(mapped.encodings.values())),
        dict(sum((Counter(st.get("extra_unconverted", {})) for st in mapped.stats.values()), Counter())),
        sum(st.get("null_markers", 0) for st in mapped.stats.values()),
        [_repeat_line(t, file_label(rel, keyring), col, at, named) for t, rel, col, at, named in mapped.repeated],
    )
    return summary, ledger, unrecognized


def _repeat_line(table: str, label: str, col: str, at: list[int], named: bool) -> str:
    """One warning line: a file's header repeats a name no rule reads (no value: a name, or positions only).

    >>> _repeat_line("labs", "landing/tables/x.csv", "note", [3, 5], True).split(": ")[1]
    "columns 3, 5 are all named 'note' (read as 'note', 'note_duplicated_0')"
    """
    where = ", ".join(map(str, at))
    if not named:
        return f"table {table}, file {label}: columns {where} have one name (the file has no header a rule reads)"
    names = ", ".join(repr(col if k == 0 else f"{col}_duplicated_{k - 1}") for k in range(len(at)))
    return f"table {table}, file {label}: columns {where} are all named {col!r} (read as {names})"


def _write_shards(
    staging: Path,
    events: pl.DataFrame,
    keys: pl.DataFrame,
    shard_of: dict[str, int],
    extra: list[str],
    declared: dict[str, ExtraColumn],
) -> None:
    patients = keys.with_columns(
        pl.col("source_patient").replace_strict(shard_of, return_dtype=pl.Int64).alias("__shard")
    )
    events = events.rename({FILE: "source_file", ROW: "position"}).with_columns(
        pl.col("numeric_value").cast(pl.Float32), pl.col("text_value").cast(pl.String)
    )
    # A filter and a sort per shard: only a shard's events are ever copied at once (memory stays flat).
    for shard in sorted(set(shard_of.values())):
        ev = events.filter(pl.col("__shard") == shard).sort(
            "source_patient", "time", "code", "source_file", "position", nulls_last=False
        )
        write_parquet(
            ev.to_arrow(),
            Layout.source_shard_part(staging, "events", shard),
            RAW_EVENTS_SCHEMA,
            durable=False,
        )
        if extra:
            # Extra columns stay in the PHI zone (they are not de-identified); keyed to their event.
            side = ev.select(*_EVENT_KEY, *extra).filter(pl.any_horizontal(pl.col(extra).is_not_null()))
            write_parquet(
                side.to_arrow(),
                Layout.source_shard_part(staging, "extra", shard),
                _extra_schema(extra),
                durable=False,
            )
        if declared:
            write_meds_extra(staging, ev, shard, declared)
        pts = patients.filter(pl.col("__shard") == shard).rename({FILE: "source_file", ROW: "position"})
        write_parquet(
            pts.to_arrow(),
            Layout.source_shard_part(staging, "patients", shard),
            RAW_PATIENTS_SCHEMA,
            durable=False,
        )


def _extra_schema(extra: list[str]):
    import pyarrow as pa

    key = [f for f in RAW_EVENTS_SCHEMA if f.name in _EVENT_KEY]
    return pa.schema([*key, *(pa.field(c, pa.string(), nullable=True) for c in extra)])


def _write_notes(staging: Path, frames: list[pl.DataFrame], shard_of: dict[str, int]) -> None:
    if not frames:
        return
    notes = pl.concat(frames).rename({FILE: "source_file", ROW: "position"})
    notes = notes.with_columns(
        pl.col("source_patient").replace_strict(shard_of, return_dtype=pl.Int64).alias("__s")
    )
    for shard in sorted(notes["__s"].unique()):
        part = notes.filter(pl.col("__s") == shard).sort("source_patient", "time", "note_id")
        write_parquet(part.to_arrow(), Layout.source_shard_part(staging, "notes", shard), RAW_NOTES_SCHEMA)


def _ledger(mapped: MappedSource, events: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """Per file and table: rows in, rows quarantined (a row rejected by any rule), events made; and one row
    per landing file no rule reads (its rows count as out with no events, as FHIR types that map to none)."""
    frames = []
    made_per_file = events.group_by(FILE).len("n_events")
    for name in sorted(mapped.used):
        rows = mapped.tables[name].select(FILE, ROW)
        unread = mapped.unread.get(name)  # rows (or whole files) the reader quarantined count as records in
        rows = rows if unread is None else pl.concat([rows, unread.join(rows, on=[FILE, ROW], how="anti")])
        rejected = mapped.rejects.filter(pl.col("table") == name).select(FILE, ROW).unique()
        per_file = (
            rows.group_by(FILE).len("n_in").join(rejected.group_by(FILE).len("n_quarantined"), on=FILE, how="left")
        )
        per_file = per_file.join(made_per_file, on=FILE, how="left").fill_null(0)
        # a file read with no rows (header only: an empty extract) is still a ledger row, of 0 records
        listed = pl.DataFrame({FILE: mapped.files.get(name, [])}, schema={FILE: pl.String})
        empty = listed.join(per_file, on=FILE, how="anti").with_columns(
            pl.lit(0, pl.UInt32).alias(c) for c in ("n_in", "n_quarantined", "n_events")
        )
        per_file = pl.concat([per_file, empty.select(per_file.columns)], how="vertical_relaxed")
        frames.append(per_file.with_columns(pl.lit(name).alias("record_type")))
    for path in mapped.unmapped:
        rel = str(path.relative_to(layout.root)) if path.is_relative_to(layout.root) else str(path)
        n = count_rows(path)
        frames.append(
            pl.DataFrame(
                {FILE: [rel], "n_in": [n], "n_quarantined": [0], "n_events": [0], "record_type": [UNMAPPED_FILE]}
            )
        )
    if not frames:
        return pl.DataFrame(
            schema={
                "asset": pl.String,
                "source_file": pl.String,
                "record_type": pl.String,
                "n_in": pl.Int64,
                "n_out": pl.Int64,
                "n_quarantined": pl.Int64,
                "n_events": pl.Int64,
            }
        )
    counts = ["n_in", "n_quarantined", "n_events"]
    ledger = pl.concat([f.with_columns(pl.col(counts).cast(pl.Int64)) for f in frames], how="diagonal")
    return ledger.select(
        pl.lit(ASSET).alias("asset"),
        pl.col(FILE).alias("source_file"),
        "record_type",
        pl.col("n_in").cast(pl.Int64),
        (pl.col("n_in") - pl.col("n_quarantined")).cast(pl.Int64).alias("n_out"),
        pl.col("n_quarantined").cast(pl.Int64),
        pl.col("n_events").cast(pl.Int64),
    ).sort("source_file", "record_type")


def count_rows(path: Path) -> int:
    """Data rows of a tabular file (CSV lines after the header, Parquet rows); 0 for other files."""
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if name.endswith((".csv", ".tsv", ".csv.gz", ".tsv.gz", ".txt")):
            import gzip

            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
            return max(lines - 1, 0)
    except OSError:
        return 0
    return 0
