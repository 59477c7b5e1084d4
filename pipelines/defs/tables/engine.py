"""Apply a mapping's rules to a source's tables: events, subjects, notes, code metadata and rejected rows.

Nothing here writes: `output.write_source` persists what `map_source` returns, and `tables check` runs the
same rules on a sample of rows, so a check and a run cannot disagree about what a mapping means.
"""

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.defs.tables import landing
from pipelines.defs.tables.compute import ExpressionError, compile_expression
from pipelines.defs.tables.exprs import (
    column_types,
    template,
    template_columns,
    time_columns,
    value_columns,
    value_number,
    value_text,
    with_time,
)
from pipelines.defs.tables.extras import typed_extras
from pipelines.defs.tables.mapping import EventSpec, Mapping, MappingError, NoteSpec
from pipelines.defs.tables.read import FILE, ROW, TableRead, column_gaps, read_table_checked, table_files
from pipelines.defs.tables.references import column_or_literal, references
from pipelines.defs.tables.vocabulary import code_metadata
from schemas import quarantine as q
from schemas.meds import BIRTH_CODE, DEATH_CODE
from schemas.notes import NOTE_CODE_PREFIX
from schemas.raw import RAW_PATIENTS_SCHEMA

UNRECOGNIZED = "__unrecognized"  # event column: the code came from code_fallback (no rule recognized it)


class MappingColumnError(MappingError):
    """A rule refers to a column the table does not have; names mapping file, line, table and column."""


@dataclass(slots=True)
class MappedSource:
    """What one source's rules made: events (with FILE/ROW and extra columns), subjects, notes, rejects."""

    events: pl.DataFrame
    keys: pl.DataFrame
    notes: list[pl.DataFrame]
    rejects: pl.DataFrame
    tables: dict[str, pl.DataFrame]  # every table read, as read (for the ledger)
    used: set[str]  # tables whose rows the ledger accounts for
    code_metadata: pl.DataFrame  # code, description, parent_codes from vocabulary tables
    unmapped: list[Path] = field(default_factory=list)  # landing files no table of the mapping covers
    unread: dict[str, pl.DataFrame] = field(default_factory=dict)  # per table: FILE, ROW of rows not parsed
    encodings: dict[str, str] = field(default_factory=dict)  # CSV file -> the encoding it was decoded with
    extra_columns: list[str] = field(default_factory=list)
    stats: dict[str, dict] = field(default_factory=dict)  # per rule: rows seen and selected (for the check)
    headers: dict[str, list[str]] = field(default_factory=dict)  # per table: its columns as read (before compute)
    files: dict[str, list[str]] = field(default_factory=dict)  # per table: every file read (header-only ones too)
    # (table, file, header name, its column positions, name it?) for a repeated name no rule reads: a warning
    repeated: list[tuple[str, str, str, list[int], bool]] = field(default_factory=list)


