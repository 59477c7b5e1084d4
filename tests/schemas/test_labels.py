"""One label reader (schemas.labels.read_label_table) for the feature store and the model's probes."""

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from schemas.io import write_parquet
from schemas.labels import label_schema, read_label_table


def _labels() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "subject_id": [3, 1, 2],
            "prediction_time": [datetime(2020, 1, 1, 12), datetime(2019, 5, 2), datetime(2021, 7, 3, 23, 30)],  # noqa: DTZ001 (MEDS times are naive UTC)
            "boolean_value": [True, False, True],
        },
        schema={"subject_id": pl.Int64, "prediction_time": pl.Datetime("us"), "boolean_value": pl.Boolean},
    )


def test_a_file_a_folder_of_shards_and_a_frame_read_the_same(tmp_path: Path):
    labels = _labels()
    write_parquet(labels.to_arrow(), tmp_path / "one.parquet", label_schema("boolean_value"))
    for k, part in enumerate((labels[:1], labels[1:])):
        write_parquet(part.to_arrow(), tmp_path / "task" / f"{k}.parquet", label_schema("boolean_value"))
    for source in (tmp_path / "one.parquet", tmp_path / "task", labels):
        frame, column = read_label_table(source)
        assert column == "boolean_value" and frame.equals(labels)  # order kept, not re-sorted


def test_zoned_times_become_naive_utc_and_unlabeled_tables_have_no_column():
    paris = _labels().with_columns(
        pl.col("prediction_time").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Paris")
    )
    frame, _ = read_label_table(paris)
    assert frame["prediction_time"].to_list() == _labels()["prediction_time"].to_list()
    bare, column = read_label_table(
        _labels().drop("boolean_value").with_columns(pl.col("subject_id").cast(pl.Int32))
    )
    assert (
        column is None
        and bare.columns == ["subject_id", "prediction_time"]
        and bare["subject_id"].dtype == pl.Int64
    )


def test_bad_tables_are_refused_without_quoting_values(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        read_label_table(tmp_path / "missing")
    with pytest.raises(ValueError, match="nulls found") as err:
        read_label_table(_labels().with_columns(pl.lit(None, pl.Int64).alias("subject_id")))
    assert "2020" not in str(err.value)
    with pytest.raises(ValueError, match="one value column"):
        read_label_table(_labels().with_columns(pl.lit(1.0).alias("float_value")))


def test_the_probes_and_offline_retrieval_read_labels_through_it():
    from featurestore.offline import read_labels
    from model.probe import read_label_table as probe_reader

    assert probe_reader is read_label_table
    frame, column = read_labels(_labels())
    assert column == "boolean_value" and frame["label_index"].to_list() == [0, 1, 2]
    assert frame.drop("label_index").equals(read_label_table(_labels())[0])
