"""After a run that stored check results but did not build the stewards' site (a partial `--select`, a run a
blocking check stopped, a UI run of some assets): the page rebuilt from the check store, and the rebuild
recorded as a materialization of `quality_site` in the root's instance, so the site, the CLI summary and the
Dagster UI read the same results. Great Expectations' Data Docs are not rebuilt (15-20 s); the page says when
they were built."""

import time
from pathlib import Path

SITE_ASSET = "quality_site"


def site_metadata(report) -> dict:
    """What a `quality_site` materialization says about the page it wrote (the asset's and a rebuild's)."""
    import dagster as dg

    from pipelines.defs.quarantine_metadata import quarantine_markdown

    return {
        "check_results": len(report.rows),
        "blocking_failures": len(report.blocking),
        "open_warnings": len(report.warnings),
        "checks": len(report.checks),
        "quarantined_by_reason": dg.MetadataValue.md(quarantine_markdown(report.quarantine)),
        "site": dg.MetadataValue.path(str(report.root / "quality" / "site" / "index.html")),
        **{f"seconds/{k}": round(v, 2) for k, v in report.timings.items()},
    }


def rebuild_site(root: Path, instance, by: str):
    """Rebuild quality/site/index.html (and results/latest.json) from the stores, and record it in `instance`
    as a runless materialization of quality_site, `rebuilt_by` saying which run; returns the report."""
    import dagster as dg

    from quality.report import run_quality

    started = time.perf_counter()
    report = run_quality(Path(root), gx=False, recheck=False, phi_audit=False)
    report.timings["rebuild"] = time.perf_counter() - started
    metadata = {**site_metadata(report), "rebuilt_by": by}
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=SITE_ASSET, metadata=metadata))
    return report


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
