"""What the subcommands share: root/shard options, settings from the environment, materialize with progress."""

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

if TYPE_CHECKING:
    from pipelines.settings import Settings

# Files or folders only a Longitude root has: a path with none of them is a mistyped --root, not a new root.
ROOT_MARKERS = ("longitude.json", "landing", "meds", "quality")


console = Console(stderr=True)
# A TCP port: click's plain int would let 99999 through, which the socket layer wraps to another port.
PORT = click.IntRange(1, 65535)
SHARDS = click.IntRange(min=1)


def root_options(fn):
    fn = click.option(
        "--workers", type=click.IntRange(min=0), default=0, help="Parser processes (default: one per core)."
    )(fn)
    fn = click.option("--splits", default=None, help="train/tuning/held_out fractions, e.g. 80/10/10.")(fn)
    fn = click.option(
        "--shards", type=SHARDS, default=None, help="Shard count (env LONGITUDE_SHARDS, default 4)."
    )(fn)
    fn = click.option("--root", default=None, help="Data root (env LONGITUDE_ROOT, default ./longitude-data).")(fn)
    return fn


def use_settings(
    root: str | None,
    shards: int | None,
    splits: str | None,
    *,
    workers: int = 0,
    strict: bool = False,
    demo: bool = False,
    object_store: bool = False,
    steps_elsewhere: str | None = None,
) -> "Settings":
    """Resolve settings, pin them for the code location (which reads the environment once), or exit clearly.

    Only `longitude demo` may start a new root; anything else needs an existing one (a mistyped --root would
    otherwise become a new, empty root). `object_store`: the command runs steps, so `--root s3://...` is a
    run's working copy of that root (pipelines.commands.store_root); other commands refuse a URL.
    `steps_elsewhere` ("driver" or "worker"): the steps run in Celery workers, each in a working copy of its
    own, so this process holds a light one (single files only)."""
    from pipelines.commands import store_root
    from pipelines.settings import SECRET_ENV, SettingsError, pin, settings_from_env

    if object_store:
        root = store_root.local_root(
            root, new_root_ok=demo, light=steps_elsewhere is not None, driver=steps_elsewhere == "driver"
        )
    if not demo:
        existing_root(root)
    elif root_path(root).exists() and not root_path(root).is_dir():
        raise click.ClickException(f"{root_path(root)} is a file; --root names a folder (new or a root)")
    try:
        settings = settings_from_env(root, n_shards=shards, splits=splits, demo=demo, strict=strict)
    except SettingsError as err:
        raise click.ClickException(str(err)) from None
    if settings.demo:
        console.print(
            f"[yellow]Demo mode:[/] using the generated secret in {settings.root / 'demo-secret.txt'}; "
            f"pseudonyms and date shifts are only as secret as that file. Set {SECRET_ENV} for real data."
        )
    pin(settings)
    os.environ["LONGITUDE_ROOT"] = str(settings.root)
    os.environ["LONGITUDE_SHARDS"] = str(settings.n_shards)
    os.environ["LONGITUDE_SPLITS"] = "/".join(str(f) for f in settings.split_fractions)
    os.environ["LONGITUDE_STRICT"] = "1" if strict else ""
    if workers:
        os.environ["LONGITUDE_WORKERS"] = str(workers)
    return settings


