"""Steps of the CLI's plan sent to workers as soon as their inputs are built: every shard, every ready step."""

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

import dagster as dg

from schemas.publish import crash_point

MAX_RUNS_AT_ONCE = 64  # driver threads, each polling its run's steps (dagster-celery: once a second)


@contextmanager
def log_handlers_built_once(instance: dg.DagsterInstance) -> Iterator[None]:
    """Every run builds the instance's YAML log handlers with `logging.config.dictConfig`, which holds logging's
    module lock while it takes each handler's lock; a run in another thread that holds its event handler's
    lock while storing an event wants the module lock (SQLAlchemy asks a logger's level): runs started side by
    side deadlock. So the handlers are built once, here, and every run gets the same ones."""
    handlers = instance.get_yaml_python_handlers()
    instance.get_yaml_python_handlers = lambda: handlers  # an attribute of this object, shadowing the method
    try:
        yield
    finally:
        del instance.get_yaml_python_handlers


def sets_switching_together(step) -> bool:
    """A step holding `meds_data`, whose shards publish as one set (schemas.publish.partition_stage): the shard
    that completes the set moves its open area, which the checks of a shard still running beside it read, so
    its shards go one at a time."""
    from pipelines.defs.meds.build import ASSET

    return any(key.to_user_string() == ASSET for key in step.keys)


def step_inputs(graph, steps: Sequence) -> list[set[int]]:
    """For each step of the plan, the earlier steps holding a parent of one of its assets."""
    where = {key: i for i, step in enumerate(steps) for key in step.keys}
    return [
        {where[p] for key in step.keys for p in graph.get(key).parent_keys if p in where and where[p] != i}
        for i, step in enumerate(steps)
    ]


def run_as_ready(
    steps: Sequence,
    inputs: list[set[int]],
    execute: Callable[[Any, str | None], Any],
    stops: Callable[[Any], bool],
    on_progress: Callable[[str, int, int], None] | None,
    label: Callable[[Any, str | None], str],
    one_at_a_time: Callable[[Any], bool] = lambda step: False,
) -> list[tuple[int, str | None, Any, float]]:
    """Run every partition of a step, a Dagster run each, as soon as the steps holding its inputs have ended
    well: shards side by side, and a step beside the shards of another it does not depend on (the workers
    decide how many run at once). A step for which `one_at_a_time` holds sends its shards one after another
    (beside other steps). When a run fails (or its blocking check does), nothing more is submitted;
    the runs already submitted end. Returns (step index, partition, result, seconds) of every run that ran,
    in plan order."""
    total = sum(len(s.partition_keys) for s in steps)
    left = {i: len(s.partition_keys) for i, s in enumerate(steps)}
    ended: dict[tuple[int, str | None], tuple[Any, float]] = {}
    submitted: set[int] = set()
    running: dict[Future, tuple[int, str | None]] = {}
    failed = False
    started = time.perf_counter()

    def timed(i: int, pkey: str | None):
        result = execute(steps[i], pkey)
        return result, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=MAX_RUNS_AT_ONCE, thread_name_prefix="step") as pool:

        def submit_ready() -> None:
            for i, step in enumerate(steps):
                if i in submitted or any(left[j] for j in inputs[i]):
                    continue
                submitted.add(i)
                keys = step.partition_keys[:1] if one_at_a_time(step) else step.partition_keys
                for pkey in keys:
                    crash_point(f"step:{sum(len(s.partition_keys) for s in steps[:i])}")
                    running[pool.submit(timed, i, pkey)] = (i, pkey)
                if on_progress:
                    on_progress(label(step, step.partition_keys[0]), len(ended), total)

        def submit_next_shard(i: int, pkey: str | None) -> None:
            keys = steps[i].partition_keys
            if one_at_a_time(steps[i]) and keys.index(pkey) + 1 < len(keys):
                running[pool.submit(timed, i, keys[keys.index(pkey) + 1])] = (i, keys[keys.index(pkey) + 1])

        submit_ready()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                i, pkey = running.pop(future)
                result, seconds = future.result()
                ended[(i, pkey)] = (result, seconds)
                left[i] -= 1
                failed = failed or stops(result)
                if on_progress:
                    on_progress(label(steps[i], pkey), len(ended), total)
                if not failed:
                    submit_next_shard(i, pkey)
            if not failed:
                submit_ready()
    return [
        (i, pkey, *ended[(i, pkey)])
        for i, s in enumerate(steps)
        for pkey in s.partition_keys
        if (i, pkey) in ended
    ]
