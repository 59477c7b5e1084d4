"""Our MEDS tables are MEDS: the `meds` package's own schemas accept them, and join keys agree across schemas."""

import json

import meds
import pyarrow as pa
import pytest

from schemas import meds as ours
from schemas.io import conform, write_parquet
from schemas.layout import Layout
from schemas.raw import RAW_EVENTS_SCHEMA


def _data_table() -> pa.Table:
    return conform(
        pa.table(
            {
                "subject_id": [1, 1, 2],
                "time": pa.array([None, 1_600_000_000_000_000, 1_500_000_000_000_000], pa.timestamp("us")),
                "code": ["GENDER//female", "LOINC//2345-7", "MEDS_BIRTH"],
                "numeric_value": [None, 98.5, None],
                "text_value": [None, None, None],
                "unit": [None, "mg/dL", None],
            }
        ),
        ours.DATA_SCHEMA,
    )


def test_meds_accepts_our_data_codes_splits_and_labels():
    meds.DataSchema.validate(_data_table())
    meds.CodeMetadataSchema.validate(
        conform(
            pa.table({"code": ["LOINC//2345-7"], "description": ["Glucose"], "parent_codes": [None]}),
            ours.CODES_SCHEMA,
        )
    )
    meds.SubjectSplitSchema.validate(
        conform(pa.table({"subject_id": [1], "split": ["train"]}), ours.SUBJECT_SPLITS_SCHEMA)
    )
    for column, values in (("boolean_value", [True]), ("integer_value", [3]), ("float_value", [1.5]),
                           ("categorical_value", ["a"])):  # fmt: skip
        labels = pa.table(
            {
                "subject_id": [1],
                "prediction_time": pa.array([1_600_000_000_000_000], pa.timestamp("us")),
                column: values,
            }
        )
        meds.LabelSchema.validate(conform(labels, ours.label_schema(column)))


def test_sentinels_and_paths_match_the_standard(tmp_path):
    assert (meds.birth_code, meds.death_code) == (ours.BIRTH_CODE, ours.DEATH_CODE)
    assert (meds.train_split, meds.tuning_split, meds.held_out_split) == ours.SPLITS
    layout = Layout(tmp_path)
    assert layout.meds_codes == layout.meds / meds.code_metadata_filepath
    assert layout.meds_subject_splits == layout.meds / meds.subject_splits_filepath
    assert layout.meds_dataset_json == layout.meds / meds.dataset_metadata_filepath
    assert meds.__version__ == ours.MEDS_VERSION


def test_dataset_json_validates_against_the_meds_schema(tmp_path):
    from pipelines.defs.meds.metadata import write_dataset_metadata

    layout = Layout(tmp_path)
    meta = write_dataset_metadata(layout)
    meds.DatasetMetadataSchema.validate(json.loads(layout.meds_dataset_json.read_text()))
    assert set(meta) <= set(ours.DATASET_METADATA_KEYS)


def test_join_keys_agree_across_schemas():
    for schema in (ours.DATA_SCHEMA, ours.SUBJECT_SPLITS_SCHEMA, ours.label_schema("float_value")):
        assert schema.field("subject_id").type == pa.int64()
    for a, b in ((ours.DATA_SCHEMA, ours.CODES_SCHEMA), (ours.DATA_SCHEMA, RAW_EVENTS_SCHEMA)):
        assert a.field("code").type == b.field("code").type
    assert ours.DATA_SCHEMA.field("time").type == RAW_EVENTS_SCHEMA.field("time").type


def test_the_write_boundary_rejects_nulls_where_the_schema_forbids_them(tmp_path):
    bad = _data_table().set_column(0, "subject_id", pa.array([1, None, 2], pa.int64()))
    with pytest.raises(ValueError, match="subject_id"):
        write_parquet(bad, tmp_path / "x.parquet", ours.DATA_SCHEMA)
    assert not list(tmp_path.iterdir())  # nothing written, not even a temp file
