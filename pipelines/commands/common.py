"""What the subcommands share: root/shard options, settings from the environment, materialize with progress."""

import os
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from pipelines.settings import SECRET_ENV, Settings, SettingsError, pin, settings_from_env

console = Console(stderr=True)


def root_options(fn):
    fn = click.option("--workers", type=int, default=0, help="Parser processes (default: one per core).")(fn)
    fn = click.option("--splits", default=None, help="train/tuning/held_out fractions, e.g. 80/10/10.")(fn)
    fn = click.option("--shards", type=int, default=None, help="Shard count (env LONGITUDE_SHARDS, default 4).")(
        fn
    )
    fn = click.option("--root", default=None, help="Data root (env LONGITUDE_ROOT, default ./longitude-data).")(fn)
    return fn


def use_settings(root: str | None, shards: int | None, splits: str | None, *, workers: int = 0,
                 strict: bool = False, demo: bool = False) -> Settings:  # fmt: skip
    """Resolve settings, pin them for the code location (which reads the environment once), or exit clearly."""
    try:
        settings = settings_from_env(root, n_shards=shards, splits=splits, demo=demo, strict=strict)
    except SettingsError as err:
        raise click.ClickException(str(err)) from None
    if settings.demo:
        console.print(
            f"[yellow]Demo mode:[/] using the generated secret in {settings.root / 'demo-secret.txt'}; "
            f"pseudonyms and date shifts are only as secret as that file. Set {SECRET_ENV} for real data."
        )
    pin(settings)
    os.environ["LONGITUDE_ROOT"] = str(settings.root)
    os.environ["LONGITUDE_SHARDS"] = str(settings.n_shards)
    os.environ["LONGITUDE_SPLITS"] = "/".join(str(f) for f in settings.split_fractions)
    os.environ["LONGITUDE_STRICT"] = "1" if strict else ""
    if workers:
        os.environ["LONGITUDE_WORKERS"] = str(workers)
    return settings


def materialize_with_progress(settings: Settings, select: list[str] | None) -> bool:
    """Materialize with a progress bar; True when every blocking check passed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipelines import materialize
    from pipelines.definitions import defs
    from pipelines.instance import root_instance

    steps = materialize.plan(defs, select)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("materialize", total=sum(len(s.partition_keys) for s in steps))

        def on_progress(label: str, done: int, total: int) -> None:
            progress.update(task, completed=done, description=label)

        try:
            instance = root_instance(settings.layout)  # the UI (`longitude ui`) shows these runs
            outcome = materialize.run(defs, steps, instance=instance, on_progress=on_progress)
        except (materialize.BlockingCheckError, materialize.StepFailedError) as err:
            console.print(f"[red]Stopped:[/] {err}")
            return False
    for label, seconds in outcome.materialized:
        console.print(f"  {seconds:6.1f}s  {escape(label)}")
    failed = [c for c in outcome.checks if not c[2]]
    console.print(f"Materialized {len(outcome.materialized)} steps under {settings.root}; "
                  f"{len(outcome.checks)} checks, {len(failed)} warnings.")  # fmt: skip
    for asset, check, _, severity in failed:
        console.print(f"  [yellow]{severity}[/] {asset}:{check}")
    return True


def root_path(root: str | None) -> Path:
    return Path(root or os.environ.get("LONGITUDE_ROOT") or "./longitude-data").resolve()
