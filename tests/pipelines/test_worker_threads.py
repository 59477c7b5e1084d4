"""`longitude worker --threads`: the Celery process it starts sizes every library thread pool, and the parser
pool, to the worker's share of the machine, and loads the per-step usage log (pipelines.step_usage)."""

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.commands import worker
from schemas.cpus import THREAD_POOL_ENV

pytest.importorskip("dagster_celery")


def _start(tmp_path: Path, monkeypatch, *args: str, env: dict | None = None) -> tuple[list[str], dict[str, str]]:
    """Run `longitude worker` up to the point where it starts Celery (with `env` set, the pools' variables
    otherwise unset); the command line and environment it starts Celery with."""
    (tmp_path / "root" / "landing").mkdir(parents=True)
    config = tmp_path / "executor.yaml"
    config.write_text(f"celery:\n  broker: 'filesystem://'\n  backend: 'file://{tmp_path / 'results'}'\n")
    started = {}

    def call(cmd, env):
        started.update(cmd=cmd, env=env)
        return 0

    monkeypatch.setattr(subprocess, "call", call)
    # the command sets the variables in its own process (before Celery starts): give it a copy to change
    kept = {k: v for k, v in os.environ.items() if k not in (*THREAD_POOL_ENV, "LONGITUDE_WORKERS")}
    monkeypatch.setattr(os, "environ", kept | (env or {}))
    result = CliRunner().invoke(
        worker.command, ["--root", str(tmp_path / "root"), "--executor-config", str(config), *args]
    )
    assert result.exit_code == 0, result.output
    return started["cmd"], started["env"]


def test_threads_size_every_pool_of_the_worker(tmp_path: Path, monkeypatch, secret_env):
    cmd, env = _start(tmp_path, monkeypatch, "--threads", "1")
    assert {key: env[key] for key in THREAD_POOL_ENV} == dict.fromkeys(THREAD_POOL_ENV, "1")
    assert env["LONGITUDE_WORKERS"] == "1"  # the parser pool too
    assert cmd[cmd.index("--include") + 1] == "pipelines.step_usage,pipelines.worker_warmup"


def test_the_default_share_is_the_cpus_over_the_concurrency(tmp_path: Path, monkeypatch, secret_env):
    monkeypatch.setattr("schemas.cpus.available_cpus", lambda *a: 8)
    _, env = _start(tmp_path, monkeypatch, "--concurrency", "4")
    assert env["POLARS_MAX_THREADS"] == env["OMP_NUM_THREADS"] == "2"
    assert env["LONGITUDE_WORKERS"] == "2"


def test_the_default_share_leaves_pools_the_caller_sized(tmp_path: Path, monkeypatch, secret_env):
    monkeypatch.setattr("schemas.cpus.available_cpus", lambda *a: 8)
    _, env = _start(tmp_path, monkeypatch, env={"OMP_NUM_THREADS": "3"})
    assert env["OMP_NUM_THREADS"] == "3" and env["POLARS_MAX_THREADS"] == "8"


def test_threads_override_what_the_environment_says(tmp_path: Path, monkeypatch, secret_env):
    _, env = _start(tmp_path, monkeypatch, "--threads", "2", env={"OMP_NUM_THREADS": "16"})
    assert env["OMP_NUM_THREADS"] == "2"
