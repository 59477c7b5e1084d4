"""Quarantined records by reason code as Dagster metadata: the review targets the CLI summary and site list."""

from pathlib import Path

import dagster as dg
import polars as pl


def quarantine_markdown(quarantine: pl.DataFrame, what: str = "records") -> str:
    """Records per review target `quarantine:<asset>/<code>` with one reason as an example (reasons are written
    without record values: schemas.quarantine), largest first; never a record, file name or position."""
    from quality.report import quarantine_by_code

    if quarantine.is_empty():
        return "No record quarantined."
    lines = [f"| review target | {what} | e.g. reason |", "| --- | --- | --- |"]
    for row in quarantine_by_code(quarantine).iter_rows(named=True):
        reason = row["reason"].replace("|", "/").replace("\n", " ")  # one table cell
        lines.append(f"| quarantine:{row['asset']}/{row['reason_code']} | {row['records']} | {reason} |")
    return "\n".join(lines)


def quarantine_metadata(
    root: str | Path, asset: str, shard: int | str | None = None
) -> dict[str, dg.MetadataValue]:
    """An ingest asset's quarantine by reason code as published now: the whole asset's (what its review targets
    cover), or one shard's where the asset keeps a file per shard (quarantine/<asset>/<shard>.parquet)."""
    from quality.report import quarantine_summary
    from schemas.layout import Layout

    layout = Layout(Path(root).resolve())
    if shard is None:
        summary, what = quarantine_summary(layout, asset), "records"
    else:
        summary, what = quarantine_summary(layout, asset, f"{shard}.parquet"), f"records in shard {shard}"
    return {"quarantined_by_reason": dg.MetadataValue.md(quarantine_markdown(summary, what))}
