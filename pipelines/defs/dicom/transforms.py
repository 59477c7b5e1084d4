"""Polars transforms of the DICOM index: instance tables, series and study roll-ups, MEDS-bound events,
ledger and quarantine rows, and the FHIR ImagingStudy link."""

import polars as pl
import pyarrow as pa

from deid.dicom import remap_uid
from deid.pseudonym import Keyring
from pipelines.defs.dicom.index import IndexResult
from schemas.imaging import (
    CONFLICTING_DICOM_UID,
    DUPLICATE_SOP_INSTANCE,
    IMAGING_FHIR_LINKS_SCHEMA,
    IMAGING_INSTANCES_SCHEMA,
    IMAGING_SERIES_SCHEMA,
    IMAGING_STUDIES_SCHEMA,
    INSTANCES_ASSET,
    MISSING_DICOM_UID,
    RAW_DICOM_INSTANCES_SCHEMA,
    RECORD_DICOMDIR,
    RECORD_INSTANCE,
)
from schemas.ledger import LEDGER_SCHEMA, UNPARSED
from schemas.quarantine import MISSING_PATIENT, QUARANTINE_SCHEMA
from schemas.raw import RAW_EVENTS_SCHEMA, RAW_PATIENTS_SCHEMA

UNKNOWN = "UNKNOWN"
STUDY_VOCAB = "IMAGING_STUDY"
SERIES_VOCAB = "IMAGING"
_INSTANCE_ORDER = ["subject_id", "study_uid", "series_uid", "instance_number", "sop_uid"]


def _frame(rows: list[dict], schema: pa.Schema) -> pl.DataFrame:
    return pl.from_arrow(pa.Table.from_pylist(rows, schema=schema))


def raw_instances(result: IndexResult, shard: int) -> pl.DataFrame:
    """Raw (PHI) instance rows of one shard, in file order."""
    rows = [f.raw for f in result.instances if f.shard == shard]
    return _frame(rows, RAW_DICOM_INSTANCES_SCHEMA)


def raw_patients(result: IndexResult, shard: int) -> pl.DataFrame:
    """Raw (PHI) patient rows of one shard: one per source patient, from its first file by path."""
    seen: set[str] = set()
    rows = []
    for f in result.instances:  # already in path order
        if f.shard == shard and f.patient["source_patient"] not in seen:
            seen.add(f.patient["source_patient"])
            rows.append(f.patient)
    return _frame(rows, RAW_PATIENTS_SCHEMA)


def imaging_instances(result: IndexResult, shard: int) -> pl.DataFrame:
    """De-identified instance rows of one shard, sorted by subject, study, series, instance number."""
    rows = [f.imaging for f in result.instances if f.shard == shard]
    return _frame(rows, IMAGING_INSTANCES_SCHEMA).sort(_INSTANCE_ORDER, nulls_last=True)


def _most_common(col: str) -> pl.Expr:
    # ties break alphabetically so the roll-up is deterministic
    return pl.col(col).drop_nulls().mode().sort().first().alias(col)


def series_table(instances: pl.DataFrame) -> pl.DataFrame:
    """One row per series from de-identified instances.

    >>> from datetime import datetime
    >>> inst = pl.DataFrame({"subject_id": [1, 1], "study_uid": ["2.25.1"] * 2, "series_uid": ["2.25.2"] * 2,
    ...     "sop_uid": ["2.25.4", "2.25.3"], "instance_number": [2, 1], "modality": ["MR", "MR"],
    ...     "frames": [1, 1], "series_time": [None, datetime(2020, 1, 1)]})
    >>> series_table(inst).select("n_instances", "sop_uids", "series_time").row(0)
    (2, ['2.25.3', '2.25.4'], datetime.datetime(2020, 1, 1, 0, 0))
    """
    inst = _with_defaults(instances)
    out = (
        inst.sort(_INSTANCE_ORDER, nulls_last=True)
        .group_by(["subject_id", "study_uid", "series_uid"], maintain_order=True)
        .agg(
            _most_common("modality"),
            _most_common("body_part"),
            pl.col("series_description").drop_nulls().first(),
            pl.col("series_number").drop_nulls().first(),
            pl.coalesce(pl.col("series_time").min(), pl.col("study_time").min()).alias("series_time"),
            pl.col("manufacturer").drop_nulls().first(),
            pl.col("model").drop_nulls().first(),
            pl.col("rows").drop_nulls().first(),
            pl.col("columns").drop_nulls().first(),
            pl.len().cast(pl.Int64).alias("n_instances"),
            pl.col("frames").fill_null(1).sum().cast(pl.Int64).alias("n_frames"),
            pl.col("sop_uid").alias("sop_uids"),
        )
    )
    return _conform(out, IMAGING_SERIES_SCHEMA)


