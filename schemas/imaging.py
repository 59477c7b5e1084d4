"""Imaging metadata from DICOM headers: raw instances (PHI), de-identified study/series/instance tables,
the FHIR ImagingStudy link, their paths, and DICOM quarantine reasons.

Invariants:
1. Everything under `imaging/` passed the PS3.15 Annex E profile of `deid.dicom` before it was extracted:
   subject_id is `Keyring.subject_id(source_id)`, every UID is `deid.dicom.remap_uid` of the original, every
   time is the real UTC time plus `Keyring.shift_days(source_id)` days, descriptions passed Clean Descriptors.
2. `imaging/<table>/<k>.parquet` holds the subjects of shard k (`Keyring.shard(source_id, n_shards)`), the
   same shard as their MEDS rows; `raw/dicom/{instances,patients,events}/shard=<k>/` likewise.
3. One instance row per SOP Instance UID (a second file with the same SOP Instance UID is quarantined as a
   duplicate); instances sort by (subject_id, study_uid, series_uid, instance_number, sop_uid).
4. A series row's n_instances equals its instance rows; a study row's n_series and n_instances equal its
   series rows and instance rows.
5. Every file under `landing/dicom/` is an indexed instance, a counted DICOMDIR, or a quarantine row with a
   reason code below; the ledger `quality/ledger/dicom_instances.parquet` has one row per file.
6. Times are naive UTC timestamps: local DICOM date+time minus TimezoneOffsetFromUTC when the file has one,
   taken as UTC otherwise.
"""

from pathlib import Path

import pyarrow as pa

from schemas.layout import Layout

SOURCE = "dicom"
INSTANCES_ASSET = "dicom_instances"

RAW_DICOM_INSTANCES_SCHEMA = pa.schema(
    [
        pa.field("source_patient", pa.string(), nullable=False),  # PatientID as delivered (PHI)
        pa.field("source_file", pa.string(), nullable=False),  # relative to the root
        pa.field("study_uid", pa.string(), nullable=False),  # original UIDs (PHI-adjacent: linkable)
        pa.field("series_uid", pa.string(), nullable=False),
        pa.field("sop_uid", pa.string(), nullable=False),
        pa.field("modality", pa.string(), nullable=True),
        pa.field("body_part", pa.string(), nullable=True),  # normalized BodyPartExamined
        pa.field("study_time", pa.timestamp("us"), nullable=True),  # real UTC
        pa.field("series_time", pa.timestamp("us"), nullable=True),  # real UTC
        pa.field("instance_number", pa.int64(), nullable=True),
    ]
)
"""One row per indexed instance, in the raw zone: what the events and the FHIR link need, unshifted."""

IMAGING_INSTANCES_SCHEMA = pa.schema(
    [
        pa.field("subject_id", pa.int64(), nullable=False),
        pa.field("study_uid", pa.string(), nullable=False),  # remapped 2.25.<int>
        pa.field("series_uid", pa.string(), nullable=False),
        pa.field("sop_uid", pa.string(), nullable=False),
        pa.field("sop_class_uid", pa.string(), nullable=True),  # a class, kept as is
        pa.field("modality", pa.string(), nullable=True),
        pa.field("body_part", pa.string(), nullable=True),
        pa.field("study_description", pa.string(), nullable=True),  # only if it passed Clean Descriptors
        pa.field("series_description", pa.string(), nullable=True),
        pa.field("series_number", pa.int64(), nullable=True),
        pa.field("instance_number", pa.int64(), nullable=True),
        pa.field("study_time", pa.timestamp("us"), nullable=True),  # shifted UTC
        pa.field("series_time", pa.timestamp("us"), nullable=True),  # shifted UTC
        pa.field("acquisition_time", pa.timestamp("us"), nullable=True),  # shifted UTC
        pa.field("manufacturer", pa.string(), nullable=True),
        pa.field("model", pa.string(), nullable=True),  # ManufacturerModelName
        pa.field("rows", pa.int32(), nullable=True),
        pa.field("columns", pa.int32(), nullable=True),
        pa.field("frames", pa.int32(), nullable=True),  # NumberOfFrames, 1 when absent for an image
        pa.field("slice_location", pa.float64(), nullable=True),
        pa.field("transfer_syntax_uid", pa.string(), nullable=True),
    ]
)
"""One row per de-identified instance."""

IMAGING_SERIES_SCHEMA = pa.schema(
    [
        pa.field("subject_id", pa.int64(), nullable=False),
        pa.field("study_uid", pa.string(), nullable=False),
        pa.field("series_uid", pa.string(), nullable=False),
        pa.field("modality", pa.string(), nullable=True),
        pa.field("body_part", pa.string(), nullable=True),
        pa.field("series_description", pa.string(), nullable=True),
        pa.field("series_number", pa.int64(), nullable=True),
        pa.field("series_time", pa.timestamp("us"), nullable=True),  # earliest; study time when absent
        pa.field("manufacturer", pa.string(), nullable=True),
        pa.field("model", pa.string(), nullable=True),
        pa.field("rows", pa.int32(), nullable=True),
        pa.field("columns", pa.int32(), nullable=True),
        pa.field("n_instances", pa.int64(), nullable=False),
        pa.field("n_frames", pa.int64(), nullable=False),
        pa.field("sop_uids", pa.list_(pa.string()), nullable=False),  # in instance order
    ]
)
"""One row per series; `sop_uids` lists its instances ordered by instance number."""

