"""`--root s3://bucket/prefix` for the commands that run steps: a working copy per run, pushed after each step.

The steps themselves only know local roots (schemas.working_copy says why); this module opens the working
copy before settings are resolved, publishes what each step published back to the store, and removes the
copy when the process ends. Other commands refuse an object-store root in one line (`refuse_object_store`).
"""

import atexit
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from schemas.working_copy import WorkingCopy

DEFAULT_ROOT = "./longitude-data"  # pipelines.settings.DEFAULT_ROOT, without importing it for --help
_copies: dict[Path, "WorkingCopy"] = {}


def _parsed(root: str | None) -> Path | str:
    from schemas.store import RootError, parse_root

    try:
        return parse_root(root or os.environ.get("LONGITUDE_ROOT") or DEFAULT_ROOT)
    except RootError as err:
        raise click.ClickException(str(err)) from None


def is_object_store(root: str | None) -> bool:
    """Whether `--root` (or LONGITUDE_ROOT) names an object-store root; a mistyped URL stops here in one line."""
    return isinstance(_parsed(root), str)


def refuse_object_store(root: str | None, command: str) -> None:
    """Stop a command that cannot use an object-store root yet (or a mistyped URL) with one line."""
    parsed = _parsed(root)
    if isinstance(parsed, str):
        raise click.ClickException(
            f"{parsed}: `longitude {command}` reads a local root; object-store roots run with `longitude "
            f"materialize` and `longitude demo` so far (docs/scale-out.md, storage)"
        )


def local_root(root: str | None, *, new_root_ok: bool) -> str | None:
    """`root` unchanged for a local root; for an object-store URL, the path of a fresh working copy of it
    (pulled by pointers into the system temp dir), which `push` publishes back and the process end removes."""
    from schemas.publish_store import PointerError
    from schemas.store import RootError, StoreError
    from schemas.working_copy import open_working_copy

    url = _parsed(root)
    if not isinstance(url, str):
        return root
    try:
        copy = open_working_copy(url)
    except (StoreError, PointerError, RootError) as err:
        raise click.ClickException(str(err)) from None
    if copy.empty and not new_root_ok:
        copy.close()
        raise click.ClickException(
            f"{url} holds no Longitude root (no landing/, longitude.json or published data). Upload source "
            f"files under {url}/landing/ first, or run `longitude demo --root {url}`."
        )
    _copies[copy.dir] = copy
    atexit.register(copy.close)
    return str(copy.dir)


def push(root: Path) -> None:
    """Publish to the store what the steps so far published in the working copy at `root` (no-op if local)."""
    copy = _copies.get(Path(root))
    if copy is not None:
        copy.push()


def is_working_copy(root: Path) -> bool:
    return Path(root) in _copies
