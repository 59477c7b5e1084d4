"""What a `quality_site` materialization records about the page (the asset's, and a rebuild's outside a run)."""

import dagster as dg

# Not in assets.py: importing it imports every stage's assets (~1.2 s CPU), which a review's rebuild
# (pipelines.site_refresh) does not need.


def site_metadata(report) -> dict:
    """What a `quality_site` materialization says about the page it wrote (the asset's and a rebuild's)."""
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
