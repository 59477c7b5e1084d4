"""What recording a run in a Dagster instance costs the CLI (one `dg.materialize` per step and shard).

Usage: .venv/bin/python bench/dagster_instance.py [--runs 10]

Times `dg.materialize` of a one-asset job with one check (17 events per run, as a CLI step has) against:
an in-memory instance (what the CLI used before issue 17), Dagster's default SQLite instance (a database per
run), and the root's instance (`pipelines.instance`: one event database, one pooled engine per process).
"""

import argparse
import tempfile
import time
from pathlib import Path

import dagster as dg

from pipelines.instance import root_instance
from schemas.layout import Layout

_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dg.asset
def step() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 1})


@dg.asset_check(asset=step)
def step_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _per_run(instance: dg.DagsterInstance, runs: int) -> tuple[float, float]:
    dg.materialize([step, step_check], instance=instance, run_config=_QUIET)  # warm: tables, imports
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(runs):
        dg.materialize([step, step_check], instance=instance, run_config=_QUIET)
    return (time.perf_counter() - wall) / runs, (time.process_time() - cpu) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        default_home = Path(tmp) / "default"
        default_home.mkdir()
        (default_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        instances = {
            "in-memory (ephemeral)": dg.DagsterInstance.ephemeral(),
            "Dagster default SQLite": dg.DagsterInstance.from_config(str(default_home)),
            "root instance (pipelines.instance)": root_instance(Layout(Path(tmp) / "root")),
        }
        for name, instance in instances.items():
            wall, cpu = _per_run(instance, runs)
            print(f"{name:36s} {wall:6.3f} s wall/run  {cpu:6.3f} s CPU/run  ({runs} runs)", flush=True)


if __name__ == "__main__":
    main()
