"""The map's click query gives what ``query_point`` gives: parity in real headless Chromium.

The offline map of the shipped pack is opened with the network blocked. For a fixed
subset of the parity places (every category of :func:`parity_places.parity_places`) and
several project descriptions and dates, ``ZoningMap.query`` in the page and
:func:`zoning.query.query_point` in Python must give the same county adcode, near-line
flag, planning extents, zone classes, governing classes, verdict, producing rules and
attributes to confirm. A handful of the places are also clicked with the mouse, with the
project described through the panel's form, and the panel is read.
"""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from parity_places import parity_places
from test_maps_browser import CHROMIUM_FLAGS, chromium_path, sync_playwright  # noqa: F401  (fixtures)
from zoning.core import vocab
from zoning.core.layers import read_layer
from zoning.maps import build_map
from zoning.query import query_point

DATE = dt.date(2025, 6, 1)
#: before 123号/124号 and the 2025 documents were in force: those rules must not count
EARLY = dt.date(2023, 6, 1)
CHEMICAL = {"construction": "new", "industry": "chemical"}
#: every attribute the groundwater and city-wide rules read, answered
_DESCRIBED = {"activity": "none", "water_supply_related": False, "may_pollute_groundwater": False,
              "discharges_pollutants": False, "severe_water_pollution": False,
              "unlined_wastewater_channel": False, "in_spring_or_karst_area": False,
              "abstracts_groundwater": False, "involves_expropriation": False,
              "designated_important_project": False, "municipal_approval": False,
              "land_supply_method": "allocation", "key_groundwater_discharger": False,
              "soil_key_supervision_unit": False, "toxic_substances": False,
              "underground_storage_tank": False}
CASES = [  # (name, project, date)
    ("none", None, DATE),
    ("empty", {}, DATE),
    ("chemical", CHEMICAL, DATE),
    ("chemical-polluting", {**CHEMICAL, "discharges_pollutants": True, "may_pollute_groundwater": True}, DATE),
    ("chemical-described", {**_DESCRIBED, **CHEMICAL}, DATE),
    ("existing-described", {**_DESCRIBED, "construction": "existing", "industry": "other"}, DATE),
    ("existing-approved", {**_DESCRIBED, "construction": "existing", "industry": "other", "municipal_approval": True,
                           "works_type": "equipment", "total_investment_wan": 300, "in_annual_plan": True}, DATE),
    ("chemical-2023", CHEMICAL, EARLY),
]
PER_CATEGORY = 6
SUBSET_SEED = 4490


@pytest.fixture(scope="module")
def places(pack, counties) -> pd.DataFrame:
    """A fixed random subset of the parity places, covering every category."""
    parts = [read_layer(pack, name)[["zone_class", "geometry"]]
             for name in ("groundwater_protection", "groundwater_control")]
    extents = read_layer(pack, "planning_extents")
    parts.append(extents.rename(columns={"extent_class": "zone_class"})[["zone_class", "geometry"]])
    features = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4490")
    every = parity_places(features, counties.to_crs("EPSG:4490"))
    rng = np.random.default_rng(SUBSET_SEED)
    picked = []
    for _cat, group in every.groupby("category", sort=True):
        idx = rng.choice(group.index.to_numpy(), size=min(PER_CATEGORY, len(group)), replace=False)
        picked.extend(sorted(idx))
    subset = every.loc[picked].reset_index(drop=True)
    assert len(subset) >= 60
    assert set(subset["category"]) == set(every["category"])
    return subset


def _expected(pack, lon: float, lat: float, project, day: dt.date) -> dict:
    r = query_point(lon, lat, pack=pack, project=project, on_date=day)
    return {
        "county_adcode": r.county.adcode,
        "near_line": bool(r.county.near_line),
        "in_planning_area": bool(r.extents.in_planning_area),
        "in_central_area": bool(r.extents.in_central_area),
        "zone_classes": sorted(z.zone_class for z in r.zones),
        "governing": sorted([g["kind"], g["zone_class"]] for g in r.governing),
        "verdict": r.verdict,
        "verdict_rules": list(r.verdict_rules),
        "to_confirm": list(r.to_confirm),
    }


