"""The expectation-suite checks as plain functions: what the Dagster asset checks run and store per
materialization, and what `longitude quality` re-runs over a whole root (storing under the same names)."""

import json
from pathlib import Path

from quality.check_store import CheckRow, from_outcome, write
from quality.records import audit_summary_path
from quality.validate import Job, plan, validate
from schemas.checks import UNPARTITIONED, checks_dir
from schemas.layout import Layout, is_chunk_key

PLAUSIBLE_CHECK = "meds_data_plausible"
PHI_AUDIT_CHECK = "phi_audit_finds_no_phi"
UNOWNED = "_unowned"  # tables no asset claims (checked only by `longitude quality`)
_PHI_RULE = "no subject's identifiers and no SSN, phone or e-mail pattern outside landing/, raw/ and quarantine/"


def conformance_check_name(asset: str) -> str:
    """The Dagster check name of an asset's blocking table expectations (`<asset>_tables_conform`)."""
    return f"{asset.replace('/', '__')}_tables_conform"


def conformance_rows(
    root: Path, asset: str, partition: str | None, fallback_dir: str | None = None, jobs: list[Job] | None = None
) -> list[CheckRow]:
    """Every error-level expectation of the tables `asset` writes (in `partition`)."""
    check = conformance_check_name(asset)
    outcomes = validate(
        root, asset=asset, partition=partition, fallback_dir=fallback_dir, severity="error", jobs=jobs
    )
    return [from_outcome(o, check, asset) for o in outcomes]


def plausibility_rows(root: Path, partition: str | None, jobs: list[Job] | None = None) -> list[CheckRow]:
    """Clinical plausibility warnings of MEDS data (one shard, or all)."""
    outcomes = validate(root, asset="meds_data", partition=partition, severity="warn", jobs=jobs)
    return [from_outcome(o, PLAUSIBLE_CHECK, "meds_data") for o in outcomes]


def phi_audit_rows(quality_dir: Path) -> list[CheckRow]:
    """The PHI audit's summary as one blocking rule: no known identifier or PHI pattern outside PHI zones."""
    path = audit_summary_path(quality_dir)
    rule = "phi_audit/no_phi_outside_phi_zones"
    if not path.exists():
        return [
            CheckRow(
                PHI_AUDIT_CHECK,
                "phi_audit",
                None,
                rule,
                "error",
                False,
                _PHI_RULE,
                "the PHI audit wrote no summary",
                0,
                1,
                doc="docs/quality.md#phi_audit",
            )
        ]
    summary = json.loads(path.read_text())
    n = int(summary["findings"])
    hits = [{k: r[k] for k in ("path", "table", "field", "kind", "n", "first_row")} for r in summary["by_table"]]
    reason = (
        f"no known identifier or PHI pattern in {summary.get('files_scanned', 0)} files"
        if n == 0
        else f"{n} PHI hits in {len({h['path'] for h in hits})} files (file, field and kind listed; never values)"
    )
    return [
        CheckRow(
            PHI_AUDIT_CHECK,
            "phi_audit",
            None,
            rule,
            "error",
            n == 0,
            _PHI_RULE,
            reason,
            int(summary.get("cells_scanned", 0)),
            n,
            hits[:5],
            doc="docs/quality.md#phi_audit",
        )
    ]


def recheck_root(root: Path, jobs: list[Job] | None = None) -> list[CheckRow]:
    """Run every suite check over the root and store each (asset, check, partition) result as the Dagster
    checks would; tables no asset owns are stored under `_unowned`."""
    root = Path(root)
    jobs = plan(root) if jobs is None else jobs
    by_asset: dict[str, list[Job]] = {}
    for job in jobs:
        by_asset.setdefault(job.asset or UNOWNED, []).append(job)
    stored: list[CheckRow] = []
    for asset, asset_jobs in sorted(by_asset.items()):
        check = conformance_check_name(asset)
        per_partition = _partitioned(root, asset, check, asset_jobs)
        groups: dict[str | None, list[Job]] = {}
        for job in asset_jobs:
            groups.setdefault(job.partition if per_partition else None, []).append(job)
        if per_partition and None in groups and len(groups) > 1:
            # as the Dagster check of each partition does: the asset's unpartitioned tables join every partition
            shared = groups.pop(None)
            groups = {k: [*v, *shared] for k, v in groups.items()}
        for partition, group in sorted(groups.items(), key=lambda kv: str(kv[0])):
            stored += write(root, check, asset, partition, conformance_rows(root, asset, partition, jobs=group))
            if asset == "meds_data":
                stored += write(root, PLAUSIBLE_CHECK, asset, partition, plausibility_rows(root, partition, group))
    return stored


def _partitioned(root: Path, asset: str, check: str, jobs: list[Job]) -> bool:
    """Whether the asset's checks run per partition: as the stored Dagster results say, else when every table
    of the asset is per shard (the CLI cannot see the code location's partitions without loading it)."""
    stored = {p.stem for p in (checks_dir(Layout(root)) / asset / check).glob("*.parquet")}
    if stored:  # a chunk's check validated the whole gathered set (a store of older runs keeps it per chunk)
        return UNPARTITIONED not in stored and not any(is_chunk_key(s) for s in stored)
    return all(j.partition is not None for j in jobs)
