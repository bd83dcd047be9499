"""The one table of hits: one definition of the city, its lines and their tolerance."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from zoning.check import check_sites
from zoning.core import settings, vocab
from zoning.core.context import load_context
from zoning.core.hits import HIT_COLUMNS, SITE_COLUMNS, point_hits, site_hits
from zoning.query import query_point, query_points

DAY = dt.date(2026, 6, 1)
#: 0.55 km outside the county layer, inside its stated 750 m accuracy (issue: one place, three answers)
NEAR_CITY_LINE = (112.366538, 35.898031)


@pytest.fixture(scope="module")
def ctx():
    return load_context()


def square(lon: float, lat: float, half_m: float = 1.0) -> shapely.Polygon:
    """A 2 m square (by default) around a point, built in the equal-area CRS."""
    fwd = Transformer.from_crs("EPSG:4490", settings.area_crs, always_xy=True)
    back = Transformer.from_crs(settings.area_crs, "EPSG:4490", always_xy=True)
    x, y = fwd.transform(lon, lat)
    sq = shapely.box(x - half_m, y - half_m, x + half_m, y + half_m)
    return shapely.transform(sq, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))


def sites_frame(geoms: list) -> pd.DataFrame:
    import geopandas as gpd

    return gpd.GeoDataFrame({"site_name": [f"s{i}" for i in range(len(geoms))]}, geometry=geoms, crs="EPSG:4490")


def test_tables_have_their_columns(ctx):
    h = site_hits(ctx, np.array([shapely.Point(112.85, 35.49), square(112.85, 35.49), None], dtype=object))
    assert tuple(h.sites.columns) == SITE_COLUMNS and tuple(h.table.columns) == HIT_COLUMNS
    assert len(h.sites) == 3
    assert h.sites["present"].tolist() == [True, True, False]
    assert h.sites["geom_type"].tolist()[:2] == ["Point", "Polygon"]


def test_point_near_city_line_is_located_in_nearest_county(ctx):
    h = point_hits(ctx, np.array([NEAR_CITY_LINE[0]]), np.array([NEAR_CITY_LINE[1]]), exact=True)
    s = h.sites.iloc[0]
    assert not s["in_city"] and s["located"] and s["near_line"]
    assert s["adcode"] == "140521" and s["near_adcode"] is None
    assert 500 < s["nearest_distance_m"] < ctx.county_tolerance_m


def test_one_place_one_answer_query_point_check_and_tiny_polygon():
    """The issue's finding: query said 'outside 晋城市', the point check 沁水县 / 需确认 and
    the 2 m square 未判定. Now all three locate it in 沁水县 near the line and agree."""
    project = {"construction": "new", "industry": "chemical"}
    q = query_point(*NEAR_CITY_LINE, project=project, on_date=DAY)
    assert q.county.located and q.county.adcode == "140521" and q.county.near_line
    assert q.verdict is not None
    res = check_sites(sites_frame([shapely.Point(*NEAR_CITY_LINE), square(*NEAR_CITY_LINE)]),
                      project_defaults=project, on_date=DAY)
    assert res["county_adcode"].tolist() == ["140521", "140521"]
    assert res["verdict"].tolist() == [q.verdict, q.verdict]
    assert res["status_code"].tolist() == ["ok", "ok"]
    assert res["county_note"].iloc[0] == res["county_note"].iloc[1]
    assert "750 m" in res["county_note"].iloc[0]


def test_beyond_tolerance_is_outside_everywhere():
    far = (112.30, 35.95)
    q = query_point(*far, project={}, on_date=DAY)
    assert not q.county.located and q.verdict is None and q.warnings
    res = check_sites(sites_frame([shapely.Point(*far), square(*far)]), on_date=DAY)
    assert res["verdict"].tolist() == [vocab.NOT_CHECKED] * 2
    assert res["status_code"].tolist() == ["error"] * 2
    assert all(s.startswith("outside 晋城市 (county layer): nearest county") for s in res["status"])


def test_polygon_across_county_line_names_both(ctx):
    # a 2 km square on the line of 城区, which 泽州县 surrounds
    i = ctx.counties.index[ctx.counties["adcode"] == "140502"][0]
    mid = shapely.boundary(ctx.counties_m[i]).interpolate(0.5, normalized=True)
    back = Transformer.from_crs(settings.area_crs, "EPSG:4490", always_xy=True)
    sq = shapely.transform(shapely.box(mid.x - 1000, mid.y - 1000, mid.x + 1000, mid.y + 1000),
                           lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))
    h = site_hits(ctx, np.array([sq], dtype=object))
    s = h.sites.iloc[0]
    cty = h.table[h.table["kind"] == vocab.COUNTIES]
    assert set(cty["zone_class"]) == {"140502", "140525"}
    assert s["near_line"] and s["near_adcode"] in {"140502", "140525"} and s["near_adcode"] != s["adcode"]
    assert s["adcode"] == cty.sort_values("overlap_m2").iloc[-1]["zone_class"]
    assert cty["share"].sum() == pytest.approx(1.0, abs=1e-6)


def test_polygon_overlaps_are_areas_and_shares(ctx):
    # a square 1 km across centred on a control zone's interior point
    z = ctx.features[ctx.features["kind"] == vocab.CONTROL].iloc[0]
    p = z.geometry.representative_point()
    big = square(p.x, p.y, half_m=2000)
    h = site_hits(ctx, np.array([big], dtype=object))
    t = h.table[h.table["kind"] == vocab.CONTROL]
    assert len(t) >= 1
    area = h.sites["area_m2"].iloc[0]
    assert area == pytest.approx(16e6, rel=1e-3)
    assert np.allclose(t["share"], t["overlap_m2"] / area)
    assert (t["share"] > 0).all() and (t["share"] <= 1).all()


def test_query_points_equals_query_point_on_random_places(ctx):
    rng = np.random.default_rng(7)
    lon = rng.uniform(112.0, 113.5, 60)
    lat = rng.uniform(35.25, 36.05, 60)
    batch = query_points((lon, lat), project={}, on_date=DAY)
    for i in range(60):
        q = query_point(lon[i], lat[i], project={}, on_date=DAY)
        assert batch["adcode"].iat[i] == (q.county.adcode if q.county.located else None)
        assert batch["verdict"].iat[i] == q.verdict
        assert bool(batch["near_line"].iat[i]) == q.county.near_line
