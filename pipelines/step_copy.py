"""A step's own working copy of an object-store root, where steps run away from the driver (Celery, pods)."""

import os
from pathlib import Path

from schemas.object_cache import cache_from_env
from schemas.store import ObjectStore
from schemas.working_copy import WorkingCopy, store_url_of

_copy: WorkingCopy | None = None


def step_working_copy() -> WorkingCopy:
    """The process's root directory (made by `longitude worker` or the pod's entrypoint; LONGITUDE_ROOT names
    it) as a working copy that each step empties and refills (`reset`) before it runs and `push`es after."""
    global _copy
    if _copy is None:
        root = Path(os.environ["LONGITUDE_ROOT"])
        url = store_url_of(root)
        if url is None:
            raise RuntimeError(f"{root}: not a working copy of an object-store root (no store marker)")
        cache = cache_from_env()
        usable = cache if cache is not None and cache.usable() else None
        _copy = WorkingCopy(ObjectStore(url), root, usable, share_open=True)  # shards of a set run elsewhere
    return _copy
