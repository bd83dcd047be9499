"""check_sites: zones, overlap, counties, verdicts, accuracy, quota; N in, N out, in order."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from zoning.check import build_context, check_sites, match_land_use, quota_accounting, summarise_by_county
from zoning.core.layers import read_layer

DAY = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def ctx(pack):
    return build_context(pack, on_date=DAY)


@pytest.fixture(scope="module")
def control1(pack):
    gdf = read_layer(pack, "groundwater_control")
    return gdf[gdf["zone_class"] == "一级管控区"].iloc[0]


def _sites(geoms, **cols):
    return gpd.GeoDataFrame(dict(cols), geometry=list(geoms), crs="EPSG:4490")


def test_point_in_control_zone(ctx, control1):
    p = control1.geometry.representative_point()
    res = check_sites(_sites([p], site_name=["示例1"]), context=ctx)
    r = res.iloc[0]
    assert r["status_code"] == "ok"
    assert r["control_level"] == "一级管控区"
    assert control1["zone_id"] in r["zone_ids"]
    assert r["zones"].startswith("一级管控区")
    assert r["verdict"] in ("prohibited", "needs confirmation", "conditional")
    assert "晋市环发〔2023〕124号" in r["articles"]
    assert r["basis_accuracy"] == "demonstration" and r["demonstration_basis"]
    assert r["county_adcode"] == control1["county"].split(",")[0]
    assert pd.isna(r["site_area_ha"])  # a point gets containment only


def test_project_attributes_change_the_verdict(ctx, pack):
    prot = read_layer(pack, "groundwater_protection")
    zone = prot[prot["zone_class"] == "二级保护区"].iloc[0]
    inner = prot[prot["zone_class"] == "一级保护区"].geometry.union_all()
    p = zone.geometry.difference(inner).representative_point()
    sites = _sites([p, p], construction=["新建", "新建"], discharges_pollutants=["是", "否"],
                   water_supply_related=["否", "否"])
    res = check_sites(sites, context=ctx)
    assert res["protection_class"].iloc[0] == "二级保护区"
    assert res["verdict"].iloc[0] == "prohibited"
    assert "晋市环发〔2023〕124号" in res["articles"].iloc[0]
    assert res["verdict"].iloc[1] != "prohibited"


def test_polygon_overlap_ha_mu_pct(ctx, control1):
    zone = control1.geometry
    minx, miny, maxx, maxy = zone.bounds
    cx = zone.representative_point()
    square = box(cx.x - 0.002, cx.y - 0.002, cx.x + 0.002, cx.y + 0.002)
    res = check_sites(_sites([square], site_name=["示例红线"]), context=ctx).iloc[0]
    assert res["site_area_ha"] > 0
    assert res["site_area_mu"] == pytest.approx(res["site_area_ha"] * 15, rel=1e-3)
    assert 0 < res["control_pct"] <= 100
    assert res["control_ha"] <= res["site_area_ha"] + 1e-6
    assert " ha / " in res["zones"] and "亩" in res["zones"]


def test_polygon_across_county_line(ctx, counties):
    a = counties[counties["name"] == "城区"].geometry.iloc[0]
    b = counties[counties["name"] == "泽州县"].geometry.iloc[0]
    line = a.boundary.intersection(b.boundary)
    p = line.interpolate(0.5, normalized=True) if line.length > 0 else a.boundary.interpolate(0.5, normalized=True)
    sq = box(p.x - 0.003, p.y - 0.003, p.x + 0.003, p.y + 0.003)
    r = check_sites(_sites([sq]), context=ctx).iloc[0]
    assert "城区" in r["county_shares"] and "泽州县" in r["county_shares"]
    shares = [float(s.split()[-1].rstrip("%")) for s in r["county_shares"].split("；")]
    assert sum(shares) == pytest.approx(100, abs=1.0)


def test_n_in_n_out_in_order_with_bad_rows(ctx):
    geoms = [Point(112.85, 35.50), None, Point(112.5, 35.7), Point(118.0, 30.0)]
    sites = _sites(geoms, site_name=["示例1", "示例2", "示例3", "示例4"],
                   input_problem=[None, "no coordinates: 经度/纬度 empty", None, None],
                   construction=["新建", None, "拆迁", None])
    res = check_sites(sites, context=ctx)
    assert list(res["site_name"]) == ["示例1", "示例2", "示例3", "示例4"]
    assert list(res["row"]) == [1, 2, 3, 4]
    assert res["status_code"].tolist() == ["ok", "error", "warning", "error"]
    assert res["verdict"].iloc[1] == "not checked"
    assert "no coordinates" in res["status"].iloc[1]
    assert "construction treated as not given" in res["status"].iloc[2] and "拆迁" in res["status"].iloc[2]
    assert "outside 晋城市" in res["status"].iloc[3]
    assert res["in_central_city"].iloc[0] == "yes"


def test_planning_extents_and_quota(ctx):
    sites = _sites([Point(112.85, 35.50), Point(112.85, 35.50), Point(112.85, 35.50), Point(112.5, 35.7)],
                   land_use=["住宅用地", "工业用地", "奇怪用地", "住宅用地"], area_ha_stated=[2.0, 1.5, 1.0, 9.0])
    res = check_sites(sites, context=ctx)
    assert res["in_planning_area"].iloc[0] == "yes" and res["in_central_city"].iloc[0] == "yes"
    assert res["in_central_city"].iloc[3] == "no"
    assert res["quota_class"].tolist()[:2] == ["住宅用地", "工矿仓储用地"]
    assert pd.isna(res["quota_area_ha"].iloc[3])  # outside 中心城区: not counted
    q = quota_accounting(res, context=ctx).set_index("class")
    assert q.loc["住宅用地", "sites_ha"] == pytest.approx(2.0)
    assert q.loc["住宅用地", "remaining_ha"] == pytest.approx(161.9766 - 2.0)
    assert q.loc["工矿仓储用地", "sites"] == 1
    assert q.loc["（未识别的用地类别）", "sites_ha"] == pytest.approx(1.0)
    assert q.loc["合计", "quota_ha"] == pytest.approx(427.674)
    assert q.loc["合计", "sites_ha"] == pytest.approx(4.5)


def test_quota_overrun(ctx):
    sites = _sites([Point(112.85, 35.50)], land_use=["特殊用地"], area_ha_stated=[10.0])
    q = quota_accounting(check_sites(sites, context=ctx), context=ctx).set_index("class")
    assert q.loc["特殊用地", "overrun_ha"] == pytest.approx(10.0 - 5.648)
    assert q.loc["特殊用地", "remaining_ha"] == 0


def test_summary_by_county(ctx):
    sites = _sites([Point(112.85, 35.50), Point(112.5, 35.7), None], input_problem=[None, None, "bad"])
    s = summarise_by_county(check_sites(sites, context=ctx))
    assert s.loc["合计", "total"] == 3
    assert s.loc["城区", "total"] == 1
    assert s.loc["合计", "not checked"] == 1


def test_project_defaults_and_date(pack):
    p = Point(112.85, 35.50)
    before = check_sites(_sites([p]), pack, on_date=dt.date(2020, 1, 1))
    assert before["verdict"].iloc[0] in ("clear", "needs confirmation", "obligations", "conditional", "prohibited")
    ctx2 = build_context(pack, project_defaults={"建设性质": "新建"}, on_date=DAY)
    assert ctx2.defaults == {"construction": "new"}


@pytest.mark.parametrize("value,expected", [("工业用地", "工矿仓储用地"), ("0701城镇住宅用地", "住宅用地"),
                                            ("教育用地", "公共管理与公共服务用地"), ("商服用地", "商服用地"), ("耕地", None)])
def test_match_land_use(value, expected):
    classes = ["商服用地", "工矿仓储用地", "住宅用地", "公共管理与公共服务用地", "交通运输用地", "特殊用地"]
    assert match_land_use(value, classes) == expected


def test_check_sites_from_path(tmp_path, pack):
    path = tmp_path / "s.csv"
    path.write_text("项目名称,经度,纬度\n示例1,112.85,35.5\n示例2,,\n", encoding="utf-8")
    res = check_sites(path, pack, on_date=DAY)
    assert len(res) == 2 and res["row"].tolist() == [2, 3]
    assert np.isnan(res["lon"].iloc[1]) or res["lon"].iloc[1] is None


@pytest.mark.parametrize("stated", [["否", None], [False, None]])
def test_a_stated_membership_does_not_overwrite_the_computed_one(tmp_path, stated):
    """in_planning_area is a project attribute (the user may state it) and a result column (the
    site's membership the layers give): the statement settles the rules, the column keeps the
    computed membership, the statement is kept beside it as 原_in_planning_area; and the
    GeoPackage takes a yes/no column from the user (a bool input crashed its text field)."""
    import geopandas as gpd

    from zoning.outputs.reports import write_results

    sites = gpd.GeoDataFrame({"in_planning_area": stated, "construction": ["new", "new"]},
                             geometry=gpd.points_from_xy([112.85, 112.85], [35.49, 35.49]), crs="EPSG:4490")
    out = check_sites(sites)
    assert out["in_planning_area"].tolist() == ["yes", "yes"]
    assert out["planning_area_pct"].tolist() == [100.0, 100.0]
    assert "原_in_planning_area" in out.columns
    assert out["verdict"].iloc[0] != out["verdict"].iloc[1] or out["missing_attributes"].iloc[0] != out[
        "missing_attributes"].iloc[1]  # the statement still settles the first site's rules
    write_results(out, {"gpkg": tmp_path / "o.gpkg", "csv": tmp_path / "o.csv"})
    assert (tmp_path / "o.gpkg").stat().st_size > 0
