"""Gauss–Krüger zone -> EPSG code: :func:`zoning.core.coords.gk_crs` and
:func:`zoning.core.coords.gk_zone_of`, checked against the EPSG database through pyproj for
every zone, and the coordinate parser and the 界址点 reader agreeing through them."""

from __future__ import annotations

import re

import numpy as np
import pyproj
import pytest
from pyproj.database import query_crs_info
from pyproj.enums import PJType

from zoning.core.coords import (
    ACCEPTED_CRS_ALIASES,
    GK_FAMILIES,
    GK_ZONES,
    from_cgcs2000,
    gk_crs,
    gk_zone_of,
    parse_point,
    resolve_crs,
)
from zoning.core.errors import CoordinateError, UnknownCRSError
from zoning.inputs.jzd import jzd_crs, jzd_to_gdf, read_jzd

CASES = [(f, w, p) for f in GK_FAMILIES for w in (3, 6) for p in (True, False)]


def _cm(width: int, zone: int) -> int:
    return 3 * zone if width == 3 else 6 * zone - 3


def _epsg_name(family: str, width: int, zone: int, prefixed: bool) -> str:
    kind = "3-degree Gauss-Kruger" if width == 3 else "Gauss-Kruger"
    return f"{family} / {kind} zone {zone}" if prefixed else f"{family} / {kind} CM {_cm(width, zone)}E"


def _params(code: str) -> dict[str, object]:
    op = pyproj.CRS.from_user_input(code).coordinate_operation
    assert op is not None and op.method_name == "Transverse Mercator", code
    return {p.name: p.value for p in op.params}


