"""The one store of check results (`quality/checks/`, schemas.checks): written by checks, read by everyone.

A check turns what it found into `CheckRow`s (one per rule), `write`s them, and reports from what it wrote;
`read` gives every stored row back to the CLI summary and the stewards' site.
"""

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from quality.engine import Outcome
from quality.integrity import RuleResult
from schemas.checks import CHECK_RESULTS_SCHEMA, UNPARTITIONED, check_results_path, checks_dir
from schemas.io import write_parquet
from schemas.layout import Layout

DOC = "docs/quality.md"
MAX_EXAMPLES = 5


@dataclass(slots=True)
class CheckRow:
    """One rule's result in one run of one check (a row of CHECK_RESULTS_SCHEMA)."""

    check: str
    asset: str
    partition: str | None
    rule: str
    severity: str
    passed: bool
    description: str
    reason: str
    checked: int
    failed: int
    examples: list[dict[str, Any]] = field(default_factory=list)
    breakdown: dict[str, int] = field(default_factory=dict)
    doc: str = DOC
    checked_at: datetime | None = None
    run: str = "cli"
    review: dict[str, str] | None = None  # the target's last review entry (quality.review), never stored here

    @property
    def target(self) -> str:
        """What a steward reviews: `check:<rule>`."""
        return f"check:{self.rule}"

    @property
    def blocking(self) -> bool:
        """Failed at error severity: blocks downstream assets whatever a review says."""
        return not self.passed and self.severity == "error"

    @property
    def accepted(self) -> dict[str, str] | None:
        """The accepting review of a failed warning (errors cannot be accepted away)."""
        ok = self.review and self.review["action"] == "accept" and self.severity == "warn" and not self.passed
        return self.review if ok else None

    @property
    def shouting(self) -> bool:
        """Failed and not accepted."""
        return not self.passed and self.accepted is None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["checked_at"] = self.checked_at.isoformat(timespec="seconds") if self.checked_at else None
        return d


def doc_anchor(rule: str) -> str:
    """Where a rule is documented in docs/quality.md.

    >>> doc_anchor("meds_data.plausibility/no_future_time")
    'docs/quality.md#no_future_time'
    >>> doc_anchor("raw_events.schema/code/not_null")
    'docs/quality.md#schema-not_null'
    >>> doc_anchor("meds_data.plausibility/code_format/LOINC")
    'docs/quality.md#code_format-vocabulary'
    >>> doc_anchor("fhir_raw/fhir_raw_ledger_balances")
    'docs/quality.md#ledger_balances'
    """
    suite, _, rest = rule.partition("/")
    parts = rest.split("/") if rest else [suite]
    if parts[-1].endswith("ledger_balances"):
        return f"{DOC}#ledger_balances"
    if suite.endswith(".schema"):
        return f"{DOC}#schema-{parts[-1]}"
    if parts[0] == "code_format" and len(parts) > 1:
        return f"{DOC}#code_format-vocabulary"
    return f"{DOC}#{parts[0]}"


def _unit(o: Outcome) -> str:
    return "files" if o.kind in ("columns_match", "type_is") else "rows"


def from_outcome(o: Outcome, check: str, asset: str) -> CheckRow:
    """An expectation outcome as a stored row, with a one-line reason."""
    unit = _unit(o)
    if o.success:
        reason = f"holds on {o.element_count:,} {unit}: {o.doc}"
    else:
        reason = f"{o.unexpected_count:,} of {o.element_count:,} {unit} break the rule: {o.doc}"
        if o.breakdown:
            top = ", ".join(f"{k} ({v})" for k, v in list(o.breakdown.items())[:3])
            reason += f"; most in {top}"
    return CheckRow(
        check,
        asset,
        o.partition,
        o.expectation,
        o.severity,
        o.success,
        o.doc,
        reason,
        o.element_count,
        o.unexpected_count,
        o.examples[:MAX_EXAMPLES],
        o.breakdown,
        doc_anchor(o.expectation),
    )


