"""The stewards' site's pictures (plots, subject timelines) kept between rebuilds, keyed by their inputs.

A rebuild after a review or a partial run redraws nothing whose inputs are unchanged, and always redraws what
changed (a stale picture is never shown). A picture's key is a digest of
* the identity of every file it is drawn from: its path in the root, device, inode, size and modification time.
  Every writer replaces a file by a rename (schemas.atomic, schemas.publish), so new content is a new inode; a
  file a new version of its dataset keeps is hard-linked into it (same inode), so publishing `meds_codes`
  does not redraw pictures of the unchanged `meds/data`. The change time is left out for that reason (a link
  changes it), and the resolved path because the version directory changes with each publish;
* the renderer's code: the source of the modules and templates that draw it, and the drawing libraries' releases;
* what is drawn: the subject, for a timeline.
Kept in quality/site_cache/ (quality.records.site_cache_dir), written through schemas.atomic:
    plots.json       {"key", "images": {title: PNG data URI}}: the plots the page embeds
    timelines.json   {subject_id: {"key", "html", "png"}}: each page's key and the identity of the files drawn
                     for it, so a page another writer replaced since is not taken for the one recorded
    vendor/          the Vega bundle, by vl-convert release (quality.timeline_chart.vega_bundle)
"""

import hashlib
import json
import os
from collections.abc import Iterable
from functools import cache
from importlib.metadata import version
from pathlib import Path

from quality.records import site_cache_dir
from schemas.atomic import write_text
from schemas.layout import Layout

_HERE = Path(__file__).parent
# What draws each kind of picture: a change to any of these files or releases redraws it.
PLOT_CODE = ("plots.py", "plausibility.py")
PLOT_PACKAGES = ("matplotlib", "polars")
TIMELINE_CODE = (
    "timeline.py",
    "timeline_chart.py",
    "templating.py",
    "templates/timeline.html",
    "../schemas/codes.py",
)
TIMELINE_PACKAGES = ("altair", "vl-convert-python", "polars")


def file_identity(path: Path) -> list:
    """[path, device, inode, size, mtime_ns]: what says a file is the one a picture was drawn from."""
    st = os.stat(path)  # through the dataset's pointer: the file of the version published now
    return [str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


@cache  # the code of a running process does not change under it
def code_identity(files: tuple[str, ...], packages: tuple[str, ...]) -> tuple[str, ...]:
    sources = [hashlib.sha256((_HERE / f).read_bytes()).hexdigest() for f in files]
    return (*sources, *(f"{p}=={version(p)}" for p in packages))


def digest(kind: str, sources: Iterable[Path], code: tuple[str, ...], *what: object) -> str:
    """The key of one picture: its kind, the identity of each source file, the renderer's code, what is drawn."""
    body = json.dumps([kind, [file_identity(p) for p in sources], list(code), [str(w) for w in what]])
    return hashlib.sha256(body.encode()).hexdigest()


def _read(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or unreadable: a miss, drawn again and rewritten
        return {}
    return doc if isinstance(doc, dict) else {}


def plots_path(layout: Layout) -> Path:
    return site_cache_dir(layout.quality) / "plots.json"


def timelines_path(layout: Layout) -> Path:
    return site_cache_dir(layout.quality) / "timelines.json"


def plots_key(layout: Layout) -> str:
    from quality.plots import plot_sources

    return digest("plots", plot_sources(layout), code_identity(PLOT_CODE, PLOT_PACKAGES))


def cached_plots(layout: Layout) -> dict[str, str]:
    """quality.plots.plots(layout), drawn only when its sources or code changed since the last drawing."""
    key = plots_key(layout)  # before drawing: data published meanwhile gives a newer key, so a redraw next time
    stored = _read(plots_path(layout))
    if stored.get("key") == key and isinstance(stored.get("images"), dict):
        return stored["images"]
    from quality.plots import plots

    images = plots(layout)
    write_text(json.dumps({"key": key, "images": images}), plots_path(layout))
    return images


def _timelines_key(layout: Layout) -> str:
    from quality.timeline import source_files

    return digest("timelines", source_files(layout), code_identity(TIMELINE_CODE, TIMELINE_PACKAGES))


def _page_files(layout: Layout, subject_id: int) -> tuple[Path, Path]:
    from quality.timeline import site_timelines_dir

    folder = site_timelines_dir(layout)
    return folder / f"{subject_id}.html", folder / f"{subject_id}.png"


def _is_current(record: object, key: str, files: tuple[Path, Path]) -> bool:
    if not isinstance(record, dict) or record.get("key") != key or not all(f.exists() for f in files):
        return False
    return [record.get("html"), record.get("png")] == [file_identity(f) for f in files]


def current_timelines(layout: Layout) -> set[int]:
    """Subjects whose page in the site's timelines folder was drawn from the root as it is now: the pages the
    site may link to (a page left from an older build of other data, or replaced since, is not)."""
    records = _read(timelines_path(layout))
    if not records:
        return set()
    base = _timelines_key(layout)
    return {
        int(s)
        for s, record in records.items()
        if s.lstrip("-").isdigit()
        and _is_current(record, digest("timeline", [], (base,), s), _page_files(layout, s))
    }


def draw_timelines(layout: Layout, subject_ids: list[int]) -> list[int]:
    """Pages for these subjects in the site's timelines folder, drawing only those not current; returns the
    subjects that have a current page. A subject not in MEDS (an example from a table upstream of it) is
    skipped, not an error."""
    from quality.timeline import SubjectNotFoundError

    if not subject_ids:
        return []
    records = _read(timelines_path(layout))
    base = _timelines_key(layout)  # before reading: data published meanwhile makes the record stale, not wrong
    current, changed = [], False
    for subject_id in subject_ids:
        key = digest("timeline", [], (base,), subject_id)
        if not _is_current(records.get(str(subject_id)), key, _page_files(layout, subject_id)):
            try:
                records[str(subject_id)] = _draw(layout, subject_id, key)[2]
            except SubjectNotFoundError:
                continue
            changed = True
        current.append(subject_id)
    if changed:
        write_text(json.dumps(records), timelines_path(layout))
    return current


def draw_timeline(layout: Layout, subject_id: int):
    """One subject's page in the site's timelines folder (`longitude timeline`), recorded so the site links it;
    returns (Timeline, TimelineFiles). SubjectNotFoundError when MEDS has no such subject."""
    key = digest("timeline", [], (_timelines_key(layout),), subject_id)
    timeline, files, record = _draw(layout, subject_id, key)
    records = _read(timelines_path(layout))
    records[str(subject_id)] = record
    write_text(json.dumps(records), timelines_path(layout))
    return timeline, files


def _draw(layout: Layout, subject_id: int, key: str) -> tuple:
    """(Timeline, TimelineFiles, the page's record) for one subject, drawn now."""
    from quality.timeline import load_timeline, site_timelines_dir
    from quality.timeline_chart import write_timeline

    timeline = load_timeline(layout, subject_id)
    files = write_timeline(timeline, site_timelines_dir(layout), layout.quality)
    return timeline, files, {"key": key, "html": file_identity(files.html), "png": file_identity(files.png)}
