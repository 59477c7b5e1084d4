"""A root's Dagster databases created aside, unsynced, and moved into `<root>/dagster/` whole by one rename."""

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from schemas.atomic import fsync_path


def ensure_databases(history: Path, schedules: Path) -> None:
    """Create the run and event databases (`history/`) and the schedule database (`schedules/`) where missing.

    Dagster creates a fresh database in place with a disk sync per statement: ~250 syncs for the three (1.5-3 s of
    waiting on the shared machine), and a process killed half-way leaves tables with no schema version, which
    Dagster then stamps with a guessed one. Here each folder is built under a hidden staging name with syncs off,
    synced once whole and renamed into place: a reader sees no folder or a complete one, and a leftover staging
    folder (`.history.staging-<hex>`) is removed by `schemas.publish.sweep`. A folder that exists, of an older
    root or made by another process first, is left to Dagster to open and migrate as before."""
    from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import (
        ConsolidatedSqliteEventLogStorage,
    )
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
    from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage

    def history_databases(folder: Path) -> None:
        SqliteRunStorage.from_local(str(folder))
        ConsolidatedSqliteEventLogStorage(str(folder))

    _build_aside(history, history_databases)
    _build_aside(schedules, lambda folder: SqliteScheduleStorage.from_local(str(folder)))


def _build_aside(target: Path, build: Callable[[Path], None]) -> None:
    if target.exists():
        return
    staging = target.with_name(f".{target.name}.staging-{uuid.uuid4().hex[:8]}")
    try:
        staging.mkdir(parents=True)
        with _unsynced(staging):
            build(staging)
        for path in (*staging.iterdir(), staging):  # every connection is closed: no -wal/-shm left
            fsync_path(path)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.exists():
                raise  # not another process's folder first: a real failure
        fsync_path(target.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _unsynced(folder: Path) -> Iterator[None]:
    """SQLite connections to databases under `folder` skip their syncs (`synchronous=OFF`) while the block runs;
    the folder is synced whole before it is published. Alembic's revision map, built from Dagster's ~90
    migration scripts for every check and stamp (six times for the three databases), is built once."""
    import sqlalchemy as sa
    from alembic.script import ScriptDirectory

    prefix = str(folder) + os.sep

    def _no_sync(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        files = [row[2] for row in cursor.execute("PRAGMA database_list")]
        if any(f and f.startswith(prefix) for f in files):
            cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    built: dict[str, ScriptDirectory] = {}
    from_config = ScriptDirectory.from_config.__func__

    def _script_once(cls, config, *args, **kwargs):
        key = config.get_main_option("script_location")
        if args or kwargs or key is None:
            return from_config(cls, config, *args, **kwargs)
        if key not in built:
            built[key] = from_config(cls, config)
        return built[key]

    sa.event.listen(sa.engine.Engine, "connect", _no_sync)
    ScriptDirectory.from_config = classmethod(_script_once)
    try:
        yield
    finally:
        ScriptDirectory.from_config = classmethod(from_config)
        sa.event.remove(sa.engine.Engine, "connect", _no_sync)
