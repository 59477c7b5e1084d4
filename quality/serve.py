"""`longitude quality serve`: the stewards' site as a Starlette app, where a review is made from the page.

GET / renders the same Jinja2 template as the static export, from the stores as they are now (check results,
PHI audit summary, ledger, quarantine, review log) plus review forms; POST /review appends to the review log
(targets validated as on the command line) and redirects back to the reviewed row. The Data Docs and the
review log exports are served beside it. Meant for 127.0.0.1: a POST from a page of another origin is refused.
"""

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from quality import review
from quality.picture_cache import cached_plots
from quality.records import site_dir
from quality.report import after_review, load_report, review_targets
from quality.site import render
from quality.templating import anchor
from schemas.layout import Layout

MAX_FORM_BYTES = 64 * 1024


def create_app(root: Path, on_review: Callable[[Path, dict], object] | None = None) -> Starlette:
    """The app for one root. `on_review(root, entry)` runs after each recorded review (the CLI's records it in
    the root's Dagster instance too); by default the static page is rewritten (quality.report.after_review)."""
    root = Path(root).resolve()
    layout = Layout(root)
    site = site_dir(layout.quality)

    def page(flash: str | None = None, status_code: int = 200) -> HTMLResponse:
        # plots as drawn from the data as it is now: redrawn after a materialization, else read from the cache
        images = cached_plots(layout)
        report = load_report(root)
        has_docs = (site / "gx" / "index.html").exists()
        return HTMLResponse(render(report, images, has_docs, served=True, flash=flash), status_code)

    async def index(request: Request) -> Response:
        return page(request.query_params.get("done"))

    async def post_review(request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
            return PlainTextResponse("reviews are accepted from this site's own pages only", 403)
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return PlainTextResponse("form too large", 413)
        form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        target, action = form.get("target", ""), form.get("action", "")
        try:
            entry = review.record(layout.quality, target, action, form.get("note", ""), form.get("who") or None,
                                  **review_targets(load_report(root)))  # fmt: skip
        except review.ReviewError as err:
            return page(f"Not recorded: {err}", 400)
        if on_review is not None:
            on_review(root, entry)
        else:
            after_review(root)
        done = quote(f"{review.PAST[action]} {entry['target']} ({entry['who']})")
        return RedirectResponse(f"/?done={done}#{anchor(entry['target'])}", status_code=303)

    async def reviews_csv(request: Request) -> Response:
        return PlainTextResponse(review.export(review.history(layout.quality), "csv"), media_type="text/csv")

    async def reviews_json(request: Request) -> Response:
        text = review.export(review.history(layout.quality), "json")
        return Response(text, media_type="application/json")

    routes = [
        Route("/", index),
        Route("/review", post_review, methods=["POST"]),
        Route("/reviews.csv", reviews_csv),
        Route("/reviews.json", reviews_json),
        Mount("/gx", app=StaticFiles(directory=site / "gx", html=True, check_dir=False), name="gx"),
        # subject timelines the static export drew for failing checks' example rows (quality.timeline_chart)
        Mount("/timelines", app=StaticFiles(directory=site / "timelines", check_dir=False), name="timelines"),
    ]
    return Starlette(routes=routes)
