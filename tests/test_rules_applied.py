"""Rules applied as the articles read, at places taken from the pack, through query and
check (points and polygons): industries by GB/T 4754, provisos, aliases, overlapping
zones, plans that expire, uncertain extents, honest labels and a verdict per subject."""

from __future__ import annotations

import datetime as dt
import shutil

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from zoning.check import build_context, check_sites, quota_accounting, quota_status
from zoning.core import settings, vocab
from zoning.core.context import load_context
from zoning.core.rules import PROJECT_ATTRIBUTES, evaluate_rule
from zoning.core.verdicts import evaluate_place
from zoning.query import query_point

DAY = dt.date(2025, 6, 1)  # every plan and rule of the pack in force
LATER = dt.date(2026, 11, 30)  # the 2025 supply plan has expired


@pytest.fixture(scope="module")
def ctx():
    return load_context()


def inside(ctx, cls: str, k: int = 0) -> tuple[float, float]:
    """A point well inside the k-th feature of a class (at least 30 m from its edge)."""
    f = ctx.features[ctx.features["zone_class"] == cls].reset_index(drop=True)
    g = f.geometry.iloc[k]
    return _inner_point(g)


def _inner_point(g) -> tuple[float, float]:
    fwd = Transformer.from_crs("EPSG:4490", settings.area_crs, always_xy=True)
    back = Transformer.from_crs(settings.area_crs, "EPSG:4490", always_xy=True)
    gm = shapely.transform(g, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
    p = gm.buffer(-30).representative_point() if not gm.buffer(-30).is_empty else gm.representative_point()
    return back.transform(p.x, p.y)


def square(lon: float, lat: float, half_m: float = 1.0):
    fwd = Transformer.from_crs("EPSG:4490", settings.area_crs, always_xy=True)
    back = Transformer.from_crs(settings.area_crs, "EPSG:4490", always_xy=True)
    x, y = fwd.transform(lon, lat)
    sq = shapely.box(x - half_m, y - half_m, x + half_m, y + half_m)
    return shapely.transform(sq, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))


def both(lon: float, lat: float, project: dict, day: dt.date = DAY, pack=None) -> gpd.GeoDataFrame:
    """check_sites of the point and of a 2 m square around it."""
    sites = gpd.GeoDataFrame({"site_name": ["point", "square"]},
                             geometry=[shapely.Point(lon, lat), square(lon, lat)], crs="EPSG:4490")
    return check_sites(sites, pack, project_defaults=project, on_date=day)


def bound(r, article: str, document: str = "晋市环发〔2023〕124号") -> str | None:
    """The status of an article in a query answer (None if not evaluated there)."""
    for x in r.rules:
        if x.document == document and x.article == article:
            return x.status
    return None


# ---------------------------------------------------------------- industries


@pytest.mark.parametrize("industry", ["coal", "采煤", "06", "0610", "煤炭开采和洗选业"])
def test_new_coal_mine_in_level1_control_zone_is_bound_by_article_11(ctx, industry):
    """第十一条: 矿山开采 operators must take anti-seepage measures and monitor: coal mining is 矿山开采."""
    lon, lat = inside(ctx, "一级管控区")
    project = {"construction": "new", "industry": industry}
    r = query_point(lon, lat, project=project, on_date=DAY)
    assert bound(r, "第十一条") == "obligation"
    assert bound(r, "第十九条") == "obligation"
    assert r.subject_verdicts[vocab.GROUNDWATER] != vocab.CLEAR
    res = both(lon, lat, project)
    assert (res["verdict_groundwater"] == r.subject_verdicts[vocab.GROUNDWATER]).all()
    assert res["rule_ids"].notna().all()


@pytest.mark.parametrize("industry", ["quarrying", "开山采石", "101", "土砂石开采"])
def test_quarry_in_level2_control_zone_is_bound_by_article_26(ctx, industry):
    lon, lat = inside(ctx, "二级管控区")
    r = query_point(lon, lat, project={"construction": "new", "industry": industry}, on_date=DAY)
    assert bound(r, "第二十六条") == "obligation"
    assert bound(r, "第三十四条") == "obligation"


