"""Where each table lives under the root: the storage layout of docs/design.md, as code.

Invariants:
1. Only `landing/`, `raw/`, `quarantine/` and `chunks/` hold PHI (`dagster/` holds run records whose logs and
   metadata carry counts, hashes and paths only).
2. MEDS data shards are `meds/data/<split>/<shard>.parquet`; shard numbers are shared across splits.
"""

from dataclasses import dataclass
from pathlib import Path

PHI_ZONES = ("landing", "raw", "quarantine", "chunks")
# Raw tables are hive-partitioned by shard: raw/<source>/<table>/shard=<k>/part-<n>.parquet.
SHARD_PREFIX = "shard="


def shard_dir(shard: int | str) -> str:
    """The folder name of shard k inside a raw table."""
    return f"{SHARD_PREFIX}{shard}"


# Ingest chunk partitions are keyed `c<k>`, not `<k>`: never mistaken for (or grouped with) shard k.
CHUNK_PREFIX = "c"


def is_chunk_key(key: str | int) -> bool:
    """Whether a partition key names an ingest chunk (`c3`), not a shard (`3`)."""
    key = str(key)
    return key.startswith(CHUNK_PREFIX) and key[len(CHUNK_PREFIX) :].isdigit()


def partition_label(key: str | int) -> str:
    """How a partition is named to a user: an ingest chunk or a shard.

    >>> partition_label("c0"), partition_label("3")
    ('chunk c0', 'shard 3')
    """
    return f"{'chunk' if is_chunk_key(key) else 'shard'} {key}"


@dataclass(frozen=True, slots=True)
class Layout:
    """Paths under one root directory.

    >>> Layout(Path("/data")).meds_shard("train", 3)
    PosixPath('/data/meds/data/train/3.parquet')
    """

    root: Path

    @property
    def store_url(self) -> str | None:
        """The object-store root (`s3://bucket/prefix`) this local root is a run's working copy of, else None:
        steps read and write `root` either way; schemas.working_copy moves it to and from the store."""
        from schemas.working_copy import store_url_of

        return store_url_of(self.root)

    # landing/ (PHI): files as delivered
    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def landing_fhir(self) -> Path:
        return self.landing / "fhir"

    @property
    def landing_dicom(self) -> Path:
        return self.landing / "dicom"

    @property
    def landing_notes(self) -> Path:
        return self.landing / "notes"

    def landing_tables(self, source: str) -> Path:
        return self.landing / "tables" / source

    # raw/ (PHI): parsed per-source tables
    @property
    def raw(self) -> Path:
        return self.root / "raw"

    def raw_table(self, source: str, table: str) -> Path:
        """`raw/<source>/<table>/`: `shard=<k>/part-<n>.parquet` files, or `part-<n>.parquet` if unsharded.

        Every source (fhir, tables/<name>, dicom, notes) writes `events` and `patients` here in the
        schemas of `schemas.raw`; the meds asset reads all sources' shard k together.
        """
        return self.raw / source / table

    def raw_shard(self, source: str, table: str, shard: int) -> Path:
        return self.raw_table(source, table) / shard_dir(shard)

    @staticmethod
    def source_shard_part(source_dir: Path, table: str, shard: int, part: str = "00000") -> Path:
        """`<source_dir>/<table>/shard=<k>/part-<part>.parquet`: one file of a raw source's shard.

        `source_dir` is `raw/<source>/` itself or the staging folder of a version being published there.

        >>> Layout.source_shard_part(Path("/s"), "events", 2)
        PosixPath('/s/events/shard=2/part-00000.parquet')
        """
        return source_dir / table / shard_dir(shard) / f"part-{part}.parquet"

    @staticmethod
    def raw_shard_pattern(table: str, shard: int | str, *, any_source: bool = True) -> str:
        """Manifest pattern (schemas.publish) for shard k of `table` (`"*"`: every shard): of every source under
        raw/, or relative to one source's folder.

        >>> Layout.raw_shard_pattern("events", 3)
        '**/events/shard=3/*.parquet'
        """
        rel = f"{table}/{shard_dir(shard)}/*.parquet"
        return f"**/{rel}" if any_source else rel

    @staticmethod
    def shard_of(rel: Path) -> str | None:
        """The shard a raw file belongs to, from its `shard=<k>` folder; None for unsharded files.

        >>> Layout.shard_of(Path("fhir/events/shard=3/part-00000.parquet"))
        '3'
        """
        for part in rel.parts:
            if part.startswith(SHARD_PREFIX):
                return part.removeprefix(SHARD_PREFIX)
        return None

    def quarantine(self, asset: str) -> Path:
        return self.root / "quarantine" / asset

    # chunks/ (PHI): an ingest chunk's parse, published on its own; the gather links every chunk's into raw/
    @property
    def chunks(self) -> Path:
        return self.root / "chunks"

    def ingest_chunk(self, asset: str, chunk: int) -> Path:
        """`chunks/<asset>/<k>`: the dataset chunk k of an ingest publishes (raw parts, quarantine, ledger)."""
        return self.chunks / asset / str(chunk)

    # meds/: the de-identified MEDS dataset
    @property
    def meds(self) -> Path:
        return self.root / "meds"

    def meds_shard(self, split: str, shard: int) -> Path:
        return self.meds / "data" / split / f"{shard}.parquet"

    @property
    def meds_data_glob(self) -> str:
        return str(self.meds / "data" / "*" / "*.parquet")

    @property
    def meds_codes(self) -> Path:
        return self.meds / "metadata" / "codes.parquet"

    @property
    def meds_subject_splits(self) -> Path:
        return self.meds / "metadata" / "subject_splits.parquet"

    @property
    def meds_dataset_json(self) -> Path:
        return self.meds / "metadata" / "dataset.json"

    # everything downstream
    @property
    def notes(self) -> Path:
        return self.root / "notes"

    @property
    def imaging(self) -> Path:
        return self.root / "imaging"

    @property
    def tokens(self) -> Path:
        return self.root / "tokens"

    @property
    def features(self) -> Path:
        return self.root / "features"

    @property
    def quality(self) -> Path:
        return self.root / "quality"

    def unmapped(self, asset: str) -> Path:
        """`quality/unmapped/<asset>.parquet`: landing files no rule reads and codes no rule recognized."""
        return self.quality / "unmapped" / f"{asset}.parquet"

    def ledger(self, asset: str, partition: str | None = None) -> Path:
        """`quality/ledger/<asset>.parquet`, or `quality/ledger/<asset>/<partition>.parquet` per partition."""
        base = self.quality / "ledger"
        return base / f"{asset}.parquet" if partition is None else base / asset / f"{partition}.parquet"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def dagster_home(self) -> Path:
        """`dagster/`: the root's Dagster instance (DAGSTER_HOME): runs, event logs, schedules; no PHI."""
        return self.root / "dagster"
