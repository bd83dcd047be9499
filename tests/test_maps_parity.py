"""The map's click query gives what ``query_point`` gives: parity in real headless Chromium.

The offline map of the shipped pack is opened with the network blocked. For a fixed
subset of the parity places (every category of :func:`parity_places.parity_places`, plus
places in the 泽州县 part of the indicative 中心城市规划区 outside the drawn 中心城区, whose
membership of 中心城区 is uncertain) and several project descriptions and dates,
``ZoningMap.query`` in the page and :func:`zoning.query.query_point` in Python must give
the same county adcode, near-line flag, planning extents and their membership (yes / no /
uncertain), zone classes, governing classes, verdict, the verdict of each subject,
producing rules, attributes to confirm and the land-supply plan's standing. The projects
include industries given as GB/T 4754-2017 codes and standard names (resolved in the page
from a table precomputed in Python), the proviso of 124号 第十条 (an exception that may
apply), 打井 with and without its authorisation, and stated membership of 中心城区. A
handful of the places are also clicked with the mouse, with the project described
through the panel's form, and the panel is read.
"""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parity_places import parity_places
from test_maps_browser import CHROMIUM_FLAGS, chromium_path, sync_playwright  # noqa: F401  (fixtures)
from zoning.core import vocab
from zoning.core.layers import read_layer
from zoning.maps import build_map
from zoning.query import query_point

DATE = dt.date(2025, 6, 1)
#: before 123号/124号 and the 2025 documents were in force: those rules must not count
EARLY = dt.date(2023, 6, 1)
#: after the 2025 land-supply plan ran out (its layer's valid_to is 2025-12-31)
LATE = dt.date(2026, 3, 1)
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
#: 124号 第十条's proviso: a provincial key project approved by the province's water authority
PROVISO = {"construction": "new", "water_supply_related": False, "key_project_level": "provincial",
           "provincial_water_approval": True, "industry": "other", "activity": "none"}
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
    ("chemical-2026", CHEMICAL, LATE),
    # industries as planners' tables give them: GB/T 4754-2017 codes and standard names
    ("industry-2710", {"construction": "new", "industry": "2710"}, DATE),
    ("industry-name-26", {"construction": "new", "industry": "化学原料和化学制品制造业"}, DATE),
    ("industry-section-C", {"construction": "new", "industry": "C"}, DATE),  # possible groups only
    ("industry-name-06", {**_DESCRIBED, "construction": "new", "industry": "煤炭开采和洗选业"}, DATE),
    ("proviso", PROVISO, DATE),
    ("proviso-unknown", {k: v for k, v in PROVISO.items() if k != "provincial_water_approval"}, DATE),
    ("well", {"construction": "other", "activity": "打井"}, DATE),
    ("well-authorised", {"construction": "other", "activity": "打井", "activity_authorised": True}, DATE),
    ("well-unauthorised", {"construction": "other", "activity": "打井", "activity_authorised": False}, DATE),
    ("central-yes", {**CHEMICAL, "in_central_area": True}, DATE),
    ("central-no", {**CHEMICAL, "in_central_area": False}, DATE),
    # yes/no as planners type them: every word validate_project reads (the page knew only some)
    ("words-有-无", {**CHEMICAL, "discharges_pollutants": "有", "may_pollute_groundwater": "无"}, DATE),
    ("words-√-×", {**CHEMICAL, "discharges_pollutants": "√", "in_central_area": "×"}, DATE),
]
#: 泽州县: the county whose part of 中心城市规划区 is not drawn as 中心城区 (a lower bound)
ZEZHOU = "140525"
N_BAND = 4
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
    band = _zezhou_band(features, counties.to_crs("EPSG:4490"), rng)
    return pd.concat([subset, band], ignore_index=True)


def _zezhou_band(features, counties, rng) -> pd.DataFrame:
    """Places in the 泽州县 part of the drawn 中心城市规划区 outside the drawn 中心城区, 50 m or
    more from any zone edge or county line (so the map's display geometry decides alike)."""
    from parity_places import AREA_CRS

    fm = features.to_crs(AREA_CRS)
    cm = counties.to_crs(AREA_CRS)
    planning = fm[fm["zone_class"] == vocab.PLANNING_AREA].union_all()
    central = fm[fm["zone_class"] == vocab.CENTRAL_AREA].union_all()
    zezhou = cm[cm["adcode"].astype(str) == ZEZHOU].union_all()
    band = planning.difference(central).intersection(zezhou).buffer(-50)
    edges = shapely.union_all([*shapely.boundary(fm.geometry.to_numpy()), *shapely.boundary(cm.geometry.to_numpy())])
    minx, miny, maxx, maxy = band.bounds
    pts = []
    while len(pts) < N_BAND:
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if band.contains(p) and p.distance(edges) >= 50:
            pts.append(p)
    ll = gpd.GeoSeries(pts, crs=AREA_CRS).to_crs("EPSG:4490")
    return pd.DataFrame({"lon": ll.x.to_numpy(), "lat": ll.y.to_numpy(), "category": "zezhou_band"})


