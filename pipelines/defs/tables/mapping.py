"""The YAML mapping language for tabular sources: its schema, and loading with errors that name the line.

A mapping is checked completely before any data is read. See docs/tables.md for the language.
"""

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?\}")
SHIPPED = Path(__file__).parent / "mappings"


class MappingError(ValueError):
    """A mapping does not follow the schema; the message names the file and line of each problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableSpec(_Strict):
    """A table: a file name or glob under the source folder (.csv, .csv.gz, .tsv, .parquet)."""

    file: str
    separator: str = ","
    columns: dict[str, str] = Field(default_factory=dict)  # rename: source column -> name used in the mapping


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
    format: str | None = None  # strftime-style; default tries ISO 8601 with or without zone, and dates
    timezone: str | None = None  # zone of naive values; default: the mapping's default_timezone

    @model_validator(mode="after")
    def _one_source(self) -> "TimeSpec":
        if bool(self.column) == bool(self.date):
            raise ValueError("give either `column`, or `date` (with an optional `time`)")
        if self.time and not self.date:
            raise ValueError("`time` needs `date`")
        return self


TimeField = Annotated[str | TimeSpec, Field(description="column name, or a TimeSpec")]


class EventSpec(_Strict):
    """One MEDS event per row of `table` (after `where`), with a code built from a template."""

    table: str
    subject: str  # column holding the subject key
    code: str  # template: LAB//{itemid}//{valueuom}; {col:map} applies a value map
    code_fallback: str | None = None  # template used where `code` is null (e.g. an unmapped OMOP concept)
    time: TimeField | None = None  # None: a static fact
    numeric_value: str | None = None
    text_value: str | None = None  # a column, or a template with {placeholders}
    unit: str | None = None
    description: str | None = None  # column or template giving the code's description
    where: str | None = None  # a SQL boolean expression over the table's columns
    joins: list[Join] = Field(default_factory=list)
    optional_time: bool = False  # a row without time yields no event (e.g. an encounter still open)
    name: str | None = None  # shown in the ledger; defaults to the table name

    @field_validator("code")
    @classmethod
    def _has_literal_vocab(cls, v: str) -> str:
        if not v or v.startswith("//"):
            raise ValueError("code template must start with a vocabulary, e.g. 'LOINC//{code}'")
        return v


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
        problems += [f"{where}: unknown table {name!r}" for where, name in refs if name not in known]
        templates = [
            (f"events[{i}].{f}", getattr(e, f))
            for i, e in enumerate(self.events)
            for f in ("code", "code_fallback", "text_value", "description")
            if getattr(e, f)
        ]
        templates += [(f"subjects.static[{i}]", t) for i, t in enumerate(self.subjects.static)]
        for where, template in templates:
            for _, map_name in _PLACEHOLDER.findall(template):
                if map_name and map_name not in self.maps:
                    problems.append(f"{where}: unknown value map {map_name!r}")
        if self.subjects.sex_map and self.subjects.sex_map not in self.maps:
            problems.append(f"subjects.sex_map: unknown value map {self.subjects.sex_map!r}")
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
        return Mapping.model_validate(data)
    except ValidationError as err:
        index = _line_index(text)
        lines = []
        for e in err.errors():
            loc = tuple(e["loc"])
            line = _line_of(index, loc)
            field = ".".join(str(p) for p in loc) or "(top level)"
            lines.append(f"{path}:{line}: {field}: {e['msg']}")
        raise MappingError("invalid mapping:\n  " + "\n  ".join(lines)) from None


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
