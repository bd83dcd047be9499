"""Importing a planner's layer: encoding, field mapping, reprojection, validation, provenance."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Polygon

from zoning.core.errors import CRSMismatchError, ValidationError
from zoning.core.layers import open_pack, read_layer
from zoning.core.validate import validate_pack
from zoning.inputs.importer import import_layer


def _zones_in(counties, code, n=3, size=800.0):
    """n squares of ``size`` m inside county ``code``, in EPSG:4547 (GK zone 38, no prefix)."""
    poly = counties.loc[counties.adcode == code].to_crs(4547).geometry.iloc[0]
    c = poly.representative_point()
    out = []
    for i in range(n):
        x, y = c.x + i * 1500, c.y
        out.append(Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)]))
    return out


def _bureau_shapefile(tmp_path, counties, *, county_values=None, classes=None):
    geoms = _zones_in(counties, "140525")
    gdf = gpd.GeoDataFrame(
        {
            "编号": ["A1", "A2", "A3"],
            "管控级别": classes or ["一级", "二级管控区", "2"],
            "县区": county_values or ["泽州县", "泽州", "140525"],
            "乡镇": ["巴公镇", "高都镇", "金村镇"],
        },
        geometry=geoms,
        crs=4547,
    )
    shp = tmp_path / "管控区.shp"
    pyogrio.write_dataframe(gdf, shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    return shp


def test_import_gbk_shapefile_into_pack(tmp_path, pack_copy, counties):
    shp = _bureau_shapefile(tmp_path, counties)
    pack = open_pack(pack_copy)
    pack, spec, notes = import_layer(
        pack,
        shp,
        kind="groundwater_control",
        name="bureau_control",
        field_map={"zone_class": "管控级别"},
        source="市生态环境局 test",
        documents=("晋市环发〔2023〕123号",),
    )
    assert any("GB18030" in n for n in notes)
    assert any("reprojected from EPSG:4547 to EPSG:4490" in n for n in notes)
    got = read_layer(pack, "bureau_control")
    assert got.crs.to_epsg() == 4490
    assert list(got["zone_class"]) == ["一级管控区", "二级管控区", "二级管控区"]
    assert list(got["county"]) == ["140525"] * 3
    assert list(got["town"]) == ["巴公镇", "高都镇", "金村镇"]
    assert list(got["zone_id"]) == ["A1", "A2", "A3"]
    assert spec.provenance["imported_from"] == "管控区.shp"
    assert len(spec.provenance["sha256"]) == 64
    assert spec.provenance["documents"] == ["晋市环发〔2023〕123号"]
    assert validate_pack(pack).ok


def test_import_refuses_bad_rows_and_writes_nothing(tmp_path, pack_copy, counties):
    shp = _bureau_shapefile(
        tmp_path, counties, county_values=["泽州县", "太原市", "140525"], classes=["一级", "三级", "2"]
    )
    pack = open_pack(pack_copy)
    with pytest.raises(ValidationError) as err:
        import_layer(pack, shp, kind="groundwater_control", name="x", field_map={"zone_class": "管控级别"})
    problems = "\n".join(err.value.problems)
    assert "row 2: county '太原市' is not a county of the pack" in problems
    assert "row 2: class '三级' is not one of 一级管控区, 二级管控区" in problems
    assert not (pack_copy / "x.gpkg").exists()
    assert "x" not in [s.name for s in open_pack(pack_copy).layers]


def test_import_county_mismatch_is_reported_with_feature_id(tmp_path, pack_copy, counties):
    shp = _bureau_shapefile(tmp_path, counties, county_values=["泽州县", "陵川县", "泽州县"])
    with pytest.raises(ValidationError) as err:
        import_layer(
            open_pack(pack_copy), shp, kind="groundwater_control", name="y", field_map={"zone_class": "管控级别"}
        )
    assert err.value.problems == ["feature A2: county says 陵川县 140524 but it lies in 泽州县 140525"]


def test_import_without_crs_needs_crs(tmp_path, pack_copy, counties):
    shp = _bureau_shapefile(tmp_path, counties)
    shp.with_suffix(".prj").unlink()
    pack = open_pack(pack_copy)
    with pytest.raises(CRSMismatchError, match="declares no CRS"):
        import_layer(pack, shp, kind="groundwater_control", field_map={"zone_class": "管控级别"})
    pack, spec, notes = import_layer(
        pack, shp, kind="groundwater_control", crs="EPSG:4547", name="z", field_map={"zone_class": "管控级别"}
    )
    assert any("taken from --crs" in n for n in notes)


def test_metres_labelled_as_degrees(tmp_path, pack_copy, counties):
    geoms = _zones_in(counties, "140525", n=1)
    gdf = gpd.GeoDataFrame({"类别": ["一级管控区"]}, geometry=geoms, crs=4547).set_crs(4490, allow_override=True)
    f = tmp_path / "wrong.geojson"
    gdf.to_file(f)
    with pytest.raises(CRSMismatchError, match="projected metres labelled as degrees"):
        import_layer(open_pack(pack_copy), f, kind="groundwater_control")


def test_replace_needs_flag(tmp_path, pack_copy, counties):
    shp = _bureau_shapefile(tmp_path, counties)
    pack = open_pack(pack_copy)
    from zoning.core.errors import ManifestError

    with pytest.raises(ManifestError, match="already has a layer 'counties'"):
        import_layer(pack, shp, kind="groundwater_control", name="counties", field_map={"zone_class": "管控级别"})


def test_repair_keeps_a_zone_polygonal(tmp_path, pack_copy, counties):
    """--repair mends an invalid outline with the package's one repair: a zone with a spike
    (an outline that doubles back on itself) stays a polygon of its area, where make_valid
    alone left a line beside it in a geometry collection, which is no zone; an outline of
    nothing but a line cannot be brought in, and the row says so."""
    import shapely

    sq = _zones_in(counties, "140525", n=2)
    a, b = sq[0], sq[1]
    x0, y0, x1, y1 = a.bounds
    spike = Polygon([(x0, y0), (x1, y0), (x1, y1), (x1 + 300, y1), (x1, y1), (x0, y1)])  # a hair out and back
    assert not spike.is_valid and shapely.make_valid(spike).geom_type == "GeometryCollection"
    gdf = gpd.GeoDataFrame({"类别": ["一级管控区", "二级管控区"]}, geometry=[spike, b], crs=4547)
    f = tmp_path / "spike.geojson"
    gdf.to_file(f)
    with pytest.raises(ValidationError, match="invalid geometry in row"):
        import_layer(open_pack(pack_copy), f, kind="groundwater_control", name="s")
    pack, _spec, notes = import_layer(open_pack(pack_copy), f, kind="groundwater_control", name="s", repair=True)
    got = read_layer(pack, "s").to_crs(4547)
    assert list(got.geom_type) == ["Polygon", "Polygon"] and got.is_valid.all()
    assert got.geometry.iloc[0].area == pytest.approx(a.area, rel=1e-6)
    assert any("repaired 1 invalid geometry" in n for n in notes)
    flat = gpd.GeoDataFrame({"类别": ["一级管控区"]}, geometry=[Polygon([(x0, y0), (x1, y0), (x0, y0)])], crs=4547)
    g = tmp_path / "flat.geojson"
    flat.to_file(g)
    with pytest.raises(ValidationError) as err:
        import_layer(open_pack(pack_copy), g, kind="groundwater_control", name="t", repair=True)
    assert err.value.problems and err.value.problems[0].startswith("row 1:")
