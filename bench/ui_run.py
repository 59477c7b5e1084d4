"""A run launched from the Dagster UI (`longitude ui`) against the same work done by `longitude materialize`.

Usage: .venv/bin/python bench/ui_run.py --root ROOT [--repeat 2]      (ROOT: a built root, e.g. a `longitude demo`)

For each selection it times, end to end as a user waits: the CLI process (`longitude materialize --select ...`,
start to exit) and a UI run (GraphQL launch through the web server to SUCCESS, the server already up), with the
code location's executor left on auto (in-process unless forking pays) and forced to a process per step (what
Dagster's default executor did before). Also each run's own duration from the root's instance. CPU time of the
CLI is reported too: on a shared machine wall time is mostly waiting.
"""

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from pipelines.cli import main; main()"]
SELECTIONS = {
    "one step (meds_codes)": ["meds_codes"],
    "five steps (metadata, vocabulary, catalog)": [
        "meds_codes",
        "meds_subject_splits",
        "meds_dataset_metadata",
        "vocabulary",
        "catalog",
    ],
}


def _cli(root: Path, assets: list[str]) -> tuple[float, float]:
    args = [a for asset in assets for a in ("--select", asset)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run([*CLI, "materialize", "--root", str(root), *args], capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise SystemExit(f"CLI failed: {run.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_up(port: int, ui: subprocess.Popen, limit: float = 300) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if ui.poll() is not None:
            raise SystemExit("the UI exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the UI did not start")


def _ui_run(client, assets: list[str], mode: str) -> tuple[float, str]:
    run_config = {"execution": {"config": {"mode": mode}}}
    started = time.perf_counter()
    run_id = client.submit_job_execution("__ASSET_JOB", asset_selection=assets, run_config=run_config)
    while True:
        status = client.get_run_status(run_id).value
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(0.2)
    if status != "SUCCESS":
        raise SystemExit(f"UI run {run_id} ended {status}")
    return time.perf_counter() - started, run_id


def _run_seconds(instance, run_id: str) -> float:
    stats = instance.get_run_stats(run_id)
    return stats.end_time - stats.start_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-fork", action="store_true", help="Leave out the process-per-step UI run (slow).")
    args = parser.parse_args()
    root = args.root.resolve()
    from dagster import RunsFilter
    from dagster_graphql import DagsterGraphQLClient

    from pipelines.instance import root_instance
    from schemas.layout import Layout

    instance = root_instance(Layout(root))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    ui = subprocess.Popen([*CLI, "ui", "--root", str(root), "--port", str(port)], env=env, start_new_session=True,
                          **quiet)  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the UI's process group
    results = {"root": str(root), "cpus": os.cpu_count(), "load_before": os.getloadavg(), "selections": {}}
    try:
        results["ui_start_s"] = round(_wait_up(port, ui), 2)
        client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=120)
        for name, assets in SELECTIONS.items():
            rows = []
            for _ in range(args.repeat):
                since = datetime.now(UTC)
                cli_wall, cli_cpu = _cli(root, assets)
                cli_runs = instance.get_runs(RunsFilter(created_after=since))  # the CLI makes a run per step
                cli_in_run = sum(_run_seconds(instance, r.run_id) for r in cli_runs)
                auto_wall, auto_id = _ui_run(client, assets, "auto")
                fork_wall, fork_id = (None, None) if args.skip_fork else _ui_run(client, assets, "multiprocess")
                auto_run = _run_seconds(instance, auto_id)
                fork_run = None if fork_id is None else _run_seconds(instance, fork_id)
                rows.append({
                    "cli_wall_s": round(cli_wall, 2), "cli_cpu_s": round(cli_cpu, 2),
                    "cli_runs_s": round(cli_in_run, 2),
                    "ui_auto_wall_s": round(auto_wall, 2), "ui_auto_run_s": round(auto_run, 2),
                    "ui_fork_wall_s": fork_wall and round(fork_wall, 2),
                    "ui_fork_run_s": fork_run and round(fork_run, 2),
                })  # fmt: skip
                print(name, rows[-1], flush=True)
            results["selections"][name] = rows
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        try:
            ui.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
