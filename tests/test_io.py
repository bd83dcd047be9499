"""Reading planners' files: GBK shapefiles without .cpg, empty and missing files."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from zoning.core.errors import InputFileError
from zoning.inputs.vectors import detect_dbf_encoding, read_vector_file


def _write_shp(path, encoding, names, cpg=True):
    gdf = gpd.GeoDataFrame({"名称": names, "县区": ["泽州县"] * len(names)},
                           geometry=[Point(112.8, 35.4 + i * 0.01) for i in range(len(names))], crs=4490)
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def test_gbk_shapefile_without_cpg_is_detected(tmp_path):
    shp = _write_shp(tmp_path / "gbk.shp", "GBK", ["一级保护区", "金村镇水源地"], cpg=False)
    assert not shp.with_suffix(".cpg").exists()
    raw = shp.with_suffix(".dbf").read_bytes()
    assert "金村镇".encode("gbk") in raw  # really GBK on disk
    enc, reason = detect_dbf_encoding(shp)
    assert enc == "GB18030" and "not UTF-8" in reason
    gdf, notes = read_vector_file(shp)
    assert list(gdf["名称"]) == ["一级保护区", "金村镇水源地"]
    assert list(gdf["县区"]) == ["泽州县", "泽州县"]
    assert notes["encoding"] == "GB18030"


def test_utf8_shapefile_without_cpg(tmp_path):
    shp = _write_shp(tmp_path / "u.shp", "UTF-8", ["二级管控区"], cpg=False)
    assert detect_dbf_encoding(shp)[0] == "UTF-8"
    gdf, _ = read_vector_file(shp)
    assert gdf["名称"].iloc[0] == "二级管控区"


def test_cpg_wins(tmp_path):
    shp = _write_shp(tmp_path / "c.shp", "GBK", ["准保护区"], cpg=False)
    shp.with_suffix(".cpg").write_text("936")
    enc, reason = detect_dbf_encoding(shp)
    assert enc == "GB18030" and ".cpg" in reason


def test_empty_file(tmp_path):
    f = tmp_path / "empty.geojson"
    f.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty.geojson: the file is empty"):
        read_vector_file(f)


def test_no_features(tmp_path):
    f = tmp_path / "none.geojson"
    f.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputFileError, match="none.geojson: the file has no features"):
        read_vector_file(f)


def test_missing_and_unsupported(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        read_vector_file(tmp_path / "x.shp")
    f = tmp_path / "x.docx"
    f.write_text("x")
    with pytest.raises(InputFileError, match="unsupported file type '.docx'"):
        read_vector_file(f)


def test_garbage_file(tmp_path):
    f = tmp_path / "bad.geojson"
    f.write_text("this is not json")
    with pytest.raises(InputFileError, match="bad.geojson: cannot read"):
        read_vector_file(f)
