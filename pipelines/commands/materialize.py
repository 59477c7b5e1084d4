"""`longitude materialize`: run the assets in-process with progress, for a root."""

import os
import sys

import click

from pipelines.commands.common import root_options, use_settings


@click.command("materialize")
@root_options
@click.option(
    "--select", "select", multiple=True, help="Asset selection (repeatable): fhir_raw, meds_data+, *catalog"
)
@click.option("--strict", is_flag=True, help="Validate every FHIR resource with fhir.resources (slower).")
@click.option(
    "--partition", "partitions", multiple=True, help="Only these shards of per-shard assets (repeatable)."
)
@click.option("--verbose", is_flag=True, help="Show Dagster's and the libraries' logs as the steps run.")
@click.option(
    "--executor",
    type=click.Choice(["in_process", "multiprocess", "celery", "k8s"]),
    default=None,
    help="Run each step through this Dagster executor (default: in-process, one step after another).",
)
@click.option(
    "--executor-config",
    "executor_config",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="YAML of the executor's settings (broker, job_image, per_step_k8s_config...); docs/scale-out.md.",
)
def command(root: str | None, shards: int | None, splits: str | None, workers: int, select: tuple[str, ...],
            strict: bool, partitions: tuple[str, ...], verbose: bool, executor: str | None,
            executor_config: str | None) -> None:  # fmt: skip
    """Materialize every asset (or a selection) under the root, in dependency order."""
    engine = _engine(executor, executor_config)
    # each step in a Celery worker's or a Kubernetes pod's own working copy; this process holds a light one
    elsewhere = "driver" if executor in ("celery", "k8s") else None
    settings = use_settings(root, shards, splits, workers=workers, strict=strict, demo=False, object_store=True,
                            steps_elsewhere=elsewhere)  # fmt: skip
    if engine is not None and engine[0] == "k8s" and settings.layout.store_url:
        from pipelines.engines import k8s_step_config

        engine = ("k8s", k8s_step_config(engine[1], settings.layout.store_url, _pinned_env()))
    from pipelines.commands.common import materialize_with_progress

    ok = materialize_with_progress(
        settings, list(select) or None, verbose=verbose, partitions=list(partitions), engine=engine
    )
    sys.exit(0 if ok else 1)


def _engine(executor: str | None, config_file: str | None) -> tuple[str, dict] | None:
    """(engine, checked settings), or None for today's in-process run; a bad file or an unreachable broker or
    cluster stops here with one line, before anything runs."""
    if executor is None:
        if config_file is not None:
            raise click.ClickException(
                "--executor-config needs --executor (in_process, multiprocess, celery or k8s)"
            )
        return None
    from pipelines.engines import EngineError, check_reachable, load_engine_config

    try:
        config = load_engine_config(executor, config_file)
        check_reachable(executor, config)
    except EngineError as err:
        raise click.ClickException(str(err)) from None
    return executor, config


def _pinned_env() -> dict[str, str]:
    """The run's settings as `use_settings` pinned them in this process's environment, for the step pods."""
    names = ("LONGITUDE_SHARDS", "LONGITUDE_SPLITS", "LONGITUDE_STRICT")  # parser processes: the pod's own CPUs
    return {name: os.environ[name] for name in names if name in os.environ}
