"""`longitude tables draft`: a first mapping.yaml for an extract, from its headers and a sample of rows.

Only structure is used: which column most tables share (the subject key), in which table that column is
unique (the subjects table), which columns read as times or numbers in the sample. Everything it cannot know
(the vocabulary of a code, units, what a dictionary describes) is left as a TODO comment for the engineer; the
draft loads, and `longitude tables check` runs on it from the first minute.
"""

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.defs.tables.landing import MAPPING_FILES

_TABULAR = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet")
_ISO = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_SHARE = 0.9  # a column reads as a time (or a number) when this share of its sampled values does


@dataclass(slots=True)
class _Table:
    name: str
    rel: str
    sample: pl.DataFrame
    size: int


def _read_sample(path: Path, rows: int) -> pl.DataFrame:
    if path.name.lower().endswith(".parquet"):
        return pl.read_parquet(path, n_rows=rows).select(pl.all().cast(pl.String))
    sep = "\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else ","
    return pl.read_csv(path, separator=sep, infer_schema=False, n_rows=rows, truncate_ragged_lines=True)


def _share(values: pl.Series, parsed: pl.Series) -> float:
    present = values.drop_nulls().len()
    return parsed.drop_nulls().len() / present if present else 0.0


def _is_time(col: pl.Series) -> bool:
    text = col.str.strip_chars().str.replace(r"(Z|[+-]\d\d:?\d\d)$", "")
    parsed = pl.select(pl.coalesce([text.str.to_datetime(f, strict=False) for f in _ISO])).to_series()
    return _share(col, parsed) >= _SHARE


def _is_number(col: pl.Series) -> bool:
    return _share(col, col.str.strip_chars().cast(pl.Float64, strict=False)) >= _SHARE


def _name(path: Path, taken: set[str]) -> str:
    stem = path.name.split(".")[0].lower()
    base = re.sub(r"[^a-z0-9_]+", "_", stem).strip("_") or "table"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def _tables(folder: Path, rows: int) -> tuple[list[_Table], list[str]]:
    tables, unreadable, taken = [], [], set()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or path.name in MAPPING_FILES or any(p.startswith(".") for p in path.parts):
            continue
        if not path.name.lower().endswith(_TABULAR):
            unreadable.append(rel)
            continue
        try:
            sample = _read_sample(path, rows)
        except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError):
            unreadable.append(rel)
            continue
        tables.append(_Table(_name(path, taken), rel, sample, path.stat().st_size))
    return tables, unreadable


def _subject_key(tables: list[_Table]) -> tuple[str | None, _Table | None]:
    """The column most tables share, and the table that lists subjects: the key unique in its sample, the most
    subjects, the most columns."""
    counts = Counter(c for t in tables for c in t.sample.columns)
    for column, n in counts.most_common():
        if n < 2:
            break
        unique = [
            t for t in tables
            if column in t.sample.columns and t.sample[column].drop_nulls().len()
            and t.sample[column].drop_nulls().is_unique().all()
        ]  # fmt: skip
        if unique:
            return column, min(unique, key=lambda t, c=column: _subjects_rank(t, c, counts))
    return None, None