def _got(answer: dict) -> dict:
    return {
        "county_adcode": answer["county_adcode"],
        "near_line": answer["near_line"],
        "in_planning_area": answer["in_planning_area"],
        "in_central_area": answer["in_central_area"],
        "zone_classes": answer["zone_classes"],
        "governing": sorted(answer["governing"]),
        "verdict": answer["verdict"],
        "verdict_rules": answer["verdict_rules"],
        "to_confirm": answer["to_confirm"],
    }


def _diff(want: dict, got: dict) -> dict:
    return {k: (want[k], got[k]) for k in want if want[k] != got[k]}


@pytest.fixture(scope="module")
def parity_map(pack, tmp_path_factory):
    m = build_map(pack, offline=True, basemap="none", lang="zh", today=DATE)
    path = tmp_path_factory.mktemp("parity") / "jincheng-parity.html"
    m.save(str(path))
    return path


@pytest.fixture(scope="module")
def page(chromium_path, sync_playwright, tmp_path_factory, parity_map):  # noqa: F811
    profile = tmp_path_factory.mktemp("chromium-parity-profile")
    attempted: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900})

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                attempted.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        pg = ctx.new_page()
        pg.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(parity_map.as_uri())
        pg.wait_for_function("window.ZoningMap && ZoningMap.maps.length === 1")
        pg.attempted = attempted  # type: ignore[attr-defined]
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        ctx.close()


@pytest.fixture(scope="module")
def answers(page, places) -> list[dict]:
    """ZoningMap.query at every place for every case, in the page."""
    calls = [[float(r.lat), float(r.lon), project, day.isoformat()]
             for _, r in places.iterrows() for _name, project, day in CASES]
    return page.evaluate(
        "calls => calls.map(([lat, lng, project, date]) => ZoningMap.query(lat, lng, project, date))", calls)


def test_page_answers_as_query_point(page, pack, places, answers):
    """ZoningMap.query and query_point agree at every place, for every project and date."""
    assert page.attempted == [] and page.errors == []
    disagreements = []
    k = 0
    for _, r in places.iterrows():
        for name, project, day in CASES:
            want = _expected(pack, r.lon, r.lat, project, day)
            got = _got(answers[k])
            k += 1
            if want != got:
                disagreements.append(f"{r.category} ({r.lon:.6f}, {r.lat:.6f}) {name}: {_diff(want, got)}")
    assert k == len(places) * len(CASES) >= 60 * 2
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(disagreements)


def test_parity_reaches_every_verdict_zone_and_line(answers):
    """The places and projects are not all trivial: every verdict, every governing class,
    places near a county line and places outside the city are among them."""
    assert {a["verdict"] for a in answers} == {*vocab.VERDICTS, None}
    assert any(a["near_line"] and a["neighbour_adcode"] for a in answers)
    assert any(a["maybe_outside_city"] and a["county_adcode"] for a in answers)
    assert any(a["county_adcode"] is None for a in answers)
    governing = {c for a in answers for _k, c in a["governing"]}
    assert set(vocab.ZONE_CLASSES[vocab.PROTECTION]) | set(vocab.ZONE_CLASSES[vocab.CONTROL]) <= governing
    assert any(a["to_confirm"] for a in answers)
    # the 2023 date: 123号/124号 are not yet in force, so no groundwater rule counts
    early = [a for a in answers if a["date"] == EARLY.isoformat()]
    assert early and all(not rid.startswith("JSH-2023") for a in early for rid in a["verdict_rules"])
    assert any(status == "not_in_force" for a in early for _rid, status in a["rules"])


