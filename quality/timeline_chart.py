"""The timeline as a Vega-Lite chart: an offline interactive HTML page (Vega bundled inline) and a PNG."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from quality.timeline import Timeline

LANE_HEIGHT = 26  # px per code family: 8 px markers with room for the lane label
WIDTH = 960
MARKER_LANE_COLOR = {"notes": "#6a3d9a", "imaging": "#b15928"}


@dataclass(frozen=True, slots=True)
class TimelineFiles:
    html: Path
    png: Path


def _records(frame: pl.DataFrame, *time_columns: str) -> list[dict]:
    # ISO strings without an offset: Vega reads them as the viewer's local time, the same in the page and the PNG
    text = frame.with_columns(pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S") for c in time_columns)
    return text.to_dicts()


def timeline_spec(timeline: Timeline) -> dict:
    """The Vega-Lite spec: encounters as bands across all lanes, events by family, notes and images as markers."""
    import altair as alt

    lanes = timeline.lanes
    y = alt.Y("lane:N", sort=lanes, title=None, scale=alt.Scale(domain=lanes), axis=alt.Axis(labelLimit=160))
    # padding keeps the first and last marker whole instead of cut in half at the plot edge
    x = alt.X(
        "time:T",
        title="time (shifted)",
        scale=alt.Scale(padding=10),
        axis=alt.Axis(format="%Y", labelOverlap=True),
    )
    zoom = alt.selection_interval(bind="scales", encodings=["x"])

    bands = (
        alt.Chart(alt.Data(values=_records(timeline.encounters, "start", "end")), name="encounters")
        # a 30-minute visit is narrower than a pixel over decades: the stroke keeps every band visible
        .mark_rect(opacity=0.25, strokeOpacity=0.6, strokeWidth=1)
        .encode(
            x=alt.X("start:T"),
            x2="end:T",
            color=alt.Color("kind:N", title="encounter", scale=alt.Scale(scheme="category10")),
            stroke=alt.Stroke("kind:N", legend=None, scale=alt.Scale(scheme="category10")),
            tooltip=[
                alt.Tooltip("kind:N", title="encounter"),
                alt.Tooltip("start:T", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("end:T", format="%Y-%m-%d %H:%M"),
                "hours:Q",
                "reason:N",
            ],
        )
    )
    events = (
        alt.Chart(alt.Data(values=_records(timeline.events.rename({"family": "lane"}), "time")), name="events")
        .mark_point(shape="circle", filled=True, size=30, opacity=0.7, color="#33a02c")
        .encode(x=x, y=y, tooltip=["code:N", alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"), "value:N"])
    )
    markers = pl.concat([timeline.notes, timeline.images], how="vertical_relaxed")
    marks = (
        alt.Chart(alt.Data(values=_records(markers, "time")), name="documents")
        .mark_point(shape="triangle-up", filled=True, size=90, opacity=0.9)
        .encode(
            x=x,
            y=y,
            fill=alt.Fill(
                "lane:N",
                legend=None,
                scale=alt.Scale(domain=list(MARKER_LANE_COLOR), range=list(MARKER_LANE_COLOR.values())),
            ),
            tooltip=["lane:N", "label:N", alt.Tooltip("time:T", format="%Y-%m-%d %H:%M")],
        )
    )
    born = f"; born {timeline.birth:%Y-%m-%d}" if timeline.birth else ""
    static = f"{timeline.untimed} static row{'s' if timeline.untimed != 1 else ''} without a time not drawn"
    title = alt.Title(
        f"Subject {timeline.subject_id}{born}",
        subtitle=[
            f"{timeline.events.height} events in {len(lanes) - _marker_lanes(timeline)} code families, "
            f"{timeline.encounters.height} encounters, {timeline.notes.height} notes, "
            f"{timeline.images.height} imaging studies; {static}",
            "De-identified: pseudonymous id, every date shifted by the subject's one offset. Drag to pan, "
            "scroll to zoom.",
        ],
        anchor="start",
    )
    chart = (
        alt.layer(bands, events, marks)
        .add_params(zoom)
        .resolve_scale(color="independent")
        .properties(width=WIDTH, height=LANE_HEIGHT * max(len(lanes), 1), title=title)
        .configure_axis(labelFontSize=12, titleFontSize=12)
        .configure_title(fontSize=16, subtitleFontSize=12)
    )
    return chart.to_dict()


def _marker_lanes(timeline: Timeline) -> int:
    return int(timeline.notes.height > 0) + int(timeline.images.height > 0)


VEGA_PACKAGE = "vl-convert-python"  # its release fixes the Vega, Vega-Lite and vega-embed versions it bundles


@cache
def vega_bundle(quality_dir: Path | None = None) -> str:
    """Vega, Vega-Lite and vega-embed as one script (~0.9 MB) that sets them on `window`; built once per process,
    and kept in `quality_dir`'s site cache by the bundling release, so a later process reads it (building it
    costs ~2 s CPU)."""
    if quality_dir is not None:
        from importlib.metadata import version

        from quality.records import site_cache_dir
        from schemas.atomic import write_text

        path = site_cache_dir(quality_dir) / "vendor" / f"vega-bundle-{version(VEGA_PACKAGE)}.js"
        if path.exists():
            return path.read_text(encoding="utf-8")
        return write_text(vega_bundle(), path).read_text(encoding="utf-8")
    import vl_convert as vlc

    return vlc.javascript_bundle()


def timeline_html(spec: dict, subject_id: int, quality_dir: Path | None = None) -> str:
    """The page: the bundle inline and the spec as JSON, from quality/templates/timeline.html (Jinja2)."""
    from markupsafe import Markup

    from quality.templating import environment

    spec = {k: v for k, v in spec.items() if k != "$schema"}  # an identifier, but an address all the same
    # SVG renderer: markers stay countable elements in the page (what the browser test counts)
    return (
        environment()
        .get_template("timeline.html")
        .render(subject_id=subject_id, bundle=Markup(vega_bundle(quality_dir)), spec=spec)
    )


def write_timeline(timeline: Timeline, out_dir: Path, quality_dir: Path | None = None) -> TimelineFiles:
    """`<subject_id>.html` (works offline: Vega, Vega-Lite and vega-embed inline) and `<subject_id>.png`;
    `quality_dir`: a root's quality/, whose site cache keeps the Vega bundle between processes."""
    import vl_convert as vlc

    spec = timeline_spec(timeline)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = TimelineFiles(out_dir / f"{timeline.subject_id}.html", out_dir / f"{timeline.subject_id}.png")
    html = timeline_html(spec, timeline.subject_id, quality_dir)
    png = vlc.vegalite_to_png(spec, scale=2, allowed_base_urls=[])  # no URL may be fetched while rendering
    from schemas.atomic import write_bytes

    for path, body in ((files.html, html.encode()), (files.png, png)):
        write_bytes(body, path)  # atomic: a page being served is never half written
    return files