def test_existing_coal_mine_in_level2_control_zone(ctx):
    lon, lat = inside(ctx, "二级管控区")
    r = query_point(lon, lat, project={"construction": "existing", "industry": "coal"}, on_date=DAY)
    assert bound(r, "第二十六条") == "obligation"
    assert r.subject_verdicts[vocab.GROUNDWATER] in (vocab.OBLIGATIONS, vocab.NEEDS_CONFIRMATION)


@pytest.mark.parametrize("industry", ["原料药", "2710", "化学药品原料药制造", "27"])
def test_api_plant_in_level1_control_zone_meets_article_22(ctx, industry):
    """第二十二条 严格控制…医药制造…项目环境风险: 原料药 (2710) is 医药制造 (27)."""
    lon, lat = inside(ctx, "一级管控区")
    r = query_point(lon, lat, project={"construction": "new", "industry": industry}, on_date=DAY)
    assert bound(r, "第二十二条") == "conditional"


def test_a_broad_code_is_unknown_not_no(ctx):
    """C 制造业 may be 化工 or not: 第二十二条 waits on the industry (需确认), never a silent no."""
    lon, lat = inside(ctx, "一级管控区")
    r = query_point(lon, lat, project={"construction": "new", "industry": "C"}, on_date=DAY)
    a22 = [x for x in r.rules if x.article == "第二十二条"][0]
    assert a22.status == "unknown" and "industry" in a22.missing


def test_batch_with_standard_industry_names_and_codes_is_ok(tmp_path, ctx):
    lon, lat = inside(ctx, "一级管控区")
    src = tmp_path / "sites.csv"
    rows = ["化学原料和化学制品制造业", "26", "C26", "2710 化学药品原料药制造", "煤炭开采和洗选业", "0610", "化工", "不存在的行业"]
    src.write_text("项目名称,经度,纬度,建设性质,行业类别\n" + "\n".join(
        f"p{i},{lon},{lat},新建,{v}" for i, v in enumerate(rows)) + "\n", encoding="utf-8")
    res = check_sites(src, on_date=DAY)
    assert res["status_code"].tolist()[:-1] == ["ok"] * (len(rows) - 1)
    # an industry that cannot be resolved leaves the site checked, the attribute unknown
    assert res["status_code"].iloc[-1] == "warning" and res["verdict"].iloc[-1] in vocab.VERDICTS
    assert "industry treated as not given" in res["status"].iloc[-1]
    assert "JSH-2023-124-A22" in res["rule_ids"].iloc[0] or res["verdict"].iloc[0] != vocab.CLEAR


# ---------------------------------------------------------------- provisos and aliases


def test_unknown_proviso_of_article_10_is_needs_confirmation(ctx):
    """第十条 …由省人民政府水行政主管部门决定批准的除外: a provincial key project with the approval
    and no activity given may fall under the proviso: 需确认, not 禁止."""
    lon, lat = inside(ctx, "泉域重点保护区")
    project = {"construction": "new", "water_supply_related": False, "industry": "other",
               "key_project_level": "provincial", "provincial_water_approval": True}
    r = query_point(lon, lat, project=project, on_date=DAY)
    assert bound(r, "第十条") == "unknown"
    assert r.subject_verdicts[vocab.GROUNDWATER] == vocab.NEEDS_CONFIRMATION
    assert "activity" in r.to_confirm
    res = both(lon, lat, project)
    assert (res["verdict_groundwater"] == vocab.NEEDS_CONFIRMATION).all()
    # said in full, the proviso applies (有条件) or not (禁止)
    assert query_point(lon, lat, project=project | {"activity": "none"}, on_date=DAY).subject_verdicts[
        vocab.GROUNDWATER] == vocab.CONDITIONAL
    not_key = project | {"activity": "none", "key_project_level": "none", "livelihood_project": False}
    assert query_point(lon, lat, project=not_key, on_date=DAY).subject_verdicts[vocab.GROUNDWATER] == vocab.PROHIBITED


def test_a_well_is_not_called_unauthorised(ctx):
    """第十条（2）prohibits 擅自打井: 打井 alone asks whether the well is authorised."""
    assert PROJECT_ATTRIBUTES["activity"]
    lon, lat = inside(ctx, "泉域重点保护区")
    base = {"construction": "other", "industry": "other", "activity": "打井"}
    r = query_point(lon, lat, project=base, on_date=DAY)
    assert bound(r, "第十条") == "unknown" and "activity_authorised" in r.to_confirm
    assert bound(query_point(lon, lat, project=base | {"activity_authorised": True}, on_date=DAY), "第十条") == \
        "not_applicable"
    assert bound(query_point(lon, lat, project=base | {"activity": "擅自打井"}, on_date=DAY), "第十条") == "prohibited"


