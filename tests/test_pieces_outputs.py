"""压占 outputs as files: `zoning check --pieces` (GeoPackage, GeoJSON, shapefile, DXF, 界址点)."""

from __future__ import annotations

import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from zoning.check import build_context, check_sites
from zoning.cli.main import main_group
from zoning.core.context import load_context
from zoning.inputs.jzd import jzd_to_gdf, read_jzd
from zoning.outputs.pieces import jzd_text, pieces_frames

ezdxf = pytest.importorskip("ezdxf")

PROJECT = {"construction": "new", "discharges_pollutants": True}


def _sites() -> gpd.GeoDataFrame:
    f = load_context().features
    out = []
    for cls, half in (("一级管控区", 0.02), ("二级保护区", 0.01), ("一级保护区", 0.004)):
        k = int(np.flatnonzero(f["zone_class"].to_numpy() == cls)[0])
        c = f.geometry.iloc[k].representative_point()
        out.append(shapely.box(c.x - half, c.y - half, c.x + half, c.y + half))
    return gpd.GeoDataFrame({"site_id": ["A", "B", "C"], "site_name": ["甲,项目", "乙", "=1+2"]}, geometry=out,
                            crs="EPSG:4490")


@pytest.fixture(scope="module")
def frames():
    ctx = build_context(project_defaults=PROJECT)
    res = check_sites(_sites(), context=ctx)
    return res, *pieces_frames(res, ctx)


def test_jzd_round_trip_to_the_millimetre(frames):
    _res, _pieces, remainder = frames
    text, notes = jzd_text(remainder)
    parsed = read_jzd(text)
    kept = remainder[remainder["remainder"] == "non_conflicting"]
    assert len(parsed.parcels) >= len(kept[kept["area_ha"] > 0])
    assert parsed.header["带号"] == "38"
    tr = Transformer.from_crs("EPSG:4490", "EPSG:4526", always_xy=True)
    back = jzd_to_gdf(parsed)
    assert back["input_problem"].isna().all(), back["input_problem"].tolist()  # closed rings, counts and areas agree
    for parcel, geom in zip(parsed.parcels, back.geometry):
        # the polygon read back, projected again, has the written points as its vertices, to the millimetre
        pts = np.array([(y, x) for ring in parcel.rings.values() for _, x, y in ring])
        gk = shapely.transform(geom, lambda a: np.column_stack(tr.transform(a[:, 0], a[:, 1])))
        verts = shapely.get_coordinates(gk)
        gap = np.hypot(verts[:, None, 0] - pts[None, :, 0], verts[:, None, 1] - pts[None, :, 1]).min(axis=1)
        assert gap.max() < 0.0005
        back_pts = np.hypot(pts[:, None, 0] - verts[None, :, 0], pts[:, None, 1] - verts[None, :, 1]).min(axis=1)
        assert back_pts.max() < 0.0005
        plane = shapely.Polygon([(y, x) for _, x, y in parcel.rings[1]],
                                [[(y, x) for _, x, y in parcel.rings[k]] for k in sorted(parcel.rings) if k > 1])
        assert f"{plane.area / 10_000:.4f}" == f"{parcel.stated_area_ha:.4f}"
        assert gk.area == pytest.approx(plane.area, rel=1e-7)
    # and the same polygon, area for area, as the remainder in the equal-area CRS (within the GK scale)
    by_site: dict[str, float] = {}
    for r in back.itertuples():
        key = str(r.site_id).split("-")[0]
        by_site[key] = by_site.get(key, 0) + r.plane_area_ha
    for sid, ha in zip(kept["site_id"], kept["area_ha"]):
        if ha > 0:
            assert by_site[sid] == pytest.approx(ha, rel=5e-4)
    assert "甲 项目" in text  # a comma in a name cannot break the layout


