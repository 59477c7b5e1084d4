"""After a run that stored check results but did not build the stewards' site (a partial `--select`, a run a
blocking check stopped, a UI run of some assets): the page rebuilt from the check store, and the rebuild
recorded as a materialization of `quality_site` in the root's instance, so the site, the CLI summary and the
Dagster UI read the same results. Great Expectations' Data Docs are not rebuilt (15-20 s); the page says when
they were built."""

import time
from pathlib import Path

import dagster as dg

SITE_ASSET = "quality_site"


def site_built(root: Path) -> bool:
    """A stewards' page exists under the root: only then can a run leave it behind (a fresh root has none to go
    stale, and a run there, such as the FHIR benchmark's, should not pay seconds for a page nobody asked for)."""
    from quality.records import site_dir
    from schemas.layout import Layout

    return (site_dir(Layout(Path(root).resolve()).quality) / "index.html").exists()


def rebuild_site(root: Path, instance, by: str):
    """Rebuild quality/site/index.html (and results/latest.json) from the stores, and record it in `instance`
    as a runless materialization of quality_site, `rebuilt_by` saying which run; returns the report."""
    from quality.report import run_quality

    started = time.perf_counter()
    report = run_quality(Path(root), gx=False, recheck=False, phi_audit=False)
    report.timings["rebuild"] = time.perf_counter() - started
    record_site(instance, report, by)
    return report


def record_site(instance, report, by: str) -> None:
    """A page written outside a quality_site run, as a runless materialization of it (what the page counts)."""
    from pipelines.defs.quality.site_metadata import site_metadata

    metadata = {**site_metadata(report), "rebuilt_by": by}
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=SITE_ASSET, metadata=metadata))


def after_review(root: Path, entry: dict) -> Path | None:
    """After a review (command line or `quality serve`): the static page rewritten, and, for an accept, reject
    or revoke of a check, that check's results re-reported in the root's instance with the review attached, so
    the Dagster UI agrees with the CLI summary and the site (an accepted warning passes in all three).
    Returns the page, or None where no page was built yet."""
    from pipelines.check_events import record_reviewed
    from pipelines.instance import root_instance
    from quality.report import after_review as rewrite_page
    from schemas.layout import Layout

    layout = Layout(Path(root).resolve())
    report = rewrite_page(layout.root)
    if entry["action"] == "comment" and report is None:
        return None
    instance = root_instance(layout)
    try:
        by = f"review by {entry['who']}"
        if entry["action"] != "comment":
            # the page's report was read after the review was logged: its rows carry it
            record_reviewed(layout.root, entry["target"], by, instance, report.rows if report else None)
        if report is not None:
            record_site(instance, report, by)
    finally:
        instance.dispose()
    return layout.quality / "site" / "index.html" if report is not None else None


def run_needs_rebuild(instance, run_id: str) -> bool:
    """The run stored a check result (every asset check writes the store) and did not materialize the site."""
    from dagster._core.events import DagsterEventType

    records = instance.get_records_for_run(
        run_id, of_type={DagsterEventType.ASSET_CHECK_EVALUATION, DagsterEventType.ASSET_MATERIALIZATION}
    ).records
    checked = built = False
    for record in records:
        event = record.event_log_entry.dagster_event
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            checked = True
        elif event.asset_key is not None and event.asset_key.to_user_string() == SITE_ASSET:
            built = True
    return checked and not built
