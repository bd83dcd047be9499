"""The service's map in Debian's headless Chromium (Playwright as the driver only): a click
answered by the API, the search box (county, key project, Gauss-Krüger coordinates), a
permalink that reopens the same answer, and an upload drawn on the map. Every request
that does not go to the loopback server is aborted and recorded; none may be attempted."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("pygeoapi")

from service_server import REPO, Server  # noqa: E402

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-default-apps"]


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: browser tests must run; see scripts/install_chromium.sh)")
    pytest.skip(f"{reason}; install with: bash scripts/install_chromium.sh")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("web") / "data")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    path = next((c for c in CHROMIUM if Path(c).exists()), shutil.which("chromium"))
    if not path:
        _unavailable("Chromium is not installed (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)  # the test evaluates strings
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith((server.url + "/", "data:", "blob:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server.url + "/", wait_until="load")
    pg.wait_for_function("typeof ZoningService !== 'undefined' && document.querySelector('#zs-panel')")
    yield pg
    assert blocked == [], f"requests off the loopback server: {blocked}"
    assert errors == [], errors
    ctx.close()


def _click(pg, lat, lng):
    pt = pg.evaluate(f"(() => {{ var m = ZoningMap.maps[0]; var p = m.latLngToContainerPoint([{lat}, {lng}]);"
                     "var r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; })()")
    pg.mouse.click(pt[0], pt[1])


def _wait_answer(pg, n):
    pg.wait_for_function(f"ZoningService.answers >= {n}")
    return pg.evaluate("ZoningService.last")


def test_click_is_answered_by_the_api(page, server):
    page.evaluate("ZoningMap.maps[0].setView([35.49, 113.0], 11)")
    _click(page, 35.49, 113.0)
    a = _wait_answer(page, 1)
    assert abs(a["lat"] - 35.49) < 0.01 and abs(a["lon"] - 113.0) < 0.01 and len(a["answer_id"]) == 32
    panel = page.inner_text("#zs-panel")
    assert a["county"]["name"] in panel and a["answer_id"] in panel
    with server.client() as c:
        again = c.get(f"/api/v1/answers/{a['answer_id']}").json()
    assert again["answer"] == a  # the audited answer is the one shown
    page.screenshot(path=str(REPO / "maps" / "test-service-browser.png"))


def test_search_county_project_and_coordinates(page):
    page.fill("#zs-q", "泽州")
    page.click(".zs-search button")
    page.wait_for_selector(".zs-hits li")
    items = page.locator(".zs-hits li")
    kinds = [items.nth(i).get_attribute("data-kind") for i in range(items.count())]
    assert "county" in kinds and "key_project" in kinds
    items.nth(kinds.index("county")).click()
    a = _wait_answer(page, 1)
    assert a["county"]["name"] == "泽州县"
    page.fill("#zs-q", "38396465.71 3928409.18 gk3")
    page.click(".zs-search button")
    a = _wait_answer(page, 2)
    assert abs(a["lon"] - 112.8592) < 1e-3 and abs(a["lat"] - 35.4797) < 1e-3


def test_permalink_reopens_view_point_project_and_answer(page, browser, server):
    page.evaluate("document.querySelector('#zm-query-panel [data-attr=construction]').value = 'new'")
    page.evaluate("ZoningMap.maps[0].setView([35.49, 112.85], 12)")
    _click(page, 35.49, 112.85)
    a = _wait_answer(page, 1)
    assert a["project"] == {"construction": "new"} and a["verdict"]
    link = page.evaluate("location.href")
    assert a["answer_id"] in link
    from urllib.parse import parse_qs, urlsplit

    zoom = int(parse_qs(urlsplit(link).fragment)["map"][0].split("/")[0])
    other = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)  # the test evaluates strings
    other.route("**/*", lambda r: r.continue_() if r.request.url.startswith((server.url + "/", "data:")) else r.abort())
    pg = other.new_page()
    pg.goto(link, wait_until="load")
    pg.wait_for_function("ZoningService.last !== null")
    b = pg.evaluate("ZoningService.last")
    assert b == a
    pg.wait_for_function(f"ZoningMap.maps[0].getZoom() === {zoom}", timeout=15000)
    assert pg.evaluate("document.querySelector('#zm-query-panel [data-attr=construction]').value") == "new"
    other.close()


def test_upload_a_batch_and_draw_it(page):
    page.set_input_files(".zs-upload input[type=file]", str(REPO / "examples" / "sites_demo.csv"))
    page.click(".zs-upload button")
    page.wait_for_selector(".zs-jobs li .zs-draw", timeout=120_000)
    assert "check.csv" in page.inner_text(".zs-jobs")
    page.click(".zs-jobs li .zs-draw")
    page.wait_for_function("ZoningService.drawn >= 1")
    assert page.evaluate("ZoningService.drawnFeatures") == 18
    # each site in the colour of its verdict (the vocabulary's), not one colour for all
    from zoning.core import vocab

    fills = page.evaluate("Array.from(document.querySelectorAll('path.leaflet-interactive[stroke=\"#222\"]'))"
                          ".map(p => p.getAttribute('fill'))")
    assert len(fills) == 18 and set(fills) <= set(vocab.VERDICT_COLOURS.values()) and len(set(fills)) >= 2, fills
    page.fill("#zs-q", "示例项目1")
    page.click(".zs-search button")
    page.wait_for_selector(".zs-hits li[data-kind=site]")
