"""`longitude materialize`: run the assets in-process with progress, for a root."""

import sys

import click

from pipelines.commands.common import root_options, use_settings


@click.command("materialize")
@root_options
@click.option(
    "--select", "select", multiple=True, help="Asset selection (repeatable): fhir_raw, meds_data+, *catalog"
)
@click.option("--strict", is_flag=True, help="Validate every FHIR resource with fhir.resources (slower).")
@click.option(
    "--partition", "partitions", multiple=True, help="Only these shards of per-shard assets (repeatable)."
)
@click.option("--verbose", is_flag=True, help="Show Dagster's and the libraries' logs as the steps run.")
def command(root: str | None, shards: int | None, splits: str | None, workers: int, select: tuple[str, ...],
            strict: bool, partitions: tuple[str, ...], verbose: bool) -> None:  # fmt: skip
    """Materialize every asset (or a selection) under the root, in dependency order."""
    settings = use_settings(root, shards, splits, workers=workers, strict=strict, demo=False)
    from pipelines.commands.common import materialize_with_progress

    ok = materialize_with_progress(settings, list(select) or None, verbose=verbose, partitions=list(partitions))
    sys.exit(0 if ok else 1)