IMAGING_STUDIES_SCHEMA = pa.schema(
    [
        pa.field("subject_id", pa.int64(), nullable=False),
        pa.field("study_uid", pa.string(), nullable=False),
        pa.field("study_time", pa.timestamp("us"), nullable=True),
        pa.field("study_description", pa.string(), nullable=True),
        pa.field("modality", pa.string(), nullable=True),  # the modality with most instances
        pa.field("body_part", pa.string(), nullable=True),  # the body part with most instances
        pa.field("modalities", pa.list_(pa.string()), nullable=False),  # sorted, distinct
        pa.field("n_series", pa.int64(), nullable=False),
        pa.field("n_instances", pa.int64(), nullable=False),
    ]
)
"""One row per study."""


def study_uid_from_identifier(value: str | None) -> str | None:
    """A DICOM UID from a FHIR identifier value (`urn:oid:1.2.3` -> `1.2.3`); None if it is not one.

    >>> study_uid_from_identifier("urn:oid:1.2.840.99999999.1"), study_uid_from_identifier("abc")
    ('1.2.840.99999999.1', None)
    """
    if not value:
        return None
    uid = value.removeprefix("urn:oid:").strip()
    return uid if uid and all(c.isdigit() or c == "." for c in uid) else None


FHIR_IMAGING_STUDY_UIDS_SCHEMA = pa.schema(
    [
        pa.field("source_patient", pa.string(), nullable=False),  # FHIR Patient id (PHI)
        pa.field("resource_id", pa.string(), nullable=False),  # ImagingStudy.id
        pa.field("study_uid", pa.string(), nullable=False),  # identifier urn:oid:<uid>, prefix removed
        pa.field("source_file", pa.string(), nullable=False),
    ]
)
"""What the link needs from the FHIR side: one row per (ImagingStudy, study UID). Written by the FHIR ingest
under `raw/fhir/imaging_study_uids/` (any `*.parquet` below it)."""

IMAGING_FHIR_LINKS_SCHEMA = pa.schema(
    [
        pa.field("study_uid", pa.string(), nullable=False),  # remapped, as in imaging/studies
        pa.field("subject_id", pa.int64(), nullable=False),  # the DICOM side's subject
        pa.field("fhir_subject_id", pa.int64(), nullable=False),  # the FHIR side's subject
        pa.field("same_subject", pa.bool_(), nullable=False),  # False flags a PatientID/MRN mismatch
    ]
)
"""One row per DICOM study whose Study Instance UID an ImagingStudy names."""

DICOM_CHUNK_FILES_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),  # relative to the root (PHI zone: chunks/)
        pa.field("kind", pa.string(), nullable=False),  # "instance", "dicomdir" or "rejected"
        pa.field("shard", pa.int32(), nullable=True),  # an instance's shard
        pa.field("reason_code", pa.string(), nullable=True),  # a rejected file's
        pa.field("reason", pa.string(), nullable=True),
    ]
)
"""One row per file an ingest chunk of the DICOM index read, by path (`chunks/dicom_instances/<k>/files.parquet`);
its instances' raw, patient and de-identified rows follow the same order in the chunk's other tables."""

# Quarantine reason codes of the DICOM source (shared ones come from schemas.quarantine).
NOT_DICOM = "NOT_DICOM"
CORRUPT_DICOM = "CORRUPT_DICOM"
TRUNCATED_DICOM = "TRUNCATED_DICOM"
MISSING_DICOM_UID = "MISSING_DICOM_UID"
DUPLICATE_SOP_INSTANCE = "DUPLICATE_SOP_INSTANCE"
# A Study or Series Instance UID an earlier file gave to another patient (or a series to another study): a UID
# names one study or series of one patient, so the later file cannot be placed (imaging/ keys on the UIDs).
CONFLICTING_DICOM_UID = "CONFLICTING_DICOM_UID"

# Ledger record types.
RECORD_INSTANCE = "instance"
RECORD_DICOMDIR = "DICOMDIR"

IMAGING_TABLES = ("instances", "series", "studies")


def imaging_path(layout: Layout, table: str, shard: int) -> Path:
    """`imaging/<table>/<shard>.parquet`.

    >>> imaging_path(Layout(Path("/r")), "series", 2)
    PosixPath('/r/imaging/series/2.parquet')
    """
    return layout.imaging / table / f"{shard}.parquet"


def imaging_links_path(layout: Layout) -> Path:
    return layout.imaging / "fhir_links.parquet"


def raw_instances_path(layout: Layout, shard: int) -> Path:
    return layout.raw_shard(SOURCE, "instances", shard) / "part-0.parquet"


def raw_patients_path(layout: Layout, shard: int) -> Path:
    """`raw/dicom/patients/shard=<k>/part-0.parquet` in `schemas.raw.RAW_PATIENTS_SCHEMA`: one row per source
    patient (from its first file by path), so the meds asset knows the subjects of DICOM events."""
    return layout.raw_shard(SOURCE, "patients", shard) / "part-0.parquet"


def raw_events_path(layout: Layout, shard: int) -> Path:
    return layout.raw_shard(SOURCE, "events", shard) / "part-0.parquet"


def fhir_study_uids_dir(layout: Layout) -> Path:
    return layout.raw_table("fhir", "imaging_study_uids")