# ---------------------------------------------------------------- overlapping zones


def test_every_class_of_a_place_is_evaluated(ctx):
    """A 准保护区 inside a 泉域重点保护区: 第十条 (泉域) binds as well as 第七条 (准保护区)."""
    hits = [(vocab.PROTECTION, "准保护区"), (vocab.PROTECTION, "泉域重点保护区")]
    ev = evaluate_place(ctx.rules, hits, {"construction": "new", "industry": "coal"}, DAY)
    arts = {e.rule.article for e in ev if e.rule.document == "晋市环发〔2023〕124号"}
    assert {"第七条", "第十条"} <= arts
    a10 = [e for e in ev if e.rule.article == "第十条"][0]
    assert a10.verdict.status == "prohibited"  # coal mining is never excepted


@pytest.fixture(scope="module")
def overlap_pack(tmp_path_factory):
    """The shipped pack with one 准保护区 drawn inside a 泉域重点保护区, as official layers may."""
    from zoning.core.layers import open_pack, read_layer
    from zoning.core.manifest import rehash_rules

    src = settings.default_pack
    dst = tmp_path_factory.mktemp("overlap") / "pack"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("sources"))
    pack = open_pack(dst)
    spec = pack.by_kind(vocab.PROTECTION)[0]
    gdf = read_layer(pack, spec.name)
    spring = gdf[gdf["zone_class"] == "泉域重点保护区"].iloc[0]
    extra = gdf[gdf["zone_class"] == "泉域重点保护区"].iloc[[0]].copy()  # same county, town
    extra["zone_class"] = "准保护区"
    extra["zone_id"] = "OVERLAP-1"
    extra = extra.set_geometry([spring.geometry.buffer(-0.002)], crs=gdf.crs)
    out = gpd.GeoDataFrame(gpd.pd.concat([gdf, extra], ignore_index=True), crs=gdf.crs)
    pyogrio.write_dataframe(out, dst / spec.file, layer=spec.table or spec.name, driver="GPKG")
    rehash_rules(dst)
    return dst, _inner_point(spring.geometry.buffer(-0.002))


def test_overlap_through_query_and_check(overlap_pack):
    pack, (lon, lat) = overlap_pack
    project = {"construction": "new", "industry": "coal"}
    r = query_point(lon, lat, pack=pack, project=project, on_date=DAY)
    assert {z.zone_class for z in r.zones} == {"准保护区", "泉域重点保护区"}
    assert [g["zone_class"] for g in r.governing if g["kind"] == vocab.PROTECTION] == ["准保护区"]  # for display
    assert bound(r, "第十条") == "prohibited" and bound(r, "第七条") is not None
    res = both(lon, lat, project, pack=pack)
    assert (res["verdict_groundwater"] == vocab.PROHIBITED).all()
    assert all("JSH-2023-124-A10" in ids for ids in res["rule_ids"])


def test_validator_reports_overlapping_protection_classes(overlap_pack):
    from zoning.core.layers import open_pack
    from zoning.core.validate import validate_pack

    pack, _ = overlap_pack
    report = validate_pack(open_pack(pack))
    assert report.ok  # official layers may overlap: a note, not a problem
    assert any("OVERLAP-1" in w and "准保护区" in w and "泉域重点保护区" in w for w in report.warnings)
    shipped = validate_pack(open_pack(settings.default_pack))
    assert shipped.warnings == []  # the demonstration zones do not overlap


# ---------------------------------------------------------------- plans that expire


def test_supply_plan_expired_after_2025(ctx):
    lon, lat = 112.85, 35.49  # 城区
    now = query_point(lon, lat, on_date=DAY)
    assert now.quota.applies and now.quota.in_force
    later = query_point(lon, lat, on_date=LATER)
    assert not later.quota.applies and later.quota.in_force is False and later.quota.valid_to == "2025-12-31"
    assert later.quota.total_ha == 427.674  # kept for reference
    assert "已过期" in later.to_text("zh")
    assert "expired" in query_point(lon, lat, on_date=LATER, lang="en").to_text("en")


