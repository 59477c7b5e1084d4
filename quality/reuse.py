"""What the checks of one asset share while they run together: the root's inventory and the views they load.

An asset's checks run one after another in one op (pipelines.defs.check_groups) and write nothing but their
results (the check store under quality/checks/, which an inventory leaves out), so what one of them listed or
read is what the next would list or read: inside `sharing(shared)` each is taken once into `shared`, which the
op holds only while its checks run. Outside a block nothing is kept, so nothing taken before a step writes can
be used after it.
"""

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_SHARED: ContextVar[dict | None] = ContextVar("quality_shared", default=None)


@contextmanager
def sharing(shared: dict) -> Iterator[None]:
    """Within the block, `once` computes each key once, keeping it in `shared` (pass the same dict to the blocks
    that may share; drop it to release the views); a nested block uses the outermost one's dict."""
    if _SHARED.get() is not None:
        yield
        return
    token = _SHARED.set(shared)
    try:
        yield
    finally:
        _SHARED.reset(token)


def once(key: Hashable, make: Callable[[], T]) -> T:
    """`make()`, or inside `sharing()` the value it gave for `key` earlier in the block."""
    shared = _SHARED.get()
    if shared is None:
        return make()
    if key not in shared:
        shared[key] = make()
    return shared[key]
