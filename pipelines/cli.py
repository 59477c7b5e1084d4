"""The `longitude` command: one click group; each subcommand lives in its own module in pipelines/commands/."""

import importlib
import pkgutil
import sys

import click

import pipelines.commands


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="longitude")
@click.option("--debug", is_flag=True, help="Show the full traceback of an unexpected error.")
def cli(debug: bool) -> None:
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
    """Run the CLI; an unexpected error is one line and exit 1 (the traceback only with --debug)."""
    debug = "--debug" in sys.argv[1:]
    try:
        cli(standalone_mode=False)
    except KeyboardInterrupt:
        sys.exit(130)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except Exception as err:
        if debug:
            raise
        # The message names file, record and field (never a value, see docs/design.md); the type says what broke.
        click.echo(
            f"Error: {type(err).__name__}: {err}\n(run `longitude --debug ...` for the traceback)", err=True
        )
        sys.exit(1)