def studies_table(instances: pl.DataFrame) -> pl.DataFrame:
    """One row per study from de-identified instances."""
    inst = _with_defaults(instances)
    out = (
        inst.sort(_INSTANCE_ORDER, nulls_last=True)
        .group_by(["subject_id", "study_uid"], maintain_order=True)
        .agg(
            pl.col("study_time").min(),
            pl.col("study_description").drop_nulls().first(),
            _most_common("modality"),
            _most_common("body_part"),
            pl.col("modality").drop_nulls().unique().sort().alias("modalities"),
            pl.col("series_uid").n_unique().cast(pl.Int64).alias("n_series"),
            pl.len().cast(pl.Int64).alias("n_instances"),
        )
    )
    return _conform(out, IMAGING_STUDIES_SCHEMA)


def _with_defaults(instances: pl.DataFrame) -> pl.DataFrame:
    """Add the instance columns a small hand-built frame may lack, as nulls of the schema's type."""
    schema = pl.from_arrow(IMAGING_INSTANCES_SCHEMA.empty_table()).schema
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items() if name not in instances]
    return instances.with_columns(missing) if missing else instances


def _conform(df: pl.DataFrame, schema: pa.Schema) -> pl.DataFrame:
    return pl.from_arrow(df.select(schema.names).to_arrow().cast(schema))


def events_table(raw: pl.DataFrame, secret: bytes) -> pl.DataFrame:
    """MEDS-bound events (RAW_EVENTS_SCHEMA): one per study and one per series, at their real UTC time.

    Study: `IMAGING_STUDY//<modality>//<body part>`, numeric_value = series count; series:
    `IMAGING//<modality>//<body part>`, numeric_value = instance count. text_value is the remapped (keyed,
    de-identified) study or series UID, so a MEDS row joins back to `imaging/`. Undated studies and series
    give no event. source_file is the first file (by path) of the study or series.
    """
    raw = raw.sort("source_file")
    series = (
        raw.group_by(["source_patient", "study_uid", "series_uid"], maintain_order=True)
        .agg(
            _most_common("modality"),
            _most_common("body_part"),
            pl.coalesce(pl.col("series_time").min(), pl.col("study_time").min()).alias("time"),
            pl.len().cast(pl.Float32).alias("numeric_value"),
            pl.col("source_file").first(),
        )
        .with_columns(uid=pl.col("series_uid"), vocab=pl.lit(SERIES_VOCAB), resource_type=pl.lit("ImagingSeries"))
    )
    studies = (
        raw.group_by(["source_patient", "study_uid"], maintain_order=True)
        .agg(
            _most_common("modality"),
            _most_common("body_part"),
            pl.col("study_time").min().alias("time"),
            pl.col("series_uid").n_unique().cast(pl.Float32).alias("numeric_value"),
            pl.col("source_file").first(),
        )
        .with_columns(uid=pl.col("study_uid"), vocab=pl.lit(STUDY_VOCAB), resource_type=pl.lit("ImagingStudy"))
    )
    cols = ["source_patient", "modality", "body_part", "time", "numeric_value", "source_file", "uid", "vocab"]
    both = pl.concat([studies.select(*cols, "resource_type"), series.select(*cols, "resource_type")])
    remapped = {u: remap_uid(u, secret) for u in both["uid"].unique().to_list()}
    events = both.filter(pl.col("time").is_not_null()).select(
        "source_patient",
        "time",
        pl.concat_str(
            "vocab", pl.col("modality").fill_null(UNKNOWN), pl.col("body_part").fill_null(UNKNOWN), separator="//"
        ).alias("code"),
        "numeric_value",
        pl.col("uid").replace_strict(remapped, return_dtype=pl.String).alias("text_value"),
        pl.lit(None, dtype=pl.String).alias("unit"),
        "resource_type",
        "source_file",
        pl.lit(0, dtype=pl.Int64).alias("position"),  # 0: the whole file is the record
    )
    return _conform(events.sort("source_patient", "time", "code"), RAW_EVENTS_SCHEMA)


