"""`longitude quality` as a function: re-check a root, audit it for PHI, and build the stewards' report from the
check store (quality/checks/), the PHI audit summary, the ledger, the quarantine and the review log."""

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from quality import review
from quality.check_store import CheckRow, read, stored_checks
from quality.records import audit_summary_path, results_path, site_dir
from quality.tables import inventory
from schemas.io import write_text
from schemas.layout import Layout, partition_label
from schemas.publish import files_under


@dataclass(slots=True)
class Report:
    """Everything the CLI summary and the site show, read from what the checks stored."""

    root: Path
    rows: list[CheckRow]  # every stored check result, with its target's review attached
    audit: dict | None  # quality/phi_audit/summary.json (counts, files and fields; never values)
    ledger: pl.DataFrame  # per asset and record type: counts only
    quarantine: pl.DataFrame  # per asset and reason: counts and positions, never records or file names
    unregistered: list[str]  # Parquet files no schema describes
    artifacts: list[str]  # model and feature outputs, checked by their own checks
    history: list[dict]
    reviews: dict[str, dict]  # target -> current accept/reject entry
    timings: dict[str, float] = field(default_factory=dict)
    gx_outcomes: int = 0
    unmapped: pl.DataFrame = field(default_factory=pl.DataFrame)  # landing files no rule reads, fallback codes
    checks: set[tuple[str, str]] = field(default_factory=set)  # every (asset, check) that stored a result

    @property
    def checks_without_rows(self) -> set[tuple[str, str]]:
        """Checks that ran and found nothing to validate (an asset writing no table a schema describes)."""
        return self.checks - {(r.asset, r.check) for r in self.rows}

    @property
    def blocking(self) -> list[CheckRow]:
        return [r for r in self.rows if r.blocking]

    @property
    def warnings(self) -> list[CheckRow]:
        return [r for r in self.rows if r.shouting and r.severity == "warn"]

    @property
    def passed(self) -> bool:
        """No blocking rule failed (the PHI audit is one: phi_audit/no_phi_outside_phi_zones)."""
        return not self.blocking

    def targets(self) -> set[str]:
        """Everything a steward may review: every stored rule and every quarantine reason."""
        found = {r.target for r in self.rows}
        if not self.quarantine.is_empty():
            found |= {f"quarantine:{a}/{c}" for a, c in self.quarantine.select("asset", "reason_code").iter_rows()}
        return found


def unmapped_summary(layout: Layout) -> pl.DataFrame:
    """quality/unmapped/*.parquet: files by keyed label and codes with counts (no PHI), largest first."""
    files = files_under(layout.quality / "unmapped", "*.parquet")
    if not files:
        return pl.DataFrame()
    table = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    return table.sort("kind", "n", "item", descending=[True, True, False])


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


def quarantine_summary(layout: Layout, asset: str | None = None, pattern: str = "**/*.parquet") -> pl.DataFrame:
    """Per (asset, reason code, reason): counts, files and the first positions. Record contents stay put.
    `asset` (and `pattern` below its folder, e.g. one shard's `3.parquet`): only that asset's quarantine."""
    files = files_under(layout.quarantine(asset) if asset else layout.root / "quarantine", pattern)
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


def quarantine_by_code(quarantine: pl.DataFrame) -> pl.DataFrame:
    """quarantine_summary per asset and reason code (records, one reason as an example), largest first: what
    the CLI summary and the Dagster metadata list, each row a review target `quarantine:<asset>/<code>`."""
    if quarantine.is_empty():
        return quarantine
    by_code = quarantine.group_by("asset", "reason_code").agg(pl.col("records").sum(), pl.col("reason").first())
    return by_code.sort("records", "asset", "reason_code", descending=[True, False, False])


