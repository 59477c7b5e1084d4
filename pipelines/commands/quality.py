"""`longitude quality`: validate a root, audit it for PHI and write the stewards' site; review subcommands."""

import sys

import click

from pipelines.commands.common import console, root_path


def _keyring(root):
    """The root's keyring when a secret is at hand (enables the unshifted-birth check), else None."""
    import os

    from pipelines.settings import SECRET_ENV, demo_secret

    secret = os.environ.get(SECRET_ENV)
    raw = secret.encode() if secret else demo_secret(root, create=False)
    if not raw:
        return None
    from deid.pseudonym import Keyring

    return Keyring(raw)


@click.group("quality", invoke_without_command=True)
@click.option("--root", default=None, help="Data root (env LONGITUDE_ROOT, default ./longitude-data).")
@click.option("--no-gx", is_flag=True, help="Skip Great Expectations and its Data Docs (faster).")
@click.pass_context
def command(ctx: click.Context, root: str | None, no_gx: bool) -> None:
    """Validate every table, audit for PHI, write quality/site/index.html; exit 1 on a blocking failure."""
    ctx.ensure_object(dict)
    ctx.obj["root"] = root_path(root)
    if ctx.invoked_subcommand is not None:
        return
    from quality.report import run_quality

    report = run_quality(ctx.obj["root"], keyring=_keyring(ctx.obj["root"]), gx=not no_gx)
    site = ctx.obj["root"] / "quality" / "site" / "index.html"
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
    console.print(f"Site: {site}  ({timing})")
    console.print(
        f"{len(report.outcomes)} expectation results, {len(report.blocking)} blocking failures, "
        f"{len(report.warnings)} open warnings; PHI audit: "
        f"{'pass' if report.audit.passed else str(report.audit.findings.height) + ' hits'}"
    )
    for o in report.blocking[:20]:
        console.print(f"  [red]FAIL[/] {o.expectation}" + (f" [shard {o.partition}]" if o.partition else ""))
    if report.audit and not report.audit.passed:
        for r in report.audit.by_table()[:20]:
            console.print(f"  [red]PHI[/] {r['path']} field {r['field']}: {r['n']} {r['kind']} hits")
    sys.exit(0 if report.passed else 1)


@command.command("accept")
@click.argument("target")
@click.option("--note", required=True, help="Why this is acceptable (no PHI).")
@click.option("--who", default=None, help="Steward name (default: the login name).")
@click.pass_context
def accept(ctx: click.Context, target: str, note: str, who: str | None) -> None:
    """Accept a warning (check:<expectation>) or a quarantine reason (quarantine:<asset>/<REASON_CODE>)."""
    _record(ctx, target, "accept", note, who)


@command.command("revoke")
@click.argument("target")
@click.option("--note", required=True, help="Why the acceptance no longer holds.")
@click.option("--who", default=None, help="Steward name (default: the login name).")
@click.pass_context
def revoke(ctx: click.Context, target: str, note: str, who: str | None) -> None:
    """Withdraw an acceptance; the warning shouts again on the next run."""
    _record(ctx, target, "revoke", note, who)


@command.command("history")
@click.pass_context
def history(ctx: click.Context) -> None:
    """Print the review log, oldest first."""
    from quality.review import history as read

    for h in read(ctx.obj["root"] / "quality"):
        click.echo(f"{h['when']}  {h['who']:<12} {h['action']:<7} {h['target']}  {h['note']}")


def _record(ctx: click.Context, target: str, action: str, note: str, who: str | None) -> None:
    from quality.review import ReviewError, record

    try:
        entry = record(ctx.obj["root"] / "quality", target, action, note, who)
    except ReviewError as err:
        raise click.ClickException(str(err)) from None
    console.print(
        f"{entry['action']}ed {entry['target']} ({entry['who']}, {entry['when']}); re-run longitude quality"
    )