def test_check_quota_sheet_says_the_plan_expired(tmp_path):
    from zoning.outputs.reports import ResultWriter

    ctx = build_context(on_date=LATER)
    res = check_sites(gpd.GeoDataFrame({"land_use": ["住宅用地"], "area_ha_stated": [1.0]},
                                       geometry=[shapely.Point(112.85, 35.49)], crs="EPSG:4490"), context=ctx)
    q = quota_accounting(res, context=ctx)
    assert quota_status(q.attrs["quota"], "zh").startswith("2025年度")
    w = ResultWriter({"xlsx": tmp_path / "o.xlsx"}, context=ctx)
    w.write(res)
    w.close()
    import openpyxl

    names = openpyxl.load_workbook(tmp_path / "o.xlsx", read_only=True).sheetnames
    assert "供地计划 (已过期)" in names


def test_2021_action_plan_is_not_in_force_in_2025(ctx):
    rule = [r for r in ctx.rules if r.document == "晋市政办〔2021〕9号"][0]
    assert rule.in_force.to == dt.date(2021, 12, 31)
    v = evaluate_rule(rule, {"abstracts_groundwater": True, "in_water_overload_area": True}, DAY)
    assert v.status == "not_in_force"


# ---------------------------------------------------------------- uncertain extents


def _zezhou_in_planning_area(ctx) -> tuple[float, float]:
    f = ctx.features
    pa = f[f["zone_class"] == vocab.PLANNING_AREA].geometry.iloc[0]
    ca = f[f["zone_class"] == vocab.CENTRAL_AREA].geometry.iloc[0]
    return _inner_point(pa.difference(ca))


def test_zezhou_part_of_planning_area_may_be_central_area(ctx):
    """3号（一）: 中心城区包括…泽州县部分区域（长晋高速以西）. The drawn 中心城区 is 城区 only."""
    lon, lat = _zezhou_in_planning_area(ctx)
    project = {"land_supply_method": "transfer", "net_land_conditions_met": False}
    r = query_point(lon, lat, project=project, on_date=DAY)
    assert r.county.adcode == "140525"
    assert r.extents.central_membership == vocab.UNCERTAIN
    assert bound(r, "（十三）", "晋市政发〔2021〕3号") == "unknown"
    assert "in_central_area" in r.to_confirm and r.verdict == vocab.NEEDS_CONFIRMATION
    assert r.quota.possibly
    sure = query_point(lon, lat, project=project | {"in_central_area": True}, on_date=DAY)
    assert sure.verdict == vocab.PROHIBITED and bound(sure, "（十三）", "晋市政发〔2021〕3号") == "prohibited"
    res = both(lon, lat, project)
    assert res["in_central_city"].tolist() == [vocab.UNCERTAIN] * 2
    assert (res["verdict_land"] == vocab.NEEDS_CONFIRMATION).all()
    assert all("in_central_area" in m for m in res["missing_attributes"])


def test_far_from_the_drawn_extents_is_no(ctx):
    r = query_point(112.40, 35.60, project={}, on_date=DAY)
    assert r.extents.planning_membership == vocab.NO and r.extents.central_membership == vocab.NO


# ---------------------------------------------------------------- labels and subjects


def test_honest_labels(ctx):
    r = query_point(112.85, 35.49, project={}, on_date=DAY)
    text = r.to_text("zh")
    assert "官方来源，概化，位置精度约 750 米" in text
    assert all(not n.isascii() for n in r.accuracy_notes)  # Chinese notes in a Chinese answer
    # no groundwater zone here: that answer rests on the demonstration layers too
    res = both(112.85, 35.49, {})
    assert res["demonstration_basis"].tolist() == [True, True]


def test_a_verdict_per_subject(ctx):
    """An unknown in one subject never hides a clear or prohibited outcome in another."""
    lon, lat = inside(ctx, "一级保护区")
    project = {"construction": "new", "water_supply_related": False, "industry": "chemical",
               "discharges_pollutants": True}
    r = query_point(lon, lat, project=project, on_date=DAY)
    assert r.subject_verdicts[vocab.GROUNDWATER] == vocab.PROHIBITED
    assert set(r.subject_verdicts) == set(vocab.SUBJECTS)
    res = both(lon, lat, project)
    for s in vocab.SUBJECTS:
        assert (res[f"verdict_{s}"] == r.subject_verdicts[s]).all(), s
    assert (res["verdict"] == r.verdict).all()
