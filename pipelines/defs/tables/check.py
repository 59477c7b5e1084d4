"""`longitude tables check` against data: run a mapping's rules on a sample of rows and report what would fail.

The rules run through the same engine as `materialize` (on the first rows of each table; the subjects and
dictionary tables are read whole so a sample does not call events orphans). A problem is a mistake that
would fail or empty a run: a missing file or column, an expression that does not compile, a `where` that
does not parse, a time format or a numeric column that fails on most sampled rows. The preview shows events
per code and a few examples with pseudonymous subjects, times shifted by a random offset, and no text values.
"""

import difflib
import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import polars as pl

from pipelines.defs.tables.engine import MappedSource, MappingColumnError, describe_error, map_source
from pipelines.defs.tables.mapping import Mapping, MappingError
from pipelines.defs.tables.read import FILE, ROW, table_files

# A reason on more than this share of a rule's sampled rows is a mapping mistake, not a few bad rows.
_MOSTLY = 0.5
_FIELD_OF_REASON = {
    "UNPARSEABLE_DATE": ("time", "time does not parse (check `format` / the column)"),
    "INVALID_VALUE": ("numeric_value", "numeric_value is not a number"),
    "MISSING_CODE": ("code", "a column of the code template is empty"),
    "MISSING_PATIENT": ("subject", "subject key matches no row of the subjects table"),
    "MISSING_SUBJECT_REFERENCE": ("subject", "subject column is empty"),
    "MISSING_TIME": ("time", "time is empty (set optional_time if that is expected)"),
}


@dataclass(slots=True)
class RulePreview:
    rule: str
    name: str
    table: str
    rows: int
    events: int
    codes: list[tuple[str, int]]
    rejected: dict[str, int]


