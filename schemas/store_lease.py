"""One run at a time per object-store root: a lease object at `<root>/.longitude.lease.json`, renewed while held.

The local run lock (schemas.run_lock) is a kernel file lock; a bucket prefix has none, so a run takes a lease
object instead, with conditional requests (schemas.store.ObjectStore: S3's and Azure's ETags, GCS's generations):
- take: PUT with If-None-Match: * creates it only if absent, so of two runs exactly one gets it;
- heartbeat: every ttl/4 the holder rewrites it with If-Match on the ETag it last wrote (Last-Modified moves on);
- stale: a lease whose Last-Modified is more than its ttl behind the store's Date (both the server's clock, so
  no two machines' clocks are compared) belongs to a run that died; the next run replaces it with If-Match on
  the ETag it read, so of two runs taking over one stale lease only one succeeds, and says so;
- release: DELETE with If-Match, so a holder that lost its lease never removes its successor's.
A holder whose heartbeat failed for a ttl, or found its lease replaced, has lost it: `check` raises before the
run publishes anything more (schemas.working_copy calls it before each push).

Fencing: the lease's `owner` (random per acquisition) is the run's token. Processes that publish for the run
without holding the lease themselves (a Celery worker's or a step pod's working copy) get the token with the
step and hold a `Fence`: its `check` reads the lease object and passes only while it is still this token's
and fresh by the store's clock. Every push checks it right before each pointer PUT and the index PUT, and those
PUTs are conditional on what the copy read (schemas.publish_store), so a run that lost its lease between the
check and the PUT is still refused wherever the new holder published since.
"""

import json
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from schemas.store import ObjectStore, StoreError

LEASE_KEY = ".longitude.lease.json"
# A heartbeat every 30 s; a run whose process died is taken over 2 min after its last one (an S3 PUT takes
# milliseconds, so four missed heartbeats in a row mean the run is gone, not slow).
DEFAULT_TTL_S = 120.0


class RootLeasedError(RuntimeError):
    """Another run holds the root's lease; the message names the root and the holder, never a value."""


class LeaseLostError(StoreError):
    """This run's lease expired or was taken over: it must not publish anything more to the root."""


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a root's lease (the object's body)."""

    owner: str  # random per run: which run wrote the lease, whatever its pid and host
    pid: int
    host: str
    command: str
    started: str  # ISO 8601, UTC
    ttl_s: float

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} ({self.command}, started {self.started})"

    def body(self) -> bytes:
        return (json.dumps(asdict(self)) + "\n").encode()


def _parse(data: bytes) -> LeaseHolder | None:
    try:
        doc = json.loads(data)
        return LeaseHolder(
            str(doc["owner"]), int(doc["pid"]), str(doc["host"]), str(doc["command"]), str(doc["started"]),
            float(doc["ttl_s"]),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError):
        return None  # not ours to read: treated as a lease with the default ttl


def _lost(store: ObjectStore, why: str) -> LeaseLostError:
    return LeaseLostError(
        f"{store.url}: this run's lease ({LEASE_KEY}) {why}; nothing more is published by this run"
    )


@dataclass(frozen=True, slots=True)
class Fence:
    """A run's fencing token on a root, for a process that publishes for the run without holding its lease."""

    store: ObjectStore
    token: str  # the holder's `owner`
    margin_s: float = 5.0  # refused this long before the store would call the lease stale: a PUT takes ms

    def check(self) -> None:
        """Raise LeaseLostError unless the root's lease is still this token's and fresh (one GET)."""
        found = self.store.read_tagged(LEASE_KEY)
        if found is None:
            raise _lost(self.store, "was released or taken over")
        data, _, age = found
        holder = _parse(data)
        if holder is None or holder.owner != self.token:
            raise _lost(self.store, "was taken over by another run")
        if age > holder.ttl_s - min(self.margin_s, holder.ttl_s / 4):
            raise _lost(self.store, "was not renewed within its ttl and may be taken over")


