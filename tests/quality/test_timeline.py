"""The patient timeline: one subject from the de-identified tables only, drawn as an offline page and a PNG."""

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from quality.gx_docs import external_references
from quality.timeline import SubjectNotFoundError, load_timeline
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.meds import DATA_SCHEMA
from schemas.notes import NOTES_SCHEMA

SUBJECT = 7100
OTHER = 7200


def _at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC).replace(tzinfo=None)  # MEDS times are naive UTC


def _meds_rows(subject: int, day: int) -> list[dict]:
    t = lambda d, h=9: _at(2020, 1, d, h)  # noqa: E731
    return [
        {"subject_id": subject, "time": None, "code": "GENDER//F"},
        {"subject_id": subject, "time": _at(1950, 3, 1), "code": "MEDS_BIRTH"},
        {"subject_id": subject, "time": t(day), "code": "ENCOUNTER//AMB", "text_value": "SNOMED//1"},
        {"subject_id": subject, "time": t(day), "code": "LOINC//2345-7", "numeric_value": 5.5, "unit": "mmol/L"},
        {"subject_id": subject, "time": t(day, 10), "code": "RXNORM//123"},
        {"subject_id": subject, "time": t(day, 11), "code": "ENCOUNTER_END//AMB", "text_value": "SNOMED//1"},
        {"subject_id": subject, "time": t(day + 5), "code": "ENCOUNTER//IMP"},
        {"subject_id": subject, "time": t(day + 5, 12), "code": "SNOMED//44054006"},
        {"subject_id": subject, "time": t(day + 5, 13), "code": "LOINC//2345-7", "numeric_value": 9.1},
        {"subject_id": subject, "time": t(day + 7), "code": "ENCOUNTER_END//IMP"},
        {"subject_id": subject, "time": t(day + 6), "code": "NOTE//LOINC//11506-3", "text_value": "n1"},
        {"subject_id": subject, "time": t(day + 6), "code": "IMAGING//DX//51185008"},
    ]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A built root's de-identified zones, written directly in their schemas; raw/ holds a decoy it must not read."""
    layout = Layout(tmp_path)
    (tmp_path / "longitude.json").write_text('{"n_shards": 2, "split_fractions": [0.8, 0.1, 0.1]}\n')
    for shard, subject in enumerate((SUBJECT, OTHER)):
        rows = pl.DataFrame(_meds_rows(subject, 2 + shard), schema=pl.from_arrow(DATA_SCHEMA.empty_table()).schema)
        write_parquet(rows.to_arrow(), layout.meds_shard("train", shard), DATA_SCHEMA)
    notes = pa.Table.from_pylist([{"subject_id": SUBJECT, "time": _at(2020, 1, 8), "note_id": "n1",
                                   "note_type": "LOINC//11506-3", "type_display": "Progress note",
                                   "encounter_id": None, "text": "Seen today."}], schema=NOTES_SCHEMA)  # fmt: skip
    write_parquet(notes, layout.notes / "train" / "0.parquet", NOTES_SCHEMA)
    decoy = layout.raw_table("fhir", "events") / "shard=0"
    decoy.mkdir(parents=True)
    (decoy / "part-0.parquet").write_bytes(b"not parquet: reading raw/ would fail the test")
    return tmp_path


def test_timeline_gathers_one_subject_by_family_with_encounters_paired(root: Path):
    timeline = load_timeline(Layout(root), SUBJECT)
    assert timeline.lanes == ["LOINC", "RXNORM", "SNOMED", "notes", "imaging"]
    assert timeline.events.height == 4 and set(timeline.events["family"]) == {"LOINC", "RXNORM", "SNOMED"}
    assert timeline.encounters.select("kind", "hours").rows() == [("AMB", 2.0), ("IMP", 48.0)]
    assert timeline.notes["label"].to_list() == ["Progress note"]  # from notes/, richer than the MEDS event
    assert timeline.images["label"].to_list() == ["IMAGING//DX//51185008"]  # no imaging/ table: the MEDS event
    assert timeline.untimed == 1 and timeline.birth == _at(1950, 3, 1)
    assert "5.5 mmol/L" in timeline.events["value"].to_list()


def test_an_unknown_subject_is_refused(root: Path):
    with pytest.raises(SubjectNotFoundError, match="subject 99 is not in"):
        load_timeline(Layout(root), 99)


