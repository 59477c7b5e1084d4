"""`longitude generate`: write a landing tree of synthetic patients (FHIR, DICOM, notes) and its PHI truth."""

import time
from pathlib import Path

import click


@click.command("generate")
@click.option("--patients", "-n", type=click.IntRange(min=1), default=200, show_default=True, help="How many.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed and count, same bytes.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The landing directory itself, e.g. <root>/landing. A tree written here before is replaced.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: CPU count). The output does not depend on it.",
)
def command(patients: int, seed: int, out: Path, workers: int | None) -> None:
    """Generate synthetic patients with PHI: FHIR bundles and bulk NDJSON, DICOM files and clinical notes.

    Every PHI string placed in a note is listed with its exact offsets in truth/phi_spans.jsonl, so
    de-identification can be scored against truth. The data is synthetic; the PHI is fake but realistic.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from synthetic import generate_landing

    console = Console()
    start = time.perf_counter()
    columns = (TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TextColumn("patients"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("patients", total=patients)
        try:
            summary = generate_landing(out, patients, seed, lambda n: progress.advance(task, n), workers=workers)
        except OSError as err:  # a file where a folder goes, no permission, a full disk: where, and what
            raise click.ClickException(f"cannot write {err.filename or out}: {err.strerror or err}") from None
    elapsed = time.perf_counter() - start

    table = Table(title=f"{patients} synthetic patients (seed {seed}) in {elapsed:.1f} s", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    d = summary["delivery"]
    table.add_row("bundles / gzipped / NDJSON patients", f"{d['bundle']} / {d['bundle_gz']} / {d['ndjson']}")
    for rtype, n in summary["resources"].items():
        table.add_row(rtype, f"{n:,}")
    n = summary["notes"]
    table.add_row("notes: DocumentReference / .txt (not UTF-8)", f"{n['fhir']} / {n['txt']} ({n['txt_not_utf8']})")
    table.add_row("imaging studies / DICOM files", f"{summary['imaging_studies']} / {summary['dicom_files']}")
    table.add_row("files / size", f"{summary['files']:,} / {summary['bytes'] / 1e6:.1f} MB")
    console.print(table)
    console.print(f"Landing tree: {out}   PHI truth: {out / 'truth'}")
