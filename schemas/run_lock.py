"""One run at a time per root: an OS file lock at `<root>/.longitude.lock` that records who holds it.

Two `longitude materialize` on one root would interleave their publishes and sweep each other's staging, so
every run that writes a root (the CLI, a run launched from the Dagster UI, `longitude rekey`) holds this lock for
its whole length. The lock is a `filelock.FileLock` (flock(2)): the kernel drops it when its process ends, however
it ends, so a SIGKILLed run never blocks the next one. The file also holds the holder's pid, host, command and
start time (JSON), written once the lock is taken and emptied on a clean release: a run that finds it non-empty
on taking the lock took over from a run that died holding it, and says so. The file itself stays (filelock's
advice: unlinking a lock file splits waiters across two inodes).
"""

import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = ".longitude.lock"
_held: dict[Path, int] = {}  # lock path -> nesting depth in this process (`longitude demo` calls materialize)


class RootBusyError(RuntimeError):
    """Another run holds the root's lock; the message names it (pid, host, command, start) and what to do."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds (or last held without releasing) a root's lock."""

    pid: int
    host: str
    command: str
    started: str  # ISO 8601, UTC

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} ({self.command}, started {self.started})"


def lock_path(root: Path) -> Path:
    return Path(root) / LOCK_FILE


def _parse(text: str) -> Holder | None:
    try:
        doc = json.loads(text)
        return Holder(int(doc["pid"]), str(doc["host"]), str(doc["command"]), str(doc["started"]))
    except (ValueError, KeyError, TypeError):
        return None  # empty (released cleanly), or half written by a holder that is writing it now


def holder(root: Path) -> Holder | None:
    """The run recorded in the root's lock file, if any (a live holder, or one that died holding it)."""
    try:
        return _parse(lock_path(root).read_text(encoding="utf-8"))
    except OSError:
        return None


def _command() -> str:
    argv = [os.path.basename(sys.argv[0] or "python"), *sys.argv[1:2]]  # the program and its subcommand only
    return " ".join(a for a in argv if a)


@contextmanager
def run_lock(
    root: Path,
    *,
    wait: bool,
    command: str | None = None,
    on_wait: Callable[[Holder | None], None] | None = None,
    on_takeover: Callable[[Holder], None] | None = None,
    poll_s: float = 1.0,
) -> Iterator[Holder]:
    """Hold the root's run lock for the `with` block, yielding this run's Holder.

    `wait=False` raises RootBusyError at once when another run holds it; `wait=True` waits, calling `on_wait`
    once with the holder. `on_takeover` is called with the dead holder when the lock was left by a run that
    ended without releasing it (SIGKILL, power loss). Nested use in one process is a no-op.
    """
    from filelock import FileLock, Timeout

    path = lock_path(Path(root).resolve())
    started = datetime.now(UTC).isoformat(timespec="seconds")
    me = Holder(os.getpid(), socket.gethostname(), command or _command(), started)
    if _held.get(path):
        _held[path] += 1
        try:
            yield me
        finally:
            _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    previous: list[Holder | None] = []

    def record(fd: int) -> None:
        # Runs with the lock held, on filelock's own descriptor: read what the last holder left, then claim it.
        size = os.fstat(fd).st_size
        previous.append(_parse(os.pread(fd, size, 0).decode("utf-8", "replace")) if size else None)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(asdict(me)) + "\n").encode(), 0)
        os.fsync(fd)

    lock = FileLock(path, preserve_lock_file=True, on_acquired=record, fallback_to_soft=False)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        busy = holder(path.parent)
        if not wait:
            who = busy.describe() if busy else "another run"
            raise RootBusyError(
                f"{path.parent} is being written by {who}; wait for it to finish, or stop it "
                f"(a run that was killed leaves no lock behind: the next run takes it over)"
            ) from None
        if on_wait:
            on_wait(busy)
        lock.acquire(poll_interval=poll_s)  # until the holder ends; an interrupt (run terminated) stops the wait
    _held[path] = 1
    try:
        if previous and previous[0] is not None and on_takeover:
            on_takeover(previous[0])
        yield me
    finally:
        _held.pop(path, None)
        try:
            with open(path, "r+b") as fh:  # a clean release leaves the file empty: nobody died holding it
                fh.truncate(0)
        finally:
            lock.release()
