"""The generated map in a real browser: Debian's headless Chromium driven by Playwright.

Playwright is used only as a driver (``executable_path=/usr/bin/chromium``); its own
browser builds are never downloaded. With the environment variable CI set, a missing
Chromium or Playwright FAILS these tests; elsewhere they are skipped with a hint
(``bash scripts/install_chromium.sh``).

The network is blocked: every request that is not ``file:`` or ``data:`` is aborted and
recorded, and the tests assert that none was even attempted.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from zoning.core.layers import read_layer
from zoning.maps import build_map

REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "maps" / "test-browser-jincheng.png"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
]
XSS_NAME = "<script>alert(1)</script>"
XSS_NOTE = "<img src=x onerror=alert(2)>"
MAX_BYTES = 3_000_000


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: browser tests must run; see scripts/install_chromium.sh)")
    pytest.skip(f"{reason}; install with: bash scripts/install_chromium.sh")


@pytest.fixture(scope="module")
def chromium_path() -> str:
    for cand in CHROMIUM_CANDIDATES:
        if Path(cand).exists():
            return cand
    found = shutil.which("chromium")
    if found:
        return found
    _unavailable("Chromium is not installed (/usr/bin/chromium)")
    raise AssertionError  # unreachable


@pytest.fixture(scope="module")
def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright as sp
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    return sp


@pytest.fixture(scope="module")
def control_zone(pack):
    """A large 一级管控区 of the pack and a point well inside it (outside any protection zone)."""
    control = read_layer(pack, "groundwater_control")
    protection = read_layer(pack, "groundwater_protection")
    level1 = control[control["zone_class"] == "一级管控区"].sort_values("area_km2", ascending=False)
    for _, row in level1.iterrows():
        pt = row.geometry.representative_point()
        if not protection.contains(pt).any() and row.geometry.buffer(-0.001).contains(pt):
            return {"zone_id": row["zone_id"], "name": row["name"], "lon": pt.x, "lat": pt.y}
    pytest.fail("no 一级管控区 with a point clear of the protection zones")


@pytest.fixture(scope="module")
def map_file(pack, tmp_path_factory, control_zone):
    sites = gpd.GeoDataFrame(
        {
            "name": [XSS_NAME, "示例项目 B", "示例项目 C"],
            "verdict": ["prohibited", "clear", "needs confirmation"],
            "note": [XSS_NOTE, "ok", "x"],
        },
        geometry=[Point(112.80, 35.60), Point(112.60, 35.50), Point(112.95, 35.75)],
        crs="EPSG:4490",
    )
    m = build_map(pack, sites=sites, offline=True, basemap="none", lang="zh")
    path = tmp_path_factory.mktemp("maps") / "jincheng-offline.html"
    m.save(str(path))
    return path


@pytest.fixture(scope="module")
def browser(chromium_path, sync_playwright, tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser, map_file):
    """The offline map loaded with every non-file request aborted and recorded."""
    record = {"attempted": [], "failed": [], "console_errors": [], "page_errors": [], "dialogs": []}

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            record["attempted"].append(url)
            r.abort()

    browser.route("**/*", route)
    pg = browser.new_page()
    pg.on("console", lambda msg: msg.type == "error" and record["console_errors"].append(msg.text))
    pg.on("pageerror", lambda exc: record["page_errors"].append(str(exc)))
    pg.on("requestfailed", lambda req: record["failed"].append(req.url))

    def on_dialog(dialog):
        record["dialogs"].append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("request", lambda req: None if req.url.startswith(("file:", "data:")) else record["attempted"].append(req.url))
    pg.goto(map_file.as_uri())
    pg.wait_for_function("window.ZoningMap && ZoningMap.maps.length === 1")
    pg.record = record  # type: ignore[attr-defined]
    yield pg
    pg.close()
    browser.unroute("**/*")


def _click_at(pg, lat: float, lon: float, zoom: int = 13, want: str = "") -> None:
    """Centre the map on (lat, lon) and click that pixel with the mouse."""
    xy = pg.evaluate(
        """([lat, lon, zoom]) => {
            const map = ZoningMap.maps[0];
            map.setView([lat, lon], zoom, {animate: false});
            const p = map.latLngToContainerPoint([lat, lon]);
            const r = map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        [lat, lon, zoom],
    )
    # wait until what lies at that pixel has settled (markers glide to their new place in a
    # CSS zoom transition; a click during it can land on a marker passing by), then click
    seen = []
    for _ in range(100):
        seen.append(pg.evaluate(
            """([x, y]) => { const e = document.elementFromPoint(x, y);
                             return e ? e.tagName + '|' + e.getAttribute('class') : ''; }""", xy))
        if (len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3] and "leaflet-interactive" in seen[-1]
                and seen[-1].startswith(want)):
            break
        pg.wait_for_timeout(100)
    pg.mouse.click(xy[0], xy[1])
    pg.wait_for_function("() => document.querySelector('.leaflet-popup-content') !== null", timeout=10_000)


