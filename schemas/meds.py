"""The MEDS v0.4 tables of the curated layer: data, codes, subject splits, dataset metadata, labels.

Invariants the types cannot express:
1. A subject lives in exactly one data shard file; its rows are contiguous and sorted by time,
   static rows (null time) first.
2. `subject_id` is a keyed pseudonym (HMAC of the source id), never a source identifier.
3. Every time of a subject carries the subject's one date shift (see `deid.pseudonym`).
4. Every code in any data shard has a row in codes.parquet.
5. A subject's split never changes for a given secret; splits are disjoint.
"""

import pyarrow as pa

# Sentinel codes, as named by the MEDS standard.
BIRTH_CODE = "MEDS_BIRTH"
DEATH_CODE = "MEDS_DEATH"

TRAIN, TUNING, HELD_OUT = "train", "tuning", "held_out"
SPLITS = (TRAIN, TUNING, HELD_OUT)

DATA_SCHEMA = pa.schema(
    [
        pa.field("subject_id", pa.int64(), nullable=False),
        pa.field("time", pa.timestamp("us"), nullable=True),  # null for static facts (sex)
        pa.field("code", pa.string(), nullable=False),
        pa.field("numeric_value", pa.float32(), nullable=True),
        pa.field("text_value", pa.large_string(), nullable=True),
        # Code modifier (listed in dataset.json): the UCUM unit of numeric_value as delivered.
        pa.field("unit", pa.string(), nullable=True),
    ]
)
"""MEDS data. subject_id: int64 pseudonym, never null. time: shifted, naive UTC, microseconds; null only
for static rows. code: `VOCAB//value`, never null. numeric_value: float32 or null. text_value: coded or
free-text value, null when numeric or absent. unit: UCUM unit string of numeric_value or null."""

CODES_SCHEMA = pa.schema(
    [
        pa.field("code", pa.string(), nullable=False),
        pa.field("description", pa.string(), nullable=True),
        pa.field("parent_codes", pa.list_(pa.string()), nullable=True),
    ]
)
"""MEDS code metadata: one row per distinct code in the data; description as found in the source data
(the most frequent display text for that code), null when the source had none."""

SUBJECT_SPLITS_SCHEMA = pa.schema(
    [
        pa.field("subject_id", pa.int64(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
    ]
)
"""One row per subject; split is one of SPLITS, chosen by a keyed hash of the source id."""

LABEL_VALUE_TYPES = {
    "boolean_value": pa.bool_(),
    "integer_value": pa.int64(),
    "float_value": pa.float32(),
    "categorical_value": pa.string(),
}


def label_schema(value_column: str) -> pa.Schema:
    """MEDS labels with one value column: MEDS forbids nulls in any value column that is present.

    >>> label_schema("boolean_value").names
    ['subject_id', 'prediction_time', 'boolean_value']
    """
    return pa.schema(
        [
            pa.field("subject_id", pa.int64(), nullable=False),
            pa.field("prediction_time", pa.timestamp("us"), nullable=False),
            pa.field(value_column, LABEL_VALUE_TYPES[value_column], nullable=False),
        ]
    )


LABEL_SCHEMA = label_schema("boolean_value")
"""MEDS labels: data up to and including prediction_time may be used by the standard; our feature store is
stricter (see features). One label table carries exactly one of the value columns, never null."""

DATASET_METADATA_KEYS = (
    "dataset_name",
    "dataset_version",
    "etl_name",
    "etl_version",
    "meds_version",
    "created_at",
    "license",
    "location_uri",
    "description_uri",
    "raw_source_id_columns",
    "code_modifier_columns",
    "additional_value_modality_columns",
    "site_id_columns",
    "other_extension_columns",
)
MEDS_VERSION = "0.4.1"
