"""The local online store: one SQLite file (stdlib sqlite3, WAL), per-subject values keyed by (version, subject).

Readers take one read transaction for the pointer and the values, so WAL's snapshot gives them one version
whole; the pointer moves in its own write transaction after every value of the new version is committed.
Each thread has its own connection (sqlite3 connections are not shared between threads).
"""

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from featurestore.online_backend import Snapshot, StoreError, new_version

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY, spec TEXT NOT NULL, version TEXT NOT NULL UNIQUE, compiled TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS current (spec TEXT PRIMARY KEY, version_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS subjects (
    version_id INTEGER NOT NULL, subject_id INTEGER NOT NULL, state BLOB NOT NULL,
    PRIMARY KEY (version_id, subject_id)) WITHOUT ROWID;
"""
_CHUNK = 500  # subject ids per IN (...) query, far below SQLite's bound on host parameters


class SqliteBackend:
    """The online store in a SQLite file (created with its folder on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as conn:
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.Error as err:
                raise StoreError(f"online store {self.path} cannot be opened ({type(err).__name__})") from None
            self._local.conn = conn
        return conn

    def begin(self, spec: str, compiled: str) -> str:
        version = new_version()
        self._conn().execute(
            "INSERT INTO versions (spec, version, compiled) VALUES (?, ?, ?)", (spec, version, compiled)
        )
        return version

    def _version_id(self, conn: sqlite3.Connection, spec: str, version: str) -> int:
        row = conn.execute("SELECT id FROM versions WHERE spec = ? AND version = ?", (spec, version)).fetchone()
        if row is None:
            raise StoreError(f"online store {self.path}: no version {version} of spec {spec!r}")
        return row[0]

    def put_many(self, spec: str, version: str, values: Mapping[int, bytes]) -> None:
        conn = self._conn()
        vid = self._version_id(conn, spec, version)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO subjects (version_id, subject_id, state) VALUES (?, ?, ?)",
                ((vid, int(s), v) for s, v in values.items()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def publish(self, spec: str, version: str, expected: int) -> None:
        conn = self._conn()
        vid = self._version_id(conn, spec, version)
        conn.execute("BEGIN IMMEDIATE")
        try:
            (stored,) = conn.execute("SELECT count(*) FROM subjects WHERE version_id = ?", (vid,)).fetchone()
            if stored != expected:
                raise StoreError(
                    f"online store {self.path}: version {version} of {spec!r} holds {stored} subjects, "
                    f"expected {expected}; not published"
                )
            previous = conn.execute("SELECT version_id FROM current WHERE spec = ?", (spec,)).fetchone()
            conn.execute("INSERT OR REPLACE INTO current (spec, version_id) VALUES (?, ?)", (spec, vid))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        # Readers already inside a read transaction keep their snapshot; the previous version stays for one
        # more publish so a reader's pointer never names a dropped version.
        keep = {vid} | ({previous[0]} if previous else set())
        old = [
            r[0]
            for r in conn.execute("SELECT id FROM versions WHERE spec = ?", (spec,)).fetchall()
            if r[0] not in keep
        ]
        for old_id in old:
            self._drop(conn, old_id)

    def _drop(self, conn: sqlite3.Connection, vid: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM subjects WHERE version_id = ?", (vid,))
        conn.execute("DELETE FROM versions WHERE id = ?", (vid,))
        conn.execute("COMMIT")

    def discard(self, spec: str, version: str) -> None:
        conn = self._conn()
        row = conn.execute("SELECT id FROM versions WHERE spec = ? AND version = ?", (spec, version)).fetchone()
        live = conn.execute("SELECT 1 FROM current WHERE version_id = ?", (row[0],)).fetchone() if row else None
        if row and not live:
            self._drop(conn, row[0])

    def get_many(self, spec: str, subject_ids: Sequence[int]) -> Snapshot:
        conn = self._conn()
        conn.execute("BEGIN")  # one read transaction: the pointer and the values from one snapshot
        try:
            row = conn.execute(
                "SELECT v.id, v.version FROM current c JOIN versions v ON v.id = c.version_id WHERE c.spec = ?",
                (spec,),
            ).fetchone()
            if row is None:
                raise StoreError(f"online store {self.path}: nothing published for spec {spec!r}")
            vid, version = row
            ids = list(dict.fromkeys(int(s) for s in subject_ids))
            values: dict[int, bytes] = {}
            for i in range(0, len(ids), _CHUNK):
                chunk = ids[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                values.update(
                    conn.execute(
                        f"SELECT subject_id, state FROM subjects WHERE version_id = ? AND subject_id IN ({marks})",
                        (vid, *chunk),
                    ).fetchall()
                )
        finally:
            conn.execute("COMMIT")
        return Snapshot(version, values)

    def compiled(self, spec: str, version: str) -> str:
        row = (
            self._conn()
            .execute("SELECT compiled FROM versions WHERE spec = ? AND version = ?", (spec, version))
            .fetchone()
        )
        if row is None:
            raise StoreError(f"online store {self.path}: no version {version} of spec {spec!r}")
        return row[0]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
