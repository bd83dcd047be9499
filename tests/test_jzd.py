"""界址点坐标 files: lenient reading, strict validation (tests build their files in tmp_path)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import shapely

from zoning.core.errors import InputFileError
from zoning.inputs.jzd import is_jzd_file, jzd_crs, jzd_to_gdf, read_jzd, read_jzd_file

HEADER = """[属性描述]
格式版本号=1.01版本
数据产生单位=示例单位
坐标系=2000国家大地坐标系
几度分带=3
投影类型=高斯克吕格
计量单位=米
带号=38
精度=0.001
转换参数=,,,,,,
[地块坐标]
"""
GOOD = """5,3.1570,001,示例项目用地,面,,工业用地,,@
J1,1,3928409.180,38396465.710
J2,1,3928550.000,38396600.000
J3,1,3928420.000,38396720.000
J4,1,3928300.000,38396560.000
J1,1,3928409.180,38396465.710
"""
# stated 6 points and 9.9 ha, ring not closed
BAD = """6,9.9000,002,示例项目用地二,面,,住宅用地,,@
J1,1,3930000.000,38398000.000
J2,1,3930100.000,38398000.000
J3,1,3930100.000,38398100.000
J4,1,3930000.000,38398100.000
"""


@pytest.fixture
def two_parcels_gbk(tmp_path):
    path = tmp_path / "界址点_两宗地.txt"
    path.write_bytes((HEADER + GOOD + BAD).encode("gbk"))
    return path


def test_two_parcels_gbk(two_parcels_gbk):
    j = read_jzd_file(two_parcels_gbk)
    assert j.encoding == "GBK/GB18030"
    assert j.header["带号"] == "38"
    assert [p.name for p in j.parcels] == ["示例项目用地", "示例项目用地二"]
    gdf = jzd_to_gdf(j)
    assert len(gdf) == 2
    good, bad = gdf.iloc[0], gdf.iloc[1]
    assert pd.isna(good["input_problem"])
    assert good["input_crs"] == "EPSG:4526"
    assert good["plane_area_ha"] == pytest.approx(3.1570, abs=1e-3)
    assert good["row"] == HEADER.count("\n") + 1
    minx, miny, maxx, maxy = good.geometry.bounds
    assert 112.8 < minx < maxx < 112.9 and 35.4 < miny < maxy < 35.5
    # every finding of the bad parcel is reported
    assert "ring 1 is not closed" in bad["input_problem"]
    assert "states 6 points, 4 point lines follow" in bad["input_problem"]
    assert "stated area 9.9000 ha, computed 1.0000 ha" in bad["input_problem"]


def test_is_jzd_file(two_parcels_gbk, tmp_path):
    assert is_jzd_file(two_parcels_gbk)
    other = tmp_path / "a.txt"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert not is_jzd_file(other)


def test_zone_from_prefix_and_holes_utf8():
    text = """[地块坐标]
10,3.0000,003,带洞地块,面,,,,@
J1,1,3928000.000,38396000.000
J2,1,3928200.000,38396000.000
J3,1,3928200.000,38396200.000
J4,1,3928000.000,38396200.000
J1,1,3928000.000,38396000.000
K1,2,3928050.000,38396050.000
K2,2,3928150.000,38396050.000
K3,2,3928150.000,38396150.000
K4,2,3928050.000,38396150.000
K1,2,3928050.000,38396050.000
"""
    gdf = jzd_to_gdf(read_jzd(text))
    row = gdf.iloc[0]
    assert pd.isna(row["input_problem"]), row["input_problem"]
    assert row["plane_area_ha"] == pytest.approx(3.0)
    assert len(row.geometry.interiors) == 1
    assert "zone 38 taken from the easting prefix" in row["input_notes"]


def test_second_ring_outside_is_a_part():
    text = """[地块坐标]
