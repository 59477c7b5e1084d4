"""`longitude tables`: check a mapping (against a sample of its data), or list the mappings Longitude ships."""

import click

from pipelines.commands.common import console


@click.group("tables")
def command() -> None:
    """Declarative YAML mappings for tabular sources (CSV, CSV.gz, Parquet)."""


@command.command("check")
@click.argument("mapping", type=click.Path(exists=True, dir_okay=True))
@click.option("--data", "data", type=click.Path(exists=True, file_okay=False), help="Folder of the extract "
              "(default: the source folder given, or the mapping file's folder when it holds data).")  # fmt: skip
@click.option("--rows", default=1000, show_default=True, help="Rows sampled from each table.")
@click.option("--examples", default=5, show_default=True, help="De-identified example events shown.")
def check(mapping: str, data: str | None, rows: int, examples: int) -> None:
    """Validate a mapping.yaml (or a source folder), then run it on a sample of the data and report what each
    table would produce; exits non-zero on any mistake that would fail or empty a run."""
    from pathlib import Path

    from rich.markup import escape

    from pipelines.defs.tables.check import check_source, data_dir_for
    from pipelines.defs.tables.mapping import MappingError, load_mapping, resolve_mapping

    path = Path(mapping)
    try:
        m = resolve_mapping(path) if path.is_dir() else load_mapping(path)
    except MappingError as err:
        raise click.ClickException(str(err)) from None
    folder = Path(data) if data else data_dir_for(path)
    if folder is None:
        console.print(
            f"[green]ok[/] {m.source}: {len(m.tables)} tables, {len(m.events)} event rules (schema only: no data "
            "next to the mapping; give --data to check against an extract)"
        )
        return
    report = check_source(m, folder, sample=rows, n_examples=examples)
    for r in report.rules:
        lost = ", ".join(f"{k} {v}" for k, v in sorted(r.rejected.items()))
        head = f"[bold]{escape(r.name)}[/] (table {escape(r.table)}): {r.rows} sampled rows -> {r.events} events"
        console.print(head + (f"; quarantined: {lost}" if lost else ""))
        for code, n in r.codes:
            console.print(f"    {n:7d}  {escape(code)}")
    if report.examples:
        console.print("[bold]Examples[/] (pseudonymous subjects, times shifted by one random offset, no text):")
        for e in report.examples:
            value = "" if e["numeric_value"] is None else f" = {e['numeric_value']:g} {e['unit'] or ''}"
            text = f" {e['text_value']}" if e["text_value"] else ""
            console.print(
                f"    {e['subject']}  {e['time'] or '(static)':26}  {escape(e['code'])}{escape(value)}{text}"
            )
    for w in report.warnings:
        console.print(f"[yellow]warning[/] {escape(w)}")
    for p in report.problems:
        console.print(f"[red]error[/] {escape(p)}")
    if not report.ok:
        raise click.ClickException(f"{m.source}: {len(report.problems)} problems would fail or empty a run")
    console.print(f"[green]ok[/] {m.source}: {len(m.tables)} tables, {len(m.events)} event rules, "
                  f"checked on up to {rows} rows per table; {len(report.warnings)} warnings")  # fmt: skip


@command.command("draft")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--source", default=None, help="Source name (default: the folder's name, as a slug).")
@click.option("--rows", default=500, show_default=True, help="Rows read per file to recognize times and numbers.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (default: print).")
def draft(folder: str, source: str | None, rows: int, output: str | None) -> None:
    """A first mapping.yaml for an extract: every file a table, the subject key and table, a rule per table
    with its time column; TODOs for what only the engineer knows. Check it with `longitude tables check`."""
    import re
    from pathlib import Path

    from pipelines.defs.tables.draft import draft_mapping

    path = Path(folder)
    slug = source or re.sub(r"[^a-z0-9_-]+", "-", path.resolve().name.lower()).strip("-") or "source"
    text = draft_mapping(path, slug, rows)
    if output is None:
        click.echo(text, nl=False)
        return
    target = Path(output)
    if target.exists():
        raise click.ClickException(f"{target} exists; choose another --output")
    target.write_text(text, encoding="utf-8")
    console.print(f"[green]wrote[/] {target}: review its TODOs, then `longitude tables check {path}`")


@command.command("shipped")
def shipped() -> None:
    """List the shipped mappings (name them in landing/tables/<source>/longitude-source.yaml)."""
    from pipelines.defs.tables.mapping import SHIPPED, load_mapping

    for path in sorted(SHIPPED.glob("*.yaml")):
        console.print(f"{path.stem:16} {load_mapping(path).description}")
