"""The online key-value store's format: one value per (feature-set version, subject), the local store's path, keys.

A subject's value is its rows of the online state table (`schemas.features.ONLINE_SCHEMA`, less subject_id,
which is the key) as packed little-endian records of `ONLINE_RECORD`, in the table's order (group, key, time),
compressed as one zlib stream (level 1: ~8x smaller for ~0.2 ms per value to read; store memory is the cost).
Nulls become sentinels that the lookups read as "none": NaN for the float state columns, NO_TIME (the least
int64) for a null time (an undated static row) and for value_last_time when no value was seen yet.

Invariants the types cannot express:
1. A version's values are written once and never changed; a reader sees a version only after its pointer says
   so, and the pointer moves only after every value of the version is stored (one atomic write, last).
2. Subject ids are int64 end to end: keys are the decimal id (Redis) or an INTEGER column (SQLite), never a
   float, so ids above 2^53 stay exact.
3. Every value of a version holds all of that subject's rows for every group of the version's compiled spec.
"""

from pathlib import Path

import numpy as np

from schemas.layout import Layout

ONLINE_RECORD = np.dtype(
    [
        ("group", "<i2"),  # spec group index; -1 birth row, -2 static code row
        ("key", "<i4"),  # key within the group; static: index into the compiled static codes
        ("time", "<i8"),  # microseconds since the epoch; NO_TIME: undated
        ("count", "<f8"),
        ("value_count", "<f8"),
        ("value_sum", "<f8"),
        ("value_last", "<f8"),
        ("value_last_time", "<i8"),
        ("cum_min", "<f8"),
        ("cum_max", "<f8"),
        ("row_min", "<f8"),
        ("row_max", "<f8"),
    ]
)
"""One online state row as stored (packed, 86 bytes): ONLINE_SCHEMA's columns after subject_id."""

NO_TIME = int(np.iinfo(np.int64).min)
VALUE_ZLIB_LEVEL = 1
ONLINE_STORE_DIR = "online-store"
LOCAL_STORE_FILE = "features.sqlite"
REDIS_PREFIX = "longitude:online"


def local_store_path(layout: Layout) -> Path:
    """`online-store/features.sqlite` under the root: a live database, outside the published datasets.

    >>> local_store_path(Layout(Path("/r"))).as_posix()
    '/r/online-store/features.sqlite'
    """
    return layout.root / ONLINE_STORE_DIR / LOCAL_STORE_FILE


def redis_keys(prefix: str, spec: str, version: str | None = None) -> dict[str, str]:
    """The Redis keys of a spec (its pointer and versions set) and, given a version, of that version.

    >>> redis_keys("longitude:online", "default", "v1")["rows"]
    'longitude:online:default:v1:s:'
    """
    base = f"{prefix}:{spec}"
    keys = {"current": f"{base}:current", "versions": f"{base}:versions"}
    if version is not None:
        v = f"{base}:{version}"
        keys |= {"spec": f"{v}:spec", "live": f"{v}:live", "count": f"{v}:count", "rows": f"{v}:s:"}
    return keys
