"""catalog.duckdb: a DuckDB view per table under the root, so stewards and modelers can query with SQL."""

import duckdb

from schemas.atomic import replacing
from schemas.layout import Layout
from schemas.publish import files_under

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
    """(Re)build catalog.duckdb with a view for every table that has files; returns the view names.

    A view names the exact files published when it was built (schemas.publish), never a glob that could
    reach a staging area; the catalog is rebuilt after every MEDS build.
    """
    made = []
    with replacing(layout.catalog, create=False) as tmp:  # DuckDB makes its own file; closed = checkpointed
        con = duckdb.connect(str(tmp))
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS phi")
            for schema, view, pattern in VIEWS:
                top, _, rest = pattern.partition("/")
                files = files_under(layout.root / top, rest)
                if not files:
                    continue
                paths = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
                con.execute(
                    f"CREATE VIEW {schema}.{view} AS "
                    f"SELECT * FROM read_parquet([{paths}], union_by_name = true, hive_partitioning = false)"
                )
                made.append(f"{schema}.{view}")
        finally:
            con.close()
    return made
