"""The PHI audit of everything outside the PHI zones, and the stewards' site (GX Data Docs plus our pages)."""

from pathlib import Path

import dagster as dg

from pipelines.defs.quality.discover import upstream_keys
from pipelines.defs.resources import LongitudeResource

GROUP = "quality"


def keyring_or_none(longitude: LongitudeResource):
    """The keyring when a secret is configured (enables the unshifted-birth check); the audit runs without."""
    from pipelines.settings import SettingsError

    try:
        return longitude.settings().keyring
    except SettingsError:
        return None


@dg.asset(deps=upstream_keys(), group_name=GROUP, kinds={"polars", "parquet"})
def phi_audit(context: dg.AssetExecutionContext, longitude: LongitudeResource) -> dg.MaterializeResult:
    """Every file outside landing/, raw/ and quarantine/ scanned for any subject's names, identifiers,
    phones, addresses and birth dates, and for SSN/phone/e-mail patterns: quality/phi_audit/ (no values)."""
    from quality.phi_audit import audit, write_audit
    from schemas.layout import Layout

    layout = Layout(Path(longitude.root).resolve())
    result = audit(layout.root, keyring_or_none(longitude))
    write_audit(result, layout)
    context.log.info(
        f"phi_audit: {result.findings.height} findings in {result.files} files, {result.seconds:.1f}s"
    )
    return dg.MaterializeResult(metadata={**result.counts(), "seconds": round(result.seconds, 2)})


class QualitySiteConfig(dg.Config):
    """Great Expectations and its Data Docs cost ~15-20 s on the shared Synthea root; the rest ~1-6 s."""

    great_expectations: bool = True


@dg.asset(deps=[phi_audit], group_name=GROUP, kinds={"html"})
def quality_site(config: QualitySiteConfig, longitude: LongitudeResource) -> dg.MaterializeResult:
    """quality/site/index.html: every stored check result with its reviews, ledger, quarantine by reason, PHI
    audit, plots, review log, and Great Expectations Data Docs under quality/site/gx/, all rendering offline.
    Reads the check store and the PHI audit's summary: no check runs twice in a materialization."""
    from pipelines.defs.quality.site_metadata import site_metadata
    from quality.report import run_quality

    root = Path(longitude.root).resolve()
    report = run_quality(root, gx=config.great_expectations, recheck=False, phi_audit=False)
    return dg.MaterializeResult(metadata=site_metadata(report))