def _centre_and_wait(page, lat: float, lon: float, zoom: int) -> tuple[float, float] | None:
    """Centre the map on (lat, lon); the pixel to click, once what lies there has settled
    (None when a marker covers it: a click on a marker queries the marker's own point)."""
    xy = page.evaluate(
        """([lat, lon, zoom]) => {
            const map = ZoningMap.maps[0];
            map.closePopup();
            map.setView([lat, lon], zoom, {animate: false});
            const p = map.latLngToContainerPoint([lat, lon]);
            const r = map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        [lat, lon, zoom],
    )
    seen = []
    for _ in range(60):
        seen.append(page.evaluate(
            """([x, y]) => { const e = document.elementFromPoint(x, y);
                             if (!e) { return ''; }
                             return (e.closest('.leaflet-marker-icon, .leaflet-control') ? 'marker|' : '')
                                    + e.tagName + '|' + e.getAttribute('class'); }""", xy))
        if len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]:
            break
        page.wait_for_timeout(50)
    return None if seen[-1].startswith("marker|") else (xy[0], xy[1])


def _describe_in_form(page, project: dict) -> None:
    """Describe the project through the panel's form, as a planner does."""
    form = page.locator("#zm-query-panel details.zm-project")
    if not form.evaluate("d => d.open"):
        form.locator("summary").click()
    for select in form.locator("select[data-attr]").all():
        select.select_option("")
    for name, value in project.items():
        control = form.locator(f"[data-attr={name}]")
        text = "true" if value is True else "false" if value is False else str(value)
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(text)
        else:
            control.fill(text)
    form.locator("input.zm-date").fill(DATE.isoformat())


def test_clicks_show_what_query_point_gives(page, pack, places):
    """Real mouse clicks on the map at places of several categories; the panel is read."""
    wanted = ["in:一级保护区", "in:一级管控区", "in:二级管控区", "in:中心城区", "county_line", "edge_out",
              "in:泉域重点保护区", "city_beyond_tol"]
    clicked = []
    for project in (CHEMICAL, {}):
        _describe_in_form(page, project)
        for cat in wanted:
            for _, r in places[places["category"] == cat].iterrows():
                xy = _centre_and_wait(page, r.lat, r.lon, zoom=17)
                if xy is None:
                    continue
                before = page.evaluate("ZoningMap.lastAnswer && [ZoningMap.lastAnswer.lat, ZoningMap.lastAnswer.lng]")
                page.mouse.click(*xy)
                page.wait_for_function(
                    "before => ZoningMap.lastAnswer && JSON.stringify([ZoningMap.lastAnswer.lat, ZoningMap.lastAnswer.lng]) !== JSON.stringify(before)",
                    arg=before, timeout=10_000)
                box = page.locator("#zm-query-panel section.zm-answer")
                lat, lon = float(box.get_attribute("data-lat")), float(box.get_attribute("data-lng"))
                assert abs(lat - r.lat) < 2e-5 and abs(lon - r.lon) < 2e-5  # the pixel is within ~1 m
                adcode = box.get_attribute("data-adcode") or None
                verdict = box.get_attribute("data-verdict") or None
                got = {
                    "county_adcode": adcode,
                    "near_line": box.get_attribute("data-near-line") == "true",
                    "zone_classes": json.loads(box.get_attribute("data-zone-classes")),
                    "governing": sorted(json.loads(box.get_attribute("data-governing"))),
                    "verdict": verdict,
                }
                full = _expected(pack, lon, lat, project, DATE)
                want = {k: full[k] for k in got}
                assert got == want, f"click at {cat} ({lon:.6f}, {lat:.6f}) {project}: {_diff(want, got)}"
                # what the planner reads: the verdict's label, the articles, the county
                text = box.inner_text()
                if verdict:
                    assert vocab.verdict_label(verdict, "zh") in text
                    for rid in full["verdict_rules"]:
                        cite = page.evaluate("id => ZoningMap.configs[0].rules.find(r => r.id === id).cite", rid)
                        assert cite in text
                if adcode:
                    assert adcode in text
                if want["near_line"]:
                    assert box.locator(".zm-caution").count() >= 1
                clicked.append(cat)
                break
    assert len(clicked) >= 10, clicked
    assert page.attempted == [] and page.errors == []
