"""Feature tables of a task under the root: features/tables/<task>/<spec>/<shard>.parquet from its label shard."""

from pathlib import Path

import polars as pl
import pyarrow as pa

from featurestore.offline import (
    as_layout,
    compile_for_root,
    iter_batches,
    output_schema,
    read_labels,
    shard_files,
)
from schemas.features import COMPILED_SPEC_FILE, feature_table_path
from schemas.io import write_parquet, write_text
from schemas.labels import label_path
from schemas.layout import Layout
from schemas.publish import publishing


def write_feature_table(
    root: str | Path | Layout, task: str, shard: int, spec: str = "default", *, output: str = "wide"
) -> dict:
    """Features of one label shard from the same MEDS shard; an absent label shard gives an empty table."""
    layout = as_layout(root)
    cs = compile_for_root(layout, spec)
    source = label_path(layout, task, shard)
    if source.exists():
        labels, value = read_labels(source)
    else:
        labels, value = read_labels(
            pl.DataFrame(schema={"subject_id": pl.Int64, "prediction_time": pl.Datetime("us")})
        )
    schema = output_schema(cs, output, value)
    batches = list(iter_batches(layout, labels, cs, output=output, value=value, files=shard_files(layout, shard)))
    table = pa.concat_tables(batches) if batches else schema.empty_table()
    path = feature_table_path(layout, task, cs.spec.name, shard)
    rel = path.relative_to(layout.features)
    with publishing(
        layout.features, keep_except=[rel.as_posix(), (rel.parent / COMPILED_SPEC_FILE).as_posix()]
    ) as st:
        write_parquet(table, st.path(path), schema)
        write_text(cs.to_json(), st.path(path.parent / COMPILED_SPEC_FILE))  # what the check recomputes with
    return {"rows": table.num_rows, "columns": len(cs.feature_names), "spec": cs.spec.name, "path": str(path)}