def test_check_pieces_every_format(tmp_path, runner):
    src = tmp_path / "红线.geojson"
    _sites().to_file(src, driver="GeoJSON")
    out = tmp_path / "out"
    result = runner.invoke(main_group, [
        "check", str(src), "--out", str(out), "--format", "csv,gpkg", "--set", "construction=new",
        "--set", "discharges_pollutants=true", "--pieces", "--pieces-format", "gpkg,geojson,shp,dxf,jzd",
        "--near", "2000", "--no-progress"])
    assert result.exit_code == 0, result.output
    gpkg = out / "红线_check.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"sites", "pieces", "remainder"} <= layers
    pieces = gpd.read_file(gpkg, layer="pieces")
    remainder = gpd.read_file(gpkg, layer="remainder")
    sites = gpd.read_file(gpkg, layer="sites")
    assert pieces.crs.to_epsg() == 4490 and set(pieces["site_id"]) == {"A", "B", "C"}
    assert (pieces["accuracy"] == "demonstration").all()  # the demonstration zones say so on every piece
    res = pd.read_csv(out / "红线_check.csv", encoding="utf-8-sig")
    assert "最近分区(类别 距离 方位)" in res.columns and res["邻近分区(--near)"].notna().all()
    # the pieces' areas sum to the overlap columns
    for sid, prot, ctrl in zip(sites["site_id"], sites["protection_class"], sites["control_level"]):
        for cls, col in ((prot, "protection_ha"), (ctrl, "control_ha")):
            if isinstance(cls, str):
                got = pieces.loc[(pieces["site_id"] == sid) & (pieces["zone_class"] == cls), "area_ha"].sum()
                assert got == pytest.approx(float(sites.loc[sites["site_id"] == sid, col].iat[0]), abs=1e-4)
    # pieces plus remainder make the site (zones of one kind do not overlap here)
    for sid in ("A", "B", "C"):
        gw = pieces[(pieces["site_id"] == sid) & pieces["kind"].str.startswith("groundwater")]["area_ha"].sum()
        rest = remainder[(remainder["site_id"] == sid) & (remainder["remainder"] == "outside_groundwater")]
        assert gw + rest["area_ha"].iat[0] == pytest.approx(rest["site_ha"].iat[0], rel=1e-4)
    gj = gpd.read_file(out / "红线_pieces.geojson")
    shp = gpd.read_file(out / "红线_pieces.shp")
    assert len(gj) == len(shp) == len(pieces)
    assert shp["zone_class"].tolist() == pieces["zone_class"].tolist()  # UTF-8 with its .cpg
    assert len(gpd.read_file(out / "红线_pieces_remainder.shp")) == len(remainder)
    assert (out / "红线_remainder.txt").exists() and (out / "红线_remainder_outside_groundwater.txt").exists()
    # the GeoPackage opens in GDAL's own tool where it is installed (Debian gdal-bin)
    if shutil.which("ogrinfo"):
        info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(gpkg)], capture_output=True, text=True, check=True)
        assert "Layer name: pieces" in info.stdout and "Layer name: remainder" in info.stdout
        assert "ERROR" not in info.stderr
    # the drawing passes ezdxf's audit and reads back as red lines of the same areas
    doc = ezdxf.readfile(out / "红线_pieces.dxf")
    auditor = doc.audit()
    assert not auditor.has_errors, [str(e) for e in auditor.errors]
    from zoning.inputs.dxf import read_dxf_sites

    drawn = read_dxf_sites(out / "红线_pieces.dxf", layer="remainder_non_conflicting", crs="gk3")
    assert drawn["input_problem"].isna().all()
    kept = remainder[(remainder["remainder"] == "non_conflicting") & (remainder["area_ha"] > 0)]
    area = drawn.to_crs("EPSG:4526").area.sum() / 10_000
    assert area == pytest.approx(kept["area_ha"].sum(), rel=5e-4)


def test_pieces_need_a_known_format(tmp_path, runner):
    src = tmp_path / "s.geojson"
    _sites().to_file(src, driver="GeoJSON")
    result = runner.invoke(main_group, ["check", str(src), "--out", str(tmp_path), "--pieces", "--pieces-format", "kml"])
    assert result.exit_code == 2 and "gpkg, geojson, shp, dxf, jzd" in result.output


