"""A fresh root's Dagster databases are built aside and renamed in: the same databases Dagster makes in place,
never half a folder, and an instance Dagster made in place still opens with its runs."""

import sqlite3
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import ConsolidatedSqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage

from pipelines import instance_files
from pipelines.instance import ensure_dagster_home, root_instance
from schemas.layout import Layout
from schemas.publish import sweep


def _schema(folder: Path) -> dict[str, tuple]:
    """Per database: its DDL, journal mode, and the rows of the tables that mark its version and indexes."""
    out = {}
    for db in sorted(folder.rglob("*.db")):
        with sqlite3.connect(db) as c:
            ddl = tuple(
                sql for (sql,) in c.execute("select sql from sqlite_master where sql is not null order by 1")
            )
            marks = tuple(
                c.execute(f"select * from {t} order by 1").fetchall()
                for t in ("alembic_version", "secondary_indexes", "kvs")
                if c.execute("select 1 from sqlite_master where name = ?", (t,)).fetchone()
            )
            marks = tuple(tuple(r[:2] for r in rows) for rows in marks)  # names, not the times they were made
            out[db.relative_to(folder).as_posix()] = (ddl, c.execute("PRAGMA journal_mode").fetchone(), marks)
    return out


def test_databases_built_aside_are_the_ones_dagster_creates_in_place(tmp_path: Path):
    aside, in_place = tmp_path / "aside", tmp_path / "in_place"
    instance_files.ensure_databases(aside / "history", aside / "schedules")
    SqliteRunStorage.from_local(str(in_place / "history"))
    ConsolidatedSqliteEventLogStorage(str(in_place / "history"))
    SqliteScheduleStorage.from_local(str(in_place / "schedules"))

    built = _schema(aside)
    assert set(built) == {"history/runs.db", "history/event_log.db", "schedules/schedules.db"}
    assert built == _schema(in_place)
    assert sorted(p.name for p in aside.iterdir()) == ["history", "schedules"]  # no staging folder left


def test_a_build_that_fails_leaves_no_folder_and_the_next_one_completes(tmp_path: Path, monkeypatch):
    def broken(folder: str):
        (Path(folder) / "schedules.db").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(SqliteScheduleStorage, "from_local", broken)
    with pytest.raises(OSError, match="disk full"):
        instance_files.ensure_databases(tmp_path / "history", tmp_path / "schedules")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history"]  # schedules neither half made nor staged
    monkeypatch.undo()
    instance_files.ensure_databases(tmp_path / "history", tmp_path / "schedules")
    assert set(_schema(tmp_path)) == {"history/runs.db", "history/event_log.db", "schedules/schedules.db"}


def test_a_staging_folder_a_killed_build_left_is_swept(tmp_path: Path):
    left = tmp_path / "dagster" / ".history.staging-0a1b2c3d"
    left.mkdir(parents=True)
    (left / "runs.db").write_bytes(b"half")
    sweep(tmp_path)
    assert not left.exists()


def test_an_instance_dagster_created_in_place_still_opens_with_its_runs(tmp_path: Path):
    layout = Layout(tmp_path / "root")
    home = ensure_dagster_home(layout)  # the yaml; its databases are already built aside: make an older root's
    for folder in (home / "history", home / "schedules"):
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    with dg.DagsterInstance.from_config(str(home)) as older:  # Dagster creates them in place, as before
        assert dg.materialize([dg.asset(name="older_asset")(lambda: None)], instance=older).success
    with root_instance(layout) as instance:
        assert [r.status for r in instance.get_runs()] == [dg.DagsterRunStatus.SUCCESS]
        assert instance.get_latest_materialization_event(dg.AssetKey("older_asset")) is not None


def test_runs_reuse_the_instances_sqlite_connections(tmp_path: Path, monkeypatch):
    """Dagster's own SQLite storages open a connection (and make a WAL file anew) for every query: ~20 per run."""
    import sqlite3.dbapi2

    opened = []
    connect = sqlite3.dbapi2.connect
    monkeypatch.setattr(sqlite3.dbapi2, "connect", lambda *a, **k: opened.append(a[0]) or connect(*a, **k))

    @dg.asset
    def counted() -> None:
        return None

    @dg.asset_check(asset=counted)
    def counted_is_there() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    with root_instance(Layout(tmp_path / "root")) as instance:
        opened.clear()  # making the databases connects as Dagster does; counted from the first run on
        assert dg.materialize([counted, counted_is_there], instance=instance).success
        first = len(opened)
        for _ in range(3):
            assert dg.materialize([counted, counted_is_there], instance=instance).success
        assert len(instance.get_runs()) == 4
    assert first <= 3 and len(opened) == first  # one per database at most, and the later runs open none
