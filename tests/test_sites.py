"""Site readers: every input kind, built in tmp_path; every row comes back."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon

from test_jzd import BAD, GOOD, HEADER
from zoning.core.errors import InputFileError, UnknownCRSError
from zoning.inputs.sites import detect_text_encoding, map_site_fields, read_sites

CSV_TEXT = """序号,项目名称,经度,纬度,建设性质,总投资(万元),用地面积(亩),用地类别
1,示例项目1,112.85,35.50,新建,1000,30,住宅用地
2,示例项目2,35.5,112.8,改建,200,10,
3,示例项目3,abc,35.5,,,,
4,示例项目4,116.4,39.9,,,,
5,示例项目5,,,,,,
6,示例项目6,112.5,35.7,扩建,,x,
"""


@pytest.mark.parametrize("encoding,expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030")])
def test_csv_encodings(tmp_path, encoding, expected):
    path = tmp_path / "sites.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    assert detect_text_encoding(path)[0] == expected
    gdf = read_sites(path)
    assert list(gdf["site_name"]) == [f"示例项目{i}" for i in range(1, 7)]
    assert list(gdf["construction"])[:2] == ["新建", "改建"]


def test_csv_bad_rows_every_row_back_with_reason(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    gdf = read_sites(path)
    assert len(gdf) == 6
    assert list(gdf["row"]) == [2, 3, 4, 5, 6, 7]
    prob = gdf["input_problem"].tolist()
    assert pd.isna(prob[0]) and gdf.geometry.iloc[0] == Point(112.85, 35.5)
    assert "look swapped" in prob[1] and gdf.geometry.iloc[1] is None
    assert "'abc' is not a number" in prob[2]
    assert "outside the 晋城市 box" in prob[3]
    assert "no coordinates" in prob[4]
    assert "用地面积(亩): 'x' is not a number" in prob[5] and gdf.geometry.iloc[5] is not None
    assert gdf["area_ha_stated"].iloc[0] == pytest.approx(2.0)


def test_csv_title_row_and_wkt(tmp_path):
    path = tmp_path / "wkt.csv"
    poly = "POLYGON ((112.85 35.50, 112.86 35.50, 112.86 35.51, 112.85 35.51, 112.85 35.50))"
    bowtie = "POLYGON ((112.85 35.50, 112.86 35.51, 112.86 35.50, 112.85 35.51, 112.85 35.50))"
    path.write_text(f'2025年示例项目红线表,,\n项目名称,WKT,用地类别\n示例A,"{poly}",工业用地\n示例B,"{bowtie}",\n示例C,"POLYGON ((1 2",\n',
                    encoding="utf-8-sig")
    gdf = read_sites(path)
    assert list(gdf["row"]) == [3, 4, 5]
    assert gdf.geometry.iloc[0].geom_type == "Polygon"
    assert "repaired with make_valid" in gdf["input_problem"].iloc[1] and gdf.geometry.iloc[1].is_valid
    assert "cannot be parsed" in gdf["input_problem"].iloc[2] and gdf.geometry.iloc[2] is None
    assert "header on line 2" in " ".join(gdf.attrs["notes"])


def test_excel_title_row_and_merged_cells(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2025年晋城市示例项目选址表"])
    ws.merge_cells("A1:F1")
    ws.append(["项目名称", "坐标", None, "建设地点", "建设性质", "总投资(万元)"])
    ws.append([None, "经度", "纬度", None, None, None])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:C2")
    ws.merge_cells("D2:D3")
    ws.merge_cells("E2:E3")
    ws.merge_cells("F2:F3")
    ws.append(["示例项目1", 112.85, 35.50, "城区", "新建", 1000])
    ws.append(["示例项目2", 112.80, 35.52, None, None, 2000])
    ws.append([None] * 6)  # a blank row is no site
    ws.append(["示例项目3", 112.70, 35.60, None, None, None])
    ws.merge_cells("E4:E5")  # one 建设性质 for two projects
    ws.merge_cells("D4:D5")
    path = tmp_path / "sites.xlsx"
    wb.save(path)
    gdf = read_sites(path)
    assert list(gdf["site_name"]) == ["示例项目1", "示例项目2", "示例项目3"]
    assert list(gdf["row"]) == [4, 5, 7]
    assert [None if pd.isna(v) else v for v in gdf["construction"]] == ["新建", "新建", None]
    assert list(gdf["location"])[:2] == ["城区", "城区"]
    assert gdf.geometry.iloc[1] == Point(112.80, 35.52)
    assert gdf["input_problem"].isna().all()


def test_gbk_shapefile_without_cpg(tmp_path):
    path = tmp_path / "红线.shp"
    gdf = gpd.GeoDataFrame(
        {"XMMC": ["示例项目甲", "示例项目乙"], "JSXZ": ["新建", "扩建"]},
        geometry=[Polygon([(112.85, 35.50), (112.86, 35.50), (112.86, 35.51), (112.85, 35.51)]),
                  Point(112.70, 35.60).buffer(0.005)],
        crs="EPSG:4490",
    )
    gdf.to_file(path, encoding="GBK", engine="pyogrio")
    cpg = path.with_suffix(".cpg")
    if cpg.exists():
        cpg.unlink()
    out = read_sites(path, fields={"construction": "JSXZ"})
    assert list(out["site_name"]) == ["示例项目甲", "示例项目乙"]
    assert list(out["construction"]) == ["新建", "扩建"]
    assert list(out["row"]) == [1, 2]
    assert any("GB18030" in n for n in out.attrs["notes"])
    assert out.geometry.iloc[0].geom_type == "Polygon"


def test_geojson_projected_and_outside(tmp_path):
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4490", "EPSG:4526", always_xy=True)
    x, y = tr.transform(112.85, 35.50)
    gdf = gpd.GeoDataFrame({"name": ["示例近", "示例远"]},
                           geometry=[Point(x, y).buffer(100), Point(x + 900_000, y).buffer(100)], crs="EPSG:4526")
    path = tmp_path / "sites.geojson"
    gdf.to_file(path, engine="pyogrio")
    out = read_sites(path)
    assert out.geometry.iloc[0].representative_point().distance(Point(112.85, 35.5)) < 0.01
    assert "outside the 晋城市 box" in out["input_problem"].iloc[1]


def test_gpkg_points(tmp_path):
    gdf = gpd.GeoDataFrame({"项目名称": ["示例1"], "行业类别": ["化工"]}, geometry=[Point(112.85, 35.5)], crs="EPSG:4490")
    path = tmp_path / "s.gpkg"
    gdf.to_file(path, layer="sites", engine="pyogrio")
    out = read_sites(path)
    assert out["industry"].iloc[0] == "化工"


def test_folder_of_jzd_files(tmp_path):
    (tmp_path / "a.txt").write_bytes((HEADER + GOOD).encode("gbk"))
    (tmp_path / "b.txt").write_text(HEADER + BAD, encoding="utf-8")
    out = read_sites(tmp_path)
    assert len(out) == 2
    assert out["site_id"].tolist() == ["001", "002"]
    assert out["source"].str.endswith(("a.txt", "b.txt")).all()
    assert "not closed" in out["input_problem"].iloc[1]


def test_field_overrides_and_errors(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("工程名称,东经,北纬\n示例,112.85,35.5\n", encoding="utf-8")
    out = read_sites(path, fields={"site_name": "工程名称"})
    assert out.geometry.iloc[0] == Point(112.85, 35.5)
    with pytest.raises(InputFileError, match="not in the file"):
        read_sites(path, fields={"lon": "经度X"})
    nocoord = tmp_path / "n.csv"
    nocoord.write_text("项目名称,地点\n示例,城区\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no coordinate columns"):
        read_sites(nocoord)
    with pytest.raises(UnknownCRSError):
        read_sites(path, crs="EPSG:999999")


def test_map_site_fields_recognises_common_headers():
    cols = ["序号", "项目名称", "经度", "纬度", "建设地点", "建设性质", "行业类别", "总投资(万元)", "用地面积(亩)", "是否排放污染物", "项目级别"]
    m = map_site_fields(cols)
    assert m["site_id"] == "序号" and m["site_name"] == "项目名称"
    assert m["lon"] == "经度" and m["lat"] == "纬度" and m["location"] == "建设地点"
    assert m["construction"] == "建设性质" and m["industry"] == "行业类别"
    assert m["total_investment_wan"] == "总投资(万元)" and m["area_mu"] == "用地面积(亩)"
    assert m["discharges_pollutants"] == "是否排放污染物" and m["key_project_level"] == "项目级别"


def test_survey_order_projected_columns(tmp_path):
    path = tmp_path / "gk.csv"
    path.write_text("名称,X,Y\n示例,3928409.18,38396465.71\n", encoding="utf-8")
    bad = read_sites(path, crs="gk3")
    assert "survey order" in bad["input_problem"].iloc[0]
    good = read_sites(path, crs="gk3", order="survey")
    assert pd.isna(good["input_problem"].iloc[0])
    assert good["input_crs"].iloc[0] == "EPSG:4526"
    assert abs(good.geometry.iloc[0].x - 112.86) < 0.01
    assert np.isfinite(shapely.get_y(good.geometry.iloc[0]))


@pytest.mark.parametrize("spelling", ["gcj_02", "GCJ 02", " gcj02", "amap"])
def test_a_web_map_crs_is_honoured_in_every_spelling_for_a_vector_file(tmp_path, spelling):
    """A vector file labels itself WGS 84 but holds Amap (GCJ-02) coordinates: --crs says so.
    Only 'gcj02'/'bd09' were recognised there; 'gcj_02' (which the one CRS parser accepts) was
    silently ignored, leaving the sites ~500 m off."""
    import geopandas as gpd

    from zoning.inputs.sites import read_sites

    path = tmp_path / "amap.geojson"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=gpd.points_from_xy([112.86610], [35.49958]),
                     crs="EPSG:4326").to_file(path, driver="GeoJSON")
    want = read_sites(path, crs="gcj02").geometry.iloc[0]
    got = read_sites(path, crs=spelling).geometry.iloc[0]
    raw = read_sites(path).geometry.iloc[0]
    assert got.equals_exact(want, 1e-9) and not raw.equals_exact(want, 1e-6)


def test_a_site_says_the_crs_it_was_read_in(tmp_path):
    """--crs EPSG:4547 with a zone-prefixed easting is read as EPSG:4526 (as zoning query says):
    input_crs said EPSG:4547, the CRS given, not the one used."""
    import pandas as pd

    from zoning.core.coords import parse_point
    from zoning.inputs.sites import read_sites

    f = tmp_path / "s.csv"
    pd.DataFrame({"编号": ["a", "b"], "东坐标": [38396566.25, 396566.25],
                  "北坐标": [3930663.07, 3930663.07]}).to_csv(f, index=False)
    got = read_sites(f, crs="EPSG:4547")["input_crs"].tolist()
    assert got == [parse_point(38396566.25, 3930663.07, "EPSG:4547").input_crs, "EPSG:4547"] == ["EPSG:4526", "EPSG:4547"]
    assert read_sites(f, crs="gk3")["input_crs"].iloc[0] == "EPSG:4526"