@pytest.mark.parametrize("into_check", [True, False])
def test_pieces_of_many_chunks_stream_into_one_geopackage(tmp_path, into_check):
    """The pieces and remainders of a check read in chunks are streamed to GDAL, each layer in
    one pass with its spatial index built once, then added to the check's GeoPackage (or one of
    their own, replacing the layers a file left by an earlier run holds): every row of every
    chunk, ``row`` an integer as in the sites layer (so the layers join on it)."""
    import sqlite3

    from zoning.inputs.sites import iter_sites
    from zoning.outputs.pieces import PiecesWriter, pieces_outputs
    from zoning.outputs.reports import ResultWriter

    base = _sites()
    grid = [shapely.affinity.translate(g, dx, dy) for dx in (0, 0.003) for dy in (0, 0.002) for g in base.geometry]
    src = tmp_path / "红线.csv"
    pd.DataFrame({"编号": [f"S{i}" for i in range(len(grid))], "WKT": [g.wkt for g in grid]}).to_csv(
        src, index=False, encoding="utf-8-sig")
    ctx = build_context(project_defaults=PROJECT)
    outputs = {"gpkg": tmp_path / "红线_check.gpkg"} if into_check else {"csv": tmp_path / "红线_check.csv"}
    targets = pieces_outputs(outputs, "红线", ["gpkg"])
    if not into_check:  # a file an earlier run left: its layers are replaced, not added to
        stale = pieces_frames(check_sites(base, context=ctx), ctx)[0]
        stale.to_file(targets["gpkg"], layer="pieces", driver="GPKG")
    results = ResultWriter(outputs, context=ctx, inputs=[src])
    pieces = PiecesWriter(targets, ctx)
    expected = {"pieces": 0, "remainder": 0}
    chunks = 0
    for chunk in iter_sites(src, chunksize=5):
        res = check_sites(chunk, context=ctx)
        results.write(res)
        pieces.write(res)
        p, r = pieces_frames(res, ctx)
        expected["pieces"] += len(p)
        expected["remainder"] += len(r)
        chunks += 1
    results.close()
    written = pieces.close()
    assert chunks == 3 and expected["pieces"] > 0
    gpkg = written["gpkg"]
    assert gpkg == (outputs["gpkg"] if into_check else tmp_path / "红线_pieces.gpkg")
    layers = [name for name, _ in pyogrio.list_layers(gpkg)]
    assert layers.count("pieces") == 1 and layers.count("remainder") == 1
    if into_check:
        assert layers[0] == "sites"  # read first by a tool given no layer name
    for layer, n in expected.items():
        got = gpd.read_file(gpkg, layer=layer)
        assert len(got) == n
        assert pd.api.types.is_integer_dtype(got["row"]) and set(got["row"]) <= set(range(2, len(grid) + 2))
        assert set(got.geom_type.dropna()) == {"MultiPolygon"} and got.crs.to_epsg() == 4490
        with sqlite3.connect(gpkg) as con:
            (indexed,) = con.execute(f"SELECT count(*) FROM rtree_{layer}_geom").fetchone()
        assert indexed == int((~(got.geometry.isna() | got.geometry.is_empty)).sum()) > 0
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert not leftovers


def test_the_pieces_judge_a_site_by_what_it_states_not_by_the_computed_column():
    """A row that states in_planning_area=否 inside the planning area: the check keeps its
    computed membership in ``in_planning_area`` and the statement as 原_in_planning_area, and
    judges by the statement; the pieces read the computed column as the user's statement."""
    from zoning.check import stated_columns
    from zoning.outputs.pieces import _projects

    ctx = build_context(project_defaults=PROJECT)
    site = gpd.GeoDataFrame({"site_id": ["A"], "in_planning_area": ["否"]},
                            geometry=[shapely.box(112.88, 35.50, 112.887, 35.506)], crs="EPSG:4490")
    res = check_sites(site, context=ctx)
    assert res["in_planning_area"].iat[0] == "yes" and res["原_in_planning_area"].iat[0] == "否"
    assert stated_columns(res.columns)["in_planning_area"] == "原_in_planning_area"
    assert _projects(res, ctx)[0]["in_planning_area"] is False
