"""The `longitude` command: one click group; each subcommand lives in its own module in pipelines/commands/."""

import importlib
import pkgutil
import sys

import click

import pipelines.commands


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="longitude")
def cli() -> None:
    """Longitude: de-identified patient timelines, features and training shards from EHR data."""


def _register_commands() -> None:
    # Each module in pipelines/commands/ exposes `command` (a click.Command or Group); heavy imports stay
    # inside the command bodies so `longitude --help` is instant.
    for info in sorted(pkgutil.iter_modules(pipelines.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"pipelines.commands.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            cli.add_command(command)


_register_commands()


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
