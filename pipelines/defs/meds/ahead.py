"""MEDS shards computed ahead in the CLI's parser processes, idle once the FHIR parse is published, while the
FHIR step's checks run; each `meds_data` step then writes its shard as computed (pipelines.defs.meds.build)."""

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

# shard -> (what it was computed for, its inputs as they were, the computation)
_AHEAD: dict[int, tuple[tuple, tuple, Future]] = {}
_POOL: list[Executor] = []  # the processes computing them, shut down once every shard is taken or cancelled


def inputs_of(layout: Layout) -> tuple:
    """Every published file under raw/ (ledger labels aside) as (path, inode, size, mtime): a publish writes new
    files, so if this is the same at a step as when its shard was computed, the shard read the step's inputs."""
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
    pool: Executor, layout: Layout, keyring: Keyring, fractions: tuple[float, ...], shards: list[int]
) -> None:
    """Compute `shards` in `pool`'s processes, which this module now owns (called once raw/ is published)."""
    cancel()
    _POOL.append(pool)
    inputs = inputs_of(layout)
    for shard in shards:
        future = pool.submit(_compute, str(layout.root), keyring.secret, shard, tuple(fractions))
        _AHEAD[shard] = (_key(layout, keyring, shard, fractions), inputs, future)
    pool.shutdown(wait=False)  # the submitted work still runs; the processes exit after it


def take(layout: Layout, keyring: Keyring, shard: int, fractions: tuple[float, ...]) -> "BuiltShard | None":
    """The shard computed ahead for exactly these arguments and today's inputs (waiting for it), or None: the
    step computes it itself (also when the computation failed: the step then raises its own error)."""
    entry = _AHEAD.pop(shard, None)
    if entry is None:
        return None
    key, inputs, future = entry
    try:
        if key != _key(layout, keyring, shard, fractions) or inputs != inputs_of(layout):
            future.cancel()
            return None
        return future.result()
    except Exception:  # a worker's error, or its process gone: the step's own computation raises what is wrong
        return None
    finally:
        if not _AHEAD:
            _release()


def cancel() -> None:
    """Drop every shard computed ahead and not taken (the run stopped before their steps)."""
    for _, _, future in _AHEAD.values():
        future.cancel()
    _AHEAD.clear()
    _release()


def _release() -> None:
    while _POOL:
        _POOL.pop().shutdown(wait=True, cancel_futures=True)


def _compute(root: str, secret: bytes, shard: int, fractions: tuple[float, ...]) -> "BuiltShard":
    from pipelines.defs.meds.build import compute_shard

    return compute_shard(Layout(Path(root)), Keyring(secret), shard, fractions)  # type: ignore[arg-type]
