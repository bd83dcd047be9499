"""What applies at a point: county, extents, quota, zones, rules, verdicts, accuracy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import eviltransform
import jsonschema
import numpy as np
import pytest

from zoning.core.coords import from_cgcs2000
from zoning.query import load_context, query_point, query_points

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "zoning" / "schemas" / "query.schema.json").read_text())
# fully described project that no rule conditions on (used to get a clear verdict)
QUIET = {"construction": "new", "abstracts_groundwater": False, "municipal_approval": False,
         "water_supply_related": False, "discharges_pollutants": False}


@pytest.fixture(scope="module")
def ctx(pack):
    return load_context(pack)


def _point_in(ctx, kind, zone_class):
    for spec, gdf in ctx.zones:
        if spec.kind == kind:
            sel = gdf[gdf["zone_class"] == zone_class]
            if len(sel):
                p = sel.geometry.iloc[0].representative_point()
                return p.x, p.y, sel["zone_id"].iloc[0]
    raise AssertionError(f"no {zone_class} in the pack")


@pytest.mark.parametrize(
    ("kind", "zone_class", "article"),
    [
        ("groundwater_protection", "一级保护区", "第一条"),
        ("groundwater_protection", "二级保护区", "第四条"),
        ("groundwater_protection", "准保护区", "第七条"),
        ("groundwater_protection", "泉域重点保护区", "第十条"),
        ("groundwater_control", "一级管控区", "第十一条"),
        ("groundwater_control", "二级管控区", "第二十六条"),
    ],
)
def test_point_in_each_zone_class(ctx, pack, kind, zone_class, article):
    lon, lat, zone_id = _point_in(ctx, kind, zone_class)
    r = query_point(lon, lat, pack=pack, on_date=dt.date(2025, 6, 1))
    assert [(z.zone_class, z.zone_id, z.governs) for z in r.zones] == [(zone_class, zone_id, True)]
    assert r.zones[0].accuracy == "demonstration"
    articles = {x.article for x in r.rules if x.zone_class == zone_class and x.document == "晋市环发〔2023〕124号"}
    assert article in articles
    assert r.verdict is None  # no project described: rules as they stand
    assert any("演示数据" in n for n in r.accuracy_notes)  # the notes speak the answer's language
    en = query_point(lon, lat, pack=pack, on_date=dt.date(2025, 6, 1), lang="en")
    assert any("demonstration" in n for n in en.accuracy_notes) and not any("演示" in n for n in en.accuracy_notes)
    jsonschema.validate(json.loads(json.dumps(r.to_dict(), ensure_ascii=False)), SCHEMA)


def test_point_in_no_zone_in_the_central_area(pack):
    r = query_point(112.85, 35.49, pack=pack, on_date=dt.date(2025, 6, 1))
    assert r.county.name == "城区"
    assert r.zones == []
    assert r.extents.in_planning_area and r.extents.in_central_area
    assert r.extents.accuracy == "indicative"
    assert r.quota.applies and r.quota.total_ha == 427.674
    assert abs(sum(c["ha"] for c in r.quota.classes) - 427.674) < 1e-6
    assert "22/17/15/12/9" in r.extents.compensation_note
    assert any(x.document == "晋市政发〔2021〕3号" for x in r.rules)
    text = r.to_text("zh")
    assert "中心城市规划区: 是" in text and "427.674" in text and "一般区" in text


def test_outside_central_area_has_no_quota(pack):
    r = query_point(112.5, 35.6, pack=pack)
    assert r.county.name == "沁水县"
    assert not r.extents.in_planning_area and not r.quota.applies
    assert "no published land-supply quota" in r.quota.statement


def test_project_verdicts(ctx, pack):
    lon, lat, _ = _point_in(ctx, "groundwater_protection", "一级保护区")
    day = dt.date(2025, 6, 1)
    r = query_point(lon, lat, pack=pack, project={"construction": "新建", "water_supply_related": "否"}, on_date=day)
    assert r.verdict == "prohibited" and "JSH-2023-124-A01" in r.verdict_rules
    r = query_point(lon, lat, pack=pack, project={"construction": "new"}, on_date=day)
    assert r.verdict == "needs confirmation"
    a01 = next(x for x in r.rules if x.id == "JSH-2023-124-A01")
    assert a01.status == "unknown" and a01.missing == ["water_supply_related"]
    r = query_point(lon, lat, pack=pack, project={"construction": "rebuild", "water_supply_related": True,
                                                  "abstracts_groundwater": False, "municipal_approval": False}, on_date=day)
    assert {x.status for x in r.rules if x.id == "JSH-2023-124-A01"} == {"not_applicable"}


def test_conditional_and_clear_verdicts(pack):
    # general area of 沁水县: only city-wide rules apply
    r = query_point(112.5, 35.6, pack=pack, project=QUIET, on_date=dt.date(2025, 6, 1))
    assert r.verdict == "clear", [(x.id, x.status, x.missing) for x in r.rules]
    # 准保护区 第七条: a rebuild there is conditional (不得增加排污量)
    ctx = load_context(pack)
    lon, lat, _ = _point_in(ctx, "groundwater_protection", "准保护区")
    project = dict(QUIET, construction="rebuild", discharges_pollutants=True)
    r = query_point(lon, lat, pack=pack, project=project, on_date=dt.date(2025, 6, 1))
    statuses = {x.id: x.status for x in r.rules}
    assert statuses["JSH-2023-124-A07"] == "conditional", r.rules
    assert r.verdict in {"conditional", "needs confirmation"}


@pytest.mark.parametrize(("day", "status"), [("2024-01-17", "not_in_force"), ("2024-01-18", "prohibited"),
                                               ("2029-01-17", "prohibited"), ("2029-01-18", "not_in_force")])
def test_validity_dates(ctx, pack, day, status):
    lon, lat, _ = _point_in(ctx, "groundwater_protection", "一级保护区")
    r = query_point(lon, lat, pack=pack, project={"construction": "new", "water_supply_related": False},
                    on_date=dt.date.fromisoformat(day))
    assert next(x for x in r.rules if x.id == "JSH-2023-124-A01").status == status


def test_same_place_in_every_crs(ctx, pack):
    lon, lat, zone_id = _point_in(ctx, "groundwater_control", "二级管控区")
    glat, glon = eviltransform.wgs2gcj(lat, lon)   # independent implementation
    blat, blon = eviltransform.wgs2bd(lat, lon)
    e38, n38 = from_cgcs2000(lon, lat, "EPSG:4547")
    forms = [
        ((lon, lat), {}),
        ((glon, glat), {"crs": "gcj02"}),
        ((blon, blat), {"crs": "bd09"}),
        ((e38, n38), {"crs": "EPSG:4547"}),
        ((e38 + 38_000_000, n38), {"crs": "gk3"}),
        ((n38, e38 + 38_000_000), {"crs": "gk3", "order": "survey"}),
    ]
    for (x, y), kw in forms:
        r = query_point(x, y, pack=pack, **kw)
        assert abs(r.lon - lon) < 1e-6 and abs(r.lat - lat) < 1e-6, kw
        assert [z.zone_id for z in r.zones] == [zone_id], kw


def test_outside_city_names_nearest_county(pack):
    r = query_point(112.0, 36.5, pack=pack)  # north of the city, in 长治/临汾
    assert not r.county.inside_city
    assert r.county.nearest_name == "沁水县"
    assert 10_000 < r.county.nearest_distance_m < 100_000
    assert r.rules == [] and r.warnings
    jsonschema.validate(json.loads(json.dumps(r.to_dict(), ensure_ascii=False)), SCHEMA)


def test_near_county_line_names_neighbour(pack, counties):
    chengqu = counties.loc[counties.adcode == "140502"].geometry.iloc[0]
    inner = chengqu.buffer(-0.002)  # about 200 m inside the 城区 / 泽州县 line
    p = inner.exterior.interpolate(0.5, normalized=True)
    lon, lat = p.x, p.y
    r = query_point(lon, lat, pack=pack)
    assert r.county.name == "城区" and r.county.near_line
    assert r.county.neighbour_name == "泽州县"
    assert "也可能属于 泽州县" in r.to_text("zh")


def test_key_projects_in_same_county_have_no_distance(pack):
    r = query_point(112.85, 35.49, pack=pack)
    same = r.nearby_projects.same_county
    assert same and all(p.distance_m is None for p in same)
    assert r.nearby_projects.within_radius == []
    assert "have a published site" in r.nearby_projects.note


def test_english_text(pack):
    text = query_point(112.85, 35.49, pack=pack).to_text("en")
    assert "County: Chengqu / 城区 (140502)" in text and "Land-supply quota" in text


def test_query_points_matches_query_point(ctx, pack):
    rng = np.random.default_rng(7)
    lons, lats = [], []
    for _spec, gdf in ctx.zones:
        for geom in gdf.geometry.iloc[:5]:
            p = geom.representative_point()
            lons.append(p.x)
            lats.append(p.y)
    lons += list(rng.uniform(112.0, 113.5, 20))
    lats += list(rng.uniform(35.25, 36.0, 20))
    project = {"construction": "new"}
    day = dt.date(2025, 6, 1)
    df = query_points((np.array(lons), np.array(lats)), pack, project=project, on_date=day)
    assert len(df) == len(lons)
    for i in range(len(lons)):
        r = query_point(lons[i], lats[i], pack=pack, project=project, on_date=day)
        assert df["county"].iloc[i] == r.county.name
        assert df["verdict"].iloc[i] == r.verdict
        assert set(filter(None, df["zone_ids"].iloc[i].split(","))) == {z.zone_id for z in r.zones}


def test_a_batch_answers_each_point_as_query_point_does(ctx, pack):
    """query_point_answers (what the service runs on queries arriving together) shares the
    rules' evaluation and the provenance between points of a batch: mixing projects, dates,
    languages and places in one batch must still give each point its own answer."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from parity_places import parity_places
    from zoning.core.errors import CoordinateError
    from zoning.query import PointQuery, query_point_answers

    places = parity_places(ctx.features, ctx.counties, tolerance_m=ctx.county_tolerance_m).iloc[::4]
    projects = [None, {"construction": "new"}, {"construction": "new", "industry": "C26"},
                {"construction": "new", "in_central_area": False}]
    days = [dt.date(2024, 6, 1), dt.date(2026, 3, 1)]
    queries = []
    for i, (lon, lat) in enumerate(zip(places["lon"], places["lat"], strict=True)):
        for j in range(2):  # every place twice, with different projects, dates and languages
            k = 2 * i + j
            queries.append(PointQuery(lon, lat, project=projects[k % 4], on_date=days[k % 2],
                                      lang=("zh", "en")[(k // 3) % 2], with_nearest=bool(k % 3), near_m=500.0))
    queries.insert(7, PointQuery(113.0, 95.0))  # a latitude beyond 90: its exception, in its place
    answers = query_point_answers(queries, pack)
    assert len(answers) == len(queries) and isinstance(answers[7], CoordinateError)
    verdicts = set()
    for q, a in zip(queries, answers, strict=True):
        if q.y == 95.0:
            continue
        alone = query_point(q.x, q.y, pack=pack, project=q.project, on_date=q.on_date, lang=q.lang,
                            with_nearest=q.with_nearest, near_m=q.near_m).to_dict()
        assert a.to_dict() == alone, (q.x, q.y, q.project, q.on_date, q.lang)
        verdicts.add(alone["verdict"])
    assert len(verdicts) >= 3  # the batch really mixes outcomes
    first, second = (a.to_dict() for a in answers[:2])
    first["rules"][0]["missing"].append("x")  # answers share nothing a caller could change
    assert answers[1].to_dict() == second
