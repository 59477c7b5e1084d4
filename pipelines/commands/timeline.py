"""`longitude timeline`: one de-identified subject's events over time, as an offline HTML page and a PNG."""

import time
from pathlib import Path

import click

from pipelines.commands.common import console, root_path
from pipelines.settings import ROOT_SETTINGS_FILE


@click.command("timeline")
@click.argument("subject_id", type=int)
@click.option("--root", default=None, help="Data root (env LONGITUDE_ROOT, default ./longitude-data).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for <subject>.html and .png (default: ROOT/quality/site/timelines).")  # fmt: skip
def command(subject_id: int, root: str | None, out_dir: Path | None) -> None:
    """Draw SUBJECT_ID's timeline (meds/, notes/, imaging/ only): code families as lanes, encounters as bands."""
    from schemas.working_copy import shown

    where = root_path(root)
    if not (where / ROOT_SETTINGS_FILE).exists():
        raise click.ClickException(
            f"{shown(where, where)} is not a Longitude root (no {ROOT_SETTINGS_FILE}); check --root."
        )
    from quality.picture_cache import draw_timeline
    from quality.timeline import SubjectNotFoundError, load_timeline
    from quality.timeline_chart import write_timeline
    from schemas.layout import Layout

    layout = Layout(where)
    started = time.perf_counter()
    try:
        if out_dir is None:  # the site's folder: recorded, so the site links the page while the data is unchanged
            timeline, files = draw_timeline(layout, subject_id)
        else:
            timeline = load_timeline(layout, subject_id)
            files = write_timeline(timeline, out_dir, layout.quality)
    except SubjectNotFoundError as err:
        raise click.ClickException(str(err)) from None
    console.print(
        f"Subject {subject_id}: {timeline.events.height} events, {timeline.encounters.height} encounters, "
        f"{timeline.notes.height} notes, {timeline.images.height} imaging studies "
        f"in {time.perf_counter() - started:.1f}s\n  page  {shown(where, files.html)}\n"
        f"  image {shown(where, files.png)}"
    )