class Lease:
    """A held lease: renewed by a daemon thread until `release`."""

    def __init__(self, store: ObjectStore, me: LeaseHolder, etag: str) -> None:
        self.store, self.me, self._etag = store, me, etag
        self._renewed = time.monotonic()
        self._lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="longitude-lease", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.me.ttl_s / 4):
            self.renew()

    def renew(self) -> None:
        """Rewrite the lease if it is still ours; a failed request is retried on the next beat."""
        if self._lost:
            return
        try:
            etag = self.store.replace(LEASE_KEY, self.me.body(), self._etag)
        except StoreError:
            return  # the store is unreachable now: `check` says lost once a whole ttl has passed without renewal
        if etag is None:
            self._lost = True  # replaced: another run found it stale and took it over
        else:
            self._etag, self._renewed = etag, time.monotonic()

    @property
    def token(self) -> str:
        """The fencing token of this run (schemas.store_lease.Fence), given to the processes that push for it."""
        return self.me.owner

    def check(self) -> None:
        """Raise LeaseLostError when this run no longer holds the lease (taken over, or not renewed for a ttl),
        by its own record first, then by the lease object itself (the fence a worker checks too)."""
        if self._lost or time.monotonic() - self._renewed > self.me.ttl_s:
            self._lost = True
            raise _lost(self.store, "expired or was taken over by another run")
        try:
            Fence(self.store, self.me.owner).check()
        except LeaseLostError:
            self._lost = True
            raise

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours (a successor's is left alone). Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        self.store.remove_if(LEASE_KEY, self._etag)  # If-Match: a lease another run took over stays


def _command() -> str:
    argv = [os.path.basename(sys.argv[0] or "python"), *sys.argv[1:2]]  # the program and its subcommand only
    return " ".join(a for a in argv if a)


def take_lease(
    store: ObjectStore,
    *,
    command: str | None = None,
    ttl_s: float = DEFAULT_TTL_S,
    on_takeover: Callable[[LeaseHolder | None, float], None] | None = None,
) -> Lease:
    """Take the root's lease or raise RootLeasedError at once (no waiting: the CLI refuses a second run).

    `on_takeover(holder, age_s)` is called when a stale lease (a run that died holding it) was replaced."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    me = LeaseHolder(
        secrets.token_hex(8), os.getpid(), socket.gethostname(), command or _command(), started, ttl_s
    )
    etag = store.create(LEASE_KEY, me.body())
    if etag is not None:
        return Lease(store, me, etag)
    who, ttl = "another run", DEFAULT_TTL_S
    found = store.read_tagged(LEASE_KEY)
    if found is None:  # released between our PUT and our GET: try once more, as if it had never been there
        etag = store.create(LEASE_KEY, me.body())
        if etag is not None:
            return Lease(store, me, etag)
        found = store.read_tagged(LEASE_KEY)
    if found is not None:
        data, seen, age = found
        holder = _parse(data)
        ttl = holder.ttl_s if holder else DEFAULT_TTL_S
        if age > ttl:
            etag = store.replace(LEASE_KEY, me.body(), seen)
            if etag is not None:
                if on_takeover:
                    on_takeover(holder, age)
                return Lease(store, me, etag)
            found = store.read_tagged(LEASE_KEY)  # another run took it over first: it is the holder now
            holder = _parse(found[0]) if found else holder
        who = holder.describe() if holder else who
    raise RootLeasedError(
        f"{store.url} is being written by {who}; wait for it to finish, or stop it (a run that was killed "
        f"leaves a lease that the next run takes over {ttl:.0f} s after its last heartbeat)"
    )


@contextmanager
def hold_lease(store: ObjectStore, **kwargs) -> Iterator[Lease]:
    """The root's lease for the `with` block, released however the block ends."""
    lease = take_lease(store, **kwargs)
    try:
        yield lease
    finally:
        lease.release()