def test_a_mistyped_subject_is_answered_with_the_closest_ids_or_a_few_that_exist(root: Path):
    from schemas.meds import SUBJECT_SPLITS_SCHEMA

    layout = Layout(root)
    splits = pa.Table.from_pylist([{"subject_id": s, "split": "train"} for s in (SUBJECT, OTHER)],
                                  schema=SUBJECT_SPLITS_SCHEMA)  # fmt: skip
    write_parquet(splits, layout.meds_subject_splits, SUBJECT_SPLITS_SCHEMA)
    with pytest.raises(SubjectNotFoundError, match=f"did you mean {SUBJECT}\\?$"):
        load_timeline(layout, int(str(SUBJECT) + "0"))  # a digit too many
    with pytest.raises(SubjectNotFoundError, match=f"not source ids\\); e.g. {SUBJECT}, {OTHER} \\(of 2\\)$"):
        load_timeline(layout, 99)


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "timeline", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def drawn(root: Path) -> Path:
    run = _cli(str(SUBJECT), "--root", str(root))
    assert run.returncode == 0, run.stderr
    return root / "quality" / "site" / "timelines"


def test_timeline_command_writes_an_offline_page_and_a_png(drawn: Path):
    html = (drawn / f"{SUBJECT}.html").read_text()
    assert "<script src=" not in html and "cdn." not in html  # Vega is inline: the page works offline
    assert external_references(drawn) == []  # the stewards' site's own rule for what it ships
    png = (drawn / f"{SUBJECT}.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_timeline_command_says_what_is_wrong_without_a_traceback(root: Path, tmp_path: Path):
    run = _cli("99", "--root", str(root))
    assert run.returncode != 0 and "subject 99 is not in" in run.stderr and "Traceback" not in run.stderr
    run = _cli(str(SUBJECT), "--root", str(tmp_path / "typo"))
    assert run.returncode != 0 and "is not a Longitude root" in run.stderr and "Traceback" not in run.stderr


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    pytest.importorskip("playwright")
    return path


@pytest.mark.integration
def test_timeline_page_renders_offline_in_a_real_browser(drawn: Path):
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.route("http*://**", lambda route: route.abort())  # offline: any network request fails
        page.goto((drawn / f"{SUBJECT}.html").as_uri())
        page.wait_for_selector("svg .mark-symbol path", timeout=30_000)
        # events: 4 circles in the events layer; notes and imaging: 1 triangle each; bands: 2 encounters
        symbols = page.locator("svg g.mark-symbol.role-mark").evaluate_all(
            "groups => groups.map(g => [g.getAttribute('aria-roledescription'), g.querySelectorAll('path').length])"
        )
        bands = page.locator("svg g.mark-rect.role-mark path").count()
        actions = page.locator(".vega-actions").count()  # no "Open in Vega Editor": it would post the data
        lanes = page.locator("svg g.role-axis-label text").evaluate_all("ts => ts.map(t => t.textContent)")
        browser.close()
    assert errors == [] and requests == []
    assert sorted(n for _, n in symbols) == [2, 4]
    assert bands == 2 and actions == 0
    assert {"LOINC", "RXNORM", "SNOMED", "notes", "imaging"} <= set(lanes)


@pytest.mark.integration
def test_a_failing_checks_example_rows_link_to_the_subjects_timeline(tmp_path: Path):
    from quality.report import run_quality
    from tests.quality.conftest import KEYRING, build_root

    root = build_root(tmp_path / "root")
    planted = root.subject_id("src-c")
    df = root.data("held_out", 1)
    root.write_data("held_out", 1, df.with_columns(
        numeric_value=pl.when(pl.col("code") == "LOINC//8867-4").then(pl.lit(900.0)).otherwise("numeric_value")))  # fmt: skip
    run_quality(root.path, keyring=KEYRING, gx=False, phi_audit=False)
    site = root.path / "quality" / "site"
    index = (site / "index.html").read_text()
    assert f'href="timelines/{planted}.html"' in index  # the implausible heart rate's subject
    assert (site / "timelines" / f"{planted}.html").exists() and (site / "timelines" / f"{planted}.png").exists()
    linked = {int(s) for s in re.findall(r'href="timelines/(\d+)\.html"', index)}
    assert linked and all((site / "timelines" / f"{s}.html").exists() for s in linked)


def test_the_served_site_serves_the_timeline_pages(drawn: Path):
    from starlette.testclient import TestClient

    from quality.serve import create_app

    client = TestClient(create_app(drawn.parents[2]))
    page = client.get(f"/timelines/{SUBJECT}.html")
    assert page.status_code == 200 and "vegaEmbed" in page.text
    assert client.get("/timelines/12345.html").status_code == 404


def test_the_demo_names_a_subject_to_draw(root: Path, capsys):
    from pipelines.commands.demo import _where_to_look
    from schemas.meds import SUBJECT_SPLITS_SCHEMA

    _where_to_look(root)  # before any split is written: the placeholder
    assert "longitude timeline SUBJECT_ID" in capsys.readouterr().err
    splits = pa.Table.from_pylist([{"subject_id": SUBJECT, "split": "train"}], schema=SUBJECT_SPLITS_SCHEMA)
    write_parquet(splits, Layout(root).meds_subject_splits, SUBJECT_SPLITS_SCHEMA)
    _where_to_look(root)
    assert f"longitude timeline {SUBJECT} --root" in capsys.readouterr().err.replace("\n", " ")
