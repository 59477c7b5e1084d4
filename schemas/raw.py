"""Parsed sources in the raw zone: events, patients and code descriptions before de-identification. PHI.

Invariants:
1. Lives under `raw/<source>/`, written per shard as `<table>/shard=<k>/part-<n>.parquet`; a source
   patient's rows all land in the shard chosen by `deid.pseudonym.Keyring.shard`.
2. Times are real (unshifted) UTC; only the meds asset shifts them.
3. Each event row points back to its source file and position, so a bad event can be quarantined
   with its origin.
"""

import pyarrow as pa

RAW_EVENTS_SCHEMA = pa.schema(
    [
        pa.field("source_patient", pa.string(), nullable=False),  # the source system's patient id (PHI)
        pa.field("time", pa.timestamp("us"), nullable=True),
        pa.field("code", pa.string(), nullable=False),
        pa.field("numeric_value", pa.float32(), nullable=True),
        pa.field("text_value", pa.large_string(), nullable=True),
        pa.field("unit", pa.string(), nullable=True),
        pa.field("resource_type", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
    ]
)
"""One row per event. text_value holds coded values as `VOCAB//code` and strings as delivered."""

RAW_PATIENTS_SCHEMA = pa.schema(
    [
        pa.field("source_patient", pa.string(), nullable=False),
        pa.field("birth_time", pa.timestamp("us"), nullable=True),
        pa.field("death_time", pa.timestamp("us"), nullable=True),
        pa.field("sex", pa.string(), nullable=True),  # administrative gender as delivered
        pa.field("names", pa.list_(pa.string()), nullable=True),  # identifiers kept for the PHI audit
        pa.field("identifiers", pa.list_(pa.string()), nullable=True),  # MRN, SSN, ... values
        pa.field("telecoms", pa.list_(pa.string()), nullable=True),
        pa.field("addresses", pa.list_(pa.string()), nullable=True),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
    ]
)
"""One row per source patient record. The identifier columns never leave the PHI zones; they feed the PHI
audit and the per-subject deny list of the text de-identifier."""

RAW_RESOURCE_IDS_SCHEMA = pa.schema(
    [
        pa.field("resource_type", pa.string(), nullable=False),
        pa.field("resource_id", pa.string(), nullable=False),  # the resource's own id (a source id: PHI)
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("source_patient", pa.string(), nullable=False),  # the subject it was read for (PHI)
    ]
)
"""raw/fhir/resource_ids/shard=<k>/: one row per accepted FHIR record with an id that made events (Patients
aside: their duplicates have rules of their own), in its patient's shard. `Type/id` names one resource, so a
second record of it (a re-delivered file, an overlapping bulk export) is a duplicate the meds build drops."""

RAW_RESOURCE_CONFLICTS_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("resource_type", pa.string(), nullable=False),
    ]
)
"""raw/fhir/resource_conflicts/shard=<k>/: the records (file, position, type) of a `Type/id` delivered for
two or more different patients, found across every shard when raw/fhir is gathered; the meds build quarantines
their events (CONFLICTING_RESOURCE), in the shard each record was read into."""

PENDING_SUBJECTS_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("where", pa.string(), nullable=False),  # the path to a nested Bundle's entry, or ""
        pa.field("resource_type", pa.string(), nullable=False),
        pa.field("field", pa.string(), nullable=False),  # subject | patient
        pa.field("how", pa.string(), nullable=False),  # identifier | contained
        pa.field("keys", pa.list_(pa.string()), nullable=False),  # keyed digests of the identifiers
        pa.field("record", pa.large_string(), nullable=False),  # the resource as JSON (PHI)
        pa.field("medications", pa.large_string(), nullable=True),  # the Medication it refers to, as JSON
    ]
)
"""chunks/fhir_raw/<chunk>/pending_subjects/: records whose patient is named by identifier or by a contained
Patient, set aside by the parser and resolved when raw/fhir is gathered (pipelines.defs.fhir.subjects)."""

PATIENT_KEYS_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string(), nullable=False),  # keyed digest of an identifier's system and value
        pa.field("source_patient", pa.string(), nullable=False),
    ]
)
"""chunks/fhir_raw/<chunk>/patient_keys/: each delivered Patient's identifiers, as digests, for the gather."""

RAW_CODES_SCHEMA = pa.schema(
    [
        pa.field("code", pa.string(), nullable=False),
        pa.field("description", pa.string(), nullable=True),
        pa.field("n", pa.int64(), nullable=False),
    ]
)
"""Display texts seen per code, with how often; the meds codes asset keeps the most frequent."""

RAW_CODE_METADATA_SCHEMA = pa.schema(
    [
        pa.field("code", pa.string(), nullable=False),
        pa.field("description", pa.string(), nullable=True),
        pa.field("parent_codes", pa.list_(pa.string()), nullable=True),
    ]
)
"""raw/<source>/code_metadata/*.parquet: a source vocabulary's description and parents of the codes it used
(OMOP concept + concept_relationship, a dictionary table); the meds codes asset merges them into codes.parquet."""


RAW_FILE_ENCODINGS_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),  # relative to the root (names can hold PHI)
        pa.field("encoding", pa.string(), nullable=False),  # what the file was decoded with: utf-8, cp1252, ...
    ]
)
"""raw/tables/<source>/files/encodings.parquet: the text encoding detected for each CSV file of the source."""

RAW_EXTRA_COLUMNS_SCHEMA = pa.schema(
    [
        pa.field("name", pa.string(), nullable=False),  # the extra column, as the mapping's rules name it
        pa.field("type", pa.string(), nullable=False),  # string, int, float or datetime
        pa.field("deid", pa.string(), nullable=False),  # keep, pseudonymize, shift or text (drop never gets here)
    ]
)
"""raw/tables/<source>/meds_extra/columns.parquet: the extra columns a source carries into the MEDS data shards
(their values per shard in meds_extra/shard=<k>/, keyed to events by source_patient, time, code, source_file,
position and resource_type), and how the MEDS build de-identifies each."""