@pytest.mark.parametrize(("family", "width", "prefixed"), CASES)
def test_every_zone_is_the_epsg_crs_of_that_zone(family, width, prefixed):
    """Name, central meridian, false easting and scale of every code, as pyproj reads them:
    an offset wrong by one zone, or a prefixed code where a plain one belongs, fails."""
    wrong = []
    for zone in GK_ZONES[width]:
        code = gk_crs(zone, width=width, prefixed=prefixed, family=family)
        crs = pyproj.CRS.from_user_input(code)
        params = _params(code)
        fe = zone * 1_000_000 + 500_000 if prefixed else 500_000
        got = (crs.name, params["Longitude of natural origin"], params["False easting"],
               params["Scale factor at natural origin"])
        want = (_epsg_name(family, width, zone, prefixed), _cm(width, zone), fe, 1.0)
        if got != want:
            wrong.append(f"zone {zone}: {code} is {got}, expected {want}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("family", "width", "prefixed"), CASES)
def test_the_zones_are_all_the_epsg_database_has(family, width, prefixed):
    """GK_ZONES misses no zone of the EPSG database and holds none it lacks."""
    kind = "3-degree Gauss-Kruger" if width == 3 else "Gauss-Kruger"
    tail = r"zone (\d+)" if prefixed else r"CM (\d+)E"
    pattern = re.compile(rf"^{re.escape(family)} / {kind} {tail}$")
    infos = query_crs_info(auth_name="EPSG", pj_types=PJType.PROJECTED_CRS)
    in_db = {f"EPSG:{i.code}" for i in infos if pattern.match(i.name)}
    ours = {gk_crs(z, width=width, prefixed=prefixed, family=family) for z in GK_ZONES[width]}
    assert ours == in_db


@pytest.mark.parametrize(
    ("family", "width", "prefixed", "first", "last"),
    [
        ("CGCS2000", 3, True, 4513, 4533),
        ("CGCS2000", 3, False, 4534, 4554),
        ("CGCS2000", 6, True, 4491, 4501),
        ("CGCS2000", 6, False, 4502, 4512),
        ("Xian 1980", 3, True, 2349, 2369),
        ("Xian 1980", 3, False, 2370, 2390),
        ("Xian 1980", 6, True, 2327, 2337),
        ("Xian 1980", 6, False, 2338, 2348),
        ("Beijing 1954", 3, True, 2401, 2421),
        ("Beijing 1954", 3, False, 2422, 2442),
        ("Beijing 1954", 6, True, 21413, 21423),
        ("Beijing 1954", 6, False, 21453, 21463),
    ],
)
def test_the_ranges_the_docstring_states(family, width, prefixed, first, last):
    zones = GK_ZONES[width]
    got = [gk_crs(z, width=width, prefixed=prefixed, family=family) for z in zones]
    assert got == [f"EPSG:{c}" for c in range(first, last + 1)]
    doc = gk_crs.__doc__ or ""
    assert f"EPSG:{first}–{last}" in doc


def test_defaults_and_the_city_zones():
    assert gk_crs(38) == "EPSG:4526"
    assert gk_crs(37) == "EPSG:4525"
    assert gk_crs(38, prefixed=False) == "EPSG:4547"
    assert gk_crs(37, prefixed=False) == "EPSG:4546"
    assert gk_crs(19, width=6) == "EPSG:4497"
    assert gk_crs(19, width=6, prefixed=False) == "EPSG:4508"
    assert gk_crs(np.int64(38)) == "EPSG:4526"


def test_family_spellings():
    assert gk_crs(38, family="Xian1980") == gk_crs(38, family="Xian 1980") == "EPSG:2362"
    assert gk_crs(38, family="beijing_1954") == gk_crs(38, family="Beijing 1954") == "EPSG:2414"
    assert gk_crs(38, family="cgcs 2000") == "EPSG:4526"


def test_the_aliases_name_the_codes_gk_crs_gives():
    for alias, zone, width in (("gk3:37", 37, 3), ("gk3:38", 38, 3), ("gk6:19", 19, 6)):
        text = ACCEPTED_CRS_ALIASES[alias]
        assert f"({gk_crs(zone, width=width)})" in text
        assert f"({gk_crs(zone, width=width, prefixed=False)})" in text


@pytest.mark.parametrize(("zone", "width"), [(24, 3), (46, 3), (0, 3), (-38, 3), (12, 6), (24, 6), (38, 6)])
def test_a_zone_outside_china_raises(zone, width):
    with pytest.raises(UnknownCRSError) as exc:
        gk_crs(zone, width=width)
    zones = GK_ZONES[width]
    assert f"zone {zone} does not exist in China" in str(exc.value)
    assert f"{zones.start}–{zones.stop - 1}" in str(exc.value)


def test_the_range_ends_do_not_raise():
    for width, zones in GK_ZONES.items():
        gk_crs(zones.start, width=width)
        gk_crs(zones.stop - 1, width=width)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"zone": 38, "width": 4}, "3 or 6 degrees wide"),
        ({"zone": 38, "width": True}, "3 or 6 degrees wide"),
        ({"zone": 38.0}, "no zone number"),
        ({"zone": True}, "no zone number"),
        ({"zone": 38, "family": "WGS 84"}, "no Gauss–Krüger zone numbering for 'WGS 84'"),
        ({"zone": 38, "family": "New Beijing"}, "known are CGCS2000, Xian 1980, Beijing 1954"),
    ],
)
def test_bad_arguments_raise(kwargs, words):
    with pytest.raises(UnknownCRSError, match=re.escape(words)):
        gk_crs(**kwargs)


def test_gk_zone_of():
    assert gk_zone_of(112.4) == 37
    assert gk_zone_of(112.6) == 38
    assert gk_zone_of([112.0, 112.6, 113.0]) == 38  # the median's zone
    assert gk_zone_of([112.0, 112.1, 113.0]) == 37
    assert gk_zone_of(np.array([np.nan, 112.9, np.inf])) == 38
    assert gk_zone_of(x for x in (111.95, 112.2)) == 37
    assert gk_zone_of(112.9, width=6) == 19
    assert gk_zone_of(108.1, width=6) == 19
    assert gk_zone_of(107.9, width=6) == 18


def test_gk_zone_of_each_central_meridian_is_its_zone():
    """The zone of a central meridian (as pyproj states it) is that zone, for every zone."""
    for width, zones in GK_ZONES.items():
        for zone in zones:
            cm = _params(gk_crs(zone, width=width))["Longitude of natural origin"]
            assert isinstance(cm, float)
            assert gk_zone_of(cm + 0.4, width=width) == zone
            assert gk_zone_of(cm - 0.4, width=width) == zone


