"""Tests of zoning.core.coords: every input form of the same places, every error kind,
vectorised batches, and GCJ-02/BD-09 against an independent implementation.

Test dependency: ``eviltransform`` 0.1.1 (PyPI; googollee/eviltransform, MIT), a code
base independent of prcoords. It builds the GCJ-02 / BD-09 inputs, so zoning.core.coords'
prcoords-based inverse is checked against someone else's forward transform.
"""

from __future__ import annotations

import math
import re

import eviltransform
import numpy as np
import pyproj
import pytest

from zoning.core import coords, settings
from zoning.core.coords import (
    ACCEPTED_CRS_ALIASES,
    ParsedPoint,
    from_cgcs2000,
    parse_point,
    resolve_crs,
    to_cgcs2000,
)
from zoning.core.errors import CoordinateError, OutsideCityError, UnknownCRSError

GEOD = pyproj.Geod(ellps="GRS80")

# Measured (see test_gcj_forward_agrees_with_eviltransform): prcoords and eviltransform
# disagree by 0.0092-0.0102 m on a 61 x 41 grid over the city (111.85-113.65 E,
# 35.15-36.15 N), GCJ-02 and BD-09 alike: eviltransform scales the offset with the
# WGS 84 semi-major axis (6378137 m), prcoords with Krasovsky's (6378245 m), a relative
# 1.7e-5 of the ~550-600 m offset. Tolerance: twice the measured maximum.
GCJ_TOL_M = 0.02
# pyproj round trips are exact to well below a millimetre; 1 cm leaves room.
PROJ_TOL_M = 0.01
# prcoords' precise inverse (plus the refinement in zoning.core.coords) must round-trip < 1 cm.
ROUNDTRIP_TOL_M = 0.01

# One place in each county-level division, plus the far west and the south-east.
PLACES = {
    "城区": (112.85, 35.50),
    "沁水县": (112.19, 35.69),
    "阳城县": (112.42, 35.49),
    "陵川县": (113.28, 35.78),
    "泽州县": (112.95, 35.35),
    "高平市": (112.92, 35.80),
    "west edge": (111.95, 35.60),
}

LOCAL_GK = (
    "+proj=tmerc +lat_0=0 +lon_0=112.85 +k=1 +x_0=500000 +y_0=0 "
    "+ellps=GRS80 +units=m +no_defs +type=crs"
)


def dist_m(lon1, lat1, lon2, lat2) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def fwd(lon, lat, crs):
    """CGCS2000 lon/lat -> crs with pyproj directly (independent of zoning.core.coords)."""
    t = pyproj.Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    return t.transform(lon, lat)