def _expected(pack, lon: float, lat: float, project, day: dt.date) -> dict:
    r = query_point(lon, lat, pack=pack, project=project, on_date=day)
    return {
        "county_adcode": r.county.adcode,
        "near_line": bool(r.county.near_line),
        "in_planning_area": bool(r.extents.in_planning_area),
        "in_central_area": bool(r.extents.in_central_area),
        "planning_membership": r.extents.planning_membership,
        "central_membership": r.extents.central_membership,
        "zone_classes": sorted(z.zone_class for z in r.zones),
        "governing": sorted([g["kind"], g["zone_class"]] for g in r.governing),
        "verdict": r.verdict,
        "subject_verdicts": dict(r.subject_verdicts),
        "verdict_rules": list(r.verdict_rules),
        "to_confirm": list(r.to_confirm),
        "rules": [[ra.id, ra.status] for ra in r.rules],
        "quota": {"applies": r.quota.applies, "possibly": r.quota.possibly, "in_force": r.quota.in_force},
        # the project as read: an industry becomes the groups it belongs to ("?" = possible)
        "project": None if r.project is None else {k: list(v) if isinstance(v, tuple) else v
                                                   for k, v in r.project.items()},
    }


def _got(answer: dict) -> dict:
    return {
        "county_adcode": answer["county_adcode"],
        "near_line": answer["near_line"],
        "in_planning_area": answer["in_planning_area"],
        "in_central_area": answer["in_central_area"],
        "planning_membership": answer["planning_membership"],
        "central_membership": answer["central_membership"],
        "zone_classes": answer["zone_classes"],
        "governing": sorted(answer["governing"]),
        "verdict": answer["verdict"],
        "subject_verdicts": answer["subject_verdicts"],
        "verdict_rules": answer["verdict_rules"],
        "to_confirm": answer["to_confirm"],
        "rules": answer["rules"],
        "quota": answer["quota"],
        "project": answer["project"],
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
    assert all(a["errors"] == [] for a in answers)  # every value was read


def _of(places, answers, case: str, category: str | None = None) -> list[dict]:
    names = [name for name, _p, _d in CASES]
    k = names.index(case)
    rows = range(len(places)) if category is None else np.flatnonzero(places["category"].to_numpy() == category)
    return [answers[i * len(CASES) + k] for i in rows]


def test_parity_reaches_the_new_semantics(places, answers):
    """The cases exercise what changed: possible industry groups, the proviso, the well's
    authorisation, an uncertain 中心城区 settled by the project, subjects and the plan's period."""
    industry = "industry"
    # a 门类 leaves its narrower groups possible: the industry is to confirm somewhere
    assert any(g.startswith("?") for g in _of(places, answers, "industry-section-C")[0]["project"][industry])
    assert any(industry in a["to_confirm"] for a in _of(places, answers, "industry-section-C"))
    assert _of(places, answers, "industry-2710")[0]["project"][industry] == ["pharmaceutical", "pharmaceutical_api"]
    # the proviso: with the province's approval the exception holds; without, it waits on it
    spring = "in:泉域重点保护区"
    assert any(a["verdict"] == vocab.CONDITIONAL for a in _of(places, answers, "proviso", spring))
    assert any("provincial_water_approval" in a["to_confirm"] for a in _of(places, answers, "proviso-unknown", spring))
    wells = {case: {a["verdict"] for a in _of(places, answers, case, spring)}
             for case in ("well", "well-authorised", "well-unauthorised")}
    assert vocab.PROHIBITED in wells["well-unauthorised"] and vocab.PROHIBITED not in wells["well"]
    assert any("activity_authorised" in a["to_confirm"] for a in _of(places, answers, "well", spring))
    # 泽州县 inside the planning area, outside the drawn 中心城区: uncertain until the project says
    band = _of(places, answers, "chemical", "zezhou_band")
    assert band and all(a["central_membership"] == vocab.UNCERTAIN and a["county_adcode"] == ZEZHOU for a in band)
    assert all(a["quota"]["possibly"] and not a["quota"]["applies"] for a in band)
    assert any(vocab.MEMBERSHIP_ATTRIBUTES[vocab.CENTRAL_AREA] in a["to_confirm"] for a in band)
    settled = _of(places, answers, "central-yes", "zezhou_band")
    assert all(vocab.MEMBERSHIP_ATTRIBUTES[vocab.CENTRAL_AREA] not in a["to_confirm"] for a in settled)
    outside = _of(places, answers, "central-no", "zezhou_band")
    for yes, no in zip(settled, outside):  # 中心城区's own rules bind only when the project says it lies there
        assert {rid for rid, _s in no["rules"]} < {rid for rid, _s in yes["rules"]}
    # a verdict per subject, and the 2025 plan expired in 2026
    assert {v for a in answers for v in a["subject_verdicts"].values()} >= set(vocab.VERDICTS)
    assert any(a["quota"] and a["quota"]["in_force"] is False for a in _of(places, answers, "chemical-2026"))


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
    for box in form.locator("input[data-attr]").all():
        box.fill("")
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
              "in:泉域重点保护区", "city_beyond_tol", "zezhou_band"]
    clicked = []
    typed = {"construction": "new", "industry": "2710", "activity": "well_drilling"}  # a code typed in the form
    for project in (CHEMICAL, {}, typed):
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
                    "subject_verdicts": json.loads(box.get_attribute("data-subject-verdicts")),
                }
                planning, central = json.loads(box.get_attribute("data-membership"))
                got["planning_membership"], got["central_membership"] = planning, central
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
                if central == vocab.UNCERTAIN:  # said in words, with the attribute that settles it
                    assert box.locator(".zm-membership").count() == 1
                    assert vocab.label(vocab.MEMBERSHIP_LABELS[vocab.UNCERTAIN]) in text
                for s_ in vocab.SUBJECTS:
                    if verdict:
                        assert vocab.label(vocab.SUBJECT_LABELS[s_]) in text
                clicked.append(cat)
                break
    assert len(clicked) >= 15 and "zezhou_band" in clicked, clicked
    assert page.attempted == [] and page.errors == []
