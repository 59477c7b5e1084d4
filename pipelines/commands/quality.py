"""`longitude quality`: re-check a root, audit it for PHI and write the stewards' site; review, export, serve."""

import sys
from pathlib import Path

import click

from pipelines.commands.common import PORT, console, existing_root

_ROOT_HELP = "Data root (env LONGITUDE_ROOT, default ./longitude-data); must exist."


def _keyring(root):
    """The root's keyring when a secret is at hand (enables the unshifted-birth check), else None."""
    import os

    from pipelines.settings import SECRET_ENV, SettingsError, check_root_secret, demo_secret

    secret = os.environ.get(SECRET_ENV)
    raw = secret.encode() if secret else demo_secret(root, create=False)
    if not raw:
        return None
    try:
        check_root_secret(root, raw)  # another secret would judge shifted dates against the wrong shifts
    except SettingsError as err:
        raise click.ClickException(str(err)) from None
    from deid.pseudonym import Keyring

    return Keyring(raw)


def _root(ctx: click.Context, root: str | None) -> Path:
    """A subcommand's own --root, else the group's; either must be an existing root (no stray new root)."""
    return existing_root(root or ctx.obj.get("root_arg"))


@click.group("quality", invoke_without_command=True)
@click.option("--root", default=None, help=_ROOT_HELP)
@click.option("--no-gx", is_flag=True, help="Skip Great Expectations and its Data Docs (faster).")
@click.option("--verbose", is_flag=True, help="Show Great Expectations' progress bars and logs.")
@click.pass_context
def command(ctx: click.Context, root: str | None, no_gx: bool, verbose: bool) -> None:
    """Re-check every table into the check store, audit for PHI, write quality/site/index.html; exit 1 on a
    blocking failure. The summary is read from the store (quality/checks/), as the site and Dagster read it."""
    ctx.ensure_object(dict)
    ctx.obj["root_arg"] = root
    if ctx.invoked_subcommand is not None:
        return
    from datetime import UTC, datetime

    from pipelines.check_events import record_rechecked
    from pipelines.commands.common import print_check_rows
    from quality.report import run_quality
    from quality.verbosity import library_output

    path = existing_root(root)
    started = datetime.now(UTC)
    with console.status("checking tables, auditing for PHI, writing the site"), library_output(verbose):
        report = run_quality(path, keyring=_keyring(path), gx=not no_gx, verbose=verbose)
        # the Dagster UI reads its own event log: what this re-check stored goes there too
        record_rechecked(path, [r for r in report.rows if r.run == "cli" and r.checked_at >= started])
        _record_site(path, report)
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
    from schemas.working_copy import shown

    console.print(f"Site: {shown(path, path / 'quality' / 'site' / 'index.html')}  ({timing})")
    print_check_rows(path, None, only_failed=False)
    sys.exit(0 if report.passed else 1)


def _record_site(path: Path, report) -> None:
    """The page this re-check wrote, as a quality_site materialization: the UI counts what the page counts."""
    from pipelines.instance import root_instance
    from pipelines.site_refresh import record_site
    from schemas.layout import Layout

    instance = root_instance(Layout(path))
    try:
        record_site(instance, report, "longitude quality")
    finally:
        instance.dispose()


def _review_command(action: str, help_text: str, note_help: str) -> click.Command:
    @click.command(action, help=help_text)
    @click.argument("target")
    @click.option("--note", required=True, help=note_help)
    @click.option("--who", default=None, help="Steward name (default: the login name).")
    @click.option("--root", default=None, help=_ROOT_HELP)
    @click.pass_context
    def _command(ctx: click.Context, target: str, note: str, who: str | None, root: str | None) -> None:
        from quality.report import load_report, review_targets
        from quality.review import PAST, ReviewError, record
        from schemas.working_copy import shown

        path = _root(ctx, root)
        try:
            entry = record(path / "quality", target, action, note, who, **review_targets(load_report(path)))
        except ReviewError as err:
            raise click.ClickException(str(err)) from None
        from pipelines.site_refresh import after_review

        page = after_review(path, entry)  # the page and the Dagster UI show it, as `quality serve` does at once
        where = f"on {shown(path, page)}" if page else f"after `longitude quality --root {shown(path, path)}`"
        console.print(
            f"{PAST[action]} {entry['target']} ({entry['who']}, {entry['when']}); the site shows it {where}"
        )

    return _command


for _action, _help, _note in (
    (
        "accept",
        "Accept a failed warning (check:<rule>) or a quarantine reason (quarantine:<asset>/<CODE>).",
        "Why this is acceptable (no PHI).",
    ),
    (
        "reject",
        "Reject a check result or quarantine reason: it must be fixed, and stays open until it is.",
        "What must be fixed (no PHI).",
    ),
    (
        "comment",
        "Comment on a check result or quarantine reason without changing its state.",
        "The comment (no PHI).",
    ),
    ("revoke", "Withdraw an acceptance or rejection; the result shouts again.", "Why it no longer holds."),
):
    command.add_command(_review_command(_action, _help, _note))


@command.command("history")
@click.option("--root", default=None, help=_ROOT_HELP)
@click.pass_context
def history(ctx: click.Context, root: str | None) -> None:
    """Print the review log, oldest first."""
    from quality.review import history as read

    for h in read(_root(ctx, root) / "quality"):
        click.echo(f"{h['when']}  {h['who']:<12} {h['action']:<7} {h['target']}  {h['note']}")


@command.command("export")
@click.option("--root", default=None, help=_ROOT_HELP)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="File to write (default: stdout).")
@click.pass_context
def export(ctx: click.Context, root: str | None, fmt: str, out: str | None) -> None:
    """Export the review log (who, when, action, target, note) as CSV or JSON."""
    from quality.review import export as render
    from quality.review import history as read

    text = render(read(_root(ctx, root) / "quality"), fmt)
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as err:
            raise click.ClickException(f"cannot write {out}: {err.strerror or err}") from None
        console.print(f"Wrote {out}")
    else:
        click.echo(text, nl=False)


@command.command("targets")
@click.option("--root", default=None, help=_ROOT_HELP)
@click.pass_context
def targets(ctx: click.Context, root: str | None) -> None:
    """List what can be reviewed: every stored check rule and every quarantine reason."""
    from quality.report import known_targets

    for t in sorted(known_targets(_root(ctx, root))):
        click.echo(t)


@command.command("serve")
@click.option("--root", default=None, help=_ROOT_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (keep it local).")
@click.option("--port", type=PORT, default=8765, show_default=True)
@click.pass_context
def serve(ctx: click.Context, root: str | None, host: str, port: int) -> None:
    """Serve the stewards' site with review forms; reviews made in the page go to the review log."""
    import socket

    import uvicorn

    from quality.serve import create_app
    from schemas.working_copy import shown

    path = _root(ctx, root)
    probe = socket.socket()
    try:  # before saying where it serves: uvicorn's own failure is a log line after that, and exit 3
        probe.bind((host, port))
    except OSError as err:
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror}; pass --port N") from None
    finally:
        probe.close()
    console.print(f"Stewards' site for {shown(path, path)} at http://{host}:{port}/  (Ctrl-C to stop)")
    from pipelines.site_refresh import after_review

    uvicorn.run(create_app(path, on_review=after_review), host=host, port=port, log_level="warning")