def ledger_table(result: IndexResult, events: pl.DataFrame) -> pl.DataFrame:
    """One ledger row per file: in 1 = out + quarantined; n_events counts the events attributed to it."""
    per_file = dict(events.group_by("source_file").len().iter_rows()) if events.height else {}
    kinds = {"instance": RECORD_INSTANCE, "dicomdir": RECORD_DICOMDIR}
    # read fine, rejected on content
    parsed = {DUPLICATE_SOP_INSTANCE, CONFLICTING_DICOM_UID, MISSING_DICOM_UID, MISSING_PATIENT}
    rows = [
        {
            "asset": INSTANCES_ASSET,
            "source_file": f.source_file,
            "record_type": kinds.get(f.kind, RECORD_INSTANCE if f.reason_code in parsed else UNPARSED),
            "n_in": 1,
            "n_out": int(f.kind != "rejected"),
            "n_quarantined": int(f.kind == "rejected"),
            "n_events": per_file.get(f.source_file, 0),
        }
        for f in result.files
    ]
    return _frame(rows, LEDGER_SCHEMA)


def quarantine_table(result: IndexResult) -> pl.DataFrame:
    """One row per rejected file; `record` is null: the file itself stays in landing/ for review."""
    rows = [
        {
            "asset": INSTANCES_ASSET,
            "source_file": f.source_file,
            "position": 0,
            "resource_type": None,
            "reason_code": f.reason_code,
            "reason": f.reason,
            "record": None,
        }
        for f in result.rejected
    ]
    return _frame(rows, QUARANTINE_SCHEMA)


def fhir_links(raw: pl.DataFrame, fhir: pl.DataFrame, keyring: Keyring) -> pl.DataFrame:
    """Join DICOM studies to FHIR ImagingStudy rows on the original Study Instance UID (raw zone in, de-identified
    out): remapped study UID, both sides' subject_id, and whether they agree.

    >>> k = Keyring(b"0123456789abcdef")
    >>> raw = pl.DataFrame({"source_patient": ["mrn1"], "study_uid": ["1.2.3"]})
    >>> fhir = pl.DataFrame({"source_patient": ["mrn1", "mrn2"], "study_uid": ["1.2.3", "9.9"]})
    >>> fhir_links(raw, fhir, k).select("same_subject").to_series().to_list()
    [True]
    """
    studies = raw.select("source_patient", "study_uid").unique()
    fhir_side = fhir.select(pl.col("source_patient").alias("fhir_patient"), "study_uid").unique()
    joined = studies.join(fhir_side, on="study_uid", how="inner").sort("study_uid", "fhir_patient")
    rows = [
        {
            "study_uid": remap_uid(uid, keyring.secret),
            "subject_id": keyring.subject_id(patient),
            "fhir_subject_id": keyring.subject_id(fhir_patient),
            "same_subject": patient == fhir_patient,
        }
        for patient, uid, fhir_patient in joined.select("source_patient", "study_uid", "fhir_patient").iter_rows()
    ]
    return _frame(rows, IMAGING_FHIR_LINKS_SCHEMA)