def load_report(root: Path) -> Report:
    """The report as the stores hold it now (no check runs): what `quality serve` and the site asset show."""
    layout = Layout(Path(root).resolve())
    inv = inventory(layout.root)
    entries = review.history(layout.quality)
    current = review.state(layout.quality, entries)
    rows = review.attach(read(layout.root), current)
    summary = audit_summary_path(layout.quality)
    return Report(
        layout.root,
        rows,
        json.loads(summary.read_text()) if summary.exists() else None,
        ledger_summary(layout),
        quarantine_summary(layout),
        [str(p) for p in inv.unregistered],
        [str(p) for p in inv.artifacts],
        entries,
        current,
        unmapped=unmapped_summary(layout),
        checks=stored_checks(layout.root) | {(r.asset, r.check) for r in rows},
    )


def after_review(root: Path, images: dict[str, str] | None = None):
    """The static page and the review exports rewritten from the stores after a review (in `quality serve` and
    on the command line alike), when a page exists; returns the report it shows, else None. `images`: plots
    already drawn for the data as it is now, else the cached ones (quality.picture_cache)."""
    from quality.picture_cache import cached_plots
    from quality.records import site_dir
    from quality.site import write_page

    layout = Layout(Path(root).resolve())
    site = site_dir(layout.quality)
    if not (site / "index.html").exists():
        return None
    report = load_report(layout.root)
    write_page(report, site, cached_plots(layout) if images is None else images)
    return report


def known_targets(root: Path) -> set[str]:
    """Review targets of a root (for validating a review before it is written)."""
    return load_report(root).targets()


def review_targets(report: Report) -> dict[str, set[str]]:
    """What `review.record` validates against: every target of the report, and those of blocking rules."""
    return {"known": report.targets(), "blocking": {r.target for r in report.rows if r.severity == "error"}}


def run_quality(
    root: Path,
    *,
    keyring=None,
    gx: bool = True,
    now: datetime | None = None,
    recheck: bool = True,
    phi_audit: bool = True,
    verbose: bool = False,
) -> Report:
    """Re-run the suite checks and the PHI audit into the check store (unless told not to), then build the report
    from the store and write results/latest.json, the Data Docs and the site."""
    from quality.site import write_site
    from quality.suite_checks import PHI_AUDIT_CHECK, phi_audit_rows, recheck_root
    from quality.validate import plan, validate_gx

    layout = Layout(Path(root).resolve())
    timings: dict[str, float] = {}
    jobs = None
    if recheck:
        t = time.perf_counter()
        jobs = plan(layout.root, now=now)
        recheck_root(layout.root, jobs)
        timings["validate"] = time.perf_counter() - t
    if phi_audit:
        from quality import check_store
        from quality.phi_audit import audit, write_audit

        t = time.perf_counter()
        write_audit(audit(layout.root, keyring), layout)
        check_store.write(layout.root, PHI_AUDIT_CHECK, "phi_audit", None, phi_audit_rows(layout.quality))
        timings["phi_audit"] = time.perf_counter() - t
    report = load_report(layout.root)
    report.timings = timings
    site = site_dir(layout.quality)
    if gx:
        t = time.perf_counter()
        from schemas.publish import publishing

        with publishing(site / "gx") as docs:  # Data Docs switch whole: a crash mid-build leaves the last site
            report.gx_outcomes = len(
                validate_gx(jobs if jobs is not None else plan(layout.root, now=now), docs.dir, progress=verbose)
            )
            docs.dir.mkdir(exist_ok=True)  # GX builds the folder afresh; none when nothing was validated
        timings["great_expectations"] = time.perf_counter() - t
    t = time.perf_counter()
    write_results(report, layout)
    write_site(report, site)
    timings["site"] = time.perf_counter() - t
    return report


def write_results(report: Report, layout: Layout) -> Path:
    """quality/results/latest.json: the stored check results as the last report saw them, with their reviews."""
    blocking = report.blocking
    body = {
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "passed": report.passed,
        "blocking": [r.rule + (f" [{partition_label(r.partition)}]" if r.partition else "") for r in blocking],
        "phi_audit": {k: v for k, v in (report.audit or {}).items() if isinstance(v, int)} or None,
        "timings_s": {k: round(v, 3) for k, v in report.timings.items()},
        "results": [r.to_json() for r in report.rows],
    }
    return write_text(json.dumps(body, indent=1, default=str) + "\n", results_path(layout.quality))
