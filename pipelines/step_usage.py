"""One log line per step a Celery worker runs: its CPU seconds, wall seconds and page faults (bench reads them).

Loaded into the worker with `celery worker --include` (pipelines.commands.worker). With the solo pool a step
has the worker process to itself, so the process's rusage over the task (its library threads and its process
pools included) is the step's own cost; with the threads pool steps share the process and the figures
overlap. Page faults are there because CPython 3.11 can map and unmap a frame-stack chunk on every call when
a hot loop runs at a chunk's boundary (python/cpython gh-142183, fixed in 3.13): a step that costs far more
CPU in a worker than in process, with millions of minor faults, is that.
"""

import resource
import threading
import time

from celery import signals
from celery.utils.log import get_logger

LOG = get_logger("longitude.step_usage")
PREFIX = "longitude step usage:"  # what bench/celery_scaling.py looks for in the worker logs

_started: dict[str, tuple[float, float, int]] = {}
_lock = threading.Lock()


def _usage() -> tuple[float, int]:
    """CPU s and minor faults so far of the process and of the children it has waited for (a step's process
    pool, e.g. the de-identification's or the FHIR parser's, ends within the step)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return cpu, own.ru_minflt + children.ru_minflt


def _step_keys(args, kwargs) -> str:
    """The step keys dagster-celery's task carries (ExecuteStepArgs, packed): names of assets and checks."""
    packed = (args[0] if args else None) or (kwargs or {}).get("execute_step_args_packed") or {}
    keys = packed.get("step_keys_to_execute") if isinstance(packed, dict) else None
    return ",".join(keys) if keys else "-"


@signals.task_prerun.connect
def _before(task_id=None, **_) -> None:
    cpu, faults = _usage()
    with _lock:
        _started[task_id] = (time.perf_counter(), cpu, faults)


@signals.task_postrun.connect
def _after(task_id=None, args=None, kwargs=None, **_) -> None:
    with _lock:
        start = _started.pop(task_id, None)
    if start is None:
        return
    cpu, faults = _usage()
    wall = time.perf_counter() - start[0]
    LOG.info(
        "%s step=%s cpu_s=%.3f wall_s=%.3f minflt=%d",
        PREFIX, _step_keys(args, kwargs), cpu - start[1], wall, faults - start[2],
    )  # fmt: skip
