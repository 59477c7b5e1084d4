"""Which process ran each chunk step of a root's Dagster runs: for the tests that chunk steps scale out."""

from pathlib import Path


def chunk_step_pids(root: Path, step_key: str) -> dict[str, int]:
    """{chunk partition key: pid of the process that ran its `step_key` step}, over every run recorded under
    the root; asserts no such step ran in its run's driver process."""
    import dagster as dg

    from pipelines.instance import ensure_dagster_home
    from schemas.layout import Layout

    instance = dg.DagsterInstance.from_config(str(ensure_dagster_home(Layout(root))))
    pids: dict[str, int] = {}
    for record in instance.get_run_records():
        events = [e.dagster_event for e in instance.all_logs(record.dagster_run.run_id) if e.dagster_event]
        driver = {e.pid for e in events if e.event_type == dg.DagsterEventType.RUN_START}
        steps = [e for e in events if e.event_type == dg.DagsterEventType.STEP_START and e.step_key == step_key]
        for step in steps:
            assert step.pid not in driver  # the chunk ran in a process of its own, not the driver
            pids[record.dagster_run.tags["dagster/partition"]] = step.pid
    return pids


def run_until_killed(module: str, func: str, root: Path, n_chunks: int, point: str) -> None:
    """`module.func(root, n_chunks)` in a child process that LONGITUDE_CRASH_AT kills (SIGKILL) at `point`
    (`publish:manifest-written#2`: the second publish, its manifest written, its version not yet in place)."""
    import os
    import subprocess
    import sys

    from schemas.publish import CRASH_ENV

    repo = Path(__file__).resolve().parents[2]
    script = (
        f"import sys; from pathlib import Path; from {module} import {func}; {func}(Path(sys.argv[1]), {n_chunks})"
    )
    env = {**os.environ, CRASH_ENV: point, "PYTHONPATH": str(repo)}
    run = subprocess.run([sys.executable, "-c", script, str(root)], env=env, cwd=repo, capture_output=True,
                         timeout=300)  # fmt: skip
    assert run.returncode == -9, run.stderr[-2000:]