class _Run:
    """State for one source: loaded tables, subject keys, and what each row became."""

    def __init__(
        self, mapping: Mapping, source_dir: Path, root: Path, sample: int | None, collect: list[str] | None
    ) -> None:
        self.m, self.dir, self.root, self.sample = mapping, source_dir, root, sample
        self.tables: dict[str, pl.DataFrame] = {}
        self.events: list[pl.DataFrame] = []
        self.rejects: list[pl.DataFrame] = []  # __file, __position, table, reason_code, reason, record
        self.used: set[str] = set()
        self.notes: list[pl.DataFrame] = []
        self.problems = collect  # check mode: column problems are collected here instead of raised
        self.stats: dict[str, dict] = {}  # rule location -> rows seen, rows after `where`, name, table
        self.absent: set[str] = set()  # optional tables with no file, tables whose files were all unreadable
        self.whole: dict[str, pl.DataFrame] = {}  # in a sampled check: tables read whole (subjects, dictionaries)
        self.unread: dict[str, pl.DataFrame] = {}  # rows the reader rejected (they count in the ledger)
        self.encodings: dict[str, str] = {}
        self.headers: dict[str, list[str]] = {}
        self.files: dict[str, list[str]] = {}
        self.repeated: list[tuple[str, str, str, list[int], bool]] = []
        self._referenced: dict[str, set[str]] | None = None

    def table(self, name: str, full: bool = False) -> pl.DataFrame:
        """A table as the rules see it; `full` (subjects, dictionaries) is never a sample, even in a check."""
        if full and self.sample:
            if name not in self.whole:
                sampled, self.tables = self.tables, {}
                try:
                    self.sample, keep = None, self.sample
                    self.whole[name] = self.table(name)
                finally:
                    self.sample, self.tables = keep, sampled
            if name == self.m.subjects.table:
                self.tables[name] = self.whole[name]  # the subjects table is read whole and accounted whole
            return self.whole[name]
        if name not in self.tables:
            spec = self.m.tables[name]
            files = table_files(self.dir, spec)
            if not files and not spec.optional:
                raise MappingError(
                    f"{self.m.where('tables', name)}: table {name!r} has no file matching {spec.file!r} "
                    f"in {self.dir}"
                )
            if not files:  # an optional table this extract leaves out: its rules have no rows to map
                self.absent.add(name)
                self.tables[name] = pl.DataFrame(schema={FILE: pl.String, ROW: pl.Int64})
                return self.tables[name]
            frames = [self._read(f, name, full) for f in files]
            self._reject_unread(name, column_gaps(frames))
            df = (
                pl.concat(frames, how="diagonal_relaxed")
                if frames
                else pl.DataFrame(schema={FILE: pl.String, ROW: pl.Int64})
            )
            if set(df.columns) <= {FILE, ROW}:
                # every file was unreadable (quarantined whole by the reader): its rules have no rows
                self.absent.add(name)
                self.tables[name] = df
                return df
            self.headers[name] = [c for c in df.columns if c not in (FILE, ROW)]
            self.tables[name] = self.compute(df, spec.compute, ("tables", name, "compute"), name)
        return self.tables[name]

    def _read(self, path: Path, name: str, full: bool) -> pl.DataFrame:
        sampled = self.sample and not full
        if sampled and path.stat().st_size > landing.SAMPLE_BYTES and not path.name.lower().endswith(".parquet"):
            read = landing.read_head(path, self.m.tables[name], self.root, self.sample)
        else:
            read = read_table_checked(path, self.m.tables[name], self.root)
        rel = str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)
        if rel not in self.files.setdefault(name, []):  # a sampled check may read a table twice
            self.files[name].append(rel)
        if read.encoding:
            self.encodings[rel] = read.encoding
        if read.repeated and (ambiguous := self._ambiguous(name, rel, read)) is not None:
            self._reject_unread(name, ambiguous)
            return pl.DataFrame(schema={ROW: pl.Int64, FILE: pl.String})
        self._reject_unread(name, read.rejects)
        df = read.frame
        return df.head(self.sample) if self.sample and not full else df

    def _ambiguous(self, name: str, rel: str, read: TableRead) -> pl.DataFrame | None:
        """A header that gives one name to several columns: when a rule reads that name, which column it means
        is a guess, so the whole file is quarantined (one position-0 record) and its rows are not read;
        otherwise the repeat is kept as a warning. A file without a header has values where the names would be,
        so a warning names the column only when the header also holds a column the mapping reads."""
        if self._referenced is None:
            self._referenced = {}
            for table, col in [(r.table, r.column) for r in references(self.m)] + [*column_or_literal(self.m)]:
                self._referenced.setdefault(table, set()).add(col)
        refs = self._referenced.get(name, set())
        renames = self.m.tables[name].columns
        used = {col: at for col, at in read.repeated.items() if renames.get(col, col) in refs}
        if not used:
            is_header = any(c in refs for c in read.frame.columns)
            self.repeated += [(name, rel, col, at, is_header) for col, at in read.repeated.items()]
            return None
        what = "; ".join(f"{col!r} at columns {', '.join(map(str, at))}" for col, at in used.items())
        reason = f"header repeats a name a rule reads ({what}): which column is meant is ambiguous; file not read"
        return pl.DataFrame(
            [(rel, 0, q.AMBIGUOUS_COLUMN, reason, None)],
            schema={FILE: pl.String, ROW: pl.Int64, "reason_code": pl.String, "reason": pl.String,
                    "record": pl.String}, orient="row")  # fmt: skip

    def _reject_unread(self, name: str, rejects: pl.DataFrame) -> None:
        """Rows (or whole files, position 0) the reader could not parse: quarantined under the table."""
        if not rejects.height:
            return
        self.rejects.append(
            rejects.select(
                FILE,
                ROW,
                pl.lit(name).alias("table"),
                "reason_code",
                "reason",
                "record",
                pl.lit("read").alias("rule"),
            )
        )
        seen = self.unread.get(name)
        rows = rejects.select(FILE, ROW)
        self.unread[name] = rows if seen is None else pl.concat([seen, rows]).unique(maintain_order=True)

    def release(self, names: list[str]) -> None:
        """After a table's last rule only its row identities are needed (the ledger): free the rest."""
        for name in names:
            if name in self.tables:
                self.tables[name] = self.tables[name].select(FILE, ROW)

    def compute(self, df: pl.DataFrame, exprs: dict[str, str], loc: tuple, table: str) -> pl.DataFrame:
        """Computed columns in order, each seeing the ones before it."""
        for col, source in exprs.items():
            try:
                compiled = compile_expression(source, column_types(df.schema))
            except ExpressionError as err:
                self.problem(f"{self.m.where(*loc, col)}: table {table!r}, computed column {col!r}: {err}")
                continue
            df = df.with_columns(compiled.expr.alias(col))
        return df

    def problem(self, message: str) -> None:
        if self.problems is None:
            raise MappingColumnError(message)
        self.problems.append(message)

    def require(self, df: pl.DataFrame, cols: list[str], loc: tuple, table: str, what: str) -> bool:
        """True when every column exists; otherwise a problem naming file:line, table and each column."""
        missing = [c for c in dict.fromkeys(cols) if c not in df.columns]
        for c in missing:
            close = difflib.get_close_matches(c, [x for x in df.columns if not x.startswith("__")], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.problem(f"{self.m.where(*loc)}: {what}: table {table!r} has no column {c!r}{hint}")
        return not missing

    def reject(self, df: pl.DataFrame, table: str, code: str, reason: str, rule: str = "subjects") -> None:
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
                    pl.lit(rule).alias("rule"),
                )
            )


