"""Asset checks for every asset, per partition where partitioned, wrapping the suites of quality/.

- `<asset>_tables_conform` (ERROR, blocking): every error-level expectation of the tables the asset writes
  (schema columns, types, nulls, keys; ledger balance; MEDS order, split and shard exclusivity...).
- `meds_data_plausible` (WARN): clinical plausibility per shard, with counts, per-code breakdown and
  de-identified examples; warnings a steward accepted pass, with the acceptance in the metadata.
- `phi_audit_finds_no_phi` (ERROR, blocking), `catalog_keeps_phi_apart` (ERROR), `quality_site_is_offline`.
"""

import json
from pathlib import Path

import dagster as dg

from pipelines.defs.quality.assets import phi_audit, quality_site
from pipelines.defs.quality.discover import stage_assets
from pipelines.defs.resources import LongitudeResource

MAX_LISTED = 10


def _root(longitude: LongitudeResource) -> Path:
    return Path(longitude.root).resolve()


def _partition(context: dg.AssetCheckExecutionContext) -> str | None:
    return context.partition_key if context.has_partition_key else None


def outcomes_result(outcomes: list, severity: dg.AssetCheckSeverity) -> dg.AssetCheckResult:
    """Counts, failing expectation names, breakdowns and (de-identified) examples; never PHI-zone values."""
    failed = [o for o in outcomes if not o.success]
    open_ = [o for o in failed if o.accepted is None]
    metadata: dict = {
        "expectations": len(outcomes),
        "failed": len(failed),
        "accepted": len(failed) - len(open_),
        "rows_checked": sum(o.element_count for o in outcomes),
        "unexpected_rows": sum(o.unexpected_count for o in failed),
    }
    if failed:
        metadata["failures"] = dg.MetadataValue.json(
            [
                {
                    "expectation": o.expectation,
                    "unexpected": o.unexpected_count,
                    "checked": o.element_count,
                    "by_code": o.breakdown,
                    "examples": o.examples[:3],
                    "accepted": o.accepted,
                }
                for o in failed[:MAX_LISTED]
            ]
        )
    if not outcomes:
        summary = "no tables of this asset were found to validate"
    elif open_:
        summary = f"{len(open_)} of {len(outcomes)} expectations failed: " + ", ".join(
            o.expectation for o in open_[:3]
        )
    else:
        summary = f"{len(outcomes)} expectations hold" + (f" ({len(failed)} accepted)" if failed else "")
    return dg.AssetCheckResult(passed=not open_, severity=severity, description=summary, metadata=metadata)


def _conformance_check(key: dg.AssetKey, partitions_def, group: str | None) -> dg.AssetChecksDefinition:
    asset = key.to_user_string()

    @dg.asset_check(
        asset=key,
        name=f"{key.to_python_identifier()}_tables_conform",
        blocking=True,
        partitions_def=partitions_def,
        description=f"Blocking expectations of the tables {asset} writes (built from schemas/).",
    )
    def _check(context: dg.AssetCheckExecutionContext, longitude: LongitudeResource) -> dg.AssetCheckResult:
        from quality.validate import validate

        outcomes = validate(_root(longitude), asset=asset, partition=_partition(context), fallback_dir=group)
        return outcomes_result([o for o in outcomes if o.severity == "error"], dg.AssetCheckSeverity.ERROR)

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
        from quality.validate import validate

        root = _root(longitude)
        outcomes = [
            o for o in validate(root, asset="meds_data", partition=_partition(context)) if o.severity == "warn"
        ]
        review.apply(outcomes, review.accepted(root / "quality"))
        return outcomes_result(outcomes, dg.AssetCheckSeverity.WARN)

    OPTIONAL_CHECKS.append(meds_data_plausible)

if dg.AssetKey("catalog") in _KEYS:

    @dg.asset_check(asset="catalog", blocking=True)
    def catalog_keeps_phi_apart(longitude: LongitudeResource) -> dg.AssetCheckResult:
        """No catalog view outside schema `phi` reads landing/, raw/ or quarantine/, and every view opens."""
        import duckdb

        from quality.phi_audit import _scan_catalog

        path = _root(longitude) / "catalog.duckdb"
        if not path.exists():
            return dg.AssetCheckResult(passed=False, description="catalog.duckdb is missing")
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
        return dg.AssetCheckResult(
            passed=not leaks and not broken,
            description=f"{len(views)} views; {len(leaks)} read a PHI zone outside schema phi; {len(broken)} fail",
            metadata={"views": len(views), "phi_leaking_views": len(leaks), "broken_views": ", ".join(broken)},
        )

    OPTIONAL_CHECKS.append(catalog_keeps_phi_apart)


@dg.asset_check(asset=phi_audit, blocking=True)
def phi_audit_finds_no_phi(longitude: LongitudeResource) -> dg.AssetCheckResult:
    """No known identifier of any subject and no SSN/phone/e-mail pattern outside the PHI zones. A hit
    reports file, table, field and first row, never the value."""
    from quality.records import audit_summary_path

    path = audit_summary_path(_root(longitude) / "quality")
    if not path.exists():
        return dg.AssetCheckResult(passed=False, description="the PHI audit wrote no summary")
    summary = json.loads(path.read_text())
    hits = [{k: r[k] for k in ("path", "table", "field", "kind", "n", "first_row")} for r in summary["by_table"]]
    n = summary["findings"]
    return dg.AssetCheckResult(
        passed=n == 0,
        description="no PHI found" if n == 0 else f"{n} PHI hits in {len({h['path'] for h in hits})} files",
        metadata={
            **{k: v for k, v in summary.items() if isinstance(v, int)},
            "hits": dg.MetadataValue.json(hits[:50]),
        },
    )


@dg.asset_check(asset=quality_site, blocking=True)
def quality_site_is_offline(longitude: LongitudeResource) -> dg.AssetCheckResult:
    """The site exists and no html/css/js file in it references another host (it renders with no network)."""
    from quality.gx_docs import external_references

    site = _root(longitude) / "quality" / "site"
    refs = external_references(site)
    ok = (site / "index.html").exists() and not refs
    return dg.AssetCheckResult(
        passed=ok,
        description="renders offline" if ok else f"{len(refs)} external references or no index.html",
        metadata={"external_references": dg.MetadataValue.json([f"{f}: {u}" for f, u in refs[:20]])},
    )
