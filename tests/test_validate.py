"""Pack validation passes on the shipped pack and lists every problem of a broken one."""

from __future__ import annotations

import pyogrio
import shapely
from shapely.geometry import Polygon

from zoning.core.layers import LayerSpec, open_pack, read_layer, read_manifest_head, write_manifest
from zoning.core.validate import check_layer, validate_pack


def test_shipped_pack_is_valid(pack):
    report = validate_pack(pack)
    assert report.ok, report.all_problems()
    assert {r.name for r in report.layers} == {s.name for s in pack.layers}


def _zone_spec(**kw):
    base = dict(name="gw", kind="groundwater_control", file="gw.gpkg", table="gw", crs="EPSG:4490",
                accuracy="demonstration", provenance={"method": "test"}, id_field="zone_id",
                county_field="county", class_fields=("zone_class",))
    base.update(kw)
    return LayerSpec(**base)


def _square(lon, lat, d=0.01):
    return Polygon([(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d)])


def test_broken_pack_lists_exact_problems(pack_copy):
    import geopandas as gpd

    pack = open_pack(pack_copy)
    counties = read_layer(pack, "counties")
    zezhou = counties.loc[counties.adcode == "140525"].geometry.iloc[0]
    p = zezhou.representative_point()
    bowtie = Polygon([(p.x, p.y), (p.x + 0.01, p.y + 0.01), (p.x + 0.01, p.y), (p.x, p.y + 0.01)])
    gdf = gpd.GeoDataFrame(
        {
            "zone_id": ["Z1", "Z2", "Z3", "Z3"],
            "zone_class": ["一级管控区", "二级管控区", "二级管控区", "二级管控区"],
            "county": ["140525", "140521", "140525", "140525"],  # Z2 says 沁水县 but lies in 泽州县
        },
        geometry=[_square(p.x, p.y), _square(p.x, p.y - 0.02), bowtie, _square(p.x - 0.02, p.y)],
        crs="EPSG:4490",
    )
    pyogrio.write_dataframe(gdf, pack_copy / "gw.gpkg", layer="gw")
    # a second layer whose manifest CRS disagrees with the file and misses its class field
    pyogrio.write_dataframe(gdf.drop(columns="zone_class").to_crs("EPSG:4547"), pack_copy / "gw2.gpkg", layer="gw2")
    specs = list(pack.layers) + [_zone_spec(), _zone_spec(name="gw2", file="gw2.gpkg", table="gw2"),
                                 _zone_spec(name="gone", file="gone.gpkg", table="gone")]
    write_manifest(pack_copy, read_manifest_head(pack), specs)
    report = validate_pack(open_pack(pack_copy))
    assert not report.ok
    problems = report.all_problems()
    text = "\n".join(problems)
    assert "gw: duplicate zone_id: Z3" in text
    assert "gw: feature Z2: county says 沁水县 140521 but it lies in 泽州县 140525" in text
    assert any(p.startswith("gw: feature Z3: invalid geometry (Self-intersection") for p in problems)
    assert "gw2: file CRS EPSG:4547 differs from manifest CRS EPSG:4490" in text
    assert "gw2: required field(s) missing: zone_class" in text
    assert "gone: layer 'gone': file" in text and "not found" in text
    assert "Z1" not in text  # the good feature raises nothing


def test_point_near_county_line_agrees_within_tolerance(counties):
    import geopandas as gpd

    chengqu = counties.loc[counties.adcode == "140502"].to_crs(3857).geometry.iloc[0]
    # a point 300 m outside 城区, inside 泽州县, labelled 城区: within the 750 m accuracy
    outside = chengqu.exterior.interpolate(0.3, normalized=True)
    c = chengqu.centroid
    dx, dy = outside.x - c.x, outside.y - c.y
    n = (dx * dx + dy * dy) ** 0.5
    pt = shapely.Point(outside.x + 300 * dx / n, outside.y + 300 * dy / n)
    gdf = gpd.GeoDataFrame({"zone_id": ["P"], "zone_class": ["一级管控区"], "county": ["140502"]},
                           geometry=[pt], crs=3857).to_crs(4490)
    spec = _zone_spec()
    assert check_layer(gdf, spec, counties, county_tolerance_m=750) == []
    assert any("county says 城区" in p for p in check_layer(gdf, spec, counties, county_tolerance_m=0))


def test_a_feature_without_an_id_is_named_as_answers_name_it(tmp_path):
    """validate named a feature without an id 'None' (or #n counted from 1), where every answer
    and the pack diff call it #n (core.context.feature_ids): one name for one feature."""
    import sys
    from pathlib import Path

    import pyogrio
    from shapely.geometry import Polygon

    sys.path.insert(0, str(Path(__file__).parent))
    from versions_edits import copy_pack
    from zoning.core.context import feature_ids
    from zoning.core.layers import open_pack
    from zoning.core.validate import validate_pack

    pack_dir = copy_pack(tmp_path / "pack")
    gpkg = pack_dir / "jincheng.gpkg"
    frames = {name: pyogrio.read_dataframe(gpkg, layer=name) for name, _ in pyogrio.list_layers(gpkg)}
    ctl = frames["groundwater_control"]
    ctl["zone_id"] = ctl["zone_id"].astype(object)
    ctl.loc[0, "zone_id"] = None
    ctl.loc[0, "geometry"] = Polygon([(112.5, 35.5), (112.6, 35.6), (112.6, 35.5), (112.5, 35.6)])  # a bow tie
    gpkg.unlink()
    for name, gdf in frames.items():
        pyogrio.write_dataframe(gdf, gpkg, layer=name, driver="GPKG", append=gpkg.exists())
    pack = open_pack(pack_dir)
    name = feature_ids(pack.layer("groundwater_control"), ctl)[0]
    problems = validate_pack(pack).all_problems()
    assert any(f"feature {name}: invalid geometry" in p for p in problems), problems
