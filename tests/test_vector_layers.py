"""Which layer of a GeoPackage is read as sites (zoning.inputs.vectors.read_vector_file): the
check's own output (its sites beside the provenance table) without asking, any other file
with several layers only when told, and a named layer that is missing or has no geometries
refused in one line that lists the layers that could be meant."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from zoning.core.errors import InputFileError
from zoning.inputs.vectors import read_vector_file


def _gpkg(path, spatial, tables):
    for name in spatial:
        gpd.GeoDataFrame({"项目名称": [name]}, geometry=[Point(112.85, 35.49)], crs="EPSG:4490").to_file(
            path, layer=name, driver="GPKG")
    for name in tables:
        pyogrio.write_dataframe(pd.DataFrame({"经度": [112.85], "纬度": [35.49]}), path, layer=name, driver="GPKG",
                                append=True)
    return path


def test_the_sites_beside_a_provenance_table_are_read_without_asking(tmp_path):
    gdf, notes = read_vector_file(_gpkg(tmp_path / "a.gpkg", ["sites"], ["provenance"]))
    assert len(gdf) == 1 and notes["layer"] == "sites"


def test_another_table_beside_one_spatial_layer_is_asked_about(tmp_path):
    """A county boundary beside a table of projects: the boundary is not the sites (it was
    checked as the project, silently)."""
    path = tmp_path / "b.gpkg"
    gpd.GeoDataFrame({"name": ["泽州县界"]}, geometry=[box(112.7, 35.3, 113.1, 35.7)], crs="EPSG:4490").to_file(
        path, layer="boundary", driver="GPKG")
    pyogrio.write_dataframe(pd.DataFrame({"项目名称": ["甲"], "经度": [112.85], "纬度": [35.49]}), path,
                            layer="项目表", driver="GPKG", append=True)
    with pytest.raises(InputFileError, match=r"holds several layers \(boundary, 项目表\); name the one to read"):
        read_vector_file(path)


@pytest.mark.parametrize(("layer", "says"), [
    ("provenance", "layer 'provenance' is a table without geometries; its layers with geometries: sites"),
    ("nosuch", "has no layer 'nosuch'; its layers with geometries: sites"),
])
def test_a_named_layer_that_cannot_be_sites_is_refused_in_one_line(tmp_path, layer, says):
    path = _gpkg(tmp_path / "c.gpkg", ["sites"], ["provenance"])
    with pytest.raises(InputFileError, match=says):
        read_vector_file(path, layer=layer)
