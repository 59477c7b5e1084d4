"""Apply a mapping to a source folder: raw events and patients per shard, code texts, quarantine and ledger."""

import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from deid.pseudonym import Keyring
from pipelines.defs.tables.exprs import column_or_template, template, template_columns, time_expr
from pipelines.defs.tables.mapping import EventSpec, Mapping, NoteSpec
from pipelines.defs.tables.read import FILE, ROW, read_table, table_files
from schemas import quarantine as q
from schemas.io import staging_dir, swap_dir, write_parquet
from schemas.layout import Layout
from schemas.meds import BIRTH_CODE, DEATH_CODE
from schemas.notes import NOTE_CODE_PREFIX, RAW_NOTES_SCHEMA
from schemas.quarantine import QUARANTINE_SCHEMA
from schemas.raw import RAW_CODES_SCHEMA, RAW_EVENTS_SCHEMA, RAW_PATIENTS_SCHEMA

ASSET = "tables_raw"
_EVENT_COLS = ["source_patient", "time", "code", "numeric_value", "text_value", "unit", "description"]


@dataclass(frozen=True, slots=True)
class SourceSummary:
    source: str
    rows: int
    events: int
    quarantined: int
    subjects: int


class _Run:
    """State for one source: loaded tables, subject keys, and what each row became."""

    def __init__(self, mapping: Mapping, source_dir: Path, layout: Layout) -> None:
        self.m, self.dir, self.layout = mapping, source_dir, layout
        self.tables: dict[str, pl.DataFrame] = {}
        self.events: list[pl.DataFrame] = []
        self.rejects: list[pl.DataFrame] = []  # __file, __position, table, reason_code, reason
        self.used: set[str] = set()
        self.notes: list[pl.DataFrame] = []

    def table(self, name: str) -> pl.DataFrame:
        if name not in self.tables:
            spec = self.m.tables[name]
            files = table_files(self.dir, spec)
            if not files:
                raise FileNotFoundError(f"{self.dir}: table {name!r} has no file matching {spec.file!r}")
            frames = [read_table(f, spec, self.layout.root) for f in files]
            self.tables[name] = pl.concat(frames, how="diagonal_relaxed")
        return self.tables[name]

    def reject(self, df: pl.DataFrame, table: str, code: str, reason: str) -> None:
        if df.height:
            record = pl.struct(pl.all().exclude(ROW, FILE)).struct.json_encode()
            self.rejects.append(
                df.select(
                    pl.col(FILE),
                    pl.col(ROW),
                    pl.lit(table).alias("table"),
                    pl.lit(code).alias("reason_code"),
                    pl.lit(reason).alias("reason"),
                    record.alias("record"),
                )
            )


def _require_columns(df: pl.DataFrame, cols: list[str], where: str, path: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"{path}: {where} refers to columns not in the table: {', '.join(missing)}")


def _subjects(run: _Run) -> pl.DataFrame:
    """key -> source_patient, plus birth/death/sex events and identity for the PHI audit."""
    s = run.m.subjects
    df = run.table(s.table)
    id_col = s.id or s.key
    _require_columns(df, [s.key, id_col], "subjects", s.table)
    exprs = {"key": pl.col(s.key), "source_patient": pl.col(id_col)}
    for name, spec in (("birth_time", s.birth), ("death_time", s.death)):
        if spec is not None:
            parsed, present = time_expr(spec, run.m.default_timezone)
            exprs[name] = parsed
            exprs[f"{name}_bad"] = present & parsed.is_null()
        else:
            exprs[name] = pl.lit(None, pl.Datetime("us"))
            exprs[f"{name}_bad"] = pl.lit(False)
    sex = pl.col(s.sex) if s.sex else pl.lit(None, pl.String)
    exprs["sex"] = sex.replace(run.m.maps[s.sex_map]) if s.sex_map else sex
    for kind in ("names", "identifiers", "telecoms", "addresses"):
        cols = [
            c for c in getattr(s, kind) if c in df.columns
        ]  # identity columns are optional: extracts often omit them
        exprs[kind] = (
            pl.concat_list([pl.col(c).cast(pl.String) for c in cols]).list.drop_nulls() if cols else pl.lit(None)
        )
    out = df.with_columns(**exprs)
    bad_time = out.filter(pl.col("birth_time_bad") | pl.col("death_time_bad"))
    run.reject(
        bad_time.select(df.columns), s.table, q.UNPARSEABLE_DATE, "subject birth or death time does not parse"
    )
    no_id = out.filter(pl.col("source_patient").is_null() | pl.col("key").is_null())
    run.reject(no_id.select(df.columns), s.table, q.MISSING_SUBJECT_REFERENCE, "subject key or id is empty")
    good = out.filter(
        ~(pl.col("birth_time_bad") | pl.col("death_time_bad"))
        & pl.col("source_patient").is_not_null()
        & pl.col("key").is_not_null()
    )
    dup = good.filter(pl.col("key").is_duplicated() & (pl.int_range(pl.len()).over("key") > 0))
    run.reject(dup.select(df.columns), s.table, q.DUPLICATE_PATIENT, "a second row for the same subject key")
    good = good.unique("key", keep="first", maintain_order=True)
    run.used.add(s.table)

    static = (
        [
            good.select(
                pl.col("source_patient"),
                pl.lit(None, pl.Datetime("us")).alias("time"),
                pl.concat_str([pl.lit("GENDER//"), pl.col("sex")]).alias("code"),
            ).filter(pl.col("code").is_not_null())
        ]
        if s.sex
        else []
    )
    for tmpl in s.static:
        static.append(
            good.select(
                pl.col("source_patient"),
                pl.lit(None, pl.Datetime("us")).alias("time"),
                template(tmpl, run.m.maps).alias("code"),
            ).filter(pl.col("code").is_not_null())
        )
    for col, code in (("birth_time", BIRTH_CODE), ("death_time", DEATH_CODE)):
        static.append(
            good.filter(pl.col(col).is_not_null()).select(
                pl.col("source_patient"), pl.col(col).alias("time"), pl.lit(code).alias("code")
            )
        )
    events = pl.concat(static, how="diagonal_relaxed").join(
        good.select("source_patient", FILE, ROW), on="source_patient"
    )
    run.events.append(events.with_columns(pl.lit(s.table).alias("resource_type")))
    return good


