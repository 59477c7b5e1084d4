"""Every source column a mapping refers to, per table: templates, times, values, `where`, computed columns,
joins, unpivot, extra columns, notes, vocabularies and the subjects' identity columns.

The reader loads every column of a file, so a column that only a `where` (or an `each` part's `where`) names
is there for the rule; this list lets `tables check` name each referenced column a table's header lacks,
including the ones a rule never reaches on the sampled rows, and the identity columns the run treats as
optional (a misspelt name column leaves the PHI audit and the text de-identifier without that name).
"""

from dataclasses import dataclass

import polars as pl

from pipelines.defs.tables.compute import ExpressionError, _AnyColumns, compile_expression
from pipelines.defs.tables.mapping import Const, EventSpec, Expr, Mapping, TimeSpec, placeholders


@dataclass(frozen=True, slots=True)
class Reference:
    table: str
    column: str
    loc: tuple  # where in the mapping (for Mapping.where)
    field: str  # what refers to it, as the messages name it
    identity: bool = False  # a subjects identity column: optional at run time


def _expr_columns(source: str) -> list[str]:
    try:
        return sorted(compile_expression(source, _AnyColumns()).columns)
    except ExpressionError:
        return []  # the mapping's load already refused a bad expression


def _sql_columns(where: str | None) -> list[str]:
    if not where:
        return []
    try:
        return list(dict.fromkeys(pl.sql_expr(where).meta.root_names()))
    except Exception:  # a `where` that does not parse is reported when the rule runs
        return []


def _time(spec: str | TimeSpec | None) -> list[str]:
    if spec is None:
        return []
    if isinstance(spec, str):
        return [spec]
    if spec.expr:
        return _expr_columns(spec.expr)
    return [c for c in (spec.column, spec.date, spec.time) if c]


def _value(value: str | Const | Expr | None, literal_ok: bool) -> list[str]:
    """A value field's columns; a plain string is a column, except in text_value/description (a literal)."""
    if value is None or isinstance(value, Const):
        return []
    if isinstance(value, Expr):
        return _expr_columns(value.expr)
    if placeholders(value):
        return [c for c, _ in placeholders(value)]
    return [] if literal_ok else [value]


def _template(text: str | None) -> list[str]:
    return [c for c, _ in placeholders(text)] if text else []


def _rule(m: Mapping, i: int, e: EventSpec) -> list[Reference]:
    """A rule's references, each resolved to the table that has to deliver the column: the rule's own table,
    a joined dictionary (a `prefix`ed name), or none (a column the rule computes or unpivots)."""
    refs: list[tuple[str, tuple, str]] = [(e.subject, ("events", i, "subject"), "subject")]
    refs += [(c, ("events", i, "where"), "where") for c in _sql_columns(e.where)]
    refs += [
        (c, ("events", i, "compute", k), f"compute.{k}") for k, s in e.compute.items() for c in _expr_columns(s)
    ]
    for j, jn in enumerate(e.joins):
        refs += [(c, ("events", i, "joins", j, "keys"), f"joins[{j}].keys") for c in jn.keys]
    if e.unpivot:
        refs += [(c, ("events", i, "unpivot", "columns"), "unpivot.columns") for c in e.unpivot.columns]
    refs += [(c, ("events", i, "extra", k), f"extra.{k}") for k, v in e.extra.items() for c in _value(v, False)]
    for p, part in enumerate(e.parts()):
        base = ("events", i, "each", p) if e.each else ("events", i)
        label = f"each[{p}]." if e.each else ""
        fields = {
            "code": _template(part.code),
            "code_fallback": _template(part.code_fallback),
            "time": _time(part.time),
            "numeric_value": _value(part.numeric_value, False),
            "unit": _value(part.unit, False),
            "text_value": _value(part.text_value, True),
            "description": _value(part.description, True),
            "where": _sql_columns(part.where) if e.each else [],
        }
        refs += [(c, (*base, f), f"{label}{f}") for f, cols in fields.items() for c in cols]
    produced = set(e.compute) | set(m.tables[e.table].compute)
    if e.unpivot:
        produced |= {e.unpivot.name, e.unpivot.value}
    out = []
    for col, loc, what in refs:
        if col in produced:
            continue
        table = e.table
        for jn in e.joins:
            if col.startswith(jn.prefix) and loc[2:3] != ("joins",):
                table, col = jn.table, col.removeprefix(jn.prefix)
                break
        if col not in m.tables[table].compute:
            out.append(Reference(table, col, loc, f"events[{i}].{what}"))
    out += [
        Reference(jn.table, c, ("events", i, "joins", j, "keys"), f"events[{i}].joins[{j}].keys")
        for j, jn in enumerate(e.joins)
        for c in jn.keys.values()
        if c not in m.tables[jn.table].compute
    ]
    return out