def materialize_with_progress(
    settings: "Settings",
    select: list[str] | None,
    *,
    verbose: bool = False,
    partitions: list[str] | None = None,
    engine: tuple[str, dict] | None = None,
) -> bool:
    """Materialize with a progress bar; True when every blocking check passed. The check summary is read from
    the check store (quality/checks/), the same results the Dagster UI and the stewards' site show."""
    from rich.markup import escape

    from pipelines.startup_gc import StartupGC
    from schemas.pandas_probe import settle_without_pandas
    from schemas.publish import sweep
    from schemas.run_lock import RootBusyError, run_lock

    settle_without_pandas()  # the steps' first `pa.array` would import pandas for nothing (schemas.pandas_probe)

    def took_over(dead) -> None:
        console.print(f"[yellow]Note:[/] took over the run lock of {escape(dead.describe())}, which ended without "
                      "releasing it; what it left half-done is swept now and rebuilt by this run.")  # fmt: skip

    try:  # one run per root at a time; materialize.run takes the same lock (a no-op inside this one)
        ctx = click.get_current_context(silent=True)
        command = f"longitude {ctx.info_name if ctx else 'materialize'}"  # materialize, demo
        with (
            StartupGC() as startup,  # until the instance is open (pipelines.startup_gc)
            run_lock(settings.root, wait=False, command=command, on_takeover=took_over),
        ):
            sweep(settings.root)  # what a crashed run left, before anything of this run is staged
            head_start = _begin_fhir_parse(settings, select, engine)
            try:
                from pipelines import materialize
                from pipelines.definitions import defs

                try:
                    steps = materialize.plan(defs, select, partitions or None)
                except materialize.SelectionError as err:
                    raise click.ClickException(str(err)) from None
                if head_start and not any(k.to_user_string() == "fhir_raw" for s in steps for k in s.keys):
                    _cancel_fhir_parse()
                elif head_start:
                    _build_meds_ahead(settings, steps)
                return _materialize_steps(settings, steps, verbose=verbose, engine=engine, started=startup.done)
            finally:
                if head_start:
                    _cancel_fhir_parse()  # begun and never taken: the run stopped before its step
    except RootBusyError as err:
        raise click.ClickException(str(err)) from None


def _begin_fhir_parse(settings: "Settings", select: list[str] | None, engine: tuple[str, dict] | None) -> bool:
    """Start the FHIR parse before Dagster and the code location load (2-3 s of CPU before the first step), so
    its parser processes work meanwhile; the `fhir_raw` step takes it over (pipelines.defs.fhir.head_start).
    Only where that step likely runs here: an in-process run whose selection is everything, names fhir_raw, or
    asks for what is upstream of an asset (`*catalog`); a plan without the step cancels it. True when begun."""
    if engine is not None and engine[0] != "in_process":
        return False
    if select and not any("fhir_raw" in s or s.strip().startswith("*") for s in select):
        return False
    if not settings.layout.landing_fhir.is_dir():
        return False
    from pipelines.defs.fhir.head_start import begin
    from pipelines.settings import ingest_chunks_of, read_pinned
    from schemas.cpus import available_cpus  # as LongitudeResource.worker_count

    workers = int(os.environ.get("LONGITUDE_WORKERS") or 0) or available_cpus()
    n_chunks = ingest_chunks_of(read_pinned(settings.root), os.environ)  # as the code location's partitions
    return begin(settings.layout, settings.keyring, settings.n_shards, settings.strict, workers, n_chunks)


def _build_meds_ahead(settings: "Settings", steps: list) -> None:
    """The plan's MEDS shards are computed in the parser processes once the parse is published, while the FHIR
    step's checks run (pipelines.defs.meds.ahead); each `meds_data` step writes its shard, or computes it
    itself when its inputs changed meanwhile."""
    from pipelines.defs.fhir.head_start import build_meds_ahead

    shards = [
        int(p) for s in steps if any(k.to_user_string() == "meds_data" for k in s.keys) for p in s.partition_keys
    ]
    build_meds_ahead(settings.layout, settings.keyring, settings.split_fractions, shards)


def _cancel_fhir_parse() -> None:
    from pipelines.defs.fhir.head_start import cancel

    cancel()


