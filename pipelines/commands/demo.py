"""`longitude demo`: generate synthetic patients into a root's landing/ and materialize everything."""

import sys
import time

import click

from pipelines.commands.common import SHARDS, console, materialize_with_progress, use_settings


@click.command("demo")
@click.option(
    "--patients",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Synthetic patients to generate.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Generator seed (same seed, same data).")
@click.option("--root", default=None, help="Data root (env LONGITUDE_ROOT, default ./longitude-data).")
@click.option(
    "--shards", type=SHARDS, default=None, help="Shard count (default 4, or what the root was built with)."
)
@click.option("--verbose", is_flag=True, help="Show Dagster's and the libraries' logs as the steps run.")
def command(patients: int, seed: int, root: str | None, shards: int | None, verbose: bool) -> None:
    """Try Longitude end to end on built-in synthetic data, with a generated demo secret."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from synthetic import generate_landing

    settings = use_settings(root, shards, None, demo=True, object_store=True)
    landing = settings.layout.landing
    started = time.perf_counter()
    columns = (TextColumn("[bold]generate"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("generate", total=patients)
        summary = generate_landing(landing, patients, seed, progress=lambda n: progress.advance(task, n))
    seconds = time.perf_counter() - started
    console.print(f"Generated {patients} patients (seed {seed}) into {landing} in {seconds:.1f}s")
    if isinstance(summary, dict):
        console.print({k: v for k, v in summary.items() if not isinstance(v, dict | list)})
    ok = materialize_with_progress(settings, None, verbose=verbose)
    if settings.layout.store_url:  # the working copy goes away with this process: point at the store
        console.print(
            f"Published to {settings.layout.store_url} (each dataset's current version: <dataset>.pointer.json)"
        )
    else:
        _where_to_look(settings.root)
    sys.exit(0 if ok else 1)


def _a_subject(root) -> str:
    """One pseudonymous subject id of the built root, to try `longitude timeline` with (SUBJECT_ID if none)."""
    import polars as pl

    from schemas.layout import Layout

    path = Layout(root).meds_subject_splits
    ids = pl.read_parquet(path, columns=["subject_id"])["subject_id"].head(1) if path.exists() else []
    return str(ids[0]) if len(ids) else "SUBJECT_ID"


def _where_to_look(root) -> None:
    console.print(
        "\n[bold]Where to look next[/]\n"
        f"  MEDS dataset      {root / 'meds'}  (data/<split>/<shard>.parquet, metadata/)\n"
        f"  SQL over it all   duckdb {root / 'catalog.duckdb'}  ->  select * from meds_data limit 10;\n"
        f"  ledger            {root / 'quality' / 'ledger'}  (records in = out + quarantined, per file)\n"
        f"  quarantine (PHI)  {root / 'quarantine'}\n"
        f"  asset graph, runs longitude ui --root {root}  (Dagster UI; instance in {root / 'dagster'})\n"
        f"  one patient       longitude timeline {_a_subject(root)} --root {root}  (offline page + PNG)\n"
        f"  stewards' site    {root / 'quality' / 'site' / 'index.html'}  (longitude quality --root {root})\n"
        f"  notes, imaging    {root / 'notes'}, {root / 'imaging'}  (de-identified)\n"
        f"  features, labels  {root / 'features'}  (longitude features --root {root} --labels L --out O)\n"
        f"  tokens, model     {root / 'tokens'}, {root / 'models'}  (longitude train --root {root})\n"
    )
