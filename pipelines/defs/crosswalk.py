"""Which source patient an identifier (an MRN in a DICOM PatientID, ...) belongs to, from the raw patients."""

import polars as pl

from schemas.layout import Layout
from schemas.publish import files_under


def identifier_crosswalk(layout: Layout, exclude_sources: tuple[str, ...] = ("dicom",)) -> dict[str, str]:
    """identifier value -> source patient id, over every source's raw patients (PHI zone, never persisted).

    An identifier claimed by two different patients is left out: guessing would merge two people.
    """
    files = [p for p in files_under(layout.raw, Layout.raw_shard_pattern("patients", "*"))
             if p.relative_to(layout.raw).parts[0] not in exclude_sources]  # fmt: skip
    if not files:
        return {}
    ids = (
        pl.read_parquet(files, columns=["source_patient", "identifiers"], hive_partitioning=False)
        .explode("identifiers")
        .drop_nulls("identifiers")
        .unique()
    )
    unambiguous = ids.group_by("identifiers").agg(pl.col("source_patient").n_unique().alias("n"),
                                                  pl.col("source_patient").first())  # fmt: skip
    unambiguous = unambiguous.filter(pl.col("n") == 1)
    return dict(zip(unambiguous["identifiers"].to_list(), unambiguous["source_patient"].to_list(), strict=True))
