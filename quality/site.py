"""The stewards' site from a Report, rendered with Jinja2 (quality/templates/site.html): the static export
(quality/site/index.html plus the review log as CSV and JSON) and the page `longitude quality serve` shows."""

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quality import review
from quality.picture_cache import cached_plots, current_timelines, draw_timelines
from quality.records import site_dir
from quality.templating import environment
from quality.timeline import subjects_in_examples
from schemas.io import write_text
from schemas.layout import Layout

_ORDER = {"fail": 0, "warn": 1, "rejected": 2, "accepted": 3, "pass": 4}
MAX_EXAMPLES = 3
# The check of this page itself (pipelines.defs.quality.checks.quality_site_is_offline): it reads the written page,
# so a page built by the quality_site asset cannot count it; the page says so instead of a lower total.
SITE_CHECK = ("quality_site", "quality_site_is_offline")
MAX_TIMELINES = 12  # subject pages per site build (~0.5 s CPU each drawn; a page drawn from the same data is kept)


def _status(passed: bool, severity: str, current: dict | None) -> str:
    if passed:
        return "pass"
    if severity == "warn" and current and current["action"] == "accept":
        return "accepted"
    if current and current["action"] == "reject":
        return "rejected" if severity == "warn" else "fail"
    return "fail" if severity == "error" else "warn"


def check_groups(report) -> list[dict[str, Any]]:
    """One entry per rule (its results over every partition summed), failing and open first."""
    by_rule: dict[str, list] = defaultdict(list)
    for row in report.rows:
        by_rule[row.rule].append(row)
    entries = review.by_target(report.history)
    groups = []
    for rule, rows in by_rule.items():
        failed = [r for r in rows if not r.passed]
        first = failed[0] if failed else rows[0]
        breakdown: dict[str, int] = defaultdict(int)
        for r in failed:
            for k, v in r.breakdown.items():
                breakdown[k] += v
        n_failed, n_checked = sum(r.failed for r in rows), sum(r.checked for r in rows)
        reason = (
            first.reason
            if len(failed) == 1
            else f"{n_failed:,} of {n_checked:,} break the rule in {len(failed)} results: {first.reason}"
        )
        current = report.reviews.get(first.target)
        groups.append(
            {
                "rule": rule,
                "target": first.target,
                "check": first.check,
                "asset": first.asset,
                "severity": first.severity,
                "description": first.description,
                "doc": first.doc,
                "passed": not failed,
                "status": _status(not failed, first.severity, current),
                "failed": n_failed,
                "checked": n_checked,
                "partitions": sorted({str(r.partition) for r in failed if r.partition is not None}),
                "reason": reason,
                "breakdown": sorted(breakdown.items(), key=lambda kv: -kv[1])[:6],
                "examples": first.examples[:MAX_EXAMPLES],
                "review": current,
                "entries": entries.get(first.target, []),
                "checked_at": max((r.checked_at for r in rows if r.checked_at), default=None),
                "runs": sorted({r.run[:8] for r in rows}),
            }
        )
    return sorted(groups, key=lambda g: (_ORDER[g["status"]], g["severity"] != "error", g["rule"]))


def quarantine_rows(report) -> list[dict[str, Any]]:
    if report.quarantine.is_empty():
        return []
    entries = review.by_target(report.history)
    out = []
    for r in report.quarantine.iter_rows(named=True):
        target = f"quarantine:{r['asset']}/{r['reason_code']}"
        current = report.reviews.get(target)
        status = (
            {"accept": "accepted", "reject": "rejected"}.get(current["action"], "review") if current else "review"
        )
        out.append(
            {**r, "target": target, "review": current, "entries": entries.get(target, []), "status": status}
        )
    return out


def _docs_built(site: Path) -> datetime | None:
    """When Great Expectations last wrote the Data Docs (`longitude quality` and the quality_site asset only)."""
    index = Path(site) / "gx" / "index.html"
    return datetime.fromtimestamp(index.stat().st_mtime, UTC) if index.exists() else None


def render(
    report, images: dict[str, str], has_docs: bool, *, served: bool = False, flash: str | None = None
) -> str:
    """The page as HTML; `served` adds the review forms (they POST to `longitude quality serve`). The page says
    when it was built and from results stored up to when, so a copy read later is not taken for the current."""
    sections = [("checks", "Checks"), ("phi", "PHI audit"), ("ledger", "Ledger per source"),
                ("unmapped", "Unmapped and unrecognized"), ("quarantine", "Quarantine by reason"),
                ("plots", "Plots"), ("review", "Review log")]  # fmt: skip
    return (
        environment()
        .get_template("site.html")
        .render(
            report=report,
            groups=check_groups(report),
            n_checks=len(report.checks),
            n_without_rows=len(report.checks_without_rows),
            site_check_pending=SITE_CHECK[1] if SITE_CHECK not in report.checks else None,
            quarantine=quarantine_rows(report),
            ledger=[] if report.ledger.is_empty() else list(report.ledger.iter_rows(named=True)),
            unmapped=[] if report.unmapped.is_empty() else list(report.unmapped.head(200).iter_rows(named=True)),
            unmapped_total=report.unmapped.height,
            images=images,
            has_docs=has_docs,
            served=served,
            flash=flash,
            actions=review.ACTIONS,
            sections=sections,
            # example rows link to these pages: drawn from the data as it is now (quality.picture_cache)
            timelines={str(s) for s in current_timelines(Layout(report.root))},
            built_at=datetime.now(UTC),
            newest_result=max((r.checked_at for r in report.rows if r.checked_at), default=None),
            docs_built=_docs_built(site_dir(Layout(report.root).quality)) if has_docs else None,
        )
    )


def write_site(report, site: Path) -> Path:
    """quality/site/index.html, reviews.csv and reviews.json: the offline hand-off. Plots and timelines are drawn
    only where what they show changed since they were last drawn (quality.picture_cache)."""
    site = Path(site)
    images = cached_plots(Layout(report.root))
    failing = [ex for g in check_groups(report) if not g["passed"] for ex in g["examples"]]
    draw_timelines(Layout(report.root), subjects_in_examples(failing, MAX_TIMELINES))
    return write_page(report, site, images)


def write_page(report, site: Path, images: dict[str, str]) -> Path:
    """The static page and the review exports (what `quality serve` refreshes after each review)."""
    site = Path(site)
    has_docs = (site / "gx" / "index.html").exists()
    write_text(review.export(report.history, "csv"), site / "reviews.csv")
    write_text(review.export(report.history, "json"), site / "reviews.json")
    return write_text(render(report, images, has_docs), site / "index.html")