def test_offline_page_loads_with_no_network_and_no_errors(page):
    rec = page.record
    assert page.evaluate("typeof L !== 'undefined' && L.version") == "1.9.3"
    assert rec["attempted"] == [], f"requests attempted with the network blocked: {rec['attempted']}"
    assert rec["failed"] == []
    assert rec["console_errors"] == []
    assert rec["page_errors"] == []
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".zm-legend").count() == 1
    title = page.locator(".zm-title").inner_text()
    assert "jincheng" in title and "20" in title


def test_layer_control_lists_every_layer(page):
    labels = page.eval_on_selector_all(
        ".leaflet-control-layers-overlays label", "els => els.map(e => e.textContent.trim())")
    joined = "\n".join(labels)
    for expected in ("县级行政区", "中心城市规划区", "中心城区", "地下水保护类区域", "地下水管控类区域",
                     "重点工程项目", "项目选址"):
        assert expected in joined, f"{expected} missing from the layer control: {labels}"
    assert any("演示数据" in lab and "管控" in lab for lab in labels)
    assert any("示意" in lab and "中心城区" in lab for lab in labels)
    assert any("位置未公布" in lab for lab in labels)
    # every overlay is switched on and drawn
    assert page.eval_on_selector_all(".leaflet-control-layers-overlays input", "els => els.every(e => e.checked)")
    assert page.locator("path.leaflet-interactive").count() > 400


def test_click_in_control_zone_shows_zone_and_articles(page, control_zone):
    _click_at(page, control_zone["lat"], control_zone["lon"], want="path")  # the zone's outline, not a marker
    panel = page.locator("#zm-query-panel").inner_text()
    assert control_zone["name"] in panel
    assert control_zone["zone_id"] in panel
    assert "一级管控区" in panel
    assert "晋市环发〔2023〕124号 第二十四条（禁止）" in panel
    assert "演示数据 demonstration" in panel and "not an official outline" in panel
    assert "晋城市" not in page.locator("section[data-layer=counties] .zm-muted").all_inner_texts()
    counties = page.locator("section[data-layer=counties]").inner_text()
    assert "官方" in counties  # accuracy label of the county layer
    # the popup of the zone that was clicked
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert control_zone["name"] in popup and "第二十四条" in popup
    result = page.evaluate("ZoningMap.lastQuery")
    assert control_zone["name"] in result["layers"]["groundwater_control"]
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.evaluate("() => { ZoningMap.maps[0].setZoom(11, {animate: false}); }")  # return nothing: the map object is huge
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


def test_click_in_centre_shows_extents_and_quota(page, pack):
    counties = read_layer(pack, "counties")
    chengqu = counties[counties["adcode"] == "140502"].geometry.iloc[0].representative_point()
    page.evaluate("([lat, lon]) => ZoningMap.query(lat, lon)", [chengqu.y, chengqu.x])
    panel = page.locator("#zm-query-panel").inner_text()
    assert "城区" in panel
    assert "中心城市规划区" in panel and "中心城区" in panel
    assert "427.674" in panel  # the 2025 quota total
    assert "示意 indicative" in panel


def test_site_named_script_is_text_and_never_runs(page):
    rec = page.record
    _click_at(page, 35.60, 112.80, zoom=12)
    popup = page.locator(".leaflet-popup-content")
    assert XSS_NAME in popup.inner_text()
    assert XSS_NOTE in popup.inner_text()
    assert popup.locator("script, img").count() == 0
    page.wait_for_timeout(200)
    assert rec["dialogs"] == []
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert rec["attempted"] == []


def test_offline_map_is_small(map_file):
    assert map_file.stat().st_size < MAX_BYTES
