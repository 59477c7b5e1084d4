"""`longitude ui`: the Dagster UI for one root, on the root's own instance, so the CLI's runs are already in it."""

import os
import sys
from pathlib import Path

import click

from pipelines.commands.common import PORT, console, root_options, root_path, use_settings
from pipelines.settings import ROOT_SETTINGS_FILE


@click.command("ui")
@root_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface the web server listens on.")
@click.option("--port", type=PORT, default=3000, show_default=True, help="Port of the web server.")
def command(root: str | None, shards: int | None, splits: str | None, workers: int, host: str, port: int) -> None:
    """Start the Dagster UI (web server and daemon) for the root; CLI and UI runs are kept in one instance."""
    where = root_path(root)
    if not (where / ROOT_SETTINGS_FILE).exists():
        raise click.ClickException(
            f"{where} is not a Longitude root (no {ROOT_SETTINGS_FILE}); pass the --root that "
            f"`longitude materialize` or `longitude demo` built."
        )
    settings = use_settings(str(where), shards, splits, workers=workers)
    from pipelines.instance import ensure_dagster_home

    home = ensure_dagster_home(settings.layout)
    os.environ["DAGSTER_HOME"] = str(home)  # `dagster dev` and its run workers use the root's instance
    dagster = Path(sys.executable).with_name("dagster")
    console.print(f"Dagster UI for {settings.root} at http://{host}:{port} (instance {home}); Ctrl-C stops it.")
    argv = [str(dagster), "dev", "-m", "pipelines.definitions", "--host", host, "--port", str(port)]
    argv += ["--log-level", "warning"]
    sys.stdout.flush()
    os.execv(argv[0], argv)  # the UI replaces this process: Ctrl-C and signals reach Dagster directly