def _event_spec(run: _Run, i: int, spec: EventSpec, keys: pl.DataFrame) -> None:
    df = run.table(spec.table)
    run.used.add(spec.table)
    for j in spec.joins:
        right = run.table(j.table).drop(ROW, FILE)
        _require_columns(right, list(j.keys.values()), f"events[{i}].joins", j.table)
        right = right.rename({c: f"{j.prefix}{c}" for c in right.columns})
        df = df.join(
            right.unique([f"{j.prefix}{c}" for c in j.keys.values()], keep="first"),
            left_on=list(j.keys),
            right_on=[f"{j.prefix}{c}" for c in j.keys.values()],
            how="left",
        )
    if spec.where:
        df = df.filter(pl.sql_expr(spec.where).fill_null(False))
    needed = [spec.subject, *template_columns(spec.code), *template_columns(spec.code_fallback or "")]
    needed += [c for c in (spec.numeric_value, spec.unit) if c]
    _require_columns(df, needed, f"events[{i}]", spec.table)
    name = spec.name or spec.table
    cols = df.columns
    df = df.join(keys.select(pl.col("key").alias(spec.subject), "source_patient"), on=spec.subject, how="left")
    time, present = (
        time_expr(spec.time, run.m.default_timezone)
        if spec.time is not None
        else (pl.lit(None, pl.Datetime("us")), pl.lit(True))
    )
    numeric = pl.col(spec.numeric_value).cast(pl.String).str.strip_chars() if spec.numeric_value else None
    df = df.with_columns(
        time.alias("__time"),
        present.alias("__present"),
        (
            pl.coalesce(template(spec.code, run.m.maps), template(spec.code_fallback, run.m.maps))
            if spec.code_fallback
            else template(spec.code, run.m.maps)
        ).alias("__code"),
        (numeric.cast(pl.Float64, strict=False) if numeric is not None else pl.lit(None, pl.Float64)).alias(
            "__num"
        ),
        (
            (numeric.is_not_null() & numeric.cast(pl.Float64, strict=False).is_null())
            if numeric is not None
            else pl.lit(False)
        ).alias("__num_bad"),
    )
    checks = [
        (pl.col(spec.subject).is_null(), q.MISSING_SUBJECT_REFERENCE, f"{name}: subject column is empty"),
        (pl.col("source_patient").is_null(), q.MISSING_PATIENT, f"{name}: subject key not in the subjects table"),
        (pl.col("__present") & pl.col("__time").is_null(), q.UNPARSEABLE_DATE, f"{name}: time does not parse"),
        (pl.col("__code").is_null(), "MISSING_CODE", f"{name}: a column of the code template is empty"),
        (pl.col("__num_bad"), "INVALID_VALUE", f"{name}: numeric_value is not a number"),
    ]
    if spec.time is not None and not spec.optional_time:
        checks.insert(2, (~pl.col("__present"), "MISSING_TIME", f"{name}: time is empty"))
    bad = pl.lit(False)
    for cond, code, reason in checks:
        run.reject(df.filter(~bad & cond).select(cols), spec.table, code, reason)
        bad = bad | cond
    good = df.filter(~bad & pl.col("__present"))
    run.events.append(
        good.select(
            "source_patient",
            pl.col("__time").alias("time"),
            pl.col("__code").alias("code"),
            pl.col("__num").alias("numeric_value"),
            (
                column_or_template(spec.text_value, cols, run.m.maps)
                if spec.text_value
                else pl.lit(None, pl.String)
            ).alias("text_value"),
            (pl.col(spec.unit).cast(pl.String) if spec.unit else pl.lit(None, pl.String)).alias("unit"),
            (
                column_or_template(spec.description, cols, run.m.maps)
                if spec.description
                else pl.lit(None, pl.String)
            ).alias("description"),
            pl.lit(name).alias("resource_type"),
            FILE,
            ROW,
        )
    )


