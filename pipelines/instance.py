"""The root's own Dagster instance (`<root>/dagster/`): where CLI and UI runs and materializations are kept.

With LONGITUDE_DAGSTER_PG_URL set, runs and events are kept in that Postgres database (dagster-postgres)
instead of the root's SQLite files: the instance every step worker or pod on another machine reaches.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import ConsolidatedSqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

from schemas.atomic import write_text
from schemas.layout import Layout

_MARK = "# Written by longitude for this root; delete the line to keep your own edits.\n"
_BUSY_TIMEOUT_S = 30  # the CLI, the web server and the daemon may write at once
# A postgresql:// URL (it holds the password): dagster.yaml names the variable, never its value, and so does
# the instance reference Dagster hands every step process, which reads it from its own environment.
PG_URL_ENV = "LONGITUDE_DAGSTER_PG_URL"
# dagster-postgres installs psycopg2; SQLAlchemy 2.1 reads a bare postgresql:// URL as psycopg 3, which it does not
PG_SCHEME = "postgresql+psycopg2://"


class InstanceConfigError(Exception):
    """A one-line reason the shared instance's settings cannot work (never the URL: it holds a password)."""


def _pg_url_checked() -> None:
    url = os.environ[PG_URL_ENV]
    if not url.startswith(PG_SCHEME):
        scheme = url.split("://", 1)[0] if "://" in url else "(none)"
        raise InstanceConfigError(
            f"{PG_URL_ENV}: a URL of scheme {scheme}://; write it {PG_SCHEME}user:password@host:5432/db "
            "(the driver dagster-postgres installs)"
        )


def _dagster_yaml(home: Path, history: Path | None = None, run_launcher: dict | None = None) -> str:
    """Telemetry off: nothing reads the network at run time (README guarantee 5). No compute-log capture: it
    starts two `tail` and two Python watcher processes per run (the CLI makes one run per step), and stdout a
    library prints is not ours to vouch for as PHI-free; our logs are events, with counts and hashes only.
    One event database and one engine per process (the classes below), not a database per run; or, with
    PG_URL_ENV set, Dagster's Postgres storage. `run_launcher`: {module, class, config} of one."""
    import yaml

    history = history or home / "history"
    text = (
        f"{_MARK}telemetry:\n  enabled: false\n"
        "compute_logs:\n  module: dagster._core.storage.noop_compute_log_manager\n  class: NoOpComputeLogManager\n"
    )
    if os.environ.get(PG_URL_ENV):
        _pg_url_checked()
        text += f"storage:\n  postgres:\n    postgres_url:\n      env: {PG_URL_ENV}\n"
    else:
        text += (
            f"event_log_storage:\n  module: pipelines.instance\n  class: EventLogStorage\n"
            f"  config:\n    base_dir: {history}\n"
            f"run_storage:\n  module: pipelines.instance\n  class: RunStorage\n"
            f"  config:\n    base_dir: {history}\n"
        )
    if run_launcher:
        text += yaml.safe_dump({"run_launcher": run_launcher}, sort_keys=False)
    return text


def ensure_dagster_home(layout: Layout, run_launcher: dict | None = None) -> Path:
    """`<root>/dagster/` with our dagster.yaml (rewritten if the root moved; kept if a person edited it). With
    a `run_launcher` (`--executor k8s`: dagster-k8s needs a K8sRunLauncher), `<root>/dagster/k8s/`, whose
    instance keeps its runs in the same history (or Postgres) as the root's, so `longitude ui` shows them."""
    home = layout.dagster_home if run_launcher is None else layout.dagster_home / "k8s"
    config = home / "dagster.yaml"
    wanted = _dagster_yaml(home, layout.dagster_home / "history", run_launcher)
    current = config.read_text() if config.exists() else None
    if current != wanted and (current is None or current.startswith(_MARK)):
        write_text(wanted, config)  # atomic: a concurrent `longitude ui` never reads half a file
    if not os.environ.get(PG_URL_ENV):
        from pipelines.instance_files import ensure_databases

        ensure_databases(layout.dagster_home / "history", home / "schedules")  # a fresh root's, built aside
    return home


def root_instance(layout: Layout, run_launcher: dict | None = None) -> dg.DagsterInstance:
    """The persistent instance of this root, so `longitude ui` opens with the CLI's runs already in it."""
    return dg.DagsterInstance.from_config(str(ensure_dagster_home(layout, run_launcher)))


def _engine(conn_string: str):
    import sqlalchemy as sa

    engine = sa.create_engine(conn_string, connect_args={"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        # WAL (set by Dagster when it creates the files) with NORMAL sync: a commit no longer waits for an
        # fsync; an OS crash can lose the last commits, never corrupt the database.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class _CachedEngine:
    """Dagster's SQLite storages open an engine and a connection per statement (measured 2.4 s of writes per
    CLI step on 2 busy cores, against 0.3 s for an in-memory instance); one pooled engine per process: 0.5 s."""

    _conn_string: str

    @contextmanager
    def _pooled(self):
        if getattr(self, "_engine_pid", None) != os.getpid():  # a forked child builds its own
            self._engine_pid, self._pooled_engine = os.getpid(), _engine(self._conn_string)
        with self._pooled_engine.connect() as connection, connection.begin():
            yield connection


class EventLogStorage(_CachedEngine, ConsolidatedSqliteEventLogStorage):
    """Every run's events in one SQLite database under `dagster/history/`."""

    def _connect(self):
        return self._pooled()

    def has_table(self, table_name: str) -> bool:
        # Dagster asks before storing each check evaluation and asset event's tags, with an engine of its own
        # each time (59 engines for the bench's materialize)
        with self._pooled() as connection:
            return bool(connection.dialect.has_table(connection, table_name))


class RunStorage(_CachedEngine, SqliteRunStorage):
    """Runs in `dagster/history/runs.db`."""

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "RunStorage":
        # Dagster's builds a SqliteRunStorage whatever the class named in dagster.yaml: every run-storage query
        # then made its own engine and connection (~150 for the bench's materialize, each a WAL file made anew)
        return cls.from_local(inst_data=inst_data, **config_value)

    def connect(self):
        return self._pooled()
