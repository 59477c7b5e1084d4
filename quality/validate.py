"""Which suites apply to a root (or to one asset and partition of it), and running them with an engine."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from quality import engine, reuse
from quality.engine import Outcome, View
from quality.expectations import (
    Suite,
    codes_coverage_suite,
    ledger_suite,
    meds_plausibility_suite,
    schema_suite,
    subject_locations_suite,
)
from quality.tables import Inventory, TableFile, inventory
from schemas.layout import Layout
from schemas.meds import DATA_SCHEMA


@dataclass(frozen=True, slots=True)
class Job:
    """A suite, the view it runs on (loaded lazily), and where its outcome belongs."""

    suite: Suite
    load: Callable[[], View]
    asset: str | None
    partition: str | None
    load_all: Callable[[], View] | None = None  # every column (the GX engine checks columns on the data)


def _table_view(files: list[TableFile], suite: Suite) -> Callable[[], View]:
    # PHI-zone tables carry file and row so a failure can say where, with no value
    root = files[0].path.parents[len(files[0].rel.parts) - 1] if suite.phi and files else None
    return lambda: engine.read_table([f.path for f in files], engine.columns_needed(suite), locate=root)


def plan(
    root: Path,
    *,
    asset: str | None = None,
    partition: str | None = None,
    inv: Inventory | None = None,
    now: datetime | None = None,
    fallback_dir: str | None = None,
) -> list[Job]:
    """Every job for the root; with `asset` (and `partition`), only those whose outcome belongs to it. An asset
    the registry names no table for gets the tables matched by columns under `fallback_dir` (its stage's
    folder, e.g. `notes`), so a new stage's tables are checked before anyone registers them."""
    layout = Layout(Path(root))
    inv = inv or inventory(layout.root)
    jobs: list[Job] = []
    groups: dict[tuple[str, str | None, str | None], list[TableFile]] = {}
    for f in inv.files:
        groups.setdefault((f.spec.name, f.asset, f.shard), []).append(f)
    for (_, owner, shard), files in groups.items():
        if (
            owner is None
            and fallback_dir is not None
            and asset is not None
            and files[0].rel.parts[0] == fallback_dir
        ):
            owner = asset
        suite = schema_suite(files[0].spec)
        paths = [f.path for f in files]
        jobs.append(Job(suite, _table_view(files, suite), owner, shard, lambda p=paths: engine.read_table(p)))
        if files[0].spec.name == "ledger":
            jobs.append(Job(ledger_suite(), _ledger_view(files), owner, shard))
    meds_files = inv.of("meds_data")
    for shard in sorted({f.shard for f in meds_files}, key=str):
        paths = [f.path for f in meds_files if f.shard == shard]
        jobs.append(Job(meds_plausibility_suite(now), _timeline_view(paths), "meds_data", shard))
    if meds_files:
        data = [f.path for f in meds_files]
        splits = layout.meds_subject_splits
        jobs.append(
            Job(
                subject_locations_suite(),
                lambda: View(engine.subject_locations(data, splits)),
                "meds_subject_splits",
                None,
            )
        )
        codes = layout.meds_codes
        jobs.append(
            Job(codes_coverage_suite(), lambda: View(engine.codes_coverage(data, codes)), "meds_codes", None)
        )
    if asset is not None:
        jobs = [j for j in jobs if j.asset == asset and (partition is None or j.partition in (partition, None))]
    return jobs


def _ledger_view(files: list[TableFile]) -> Callable[[], View]:
    return lambda: View(engine.ledger_balance(engine.read_table([f.path for f in files]).frame))


def _timeline_view(paths: list[Path]) -> Callable[[], View]:
    # every MEDS column, null where a file lacks it (the schema suite reports the missing column); a shard's
    # conformance and plausibility checks both use it: read once when they run together (quality.reuse)
    def load() -> View:
        return View(engine.meds_timeline(engine.read_table(paths, DATA_SCHEMA.names).frame))

    return lambda: reuse.once(("timeline", tuple(paths)), load)


def validate(
    root: Path,
    *,
    asset: str | None = None,
    partition: str | None = None,
    jobs: list[Job] | None = None,
    fallback_dir: str | None = None,
    severity: str | None = None,
) -> list[Outcome]:
    """Run the polars engine over every planned job (only expectations of `severity`, when given)."""
    outcomes: list[Outcome] = []
    if jobs is None:
        jobs = plan(root, asset=asset, partition=partition, fallback_dir=fallback_dir)
    for job in jobs:
        suite = job.suite
        if severity is not None:
            suite = replace(suite, expectations=tuple(e for e in suite.expectations if e.severity == severity))
            if not suite.expectations:
                continue
        outcomes += engine.evaluate(suite, job.load(), job.partition)
    return outcomes


def validate_gx(
    jobs: list[Job], docs_dir: Path | None = None, *, include_phi: bool = False, progress: bool = False
) -> list[Outcome]:
    """Run the jobs' suites with Great Expectations (and build its Data Docs into `docs_dir`).

    GX costs ~30 ms per expectation and run, so the partitions of a table are validated together (one Data
    Docs page per table and asset) and PHI-zone tables are left to the polars engine unless asked for."""
    import polars as pl

    from quality.gx_docs import run_gx

    merged: dict[tuple[str, str | None], list[Job]] = {}
    for j in jobs:
        if include_phi or not j.suite.phi:
            merged.setdefault((j.suite.name, j.asset), []).append(j)
    runs = []
    for (name, asset), group in merged.items():
        suite = group[0].suite
        views = [(j.load_all or j.load)() for j in group]
        frame = pl.concat([v.frame for v in views], how="diagonal_relaxed")
        label = name + (f".{asset}" if asset and asset != suite.table else "")
        runs.append((label, suite, View(frame, [s for v in views for s in v.file_schemas]), None))
    return run_gx(runs, docs_dir, progress=progress)