def describe_error(err: Exception) -> str:
    """A polars error for a message that may be logged: its type, and its text only where that cannot hold a
    value from the data (a SQL parse error quotes the mapping; a missing column names columns). A conversion
    error lists the values that failed, so its text is withheld."""
    name = type(err).__name__
    if name in ("SQLInterfaceError", "SQLSyntaxError", "ColumnNotFoundError"):
        return f"{name}: {str(err).strip().splitlines()[0][:200]}"
    if name == "InvalidOperationError":
        return f"{name}: a value does not convert (use TRY_CAST in SQL; the values are not shown)"
    return f"{name} (message withheld: it can quote values from the data)"


def _rule(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def _tz(run: _Run, table: str) -> str:
    return run.m.tables[table].timezone or run.m.default_timezone


def _source_patient(table: str, key: str, id_col: str) -> pl.Expr:
    """The id a subject's pseudonym is made from. An `id` column apart from the key may be optional in the
    source's model (OMOP's person_source_value): a subject without one is still a subject, named by its key in
    a namespace of its own (`person.person_id=17`), so it can never take another subject's id."""
    source_id = pl.col(id_col).cast(pl.String)
    if id_col == key:
        return source_id
    fallback = pl.concat_str([pl.lit(f"{table}.{key}="), pl.col(key).cast(pl.String)])
    empty = source_id.is_null() | (source_id.str.strip_chars() == "")
    return pl.when(empty & pl.col(key).is_not_null()).then(fallback).otherwise(source_id)


def _subjects(run: _Run) -> pl.DataFrame:
    """key -> source_patient, plus birth/death/sex events and identity for the PHI audit."""
    s = run.m.subjects
    df = run.table(s.table, full=True)  # every subject, so a sampled check does not call events orphans
    run.used.add(s.table)
    if s.table in run.absent:  # no readable subjects file: every event is an orphan, quarantined as such
        empty = pl.from_arrow(RAW_PATIENTS_SCHEMA.empty_table()).rename({"source_file": FILE, "position": ROW})
        return empty.with_columns(pl.lit(None, pl.String).alias("key"))
    id_col = s.id or s.key
    types0 = column_types(df.schema)
    fields = {
        "key": [s.key],
        "id": [id_col],
        "birth": time_columns(s.birth, types0),
        "death": time_columns(s.death, types0),
        "sex": [s.sex] if s.sex else [],
    }
    fields.update({f"static.{j}": template_columns(t) for j, t in enumerate(s.static)})
    for fld, cols in fields.items():
        loc = ("subjects", *(int(x) if x.isdigit() else x for x in fld.split(".")))
        if not run.require(df, cols, loc, s.table, f"subjects.{fld}"):
            df = df.with_columns(pl.lit(None, pl.String).alias(c) for c in cols if c not in df.columns)
    types = column_types(df.schema)
    source_cols = list(df.columns)
    exprs = {"key": pl.col(s.key).cast(pl.String), "source_patient": _source_patient(s.table, s.key, id_col)}
    for name, spec in (("birth_time", s.birth), ("death_time", s.death)):
        if spec is not None:
            df = with_time(df, spec, _tz(run, s.table), types, prefix=name)
            exprs[f"{name}_bad"] = pl.col(f"{name}_present") & pl.col(name).is_null()
        else:
            exprs[name] = pl.lit(None, pl.Datetime("us"))
            exprs[f"{name}_bad"] = pl.lit(False)
    sex = pl.col(s.sex) if s.sex else pl.lit(None, pl.String)
    exprs["sex"] = sex.replace(run.m.maps[s.sex_map]) if s.sex_map else sex
    for kind in ("names", "identifiers", "telecoms", "addresses"):
        present_cols = [c for c in getattr(s, kind) if c in df.columns]  # identity columns are optional
        exprs[kind] = (
            pl.concat_list([pl.col(c).cast(pl.String) for c in present_cols]).list.drop_nulls()
            if present_cols
            else pl.lit(None)
        )
    out = df.with_columns(**exprs)
    bad_time = out.filter(pl.col("birth_time_bad") | pl.col("death_time_bad"))
    run.reject(
        bad_time.select(source_cols), s.table, q.UNPARSEABLE_DATE, "subject birth or death time does not parse"
    )
    no_id = out.filter(
        ~(pl.col("birth_time_bad") | pl.col("death_time_bad"))
        & (pl.col("source_patient").is_null() | pl.col("key").is_null())
    )
    run.reject(no_id.select(source_cols), s.table, q.MISSING_SUBJECT_REFERENCE, "subject key or id is empty")
    good = out.filter(
        ~(pl.col("birth_time_bad") | pl.col("death_time_bad"))
        & pl.col("source_patient").is_not_null()
        & pl.col("key").is_not_null()
    )
    dup = good.filter(pl.col("key").is_duplicated() & (pl.int_range(pl.len()).over("key") > 0))
    run.reject(dup.select(source_cols), s.table, q.DUPLICATE_PATIENT, "a second row for the same subject key")
    good = good.unique("key", keep="first", maintain_order=True)
    run.used.add(s.table)

    null_time = pl.lit(None, pl.Datetime("us")).alias("time")
    static = []
    if s.sex:
        static.append(
            good.select(
                "source_patient",
                null_time,
                pl.concat_str([pl.lit("GENDER//"), pl.col("sex")]).alias("code"),
                FILE,
                ROW,
            )
        )
    for tmpl in s.static:
        static.append(
            good.select("source_patient", null_time, template(tmpl, run.m.maps).alias("code"), FILE, ROW)
        )
    for col, code in (("birth_time", BIRTH_CODE), ("death_time", DEATH_CODE)):
        static.append(
            good.filter(pl.col(col).is_not_null()).select(
                "source_patient", pl.col(col).alias("time"), pl.lit(code).alias("code"), FILE, ROW
            )
        )
    events = pl.concat(static, how="diagonal_relaxed").filter(pl.col("code").is_not_null())
    run.events.append(events.with_columns(pl.lit(s.table).alias("resource_type")))
    return good


def _prepare(run: _Run, i: int, spec: EventSpec, keys: pl.DataFrame) -> pl.DataFrame | None:
    """The rule's rows: joins, unpivot, computed columns and `where`, with each row's source_patient."""
    df = run.table(spec.table)
    run.used.add(spec.table)  # absent too: its files' quarantined records (unreadable, empty) are ledger rows
    if spec.table in run.absent:
        return None
    for j, jn in enumerate(spec.joins):
        right = run.table(jn.table, full=True).drop(ROW, FILE)
        ok = run.require(
            df, list(jn.keys), ("events", i, "joins", j, "keys"), spec.table, f"events[{i}].joins[{j}]"
        )
        ok &= run.require(
            right, list(jn.keys.values()), ("events", i, "joins", j, "keys"), jn.table, f"events[{i}].joins[{j}]"
        )
        if not ok:
            return None
        right = right.rename({c: f"{jn.prefix}{c}" for c in right.columns})
        right_keys = [f"{jn.prefix}{c}" for c in jn.keys.values()]
        df = df.join(
            right.unique(right_keys, keep="first"),
            left_on=[pl.col(k).cast(pl.String) for k in jn.keys],  # a computed key joins by its text
            right_on=[pl.col(k).cast(pl.String) for k in right_keys],
            how="left",
            coalesce=False,
        )  # the dictionary's key stays, null where the row found no entry
    if spec.unpivot:
        u = spec.unpivot
        if not run.require(df, u.columns, ("events", i, "unpivot", "columns"), spec.table, f"events[{i}].unpivot"):
            return None
        index = [c for c in df.columns if c not in u.columns]
        df = df.with_columns(pl.col(u.columns).cast(pl.String))  # computed columns among them unpivot as text
        df = df.unpivot(on=u.columns, index=index, variable_name=u.name, value_name=u.value)
        # An empty cell makes no event; the row is still counted in the ledger through its other columns.
        df = df.filter(pl.col(u.value).is_not_null()).sort(ROW, maintain_order=True)
    df = run.compute(df, spec.compute, ("events", i, "compute"), spec.table)
    run.stats[f"events.{i}.where"] = {"rows": df.height}
    if spec.where:
        try:
            df = df.filter(pl.sql_expr(spec.where).fill_null(False))
        except Exception as err:  # polars raises several types for a bad SQL expression or column
            run.problem(f"{run.m.where('events', i, 'where')}: events[{i}].where on table {spec.table!r}: "
                        f"{describe_error(err)}")  # fmt: skip
            return None
    run.stats[f"events.{i}.where"]["selected"] = df.height
    if not run.require(df, [spec.subject], ("events", i, "subject"), spec.table, f"events[{i}].subject"):
        return None
    return df.with_columns(pl.col(spec.subject).cast(pl.String)).join(
        keys.select(pl.col("key").alias(spec.subject), "source_patient"), on=spec.subject, how="left"
    )


def _part_columns(part: EventSpec, types: dict[str, str]) -> dict[str, list[str]]:
    """Field -> the columns it reads, for the column check."""
    out = {
        "code": template_columns(part.code),
        "code_fallback": template_columns(part.code_fallback or ""),
        "time": time_columns(part.time, types),
        "numeric_value": value_columns(part.numeric_value, types),
        "unit": value_columns(part.unit, types),
    }
    for f in ("text_value", "description"):
        v = getattr(part, f)
        # a plain text_value naming no column has always been a literal
        out[f] = value_columns(v, types) if not isinstance(v, str) or "{" in v else []
    return out


def _event_spec(run: _Run, i: int, spec: EventSpec, keys: pl.DataFrame) -> None:
    df = _prepare(run, i, spec, keys)
    if df is None:
        return
    types = column_types(df.schema)
    source_cols = [c for c in run.tables[spec.table].columns if c in df.columns]
    if spec.unpivot:
        source_cols += [spec.unpivot.name, spec.unpivot.value]
    extra = {}
    for name, value in spec.extra.items():
        loc = ("events", i, "extra", name)
        if run.require(df, value_columns(value, types), loc, spec.table, f"events[{i}].extra.{name}"):
            extra[name] = value_text(value, types, run.m.maps, literal_ok=False)
    for p, part in enumerate(spec.parts()):
        base = ("events", i, "each", p) if spec.each else ("events", i)
        where_ok = True
        for f, cols in _part_columns(part, types).items():
            loc = (*base, f) if not spec.each or f in spec.each[p].model_fields_set else ("events", i, f)
            where_ok &= run.require(
                df, cols, loc, spec.table, f"events[{i}]{f'.each[{p}]' if spec.each else ''}.{f}"
            )
        if where_ok:
            _event_part(run, spec, part, df, types, source_cols, extra, base)


def _event_part(
    run: _Run,
    spec: EventSpec,
    part: EventSpec,
    df: pl.DataFrame,
    types: dict[str, str],
    source_cols: list[str],
    extra: dict[str, pl.Expr],
    loc: tuple,
) -> None:
    name = part.name or spec.table
    rows_in = df.height
    if part.where and spec.each:
        try:
            df = df.filter(pl.sql_expr(part.where).fill_null(False))
        except Exception as err:
            run.problem(f"{run.m.where(*loc, 'where')}: {name}: where: {describe_error(err)}")
            return
    if part.time is not None:
        df = with_time(df, part.time, _tz(run, spec.table), types)
    else:
        # a static fact (no time): nothing to parse, and every row makes its event
        df = df.with_columns(
            pl.lit(None, pl.Datetime("us")).alias("__time"), pl.lit(False).alias("__time_present")
        )
    code = template(part.code, run.m.maps)
    fallback = template(part.code_fallback, run.m.maps) if part.code_fallback else None
    if part.numeric_value is not None:
        read_from = value_columns(part.numeric_value, types)
        if spec.unpivot and spec.unpivot.value in read_from:  # the unpivoted columns' markers
            read_from = [c for c in read_from if c != spec.unpivot.value] + spec.unpivot.columns
        nulls = run.m.tables[spec.table].null_markers(read_from)
        number, number_bad, null_marker = value_number(part.numeric_value, types, nulls)
    else:
        number, number_bad, null_marker = pl.lit(None, pl.Float64), pl.lit(False), pl.lit(False)
    text = lambda v, lit: value_text(v, types, run.m.maps, lit) if v is not None else pl.lit(None, pl.String)  # noqa: E731
    df = df.with_columns(
        (pl.coalesce(code, fallback) if fallback is not None else code).alias("__code"),
        ((code.is_null() & fallback.is_not_null()) if fallback is not None else pl.lit(False)).alias(UNRECOGNIZED),
        number.alias("__num"),
        number_bad.alias("__num_bad"),
    )
    # markers are looked for among the values that are no number only, and only when there are some
    markers = df.select(pl.col("__num_bad").any()).item()
    if markers:
        df = df.with_columns((pl.col("__num_bad") & null_marker).alias("__num_null"))
        df = df.with_columns(pl.col("__num_bad") & ~pl.col("__num_null"))
    checks = [
        (pl.col(spec.subject).is_null(), q.MISSING_SUBJECT_REFERENCE, f"{name}: subject column is empty"),
        (pl.col("source_patient").is_null(), q.MISSING_PATIENT, f"{name}: subject key not in the subjects table"),
        (
            pl.col("__time_present") & pl.col("__time").is_null(),
            q.UNPARSEABLE_DATE,
            f"{name}: time does not parse",
        ),
        (pl.col("__code").is_null(), "MISSING_CODE", f"{name}: a column of the code template is empty"),
        (pl.col("__num_bad"), "INVALID_VALUE", f"{name}: numeric_value is not a number nor a null_values marker"),
    ]
    if part.time is not None and not spec.optional_time:
        checks.insert(2, (~pl.col("__time_present"), "MISSING_TIME", f"{name}: time is empty"))
    bad = pl.lit(False)
    for cond, reason_code, reason in checks:
        run.reject(df.filter(~bad & cond).select(source_cols), spec.table, reason_code, reason, _rule(loc))
        bad = bad | cond
    good = df.filter(~bad & (pl.col("__time_present") | (part.time is None)))
    run.stats[_rule(loc)] = {"name": name, "table": spec.table, "rows": rows_in, "selected": df.height}
    if markers and (n_null := int(good["__num_null"].sum())):
        run.stats[_rule(loc)]["null_markers"] = n_null  # events kept with no number (counted, not silent)
    good, meds_extra, unconverted = typed_extras(good, extra, run.m.meds_extra(), _tz(run, spec.table), types)
    if unconverted:
        run.stats[_rule(loc)]["extra_unconverted"] = unconverted
    run.events.append(
        good.select(
            "source_patient",
            pl.col("__time").alias("time"),
            pl.col("__code").alias("code"),
            pl.col("__num").alias("numeric_value"),
            text(part.text_value, True).alias("text_value"),
            text(part.unit, False).alias("unit"),
            text(part.description, True).alias("description"),
            pl.lit(name).alias("resource_type"),
            UNRECOGNIZED,
            *(e.alias(k) for k, e in extra.items()),
            *meds_extra,
            FILE,
            ROW,
        )
    )


def _note_spec(run: _Run, i: int, keyring, spec: NoteSpec, keys: pl.DataFrame) -> None:
    """Notes in a table: raw note rows (text as delivered, PHI zone) and one NOTE event each."""
    df = run.table(spec.table)
    run.used.add(spec.table)
    if spec.table in run.absent:
        return
    if spec.where:
        try:
            df = df.filter(pl.sql_expr(spec.where).fill_null(False))
        except Exception as err:  # polars raises several types for a bad SQL expression or column
            run.problem(f"{run.m.where('notes', i, 'where')}: notes[{i}].where on table {spec.table!r}: "
                        f"{describe_error(err)}")  # fmt: skip
            return
    types = column_types(df.schema)
    cols = [spec.subject, spec.text, *template_columns(spec.type), *time_columns(spec.time, types)]
    cols += [c for c in (spec.note_id, spec.encounter) if c]
    if not run.require(df, cols, ("notes", i), spec.table, f"notes[{i}]"):
        return
    source_cols = df.columns
    df = df.with_columns(pl.col(spec.subject).cast(pl.String)).join(
        keys.select(pl.col("key").alias(spec.subject), "source_patient"), on=spec.subject, how="left"
    )
    df = with_time(df, spec.time, _tz(run, spec.table), types)
    checks = [
        (pl.col(spec.subject).is_null(), q.MISSING_SUBJECT_REFERENCE, "notes: subject column is empty"),
        (pl.col("source_patient").is_null(), q.MISSING_PATIENT, "notes: subject key not in the subjects table"),
        (~pl.col("__time_present"), "MISSING_TIME", "notes: time is empty"),
        (pl.col("__time").is_null(), q.UNPARSEABLE_DATE, "notes: time does not parse"),
        (pl.col(spec.text).is_null(), "MISSING_TEXT", "notes: text is empty"),
    ]
    bad = pl.lit(False)
    for cond, code, reason in checks:
        run.reject(df.filter(~bad & cond).select(source_cols), spec.table, code, reason, f"notes.{i}")
        bad = bad | cond
    good = df.filter(~bad)
    origin = pl.col(spec.note_id).cast(pl.String) if spec.note_id else pl.concat_str([FILE, pl.lit(":"), ROW])
    source = run.m.source
    token: Callable[[str], str] = lambda o: keyring.token("note", f"table/{source}/{o}")  # noqa: E731
    notes = good.select(
        "source_patient",
        pl.col("__time").alias("time"),
        origin.map_elements(token, return_dtype=pl.String).alias("note_id"),
        pl.concat_str([pl.lit(f"{NOTE_CODE_PREFIX}//"), template(spec.type, run.m.maps)])
        .fill_null(f"{NOTE_CODE_PREFIX}//UNKNOWN")
        .alias("note_type"),
        (
            value_text(spec.type_display, types, run.m.maps, True)
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


def _last_uses(mapping: Mapping) -> dict[str, tuple]:
    """Per table, the last rule that reads its rows; tables the subjects or vocabulary step reads are kept."""
    last: dict[str, tuple] = {}
    for i, e in enumerate(mapping.events):
        for t in (e.table, *(j.table for j in e.joins)):
            last[t] = ("events", i)
    for i, n in enumerate(mapping.notes):
        last[n.table] = ("notes", i)
    for keep in (mapping.subjects.table, *(v.table for v in mapping.vocabulary)):
        last.pop(keep, None)
    return last


def map_source(
    mapping: Mapping,
    source_dir: Path,
    root: Path,
    keyring,
    *,
    sample: int | None = None,
    problems: list[str] | None = None,
) -> MappedSource:
    """Run every rule of `mapping` on the source's tables (the first `sample` rows of each, if given)."""
    run = _Run(mapping, source_dir, root, sample, problems)
    keys = _subjects(run)
    last_use = _last_uses(mapping)
    for i, spec in enumerate(mapping.events):
        _event_spec(run, i, spec, keys)
        run.release([t for t, last in last_use.items() if last == ("events", i)])
    for i, spec in enumerate(mapping.notes):
        _note_spec(run, i, keyring, spec, keys)
        run.release([t for t, last in last_use.items() if last == ("notes", i)])
    event_frames = [e for e in run.events if e.height] or run.events
    # rechunk=False: the frames' chunks are linked, not copied (the events are the largest thing held)
    events = pl.concat(event_frames, how="diagonal_relaxed", rechunk=False) if event_frames else pl.DataFrame()
    for col, dtype in (("source_patient", pl.String), ("time", pl.Datetime("us")), ("code", pl.String),
                       ("numeric_value", pl.Float64), ("text_value", pl.String), ("unit", pl.String),
                       ("description", pl.String), ("resource_type", pl.String), (UNRECOGNIZED, pl.Boolean),
                       (FILE, pl.String), (ROW, pl.Int64)):  # fmt: skip
        if col not in events.columns:
            events = events.with_columns(pl.lit(None, dtype).alias(col))
    events = events.with_columns(pl.col(UNRECOGNIZED).fill_null(False))
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
                "rule": pl.String,
            }
        )
    )
    metadata = code_metadata(run, events["code"] if events.height else pl.Series("code", [], pl.String))
    extra = sorted({k for e in mapping.events for k in e.extra})
    read_by_rules = run.used | {j.table for e in mapping.events for j in e.joins}
    read_by_rules |= {v.table for v in mapping.vocabulary} | {
        v.parents.table for v in mapping.vocabulary if v.parents
    }
    return MappedSource(
        events=events,
        keys=keys,
        notes=run.notes,
        rejects=rejects,
        tables=run.tables,
        used=run.used,
        code_metadata=metadata,
        unmapped=landing.unmapped_files(mapping, source_dir, read_by_rules),
        unread=run.unread,
        encodings=run.encodings,
        extra_columns=extra,
        stats=run.stats,
        headers=run.headers,
        files=run.files,
        repeated=run.repeated,
    )
