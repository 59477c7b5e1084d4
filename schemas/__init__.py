"""Every persisted table's Arrow schema, storage path and invariants, defined once."""

from schemas.codes import vocab_code
from schemas.layout import Layout
from schemas.ledger import LEDGER_SCHEMA
from schemas.meds import (
    BIRTH_CODE,
    CODES_SCHEMA,
    DATA_SCHEMA,
    DEATH_CODE,
    LABEL_SCHEMA,
    SPLITS,
    SUBJECT_SPLITS_SCHEMA,
    label_schema,
)
from schemas.quarantine import QUARANTINE_SCHEMA
from schemas.raw import RAW_CODES_SCHEMA, RAW_EVENTS_SCHEMA, RAW_PATIENTS_SCHEMA

__all__ = [
    "BIRTH_CODE",
    "CODES_SCHEMA",
    "DATA_SCHEMA",
    "DEATH_CODE",
    "LABEL_SCHEMA",
    "LEDGER_SCHEMA",
    "QUARANTINE_SCHEMA",
    "RAW_CODES_SCHEMA",
    "RAW_EVENTS_SCHEMA",
    "RAW_PATIENTS_SCHEMA",
    "SPLITS",
    "SUBJECT_SPLITS_SCHEMA",
    "Layout",
    "label_schema",
    "vocab_code",
]
