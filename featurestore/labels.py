"""Label tables of a task for a root: per shard under features/labels/<task>/, or one file."""

from datetime import datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from featurestore.offline import EVENT_COLUMNS, as_layout, shard_files
from featurestore.tasks import Task, build_labels
from schemas.io import write_parquet
from schemas.labels import LABELS_DIR, SPLIT_LABELS_DIR, label_path, label_schema, split_label_path
from schemas.layout import Layout
from schemas.meds import SPLITS
from schemas.publish import Stage, publishing


def dataset_end(layout: Layout) -> datetime | None:
    """The latest event time in the root's MEDS data (the end of follow-up for `follow_up: dataset_end`)."""
    files = [str(p) for p in shard_files(layout)]
    return pl.scan_parquet(files).select(pl.col("time").max()).collect().item() if files else None


def shard_labels(layout: Layout, task: Task, shard: int, end: datetime | None = None) -> pl.DataFrame:
    """The task's labels for the subjects of one MEDS shard (every split)."""
    files = shard_files(layout, shard)
    if not files:
        return pl.from_arrow(label_schema(task.value_column).empty_table())  # type: ignore[return-value]
    events = pl.concat([pl.read_parquet(f, columns=EVENT_COLUMNS) for f in files])
    return build_labels(events, task, end if end is not None else dataset_end(layout))


def write_split_labels(
    layout: Layout, task: str, shard: int, labels: pl.DataFrame, schema: pa.Schema, stage: Stage | None = None
) -> None:
    """The shard's labels again as labels_by_split/<task>/<split>/<shard>.parquet, one file per MEDS split file
    (into `stage`, a features/ version being built, when given)."""
    for split in SPLITS:
        path = split_label_path(layout, task, split, shard)
        path = stage.path(path) if stage is not None else path
        meds = layout.meds_shard(split, shard)
        if not meds.exists():
            path.unlink(missing_ok=True)  # the split lost this shard's subjects: no stale labels stay
            continue
        subjects = pl.read_parquet(meds, columns=["subject_id"])["subject_id"].unique()
        write_parquet(labels.filter(pl.col("subject_id").is_in(subjects.implode())).to_arrow(), path, schema)


def write_labels(
    root: str | Path | Layout, task: Task, *, out: str | Path | None = None, shard: int | None = None
) -> dict:
    """Write the labels (one shard or all) to the root's label folder, or all of them to `out`."""
    layout = as_layout(root)
    shards = sorted({int(p.stem) for p in shard_files(layout)}) if shard is None else [shard]
    if not shards:
        raise FileNotFoundError(f"no MEDS data under {layout.meds / 'data'}; materialize meds_data first")
    end = dataset_end(layout)
    schema = label_schema(task.value_column)
    frames = [shard_labels(layout, task, k, end) for k in shards]
    if out is None:  # these shards' labels, per shard and by split, published at once (schemas.publish)
        mine = [f"{d}/{task.name}/{glob}{k}.parquet" for k in shards
                for d, glob in ((LABELS_DIR, ""), (SPLIT_LABELS_DIR, "*/"))]  # fmt: skip
        with publishing(layout.features, keep_except=mine) as stage:
            for k, frame in zip(shards, frames, strict=True):
                write_parquet(frame.to_arrow(), stage.path(label_path(layout, task.name, k)), schema)
                write_split_labels(layout, task.name, k, frame, schema, stage)
    table = pl.concat(frames)
    path = label_path(layout, task.name, shards[0]).parent if out is None else Path(out)
    if out is not None:
        write_parquet(table.sort("subject_id", "prediction_time").to_arrow(), path, schema)
    value = table[task.value_column]
    positives = int(value.sum()) if value.dtype == pl.Boolean else None
    return {"task": task.name, "rows": len(table), "positives": positives, "path": str(path)}
