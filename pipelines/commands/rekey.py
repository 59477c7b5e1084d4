"""`longitude rekey`: bind a root to a new secret on purpose, deleting everything keyed by the old one."""

import os
import shutil
from pathlib import Path

import click

from pipelines.commands.common import console, root_path

# Kept across a re-key: what was delivered, and the root's pinned settings (shards, splits), re-pinned below.
# The lock file stays too: it is held while deleting. (schemas is imported in the functions, so `--help` stays
# free of pyarrow and numpy.)
_KEPT = frozenset({"landing", "longitude.json"})


def derived_paths(root: Path) -> list[Path]:
    """Everything under the root that the secret keyed (pseudonyms, shifts, splits, labels): all but landing/."""
    from schemas.run_lock import LOCK_FILE

    if not root.exists():
        return []
    return sorted(p for p in root.iterdir() if p.name not in _KEPT | {LOCK_FILE})


@click.command("rekey")
@click.option("--root", default=None, help="Data root (env LONGITUDE_ROOT, default ./longitude-data).")
@click.option("--yes", is_flag=True, help="Delete without asking.")
def command(root: str | None, yes: bool) -> None:
    """Re-key a root with the secret in LONGITUDE_SECRET: delete all derived outputs, pin the new secret.

    Every pseudonym, date shift and split changes, so raw/, quarantine/, meds/ and everything downstream are
    deleted; landing/ stays. Run `longitude materialize` afterwards to rebuild.
    """
    from pipelines.secret_policy import WeakSecretError, check_secret
    from pipelines.settings import SECRET_ENV, read_pinned, repin_secret
    from schemas.run_lock import RootBusyError, run_lock

    path = root_path(root)
    secret = os.environ.get(SECRET_ENV)
    if not secret:
        raise click.ClickException(f"{SECRET_ENV} is not set: export the new secret first, then re-key.")
    if not (path / "landing").is_dir() and not read_pinned(path):
        raise click.ClickException(f"{path} is not a Longitude root (no landing/ and no longitude.json).")
    try:
        check_secret(secret.encode(), SECRET_ENV)  # before anything is deleted
    except WeakSecretError as err:
        raise click.ClickException(str(err)) from None
    doomed = derived_paths(path)
    if doomed and not yes:
        names = ", ".join(p.name for p in doomed)
        click.confirm(f"Delete {names} under {path} and re-key?", abort=True, err=True)
    try:  # never while a run writes the root (schemas.run_lock)
        with run_lock(path, wait=False, command="longitude rekey"):
            # Delete first, pin last: a crash in between leaves the old pin on an emptied root; a rerun finishes.
            for p in derived_paths(path):
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            repin_secret(path, secret.encode())
    except RootBusyError as err:
        raise click.ClickException(str(err)) from None
    console.print(f"Re-keyed {path}: removed {len(doomed)} derived paths. Run `longitude materialize` to rebuild.")