def _materialize_steps(
    settings: "Settings",
    steps: list,
    *,
    verbose: bool,
    engine: tuple[str, dict] | None,
    started: Callable[[], None] = lambda: None,
) -> bool:
    """Run the steps with a progress bar and print the check summary; `started` is called once the root's
    instance is open, before the first step (the end of start-up)."""
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipelines import materialize
    from pipelines.commands import store_root
    from pipelines.definitions import defs
    from pipelines.engines import k8s_run_launcher
    from pipelines.instance import root_instance

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    stopped: Exception | None = None
    outcome, instance = None, None
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("materialize", total=sum(len(s.partition_keys) for s in steps))

        def on_progress(label: str, done: int, total: int) -> None:
            progress.update(task, completed=done, description=label)
            store_root.push(settings.root)  # an object-store root: what the steps so far published, to the store

        from quality.verbosity import library_output

        try:
            executor, executor_config = engine or (None, None)
            launcher = k8s_run_launcher(executor_config or {}) if executor == "k8s" else None
            instance = root_instance(settings.layout, launcher)  # the UI (`longitude ui`) shows these runs
            started()
            with library_output(verbose):
                outcome = materialize.run(
                    defs,
                    steps,
                    swept=True,  # above, before the FHIR parse began staging
                    instance=instance,
                    on_progress=on_progress,
                    verbose=verbose,
                    executor=executor,
                    executor_config=executor_config,
                    tags=store_root.run_tags(settings.root),  # an object-store root: its lease's token
                )
        except (materialize.BlockingCheckError, materialize.StepFailedError) as err:
            stopped = err
            store_root.push(settings.root)  # what the steps before the stop published stays published
    from pipelines.site_refresh import site_built

    rebuild = instance is not None and _site_left_behind(steps, outcome) and site_built(settings.root)
    if stopped is not None:
        console.print(f"[red]Stopped:[/] {escape(str(stopped))}")
        failed = getattr(stopped, "failed", [])
        print_check_rows(settings.root, {(a, c) for a, c in failed}, only_failed=True)
        if rebuild:
            _rebuild_site(settings, instance, stopped)
        return False
    for label, seconds in outcome.materialized:
        console.print(f"  {seconds:6.1f}s  {escape(label)}")
    ran = {(asset, check) for asset, check, _, _ in outcome.checks}
    where = settings.layout.store_url or settings.root
    console.print(f"Materialized {len(outcome.materialized)} steps under {where}; {len(ran)} checks ran.")
    print_check_rows(settings.root, ran, only_failed=False)
    if rebuild:
        _rebuild_site(settings, instance, None)
    return True


def _site_left_behind(steps: list, outcome) -> bool:
    """Checks stored results in this run and the site was not rebuilt after them: the selection left the
    quality_site asset out, or a stop came before it (`outcome` None). The page would show the old results."""
    from pipelines.site_refresh import SITE_ASSET

    if outcome is None:
        return True
    planned = any(k.to_user_string() == SITE_ASSET for s in steps for k in s.keys)
    return bool(outcome.checks) and not planned


def _rebuild_site(settings: "Settings", instance, stopped: Exception | None) -> None:
    """The stewards' page from the check store as this run left it (pipelines.site_refresh), one line saying so."""
    from rich.markup import escape

    from pipelines.commands import store_root
    from pipelines.site_refresh import rebuild_site
    from schemas.working_copy import shown

    why = "a stopped run" if stopped is not None else "a run without quality_site"
    page = shown(settings.root, settings.root / "quality" / "site" / "index.html")
    try:
        report = rebuild_site(settings.root, instance, f"longitude materialize ({why})")
    except Exception as err:  # the steps are done and their results stored: say the page is behind, go on
        first = (str(err).strip().splitlines() or [""])[0]
        console.print(f"[yellow]The stewards' site was NOT rebuilt[/] ({type(err).__name__}: {escape(first)}): "
                      f"{page} shows older results; `longitude quality` rebuilds it")  # fmt: skip
        return
    store_root.push(settings.root)
    console.print(f"Stewards' site rebuilt from the stored results: {page} ({report.timings['rebuild']:.1f}s)")


