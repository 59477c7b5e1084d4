"""`longitude quality` as a function: validate a root, audit it for PHI, apply reviews, write results and site."""

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from quality import review
from quality.engine import Outcome
from quality.phi_audit import AuditResult, audit, write_audit
from quality.records import results_path, site_dir
from quality.tables import inventory
from quality.validate import plan, validate, validate_gx
from schemas.io import write_text
from schemas.layout import Layout
from schemas.publish import files_under


@dataclass(slots=True)
class Report:
    root: Path
    outcomes: list[Outcome]
    audit: AuditResult | None
    ledger: pl.DataFrame  # per asset and record type: counts only
    quarantine: pl.DataFrame  # per asset and reason: counts and positions, never records or file names
    unregistered: list[str]
    history: list[dict]
    acceptances: dict[str, dict]
    timings: dict[str, float] = field(default_factory=dict)
    gx_outcomes: int = 0

    @property
    def blocking(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "error"]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.shouting and o.severity == "warn"]

    @property
    def passed(self) -> bool:
        """No blocking expectation failed and the PHI audit found nothing."""
        return not self.blocking and (self.audit is None or self.audit.passed)


def ledger_summary(layout: Layout) -> pl.DataFrame:
    files = files_under(layout.quality / "ledger", "**/*.parquet")
    if not files:
        return pl.DataFrame()
    ledger = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    return (
        ledger.group_by("asset", "record_type")
        .agg(
            files=pl.col("source_file").n_unique(),
            n_in=pl.col("n_in").sum(),
            n_out=pl.col("n_out").sum(),
            n_quarantined=pl.col("n_quarantined").sum(),
            n_events=pl.col("n_events").sum(),
            unbalanced_rows=(pl.col("n_in") != pl.col("n_out") + pl.col("n_quarantined")).sum(),
        )
        .sort("asset", "record_type")
    )


def quarantine_summary(layout: Layout) -> pl.DataFrame:
    """Per (asset, reason code, reason): counts, files and the first positions. Record contents stay put."""
    files = files_under(layout.root / "quarantine", "**/*.parquet")
    cols = ["asset", "source_file", "position", "reason_code", "reason"]
    if not files:
        return pl.DataFrame()
    q = pl.concat([pl.read_parquet(f, columns=cols) for f in files], how="diagonal_relaxed")
    return (
        q.group_by("asset", "reason_code", "reason")
        .agg(
            records=pl.len(),
            files=pl.col("source_file").n_unique(),
            positions=pl.col("position").unique().sort().head(10),
        )
        .sort("asset", "records", descending=[False, True])
    )


def run_quality(root: Path, *, keyring=None, gx: bool = True, now: datetime | None = None) -> Report:
    """Validate every table, audit for PHI, apply the review log, and write results, Data Docs and the site."""
    from quality.site import write_site

    layout = Layout(Path(root).resolve())
    timings: dict[str, float] = {}
    t = time.perf_counter()
    inv = inventory(layout.root)
    jobs = plan(layout.root, inv=inv, now=now)
    outcomes = validate(layout.root, jobs=jobs)
    timings["validate"] = time.perf_counter() - t
    t = time.perf_counter()
    found = audit(layout.root, keyring)
    write_audit(found, layout)
    timings["phi_audit"] = time.perf_counter() - t
    acceptances = review.accepted(layout.quality)
    review.apply(outcomes, acceptances)
    report = Report(
        layout.root,
        outcomes,
        found,
        ledger_summary(layout),
        quarantine_summary(layout),
        [str(p) for p in inv.unregistered],
        review.history(layout.quality),
        acceptances,
        timings,
    )
    site = site_dir(layout.quality)
    if gx:
        t = time.perf_counter()
        report.gx_outcomes = len(validate_gx(jobs, site / "gx"))
        timings["great_expectations"] = time.perf_counter() - t
    t = time.perf_counter()
    write_results(report, layout)
    write_site(report, site)
    timings["site"] = time.perf_counter() - t
    return report


def write_results(report: Report, layout: Layout) -> Path:
    body = {
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "passed": report.passed,
        "blocking": [o.expectation + (f" [shard {o.partition}]" if o.partition else "") for o in report.blocking],
        "phi_audit": report.audit.counts() if report.audit else None,
        "timings_s": {k: round(v, 3) for k, v in report.timings.items()},
        "outcomes": [o.to_json() for o in report.outcomes],
    }
    return write_text(json.dumps(body, indent=1, default=str) + "\n", results_path(layout.quality))