def from_rule(
    result: RuleResult,
    check: str,
    asset: str,
    partition: str | None,
    *,
    rule: str,
    description: str = "",
    severity: str = "error",
    failed_key: str | None = None,
    checked_key: str | None = None,
) -> CheckRow:
    """An integrity RuleResult (ledger balance, shard order...) as a stored row; its summary is the reason."""
    counts = result.counts
    failed = counts.get(failed_key, 0) if failed_key else 0
    failed = 0 if result.passed else max(int(failed), 1)  # a failed rule without a row count counts once
    checked = counts.get(checked_key, 0) if checked_key else sum(v for k, v in counts.items() if k != failed_key)
    examples = [{k: (None if v is None else str(v)) for k, v in e.items()} for e in result.examples]
    return CheckRow(
        check,
        asset,
        partition,
        rule,
        severity,
        result.passed,
        description or rule,
        result.summary,
        int(checked),
        failed,
        examples,
        {},
        doc_anchor(rule),
    )


def write(
    root: Path,
    check: str,
    asset: str,
    partition: str | None,
    rows: Iterable[CheckRow],
    *,
    run: str = "cli",
    when: datetime | None = None,
) -> list[CheckRow]:
    """Replace the stored results of (asset, check, partition) with `rows`; returns them as stored."""
    when = when or datetime.now(UTC)
    rows = list(rows)
    for r in rows:
        r.check, r.asset, r.checked_at, r.run = check, asset, when, run
        r.partition = partition if r.partition is None else r.partition  # a row may name the shard it is about
    table = pl.DataFrame(
        [_record(r) for r in rows], schema=pl.from_arrow(CHECK_RESULTS_SCHEMA.empty_table()).schema, orient="row"
    ).to_arrow()
    path = check_results_path(Layout(Path(root)), asset, check, partition)
    write_parquet(table, path, CHECK_RESULTS_SCHEMA)
    # A check is either per partition or not: results stored the other way are from an older layout of runs.
    for other in path.parent.glob("*.parquet"):
        if (partition is None and other != path) or (partition is not None and other.stem == UNPARTITIONED):
            other.unlink(missing_ok=True)
    return rows


def _record(r: CheckRow) -> tuple:
    return (
        r.check,
        r.asset,
        r.partition,
        r.rule,
        r.severity,
        r.passed,
        r.description,
        r.reason,
        r.checked,
        r.failed,
        json.dumps(r.examples, default=str),
        json.dumps(r.breakdown),
        r.doc,
        r.checked_at,
        r.run,
    )


class CheckStoreError(RuntimeError):
    """A stored check result cannot be read; the message names the file and how to recover."""


def _read_one(path: Path, root: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.ComputeError) as err:
        rel = path.relative_to(Path(root).resolve()) if path.is_relative_to(Path(root).resolve()) else path
        raise CheckStoreError(
            f"{rel} is not a readable check result ({type(err).__name__}); delete it and re-run its check "
            "(`longitude quality`, or materialize the asset)"
        ) from err


def stored_checks(root: Path) -> set[tuple[str, str]]:
    """Every (asset, check) with a stored result, rows or none: a check over an asset that writes no table a
    schema describes stores an empty result, and still counts as a check that ran (as Dagster counts it)."""
    return {(f.parent.parent.name, f.parent.name) for f in checks_dir(Layout(Path(root))).glob("*/*/*.parquet")}


def read(root: Path) -> list[CheckRow]:
    """Every stored row, sorted by asset, check, partition and rule."""
    files = sorted(checks_dir(Layout(Path(root))).glob("*/*/*.parquet"))
    if not files:
        return []
    frame = pl.concat([_read_one(f, root) for f in files], how="vertical_relaxed")
    rows = []
    for d in frame.sort("asset", "check", "partition", "rule", nulls_last=False).iter_rows(named=True):
        d["examples"], d["breakdown"] = json.loads(d["examples"]), json.loads(d["breakdown"])
        rows.append(CheckRow(**d))
    return rows
