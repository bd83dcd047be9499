"""The page and ``query_point`` agree where the answer hangs on a margin: near the drawn edge
of an indicative 中心城市规划区 whose layer states a positional accuracy (its membership is
then uncertain within that distance), and on industries typed in every form a planner uses.

The shipped pack's extents layer states no positional accuracy, so the edge margin is
exercised on a copy of the pack that gives it one (300 m).
"""

from __future__ import annotations

import datetime as dt
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from test_maps_browser import CHROMIUM_FLAGS, chromium_path, sync_playwright  # noqa: F401  (fixtures)
from zoning.core import vocab
from zoning.core.errors import RuleError
from zoning.core.layers import open_pack, read_layer
from zoning.core.rules import validate_project
from zoning.maps import build_map
from zoning.query import query_point

DATE = dt.date(2025, 6, 1)
TOLERANCE_M = 300.0
AREA_CRS = "+proj=aea +lat_0=35.5 +lon_0=112.8 +lat_1=35.0 +lat_2=36.0 +ellps=GRS80 +units=m"
#: metres from the drawn 规划区 edge (negative: inside), each at least 50 m from the 300 m margin
OFFSETS = (-600.0, -150.0, -60.0, 80.0, 200.0, 500.0)
INDUSTRIES = ("2710", "C2710", "C 26", "２７１０", "2710 化学药品原料药制造", "化学药品原料药制造（2710）",
              "2614", "06", "B", "煤炭开采和洗选业", "采煤", "COAL", "化工", "其他", "0610",
              "D2710", "2710 造纸", "9999", "不存在的行业")


@pytest.fixture(scope="module")
def edge_pack(tmp_path_factory):
    """A copy of the shipped pack whose extents layer states a positional accuracy."""
    import shutil

    from conftest import PACK_DIR

    dst = tmp_path_factory.mktemp("edge-pack") / "pack"
    shutil.copytree(PACK_DIR, dst, ignore=shutil.ignore_patterns("sources"))
    manifest = dst / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    block = re.search(r'name = "planning_extents".*?accuracy = "indicative"\n', text, flags=re.S)
    assert block is not None
    text = text[:block.end()] + f"positional_accuracy_m = {TOLERANCE_M}\n" + text[block.end():]
    manifest.write_text(text, encoding="utf-8")
    pack = open_pack(dst)
    assert pack.layer("planning_extents").positional_accuracy_m == TOLERANCE_M
    return pack


@pytest.fixture(scope="module")
def edge_places(edge_pack) -> list[tuple[float, float, float]]:
    """(lon, lat, offset) along the drawn 规划区 edge, clear of every other line by 20 m."""
    ext = read_layer(edge_pack, "planning_extents").to_crs(AREA_CRS)
    planning = ext[ext["extent_class"] == vocab.PLANNING_AREA].union_all()
    central = ext[ext["extent_class"] == vocab.CENTRAL_AREA].union_all()
    others = [read_layer(edge_pack, n).to_crs(AREA_CRS).geometry for n in
              ("counties", "groundwater_protection", "groundwater_control")]
    lines = shapely.union_all([shapely.boundary(central), *(b for g in others for b in shapely.boundary(g.to_numpy()))])
    edge = shapely.boundary(planning)
    rng = np.random.default_rng(35)
    out = []
    for t in rng.uniform(0, edge.length, 40):
        p = edge.interpolate(t)
        a, b = edge.interpolate(max(t - 1, 0)), edge.interpolate(min(t + 1, edge.length))
        n = np.array([b.y - a.y, a.x - b.x])
        n /= np.linalg.norm(n) or 1
        if planning.contains(shapely.Point(p.x + 5 * n[0], p.y + 5 * n[1])):
            n = -n  # outward
        for off in OFFSETS:
            q = shapely.Point(p.x + off * n[0], p.y + off * n[1])
            d = q.distance(edge)
            if abs(d - abs(off)) > 1 or q.distance(lines) < 20 or abs(d - TOLERANCE_M) < 50:
                continue  # a bend of the edge, or too close to another line or to the margin
            out.append((q.x, q.y, off))
        if len(out) >= 24:
            break
    ll = gpd.GeoSeries([shapely.Point(x, y) for x, y, _ in out], crs=AREA_CRS).to_crs("EPSG:4490")
    return [(float(g.x), float(g.y), off) for g, (_x, _y, off) in zip(ll, out)]


@pytest.fixture(scope="module")
def edge_page(chromium_path, sync_playwright, tmp_path_factory, edge_pack):  # noqa: F811
    path = tmp_path_factory.mktemp("edge-map") / "edge.html"
    build_map(edge_pack, offline=True, basemap="none", today=DATE).save(str(path))
    errors: list[str] = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("edge-profile")), executable_path=chromium_path, headless=True,
            args=CHROMIUM_FLAGS)
        ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        pg = ctx.new_page()
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(path.as_uri())
        pg.wait_for_function("window.ZoningMap && ZoningMap.maps.length === 1")
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        ctx.close()


def test_membership_near_an_indicative_edge_as_query_point(edge_page, edge_pack, edge_places):
    projects = [None, {"construction": "new", "industry": "chemical"},
                {"construction": "new", "industry": "chemical", "in_planning_area": True},
                {"construction": "new", "industry": "chemical", "in_planning_area": False}]
    calls = [[lat, lon, proj] for lon, lat, _off in edge_places for proj in projects]
    got = edge_page.evaluate(
        "calls => calls.map(([lat, lng, p]) => ZoningMap.answer(lat, lng, p, '2025-06-01'))", calls)
    wrong, seen = [], set()
    k = 0
    for lon, lat, off in edge_places:
        for proj in projects:
            r = query_point(lon, lat, pack=edge_pack, project=proj, on_date=DATE)
            a = got[k]
            k += 1
            want = (r.extents.planning_membership, r.extents.central_membership, r.verdict, list(r.verdict_rules),
                    list(r.to_confirm), [[x.id, x.status] for x in r.rules])
            have = (a["planning_membership"], a["central_membership"], a["verdict"], a["verdict_rules"],
                    a["to_confirm"], a["rules"])
            seen.add((off, r.extents.planning_membership))
            if want != have:
                wrong.append(f"({lon:.6f}, {lat:.6f}) {off:+.0f} m {proj}: {want} != {have}")
    assert not wrong, "\n".join(wrong)
    assert len(edge_places) >= 12 and edge_page.errors == []
    # within the margin uncertain on both sides; beyond it decided by the drawn outline
    by_offset = {}
    for off, m in seen:
        by_offset.setdefault(off, set()).add(m)
    assert by_offset.get(-600.0) == {vocab.YES} and by_offset.get(500.0) == {vocab.NO}
    assert by_offset.get(-60.0) == {vocab.UNCERTAIN} and by_offset.get(80.0) == {vocab.UNCERTAIN}


def test_industries_typed_every_way_read_as_validate_project(edge_page):
    """Codes with their 门类 letter or name, full-width digits, unlisted narrower codes, names,
    words: the page reads each as validate_project does, and refuses what it refuses."""
    got = edge_page.evaluate(
        "vals => vals.map(v => ZoningMap.answer(35.5, 112.8, {industry: v}, '2025-06-01'))", list(INDUSTRIES))
    for value, a in zip(INDUSTRIES, got):
        try:
            want = list(validate_project({"industry": value})["industry"])
        except RuleError:
            assert a["errors"] == [["industry", value]] and "industry" not in a["project"], value
            continue
        assert a["errors"] == [] and a["project"]["industry"] == want, value
