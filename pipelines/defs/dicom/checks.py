"""Asset checks of the DICOM index: the ledger balances per file and every landing file is accounted for."""

import dagster as dg
import polars as pl

from pipelines.defs import chunks
from pipelines.defs.checks_util import store_rule
from pipelines.defs.partitions import ingest_chunk_partitions
from pipelines.defs.resources import LongitudeResource
from quality.integrity import RuleResult
from schemas.imaging import INSTANCES_ASSET


@dg.asset_check(asset=INSTANCES_ASSET, blocking=True)
def dicom_ledger_balances(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """Every file under landing/dicom/ has one ledger row, and n_in = n_out + n_quarantined on each; while the
    chunk set is not gathered yet, every landing file of a published chunk has its outcome there."""
    from pipelines.defs.dicom.index import scan

    layout = longitude.settings().layout
    found = scan(layout.root, layout.landing_dicom)
    n = len(ingest_chunk_partitions.get_partition_keys())
    finals, gathered = chunks.published_chunks(layout, INSTANCES_ASSET, n)
    if finals and not gathered:
        return store_rule(context, layout.root, _chunks_cover(layout, found.files, finals, n),
                          failed_key="missing", checked_key="chunks")  # fmt: skip
    ledger = pl.read_parquet(layout.ledger(INSTANCES_ASSET))
    unbalanced = ledger.filter(pl.col("n_in") != pl.col("n_out") + pl.col("n_quarantined")).height
    landing = [*found.files, *found.skipped]  # read or reported: each has its ledger row
    missing = len(landing) - ledger["source_file"].n_unique()
    counts = {"files": len(landing), "ledger_rows": ledger.height, "unbalanced": unbalanced, "missing": missing}
    ok = unbalanced == 0 and missing == 0
    reason = (
        f"{len(landing)} landing files, each with a balanced ledger row"
        if ok
        else f"{unbalanced} ledger rows do not balance; {missing} landing files have no ledger row"
    )
    cols = ["source_file", "record_type", "n_in", "n_out", "n_quarantined"]  # source_file: a keyed label
    bad = ledger.filter(pl.col("n_in") != pl.col("n_out") + pl.col("n_quarantined")).select(cols).head(5)
    result = RuleResult(ok, reason, counts, bad.to_dicts())
    return store_rule(context, layout.root, result, failed_key=None, checked_key="files")


def _chunks_cover(layout, files: list, finals: list, n: int) -> RuleResult:
    """Each published chunk holds one outcome (an instance, a DICOMDIR or a rejection) per landing file of it."""
    from pipelines.defs.dicom.chunks import FILES_PART

    missing = 0
    for final in finals:
        table = chunks.chunk_table(final, FILES_PART)
        held = set(table.column("source_file").to_pylist()) if table is not None else set()
        rels = (f.relative_to(layout.root).as_posix() for f in files)
        missing += sum(1 for rel in rels if chunks.chunk_of(rel, n) == int(final.name) and rel not in held)
    ok = missing == 0
    reason = (
        f"{len(finals)} of {n} chunks published, each with an outcome per landing file (not gathered yet)"
        if ok
        else f"{missing} landing files of the published chunks have no outcome"
    )
    return RuleResult(ok, reason, {"chunks": len(finals), "missing": missing}, [])
