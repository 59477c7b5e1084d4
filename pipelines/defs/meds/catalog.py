"""catalog.duckdb: a DuckDB view per table under the root, so stewards and modelers can query with SQL."""

from pathlib import Path

import duckdb

from schemas.layout import Layout

# (schema, view, glob relative to the root). PHI tables go in schema `phi`, so a query names what it touches.
VIEWS = (
    ("main", "meds_data", "meds/data/*/*.parquet"),
    ("main", "meds_codes", "meds/metadata/codes.parquet"),
    ("main", "meds_subject_splits", "meds/metadata/subject_splits.parquet"),
    ("main", "ledger", "quality/ledger/**/*.parquet"),
    ("main", "notes", "notes/**/*.parquet"),
    ("main", "imaging_studies", "imaging/studies/**/*.parquet"),
    ("main", "imaging_series", "imaging/series/**/*.parquet"),
    ("main", "imaging_instances", "imaging/instances/**/*.parquet"),
    ("main", "token_vocabulary", "tokens/vocabulary/*.parquet"),
    ("main", "trajectories", "tokens/trajectories/**/*.parquet"),
    ("main", "features", "features/**/*.parquet"),
    ("phi", "raw_events", "raw/*/events/*/*.parquet"),
    ("phi", "raw_patients", "raw/*/patients/*/*.parquet"),
    ("phi", "quarantine", "quarantine/**/*.parquet"),
)


def write_catalog(layout: Layout) -> list[str]:
    """(Re)build catalog.duckdb with a view for every table that has files; returns the view names."""
    tmp = layout.catalog.with_name(".catalog.duckdb.tmp")
    tmp.unlink(missing_ok=True)
    made = []
    con = duckdb.connect(str(tmp))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS phi")
        for schema, view, pattern in VIEWS:
            if not any(Path(layout.root).glob(pattern)):
                continue
            path = str(layout.root / pattern).replace("'", "''")
            con.execute(
                f"CREATE VIEW {schema}.{view} AS "
                f"SELECT * FROM read_parquet('{path}', union_by_name = true, hive_partitioning = false)"
            )
            made.append(f"{schema}.{view}")
    finally:
        con.close()
    tmp.replace(layout.catalog)
    return made
