"""MEDS shards computed ahead in the CLI's parser processes, idle once the FHIR parse is published, while the
FHIR step's checks and the earlier shards' steps run; each `meds_data` step then writes its shard as computed
(pipelines.defs.meds.build)."""

import os
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import TYPE_CHECKING

from deid.pseudonym import Keyring
from schemas.layout import Layout
from schemas.publish import files_under

if TYPE_CHECKING:
    from pipelines.defs.meds.build import BuiltShard, ShardSummary

# Written by every ledger's write (pipelines.ledger.write_ledger), never read by a build: a shard written
# before another's step must not make the others' inputs look changed.
_LABELS = "_file_labels"
# Shards computed and not yet taken, per process: a computed shard waits in this process's memory for its
# step, so only this many run ahead of the steps (the rest are submitted as steps take theirs).
AHEAD_PER_WORKER = 2


class _Ahead:
    """The shards in flight: what each was computed for and from, the ones still to submit, and the pool."""

    def __init__(self, pool: Executor, layout: Layout, keyring: Keyring, fractions: tuple, shards: list[int],
                 window: int) -> None:  # fmt: skip
        self.pool, self.layout, self.keyring, self.fractions = pool, layout, keyring, tuple(fractions)
        self.queued, self.window = list(shards), window
        self.running: dict[int, tuple[tuple, tuple, Future]] = {}

    def top_up(self) -> None:
        root, secret = str(self.layout.root), self.keyring.secret
        try:
            inputs = inputs_of(self.layout) if self.queued and len(self.running) < self.window else ()
            while self.queued and len(self.running) < self.window:
                future = self.pool.submit(_compute, root, secret, self.queued[0], self.fractions)
                shard = self.queued.pop(0)
                self.running[shard] = (_key(self.layout, self.keyring, shard, self.fractions), inputs, future)
        except (RuntimeError, OSError):  # a process gone (BrokenProcessPool), a file gone: the steps compute them
            self.queued.clear()
        if not self.queued:
            # All submitted: the processes exit once their work is done, in the background (joining them at
            # the last step cost ~0.25 s of each process's interpreter teardown on the critical path).
            self.pool.shutdown(wait=False)


_STATE: list[_Ahead] = []  # at most one: this run's


def inputs_of(layout: Layout) -> tuple:
    """Every published file under raw/ (ledger labels aside) as (path, inode, size, mtime): a publish writes new
    files, so if this is the same at a step as when its shard was submitted, the shard read the step's inputs."""
    files = []
    for path in files_under(layout.raw):
        if path.relative_to(layout.raw).parts[0] == _LABELS:
            continue
        st = os.stat(path)
        files.append((str(path), st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(files)


def _key(layout: Layout, keyring: Keyring, shard: int, fractions: tuple[float, ...]) -> tuple:
    return str(layout.root.resolve()), keyring.secret, shard, tuple(fractions)


def build_shard(
    layout: Layout, keyring: Keyring, shard: int, fractions: tuple[float, float, float], n_shards: int | None
) -> "ShardSummary":
    """The `meds_data` step's build (pipelines.defs.meds.build.build_shard): the shard computed ahead for these
    arguments and today's inputs when there is one, else computed now; then written as the build writes it."""
    from pipelines.defs.meds.build import compute_shard, write_shard

    built = take(layout, keyring, shard, fractions) or compute_shard(layout, keyring, shard, fractions)
    return write_shard(layout, keyring, built, n_shards)


def warm_up() -> None:
    """Run in each parser process as it runs out of units: the imports and first use of polars a shard needs."""
    import polars as pl

    from pipelines.defs.meds import build  # noqa: F401

    pl.DataFrame({"a": [2, 1]}).lazy().sort("a").collect()


def submit(
    pool: Executor, layout: Layout, keyring: Keyring, fractions: tuple[float, ...], shards: list[int], workers: int
) -> None:
    """Compute `shards` in `pool`'s processes, in order, `AHEAD_PER_WORKER * workers` at a time; this module now
    owns the pool (called once raw/ is published)."""
    cancel()
    state = _Ahead(pool, layout, keyring, fractions, shards, AHEAD_PER_WORKER * max(workers, 1))
    _STATE.append(state)
    state.top_up()
    if not state.running:  # nothing could be submitted: the steps compute every shard
        cancel()


def take(layout: Layout, keyring: Keyring, shard: int, fractions: tuple[float, ...]) -> "BuiltShard | None":
    """The shard computed ahead for exactly these arguments and today's inputs (waiting for it), or None: the
    step computes it itself (also when the computation failed: the step then raises its own error)."""
    state = _STATE[0] if _STATE else None
    if state is None:
        return None
    if shard in state.queued:  # asked for before its turn: computed in the step, never here
        state.queued.remove(shard)
    entry = state.running.pop(shard, None)
    try:
        if entry is None:
            return None
        key, inputs, future = entry
        if key != _key(layout, keyring, shard, fractions) or inputs != inputs_of(layout):
            future.cancel()
            return None
        return future.result()
    except Exception:  # a worker's error, or its process gone: the step's own computation raises what is wrong
        return None
    finally:
        state.top_up()
        if not state.running:
            cancel()


def pending() -> list[int]:
    """Shards submitted or still to submit, not yet taken."""
    return sorted([*_STATE[0].running, *_STATE[0].queued]) if _STATE else []


def cancel() -> None:
    """Drop every shard computed ahead and not taken (the run stopped before their steps), and end the pool."""
    while _STATE:
        state = _STATE.pop()
        for _, _, future in state.running.values():
            future.cancel()
        state.pool.shutdown(wait=True, cancel_futures=True)


def _compute(root: str, secret: bytes, shard: int, fractions: tuple[float, ...]) -> "BuiltShard":
    from pipelines.defs.meds.build import compute_shard

    return compute_shard(Layout(Path(root)), Keyring(secret), shard, fractions)  # type: ignore[arg-type]
