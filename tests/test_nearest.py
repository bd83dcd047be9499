"""Distance and direction to the nearest zone of each class (zoning.core.nearest), in query and check."""

from __future__ import annotations

import json

import geopandas as gpd
import jsonschema
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from conftest import REPO
from zoning.check import build_context, check_sites
from zoning.cli.main import main_group
from zoning.core import settings, vocab
from zoning.core.context import load_context
from zoning.core.hits import site_hits
from zoning.core.nearest import format_nearest, nearest_zones

TO_LONLAT = Transformer.from_crs(settings.area_crs, "EPSG:4490", always_xy=True)


@pytest.mark.parametrize(("bearing", "code"), [(0, "N"), (22.4, "N"), (22.6, "NE"), (90, "E"), (181, "S"),
                                               (202.6, "SW"), (292.5, "NW"), (359.9, "N")])
def test_compass_points(bearing, code):
    assert vocab.compass_point(bearing) == code
    assert vocab.compass_label(code, "zh") in {zh for _c, zh, _en in vocab.COMPASS_POINTS}


def _east_of(ctx, cls: str, metres: float):
    """A point ``metres`` due east of the easternmost vertex of the first zone of ``cls``."""
    f = ctx.features
    k = int(np.flatnonzero(f["zone_class"].to_numpy() == cls)[0])
    xy = shapely.get_coordinates(ctx.features_m[k])
    x, y = xy[np.argmax(xy[:, 0])]
    lon, lat = TO_LONLAT.transform(x + metres, y)
    return k, shapely.Point(lon, lat)


def test_distance_and_direction_of_a_point_east_of_a_zone():
    ctx = load_context()
    k, pt = _east_of(ctx, "一级管控区", 1000.0)
    geoms = np.array([pt], dtype=object)
    rows = nearest_zones(ctx, geoms, hits=site_hits(ctx, geoms))
    row = rows[rows["zone_class"] == "一级管控区"].iloc[0]
    # the zone may reach closer elsewhere, never farther than the vertex 1 km west
    assert row["distance_m"] <= 1000.0 + 0.01 and row["distance_m"] > 500
    assert row["direction"] in ("W", "NW", "SW")
    text = format_nearest(rows[rows["zone_class"] == "一级管控区"])
    assert text.startswith("一级管控区 ") and ("km" in text or " m " in text)


def test_no_row_for_a_class_the_site_lies_in():
    ctx = load_context()
    f = ctx.features
    k = int(np.flatnonzero(f["zone_class"].to_numpy() == "二级保护区")[0])
    pt = f.geometry.iloc[k].representative_point()
    geoms = np.array([pt], dtype=object)
    rows = nearest_zones(ctx, geoms, hits=site_hits(ctx, geoms))
    assert "二级保护区" not in set(rows["zone_class"])
    assert {"一级管控区", "二级管控区"} <= set(rows["zone_class"])


def test_check_near_flags_sites_within_reach():
    ctx0 = load_context()
    _k, near = _east_of(ctx0, "一级管控区", 300.0)
    _k, far = _east_of(ctx0, "一级管控区", 300.0)
    far = shapely.Point(far.x + 0.5, far.y)  # some 45 km further east: outside the city
    sites = gpd.GeoDataFrame({"site_id": ["near", "far"]}, geometry=[near.buffer(0.0005), far], crs="EPSG:4490")
    res = check_sites(sites, context=build_context(near_m=400))
    assert bool(res["near_zone"].iat[0]) is True
    assert res["nearest_zone_m"].iat[0] <= 300.0
    assert "一级管控区" in res["nearest_zones"].iat[0]
    assert res["near_zone"].isna().iat[1] or res["near_zone"].iat[1] is None  # not located: not measured
    plain = check_sites(sites, context=build_context())
    assert plain["nearest_zones"].isna().all()  # measured only when asked


def test_query_near_text_and_json(runner):
    ctx = load_context()
    _k, pt = _east_of(ctx, "一级管控区", 700.0)
    args = ["query", f"{pt.x:.7f}", f"{pt.y:.7f}", "--near", "1000"]
    text = runner.invoke(main_group, args)
    assert text.exit_code == 0, text.output
    assert "最近分区" in text.output and "--near 1.0 km: 邻近: 一级管控区" in text.output
    assert "[演示数据]" in text.output  # the demonstration zones say so here too
    js = runner.invoke(main_group, [*args, "--format", "json", "--lang", "en"])
    answer = json.loads(js.output)
    schema = json.loads((REPO / "zoning" / "schemas" / "query.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(answer, schema)
    first = [n for n in answer["nearest"] if n["zone_class"] == "一级管控区"][0]
    assert first["within_near"] is True and first["distance_m"] <= 700.01
    assert first["direction_label"] in {en for _c, _zh, en in vocab.COMPASS_POINTS}