def forms(lon, lat):
    """The same place in every input form: (label, x, y, crs, order, tolerance)."""
    glat, glon = eviltransform.wgs2gcj(lat, lon)
    blat, blon = eviltransform.wgs2bd(lat, lon)
    out = [
        ("cgcs2000 default", lon, lat, None, "xy", PROJ_TOL_M),
        ("cgcs2000 alias", lon, lat, "cgcs2000", "xy", PROJ_TOL_M),
        ("EPSG:4490 int", lon, lat, 4490, "xy", PROJ_TOL_M),
        ("wgs84", lon, lat, "wgs84", "xy", PROJ_TOL_M),
        ("EPSG:4326", lon, lat, "EPSG:4326", "xy", PROJ_TOL_M),
        ("strings", repr(lon), f" {lat} ", None, "xy", PROJ_TOL_M),
        ("lat first, survey", lat, lon, None, "survey", PROJ_TOL_M),
    ]
    for alias in ("gcj02", "gcj-02", "amap", "GCJ-02"):
        out.append((alias, glon, glat, alias, "xy", GCJ_TOL_M))
    for alias in ("bd09", "bd-09", "baidu", "BD-09"):
        out.append((alias, blon, blat, alias, "xy", GCJ_TOL_M))
    for zone, pre, plain in ((37, "EPSG:4525", "EPSG:4546"), (38, "EPSG:4526", "EPSG:4547")):
        e, n = fwd(lon, lat, pre)
        assert int(e // 1e6) == zone
        out += [
            (f"{pre} prefixed", e, n, pre, "xy", PROJ_TOL_M),
            (f"gk3 auto zone {zone}", e, n, "gk3", "xy", PROJ_TOL_M),
            (f"cgcs2000-gk3 auto zone {zone}", e, n, "cgcs2000-gk3", "xy", PROJ_TOL_M),
            (f"gk3:{zone} prefixed", e, n, f"gk3:{zone}", "xy", PROJ_TOL_M),
            (f"{pre} survey", n, e, pre, "survey", PROJ_TOL_M),
            (f"gk3 survey zone {zone}", n, e, "gk3", "survey", PROJ_TOL_M),
        ]
        e, n = fwd(lon, lat, plain)
        assert 1e5 <= e < 1e6
        out += [
            (f"{plain} plain", e, n, plain, "xy", PROJ_TOL_M),
            (f"gk3:{zone} plain", e, n, f"gk3:{zone}", "xy", PROJ_TOL_M),
            (f"{plain} survey", n, e, plain, "survey", PROJ_TOL_M),
        ]
    e, n = fwd(lon, lat, "EPSG:4497")
    out += [("6° zone 19 prefixed", e, n, "EPSG:4497", "xy", PROJ_TOL_M),
            ("gk6 auto", e, n, "gk6", "xy", PROJ_TOL_M)]
    e, n = fwd(lon, lat, "EPSG:4508")
    out += [("6° zone 19 plain", e, n, "EPSG:4508", "xy", PROJ_TOL_M),
            ("gk6:19 plain", e, n, "gk6:19", "xy", PROJ_TOL_M)]
    for code in ("EPSG:2362", "EPSG:2383", "EPSG:2361", "EPSG:2414", "EPSG:4610"):
        # Xian 1980 3° zone 38 prefixed / CM 114E / zone 37, Beijing 1954 zone 38,
        # Xian 1980 lon/lat: computed by pyproj here, with its (ballpark) datum handling
        x, y = fwd(lon, lat, code)
        out.append((code, x, y, code, "xy", PROJ_TOL_M))
    x, y = fwd(lon, lat, LOCAL_GK)
    out.append(("local GK PROJ string", x, y, LOCAL_GK, "xy", PROJ_TOL_M))
    return out


ALL_FORMS = [
    pytest.param(lon, lat, *f, id=f"{place}-{f[0]}")
    for place, (lon, lat) in PLACES.items()
    for f in forms(lon, lat)
]


@pytest.mark.parametrize("lon,lat,label,x,y,crs,order,tol", ALL_FORMS)
def test_same_place_every_form(lon, lat, label, x, y, crs, order, tol):
    p = parse_point(x, y, crs, order=order)
    assert isinstance(p, ParsedPoint)
    d = dist_m(p.lon, p.lat, lon, lat)
    assert d < tol, f"{label}: {d:.4f} m off"
    # the inputs are echoed in the order given
    assert p.input_x == pytest.approx(float(x))
    assert p.input_y == pytest.approx(float(y))


def test_canonical_crs_and_notes():
    e, n = fwd(112.85, 35.50, "EPSG:4526")
    p = parse_point(e, n, "gk3")
    assert p.input_crs == "EPSG:4526"
    assert "zone prefix 38 detected: EPSG:4526" in p.notes
    p = parse_point(n, e, "gk3", order="survey")
    assert p.input_crs == "EPSG:4526"
    assert any("survey order" in s for s in p.notes)
    e, n = fwd(112.19, 35.69, "EPSG:4546")
    assert parse_point(e, n, "gk3:37").input_crs == "EPSG:4546"
    glat, glon = eviltransform.wgs2gcj(35.5, 112.85)
    assert parse_point(glon, glat, "amap").input_crs == "GCJ-02"
    assert parse_point(112.85, 35.5, "wgs84").input_crs == "EPSG:4326"
    assert parse_point(112.85, 35.5).input_crs == "EPSG:4490"
    assert parse_point(112.85, 35.5).notes == ()
    p = parse_point(*fwd(112.85, 35.5, "EPSG:2362"), "EPSG:2362")
    assert any("no datum transformation Xian 1980" in s for s in p.notes)


def test_gcj_input_is_not_wgs():
    """A GCJ-02 point must move by the obfuscation offset (~550-600 m here), not stay put."""
    glat, glon = eviltransform.wgs2gcj(35.5, 112.85)
    raw = parse_point(glon, glat)  # wrongly labelled as CGCS2000
    fixed = parse_point(glon, glat, "gcj02")
    assert 500 < dist_m(raw.lon, raw.lat, fixed.lon, fixed.lat) < 700


# --------------------------------------------------------------------- GCJ-02 / BD-09 grid


def grid():
    lons = np.linspace(111.85, 113.65, 61)
    lats = np.linspace(35.15, 36.15, 41)
    lo, la = np.meshgrid(lons, lats)
    return lo.ravel(), la.ravel()


@pytest.mark.parametrize("crs,ev", [("gcj02", eviltransform.wgs2gcj), ("bd09", eviltransform.wgs2bd)])
def test_forward_agrees_with_eviltransform(crs, ev):
    lo, la = grid()
    gx, gy = from_cgcs2000(lo, la, crs)
    d = []
    for i in range(lo.size):
        elat, elon = ev(la[i], lo[i])
        d.append(dist_m(gx[i], gy[i], elon, elat))
    d = np.asarray(d)
    assert d.max() < GCJ_TOL_M, f"max disagreement {d.max():.4f} m"
    # and the offset itself is there (a no-op implementation would "agree" with nothing)
    assert np.min([dist_m(gx[i], gy[i], lo[i], la[i]) for i in range(0, lo.size, 97)]) > 500


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_inverse_roundtrips_below_1cm(crs):
    lo, la = grid()
    gx, gy = from_cgcs2000(lo, la, crs)
    blon, blat, problems = to_cgcs2000(gx, gy, crs, check_city=False)
    assert all(p is None for p in problems)
    d = np.array([dist_m(blon[i], blat[i], lo[i], la[i]) for i in range(lo.size)])
    assert d.max() < ROUNDTRIP_TOL_M, f"max round-trip error {d.max():.5f} m"


@pytest.mark.parametrize("crs,ev", [("gcj02", eviltransform.wgs2gcj), ("bd09", eviltransform.wgs2bd)])
def test_inverse_of_independent_forward(crs, ev):
    lo, la = grid()
    xs, ys = [], []
    for i in range(lo.size):
        elat, elon = ev(la[i], lo[i])
        xs.append(elon)
        ys.append(elat)
    blon, blat, problems = to_cgcs2000(np.array(xs), np.array(ys), crs, check_city=False)
    d = np.array([dist_m(blon[i], blat[i], lo[i], la[i]) for i in range(lo.size)])
    assert d.max() < GCJ_TOL_M


# --------------------------------------------------------------------- errors


def test_swapped_lonlat():
    with pytest.raises(CoordinateError, match=r"swapped.*lon=35\.5, lat=112\.8\b.*lon=112\.8, lat=35\.5"):
        parse_point(35.5, 112.8)
    with pytest.raises(CoordinateError, match=r"swapped"):
        parse_point("35.5", "112.8", "gcj02")
    # lat-first numbers declared as survey order are fine
    assert parse_point(35.5, 112.8, order="survey").lon == pytest.approx(112.8)


def test_metres_as_degrees_names_fitting_crs():
    e, n = fwd(112.85, 35.50, "EPSG:4526")
    with pytest.raises(CoordinateError, match=r"looks like projected metres \(Gauss–Krüger\?\).*EPSG:4526"):
        parse_point(e, n)
    e, n = fwd(112.85, 35.50, "EPSG:4547")
    with pytest.raises(CoordinateError, match=r"looks like projected metres.*fit EPSG:4547"):
        parse_point(e, n, "wgs84")
    e, n = fwd(112.19, 35.69, "EPSG:4546")
    with pytest.raises(CoordinateError, match=r"fit EPSG:4546 or EPSG:4508"):
        parse_point(e, n)
    e, n = fwd(112.85, 35.50, "EPSG:4526")
    with pytest.raises(CoordinateError, match=r"fit EPSG:4526 in survey order.*--order survey"):
        parse_point(n, e)
    with pytest.raises(CoordinateError, match=r"x=500, y=300 are not degrees.*pass --crs with the projected CRS"):
        parse_point(500, 300)


def test_degrees_as_metres():
    with pytest.raises(CoordinateError, match=r"x=112\.85, y=35\.5 look like lon/lat degrees.*EPSG:4526 is projected"):
        parse_point(112.85, 35.5, "EPSG:4526")


def outside_km(msg: str) -> float:
    m = re.search(r"is (\d+\.\d) km outside", msg)
    assert m, msg
    return float(m.group(1))


def test_outside_city():
    with pytest.raises(OutsideCityError, match=r"lon=116\.400000, lat=39\.900000.*km outside the 晋城市 box") as ei:
        parse_point(116.4, 39.9)
    w, s, e, n = settings.city_bounds
    assert outside_km(str(ei.value)) == pytest.approx(dist_m(116.4, 39.9, e, n) / 1000, abs=0.1)
    # just beyond the 0.05° margin east of the box: ~0.1° of longitude at 35.5 N
    with pytest.raises(OutsideCityError) as ei:
        parse_point(113.70, 35.5)
    assert outside_km(str(ei.value)) == pytest.approx(dist_m(113.70, 35.5, 113.6, 35.5) / 1000, abs=0.1)
    assert 8.5 < outside_km(str(ei.value)) < 9.5
    # inside the margin: accepted
    assert parse_point(113.63, 35.5).lon == pytest.approx(113.63)
    # check_city=False lets it through
    assert parse_point(116.4, 39.9, check_city=False).lat == pytest.approx(39.9)
    # OutsideCityError is a CoordinateError (and a ValueError)
    assert issubclass(OutsideCityError, CoordinateError) and issubclass(OutsideCityError, ValueError)


def test_outside_city_with_zone_hint():
    e, n = fwd(112.85, 35.50, "EPSG:4547")  # a zone-38 easting declared as zone 37
    with pytest.raises(OutsideCityError, match=r"km outside.*fit EPSG:4547"):
        parse_point(e, n, "gk3:37")


@pytest.mark.parametrize("bad", ["foo", "EPSG:99999", "gk3:99", "utm50"])
def test_unknown_crs(bad):
    with pytest.raises(UnknownCRSError, match=rf"{re.escape(repr(bad))}.*"):
        parse_point(112.85, 35.5, bad)


def test_unknown_crs_lists_aliases():
    with pytest.raises(UnknownCRSError, match=r"unknown CRS 'foo': accepted are .*gcj02.*amap.*bd09.*baidu.*gk3.*gk3:38.*EPSG"):
        resolve_crs("foo")


@pytest.mark.parametrize(
    "x,y,pattern",
    [
        (float("nan"), 35.5, r"x=nan is NaN"),
        (112.85, "nan", r"y='nan' is NaN"),
        ("abc", 35.5, r"x='abc' is not a number"),
        (112.85, "", r"y='' is not a number"),
        (None, 35.5, r"x=None is not a number"),
        (112.85, float("inf"), r"y=inf is infinite"),
        ("112,85", 35.5, r"x='112,85' is not a number"),
    ],
)
def test_not_a_number(x, y, pattern):
    with pytest.raises(CoordinateError, match=pattern):
        parse_point(x, y)


def test_dms_strings():
    p = parse_point("112°51'00\"E", "35°30'N")
    assert (p.lon, p.lat) == pytest.approx((112.85, 35.5))
    p = parse_point("112度51分0秒", "35度30分")
    assert (p.lon, p.lat) == pytest.approx((112.85, 35.5))
    with pytest.raises(CoordinateError, match="below 60"):
        parse_point("112°75'", "35.5")


def test_gk3_needs_zone_for_plain_easting():
    e, n = fwd(112.85, 35.50, "EPSG:4547")
    with pytest.raises(CoordinateError, match=r"easting \d+\.\d+ has no zone prefix.*pass the zone, gk3:37 .*gk3:38"):
        parse_point(e, n, "gk3")


def test_wrong_zone_prefix():
    e, n = fwd(112.19, 35.69, "EPSG:4525")  # prefix 37
    with pytest.raises(CoordinateError, match=r"wrong zone: easting 37\d+\.?\d* has zone prefix 37 but EPSG:4526 is zone 38.*EPSG:4525"):
        parse_point(e, n, "EPSG:4526")
    with pytest.raises(CoordinateError, match=r"wrong zone.*prefix 37 but 'gk3:38' is zone 38.*gk3:37 \(EPSG:4525\)"):
        parse_point(e, n, "gk3:38")
    with pytest.raises(CoordinateError, match=r"wrong zone.*prefix 37 but EPSG:4547 .*CM 114°E.*EPSG:4525"):
        parse_point(e, n, "EPSG:4547")


def test_prefix_given_to_plain_crs_is_explained_and_used():
    e, n = fwd(112.85, 35.50, "EPSG:4526")  # 38xxxxxx
    p = parse_point(e, n, "EPSG:4547")
    assert p.input_crs == "EPSG:4526"
    assert any("carries zone prefix 38" in s and "EPSG:4547 does not use" in s for s in p.notes)
    assert dist_m(p.lon, p.lat, 112.85, 35.50) < PROJ_TOL_M
    # and the reverse: a plain easting with the prefixed CRS of the right zone
    e, n = fwd(112.85, 35.50, "EPSG:4547")
    p = parse_point(e, n, 4526)
    assert p.input_crs == "EPSG:4547"
    assert any("has no zone prefix although EPSG:4526 expects 38xxxxxx" in s for s in p.notes)
    assert dist_m(p.lon, p.lat, 112.85, 35.50) < PROJ_TOL_M
    # the same in Xian 1980: the equivalent code is found for that datum
    e, n = fwd(112.85, 35.50, "EPSG:2383")
    assert parse_point(e, n, "EPSG:2362").input_crs == "EPSG:2383"


def test_prefix_of_a_6_degree_zone_with_gk3():
    e, n = fwd(112.19, 35.69, "EPSG:4497")  # 19xxxxxx
    with pytest.raises(CoordinateError, match=r"prefix 19, which is no 3° .*pass gk6"):
        parse_point(e, n, "gk3")


def test_survey_order_not_declared():
    e, n = fwd(112.85, 35.50, "EPSG:4526")
    with pytest.raises(CoordinateError, match=r"looks like survey order \(X=northing first\); pass order='survey'"):
        parse_point(n, e, "EPSG:4526")
    e, n = fwd(112.85, 35.50, "EPSG:4547")
    with pytest.raises(CoordinateError, match=r"x=3\d{6}\.?\d*, y=3\d{5}\.?\d* .*looks like survey order"):
        parse_point(n, e, "gk3:38")


def test_survey_order_declared_but_gis_order_given():
    e, n = fwd(112.85, 35.50, "EPSG:4526")
    with pytest.raises(CoordinateError, match=r"looks like GIS order \(easting first\); drop order='survey'"):
        parse_point(e, n, "EPSG:4526", order="survey")


def test_bad_order_value():
    with pytest.raises(CoordinateError, match=r"order='yx' is unknown"):
        parse_point(112.85, 35.5, order="yx")  # type: ignore[arg-type]


# --------------------------------------------------------------------- resolve_crs, aliases


def test_resolve_crs():
    assert resolve_crs(None) == "EPSG:4490" == settings.default_crs
    assert resolve_crs(4526) == "EPSG:4526"
    assert resolve_crs("epsg:4547") == "EPSG:4547"
    assert resolve_crs("WGS84") == "EPSG:4326"
    assert resolve_crs("Amap") == "GCJ-02"
    assert resolve_crs("gcj-02") == "GCJ-02"
    assert resolve_crs("Baidu") == "BD-09"
    assert resolve_crs("gk3") == "gk3"
    assert resolve_crs("gk3", 38396465.7, 3928409.2) == "EPSG:4526"
    assert resolve_crs("gk3", 37667858.9) == "EPSG:4525"
    assert resolve_crs("gk3:37", 667858.9, 3931639.5) == "EPSG:4546"
    assert resolve_crs("EPSG:4547", 38395658.9, 3930673.6) == "EPSG:4526"
    assert resolve_crs(LOCAL_GK) == LOCAL_GK
    with pytest.raises(CoordinateError, match="wrong zone"):
        resolve_crs("EPSG:4526", 37396465.7, 3928409.2)


def test_every_alias_resolves():
    assert {"gcj02", "gcj-02", "amap", "bd09", "bd-09", "baidu", "gk3", "cgcs2000-gk3",
            "gk3:37", "gk3:38"} <= set(ACCEPTED_CRS_ALIASES)
    for alias in ACCEPTED_CRS_ALIASES:
        if alias == "EPSG:<code>":
            continue
        resolve_crs(alias)


# --------------------------------------------------------------------- vectorised


def batch_rows():
    rows = []
    for lon, lat in PLACES.values():
        rows.append((lon, lat))
    rows += [
        (35.5, 112.8),            # swapped
        ("abc", 35.5),           # not a number
        (float("nan"), 35.5),    # NaN
        (116.4, 39.9),           # outside
        (38396465.7, 3928409.2),  # metres as degrees
        ("112.85", "35.5"),      # strings fine
    ]
    return rows


@pytest.mark.parametrize("crs", [None, "wgs84", "gcj02", "bd09"])
def test_vectorised_equals_parse_point_geographic(crs):
    rows = batch_rows()
    if crs in ("gcj02", "bd09"):
        f = from_cgcs2000
        rows = [f(*r, crs) if isinstance(r[0], float) and r[0] < 180 and r[1] < 90 and not math.isnan(r[0]) else r
                for r in rows]
    check_batch_matches(rows, crs)


@pytest.mark.parametrize("crs,order", [("gk3", "xy"), ("gk3", "survey"), ("EPSG:4547", "xy"), ("EPSG:4526", "xy")])
def test_vectorised_equals_parse_point_projected(crs, order):
    rows = []
    for lon, lat in PLACES.values():  # mixed zones 37 and 38, with prefix
        code = "EPSG:4525" if lon < 112.5 else "EPSG:4526"
        rows.append(fwd(lon, lat, code))
    rows.append(fwd(112.85, 35.5, "EPSG:4547"))   # plain easting
    rows.append(fwd(113.28, 35.78, "EPSG:4547"))
    rows.append(("x", 3928409.2))
    rows.append((112.85, 35.5))                   # degrees
    rows.append(fwd(116.4, 39.9, "EPSG:4526"))    # outside
    if order == "survey":
        rows = [(b, a) for a, b in rows]
    check_batch_matches(rows, crs, order)


def check_batch_matches(rows, crs, order="xy"):
    xs = np.array([r[0] for r in rows], dtype=object)
    ys = np.array([r[1] for r in rows], dtype=object)
    lon, lat, problems = to_cgcs2000(xs, ys, crs, order=order)  # never raises for bad rows
    assert lon.shape == lat.shape == problems.shape == (len(rows),)
    assert problems.dtype == object
    n_bad = 0
    for i, (x, y) in enumerate(rows):
        try:
            p = parse_point(x, y, crs, order=order)
        except CoordinateError as exc:
            n_bad += 1
            assert problems[i] == str(exc)
            assert math.isnan(lon[i]) and math.isnan(lat[i])
        else:
            assert problems[i] is None
            assert lon[i] == p.lon and lat[i] == p.lat
    assert n_bad >= 2
    assert n_bad < len(rows)


def test_vectorised_float_arrays_and_unknown_crs():
    lon, lat, problems = to_cgcs2000(np.array([112.85, np.nan]), np.array([35.5, 35.5]))
    assert lon[0] == 112.85 and problems[0] is None
    assert math.isnan(lon[1]) and "NaN" in problems[1]
    with pytest.raises(UnknownCRSError):
        to_cgcs2000(np.array([112.85]), np.array([35.5]), "nonsense")
    with pytest.raises(CoordinateError, match="differ in length"):
        to_cgcs2000([1.0, 2.0], [3.0])


# --------------------------------------------------------------------- from_cgcs2000


def test_from_cgcs2000_scalar_and_array():
    x, y = from_cgcs2000(112.85, 35.5, "EPSG:4526")
    assert isinstance(x, float) and 38e6 < x < 39e6 and 3.9e6 < y < 4.0e6
    xs, ys = from_cgcs2000(np.array([112.19, 112.85]), np.array([35.69, 35.5]), "gk3")
    assert int(xs[0] // 1e6) == 37 and int(xs[1] // 1e6) == 38  # zone per longitude
    for i, (lo, la) in enumerate([(112.19, 35.69), (112.85, 35.5)]):
        p = parse_point(xs[i], ys[i], "gk3")
        assert dist_m(p.lon, p.lat, lo, la) < PROJ_TOL_M
    gx, gy = from_cgcs2000(112.85, 35.5, "amap")
    elat, elon = eviltransform.wgs2gcj(35.5, 112.85)
    assert dist_m(gx, gy, elon, elat) < GCJ_TOL_M
    assert from_cgcs2000(112.85, 35.5, None) == pytest.approx((112.85, 35.5))


def test_module_constants():
    assert coords.TARGET_CRS == "EPSG:4490"
    assert coords.CITY_MARGIN_DEG == 0.05