def _subjects_rank(t: _Table, key: str, counts: Counter) -> tuple:
    # the most subjects; then the most columns (a subjects table describes a person; a per-subject summary
    # such as an observation period has few); then the smallest file
    return -t.sample[key].n_unique(), -len(t.sample.columns), t.size


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def draft_mapping(folder: Path, source: str, rows: int = 500) -> str:
    """The draft mapping's YAML text."""
    tables, unreadable = _tables(folder, rows)
    key, subjects = _subject_key(tables)
    out = [
        f"# Draft mapping for {folder.name}/, written by `longitude tables draft` from headers and {rows} rows",
        "# per file. Work through the TODOs, then run `longitude tables check` on the folder (docs/tables.md).",
        f"source: {source}",
        "version: 1",
        "default_timezone: UTC  # TODO: the IANA zone of the extract's wall-clock times",
        "",
        "tables:",
    ]
    out += [f"  {t.name}: {{file: {_q(t.rel)}}}" for t in tables]
    if unreadable:
        out.append(
            "ignore:                 # TODO: not tabular or not readable here: map another way, or keep ignored"
        )
        out += [f"  - {_q(rel)}" for rel in unreadable]
    out += ["", "maps: {}", ""]
    if subjects is None or key is None:
        first = tables[0].name if tables else "TODO"
        out += ["# TODO: no column is shared by two tables and unique in one: name the subjects table and key.",
                f"subjects: {{table: {first}, key: TODO}}", "events: []"]  # fmt: skip
        return "\n".join(out) + "\n"
    times = [c for c in subjects.sample.columns if c != key and _is_time(subjects.sample[c])]
    out += [
        "subjects:",
        f"  table: {subjects.name}",
        f"  key: {key}",
        f"  # TODO: birth / death / sex; columns that read as times here: {', '.join(times) or 'none'}",
        "",
        "events:",
    ]
    shared = Counter(c for t in tables for c in t.sample.columns)
    dictionaries = [t for t in tables if key not in t.sample.columns]
    looked_up = {c for t in dictionaries for c in t.sample.columns}  # columns a dictionary is keyed by
    for t in tables:
        if t is not subjects and key in t.sample.columns:
            out += _event_rule(t, key, shared, looked_up)
    if dictionaries:
        out += ["", "# No subject column: dictionaries to join (events[].joins) or describe codes (vocabulary):",
                "# " + ", ".join(t.name for t in dictionaries)]  # fmt: skip
    return "\n".join(out) + "\n"


def _event_rule(t: _Table, key: str, shared: Counter, looked_up: set[str]) -> list[str]:
    others = [c for c in t.sample.columns if c != key]
    times = [c for c in others if _is_time(t.sample[c])]
    n = max(t.sample.height, 1)

    def id_like(c: str) -> bool:  # a row id or a reference to another table: not a measurement
        col = t.sample[c].drop_nulls()
        whole = col.str.strip_chars().str.contains(r"^-?\d+$").all()
        return whole and (shared[c] > 1 or col.is_unique().all())

    numbers = [c for c in others if c not in times and _is_number(t.sample[c]) and not id_like(c)]
    # A code repeats (few distinct values per row); row ids, references and free text do not. A column a
    # dictionary table is keyed by is the likeliest code (MIMIC itemid -> d_items).
    repeats = [
        c for c in others
        if c not in times and c not in numbers and 1 < t.sample[c].drop_nulls().n_unique() <= max(2, n // 2)
        and shared[c] <= 1
    ]  # fmt: skip
    codes = [c for c in others if c in looked_up and c not in times] + repeats
    codes = [c for c in codes if t.sample[c].drop_nulls().len() >= _SHARE * n]  # a code is rarely empty
    vocab = re.sub(r"[^A-Z0-9_]", "_", t.name.upper())
    lines = [f"  - table: {t.name}", f"    subject: {key}"]
    if codes:
        alt = f"; or: {', '.join(codes[1:4])}" if len(codes) > 1 else ""
        lines.append(f'    code: "{vocab}//{{{codes[0]}}}"  # TODO: vocabulary and code column{alt}')
    else:
        lines.append(f'    code: "{vocab}//TODO"  # TODO: no column looked like a code')
    if times:
        rest = f"; also times: {', '.join(times[1:])}" if len(times) > 1 else ""
        lines.append(f"    time: {times[0]}  # TODO: check{rest}")
    else:
        lines.append("    # TODO: no column reads as a time: join one (docs/tables.md), or leave static facts")
    if numbers:
        lines.append(f"    # numbers: {', '.join(numbers)} (numeric_value, unit?)")
    return lines
