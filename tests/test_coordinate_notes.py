"""How a site's coordinates were read (GCJ-02 converted, a datum taken as CGCS2000, survey
order, the zone read from an easting's prefix) is said the same way by the query of the
point and by the check of a file holding it: the check's ``input_notes`` carries the notes
the query gives under ``input.notes``. The check used to drop them: a GCJ-02 site said
nothing of its conversion, where the query of the same point said it."""

from __future__ import annotations

import pyproj
import pytest

from zoning import check_sites, query_point
from zoning.inputs.sites import read_sites

LON, LAT = 112.85, 35.49


def _in(crs: str) -> tuple[float, float]:
    """The test point in ``crs`` (GIS order)."""
    if crs in ("gcj02", "wgs84", "cgcs2000"):
        return LON, LAT
    t = pyproj.Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    return t.transform(LON, LAT)


@pytest.mark.parametrize(("crs", "order", "says"), [
    ("gcj02", "xy", "prcoords"),
    ("wgs84", "xy", "WGS 84"),
    ("cgcs2000", "survey", "survey order"),
    ("cgcs2000", "xy", None),          # nothing to say
    ("EPSG:4526", "xy", None),         # CGCS2000 3° GK zone 38, zone-prefixed easting
    ("EPSG:2362", "xy", "Xian 1980"),  # Xian 1980 3° GK zone 38: no datum transformation in PROJ
    ("gk3", "survey", "survey order"),  # the zone read from the easting's prefix, survey order
])
def test_the_check_notes_how_a_site_was_read_as_the_query_does(tmp_path, crs, order, says):
    x, y = _in("EPSG:4526" if crs == "gk3" else crs)
    first, second = (y, x) if order == "survey" else (x, y)
    path = tmp_path / "sites.csv"
    path.write_text(f"编号,X,Y\nA,{first!r},{second!r}\n", encoding="utf-8")
    query = query_point(first, second, crs=crs, order=order).to_dict()["input"]
    site = check_sites(read_sites(path, crs=crs, order=order)).iloc[0]
    assert site["status_code"] == "ok", site["status"]
    assert site["input_crs"] == query["crs"]
    notes = list(query.get("notes") or [])
    assert any(says in n for n in notes) if says else not notes
    assert (site["input_notes"] or "") == "; ".join(notes)


def _square(crs: str, half: float = 100.0):
    """A 200 m square around the test point, in ``crs`` (GIS order)."""
    import shapely

    x, y = _in(crs)
    if crs in ("gcj02", "wgs84", "cgcs2000"):
        half = 0.001
    return shapely.box(x - half, y - half, x + half, y + half)


@pytest.mark.parametrize(("crs", "says"), [("gcj02", "prcoords"), ("EPSG:2362", "Xian 1980"), ("wgs84", "WGS 84")])
def test_a_red_line_says_how_it_was_read_as_a_point_does(tmp_path, crs, says):
    """The notes reach red lines too, however they come: as WKT in a table, as a GeoJSON in
    its own CRS (or, for GCJ-02, declared with --crs), and as a DXF drawing; a Xian 1980 or
    GCJ-02 red line said nothing of its datum or conversion."""
    import geopandas as gpd

    notes = query_point(*_in(crs), crs=crs).to_dict()["input"]["notes"]
    assert any(says in n for n in notes)
    poly = _square(crs)
    table = tmp_path / "wkt.csv"
    table.write_text(f"编号,WKT\nW,\"{poly.wkt}\"\n", encoding="utf-8")
    got = {"wkt": read_sites(table, crs=crs).iloc[0]}
    vec = tmp_path / "red.geojson"
    if crs == "gcj02":  # a web map's export: lon/lat labelled WGS 84, --crs says what they are
        gpd.GeoDataFrame({"编号": ["V"]}, geometry=[poly], crs="EPSG:4326").to_file(vec)
        got["vector"] = read_sites(vec, crs=crs).iloc[0]
    else:
        gpd.GeoDataFrame({"编号": ["V"]}, geometry=[poly], crs=crs if crs != "wgs84" else "EPSG:4326").to_file(vec)
        got["vector"] = read_sites(vec).iloc[0]
    if crs == "EPSG:2362":
        ezdxf = pytest.importorskip("ezdxf")
        doc = ezdxf.new()
        doc.modelspace().add_lwpolyline(list(poly.exterior.coords)[:-1], close=True)
        drawing = tmp_path / "red.dxf"
        doc.saveas(drawing)
        got["dxf"] = read_sites(drawing, crs=crs).iloc[0]
    for how, site in got.items():
        assert site.geometry is not None, (how, site["input_problem"])
        assert any(n in (site["input_notes"] or "") for n in notes), (how, site["input_notes"])


def test_the_review_says_how_the_site_was_read(tmp_path):
    """The review report carries the same note (its input notes said nothing of coordinates)."""
    import geopandas as gpd

    from zoning.check import build_context
    from zoning.core.provenance import provenance
    from zoning.outputs.review import build_reviews

    ctx = build_context(None)
    f = tmp_path / "s.geojson"
    gpd.GeoDataFrame({"项目名称": ["甲"]}, geometry=[_square("EPSG:2362")], crs="EPSG:2362").to_file(f)
    res = check_sites(read_sites(f), context=ctx)
    rv = build_reviews(ctx, res, provenance(ctx.context, on_date=ctx.on_date, input_text="t"), lang="zh")[0]
    assert any("Xian 1980" in n for n in rv.notes), rv.notes