@dataclass(slots=True)
class CheckReport:
    mapping: Mapping
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rules: list[RulePreview] = field(default_factory=list)
    examples: list[dict] = field(default_factory=list)
    unmapped: list[tuple[str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Anonymous:
    """Pseudonyms and a time shift that exist only for this check: examples never show a real id or date."""

    def __init__(self) -> None:
        self.salt = secrets.token_bytes(16)
        self.shift = timedelta(days=secrets.randbelow(3650) + 365)

    def subject(self, source_id: str) -> str:
        return "subject-" + hashlib.sha256(self.salt + source_id.encode()).hexdigest()[:8]

    def token(self, purpose: str, source_id: str) -> str:  # stands in for a Keyring (note ids)
        return hashlib.sha256(self.salt + purpose.encode() + source_id.encode()).hexdigest()[:16]


def check_source(mapping: Mapping, source_dir: Path, sample: int = 1000, n_examples: int = 5) -> CheckReport:
    """Run `mapping` on the first `sample` rows of each table under `source_dir` and report."""
    report = CheckReport(mapping)
    missing = [
        f"{mapping.where('tables', name, 'file')}: table {name!r}: no file matching {spec.file!r} in {source_dir}"
        for name, spec in mapping.tables.items()
        if not spec.optional and not table_files(source_dir, spec)
    ]
    if missing:
        report.problems += missing
        return report
    anonymous = _Anonymous()
    problems: list[str] = []
    try:
        mapped = map_source(mapping, source_dir, source_dir, anonymous, sample=sample, problems=problems)
    except (MappingColumnError, MappingError) as err:
        report.problems += [*problems, str(err)]
        return report
    except Exception as err:  # a run-time failure the rules above did not name: still report, with its type
        report.problems += [
            *problems,
            f"{mapping.where()}: the rules fail on the data: {describe_error(err)}",
        ]
        return report
    report.problems += problems
    _unread_references(report, mapped)
    _rule_findings(report, mapped)
    report.examples = _examples(mapped, anonymous, n_examples)
    report.unmapped = [(str(p.relative_to(source_dir)), _rows(p)) for p in mapped.unmapped]
    for rel, n in report.unmapped:
        report.warnings.append(f"{rel}: no rule reads this landing file ({n} rows); map it or list it in `ignore`")
    _whole_files(report, mapped)
    return report


def _whole_files(report: CheckReport, mapped: MappedSource) -> None:
    """Files the reader set aside whole (empty, unreadable, an ambiguous header), and repeated header names no
    rule reads; an ambiguous header is a problem: the run would quarantine every row of the file."""
    whole = mapped.rejects.filter((pl.col("rule") == "read") & (pl.col(ROW) == 0))
    for rel, table, code, reason in whole.select(FILE, "table", "reason_code", "reason").rows():
        line = f"{rel}: table {table!r}: {code}: {reason}"
        (report.problems if code == "AMBIGUOUS_COLUMN" else report.warnings).append(line)
    for table, rel, col, at, named in mapped.repeated:
        what = f"are all named {col!r}" if named else "have one name"
        report.warnings.append(
            f"{rel}: table {table!r}: columns {', '.join(map(str, at))} {what}; no rule reads it"
        )


def _unread_references(report: CheckReport, mapped: MappedSource) -> None:
    """Each referenced column a table's header lacks, where the rules did not already say so (a rule stops at
    its first missing column; identity columns are optional at run time, so only a warning)."""
    from pipelines.defs.tables.references import missing

    m = report.mapping
    for ref in missing(m, mapped.headers):
        if any(f"{ref.table!r}" in p and f"{ref.column!r}" in p for p in report.problems):
            continue
        close = difflib.get_close_matches(ref.column, mapped.headers[ref.table], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        line = f"{m.where(*ref.loc)}: {ref.field}: table {ref.table!r} has no column {ref.column!r}{hint}"
        if ref.identity:
            report.warnings.append(f"{line}; the PHI audit and the text de-identifier will not know it")
        else:
            report.problems.append(line)


def _rows(path: Path) -> int:
    from pipelines.defs.tables.output import count_rows

    return count_rows(path)


def _rule_findings(report: CheckReport, mapped: MappedSource) -> None:
    m = report.mapping
    events, rejects = mapped.events, mapped.rejects
    by_rule = Counter(zip(rejects["rule"].to_list(), rejects["reason_code"].to_list(), strict=True))
    for rule, stat in mapped.stats.items():
        if rule.startswith("vocabulary."):
            i = int(rule.split(".")[1])
            if stat["rows"] and not stat["matched"] and events.height:
                report.warnings.append(
                    f"{m.where('vocabulary', i, 'code')}: vocabulary[{i}] (table {m.vocabulary[i].table!r}) "
                    f"describes none of the sampled events' codes: does its `code` spell them as the rules do?"
                )
            continue
        if rule.endswith(".where"):
            i = int(rule.split(".")[1])
            if stat["rows"] and not stat.get("selected"):
                report.warnings.append(
                    f"{m.where('events', i, 'where')}: events[{i}].where on table {m.events[i].table!r} "
                    f"selects none of {stat['rows']} sampled rows"
                )
            continue
        selected = stat["selected"]
        rule_events = events.filter(pl.col("resource_type") == stat["name"])
        codes = rule_events.group_by("code").len("n").sort("n", "code", descending=[True, False])
        rejected = {code: n for (r, code), n in by_rule.items() if r == rule}
        report.rules.append(
            RulePreview(
                rule, stat["name"], stat["table"], selected, rule_events.height, codes.rows()[:8], rejected
            )
        )
        loc = tuple(int(p) if p.isdigit() else p for p in rule.split("."))
        for code, n in rejected.items():
            fld, what = _FIELD_OF_REASON.get(code, ("", code))
            where = m.where(*loc, fld) if fld else m.where(*loc)
            line = f"{where}: {stat['name']} (table {stat['table']!r}): {what} in {n} of {selected} sampled rows"
            mostly = selected and n / selected > _MOSTLY
            (report.problems if mostly else report.warnings).append(line)
        for name, n in stat.get("extra_unconverted", {}).items():
            kind = m.extra_columns[name].type
            line = (f"{m.where('extra_columns', name)}: {stat['name']} (table {stat['table']!r}): extra "
                    f"column {name!r} is not a {kind} in {n} of {rule_events.height} sampled events "
                    "(null in MEDS)")  # fmt: skip
            mostly = rule_events.height and n / rule_events.height > _MOSTLY
            (report.problems if mostly else report.warnings).append(line)
    subject_rejects = {code: n for (r, code), n in by_rule.items() if r == "subjects"}
    for code, n in subject_rejects.items():
        what = (
            _FIELD_OF_REASON.get(code, ("", code))[1]
            if code != "UNPARSEABLE_DATE"
            else "birth/death time does not parse"
        )
        total = mapped.tables[m.subjects.table].height
        line = f"{m.where('subjects')}: subjects (table {m.subjects.table!r}): {what} in {n} of {total} rows"
        (report.problems if total and n / total > _MOSTLY else report.warnings).append(line)


def _examples(mapped: MappedSource, anonymous: _Anonymous, n: int) -> list[dict]:
    """A few events per rule, de-identified: pseudonymous subject, shifted time, no text value."""
    ev = mapped.events
    if not ev.height:
        return []
    picked = ev.group_by("resource_type", maintain_order=True).head(max(1, n // 2)).head(n * 4)
    out = []
    for r in picked.iter_rows(named=True):
        text = r.get("text_value")
        out.append(
            {
                "rule": r["resource_type"],
                "subject": anonymous.subject(r["source_patient"]),
                "time": None if r["time"] is None else (r["time"] + anonymous.shift).isoformat(sep=" "),
                "code": r["code"],
                "numeric_value": r["numeric_value"],
                "unit": r["unit"],
                "text_value": None if text is None else f"<text, {len(str(text))} chars>",
            }
        )
    return out


def data_dir_for(path: Path) -> Path | None:
    """The folder whose files a mapping describes: the source folder given, or the mapping file's folder
    when it holds anything besides the mapping."""
    folder = path if path.is_dir() else path.parent
    others = [p for p in folder.iterdir() if p.name not in ("mapping.yaml", "longitude-source.yaml")]
    others = [p for p in others if not p.name.startswith(".") and p.suffix not in (".yaml", ".yml", ".md")]
    return folder if others else None