def _note_spec(run: _Run, keyring: Keyring, spec: NoteSpec, keys: pl.DataFrame) -> None:
    """Notes in a table: raw note rows (text as delivered, PHI zone) and one NOTE event each."""
    df = run.table(spec.table)
    run.used.add(spec.table)
    if spec.where:
        df = df.filter(pl.sql_expr(spec.where).fill_null(False))
    _require_columns(df, [spec.subject, spec.text, *template_columns(spec.type)], "notes", spec.table)
    cols = df.columns
    df = df.join(keys.select(pl.col("key").alias(spec.subject), "source_patient"), on=spec.subject, how="left")
    time, present = time_expr(spec.time, run.m.default_timezone)
    df = df.with_columns(time.alias("__time"), present.alias("__present"))
    checks = [
        (pl.col(spec.subject).is_null(), q.MISSING_SUBJECT_REFERENCE, "notes: subject column is empty"),
        (pl.col("source_patient").is_null(), q.MISSING_PATIENT, "notes: subject key not in the subjects table"),
        (~pl.col("__present"), "MISSING_TIME", "notes: time is empty"),
        (pl.col("__time").is_null(), q.UNPARSEABLE_DATE, "notes: time does not parse"),
        (pl.col(spec.text).is_null(), "MISSING_TEXT", "notes: text is empty"),
    ]
    bad = pl.lit(False)
    for cond, code, reason in checks:
        run.reject(df.filter(~bad & cond).select(cols), spec.table, code, reason)
        bad = bad | cond
    good = df.filter(~bad)
    origin = pl.col(spec.note_id).cast(pl.String) if spec.note_id else pl.concat_str([FILE, pl.lit(":"), ROW])
    source = run.m.source
    notes = good.select(
        "source_patient",
        pl.col("__time").alias("time"),
        origin.map_elements(lambda o: keyring.token("note", f"table/{source}/{o}"), return_dtype=pl.String).alias(
            "note_id"
        ),
        pl.concat_str([pl.lit(f"{NOTE_CODE_PREFIX}//"), template(spec.type, run.m.maps)])
        .fill_null(f"{NOTE_CODE_PREFIX}//UNKNOWN")
        .alias("note_type"),
        (
            column_or_template(spec.type_display, cols, run.m.maps)
            if spec.type_display
            else pl.lit(None, pl.String)
        ).alias("type_display"),
        (pl.col(spec.encounter).cast(pl.String) if spec.encounter else pl.lit(None, pl.String)).alias("encounter"),
        pl.col(spec.text).cast(pl.String).alias("text"),
        pl.lit("utf-8").alias("encoding"),
        FILE,
        ROW,
    )
    run.notes.append(notes)
    run.events.append(
        notes.select(
            "source_patient",
            "time",
            pl.col("note_type").alias("code"),
            pl.col("note_id").alias("text_value"),
            pl.col("type_display").alias("description"),
            pl.lit(spec.table).alias("resource_type"),
            FILE,
            ROW,
        )
    )


