"""The stewards' site in a real browser (headless Chromium driven by Playwright): `quality serve` and the static
export load with no console error and no request to another host, and a review made in the page is stored."""

import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from quality import review
from quality.serve import create_app
from quality.templating import anchor
from tests.quality.conftest import Root, build_root
from tests.quality.test_serve import HR, planted

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install -y chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Root, str]]:
    import uvicorn

    root = planted(build_root(tmp_path_factory.mktemp("browser") / "root"))
    port = _free_port()
    config = uvicorn.Config(create_app(root.path), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "quality serve did not start"
    yield root, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page() -> Iterator:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless"])
        yield browser.new_page()
        browser.close()


def _watch(page, local: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Console errors and page errors; requests to anything but the site itself (answered with an abort)."""
    errors: list[str] = []
    external: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith(local):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return errors, external


def test_served_page_loads_clean_and_a_review_made_in_it_is_stored(server, page):
    root, base = server
    errors, external = _watch(page, (base, "data:"))
    page.goto(base + "/")
    assert page.title() == "Longitude quality"
    row = page.locator(f"tr#{anchor(HR)}")
    assert "3 of 17 rows break the rule" in row.inner_text()
    row.locator("select[name=action]").select_option("reject")
    row.locator("input[name=note]").fill("fix the heart-rate unit mapping")
    row.locator("input[name=who]").fill("dora")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    assert page.locator(".flash").inner_text().startswith(f"rejected {HR} (dora)")
    assert "rejected" in page.locator(f"tr#{anchor(HR)} .badge").inner_text()
    [entry] = [e for e in review.history(root.layout.quality) if e["who"] == "dora"]
    assert (entry["target"], entry["action"], entry["note"]) == (HR, "reject", "fix the heart-rate unit mapping")
    assert errors == [] and external == []


def test_a_form_sent_without_a_note_is_held_by_the_browser(server, page):
    root, base = server
    before = review.history(root.layout.quality)
    page.goto(base + "/")
    row = page.locator(f"tr#{anchor(HR)}")
    row.locator("button[type=submit]").click()  # the note is required: the browser does not send the form
    page.wait_for_timeout(300)
    assert page.url == base + "/" and review.history(root.layout.quality) == before


def test_static_export_loads_offline_with_no_console_error(server, page):
    root, _ = server
    errors, external = _watch(page, ("file://", "data:"))
    page.goto((root.path / "quality" / "site" / "index.html").as_uri())
    assert page.locator("h2#checks").inner_text() == "Checks"
    assert page.locator("form").count() == 0  # the hand-off copy has no forms, it names the CLI commands
    assert errors == [] and external == []
