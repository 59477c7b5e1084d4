"""Which persisted table each Parquet file under a root is, with its schema, asset and shard from the one
registry in `schemas.registry`.

The registry maps path patterns to schema objects; a file no pattern claims is matched to the `schemas/` schema
whose column names it carries (so a new stage's tables get column, type and null checks without an entry
here), and is reported as unregistered when none fits.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyarrow as pa

from quality import reuse
from schemas.publish import locate_under, matches
from schemas.registry import BY_NAME, REGISTRY, TableSpec, any_shard, known_schemas

__all__ = [
    "BY_NAME",
    "REGISTRY",
    "Inventory",
    "TableFile",
    "TableSpec",
    "infer_schema",
    "inventory",
    "known_schemas",
]


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
    """Find and classify every Parquet file under the root (once per root inside `quality.reuse.sharing`: the
    checks of one asset share it)."""
    root = Path(root)
    return reuse.once(("inventory", root), lambda: _inventory(root))


def _inventory(root: Path) -> Inventory:
    claimed: dict[Path, TableFile] = {}
    # Through manifests (no staging, no old version); a MEDS set mid-build as staged, so a shard's checks
    # check the shard that will be published (schemas.publish.pending_files).
    # chunks/ is left out: an ingest chunk's files are the same files (hard links) as the raw/ data gathered
    # from them, or the rows it was merged from (pipelines.defs.chunks), checked there.
    published = locate_under(root, skip=("landing", "chunks"), pending=True)
    # Each file once, claimed by the first registry entry that matches it (a check calls this per asset and
    # shard: spec x file with a path made per pair was most of a MEDS shard's check time).
    for logical, path in published.items():
        if path in claimed or path.name.startswith("."):
            continue
        rel = logical.relative_to(root)
        posix = rel.as_posix()
        spec = _registered(posix)
        if spec is not None:
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
        match = infer_schema(_column_names(path))
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


@lru_cache(maxsize=1 << 16)  # checks call `inventory` per asset and shard: the same paths every time
def _registered(posix: str) -> TableSpec | None:
    """The first registry entry whose pattern matches a root-relative path."""
    return next((spec for spec in REGISTRY if matches(spec.pattern, posix)), None)


def _column_names(path: Path) -> list[str]:
    """A Parquet file's column names, read once per version of the file (a publish or an atomic write makes
    a new file: another inode and mtime)."""
    st = path.stat()
    return list(_read_names(str(path), st.st_ino, st.st_size, st.st_mtime_ns))


@lru_cache(maxsize=1 << 16)
def _read_names(path: str, inode: int, size: int, mtime_ns: int) -> tuple[str, ...]:
    import pyarrow.parquet as pq

    return tuple(pq.read_schema(path).names)


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
    return any_shard(rel)


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
