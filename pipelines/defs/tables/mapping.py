"""The YAML mapping language for tabular sources: its schema, and loading with errors that name the line.

A mapping is checked completely before any data is read. See docs/tables.md for the language.
"""

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from pipelines.defs.tables.compute import ExpressionError, check_format
from pipelines.defs.tables.compute import validate as validate_expression

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?\}")
SHIPPED = Path(__file__).parent / "mappings"


class MappingError(ValueError):
    """A mapping does not follow the schema; the message names the file and line of each problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _zone(v: str | None) -> str | None:
    """An IANA zone name (daylight-saving rules come from tzdata); fixed offsets are not zones."""
    if v is None:
        return v
    if re.fullmatch(r"(UTC|GMT)?[+-]\d{1,2}(:?\d{2})?", v):
        raise ValueError(f"time zone {v!r} is a fixed offset; name a zone such as Europe/Paris (DST rules apply)")
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r} (an IANA name such as America/New_York)") from None
    return v


def _expressions(v: dict[str, str]) -> dict[str, str]:
    for name, source in v.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"computed column name {name!r} must be a plain identifier")
        try:
            validate_expression(source)
        except ExpressionError as err:
            raise ValueError(f"{name}: {err}") from None
    return v


Computed = Annotated[
    dict[str, str],
    Field(default_factory=dict, description="new column -> expression (see docs/tables.md, Computed columns)"),
]


# Text that means "no value" in a numeric value column, as common exports write it: R (NA), SQL dumps (NULL),
# MySQL/PostgreSQL COPY (\N), spreadsheets (#N/A), hand entry (N/A). None of these is a number, so in a
# numeric_value column each can only mean a missing value; they are never applied to codes, subjects or times.
# NaN is not among them: it parses as a float and stays NON_FINITE_VALUE (schemas/values.py) unless listed.
DEFAULT_NULL_VALUES = ("NA", "na", "N/A", "n/a", "NULL", "null", "\\N", "#N/A", "<NA>")


def _null_values(v: object) -> object:
    """A list of strings, or column -> list of strings; anything else is refused with what to write."""
    if v is None:
        return v
    hint = 'give a list of strings (null_values: [NA, "NULL"]) or column -> list ({valuenum: [NA]})'
    if isinstance(v, str):
        raise ValueError(f"null_values is one string; {hint}")
    lists = v.items() if isinstance(v, dict) else [(None, v)] if isinstance(v, list) else None
    if lists is None:
        raise ValueError(f"null_values must be a list or a mapping; {hint}")
    for column, markers in lists:
        where = f"null_values.{column}" if column is not None else "null_values"
        if not isinstance(markers, list):
            raise ValueError(f"{where} must be a list of strings; {hint}")
        for i, m in enumerate(markers):
            if m is None:
                raise ValueError(f"{where}[{i}]: YAML reads an unquoted null, NULL or ~ as no value; quote it "
                                 "(\"NULL\")")  # fmt: skip
            if not isinstance(m, str):
                kind = {bool: "a yes/no", int: "a number", float: "a number"}.get(type(m), type(m).__name__)
                raise ValueError(f"{where}[{i}]: YAML reads it as {kind}, not text; quote the marker as the file "
                                 "writes it (\"-999\", \"NO\")")  # fmt: skip
            if not m.strip():
                raise ValueError(f"{where}[{i}] is empty; an empty cell is already no value")
    return v


class TableSpec(_Strict):
    """A table: a file name or glob under the source folder (.csv, .csv.gz, .tsv, .parquet)."""

    file: str
    separator: str = ","
    columns: dict[str, str] = Field(default_factory=dict)  # rename: source column -> name used in the mapping
    compute: Computed  # columns computed from each row, in order (a later one may use an earlier one)
    timezone: str | None = None  # zone of this table's naive times; default: the mapping's default_timezone
    optional: bool = False  # no file is no error (a table some extracts leave out); rules then see no rows
    # Text read as "no value" in numeric_value columns (the event is kept, its number null): a list for every
    # such column of the table, or column -> list (columns not named keep the default); None: the default.
    null_values: list[str] | dict[str, list[str]] | None = None

    _zone = field_validator("timezone")(classmethod(lambda cls, v: _zone(v)))
    _exprs = field_validator("compute")(classmethod(lambda cls, v: _expressions(v)))
    _nulls = field_validator("null_values", mode="before")(classmethod(lambda cls, v: _null_values(v)))

    def null_markers(self, columns: list[str]) -> frozenset[str]:
        """The markers for a numeric value read from `columns` (several: an expression's, an unpivot's)."""
        if self.null_values is None or isinstance(self.null_values, dict):
            per = self.null_values or {}
            return frozenset(m for c in columns or [""] for m in per.get(c, DEFAULT_NULL_VALUES))
        return frozenset(self.null_values)


class Join(_Strict):
    """Left join a dictionary table to look up descriptions or vocabularies; its columns get `prefix`."""

    table: str
    keys: dict[str, str]  # this table's column -> the dictionary's column (not `on`: YAML reads it as true)
    prefix: str


class TimeSpec(_Strict):
    """Event time from a datetime column, or a date column plus a time column."""

    column: str | None = None
    date: str | None = None
    time: str | None = None
    expr: str | None = (
        None  # an expression giving a date or date-time (e.g. "date(anchor_year - anchor_age, 1, 1)")
    )
    format: str | None = None  # strftime-style; default tries ISO 8601 with or without zone, and dates
    timezone: str | None = None  # zone of naive values; default: the table's, else the mapping's default_timezone

    _zone = field_validator("timezone")(classmethod(lambda cls, v: _zone(v)))

    @model_validator(mode="after")
    def _one_source(self) -> "TimeSpec":
        if sum(map(bool, (self.column, self.date, self.expr))) != 1:
            raise ValueError("give one of `column`, `date` (with an optional `time`), or `expr`")
        if self.time and not self.date:
            raise ValueError("`time` needs `date`")
        if self.expr:
            _expressions({"expr": self.expr})
        if self.format:
            try:
                check_format(self.format)
            except ExpressionError as err:
                raise ValueError(str(err)) from None
        return self


TimeField = Annotated[str | TimeSpec, Field(description="column name, or a TimeSpec")]


class Const(_Strict):
    """A constant value for every event of a rule: `unit: {const: mmHg}`."""

    const: str | float


class Expr(_Strict):
    """A value computed per row: `numeric_value: {expr: "split(value, '/', 0)"}`."""

    expr: str

    @field_validator("expr")
    @classmethod
    def _valid(cls, v: str) -> str:
        _expressions({"expr": v})
        return v


# A column name, a template with {placeholders}, {const: ...} or {expr: ...}.
Value = Annotated[str | Const | Expr, Field(description="column, template, {const: v} or {expr: e}")]


def _code_template(v: str | None) -> str | None:
    if v is not None and (not v or v.startswith("//")):
        raise ValueError("code template must start with a vocabulary, e.g. 'LOINC//{code}'")
    return v


class Unpivot(_Strict):
    """One event per listed column: the row becomes one row per non-empty column, with `name` and `value`."""

    columns: list[str] = Field(min_length=1)
    name: str = "column"  # new column holding the source column's name (use it in the code: VITAL//{column})
    value: str = "value"  # new column holding that column's value


class EventPart(_Strict):
    """One of several events made from the same row (`each:`); unset fields come from the rule."""

    code: str | None = None
    code_fallback: str | None = None
    time: TimeField | None = None
    numeric_value: Value | None = None
    text_value: Value | None = None
    unit: Value | None = None
    description: Value | None = None
    where: str | None = None  # a SQL boolean expression: this part makes an event only where it holds
    name: str | None = None

    _code = field_validator("code", "code_fallback")(classmethod(lambda cls, v: _code_template(v)))


class EventSpec(_Strict):
    """One MEDS event per row of `table` (after `where`), with a code built from a template."""

    table: str
    subject: str  # column holding the subject key
    code: str  # template: LAB//{itemid}//{valueuom}; {col:map} applies a value map
    code_fallback: str | None = None  # template used where `code` is null (e.g. an unmapped OMOP concept)
    time: TimeField | None = None  # None: a static fact
    numeric_value: Value | None = None  # a column, {expr: ...} or {const: ...}; must parse as a number
    text_value: Value | None = None  # a column, a template with {placeholders}, {expr} or {const}
    unit: Value | None = None
    description: Value | None = None  # gives the code's description (feeds MEDS codes.parquet)
    where: str | None = None  # a SQL boolean expression over the table's columns
    joins: list[Join] = Field(default_factory=list)
    compute: Computed  # columns computed after the joins and unpivot, before `where`
    unpivot: Unpivot | None = None
    each: list[EventPart] = Field(default_factory=list)  # several events per row (e.g. 120/80 -> two)
    extra: dict[str, Value] = Field(default_factory=dict)  # extra columns kept with each event (raw zone)
    optional_time: bool = False  # a row without time yields no event (e.g. an encounter still open)
    name: str | None = None  # shown in the ledger; defaults to the table name

    _code = field_validator("code", "code_fallback")(classmethod(lambda cls, v: _code_template(v)))
    _exprs = field_validator("compute")(classmethod(lambda cls, v: _expressions(v)))

    @field_validator("extra")
    @classmethod
    def _extra_names(cls, v: dict) -> dict:
        reserved = {
            "subject_id",
            "source_patient",
            "time",
            "code",
            "numeric_value",
            "text_value",
            "unit",
            "description",
        }
        bad = [k for k in v if k in reserved or not re.fullmatch(r"[a-z][a-z0-9_]*", k)]
        if bad:
            raise ValueError(f"extra column names must be lower_snake_case and not a MEDS column: {bad}")
        return v

    def parts(self) -> list["EventSpec"]:
        """The rule as one spec per event it makes from a row (itself, or one per `each` entry)."""
        if not self.each:
            return [self]
        out = []
        for i, part in enumerate(self.each):
            update = {k: v for k, v in part.model_dump(exclude_unset=True).items() if v is not None}
            for k in ("numeric_value", "text_value", "unit", "description", "time"):
                if k in update:
                    update[k] = getattr(part, k)
            update.setdefault("name", f"{self.name or self.table} [{i}]")
            # the rule's own `where` has selected the rows already; a part's `where` narrows them further
            update["where"] = part.where
            out.append(self.model_copy(update={**update, "each": []}))
        return out


EXTRA_TYPES = ("string", "int", "float", "datetime")
EXTRA_DEID = ("keep", "drop", "pseudonymize", "shift", "text")


class ExtraColumn(_Strict):
    """How an extra column reaches the MEDS data shards: its type and its de-identification.

    drop (the default, also for an extra column not declared here): raw zone only, never in MEDS.
    keep: as delivered (numbers and codes without identifiers). pseudonymize: a keyed token of the value
    (an admission id, still joinable within the dataset). shift: a date-time moved with its subject's events.
    text: free text through the text de-identifier (as notes are).
    """

    type: Literal["string", "int", "float", "datetime"] = "string"
    deid: Literal["keep", "drop", "pseudonymize", "shift", "text"] = "drop"

    @model_validator(mode="after")
    def _deid_fits_type(self) -> "ExtraColumn":
        if self.type == "datetime" and self.deid not in ("shift", "drop"):
            raise ValueError(
                "a datetime extra column is shifted with its subject's events (deid: shift) or dropped"
            )
        if self.deid == "shift" and self.type != "datetime":
            raise ValueError("deid: shift applies to type: datetime")
        if self.deid in ("pseudonymize", "text") and self.type != "string":
            raise ValueError(f"deid: {self.deid} gives text: use type: string")
        return self


class ParentTable(_Strict):
    """Parent links between vocabulary ids: OMOP concept_relationship ('Is a') or concept_ancestor (level 1)."""

    table: str
    child: str
    parent: str
    where: str | None = None  # SQL, e.g. "relationship_id = 'Is a'" or "min_levels_of_separation = '1'"


class Vocabulary(_Strict):
    """A dictionary table giving codes their description and parents in MEDS codes.parquet."""

    table: str
    code: str  # template giving the code as the events spell it: "{vocabulary_id:vocabulary}//{concept_code}"
    description: str | None = None  # column
    id: str | None = None  # the id parent links refer to (concept_id)
    parents: ParentTable | None = None
    parent: str | None = None  # a template giving one parent code per row: "ITEM_CATEGORY//{category}"

    @model_validator(mode="after")
    def _parents_need_id(self) -> "Vocabulary":
        if self.parents and not self.id:
            raise ValueError("`parents` links ids: give the vocabulary's `id` column")
        return self


class NoteSpec(_Strict):
    """Clinical notes held in a table: one note per row; its text goes through the text de-identifier."""

    table: str
    subject: str
    time: TimeField
    text: str  # the column holding the note text
    type: str = "UNKNOWN"  # template for the note type: "LOINC//{loinc}" gives NOTE//LOINC//<code>
    type_display: str | None = None
    note_id: str | None = None  # the column of the source's note id (defaults to file and row)
    encounter: str | None = None
    where: str | None = None


class Subjects(_Strict):
    """The subjects table: its key, the source id used for pseudonyms, and what identifies a person."""

    table: str
    key: str  # the column events refer to
    id: str | None = None  # source patient id for pseudonyms (defaults to key); shared across sources
    birth: TimeField | None = None
    death: TimeField | None = None
    sex: str | None = None
    sex_map: str | None = None  # name of a value map applied to `sex`
    static: list[str] = Field(default_factory=list)  # code templates of static facts (RACE//{race})
    names: list[str] = Field(default_factory=list)
    identifiers: list[str] = Field(default_factory=list)
    telecoms: list[str] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)


class Mapping(_Strict):
    source: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    version: Literal[1] = 1
    description: str = ""
    default_timezone: str = "UTC"
    tables: dict[str, TableSpec]
    maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    subjects: Subjects
    events: list[EventSpec]
    notes: list[NoteSpec] = Field(default_factory=list)
    vocabulary: list[Vocabulary] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)  # globs of landing files deliberately left unmapped
    # extra column name (as the rules' `extra` name it) -> type and de-identification for the MEDS shards
    extra_columns: dict[str, ExtraColumn] = Field(default_factory=dict)
    _path: Path | None = PrivateAttr(default=None)
    _lines: dict = PrivateAttr(default_factory=dict)

    _zone = field_validator("default_timezone")(classmethod(lambda cls, v: _zone(v)))

    def meds_extra(self) -> dict[str, ExtraColumn]:
        """Extra columns that reach the MEDS data shards (declared, and not dropped), in name order."""
        return {k: v for k, v in sorted(self.extra_columns.items()) if v.deid != "drop"}

    def where(self, *loc: str | int) -> str:
        """`file:line` of a place in the mapping (the closest enclosing key that has a line)."""
        line = _line_of(self._lines, loc) if self._lines else None
        path = self._path or "mapping"
        return f"{path}:{line}" if line else str(path)

    @model_validator(mode="after")
    def _references_resolve(self) -> "Mapping":
        known = set(self.tables)
        problems = []
        refs = [("subjects.table", self.subjects.table)]
        refs += [(f"events[{i}].table", e.table) for i, e in enumerate(self.events)]
        refs += [(f"notes[{i}].table", n.table) for i, n in enumerate(self.notes)]
        refs += [
            (f"events[{i}].joins[{j}].table", jn.table)
            for i, e in enumerate(self.events)
            for j, jn in enumerate(e.joins)
        ]
        refs += [(f"vocabulary[{i}].table", v.table) for i, v in enumerate(self.vocabulary)]
        refs += [
            (f"vocabulary[{i}].parents.table", v.parents.table) for i, v in enumerate(self.vocabulary) if v.parents
        ]
        problems += [f"{where}: unknown table {name!r}" for where, name in refs if name not in known]
        templates = [
            (f"events[{i}].{f}", getattr(p, f))
            for i, e in enumerate(self.events)
            for p in e.parts()
            for f in ("code", "code_fallback", "text_value", "description", "unit")
            if isinstance(getattr(p, f), str)
        ]
        templates += [(f"vocabulary[{i}].code", v.code) for i, v in enumerate(self.vocabulary)]
        templates += [(f"subjects.static[{i}]", t) for i, t in enumerate(self.subjects.static)]
        for where, template in templates:
            for _, map_name in _PLACEHOLDER.findall(template):
                if map_name and map_name not in self.maps:
                    problems.append(f"{where}: unknown value map {map_name!r}")
        if self.subjects.sex_map and self.subjects.sex_map not in self.maps:
            problems.append(f"subjects.sex_map: unknown value map {self.subjects.sex_map!r}")
        kept = {k for e in self.events for k in e.extra}
        problems += [
            f"extra_columns.{name}: no rule keeps an extra column {name!r} (add it to a rule's `extra`)"
            for name in self.extra_columns
            if name not in kept
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def placeholders(template: str) -> list[tuple[str, str | None]]:
    """Columns (and value maps) a template refers to.

    >>> placeholders("LAB//{itemid}//{valueuom:units}")
    [('itemid', None), ('valueuom', 'units')]
    """
    return [(col, m or None) for col, m in _PLACEHOLDER.findall(template)]


def _line_index(text: str) -> dict[tuple, int]:
    """YAML path (keys and list indices) -> 1-based line, from the composed node tree."""
    index: dict[tuple, int] = {}

    def walk(node, path: tuple) -> None:
        index[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                index[(*path, k.value)] = k.start_mark.line + 1
                walk(v, (*path, k.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, (*path, i))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return index


def _line_of(index: dict[tuple, int], loc: tuple) -> int | None:
    path = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("str", "TimeSpec"))))
    while path:
        if path in index:
            return index[path]
        path = path[:-1]
    return index.get(())


def load_mapping(path: Path | str) -> Mapping:
    """Parse and validate a mapping file; MappingError lists every problem with its line."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise MappingError(f"{where}: not valid YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(data, dict):
        raise MappingError(
            f"{path}:1: a mapping file must be a YAML mapping with source, tables, subjects, events"
        )
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as err:
        index = _line_index(text)
        lines = []
        for e in err.errors():
            loc = tuple(e["loc"])
            line = _line_of(index, loc)
            field = ".".join(str(p) for p in loc) or "(top level)"
            lines.append(f"{path}:{line}: {field}: {e['msg']}")
        raise MappingError("invalid mapping:\n  " + "\n  ".join(lines)) from None
    mapping._path, mapping._lines = path, _line_index(text)
    return mapping


def resolve_mapping(source_dir: Path) -> Mapping:
    """A source folder's own mapping.yaml, or `mapping: <name>` in longitude-source.yaml naming a shipped one."""
    own = source_dir / "mapping.yaml"
    if own.exists():
        return load_mapping(own)
    pointer = source_dir / "longitude-source.yaml"
    if pointer.exists():
        name = (yaml.safe_load(pointer.read_text()) or {}).get("mapping")
        shipped = SHIPPED / f"{name}.yaml"
        if not isinstance(name, str) or not shipped.exists():
            available = ", ".join(sorted(p.stem for p in SHIPPED.glob("*.yaml")))
            raise MappingError(f"{pointer}:1: mapping must name a shipped mapping ({available})")
        return load_mapping(shipped)
    raise MappingError(f"{source_dir}: no mapping.yaml (or longitude-source.yaml naming a shipped mapping)")
