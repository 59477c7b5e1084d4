"""`longitude features`: point-in-time features for a label table; `labels` builds task labels; `online` serves."""

import json
import sys
import time
from datetime import datetime

import click

from pipelines.commands.common import PORT, console, existing_root


@click.group("features", invoke_without_command=True)
@click.option("--root", default=None, help="Data root (env LONGITUDE_ROOT, default ./longitude-data).")
@click.option("--labels", "labels", type=click.Path(), help="Label table: a Parquet file or a folder of them.")
@click.option("--spec", default=None, help="Feature spec: a shipped name (default, all_codes) or a YAML file.")
@click.option("--out", type=click.Path(), help="Output Parquet file.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["wide", "sparse"]),
    default="wide",
    show_default=True,
    help="wide: one row per label row; sparse: one row per non-default (label row, feature).",
)
@click.pass_context
def command(
    ctx: click.Context, root: str | None, labels: str | None, spec: str | None, out: str | None, output: str
) -> None:
    """Point-in-time features for LABELS from the root's MEDS data: only events before each prediction time.

    \b
    longitude features --labels labels.parquet --out features.parquet [--spec default] [--format sparse]
    longitude features labels --task readmission_30d [--out labels.parquet]
    longitude features online --materialize | longitude features online SUBJECT_ID... [--as-of TIME]
    """
    ctx.obj = {"root": root, "spec": spec}
    if ctx.invoked_subcommand:
        return
    if not labels or not out:
        raise click.UsageError("give --labels and --out (or a subcommand: labels, online)")
    import polars as pl
    import pyarrow as pa

    from featurestore.offline import get_features
    from schemas.labels import read_label_table

    started = time.perf_counter()
    where = existing_root(root)
    try:
        read_label_table(
            labels
        )  # a file that is no Parquet stops here, named (its reader's message may quote bytes)
    except pl.exceptions.ColumnNotFoundError:
        raise click.ClickException(
            f"--labels {labels}: a label table has subject_id and prediction_time"
        ) from None
    except (pl.exceptions.PolarsError, pa.ArrowException, IsADirectoryError, PermissionError):
        raise click.ClickException(f"--labels {labels}: not a readable Parquet label table") from None
    except (FileNotFoundError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    try:
        path = get_features(where, labels, spec, output=output, out=out)
    except (FileNotFoundError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    console.print(
        f"Wrote {meta.num_rows} rows x {meta.num_columns} columns ({output}) to {path} "
        f"in {time.perf_counter() - started:.1f}s"
    )


@command.command("labels")
@click.option("--task", "task", default=None, help="A shipped task name or a task YAML file.")
@click.option("--root", default=None, help="Data root (default: the group's --root).")
@click.option(
    "--out",
    type=click.Path(),
    default=None,
    help="One Parquet file; default: features/labels/<task>/<shard>.parquet under the root.",
)
@click.option("--list", "list_only", is_flag=True, help="List the shipped tasks and feature specs.")
@click.pass_context
def labels_command(
    ctx: click.Context, task: str | None, root: str | None, out: str | None, list_only: bool
) -> None:
    """Build the MEDS label table of a task from the root's MEDS data."""
    from featurestore.codesets import shipped_codesets
    from featurestore.spec import shipped_specs
    from featurestore.tasks import load_task, shipped_tasks

    if list_only or not task:
        if not list_only:
            raise click.UsageError("give --task NAME (or --list)")
        click.echo("tasks: " + ", ".join(shipped_tasks()))
        click.echo("specs: " + ", ".join(shipped_specs()))
        click.echo("code sets: " + ", ".join(shipped_codesets()))
        return
    from featurestore.labels import write_labels

    try:
        summary = write_labels(existing_root(root or ctx.obj["root"]), load_task(task), out=out)
    except (FileNotFoundError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    console.print(
        f"{summary['task']}: {summary['rows']} label rows ({summary['positives']} positive) -> {summary['path']}"
    )


@command.command("online")
@click.argument("subject_ids", nargs=-1, type=int)
@click.option("--root", default=None, help="Data root (default: the group's --root).")
@click.option("--spec", default=None, help="Feature spec name (default: the group's --spec, else default).")
@click.option("--as-of", "as_of", default=None, help="ISO time in the data's timeline (default: now, UTC).")
@click.option("--materialize", is_flag=True, help="(Re)build the online table (or store) for the spec first.")
@click.option("--all", "show_all", is_flag=True, help="Print every feature, not only the non-default ones.")
@click.option(
    "--serve",
    "port",
    type=PORT,
    default=None,
    help="Serve GET /features/<subject_id>?as_of=... on 127.0.0.1:PORT instead of printing.",
)
@click.option(
    "--online-store",
    "online_store",
    type=click.Choice(["memory", "local", "redis"]),
    default="memory",
    envvar="LONGITUDE_ONLINE_STORE",
    show_default=True,
    help="memory: load every shard's online table into this process; local: the SQLite store under the root; "
    "redis: the Redis server of --redis-url. With local or redis, --materialize writes a new version into "
    "the store and lookups read only their subjects from it.",
)
@click.option(
    "--redis-url",
    "redis_url",
    default=None,
    envvar="LONGITUDE_REDIS_URL",
    help="redis://[user:password@]host:port/db (default redis://127.0.0.1:6379/0; env LONGITUDE_REDIS_URL).",
)
@click.pass_context
def online_command(
    ctx: click.Context,
    subject_ids: tuple[int, ...],
    root: str | None,
    spec: str | None,
    as_of: str | None,
    materialize: bool,
    show_all: bool,
    port: int | None,
    online_store: str,
    redis_url: str | None,
) -> None:
    """Latest features of SUBJECT_IDS as of now (or --as-of), from the materialized online table, as JSON."""
    from featurestore.online import OnlineStore, materialize_online
    from featurestore.online_backend import StoreError

    try:
        when = datetime.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise click.ClickException(
            "--as-of is not an ISO date or time (e.g. 2024-05-01 or 2024-05-01T08:30)"
        ) from None
    path = existing_root(root or ctx.obj["root"])
    spec = spec or ctx.obj["spec"] or "default"
    try:
        if online_store != "memory":
            store = _store_reader(path, spec, online_store, redis_url, materialize)
            if not subject_ids and port is None:
                return
        else:
            if materialize:
                counts = materialize_online(path, spec)
                console.print(
                    f"online table for {spec!r}: {sum(counts.values())} state rows in {len(counts)} shards"
                )
            if not subject_ids and port is None:
                return
            from featurestore.spec import load_spec

            store = OnlineStore.open(path, load_spec(spec).name)
        if port is not None:
            from featurestore.serve import serve

            console.print(f"serving {len(store.feature_names)} features on http://127.0.0.1:{port}/features/<id>")
            serve(store, port=port)
            return
        view = store if isinstance(store, OnlineStore) else store.for_subjects(list(subject_ids))
    except (FileNotFoundError, ValueError, StoreError) as err:
        raise click.ClickException(str(err)) from None
    result = {}
    for sid in subject_ids:
        if show_all:
            vec = view.vector(sid, when)
            result[str(sid)] = {
                n: None if v != v else float(v) for n, v in zip(view.feature_names, vec.tolist(), strict=True)
            }
        else:
            result[str(sid)] = view.lookup(sid, when)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


def _store_reader(path, spec: str, kind: str, redis_url: str | None, materialize: bool):
    """An OnlineReader of the local or Redis store (after pushing a new version with --materialize)."""
    from featurestore.online_open import open_backend
    from featurestore.online_reader import OnlineReader
    from featurestore.spec import load_spec

    backend = open_backend(kind, path, redis_url)
    if materialize:
        from featurestore.online_push import push_online

        started = time.perf_counter()
        counts = push_online(path, backend, spec)
        console.print(
            f"online store ({kind}) for {spec!r}: {sum(counts.values())} subjects in {len(counts)} shards, "
            f"published in {time.perf_counter() - started:.1f}s"
        )
    return OnlineReader(backend, load_spec(spec).name)
