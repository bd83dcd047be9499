"""CAD red lines: DXF drawings built here with ezdxf, read as sites (zoning.inputs.dxf)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zoning.cli.main import main_group
from zoning.core.errors import InputFileError
from zoning.inputs.dxf import read_dxf_sites
from zoning.inputs.sites import read_sites

ezdxf = pytest.importorskip("ezdxf")

# a corner near the shipped 界址点 example, CGCS2000 3° GK zone 38 with its prefix
E, N = 38396465.71, 3928409.18


def _drawing(path, *, prefix: bool = True):
    e0 = E if prefix else E - 38_000_000
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    red = {"layer": "红线"}
    # 1: a 200 x 150 m parcel with a 10 x 10 m hole and a TEXT label (on another layer)
    msp.add_lwpolyline([(e0, N), (e0 + 200, N), (e0 + 200, N + 150), (e0, N + 150)], close=True, dxfattribs=red)
    msp.add_lwpolyline([(e0 + 50, N + 50), (e0 + 60, N + 50), (e0 + 60, N + 60), (e0 + 50, N + 60)], close=True,
                       dxfattribs=red)
    msp.add_text("一号地块", dxfattribs={"layer": "文字", "insert": (e0 + 100, N + 100)})
    # 2: a 100 x 100 m square whose south edge bulges out into a half circle (bulge 1), named by an MTEXT
    msp.add_lwpolyline([(e0 + 400, N, -1.0), (e0 + 300, N, 0), (e0 + 300, N + 100, 0), (e0 + 400, N + 100, 0)],
                       format="xyb", close=True, dxfattribs=red)
    msp.add_mtext("二号\\P地块", dxfattribs={"layer": "红线", "insert": (e0 + 350, N + 50)})
    # 3: an outline left open
    msp.add_lwpolyline([(e0 + 600, N), (e0 + 700, N), (e0 + 700, N + 100)], close=False, dxfattribs=red)
    # 4: a bow tie (self-intersecting)
    msp.add_lwpolyline([(e0 + 900, N), (e0 + 1000, N + 100), (e0 + 1000, N), (e0 + 900, N + 100)], close=True,
                       dxfattribs=red)
    # 5: an old-style 2-D POLYLINE on the layer
    msp.add_polyline2d([(e0 + 1200, N), (e0 + 1300, N), (e0 + 1300, N + 80), (e0 + 1200, N + 80)], close=True,
                       dxfattribs=red)
    # not parcels: a line on the layer, a closed polyline on another layer
    msp.add_line((e0, N - 10), (e0 + 100, N - 10), dxfattribs=red)
    msp.add_lwpolyline([(e0, N + 500), (e0 + 10, N + 500), (e0 + 10, N + 510)], close=True,
                       dxfattribs={"layer": "图框"})
    doc.saveas(path)
    return path


def _gk_area(geom, crs="EPSG:4526"):
    import geopandas as gpd

    return float(gpd.GeoSeries([geom], crs="EPSG:4490").to_crs(crs).area.iloc[0])


def test_parcels_names_arcs_holes_and_problems(tmp_path):
    sites = read_sites(_drawing(tmp_path / "红线.dxf"), layer="红线", crs="gk3")
    assert len(sites) == 5  # the hole is part of parcel 1, not a row
    by_row = {int(r): k for k, r in enumerate(sites["row"])}
    one, two, three, four, five = (sites.iloc[by_row[i]] for i in (1, 2, 3, 4, 5))
    assert one["site_name"] == "一号地块" and "hole" in one["input_notes"]
    assert _gk_area(one.geometry) == pytest.approx(200 * 150 - 100, abs=0.5)
    assert two["site_name"] == "二号 地块"
    assert "1 arc segment(s) approximated by chords within 0.01 m" in two["input_notes"]
    exact = 100 * 100 + math.pi * 50**2 / 2
    # chords lie inside the arc by at most the tolerance: the area is short by less than arc length x 1 cm
    assert exact - math.pi * 50 * 0.01 <= _gk_area(two.geometry) <= exact + 0.1
    assert "not closed" in three["input_problem"] and "141.421 m" in three["input_problem"]
    assert three.geometry is not None  # closed by a straight line, checked, and reported
    assert "self-intersects" in four["input_problem"] and four.geometry.is_valid
    assert _gk_area(five.geometry) == pytest.approx(100 * 80, abs=0.5)
    assert set(sites["input_crs"]) == {"EPSG:4526"}
    notes = " ".join(sites.attrs["notes"])
    assert "1 LINE" in notes  # what is not read is said, not dropped


def test_all_layers_and_unknown_layer(tmp_path):
    path = _drawing(tmp_path / "a.dxf")
    every = read_dxf_sites(path, crs="gk3")
    assert len(every) == 6 and "图框" in set(every["dxf_layer"])
    with pytest.raises(InputFileError, match="layer 'nope' is not in the drawing.*红线"):
        read_dxf_sites(path, layer="nope")


def test_crs_without_zone_prefix(tmp_path):
    path = _drawing(tmp_path / "plain.dxf", prefix=False)
    guessed = read_dxf_sites(path, layer="红线")  # gk3 assumed: no prefix, every parcel says why
    assert guessed.geometry.isna().all()
    assert guessed["input_problem"].str.contains("no zone prefix").all()
    given = read_dxf_sites(path, layer="红线", crs="gk3:38")
    assert given.geometry.notna().all() and set(given["input_crs"]) == {"EPSG:4547"}
    prefixed = read_dxf_sites(_drawing(tmp_path / "p.dxf"), layer="红线", crs="gk3")
    a = np.array([_gk_area(g) for g in given.geometry])
    b = np.array([_gk_area(g) for g in prefixed.geometry])
    assert np.allclose(a, b, rtol=1e-9)


def test_dwg_is_one_line(tmp_path, runner):
    dwg = tmp_path / "红线.dwg"
    dwg.write_bytes(b"AC1032\x00\x00binary")
    with pytest.raises(InputFileError, match="save the drawing as DXF"):
        read_sites(dwg)
    result = runner.invoke(main_group, ["check", str(dwg), "-o", str(tmp_path / "r.csv")])
    assert result.exit_code == 1
    assert "save the drawing as DXF" in result.output and len(result.output.strip().splitlines()) == 1


def test_check_reads_a_drawing(tmp_path, runner):
    import pandas as pd

    path = _drawing(tmp_path / "红线.dxf")
    out = tmp_path / "r.csv"
    result = runner.invoke(main_group, ["check", str(path), "--layer", "红线", "--crs", "gk3", "-o", str(out),
                                        "--no-progress"])
    assert result.exit_code == 0, result.output
    res = pd.read_csv(out, encoding="utf-8-sig")
    assert len(res) == 5
    assert res.iloc[:, 3].tolist()[0] == "一号地块"  # 项目名称
    status = res["问题说明"].astype(str)
    assert status.str.contains("not closed").sum() == 1 and status.str.contains("self-intersects").sum() == 1
