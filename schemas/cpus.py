"""How many CPUs this process may use: its CPU affinity and its container's CPU quota (cgroup v2 or v1).

`os.cpu_count()` counts the host's cores: in a container limited to 2 CPUs on a 64-core host it says 64, and
a pool of 64 workers then thrashes (and holds 64 copies of whatever each worker loads). Worker counts use
`available_cpus()` instead.
"""

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _quota_v2(root: Path) -> float | None:
    """cgroup v2 `cpu.max`: "<quota> <period>" in microseconds, or "max <period>" for no limit."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return int(quota) / int(period) if int(period) > 0 and int(quota) > 0 else None


def _quota_v1(root: Path) -> float | None:
    """cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`; a quota of -1 means no limit."""
    for folder in (root / "cpu", root / "cpu,cpuacct", root):
        try:
            quota = int((folder / "cpu.cfs_quota_us").read_text())
            period = int((folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return quota / period if quota > 0 and period > 0 else None
    return None


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """The container's CPU quota in CPUs (e.g. 1.5), None when there is none or it cannot be read."""
    return _quota_v2(root) or _quota_v1(root)


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    """CPUs this process may use: the CPUs it may run on, capped by the cgroup quota rounded up; at least 1.

    >>> available_cpus() >= 1
    True
    """
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        allowed = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        allowed = min(allowed, math.ceil(limit))
    return max(1, allowed)


# The variables the libraries of a step read once, at import, for the size of their thread pools: polars (and
# other rayon pools), OpenMP users (torch, pyarrow's CPU pool), the BLAS builds numpy and spaCy's ops load.
THREAD_POOL_ENV = (
    "POLARS_MAX_THREADS", "RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
)  # fmt: skip


def thread_pool_env(threads: int) -> dict[str, str]:
    """Environment that sizes every library thread pool to `threads`: set it before those libraries import
    (a new process), so that processes sharing a machine each keep to their own share of its CPUs.

    >>> thread_pool_env(1)["POLARS_MAX_THREADS"]
    '1'
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    return dict.fromkeys(THREAD_POOL_ENV, str(threads))
