"""`--root s3://bucket/prefix` on the CLI: a working copy per command, pushed after each step or at the end.

The steps and readers only know local roots (schemas.working_copy says why); this module opens the working
copy before settings are resolved, publishes back to the store what each step published (materialize, demo)
or what a command wrote when it ends (WORKING_COPY_COMMANDS), and removes the copy when the process ends.
Other commands refuse an object-store root in one line (`refuse_object_store`).
"""

import atexit
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from schemas.working_copy import WorkingCopy

DEFAULT_ROOT = "./longitude-data"  # pipelines.settings.DEFAULT_ROOT, without importing it for --help
# Commands that read a root (and write at most single files and datasets into it) and so may run on a working
# copy, pushed when they end. `worker` takes a URL through its own path (a working copy per step:
# pipelines.celery_steps); `ui` serves runs for as long as it lives, `rekey` and `train` (its agents may be on
# other nodes) have not been checked on a working copy: they refuse a URL.
WORKING_COPY_COMMANDS = ("features", "quality", "timeline")
_copies: dict[Path, "WorkingCopy"] = {}
_by_url: dict[str, Path] = {}


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
            f"{parsed}: `longitude {command}` needs a local root; object-store roots work with materialize, "
            f"demo, {', '.join(WORKING_COPY_COMMANDS)} so far (docs/scale-out.md, storage)"
        )


def local_root(root: str | None, *, new_root_ok: bool, light: bool = False, driver: bool = False) -> str | None:
    """`root` unchanged for a local root; for an object-store URL, the path of a fresh working copy of it
    (pulled by pointers into the system temp dir), which `push` publishes back and the process end removes.
    `light`: the steps run in Celery workers, each in a working copy of its own; this process (the run's
    driver, or a worker between steps) holds the single files only. The `driver` sweeps the open partition
    sets a crashed run left, as a local run sweeps its root at its start. The run (a local one, or the driver
    of a distributed one; not a worker, which serves the driver's run) holds the root's lease
    (schemas.store_lease) from before the pull until the process ends."""
    from schemas.object_cache import CACHE_ENV, CacheError
    from schemas.publish_store import PointerError
    from schemas.store import RootError, StoreError
    from schemas.working_copy import open_working_copy

    url = _parsed(root)
    if not isinstance(url, str):
        return root
    lease = _take_lease(url) if driver or not light else None  # a worker serves the driver's run
    try:
        copy = open_working_copy(url, light=light)
    except (StoreError, PointerError, RootError, CacheError) as err:
        _release(lease, url)
        raise click.ClickException(str(err)) from None
    except BaseException:  # interrupted while pulling: the lease goes now, not a ttl later
        _release(lease, url)
        raise
    where = f"the cache at {copy.cache.dir}" if copy.cache else f"no cache ({CACHE_ENV} off or not writable)"
    click.echo(f"Pulled {url} through {where}: {copy.stats.describe()}.", err=True)
    if copy.empty and not new_root_ok:
        copy.close()
        _release(lease, url)
        raise click.ClickException(
            f"{url} holds no Longitude root (no landing/, longitude.json or published data). Upload source "
            f"files under {url}/landing/ first, or run `longitude demo --root {url}`."
        )
    copy.lease = lease
    _copies[copy.dir] = copy
    atexit.register(_release, lease, url)  # registered before the copy's removal and push: runs after both
    atexit.register(copy.close)
    if driver and (swept := copy.sweep_open()):
        click.echo(f"Swept {swept} objects of partition sets a crashed run left open in {url}.", err=True)
    return str(copy.dir)


def _take_lease(url: str):
    """This run's lease on the root at `url`, or a one-line refusal when another run holds it."""
    from schemas.store import ObjectStore, RootError, StoreError
    from schemas.store_lease import RootLeasedError, take_lease

    store = ObjectStore(url)  # every scheme takes one (S3, GCS and Azure Blob each with their own conditions)
    ctx = click.get_current_context(silent=True)

    def took_over(holder, age_s: float) -> None:
        who = holder.describe() if holder else "a run"
        click.echo(f"Note: took over the lease of {url} from {who}, which stopped renewing it {age_s:.0f} s ago "
                   "(it ended without releasing it).", err=True)  # fmt: skip

    try:
        return take_lease(store, command=ctx.command_path if ctx else None, on_takeover=took_over)
    except (RootLeasedError, StoreError, RootError) as err:
        raise click.ClickException(str(err)) from None


def _release(lease, url: str) -> None:
    from schemas.store import StoreError

    if lease is None:
        return
    try:
        lease.release()
    except StoreError as err:  # the lease then expires on its own, a ttl after its last heartbeat
        click.echo(f"Error: the lease of {url} was not released: {err}", err=True)


def command_root(root: str | None, command_path: str) -> Path | None:
    """For a command of WORKING_COPY_COMMANDS given an object-store root: its working copy (one per URL per
    process), pushed when the process ends. None for a local root; other commands refuse a URL here."""
    if not is_object_store(root):
        return None
    words = command_path.split()
    if not any(w in WORKING_COPY_COMMANDS for w in words[1:2]):
        refuse_object_store(root, " ".join(words[1:]) or "this command")
    url = _parsed(root)
    assert isinstance(url, str)
    if url not in _by_url:
        _by_url[url] = Path(local_root(root, new_root_ok=False))
        atexit.register(_push_at_exit, _by_url[url], url)  # runs before the copy's removal (atexit is LIFO)
    return _by_url[url]


def _push_at_exit(root: Path, url: str) -> None:
    from schemas.store import StoreError

    try:
        if _copies[root].push():
            click.echo(f"Published what this command wrote to {url}.", err=True)
    except StoreError as err:  # one line, as every other error; the working copy goes with the process
        click.echo(f"Error: not published to {url}: {err}", err=True)


def push(root: Path) -> None:
    """Publish to the store what the steps so far published in the working copy at `root` (no-op if local);
    a light copy then takes the single files the steps in the workers wrote (check results, ledger)."""
    copy = _copies.get(Path(root))
    if copy is not None:
        copy.push()
        if copy.light:
            copy.refresh()


def run_tags(root: Path) -> dict[str, str]:
    """The tags of the Dagster runs this command launches on `root`: the token of its lease, for the steps that
    push from working copies of their own (Celery workers; pipelines.run_fence). None for a local root."""
    from pipelines.run_fence import lease_tags

    copy = _copies.get(Path(root))
    return lease_tags(copy.lease) if copy is not None else {}  # type: ignore[arg-type]


def is_working_copy(root: Path) -> bool:
    return Path(root) in _copies
