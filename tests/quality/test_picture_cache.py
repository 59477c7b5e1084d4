"""The site's plots and timelines are redrawn only when what they are drawn from changed, and never shown stale."""

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from quality import picture_cache, review
from quality.report import after_review, load_report, run_quality
from quality.site import render
from tests.quality.conftest import KEYRING, Root

HR = "meds_data.plausibility/value_below_physiological_high"


def _set_heart_rate(root: Root, value: float) -> None:
    df = root.data("held_out", 1)
    root.write_data("held_out", 1, df.with_columns(
        numeric_value=pl.when(pl.col("code") == "LOINC//8867-4").then(pl.lit(value)).otherwise("numeric_value")))  # fmt: skip


def _build(root: Root, recheck: bool = True) -> None:
    run_quality(root.path, keyring=KEYRING, gx=False, phi_audit=False, recheck=recheck)


def _count_drawing(monkeypatch) -> dict[str, int]:
    """Counts each real drawing of the plots and of a timeline page (the functions still draw)."""
    import quality.plots
    import quality.timeline_chart

    calls = {"plots": 0, "timelines": 0}
    plots, write_timeline = quality.plots.plots, quality.timeline_chart.write_timeline

    def counted_plots(layout):
        calls["plots"] += 1
        return plots(layout)

    def counted_timeline(*args, **kwargs):
        calls["timelines"] += 1
        return write_timeline(*args, **kwargs)

    monkeypatch.setattr(quality.plots, "plots", counted_plots)
    monkeypatch.setattr(quality.timeline_chart, "write_timeline", counted_timeline)
    return calls


def _linked(root: Root) -> set[int]:
    index = (root.path / "quality" / "site" / "index.html").read_text()
    return {int(s) for s in re.findall(r'href="timelines/(\d+)\.html"', index)}


def _page(root: Root, subject: int) -> Path:
    return root.path / "quality" / "site" / "timelines" / f"{subject}.html"


@pytest.fixture
def planted(root: Root) -> tuple[Root, int]:
    _set_heart_rate(root, 900.0)
    _build(root)
    return root, root.subject_id("src-c")


@pytest.mark.integration
def test_a_review_and_the_rebuild_after_it_redraw_nothing(planted, monkeypatch):
    root, subject = planted
    assert _linked(root) == {subject} and "900.0 /min" in _page(root, subject).read_text()
    page = picture_cache.file_identity(_page(root, subject))
    images = picture_cache.cached_plots(root.layout)
    calls = _count_drawing(monkeypatch)

    review.record(root.layout.quality, f"check:{HR}", "accept", "device test data", who="ana")
    after_review(root.path)  # what `quality accept` and the served page do
    _build(root, recheck=False)  # what a partial run or a UI run does after it

    assert calls == {"plots": 0, "timelines": 0}
    index = (root.path / "quality" / "site" / "index.html").read_text()
    assert "device test data" in index and _linked(root) == {subject}
    assert picture_cache.file_identity(_page(root, subject)) == page
    assert all(uri in index for uri in images.values())  # the cached plots are the ones on the page


@pytest.mark.integration
def test_changed_data_redraws_and_a_stale_picture_is_never_shown(planted, monkeypatch):
    root, subject = planted
    old_plots = picture_cache.cached_plots(root.layout)
    _set_heart_rate(root, 950.0)  # a new MEDS shard file; no rebuild yet

    # before any rebuild, the page served from the stores links no timeline drawn from the old data
    assert subject not in picture_cache.current_timelines(root.layout)
    assert f"timelines/{subject}.html" not in render(load_report(root.path), {}, False, served=True)
    calls = _count_drawing(monkeypatch)
    _build(root)
    assert calls == {"plots": 1, "timelines": 1}
    html = _page(root, subject).read_text()
    assert "950.0 /min" in html and "900.0 /min" not in html and _linked(root) == {subject}
    assert picture_cache.cached_plots(root.layout) != old_plots  # the lab histogram has the new value
    assert calls["plots"] == 1  # and that read came from the cache the rebuild wrote


@pytest.mark.integration
def test_a_page_another_writer_replaced_is_not_taken_for_the_recorded_one(planted, monkeypatch):
    root, subject = planted
    from schemas.atomic import write_text

    write_text("<html>another drawing</html>", _page(root, subject))
    assert subject not in picture_cache.current_timelines(root.layout)
    calls = _count_drawing(monkeypatch)
    _build(root, recheck=False)
    assert calls == {"plots": 0, "timelines": 1} and "vegaEmbed" in _page(root, subject).read_text()


def test_the_renderers_code_is_part_of_the_key(root: Root, tmp_path: Path, monkeypatch):
    key = picture_cache.plots_key(root.layout)
    assert picture_cache.plots_key(root.layout) == key  # nothing changed: the same key
    code = tmp_path / "quality"
    shutil.copytree(Path(picture_cache.__file__).parent, code)
    with (code / "plots.py").open("a") as f:  # a copy of the code, edited: the write is to tmp_path
        f.write("\n# a change to how the plots are drawn\n")
    monkeypatch.setattr(picture_cache, "_HERE", code)
    picture_cache.code_identity.cache_clear()
    try:
        assert picture_cache.plots_key(root.layout) != key
    finally:
        picture_cache.code_identity.cache_clear()


def test_a_rewritten_source_file_changes_the_key_even_with_its_old_size_and_time(root: Root):
    import os

    key = picture_cache.plots_key(root.layout)
    shard = root.layout.meds_shard("held_out", 1)
    st = shard.stat()
    _set_heart_rate(root, 72.0)  # same values as before: same bytes, written anew
    os.utime(shard, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert shard.stat().st_size == st.st_size and picture_cache.plots_key(root.layout) != key


def test_a_file_a_new_version_of_its_dataset_keeps_keeps_its_identity(tmp_path: Path):
    from schemas.io import write_text
    from schemas.publish import dataset_files, publishing

    final = tmp_path / "meds"
    with publishing(final) as stage:
        write_text("events", stage.dir / "data" / "train" / "0.parquet")
        write_text("codes", stage.dir / "metadata" / "codes.parquet")

    def identities() -> list:
        return [picture_cache.file_identity(p) for p in dataset_files(final, "data/*/*.parquet")]

    drawn_from = identities()
    with publishing(final, keep_except=["metadata/*"]) as stage:  # as meds_codes publishes: data/ kept, linked
        write_text("codes, new", stage.dir / "metadata" / "codes.parquet")
    assert identities() == drawn_from
    with publishing(final, keep_except=["data/*/*"]) as stage:  # the same bytes written anew: a new file
        write_text("events", stage.dir / "data" / "train" / "0.parquet")
    assert identities() != drawn_from


def test_the_vega_bundle_is_kept_in_the_site_cache(root: Root):
    from quality.timeline_chart import vega_bundle

    bundle = vega_bundle(root.layout.quality)
    [kept] = (root.layout.quality / "site_cache" / "vendor").glob("vega-bundle-*.js")
    assert kept.read_text(encoding="utf-8") == bundle == vega_bundle()
    assert "vegaEmbed" in bundle