def references(m: Mapping) -> list[Reference]:
    """Every column the mapping reads, with the table that must have it (after renames, before compute)."""
    out: list[Reference] = []
    for name, spec in m.tables.items():
        for k, s in spec.compute.items():
            earlier = set(list(spec.compute)[: list(spec.compute).index(k)])
            out += [Reference(name, c, ("tables", name, "compute", k), f"tables.{name}.compute.{k}")
                    for c in _expr_columns(s) if c not in earlier]  # fmt: skip
    s = m.subjects
    own = set(m.tables[s.table].compute)
    fields = {"key": [s.key], "id": [s.id] if s.id else [], "birth": _time(s.birth), "death": _time(s.death),
              "sex": [s.sex] if s.sex else []}  # fmt: skip
    fields |= {f"static.{j}": _template(t) for j, t in enumerate(s.static)}
    for f, cols in fields.items():
        loc = ("subjects", *(int(x) if x.isdigit() else x for x in f.split(".")))
        out += [Reference(s.table, c, loc, f"subjects.{f}") for c in cols if c not in own]
    for kind in ("names", "identifiers", "telecoms", "addresses"):
        out += [Reference(s.table, c, ("subjects", kind), f"subjects.{kind}", identity=True)
                for c in getattr(s, kind) if c not in own]  # fmt: skip
    for i, e in enumerate(m.events):
        out += _rule(m, i, e)
    for i, n in enumerate(m.notes):
        cols = [n.subject, n.text, *_template(n.type), *_time(n.time), *_sql_columns(n.where)]
        cols += [c for c in (n.note_id, n.encounter) if c] + _value(n.type_display, True)
        out += [
            Reference(n.table, c, ("notes", i), f"notes[{i}]") for c in cols if c not in m.tables[n.table].compute
        ]
    for i, v in enumerate(m.vocabulary):
        cols = [*_template(v.code), *_template(v.parent), *(c for c in (v.description, v.id) if c)]
        out += [Reference(v.table, c, ("vocabulary", i), f"vocabulary[{i}]") for c in cols]
        if v.parents:
            pt = v.parents
            cols = [pt.child, pt.parent, *_sql_columns(pt.where)]
            out += [Reference(pt.table, c, ("vocabulary", i, "parents"), f"vocabulary[{i}].parents") for c in cols]
    computed = {name: set(spec.compute) for name, spec in m.tables.items()}
    out = [r for r in out if r.loc[0] == "tables" or r.column not in computed[r.table]]
    return list(dict.fromkeys(out))


def column_or_literal(m: Mapping) -> set[tuple[str, str]]:
    """(table, name) of each plain `text_value`, `description` or note `type_display`: a literal text, or the
    column of that name where the table has one (so not in `references`, which lists what must exist)."""
    out = set()
    for e in m.events:
        for part in e.parts():
            for value in (part.text_value, part.description):
                if isinstance(value, str) and not placeholders(value):
                    out.add((e.table, value))
    out |= {(n.table, n.type_display) for n in m.notes if n.type_display and not placeholders(n.type_display)}
    return out


def missing(m: Mapping, headers: dict[str, list[str]]) -> list[Reference]:
    """References to a column that the table's files (read, with their headers as delivered) do not have."""
    return [r for r in references(m) if r.table in headers and r.column not in headers[r.table]]