def ingest_source(
    layout: Layout, keyring: Keyring, n_shards: int, source_dir: Path, mapping: Mapping
) -> tuple[SourceSummary, pl.DataFrame]:
    """Map one source folder into raw/tables/<source>/; returns its summary and ledger rows."""
    run = _Run(mapping, source_dir, layout)
    keys = _subjects(run)
    for i, spec in enumerate(mapping.events):
        _event_spec(run, i, spec, keys)
    for spec in mapping.notes:
        _note_spec(run, keyring, spec, keys)
    events = pl.concat(run.events, how="diagonal_relaxed") if run.events else pl.DataFrame()
    rejects = (
        pl.concat(run.rejects)
        if run.rejects
        else pl.DataFrame(
            schema={
                FILE: pl.String,
                ROW: pl.Int64,
                "table": pl.String,
                "reason_code": pl.String,
                "reason": pl.String,
                "record": pl.String,
            }
        )
    )
    shard_of = {p: keyring.shard(p, n_shards) for p in keys["source_patient"].to_list()}
    events = events.with_columns(
        pl.col("source_patient").replace_strict(shard_of, return_dtype=pl.Int64).alias("__shard")
    )
    out = layout.raw_table(f"tables/{mapping.source}", "")
    staging = staging_dir(out)
    try:
        _write_shards(staging, events, keys, shard_of)
        _write_notes(staging, run.notes, shard_of)
        codes = (
            events.group_by("code", "description")
            .len("n")
            .sort("code", "description", nulls_last=True)
            .with_columns(pl.col("n").cast(pl.Int64))
        )
        write_parquet(codes.to_arrow(), staging / "codes" / "codes.parquet", RAW_CODES_SCHEMA)
        swap_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    qtable = rejects.select(
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
    ledger = _ledger(run, events, rejects)
    summary = SourceSummary(
        mapping.source, int(ledger["n_in"].sum()), events.height, int(ledger["n_quarantined"].sum()), keys.height
    )
    return summary, ledger


def _write_shards(staging: Path, events: pl.DataFrame, keys: pl.DataFrame, shard_of: dict[str, int]) -> None:
    patients = keys.with_columns(
        pl.col("source_patient").replace_strict(shard_of, return_dtype=pl.Int64).alias("__shard")
    )
    for shard in sorted(set(shard_of.values())):
        ev = events.filter(pl.col("__shard") == shard).rename({FILE: "source_file", ROW: "position"})
        missing = [c for c in ("numeric_value", "text_value", "unit") if c not in ev.columns]
        ev = ev.with_columns(pl.lit(None, pl.String).alias(c) for c in missing)
        ev = ev.with_columns(pl.col("numeric_value").cast(pl.Float32), pl.col("text_value").cast(pl.String))
        ev = ev.sort("source_patient", "time", "code", "source_file", "position", nulls_last=False)
        write_parquet(
            ev.to_arrow(), staging / "events" / f"shard={shard}" / "part-00000.parquet", RAW_EVENTS_SCHEMA
        )
        pts = patients.filter(pl.col("__shard") == shard).rename({FILE: "source_file", ROW: "position"})
        write_parquet(
            pts.to_arrow(), staging / "patients" / f"shard={shard}" / "part-00000.parquet", RAW_PATIENTS_SCHEMA
        )


def _write_notes(staging: Path, frames: list[pl.DataFrame], shard_of: dict[str, int]) -> None:
    if not frames:
        return
    notes = pl.concat(frames).rename({FILE: "source_file", ROW: "position"})
    notes = notes.with_columns(
        pl.col("source_patient").replace_strict(shard_of, return_dtype=pl.Int64).alias("__s")
    )
    for shard in sorted(notes["__s"].unique()):
        part = notes.filter(pl.col("__s") == shard).sort("source_patient", "time", "note_id")
        write_parquet(
            part.to_arrow(), staging / "notes" / f"shard={shard}" / "part-00000.parquet", RAW_NOTES_SCHEMA
        )


def _ledger(run: _Run, events: pl.DataFrame, rejects: pl.DataFrame) -> pl.DataFrame:
    """Per file and table: rows in, rows quarantined (a row rejected by any event spec), events made."""
    frames = []
    for name in sorted(run.used):
        rows = run.tables[name].select(FILE, ROW)
        rejected = rejects.filter(pl.col("table") == name).select(FILE, ROW).unique()
        made = events.filter(pl.col(FILE).is_in(rows[FILE].unique().implode())).group_by(FILE).len("n_events")
        per_file = (
            rows.group_by(FILE).len("n_in").join(rejected.group_by(FILE).len("n_quarantined"), on=FILE, how="left")
        )
        per_file = per_file.join(made, on=FILE, how="left").fill_null(0)
        frames.append(per_file.with_columns(pl.lit(name).alias("record_type")))
    ledger = pl.concat(frames) if frames else pl.DataFrame()
    return ledger.select(
        pl.lit(ASSET).alias("asset"),
        pl.col(FILE).alias("source_file"),
        "record_type",
        pl.col("n_in").cast(pl.Int64),
        (pl.col("n_in") - pl.col("n_quarantined")).cast(pl.Int64).alias("n_out"),
        pl.col("n_quarantined").cast(pl.Int64),
        pl.col("n_events").cast(pl.Int64),
    ).sort("source_file", "record_type")
