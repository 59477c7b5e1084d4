"""The local online store: one SQLite file (stdlib sqlite3, WAL), per-subject values keyed by (version, subject).

Readers take one read transaction for the pointer and the values, so WAL's snapshot gives them one version
whole; the pointer moves in its own write transaction after every value of the new version is committed.
Connections are pooled: a call takes an idle one (or opens one) and returns it, so a threaded server's
short-lived request threads reuse connections instead of opening one each; no two threads use one at once.
"""

import queue
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as conn:
            conn.executescript(_SCHEMA)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            try:
                conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.Error as err:
                raise StoreError(f"online store {self.path} cannot be opened ({type(err).__name__})") from None
        try:
            yield conn
        finally:
            self._idle.put(conn)

    @contextmanager
    def _transaction(self, kind: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """One transaction on a pooled connection: IMMEDIATE for writes, DEFERRED for a read snapshot."""
        with self._conn() as conn:
            conn.execute(f"BEGIN {kind}")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def begin(self, spec: str, compiled: str, tag: str | None = None) -> str:
        version = new_version(tag)
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO versions (spec, version, compiled) VALUES (?, ?, ?)", (spec, version, compiled)
            )
        return version

    def _version_id(self, conn: sqlite3.Connection, spec: str, version: str) -> int:
        row = conn.execute("SELECT id FROM versions WHERE spec = ? AND version = ?", (spec, version)).fetchone()
        if row is None:
            raise StoreError(f"online store {self.path}: no version {version} of spec {spec!r}")
        return row[0]

    def put_many(self, spec: str, version: str, values: Mapping[int, bytes]) -> None:
        with self._transaction() as conn:
            vid = self._version_id(conn, spec, version)
            conn.executemany(
                "INSERT INTO subjects (version_id, subject_id, state) VALUES (?, ?, ?)",
                ((vid, int(s), v) for s, v in values.items()),
            )

    def publish(self, spec: str, version: str, expected: int) -> None:
        with self._transaction() as conn:
            vid = self._version_id(conn, spec, version)
            (stored,) = conn.execute("SELECT count(*) FROM subjects WHERE version_id = ?", (vid,)).fetchone()
            if stored != expected:
                raise StoreError(
                    f"online store {self.path}: version {version} of {spec!r} holds {stored} subjects, "
                    f"expected {expected}; not published"
                )
            previous = conn.execute("SELECT version_id FROM current WHERE spec = ?", (spec,)).fetchone()
            conn.execute("INSERT OR REPLACE INTO current (spec, version_id) VALUES (?, ?)", (spec, vid))
        # Readers inside a read transaction keep their snapshot anyway; the previous version stays until the
        # next publish, as in the Redis store, so both stores keep the same versions.
        keep = {vid} | ({previous[0]} if previous else set())
        with self._conn() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM versions WHERE spec = ?", (spec,)).fetchall()]
        for old in (i for i in ids if i not in keep):
            self._drop(old)

    def _drop(self, vid: int) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM subjects WHERE version_id = ?", (vid,))
            conn.execute("DELETE FROM versions WHERE id = ?", (vid,))

    def discard(self, spec: str, version: str) -> None:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT v.id, c.spec FROM versions v LEFT JOIN current c ON c.version_id = v.id "
                "WHERE v.spec = ? AND v.version = ?",
                (spec, version),
            ).fetchone()
        if row and row[1] is None:  # never drop the published version
            self._drop(row[0])

    def published(self, spec: str) -> tuple[str, int] | None:
        with self._transaction("DEFERRED") as conn:  # the pointer and its count from one snapshot
            row = conn.execute(
                "SELECT v.id, v.version FROM current c JOIN versions v ON v.id = c.version_id WHERE c.spec = ?",
                (spec,),
            ).fetchone()
            if row is None:
                return None
            (subjects,) = conn.execute("SELECT count(*) FROM subjects WHERE version_id = ?", (row[0],)).fetchone()
        return row[1], subjects

    def get_many(self, spec: str, subject_ids: Sequence[int]) -> Snapshot:
        ids = list(dict.fromkeys(int(s) for s in subject_ids))
        values: dict[int, bytes] = {}
        with self._transaction("DEFERRED") as conn:  # the pointer and the values from one snapshot
            row = conn.execute(
                "SELECT v.id, v.version FROM current c JOIN versions v ON v.id = c.version_id WHERE c.spec = ?",
                (spec,),
            ).fetchone()
            if row is None:
                raise StoreError(f"online store {self.path}: nothing published for spec {spec!r}")
            vid, version = row
            for i in range(0, len(ids), _CHUNK):
                chunk = ids[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                values.update(
                    conn.execute(
                        f"SELECT subject_id, state FROM subjects WHERE version_id = ? AND subject_id IN ({marks})",
                        (vid, *chunk),
                    ).fetchall()
                )
        return Snapshot(version, values)

    def compiled(self, spec: str, version: str) -> str:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT compiled FROM versions WHERE spec = ? AND version = ?", (spec, version)
            ).fetchone()
        if row is None:
            raise StoreError(f"online store {self.path}: no version {version} of spec {spec!r}")
        return row[0]

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
