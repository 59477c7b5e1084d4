"""The one registry of persisted tables: each table's schema, where its files lie under a root, which asset
writes them, its key and its allowed values. Quality validates tables through it (quality.tables classifies
files against it); nothing else keeps a second list.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyarrow as pa

import schemas
from schemas.layout import PHI_ZONES, Layout


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A persisted table: its schema, where its files are, which asset writes them, and its key."""

    name: str
    schema: pa.Schema
    pattern: str  # glob relative to the root
    asset: str | Callable[[Path], str | None] | None = None  # asset key, or a function of the relative path
    shard: Callable[[Path], str | None] | None = None  # partition key of a file, for per-shard assets
    unique: tuple[str, ...] = ()  # columns that together identify a row
    in_sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    extra_columns: bool = False  # columns after the schema's are allowed (MEDS data: declared extra columns)

    @property
    def phi(self) -> bool:
        return self.pattern.split("/", 1)[0] in PHI_ZONES

    def asset_of(self, rel: Path) -> str | None:
        return self.asset(rel) if callable(self.asset) else self.asset

    def shard_of(self, rel: Path) -> str | None:
        return self.shard(rel) if self.shard else None


def _stem(rel: Path) -> str | None:
    return rel.stem if rel.stem.isdigit() else None


def _hive_shard(rel: Path) -> str | None:
    return Layout.shard_of(rel)


def any_shard(rel: Path) -> str | None:
    return _hive_shard(rel) or _stem(rel)


def _raw_asset(rel: Path) -> str | None:
    # raw/<source>/<table>/...: the asset that writes it; a source added later is checked root-wide only.
    source, table = rel.parts[1], rel.parts[2]
    owners = {"fhir": "fhir_raw", "dicom": "dicom_events" if table == "events" else "dicom_instances",
              "notes": "notes_files_raw", "tables": "tables_raw"}  # fmt: skip
    return owners.get(source)


def _ledger_asset(rel: Path) -> str:
    return rel.parts[2].removesuffix(".parquet")


def _ledger_shard(rel: Path) -> str | None:
    # quality/ledger/<asset>/<partition>.parquet belongs to that partition of the asset
    return rel.stem if len(rel.parts) == 4 else None


def _registry() -> tuple[TableSpec, ...]:
    from schemas import imaging, tokens
    from schemas.audit import PHI_FINDINGS_SCHEMA
    from schemas.ledger import LEDGER_SCHEMA
    from schemas.meds import CODES_SCHEMA, DATA_SCHEMA, SPLITS, SUBJECT_SPLITS_SCHEMA
    from schemas.quarantine import QUARANTINE_SCHEMA
    from schemas.raw import (
        RAW_CODES_SCHEMA,
        RAW_EVENTS_SCHEMA,
        RAW_PATIENTS_SCHEMA,
        RAW_RESOURCE_CONFLICTS_SCHEMA,
        RAW_RESOURCE_IDS_SCHEMA,
    )

    return (
        TableSpec("meds_data", DATA_SCHEMA, "meds/data/*/*.parquet", "meds_data", _stem, extra_columns=True),
        TableSpec("meds_codes", CODES_SCHEMA, "meds/metadata/codes.parquet", "meds_codes", unique=("code",)),
        TableSpec(
            "meds_subject_splits",
            SUBJECT_SPLITS_SCHEMA,
            "meds/metadata/subject_splits.parquet",
            "meds_subject_splits",
            unique=("subject_id",),
            in_sets={"split": SPLITS},
        ),
        TableSpec(
            "ledger",
            LEDGER_SCHEMA,
            "quality/ledger/**/*.parquet",
            _ledger_asset,
            _ledger_shard,
            unique=("asset", "source_file", "record_type"),
        ),
        TableSpec("phi_findings", PHI_FINDINGS_SCHEMA, "quality/phi_audit/*.parquet", "phi_audit"),
        TableSpec("quarantine", QUARANTINE_SCHEMA, "quarantine/**/*.parquet", lambda rel: rel.parts[1]),
        TableSpec("raw_events", RAW_EVENTS_SCHEMA, "raw/*/events/**/*.parquet", _raw_asset, _hive_shard),
        TableSpec("raw_patients", RAW_PATIENTS_SCHEMA, "raw/*/patients/**/*.parquet", _raw_asset, _hive_shard),
        TableSpec("raw_codes", RAW_CODES_SCHEMA, "raw/*/codes/**/*.parquet", _raw_asset),
        TableSpec(
            "raw_resource_ids",
            RAW_RESOURCE_IDS_SCHEMA,
            "raw/fhir/resource_ids/**/*.parquet",
            "fhir_raw",
            _hive_shard,
        ),
        TableSpec(
            "raw_resource_conflicts",
            RAW_RESOURCE_CONFLICTS_SCHEMA,
            "raw/fhir/resource_conflicts/**/*.parquet",
            "fhir_raw",
            _hive_shard,
        ),
        TableSpec(
            "raw_dicom_instances",
            imaging.RAW_DICOM_INSTANCES_SCHEMA,
            "raw/dicom/instances/**/*.parquet",
            "dicom_instances",
            _hive_shard,
        ),
        TableSpec(
            "fhir_imaging_study_uids",
            imaging.FHIR_IMAGING_STUDY_UIDS_SCHEMA,
            "raw/fhir/imaging_study_uids/**/*.parquet",
            "fhir_raw",
        ),
        TableSpec(
            "imaging_instances",
            imaging.IMAGING_INSTANCES_SCHEMA,
            "imaging/instances/*.parquet",
            "dicom_instances",
            _stem,
            unique=("sop_uid",),
        ),
        TableSpec(
            "imaging_series",
            imaging.IMAGING_SERIES_SCHEMA,
            "imaging/series/*.parquet",
            "imaging_series",
            _stem,
            unique=("series_uid",),
        ),
        TableSpec(
            "imaging_studies",
            imaging.IMAGING_STUDIES_SCHEMA,
            "imaging/studies/*.parquet",
            "imaging_studies",
            _stem,
            unique=("study_uid",),
        ),
        TableSpec(
            "imaging_fhir_links",
            imaging.IMAGING_FHIR_LINKS_SCHEMA,
            "imaging/fhir_links.parquet",
            "imaging_fhir_links",
            unique=("study_uid",),
        ),
        TableSpec(
            "token_vocabulary",
            tokens.VOCABULARY_SCHEMA,
            "tokens/vocabulary.parquet",
            "vocabulary",
            unique=("token_id",),
            in_sets={"kind": tokens.TOKEN_KINDS},
        ),
        TableSpec(
            "token_value_bins",
            tokens.VALUE_BINS_SCHEMA,
            "tokens/value_bins.parquet",
            "vocabulary",
            unique=("code",),
        ),
        TableSpec(
            "trajectories",
            tokens.TRAJECTORY_SCHEMA,
            "tokens/trajectories/*/*.parquet",
            "trajectories",
            _stem,
            unique=("subject_id",),
        ),
    )


REGISTRY: tuple[TableSpec, ...] = _registry()
BY_NAME = {spec.name: spec for spec in REGISTRY}


@cache
def known_schemas() -> dict[str, pa.Schema]:
    """Every module-level pyarrow schema in `schemas/`, by `module.NAME`."""
    found: dict[str, pa.Schema] = {}
    modules = [importlib.import_module(f"schemas.{m.name}") for m in pkgutil.iter_modules(schemas.__path__)]
    for module in modules:
        for attr, value in vars(module).items():
            if isinstance(value, pa.Schema) and not attr.startswith("_"):
                found[f"{module.__name__.rsplit('.', 1)[-1]}.{attr}"] = value
    return found