def test_gk_zone_of_errors():
    with pytest.raises(CoordinateError, match="no finite longitude"):
        gk_zone_of([])
    with pytest.raises(CoordinateError, match="no finite longitude"):
        gk_zone_of([float("nan")])
    with pytest.raises(UnknownCRSError, match="3 or 6"):
        gk_zone_of(112.9, width=5)


def test_from_cgcs2000_picks_the_zone_gk_zone_of_picks():
    for lon in (111.95, 112.45, 112.55, 113.55):
        x, _ = from_cgcs2000(lon, 35.5, "gk3")
        assert int(x // 1_000_000) == gk_zone_of(lon)
        x6, _ = from_cgcs2000(lon, 35.5, "gk6")
        assert int(x6 // 1_000_000) == gk_zone_of(lon, width=6)


JZD_38 = """[属性描述]
坐标系=2000国家大地坐标系
几度分带=3
带号=38
[地块坐标]
5,3.1570,001,示例项目用地,面,,工业用地,,@
J1,1,3928409.180,38396465.710
J2,1,3928550.000,38396600.000
J3,1,3928420.000,38396720.000
J4,1,3928300.000,38396560.000
J1,1,3928409.180,38396465.710
"""


def test_jzd_and_the_coordinate_parser_agree_on_zone_38():
    """The same zone through both readers: 带号=38 with prefixed eastings and a gk3 easting
    38xxxxxx are both EPSG:4526, and the same point lands on the same lon/lat."""
    row = jzd_to_gdf(read_jzd(JZD_38)).iloc[0]
    p = parse_point(38396465.710, 3928409.180, "gk3")
    assert row["input_crs"] == p.input_crs == gk_crs(38) == "EPSG:4526"
    lon, lat = row.geometry.exterior.coords[0]
    assert (lon, lat) == pytest.approx((p.lon, p.lat), abs=1e-9)
    # without the prefix: 带号=38 and gk3:38 are both EPSG:4547
    plain = JZD_38.replace(",38396", ",396")
    assert jzd_to_gdf(read_jzd(plain)).iloc[0]["input_crs"] == "EPSG:4547"
    assert parse_point(396465.710, 3928409.180, "gk3:38").input_crs == "EPSG:4547"


@pytest.mark.parametrize(("width", "prefixed"), [(3, True), (3, False), (6, True), (6, False)])
def test_jzd_and_the_coordinate_parser_agree_on_every_zone(width, prefixed):
    for zone in GK_ZONES[width]:
        easting = zone * 1_000_000 + 500_000.0 if prefixed else 500_000.0
        header = {"几度分带": str(width), "带号": str(zone)}
        got = jzd_crs(header, easting)[0]
        assert got == resolve_crs(f"gk{width}:{zone}", easting) == gk_crs(zone, width=width, prefixed=prefixed)


@pytest.mark.parametrize(("text", "family"), [("1980西安坐标系", "Xian 1980"), ("北京54", "Beijing 1954")])
def test_jzd_and_the_parser_agree_for_other_datums(text, family):
    """A Xian 1980 / Beijing 1954 file and the parser given that datum's zone-38 code."""
    prefixed = gk_crs(38, family=family)
    assert jzd_crs({"坐标系": text, "带号": "38"}, 38396465.7)[0] == prefixed
    # the parser reads a plain easting given with the prefixed code as the plain CRS of that zone
    assert jzd_crs({"坐标系": text, "带号": "38"}, 396465.7)[0] == resolve_crs(prefixed, 396465.7)
    assert resolve_crs(prefixed, 396465.7) == gk_crs(38, family=family, prefixed=False)


def test_families_gk_crs_does_not_number_still_resolve_by_name():
    """A GK CRS of another datum (Pulkovo 1942 zone 4, prefixed) with a plain easting is
    still read in that datum's plain CRS of the zone (looked up by its EPSG name)."""
    assert pyproj.CRS.from_epsg(2494).name == "Pulkovo 1942 / Gauss-Kruger CM 21E"
    assert resolve_crs("EPSG:28404", 500000.0) == "EPSG:2494"
