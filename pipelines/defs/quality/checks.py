"""Asset checks for every asset, per partition where partitioned, wrapping the suites of quality/; each
stores its result in quality/checks/ (quality.check_store) and reports what it stored.

- `<asset>_tables_conform` (ERROR, blocking): every error-level expectation of the tables the asset writes
  (schema columns, types, nulls, keys; ledger balance; MEDS order, split and shard exclusivity...).
- `meds_data_plausible` (WARN): clinical plausibility per shard, with counts, per-code breakdown and
  de-identified examples; warnings a steward accepted pass, with the acceptance in the metadata.
- `phi_audit_finds_no_phi` (ERROR, blocking), `catalog_keeps_phi_apart` (ERROR), `quality_site_is_offline`.
"""

from pathlib import Path

import dagster as dg

from pipelines.defs.checks_util import store_rows, store_rule
from pipelines.defs.quality.assets import phi_audit, quality_site
from pipelines.defs.quality.discover import stage_assets
from pipelines.defs.resources import LongitudeResource
from quality.suite_checks import conformance_check_name
from schemas.layout import is_chunk_key


def _root(longitude: LongitudeResource) -> Path:
    return Path(longitude.root).resolve()


def _partition(context: dg.AssetCheckExecutionContext) -> str | None:
    """The shard a check covers; None (every shard) for an ingest chunk, whose tables are the gathered set's:
    a chunk writes no shard of its own, and a chunk key would match no table, so none would be checked."""
    if not context.has_partition_key or is_chunk_key(context.partition_key):
        return None
    return context.partition_key


def _conformance_check(key: dg.AssetKey, partitions_def, group: str | None) -> dg.AssetChecksDefinition:
    asset = key.to_user_string()

    @dg.asset_check(
        asset=key,
        name=conformance_check_name(asset),
        blocking=True,
        partitions_def=partitions_def,
        description=f"Blocking expectations of the tables {asset} writes (built from schemas/).",
    )
    def _check(context: dg.AssetCheckExecutionContext, longitude: LongitudeResource) -> dg.AssetCheckResult:
        from quality.suite_checks import conformance_rows

        rows = conformance_rows(_root(longitude), asset, _partition(context), fallback_dir=group)
        return store_rows(context, _root(longitude), rows, dg.AssetCheckSeverity.ERROR)

    return _check


def _all_conformance_checks() -> list[dg.AssetChecksDefinition]:
    checks = []
    for assets_def in [*stage_assets(), phi_audit]:
        for key in assets_def.keys:
            checks.append(
                _conformance_check(key, assets_def.partitions_def, assets_def.group_names_by_key.get(key))
            )
    return checks


CONFORMANCE_CHECKS = _all_conformance_checks()
_KEYS = {key for a in stage_assets() for key in a.keys}
_MEDS = dg.AssetKey("meds_data")
_MEDS_PARTITIONS = next((a.partitions_def for a in stage_assets() if _MEDS in a.keys), None)
OPTIONAL_CHECKS: list[dg.AssetChecksDefinition] = []

if _MEDS in _KEYS:

    @dg.asset_check(asset=_MEDS, blocking=False, partitions_def=_MEDS_PARTITIONS)
    def meds_data_plausible(context: dg.AssetCheckExecutionContext, longitude: LongitudeResource):
        """Vitals and labs in physiological ranges per unit, no events before birth or after death beyond the
        tolerance, no future times, code formats per vocabulary (quality.plausibility)."""
        from quality import review
        from quality.suite_checks import plausibility_rows

        root = _root(longitude)
        rows = review.attach(plausibility_rows(root, _partition(context)), review.state(root / "quality"))
        return store_rows(context, root, rows, dg.AssetCheckSeverity.WARN)

    OPTIONAL_CHECKS.append(meds_data_plausible)

if dg.AssetKey("catalog") in _KEYS:

    @dg.asset_check(asset="catalog", blocking=True)
    def catalog_keeps_phi_apart(
        context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
    ) -> dg.AssetCheckResult:
        """No catalog view outside schema `phi` reads landing/, raw/ or quarantine/, and every view opens."""
        import duckdb

        from quality.integrity import RuleResult
        from quality.phi_audit import _scan_catalog

        path = _root(longitude) / "catalog.duckdb"
        if not path.exists():
            return store_rule(context, _root(longitude), RuleResult(False, "catalog.duckdb is missing"))
        leaks = _scan_catalog(path)
        con = duckdb.connect(str(path), read_only=True)
        broken = []
        try:
            views = con.execute("select schema_name, view_name from duckdb_views() where not internal").fetchall()
            for schema, view in views:
                try:
                    con.execute(f'select 1 from "{schema}"."{view}" limit 1').fetchall()
                except duckdb.Error:
                    broken.append(f"{schema}.{view}")
        finally:
            con.close()
        counts = {"views": len(views), "phi_leaking_views": len(leaks), "broken_views": len(broken)}
        examples = [{"view": v, "problem": "does not open"} for v in broken[:5]]
        result = RuleResult(
            not leaks and not broken,
            f"{len(views)} views; {len(leaks)} read a PHI zone outside schema phi; {len(broken)} fail",
            counts,
            examples,
        )
        return store_rule(context, _root(longitude), result, failed_key=None, checked_key="views")

    OPTIONAL_CHECKS.append(catalog_keeps_phi_apart)


@dg.asset_check(asset=phi_audit, blocking=True)
def phi_audit_finds_no_phi(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """No known identifier of any subject and no SSN/phone/e-mail pattern outside the PHI zones. A hit
    reports file, table, field and first row, never the value."""
    from quality.suite_checks import phi_audit_rows

    root = _root(longitude)
    return store_rows(context, root, phi_audit_rows(root / "quality"))


@dg.asset_check(asset=quality_site, blocking=True)
def quality_site_is_offline(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """The site exists and no html/css/js file in it references another host (it renders with no network)."""
    from quality.gx_docs import external_references
    from quality.integrity import RuleResult

    site = _root(longitude) / "quality" / "site"
    refs = external_references(site)
    ok = (site / "index.html").exists() and not refs
    examples = [{"file": f, "address": u} for f, u in refs[:5]]
    reason = "renders offline" if ok else f"{len(refs)} external references, or no index.html"
    result = RuleResult(ok, reason, {"external_references": len(refs)}, examples)
    return store_rule(context, _root(longitude), result, failed_key="external_references")
