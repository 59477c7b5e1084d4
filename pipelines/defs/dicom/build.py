"""What the DICOM assets do, as plain functions of Settings (no Dagster): read, transform, write atomically."""

from pathlib import Path

import polars as pl

from pipelines.defs import chunks as ch
from pipelines.defs.crosswalk import identifier_crosswalk
from pipelines.defs.dicom import chunks as dch
from pipelines.defs.dicom import transforms
from pipelines.defs.dicom.index import FileResult, IndexResult, index_files, reject_duplicates, scan
from pipelines.ledger import write_ledger
from pipelines.settings import Settings
from schemas.imaging import (
    FHIR_IMAGING_STUDY_UIDS_SCHEMA,
    IMAGING_FHIR_LINKS_SCHEMA,
    IMAGING_INSTANCES_SCHEMA,
    IMAGING_SERIES_SCHEMA,
    IMAGING_STUDIES_SCHEMA,
    INSTANCES_ASSET,
    RAW_DICOM_INSTANCES_SCHEMA,
    RECORD_DICOMDIR,
    RECORD_INSTANCE,
    fhir_study_uids_dir,
    imaging_links_path,
    imaging_path,
    raw_events_path,
    raw_instances_path,
    raw_patients_path,
)
from schemas.io import write_parquet
from schemas.layout import shard_dir
from schemas.publish import dataset_files, publishing
from schemas.quarantine import QUARANTINE_SCHEMA
from schemas.raw import RAW_EVENTS_SCHEMA, RAW_PATIENTS_SCHEMA


def build_instances(settings: Settings, *, workers: int = 1, chunk: int | None = None, n_chunks: int = 1) -> dict:
    """Index chunk `chunk` of `n_chunks` of landing/dicom/ into its dataset (unless its published one is current)
    and, when every chunk is current, gather the index: every shard's raw instances and patients, imaging
    instances, quarantine and ledger. `chunk=None`: every chunk, one after another; the summary is then the
    whole landing's, as one parse.

    Returns counts only (Dagster metadata): no value from any file.
    """
    if chunk is None:
        for k in range(n_chunks):
            build_instances(settings, workers=workers, chunk=k, n_chunks=n_chunks)
        return index_summary(settings.layout)
    layout = settings.layout
    landing = scan(layout.root, layout.landing_dicom)
    # PatientID usually holds the MRN: map it to the patient id the other sources use, so one person is one
    # subject with one date shift across FHIR, tables and imaging.
    crosswalk = identifier_crosswalk(layout)
    plans = dch.plan_chunks(layout.root, landing.files, crosswalk, settings.secret, settings.n_shards, n_chunks)
    plan, final = plans[chunk], layout.ingest_chunk(INSTANCES_ASSET, chunk)
    reused = ch.is_current(final, plan)
    if not reused:
        result = index_files(list(plan.files), layout.root, settings.secret, settings.n_shards, workers=workers,
                             crosswalk=crosswalk)  # fmt: skip
        with publishing(final, sync=True) as stage:
            dch.stage_rows(stage, result.files)
            ch.write_chunk_meta(stage, plan)

    def publish_set(finals: list[Path]) -> None:
        files = sorted((f for final in finals for f in dch.read_rows(final)), key=lambda f: f.source_file)
        result = IndexResult(files=reject_duplicates(files))  # the first file of a SOP instance wins, by path
        # Paths not read (symlinked outside the root, broken, a second route to a file) are rejected files.
        result.files.extend(
            FileResult(s.rel, "rejected", reason_code=s.reason_code, reason=s.reason) for s in landing.skipped
        )
        write_index(settings, result, set(crosswalk.values()))

    record = {"skipped": sorted([s.rel, s.reason_code] for s in landing.skipped)}
    outputs = [_raw_dicom(layout), layout.imaging, layout.quarantine(INSTANCES_ASSET)]
    gathered = ch.gather(layout, INSTANCES_ASSET, plans, record, outputs, publish_set)
    kinds = dch.outcome_counts(final)
    return {
        "chunk": chunk,
        "chunks": n_chunks,
        "reused": reused,  # the chunk's files were unchanged: its published index was kept
        "gathered": "pending" if gathered is None else ("published" if gathered.published else "unchanged"),
        "files": sum(kinds.values()),
        "instances": kinds["instance"],  # a SOP instance also in another chunk's files: decided by the gather
        "dicomdirs": kinds["dicomdir"],
        "quarantined": kinds["rejected"],
    }


def write_index(settings: Settings, result: IndexResult, linked: set[str]) -> None:
    """Publish the index of the whole landing: raw/dicom/{instances,patients}, imaging/instances, the
    quarantine, then the ledger. `linked`: the source patients another source knows (their record stands)."""
    layout = settings.layout
    raw_all = []
    # raw/dicom/{instances,patients} and imaging/instances are this asset's; events and rollups are kept.
    with publishing(_raw_dicom(layout), keep_except=["instances/**", "patients/**"]) as raw_stage:
        for shard in range(settings.n_shards):
            raw = transforms.raw_instances(result, shard)
            raw_all.append(raw)
            write_parquet(raw.to_arrow(), raw_stage.path(raw_instances_path(layout, shard)),
                          RAW_DICOM_INSTANCES_SCHEMA)  # fmt: skip
            # Patients known to another source keep that source's record (birth date, identity) only.
            patients = transforms.raw_patients(result, shard).filter(~pl.col("source_patient").is_in(list(linked)))
            write_parquet(
                patients.to_arrow(), raw_stage.path(raw_patients_path(layout, shard)), RAW_PATIENTS_SCHEMA
            )
    with publishing(layout.imaging, keep_except=["instances/**"]) as stage:
        for shard in range(settings.n_shards):
            inst = transforms.imaging_instances(result, shard)
            path = stage.path(imaging_path(layout, "instances", shard))
            write_parquet(inst.to_arrow(), path, IMAGING_INSTANCES_SCHEMA)
    events = transforms.events_table(pl.concat(raw_all), settings.secret)
    with publishing(layout.quarantine(INSTANCES_ASSET)) as stage:
        quarantine = transforms.quarantine_table(result)
        write_parquet(quarantine.to_arrow(), stage.path("part-0.parquet"), QUARANTINE_SCHEMA)
    ledger = transforms.ledger_table(result, events)
    write_ledger(ledger, layout.ledger(INSTANCES_ASSET), layout, settings.keyring)