10,2.0000,004,两块,面,,,,@
J1,1,3928000,38396000
J2,1,3928100,38396000
J3,1,3928100,38396100
J4,1,3928000,38396100
J1,1,3928000,38396000
K1,2,3929000,38397000
K2,2,3929100,38397000
K3,2,3929100,38397100
K4,2,3929000,38397100
K1,2,3929000,38397000
"""
    row = jzd_to_gdf(read_jzd(text)).iloc[0]
    assert row.geometry.geom_type == "MultiPolygon"
    assert pd.isna(row["input_problem"])


def test_crs_resolution():
    assert jzd_crs({"带号": "38"}, 396465.7)[0] == "EPSG:4547"
    assert jzd_crs({"带号": "37", "几度分带": "3"}, 37500000.0)[0] == "EPSG:4525"
    assert jzd_crs({"几度分带": "6"}, 19600000.0)[0] == "EPSG:4497"
    assert jzd_crs({"坐标系": "1980西安坐标系", "带号": "38"}, 38396465.7)[0] == "EPSG:2362"
    with pytest.raises(InputFileError, match="带号=37 but the eastings carry the zone prefix 38"):
        jzd_crs({"带号": "37"}, 38396465.7)
    with pytest.raises(InputFileError, match="zone is unknown"):
        jzd_crs({}, 396465.7)


def test_missing_zone_is_reported_per_parcel():
    text = "[地块坐标]\n4,1.0,005,无带号,面,,,,@\nJ1,1,3928000,396000\nJ2,1,3928100,396000\nJ3,1,3928100,396100\nJ1,1,3928000,396000\n"
    row = jzd_to_gdf(read_jzd(text)).iloc[0]
    assert row.geometry is None
    assert "zone is unknown" in row["input_problem"]


def test_not_a_jzd_file():
    with pytest.raises(InputFileError, match="no parcel line"):
        read_jzd("a,b,c\n1,2,3\n")


def test_a_xian_1980_file_says_its_datum_as_the_query_does():
    """A 界址点 file in Xian 1980 is transformed as a query of one of its points in that CRS
    is (PROJ has no datum transformation Xian 1980 -> CGCS2000): the parcel says so in the
    query's own words, and lies where the query puts the point. It said nothing before."""
    from zoning import query_point

    text = HEADER.replace("2000国家大地坐标系", "1980西安坐标系") + GOOD
    row = jzd_to_gdf(read_jzd(text)).iloc[0]
    assert row["input_crs"] == "EPSG:2362"
    answer = query_point(38396465.71, 3928409.18, crs="EPSG:2362").to_dict()["input"]
    assert answer["notes"] and all(n in row["input_notes"] for n in answer["notes"])
    first = row.geometry.exterior.coords[0]
    q = query_point(38396465.71, 3928409.18, crs="EPSG:2362")
    assert first == pytest.approx((q.lon, q.lat), abs=1e-9)
    plain = jzd_to_gdf(read_jzd(HEADER + GOOD)).iloc[0]  # CGCS2000: nothing to say about a datum
    assert "datum" not in (plain["input_notes"] or "")


def test_a_self_intersecting_parcel_is_repaired_and_said_as_a_table_row_is(tmp_path):
    """A bow-tie parcel is repaired by the package's one repair, in the sentence a table's WKT
    row gets for the same outline (it had a sentence of its own)."""
    from zoning.inputs.sites import read_sites

    bow = [(3928000.0, 38396000.0), (3928200.0, 38396200.0), (3928200.0, 38396000.0), (3928000.0, 38396200.0)]
    lines = [f"J{i + 1},1,{x:.3f},{y:.3f}" for i, (x, y) in enumerate(bow)] + [f"J1,1,{bow[0][0]:.3f},{bow[0][1]:.3f}"]
    row = jzd_to_gdf(read_jzd(HEADER + "5,2.0000,009,蝴蝶形,面,,,,@\n" + "\n".join(lines) + "\n")).iloc[0]
    assert row.geometry is not None and row.geometry.is_valid
    path = tmp_path / "s.csv"
    pd.DataFrame({"编号": ["B"], "WKT": [shapely.Polygon([(y, x) for x, y in bow]).wkt]}).to_csv(path, index=False)
    site = read_sites(path, crs="EPSG:4526").iloc[0]
    said = [p for p in row["input_problem"].split("; ") if "make_valid" in p]
    table = [p for p in site["input_problem"].split("; ") if "make_valid" in p]
    strip = re.compile(r"\[[^\]]*\]")  # the crossing's coordinates: plane metres in one, degrees in the other
    assert said and [strip.sub("", p) for p in said] == [strip.sub("", p) for p in table]
