"""压占图斑 and the remainder (zoning.core.pieces) on polygons across several zones of the shipped pack."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from zoning.check import build_context, check_sites
from zoning.core import vocab
from zoning.core.context import load_context
from zoning.core.hits import site_hits
from zoning.core.pieces import NON_CONFLICTING, OUTSIDE_GROUNDWATER, site_pieces
from zoning.core.verdicts import evaluate_place, overall_verdict


@pytest.fixture(scope="module")
def ctx():
    return load_context()


def _sites(ctx) -> gpd.GeoDataFrame:
    """Squares around zones of several classes (each larger than some zones, so it holds
    several pieces and a remainder), one across a county-free corner, one point."""
    f = ctx.features
    out = []
    for cls, half in (("一级管控区", 0.02), ("二级保护区", 0.01), ("一级保护区", 0.004), ("泉域重点保护区", 0.03),
                      ("中心城区", 0.03)):
        k = int(np.flatnonzero(f["zone_class"].to_numpy() == cls)[0])
        c = f.geometry.iloc[k].representative_point()
        out.append(shapely.box(c.x - half, c.y - half, c.x + half, c.y + half))
    out.append(shapely.Point(112.85, 35.49))
    return gpd.GeoDataFrame({"site_id": [f"S{i}" for i in range(len(out))]}, geometry=out, crs="EPSG:4490")


PROJECT = {"construction": "new", "discharges_pollutants": True, "industry": "chemical"}


def test_pieces_are_the_overlaps_of_the_check(ctx):
    sites = _sites(ctx)
    p = site_pieces(ctx, sites.geometry.to_numpy(), PROJECT)
    hits = site_hits(ctx, sites.geometry.to_numpy())
    t = hits.table[hits.table["kind"] != vocab.COUNTIES]
    t = t[t["overlap_m2"].fillna(0) > 0]
    got = p.pieces.set_index(["site", "feature"])["area_m2"]
    want = t.set_index(["site", "feature"])["overlap_m2"]
    assert set(got.index) == set(want.index) and len(got) >= 8
    assert np.allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-9)
    assert set(p.pieces["zone_class"]) >= {"一级管控区", "二级保护区", "一级保护区", "泉域重点保护区", "中心城区"}
    # the check's columns: the strictest protection class and highest control level, summed over their pieces
    res = check_sites(sites, context=build_context(project_defaults=PROJECT))
    for s in range(5):
        mine = p.pieces[p.pieces["site"] == s]
        for kind, col_cls, col_ha in ((vocab.PROTECTION, "protection_class", "protection_ha"),
                                      (vocab.CONTROL, "control_level", "control_ha")):
            cls = res[col_cls].iat[s]
            if cls is None or cls != cls:
                assert not (mine["kind"] == kind).any() or res[col_ha].isna().iat[s]
                continue
            ha = mine.loc[(mine["kind"] == kind) & (mine["zone_class"] == cls), "area_m2"].sum() / 10_000
            assert ha == pytest.approx(res[col_ha].iat[s], abs=1e-4)


def test_pieces_and_remainder_make_the_site(ctx):
    sites = _sites(ctx)
    geoms = sites.geometry.to_numpy()
    p = site_pieces(ctx, geoms, PROJECT)
    assert set(p.remainder["site"]) == set(range(5))  # polygons only: the point has none
    for s in range(5):
        site_area = p.sites_m[s].area
        pieces = p.pieces[p.pieces["site"] == s]
        for kind, mask in ((NON_CONFLICTING, pieces["conflict"].to_numpy(dtype=bool)),
                           (OUTSIDE_GROUNDWATER, pieces["kind"].isin(vocab.ZONE_KINDS).to_numpy())):
            row = p.remainder[(p.remainder["site"] == s) & (p.remainder["remainder"] == kind)].iloc[0]
            cut = shapely.union_all(pieces["geometry"].to_numpy()[mask]) if mask.any() else None
            cut_area = 0.0 if cut is None else cut.area
            assert cut_area + row["area_m2"] == pytest.approx(site_area, rel=1e-4)  # within 0.01 %
            if row["geometry"] is not None and cut is not None:
                assert shapely.intersection(row["geometry"], cut).area < 1e-6 * site_area
        # zones of one kind do not overlap in the pack: there, pieces plus remainder add up as they are
        gw = pieces[pieces["kind"].isin(vocab.ZONE_KINDS)]
        gw_rest = p.remainder[(p.remainder["site"] == s) & (p.remainder["remainder"] == OUTSIDE_GROUNDWATER)]
        if gw["kind"].nunique() <= 1:
            assert gw["area_m2"].sum() + gw_rest["area_m2"].iat[0] == pytest.approx(site_area, rel=1e-4)


def test_conflict_is_the_answer_of_the_class_rules(ctx):
    sites = _sites(ctx)
    p = site_pieces(ctx, sites.geometry.to_numpy(), PROJECT)
    day = __import__("datetime").date.today()
    for (kind, cls), g in p.pieces.groupby(["kind", "zone_class"]):
        own = [e for e in evaluate_place(ctx.rules, [(kind, cls)], PROJECT, day) if e.zone_kind is not None]
        verdict = overall_verdict(own)[0]
        assert set(g["class_verdict"]) == {verdict}
        assert g["conflict"].all() == (verdict in (vocab.PROHIBITED, vocab.NEEDS_CONFIRMATION, vocab.CONDITIONAL))
    # a new polluting chemical plant in a level-1 protection zone: the zone's verdict is the check's
    # groundwater verdict of a site lying in it alone, and it conflicts
    prot = p.pieces[p.pieces["zone_class"] == "一级保护区"]
    assert len(prot) and prot["conflict"].all()
    f = ctx.features
    k = int(prot["feature"].iat[0])
    inner = gpd.GeoDataFrame(geometry=[f.geometry.iloc[k].buffer(-0.0002)], crs="EPSG:4490")
    res = check_sites(inner, context=build_context(project_defaults=PROJECT))
    assert res["verdict_groundwater"].iat[0] == prot["class_verdict"].iat[0]


def test_a_site_fully_in_a_prohibiting_zone_has_no_remainder(ctx):
    f = ctx.features
    k = int(np.flatnonzero(f["zone_class"].to_numpy() == "一级保护区")[0])
    inner = f.geometry.iloc[k].buffer(-0.0002)
    p = site_pieces(ctx, np.array([inner], dtype=object), PROJECT)
    rest = p.remainder[p.remainder["remainder"] == NON_CONFLICTING].iloc[0]
    assert rest["area_m2"] == pytest.approx(0.0, abs=1e-6 * p.sites_m[0].area) or rest["geometry"] is None
    assert "一级保护区" in rest["excluded"]
