"""`longitude quality serve`: the page shows the stored results with review forms; a POST is a review entry."""

import re

import polars as pl
import pytest
from starlette.testclient import TestClient

from quality import review
from quality.report import run_quality
from quality.serve import create_app
from quality.templating import anchor
from tests.quality.conftest import KEYRING, Root, build_root

HR = "check:meds_data.plausibility/value_below_physiological_high"


def planted(root: Root) -> Root:
    """A root with one failed warning (three heart rates of 900) and a quarantine reason, checked once."""
    df = root.data("held_out", 1)
    root.write_data("held_out", 1, df.with_columns(
        numeric_value=pl.when(pl.col("code") == "LOINC//8867-4").then(pl.lit(900.0)).otherwise("numeric_value")))  # fmt: skip
    run_quality(root.path, keyring=KEYRING, gx=False)
    return root


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Root, TestClient]:
    root = planted(build_root(tmp_path_factory.mktemp("serve") / "root"))
    return root, TestClient(create_app(root.path), base_url="http://127.0.0.1:8765")


def test_page_lists_the_stored_results_with_a_review_form_for_each_failure(served):
    _, client = served
    page = client.get("/")
    assert page.status_code == 200
    assert f'id="{anchor(HR)}"' in page.text and f'name="target" value="{HR}"' in page.text
    assert 'name="target" value="quarantine:fhir_raw/UNPARSEABLE_DATE"' in page.text
    assert "3 of 17 rows break the rule" in page.text
    links = set(re.findall(r'href="(timelines/[^"]+)"', page.text))  # example rows link to subject timelines
    assert links and all(client.get(f"/{link}").status_code == 200 for link in links)


def test_a_review_posted_from_the_page_is_stored_and_shown_beside_its_target(served):
    root, client = served
    form = {"target": HR, "action": "accept", "note": "device test data", "who": "ana"}
    done = client.post("/review", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith(f"#{anchor(HR)}")
    [entry] = [e for e in review.history(root.layout.quality) if e["note"] == "device test data"]
    assert (entry["target"], entry["action"], entry["who"]) == (HR, "accept", "ana")
    page = client.get(done.headers["location"]).text
    assert "accepted check:meds_data.plausibility/value_below_physiological_high (ana)" in page
    assert "<b>accepted</b> by ana" in page
    assert "device test data" in client.get("/reviews.csv").text
    static = root.path / "quality" / "site"
    assert (
        "device test data" in (static / "index.html").read_text() and "ana" in (static / "reviews.csv").read_text()
    )
    assert client.get("/reviews.json").json()[-1]["who"] == "ana"


def test_a_mistyped_target_is_refused_with_a_suggestion_and_nothing_is_stored(served):
    root, client = served
    before = review.history(root.layout.quality)
    bad = {"target": HR.replace("physiological", "physiologic"), "action": "reject", "note": "x", "who": "ana"}
    refused = client.post("/review", data=bad)
    assert refused.status_code == 400 and "did you mean" in refused.text and HR in refused.text
    assert client.post("/review", data={**bad, "target": HR, "note": " "}).status_code == 400
    assert review.history(root.layout.quality) == before


def test_a_post_from_another_site_is_refused(served):
    root, client = served
    before = review.history(root.layout.quality)
    form = {"target": HR, "action": "revoke", "note": "x", "who": "mallory"}
    response = client.post("/review", data=form, headers={"origin": "http://elsewhere.example"})
    assert response.status_code == 403 and review.history(root.layout.quality) == before


def test_the_serve_command_serves_the_page(served, tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    root, _ = served
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "quality", "serve", "--root",
           str(root.path), "--port", str(port)]  # fmt: skip
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, page = time.monotonic() + 120, None
        while page is None and time.monotonic() < deadline and server.poll() is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read().decode()
            except OSError:
                time.sleep(0.3)
        assert page is not None, server.stderr.read().decode() if server.poll() is not None else "no answer"
        assert f'name="target" value="{HR}"' in page and "checked " in page
    finally:
        server.terminate()
        server.wait(timeout=30)
