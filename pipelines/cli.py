"""The `longitude` command: one click group; each subcommand lives in its own module in pipelines/commands/."""

import atexit
import importlib
import os
import pkgutil
import sys
import threading
from typing import NoReturn

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
    _leave(_run(debug="--debug" in sys.argv[1:]))


def _run(*, debug: bool) -> int:
    """The command's exit status."""
    try:
        cli(standalone_mode=False)
    except SystemExit as done:  # a command's own sys.exit (materialize: 0, or 1 when a blocking check failed)
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        click.echo(done.code, err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("Interrupted; the next run sweeps what this one left half-done.", err=True)
        return 130
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except Exception as err:
        if debug:
            raise
        # The message names file, record and field (never a value, see docs/design.md); the type says what broke.
        click.echo(
            f"Error: {type(err).__name__}: {err}\n(run `longitude --debug ...` for the traceback)", err=True
        )
        return 1
    return 0


def _leave(code: int) -> NoReturn:
    """Exit as sys.exit does, less the interpreter's teardown: the exit handlers run (logging; an object-store
    root's push and the removal of its working copy; multiprocessing), then the process ends without
    finalizing every module and collecting a heap of Dagster, polars, DuckDB and pyarrow objects (0.5-0.6 s of
    CPU after a materialize, in series after the last step). Everything the run writes is on disk by then
    (atomic renames, committed SQLite transactions). With another thread still running, the ordinary exit."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if any(t.is_alive() for t in others):
        sys.exit(code)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
