"""`longitude tables`: check a mapping file, or list the mappings Longitude ships."""

import click

from pipelines.commands.common import console


@click.group("tables")
def command() -> None:
    """Declarative YAML mappings for tabular sources (CSV, CSV.gz, Parquet)."""


@command.command("check")
@click.argument("mapping", type=click.Path(exists=True, dir_okay=True))
def check(mapping: str) -> None:
    """Validate a mapping.yaml (or a source folder) without reading any data."""
    from pathlib import Path

    from pipelines.defs.tables.mapping import MappingError, load_mapping, resolve_mapping

    path = Path(mapping)
    try:
        m = resolve_mapping(path) if path.is_dir() else load_mapping(path)
    except MappingError as err:
        raise click.ClickException(str(err)) from None
    console.print(f"[green]ok[/] {m.source}: {len(m.tables)} tables, {len(m.events)} event rules")


@command.command("shipped")
def shipped() -> None:
    """List the shipped mappings (name them in landing/tables/<source>/longitude-source.yaml)."""
    from pipelines.defs.tables.mapping import SHIPPED, load_mapping

    for path in sorted(SHIPPED.glob("*.yaml")):
        console.print(f"{path.stem:16} {load_mapping(path).description}")
