"""`longitude worker`: a Celery worker that runs the steps `longitude materialize --executor celery` sends."""

import os
import subprocess
import sys

import click

from pipelines.commands.common import root_options, use_settings


@click.command("worker")
@root_options
@click.option(
    "--executor-config",
    "executor_config",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="The YAML given to `materialize --executor celery` (broker, backend, config_source).",
)
@click.option("--name", default=None, help="Worker name (default: celery's, from the host name).")
@click.option("--concurrency", type=int, default=1, help="Steps this worker runs at once.")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Threads (and parser processes) each step may use: the worker's share of the machine. Default: the "
    "CPUs this process may use (affinity, cgroup quota) over --concurrency. Several workers on one machine: "
    "give each its share.",
)
@click.option(
    "--warm/--no-warm",
    default=True,
    help="Load the code location and the de-identification models as the worker starts (default), not in "
    "its first steps; --no-warm starts faster and smaller, for a worker that never de-identifies notes.",
)
def command(root: str | None, shards: int | None, splits: str | None, workers: int, executor_config: str,
            name: str | None, concurrency: int, threads: int | None, warm: bool) -> None:  # fmt: skip
    """Start a Celery worker (dagster-celery's app) for this root's code location; stops on Ctrl-C."""
    from pipelines.commands.store_root import is_object_store
    from pipelines.engines import EngineError, celery_config_module, check_reachable, load_engine_config

    # the same pinned settings as the driver: the code location the worker rebuilds reads them from the env.
    # On an object-store root the worker's root is a light working copy, which each step refills for itself.
    remote = is_object_store(root)
    if remote and concurrency > 1:  # one root directory per worker process, which every step empties and refills
        raise click.ClickException(
            "--concurrency above 1 with an object-store root: each step refills the worker's one working copy; "
            "start more workers instead"
        )
    from schemas.cpus import available_cpus, thread_pool_env

    # The libraries size their pools from all the host's cores at import: two workers on two cores would run
    # four or more threads each. Every pool gets this worker's share instead (variables set before the
    # Celery process imports anything). --threads overrides the environment; the default share does not.
    share = threads or max(1, available_cpus() // concurrency)
    for key, value in thread_pool_env(share).items():
        os.environ[key] = value if threads else os.environ.get(key, value)
    workers = workers or threads or int(os.environ.get("LONGITUDE_WORKERS") or share)
    settings = use_settings(root, shards, splits, workers=workers, demo=False, object_store=remote,
                            steps_elsewhere="worker" if remote else None)  # fmt: skip
    try:
        config = load_engine_config("celery", executor_config)
        check_reachable("celery", config)
    except EngineError as err:
        raise click.ClickException(str(err)) from None
    from pipelines.instance import ensure_dagster_home

    module_dir = celery_config_module(config, ensure_dagster_home(settings.layout) / "celery")
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(module_dir), os.environ.get("PYTHONPATH")) if p)
    )
    # Steps run in the worker's own process (solo) or its threads, not in celery's daemonic prefork children:
    # a step such as fhir_raw starts a process pool of its own, which a daemonic process may not.
    pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "threads", "--concurrency", str(concurrency)]
    app = "pipelines.celery_steps" if remote else "dagster_celery.app"  # the former: a working copy per step
    args = [sys.executable, "-m", "celery", "-A", app, "worker", "--prefetch-multiplier=1",
            *pool, "--loglevel", "INFO", "--include", "pipelines.step_usage"]  # fmt: skip
    if warm:
        args[-1] += ",pipelines.worker_warmup"
    if name:
        args += ["-n", name]
    try:
        sys.exit(subprocess.call(args, env=env))
    except KeyboardInterrupt:
        sys.exit(130)
