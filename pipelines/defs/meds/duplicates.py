"""FHIR records that repeat a resource already delivered (one `Type/id` twice: a re-sent file, overlapping
bulk exports): the first by file and position is kept, the later copies' events are quarantined."""

import polars as pl

from schemas.raw import RAW_RESOURCE_IDS_SCHEMA

KEYS = ["source_file", "position", "resource_type"]


def later_copies(ids: pl.DataFrame) -> pl.DataFrame:
    """(source_file, position, resource_type) of every record after the first of its `Type/id`, one row each.

    A record key that holds several resources (the entries of a Bundle nested in one entry or NDJSON line share
    its position) is left out: its events cannot be told apart by resource, and dropping them all could lose
    a resource that is no copy.

    >>> ids = pl.DataFrame({"resource_type": ["Observation"] * 3, "resource_id": ["o1", "o1", "o2"],
    ...                     "source_file": ["b.ndjson", "a.ndjson", "a.ndjson"], "position": [4, 9, 2]})
    >>> later_copies(ids).to_dicts()
    [{'source_file': 'b.ndjson', 'position': 4, 'resource_type': 'Observation'}]
    """
    if not ids.height:
        return pl.from_arrow(RAW_RESOURCE_IDS_SCHEMA.empty_table()).select(KEYS)
    ranked = ids.sort("source_file", "position").with_columns(
        pl.int_range(pl.len()).over("resource_type", "resource_id").alias("__rank"),
        (pl.len().over(KEYS) == 1).alias("__single"),
    )
    return ranked.filter((pl.col("__rank") > 0) & pl.col("__single")).select(KEYS).unique(maintain_order=True)