def index_summary(layout) -> dict:
    """Counts of the published index (files, instances, DICOMDIRs, quarantined by reason, events): from its
    ledger and quarantine, so a set gathered earlier is summarized without parsing."""
    ledger = pl.read_parquet(layout.ledger(INSTANCES_ASSET))
    parts = dataset_files(layout.quarantine(INSTANCES_ASSET), "*.parquet")
    quarantine = pl.read_parquet(parts) if parts else pl.from_arrow(QUARANTINE_SCHEMA.empty_table())
    reasons = quarantine.group_by("reason_code").len().sort("reason_code").iter_rows()
    kept = ledger.filter(pl.col("n_out") > 0)
    return {
        "files": ledger.height,
        "instances": kept.filter(pl.col("record_type") == RECORD_INSTANCE).height,
        "dicomdirs": kept.filter(pl.col("record_type") == RECORD_DICOMDIR).height,
        "quarantined": int(ledger["n_quarantined"].sum()),
        "events": int(ledger["n_events"].sum()),
        **{f"quarantined_{code}": n for code, n in reasons},
    }


def _raw_dicom(layout) -> Path:
    return raw_instances_path(layout, 0).parents[2]  # raw/dicom: the dataset that holds the shard folders


def _read(path: Path, schema) -> pl.DataFrame:
    if not path.exists():
        return pl.from_arrow(schema.empty_table())
    return pl.read_parquet(path)


def build_events(settings: Settings, shard: int) -> dict:
    """raw/dicom/events/shard=<k>/part-0.parquet from the shard's raw instances."""
    layout = settings.layout
    raw = _read(raw_instances_path(layout, shard), RAW_DICOM_INSTANCES_SCHEMA)
    # A study that a FHIR ImagingStudy already put on the timeline is not added a second time.
    fhir_uids = _fhir_study_uids(layout)["study_uid"].unique()
    in_fhir = raw.filter(pl.col("study_uid").is_in(fhir_uids.implode()))
    raw = raw.filter(~pl.col("study_uid").is_in(fhir_uids.implode()))
    events = transforms.events_table(raw, settings.secret)
    with publishing(_raw_dicom(layout), keep_except=[f"events/{shard_dir(shard)}/**"]) as stage:
        write_parquet(events.to_arrow(), stage.path(raw_events_path(layout, shard)), RAW_EVENTS_SCHEMA)
    return {"events": events.height, "studies": raw["study_uid"].n_unique(), "instances": raw.height,
            "studies_already_in_fhir": in_fhir["study_uid"].n_unique()}  # fmt: skip


def build_rollup(settings: Settings, shard: int, table: str) -> dict:
    """imaging/series/<k>.parquet or imaging/studies/<k>.parquet from the shard's de-identified instances."""
    layout = settings.layout
    inst = _read(imaging_path(layout, "instances", shard), IMAGING_INSTANCES_SCHEMA)
    if table == "series":
        out, schema = transforms.series_table(inst), IMAGING_SERIES_SCHEMA
    else:
        out, schema = transforms.studies_table(inst), IMAGING_STUDIES_SCHEMA
    with publishing(layout.imaging, keep_except=[f"{table}/{shard}.parquet"]) as stage:
        write_parquet(out.to_arrow(), stage.path(imaging_path(layout, table, shard)), schema)
    return {"rows": out.height, "instances": inst.height}


def _fhir_study_uids(layout) -> pl.DataFrame:
    fhir_dir = fhir_study_uids_dir(layout)
    fhir = layout.raw / fhir_dir.relative_to(layout.raw).parts[0]  # the FHIR source's dataset
    parts = dataset_files(fhir, f"{fhir_dir.relative_to(fhir).as_posix()}/**/*.parquet")
    if not parts:
        return pl.from_arrow(FHIR_IMAGING_STUDY_UIDS_SCHEMA.empty_table())
    return pl.concat([pl.read_parquet(p).select(FHIR_IMAGING_STUDY_UIDS_SCHEMA.names) for p in parts])


def build_links(settings: Settings) -> dict:
    """imaging/fhir_links.parquet: raw DICOM studies joined to the FHIR ingest's study-UID table, if any."""
    layout = settings.layout
    raw = pl.concat(
        [_read(raw_instances_path(layout, k), RAW_DICOM_INSTANCES_SCHEMA) for k in range(settings.n_shards)]
    )
    fhir = _fhir_study_uids(layout)
    links = transforms.fhir_links(raw, fhir, settings.keyring)
    with publishing(layout.imaging, keep_except=[imaging_links_path(layout).name]) as stage:
        write_parquet(links.to_arrow(), stage.path(imaging_links_path(layout)), IMAGING_FHIR_LINKS_SCHEMA)
    return {
        "dicom_studies": raw["study_uid"].n_unique(),
        "fhir_study_uids": fhir.height,
        "linked": links.height,
        "subject_mismatches": int((~links["same_subject"]).sum()) if links.height else 0,
        "fhir_table_present": fhir.height > 0,
    }
