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
