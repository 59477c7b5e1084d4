"""Blocking integrity checks on the parsed FHIR: the conservation ledger balances."""

import dagster as dg
import polars as pl

from pipelines.defs import chunks
from pipelines.defs.checks_util import store_rule
from pipelines.defs.fhir.chunks import LEDGER_PART
from pipelines.defs.fhir.ingest import ASSET
from pipelines.defs.partitions import ingest_chunk_partitions
from pipelines.defs.resources import LongitudeResource
from pipelines.ledger import file_label
from quality.integrity import ledger_balances, ledger_frame_balances


@dg.asset_check(asset=ASSET, blocking=True)
def fhir_raw_ledger_balances(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """Every FHIR record read is either parsed or quarantined, per file and resource type: the gathered ledger,
    or, while the chunk set is not gathered yet, the published chunks' own ledgers."""
    settings = longitude.settings()
    layout = settings.layout
    n = len(ingest_chunk_partitions.get_partition_keys())
    finals, gathered = chunks.published_chunks(layout, ASSET, n)
    if not finals or gathered:
        result = ledger_balances([layout.ledger(ASSET)] if layout.ledger(ASSET).exists() else [])
    else:
        tables = [chunks.chunk_table(f, LEDGER_PART) for f in finals]
        ledger = pl.concat([pl.from_arrow(t) for t in tables if t is not None])  # type: ignore[misc]
        # delivered paths stay in the PHI zone: results name keyed labels, as the gathered ledger does
        labels = {f: file_label(f, settings.keyring) for f in set(ledger["source_file"].to_list())}
        result = ledger_frame_balances(ledger.with_columns(pl.col("source_file").replace_strict(labels)))
    return store_rule(context, layout.root, result, failed_key="unbalanced_rows", checked_key="rows")
