"""Which persisted table each Parquet file under a root is, with its schema from `schemas/`, asset and shard.

A registry maps path patterns to schema objects; a file no pattern claims is matched to the `schemas/` schema
whose column names it carries (so a new stage's tables get column, type and null checks without an entry
here), and is reported as unregistered when none fits.
"""

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyarrow as pa

import schemas
from schemas.layout import PHI_ZONES, Layout
from schemas.publish import locate_under, matches


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


def _any_shard(rel: Path) -> str | None:
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
    from quality.records import PHI_FINDINGS_SCHEMA
    from schemas import imaging, tokens
    from schemas.ledger import LEDGER_SCHEMA
    from schemas.meds import CODES_SCHEMA, DATA_SCHEMA, SPLITS, SUBJECT_SPLITS_SCHEMA
    from schemas.quarantine import QUARANTINE_SCHEMA
    from schemas.raw import RAW_CODES_SCHEMA, RAW_EVENTS_SCHEMA, RAW_PATIENTS_SCHEMA

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
    """Every module-level pyarrow schema in `schemas/` (and quality's own), by `module.NAME`."""
    found: dict[str, pa.Schema] = {}
    modules = [importlib.import_module(f"schemas.{m.name}") for m in pkgutil.iter_modules(schemas.__path__)]
    modules.append(importlib.import_module("quality.records"))
    for module in modules:
        for attr, value in vars(module).items():
            if isinstance(value, pa.Schema) and not attr.startswith("_"):
                found[f"{module.__name__.rsplit('.', 1)[-1]}.{attr}"] = value
    return found


def infer_schema(columns: list[str]) -> tuple[str, pa.Schema] | None:
    """The known schema whose column names best match a file's (at least 80% of both sides in common)."""
    have = set(columns)
    best, score = None, 0.0
    for name, schema in known_schemas().items():
        want = set(schema.names)
        common = len(have & want)
        s = min(common / len(want), common / max(len(have), 1))
        if s > score:
            best, score = (name, schema), s
    return best if score >= 0.8 else None


@dataclass(frozen=True, slots=True)
class TableFile:
    """One Parquet file of a table."""

    spec: TableSpec
    path: Path
    rel: Path
    inferred: bool = False  # matched by column names, not by the registry

    @property
    def asset(self) -> str | None:
        return self.spec.asset_of(self.rel)

    @property
    def shard(self) -> str | None:
        return self.spec.shard_of(self.rel)


@dataclass(slots=True)
class Inventory:
    """Every Parquet file under a root (except landing/), by table."""

    files: list[TableFile]
    unregistered: list[Path]  # files whose columns match no known schema
    artifacts: list[Path] = field(default_factory=list)  # model and feature outputs: checked by their own checks

    def of(self, name: str, shard: str | None = None) -> list[TableFile]:
        return [f for f in self.files if f.spec.name == name and (shard is None or f.shard == shard)]

    def for_asset(self, asset: str, shard: str | None = None) -> list[TableFile]:
        return [f for f in self.files if f.asset == asset and (shard is None or f.shard in (shard, None))]

    def tables(self) -> list[str]:
        return sorted({f.spec.name for f in self.files})


def inventory(root: Path) -> Inventory:
    """Find and classify every Parquet file under the root."""
    import pyarrow.parquet as pq

    root = Path(root)
    claimed: dict[Path, TableFile] = {}
    # Through manifests (no staging, no old version); a MEDS set mid-build as staged, so a shard's checks
    # check the shard that will be published (schemas.publish.pending_files).
    published = locate_under(root, skip=("landing",), pending=True)
    for spec in REGISTRY:
        for logical, path in published.items():
            rel = logical.relative_to(root)
            if path not in claimed and matches(spec.pattern, rel.as_posix()) and not path.name.startswith("."):
                claimed[path] = TableFile(spec, path, rel)
    unregistered: list[Path] = []
    artifacts: list[Path] = []
    dir_schema: dict[tuple[Path, str], str] = {}  # (folder, schema) -> table name, so one folder never mixes two
    for logical, path in published.items():
        rel = logical.relative_to(root)
        if path.suffix != ".parquet" or path in claimed or path.name.startswith("."):
            continue
        if rel.as_posix().startswith(CHECK_STORE_PREFIX):
            continue  # the check results themselves: written only through their schema (quality.check_store)
        if is_artifact(rel):
            artifacts.append(rel)
            continue
        match = infer_schema(pq.read_schema(path).names)
        if match is None:
            unregistered.append(rel)
            continue
        name, schema = match
        folder = re.sub(r"[^a-z0-9]+", "_", str(rel.parent).lower()).strip("_") or name
        taken = {t for (d, _), t in dir_schema.items() if d == rel.parent}
        table = dir_schema.setdefault(
            (rel.parent, name), folder if not taken else f"{folder}_{name.split('.')[-1].lower()}"
        )
        spec = TableSpec(table, schema, str(rel.parent / "*.parquet"), _inferred_owner, _inferred_shard)
        claimed[path] = TableFile(spec, path, rel, True)
    return Inventory(sorted(claimed.values(), key=lambda f: str(f.rel)), unregistered, artifacts)


def _inferred_owner(rel: Path) -> str | None:
    """The asset that writes a table found by its columns, from where it lies (None: the caller's stage folder
    decides; see quality.validate.plan). Without this every asset of a stage would claim all its folder's tables.

    >>> _inferred_owner(Path("features/labels/mortality_1y/0.parquet"))
    'labels_mortality_1y'
    >>> _inferred_owner(Path("notes/train/1.parquet"))
    'notes_deidentified'
    >>> _inferred_owner(Path("raw/_file_labels/meds_data__2.parquet"))
    'meds_data'
    """
    parts = rel.parts
    if parts[:2] in (("features", "labels"), ("features", "labels_by_split")) and len(parts) >= 4:
        return f"labels_{parts[2]}"
    if parts[:2] == ("quality", "unmapped"):
        return rel.stem
    if parts[:2] == ("features", "online"):
        return "online_features"
    if parts[0] == "notes":
        return "notes_deidentified"
    if parts[:2] == ("raw", "notes"):
        return "notes_files_raw"
    if parts[:2] == ("raw", "fhir"):
        return "fhir_raw"
    if parts[:2] == ("raw", "_file_labels"):
        return rel.stem.split("__")[0]
    return None


def _inferred_shard(rel: Path) -> str | None:
    if rel.parts[:2] == ("raw", "_file_labels"):
        return rel.stem.split("__")[1] if "__" in rel.stem else None
    return _any_shard(rel)


# Outputs that are not data tables with one schema: a model run's files (its tokenizer copy, checked by
# timeline_model_tokenizer_intact) and wide feature tables, whose columns depend on the feature spec (checked
# by features_match_reference against the plain-Python reference).
ARTIFACT_PREFIXES = ("models/", "features/tables/")
CHECK_STORE_PREFIX = "quality/checks/"


def is_artifact(rel: Path) -> bool:
    """A model or feature output, not a table a schema in schemas/ describes.

    >>> is_artifact(Path("models/tiny/tokenizer/vocabulary.parquet"))
    True
    >>> is_artifact(Path("meds/data/train/0.parquet"))
    False
    """
    return rel.as_posix().startswith(ARTIFACT_PREFIXES)