def print_check_rows(
    root: Path, checks: set[tuple[str, str]] | None, *, only_failed: bool, limit: int = 20
) -> None:
    """One line per failed rule of the given (asset, check)s as stored, with its reason and where it is documented;
    then the totals."""
    from rich.markup import escape

    from quality import review
    from quality.check_store import read, stored_checks
    from schemas.layout import partition_label

    rows = [r for r in read(root) if checks is None or (r.asset, r.check) in checks]
    stored = {c for c in stored_checks(root) | {(r.asset, r.check) for r in rows} if checks is None or c in checks}
    without_rows = len(stored - {(r.asset, r.check) for r in rows})
    review.attach(rows, review.state(Path(root) / "quality"))
    blocking = [r for r in rows if r.blocking]
    warnings = [r for r in rows if r.shouting and r.severity == "warn"]
    from schemas.working_copy import shown  # a working copy's files by their objects' URLs

    if not only_failed:
        console.print(
            f"{len(rows)} check results from {len(stored)} checks"
            + (f" ({without_rows} found no table a schema describes)" if without_rows else "")
            + f": {len(blocking)} blocking failures, {len(warnings)} open warnings "
            f"(stored in {shown(Path(root), Path(root) / 'quality' / 'checks')})"
        )
    if not only_failed:
        print_quarantine(Path(root), limit)
    for r in (blocking + warnings)[:limit]:
        colour, label = ("red", "FAIL") if r.blocking else ("yellow", "warn")
        where = f" [{partition_label(r.partition)}]" if r.partition is not None else ""
        console.print(f"  [{colour}]{label}[/] {escape(r.rule)}{escape(where)}: {escape(r.reason)}  (see {r.doc})")
    if len(blocking) + len(warnings) > limit:
        more = len(blocking) + len(warnings) - limit
        console.print(f"  ... and {more} more: longitude quality --root {shown(Path(root), Path(root))}")


def print_quarantine(root: Path, limit: int) -> None:
    """Quarantined records by asset and reason code, as the site's quarantine section counts them, each with
    the review target a steward names (`quarantine:<asset>/<code>`) and its review state, as the site shows it."""
    from rich.markup import escape

    from quality import review
    from quality.report import quarantine_by_code, quarantine_summary
    from schemas.layout import Layout

    by_code = quarantine_by_code(quarantine_summary(Layout(root)))
    if by_code.is_empty():
        return
    reviews = review.state(Path(root) / "quality")
    console.print(f"{int(by_code['records'].sum())} records quarantined, by reason:")
    for row in by_code.head(limit).iter_rows(named=True):
        target = f"quarantine:{row['asset']}/{row['reason_code']}"
        current = reviews.get(target)
        state = f"{review.PAST[current['action']]} by {current['who']}" if current else "to review"
        console.print(
            f"  [yellow]quarantine[/] {target}: {row['records']} records, e.g. {escape(row['reason'])} "
            f"({escape(state)})"
        )
    if by_code.height > limit:
        console.print(f"  ... and {by_code.height - limit} more reasons on the site")


def root_path(root: str | None) -> Path:
    """A local root; a mistyped URL, or an object-store root for a command that reads a local one, stops here."""
    from pipelines.commands.store_root import command_root, is_working_copy

    path = Path(root or os.environ.get("LONGITUDE_ROOT") or "./longitude-data")
    if not is_working_copy(path):
        ctx = click.get_current_context(silent=True)
        path = command_root(root, ctx.command_path if ctx else "longitude") or path
    return path.resolve()


def is_root(path: Path) -> bool:
    return path.is_dir() and any((path / marker).exists() for marker in ROOT_MARKERS)


def existing_root(root: str | None) -> Path:
    """The root, which must exist: otherwise a short error naming the closest existing roots beside it."""
    path = root_path(root)
    if is_root(path):
        return path
    parent = path.parent
    siblings = [p.name for p in parent.iterdir() if is_root(p)] if parent.is_dir() else []
    close = difflib.get_close_matches(path.name, siblings, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(str(parent / c) for c in close)}?" if close else ""
    what = (
        "does not exist" if not path.exists() else f"is not a Longitude root (none of {', '.join(ROOT_MARKERS)})"
    )
    raise click.ClickException(
        f"{path} {what}.{hint} Put source files under <root>/landing/ first, or run `longitude demo --root PATH`."
    )
