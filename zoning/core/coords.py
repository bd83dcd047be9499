"""One coordinate parser for every entry point (CLI query, batch check, file import).

Turns what planners have -- CGCS2000 / WGS 84 lon/lat, any CRS pyproj understands,
CGCS2000 Gauss-Krueger eastings with or without the zone prefix, Chinese survey order
(X = northing first), GCJ-02 (Amap, Tencent, Google China) and BD-09 (Baidu) -- into
CGCS2000 lon/lat (EPSG:4490), and explains the usual mistakes in one line:
swapped lon/lat, metres labelled as degrees, degrees labelled as metres, survey order
not declared, wrong or missing zone prefix, a point outside 晋城市, an unknown CRS,
NaN or text that is no number.

Public API
----------
``ParsedPoint``, ``resolve_crs``, ``parse_point``, ``to_cgcs2000`` (vectorised, never
stops on a bad row), ``from_cgcs2000`` and ``ACCEPTED_CRS_ALIASES``; the one place where
a Gauss–Krüger zone becomes an EPSG code: ``gk_crs`` (zone -> ``"EPSG:4526"``),
``gk_zone_of`` (longitudes -> zone) and ``GK_ZONES`` (the zones that cover China).

GCJ-02 / BD-09 use ``prcoords`` (public domain): forward ``wgs_gcj`` / ``wgs_bd``,
inverse ``gcj_wgs_bored`` / ``bd_wgs_bored``. prcoords' iteration stops at 1e-5 deg
(~1 m) steps, which leaves up to ~1.3 cm for BD-09 around Jincheng; two more
fixed-point steps with prcoords' own forward functions bring both inverses to
sub-millimetre round trips. WGS 84 from the de-obfuscation is taken as CGCS2000
(cm-level, see DOMAIN.md).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import prcoords
import pyproj
from pyproj.exceptions import CRSError

from zoning.core import settings
from zoning.core.errors import CoordinateError, OutsideCityError, UnknownCRSError

__all__ = [
    "ACCEPTED_CRS_ALIASES",
    "CITY_MARGIN_DEG",
    "GK_FAMILIES",
    "GK_ZONES",
    "ParsedPoint",
    "from_cgcs2000",
    "gk_crs",
    "gk_zone_of",
    "in_city_box",
    "parse_point",
    "resolve_crs",
    "to_cgcs2000",
    "RowCoordinates",
    "datum_note",
    "to_cgcs2000_by_row",
    "transformer",
]

TARGET_CRS = "EPSG:4490"
GCJ02 = "GCJ-02"
BD09 = "BD-09"
#: margin (degrees) around ``settings.city_bounds`` for the plausibility check
CITY_MARGIN_DEG = 0.05

ACCEPTED_CRS_ALIASES: dict[str, str] = {
    "cgcs2000": "CGCS2000 lon/lat, EPSG:4490 (the default)",
    "EPSG:4490": "CGCS2000 lon/lat (the default)",
    "wgs84": "WGS 84 lon/lat, EPSG:4326 (same as CGCS2000 to within centimetres)",
    "EPSG:4326": "WGS 84 lon/lat",
    "gcj02": "GCJ-02 lon/lat (Amap/高德, Tencent, Google China); also 'gcj-02', 'amap'",
    "gcj-02": "GCJ-02 lon/lat",
    "amap": "GCJ-02 lon/lat (高德)",
    "bd09": "BD-09 lon/lat (Baidu/百度); also 'bd-09', 'baidu'",
    "bd-09": "BD-09 lon/lat",
    "baidu": "BD-09 lon/lat (百度)",
    "gk3": "CGCS2000 3° Gauss–Krüger, zone from the 8-digit easting's prefix (37xxxxxx/38xxxxxx)",
    "cgcs2000-gk3": "same as gk3",
    "gk3:37": "CGCS2000 3° GK zone 37, CM 111°E; easting with prefix (EPSG:4525) or without (EPSG:4546)",
    "gk3:38": "CGCS2000 3° GK zone 38, CM 114°E; easting with prefix (EPSG:4526) or without (EPSG:4547)",
    "gk6": "CGCS2000 6° Gauss–Krüger, zone from the 8-digit easting's prefix (19xxxxxx)",
    "gk6:19": "CGCS2000 6° GK zone 19, CM 111°E; with prefix (EPSG:4497) or without (EPSG:4508)",
    "xian80": "Xian 1980 lon/lat, EPSG:4610 (its GK zones: EPSG:2327-2390)",
    "beijing54": "Beijing 1954 lon/lat, EPSG:4214",
    "EPSG:<code>": "any EPSG code, PROJ string or WKT that pyproj understands",
}

_SIMPLE_ALIASES = {
    "cgcs2000": "EPSG:4490",
    "cgcs-2000": "EPSG:4490",
    "wgs84": "EPSG:4326",
    "wgs-84": "EPSG:4326",
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "amap": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "baidu": BD09,
    "xian80": "EPSG:4610",
    "xian1980": "EPSG:4610",
    "beijing54": "EPSG:4214",
    "beijing1954": "EPSG:4214",
}
_GK_ALIAS = re.compile(r"^(?:cgcs2000-?)?gk([36])(?::(\d{1,2}))?$")
_EPSG = re.compile(r"^\s*(?:epsg\s*:\s*)?(\d{4,6})\s*$", re.IGNORECASE)
#: the zones 晋城市 (111.9–113.6°E) lies in: what gk3 / gk6 detect from an easting's prefix
_CITY_ZONES = {3: (37, 38), 6: (19,)}
_FAMILY_CGCS2000 = "CGCS2000"
#: northings that are plausible around 晋城市 (35.2-36.1 N), generous
_NORTHING_RANGE = (3.7e6, 4.2e6)
_GEOD = pyproj.Geod(ellps="GRS80")


# --------------------------------------------------------------------------- Gauss–Krüger zones

#: The Gauss–Krüger zones that cover China, by zone width in degrees: 3° zones 25–45
#: (central meridian 3 × zone: 75°E–135°E), 6° zones 13–23 (central meridian
#: 6 × zone − 3: 75°E–135°E): the zones the EPSG database numbers for China's datums.
GK_ZONES: dict[int, range] = {3: range(25, 46), 6: range(13, 24)}

#: The datums whose Gauss–Krüger zones :func:`gk_crs` numbers, spelt as in the EPSG names
#: (``"CGCS2000 / 3-degree Gauss-Kruger zone 38"``); case, spaces, ``-`` and ``_`` are
#: ignored, so ``"Xian1980"`` and ``"beijing_1954"`` are these too.
GK_FAMILIES: tuple[str, ...] = ("CGCS2000", "Xian 1980", "Beijing 1954")

# The EPSG code of each family's first zone (3°: zone 25, 6°: zone 13), with the zone prefix
# and without it; the codes of the further zones follow on by one (see gk_crs). Every code is
# checked against the EPSG database (name, central meridian, false easting) by
# tests/test_gk_zones.py.
_GK_BASE_CODES: dict[str, dict[int, tuple[int, int]]] = {
    "cgcs2000": {3: (4513, 4534), 6: (4491, 4502)},
    "xian1980": {3: (2349, 2370), 6: (2327, 2338)},
    "beijing1954": {3: (2401, 2422), 6: (21413, 21453)},
}


def _family_key(family: str) -> str:
    return re.sub(r"[\s_\-]", "", family).lower()


def _check_width(width: object) -> int:
    if isinstance(width, bool) or width not in GK_ZONES:
        raise UnknownCRSError(f"Gauss–Krüger zones are 3 or 6 degrees wide, not {width!r}")
    assert isinstance(width, int)
    return width


def gk_crs(zone: int, *, width: int = 3, prefixed: bool = True, family: str = "CGCS2000") -> str:
    """The EPSG code (``"EPSG:4526"``) of a Gauss–Krüger zone of China: the one answer the
    coordinate parser, the 界址点 and DXF readers and the outputs use.

    ``zone`` is the zone number (:data:`GK_ZONES`: 3° zones 25–45 with central meridian
    3 × zone °E, 6° zones 13–23 with central meridian 6 × zone − 3 °E); ``width`` 3 or 6;
    ``prefixed``: the eastings carry the zone number in front (false easting
    zone × 1 000 000 + 500 000 m, 8 digits: ``38396465.7``), else not (false easting
    500 000 m, 6 digits: ``396465.7``); ``family`` one of :data:`GK_FAMILIES`. The EPSG
    codes of a range follow the zones one by one:

    ============  =====  =========================  =========================
    family        width  zone prefix (zones)        no prefix (CM 75–135°E)
    ============  =====  =========================  =========================
    CGCS2000      3°     EPSG:4513–4533 (25–45)     EPSG:4534–4554
    CGCS2000      6°     EPSG:4491–4501 (13–23)     EPSG:4502–4512
    Xian 1980     3°     EPSG:2349–2369 (25–45)     EPSG:2370–2390
    Xian 1980     6°     EPSG:2327–2337 (13–23)     EPSG:2338–2348
    Beijing 1954  3°     EPSG:2401–2421 (25–45)     EPSG:2422–2442
    Beijing 1954  6°     EPSG:21413–21423 (13–23)   EPSG:21453–21463
    ============  =====  =========================  =========================

    晋城市 (111.9–113.6°E) lies in 3° zone 37 (CM 111°E: EPSG:4525, without prefix 4546)
    and zone 38 (CM 114°E: EPSG:4526 / 4547), and in 6° zone 19 (CM 111°E: EPSG:4497 / 4508).

    Raises
    ------
    UnknownCRSError
        A zone outside its width's range (no EPSG code: none of China's), a width other
        than 3 or 6, a zone that is no integer, a family not in :data:`GK_FAMILIES`.
    """
    w = _check_width(width)
    if isinstance(zone, bool) or not isinstance(zone, (int, np.integer)):
        raise UnknownCRSError(f"Gauss–Krüger zone {zone!r} is no zone number (an integer)")
    bases = _GK_BASE_CODES.get(_family_key(family)) if isinstance(family, str) else None
    if bases is None:
        raise UnknownCRSError(
            f"no Gauss–Krüger zone numbering for {family!r}: known are {', '.join(GK_FAMILIES)}"
        )
    zones = GK_ZONES[w]
    if zone not in zones:
        raise UnknownCRSError(
            f"{w}° Gauss–Krüger zone {zone} does not exist in China: zones {zones.start}–{zones.stop - 1} "
            f"(central meridians {_zone_cm(w, zones.start)}–{_zone_cm(w, zones.stop - 1)}°E) have EPSG codes"
        )
    with_prefix, without = bases[w]
    return f"EPSG:{(with_prefix if prefixed else without) + int(zone) - zones.start}"


def _zones(lon: np.ndarray, width: int) -> np.ndarray:
    """The zone of each longitude (NaN stays NaN): 3° round(lon / 3), 6° floor(lon / 6) + 1."""
    return np.round(lon / 3.0) if width == 3 else np.floor(lon / 6.0) + 1


def gk_zone_of(lon: float | Iterable[float], *, width: int = 3) -> int:
    """The Gauss–Krüger zone of a longitude (°E), or of the median of several (NaN ignored).

    3° zones: round(lon / 3), the central meridian 3 × zone nearest (晋城市: zone 37 west
    of 112.5°E, 38 east of it); 6° zones: floor(lon / 6) + 1 (晋城市: 19). It does not
    check that the zone has a CRS: :func:`gk_crs` does.

    Raises
    ------
    CoordinateError
        No longitude is a finite number.
    UnknownCRSError
        A width other than 3 or 6.
    """
    w = _check_width(width)
    if isinstance(lon, (int, float, np.number)):
        vals = np.array([float(lon)])
    else:
        vals = np.asarray(lon if isinstance(lon, np.ndarray) else list(lon), dtype=float).ravel()
    vals = vals[np.isfinite(vals)]
    if not len(vals):
        raise CoordinateError("no finite longitude: the Gauss–Krüger zone is unknown")
    return int(_zones(np.array([np.median(vals)]), w)[0])


@dataclass(frozen=True)
class ParsedPoint:
    """A parsed input point; ``lon``/``lat`` are CGCS2000 (EPSG:4490).

    ``input_x``/``input_y`` are the two numbers in the order they were given;
    ``input_crs`` the canonical name of the CRS actually used for them (e.g.
    ``"EPSG:4526"`` after zone detection, ``"GCJ-02"``); ``notes`` explain what was
    detected or assumed on the way.
    """

    lon: float
    lat: float
    input_x: float
    input_y: float
    input_crs: str
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- CRS model


@dataclass(frozen=True)
class _Base:
    """A CRS as resolved without the coordinates."""

    kind: str  # "geographic" | "projected" | "gcj" | "bd" | "gk_alias"
    canonical: str
    label: str  # as the user wrote it, for messages
    width: int | None = None  # gk_alias: 3 or 6; projected GK: 3, 6 or None
    zone: int | None = None  # gk_alias: given zone or None (auto)
    gk_cm: float | None = None  # projected standard GK: central meridian
    gk_prefix: int | None = None  # projected standard GK: zone prefix of the easting
    family: str | None = None  # "CGCS2000", "Xian 1980", ... for equivalent codes


def _alias_key(s: str) -> str:
    return re.sub(r"\s+", "", s.strip().lower()).replace("_", "-")


def _aliases_text() -> str:
    names = [k for k in ACCEPTED_CRS_ALIASES if not k.startswith("EPSG:")]
    return ", ".join(names) + ", or any EPSG:<code> / PROJ / WKT string pyproj understands"


@lru_cache(maxsize=1)
def _gk_table() -> dict[str, str]:
    """EPSG projected CRS name -> "EPSG:code" for the Gauss-Kruger CRSs."""
    from pyproj.database import query_crs_info
    from pyproj.enums import PJType

    infos = query_crs_info(auth_name="EPSG", pj_types=PJType.PROJECTED_CRS)
    return {i.name: f"EPSG:{i.code}" for i in infos if "Gauss-Kruger" in i.name}


def _gk_code(family: str | None, width: int, zone: int, prefixed: bool) -> str | None:
    """:func:`gk_crs` for the parsers: None where there is no such CRS.

    A family :func:`gk_crs` does not number (Pulkovo 1942, New Beijing, DHDN... given as
    a projected CRS by code) is looked up by its EPSG name instead."""
    if family is None:
        return None
    if _family_key(family) in _GK_BASE_CODES:
        try:
            return gk_crs(zone, width=width, prefixed=prefixed, family=family)
        except UnknownCRSError:
            return None
    kind = "3-degree Gauss-Kruger" if width == 3 else "Gauss-Kruger"
    name = f"{family} / {kind} zone {zone}" if prefixed else f"{family} / {kind} CM {_zone_cm(width, zone)}E"
    return _gk_table().get(name)


def _zone_cm(width: int, zone: int) -> int:
    return 3 * zone if width == 3 else 6 * zone - 3


@lru_cache(maxsize=256)
def _pyproj_crs(canonical: str) -> pyproj.CRS:
    return pyproj.CRS.from_user_input(canonical)


def _gk_origin(crs: pyproj.CRS) -> tuple[float, float] | None:
    """(central meridian, false easting) of a Transverse Mercator with scale factor 1 (a
    Gauss–Krüger projection), else None."""
    op = crs.coordinate_operation
    if op is None or op.method_name != "Transverse Mercator":
        return None
    # pyproj's stub types Param.value as str; a Transverse Mercator's parameters are numbers
    params: dict[str, object] = {p.name: p.value for p in op.params}
    cm = params.get("Longitude of natural origin")
    fe = params.get("False easting")
    k = params.get("Scale factor at natural origin")
    if not (isinstance(cm, (int, float)) and isinstance(fe, (int, float)) and isinstance(k, (int, float))):
        return None
    if abs(k - 1.0) > 1e-12:
        return None
    return float(cm), float(fe)


@lru_cache(maxsize=256)
def _base_cached(key: str, label: str) -> _Base:
    if key in ("", "none"):
        key = settings.default_crs
    akey = _alias_key(key)
    if akey in _SIMPLE_ALIASES:
        target = _SIMPLE_ALIASES[akey]
        if target == GCJ02:
            return _Base("gcj", GCJ02, label)
        if target == BD09:
            return _Base("bd", BD09, label)
        key = target
    m = _GK_ALIAS.match(akey)
    if m:
        width = int(m.group(1))
        zone = int(m.group(2)) if m.group(2) else None
        if zone is not None and zone not in GK_ZONES[width]:
            z = GK_ZONES[width]
            raise UnknownCRSError(
                f"unknown CRS {label!r}: {width}° Gauss–Krüger zone {zone} does not exist in China "
                f"(zones {z.start}–{z.stop - 1}; 晋城市 uses gk3:37, gk3:38 or gk6:19)"
            )
        canon = f"gk{width}" if zone is None else f"gk{width}:{zone}"
        return _Base("gk_alias", canon, label, width=width, zone=zone, family=_FAMILY_CGCS2000)
    m = _EPSG.match(key)
    canonical = f"EPSG:{int(m.group(1))}" if m else key.strip()
    try:
        crs = _pyproj_crs(canonical)
    except (CRSError, ValueError, TypeError) as exc:
        raise UnknownCRSError(
            f"unknown CRS {label!r}: accepted are {_aliases_text()}"
        ) from exc
    if crs.is_geographic and not crs.is_geocentric:
        return _Base("geographic", canonical, label)
    if not crs.is_projected:
        raise UnknownCRSError(
            f"CRS {label!r} ({crs.name}) is neither geographic (lon/lat) nor projected; "
            f"accepted are {_aliases_text()}"
        )
    family = crs.name.split(" / ")[0] if " / " in crs.name else None
    origin = _gk_origin(crs)
    if origin is None:
        return _Base("projected", canonical, label, family=family)
    cm, fe = origin
    prefix: int | None = None
    gk_width: int | None = None
    if fe == 500000.0:
        if "3-degree" in crs.name:
            gk_width = 3
        elif "Gauss-Kruger" in crs.name:
            gk_width = 6
    elif fe > 1e6 and (fe - 500000.0) % 1e6 == 0:
        prefix = int(fe // 1e6)
        if cm == 3 * prefix:
            gk_width = 3
        elif cm == 6 * prefix - 3:
            gk_width = 6
    else:  # a GK with an unusual false easting (local system): no prefix logic
        return _Base("projected", canonical, label, family=family)
    return _Base(
        "projected", canonical, label, width=gk_width, gk_cm=cm, gk_prefix=prefix, family=family
    )


def _base(crs: str | int | None) -> _Base:
    if crs is None:
        return _base_cached(settings.default_crs, settings.default_crs)
    if isinstance(crs, bool):
        raise UnknownCRSError(f"unknown CRS {crs!r}: accepted are {_aliases_text()}")
    if isinstance(crs, (int, np.integer)):
        return _base_cached(f"EPSG:{int(crs)}", str(crs))
    if not isinstance(crs, str):
        raise UnknownCRSError(f"unknown CRS {crs!r}: accepted are {_aliases_text()}")
    return _base_cached(crs.strip(), crs)


@lru_cache(maxsize=256)
def transformer(src: str, dst: str) -> pyproj.Transformer:
    """The pyproj transformer ``src`` -> ``dst`` (GIS order, ``always_xy``), made once per pair
    for the whole package (pyproj's transformers are thread-safe)."""
    return pyproj.Transformer.from_crs(_pyproj_crs(src), _pyproj_crs(dst), always_xy=True)


@lru_cache(maxsize=256)
def datum_note(src: str) -> str | None:
    """The note an answer gives when PROJ has no real datum transformation from ``src`` to
    CGCS2000 (the datums are then taken as identical); None when it has one."""
    tr = transformer(src, TARGET_CRS)
    if "Ballpark" not in tr.description:
        return None
    geod = _pyproj_crs(src).geodetic_crs
    name = geod.name if geod is not None else "unknown"
    if name in ("WGS 84", "China Geodetic Coordinate System 2000"):
        return "WGS 84 taken as CGCS2000 (they agree to within centimetres)"
    return (
        f"no datum transformation {name} -> CGCS2000 in PROJ: datums treated as identical "
        "(can be off by tens of metres; use a local 7-parameter transformation for survey work)"
    )


# --------------------------------------------------------------------------- numbers


_DMS = re.compile(
    r"^\s*([+-]?\d+(?:\.\d+)?)\s*[°度dD]\s*"
    r"(?:(\d+(?:\.\d+)?)\s*(?:['′’分]|[mM])\s*)?"
    r"(?:(\d+(?:\.\d+)?)\s*(?:\"|″|”|''|秒|[sS])\s*)?"
    r"([NSEWnsew东西南北])?\s*$"
)


def _fmt(v: float) -> str:
    return format(v, ".12g")


def _num(v: object, name: str) -> float:
    """Parse one input number (float, int, numpy scalar, numeric or DMS string)."""
    if v is None or isinstance(v, bool):
        raise CoordinateError(f"{name}={v!r} is not a number: expected a coordinate value")
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
    elif isinstance(v, str):
        s = v.strip()
        try:
            f = float(s)
        except ValueError:
            m = _DMS.match(s)
            if not m:
                raise CoordinateError(
                    f"{name}={v!r} is not a number: expected e.g. 112.85, 38396465.7 or 112°51'00\""
                ) from None
            deg = float(m.group(1))
            mins = float(m.group(2) or 0)
            secs = float(m.group(3) or 0)
            if mins >= 60 or secs >= 60:
                raise CoordinateError(
                    f"{name}={v!r}: minutes and seconds must be below 60"
                ) from None
            f = abs(deg) + mins / 60 + secs / 3600
            hemi = m.group(4) or ""
            if deg < 0 or s.startswith("-") or hemi in ("S", "W", "s", "w", "南", "西"):
                f = -f
    else:
        try:
            f = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise CoordinateError(f"{name}={v!r} is not a number: expected a coordinate value") from None
    if math.isnan(f):
        raise CoordinateError(f"{name}={v!r} is NaN: expected a coordinate value")
    if math.isinf(f):
        raise CoordinateError(f"{name}={v!r} is infinite: expected a coordinate value")
    return f


# --------------------------------------------------------------------------- plausibility


def _box(margin: float = CITY_MARGIN_DEG) -> tuple[float, float, float, float]:
    w, s, e, n = settings.city_bounds
    return (w - margin, s - margin, e + margin, n + margin)


def in_city_box(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which points lie in the city's box widened by :data:`CITY_MARGIN_DEG` (the plausibility
    check of every coordinate; NaN is outside)."""
    w, s, e, n = _box()
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(lon) & np.isfinite(lat) & (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)


def _in_box(lon: float, lat: float, margin: float = CITY_MARGIN_DEG) -> bool:
    w, s, e, n = _box(margin)
    return w <= lon <= e and s <= lat <= n


def _km_to_box(lon: float, lat: float) -> float:
    w, s, e, n = settings.city_bounds
    clon, clat = min(max(lon, w), e), min(max(lat, s), n)
    if not (-90 <= lat <= 90) or not math.isfinite(lon):
        return float("inf")
    return _GEOD.inv(lon, lat, clon, clat)[2] / 1000.0


def _digits(e: float) -> tuple[str, int | None]:
    """Classify an easting: ("plain", None) 6 digits, ("prefixed", zone) 8 digits, ("other", None)."""
    a = abs(e)
    if 1e5 <= a < 1e6:
        return "plain", None
    if 1e7 <= a < 1e8:
        return "prefixed", int(a // 1e6)
    return "other", None


def _looks_northing(v: float) -> bool:
    return _NORTHING_RANGE[0] <= v <= _NORTHING_RANGE[1]


#: the CGCS2000 GK CRSs of the city's zones, prefixed then plain, 3° then 6°: EPSG:4525,
#: 4526, 4546, 4547, 4497, 4508 (the first that fits is the one suggested)
_FIT_CANDIDATES = tuple(
    gk_crs(z, width=w, prefixed=p) for w in (3, 6) for p in (True, False) for z in _CITY_ZONES[w]
)


def _fitting_gk(e: float, n: float, exclude: str | None = None) -> list[str]:
    """CGCS2000 GK CRSs in which (easting e, northing n) lands in the city box."""
    out = []
    for c in _FIT_CANDIDATES:
        if c == exclude:
            continue
        lon, lat = transformer(c, TARGET_CRS).transform(e, n)
        if math.isfinite(lon) and math.isfinite(lat) and _in_box(lon, lat):
            out.append(c)
    return out


def _or(codes: list[str]) -> str:
    return " or ".join(codes)


# --------------------------------------------------------------------------- per-row checks


def _resolve_gk(e: float, b: _Base) -> tuple[str, list[str]]:
    """Resolve the CRS for an easting ``e`` (GIS x); prefix checks. Returns (crs, notes)."""
    if b.kind == "gk_alias":
        cls, q = _digits(e)
        w = b.width
        assert w is not None
        if cls == "prefixed":
            assert q is not None
            if q not in GK_ZONES[w]:
                z = GK_ZONES[w]
                other = 6 if w == 3 else 3
                hint = (
                    f"; it fits a {other}° zone: pass gk{other}"
                    if q in GK_ZONES[other] else ""
                )
                raise CoordinateError(
                    f"easting {_fmt(e)} has prefix {q}, which is no {w}° Gauss–Krüger zone in China "
                    f"({z.start}–{z.stop - 1}) for {b.label!r}{hint}"
                )
            if b.zone is not None and q != b.zone:
                code = _gk_code(b.family, w, q, True)
                raise CoordinateError(
                    f"wrong zone: easting {_fmt(e)} has zone prefix {q} but {b.label!r} is zone {b.zone} "
                    f"(prefix {b.zone}); for zone {q} use gk{w}:{q}" + (f" ({code})" if code else "")
                )
            code = _gk_code(b.family, w, q, True)
            if code is None:  # pragma: no cover - all China zones are in the EPSG table
                raise CoordinateError(f"no EPSG code for CGCS2000 {w}° zone {q}")
            if b.zone is None and q not in _CITY_ZONES[w]:
                # detection serves 晋城市: a prefix of another zone is a typo or a point far away
                city = " or ".join(str(z) for z in _CITY_ZONES[w])
                raise CoordinateError(
                    f"easting {_fmt(e)} has zone prefix {q}, but 晋城市 lies in {w}° zone {city}; "
                    f"{b.label!r} detects only those: check the easting, or pass gk{w}:{q} ({code}) to read it in zone {q}"
                )
            if b.zone is None:
                return code, [f"zone prefix {q} detected: {code}"]
            return code, [f"zone {q} with prefix: {code}"]
        if cls == "plain":
            if b.zone is None:
                zones = "gk3:37 (CM 111°E) or gk3:38 (CM 114°E)" if w == 3 else "gk6:19 (CM 111°E)"
                raise CoordinateError(
                    f"easting {_fmt(e)} has no zone prefix (6 digits), so {b.label!r} cannot tell the zone: "
                    f"pass the zone, {zones}"
                )
            code = _gk_code(b.family, w, b.zone, False)
            assert code is not None
            return code, [f"zone {b.zone} given, easting without prefix: {code}"]
        raise CoordinateError(
            f"easting {_fmt(e)} is neither 6 digits (no zone prefix) nor 8 digits (zone prefix) "
            f"as {b.label!r} expects, e.g. 38396465.7 or 396465.7"
        )

    # a projected CRS given by code/PROJ/WKT
    if b.gk_cm is None:
        return b.canonical, []
    cls, q = _digits(e)
    if b.gk_prefix is not None:  # the CRS wants a zone-prefixed easting
        p = b.gk_prefix
        if cls == "prefixed":
            assert q is not None
            if q == p:
                return b.canonical, []
            code = _gk_code(b.family, b.width, q, True) if b.width else None
            raise CoordinateError(
                f"wrong zone: easting {_fmt(e)} has zone prefix {q} but {b.canonical} is zone {p} "
                f"(prefix {p})" + (f"; for zone {q} use {code}" if code else "")
            )
        if cls == "plain":
            code = _gk_code(b.family, b.width, p, False) if b.width else None
            if code is None:
                raise CoordinateError(
                    f"easting {_fmt(e)} has no zone prefix but {b.canonical} expects an 8-digit easting "
                    f"starting {p} ({p}xxxxxx)"
                )
            return code, [
                f"easting {_fmt(e)} has no zone prefix although {b.canonical} expects {p}xxxxxx: "
                f"read as {code} (zone {p} without prefix)"
            ]
        raise CoordinateError(
            f"easting {_fmt(e)} is not an 8-digit easting with zone prefix {p} as {b.canonical} expects "
            f"(e.g. {p}396465.7)"
        )
    # the CRS wants an easting without prefix (false easting 500000)
    if cls == "prefixed":
        assert q is not None
        widths = [w for w in (3, 6) if q in GK_ZONES[w] and _zone_cm(w, q) == b.gk_cm]
        if b.width in widths:
            widths = [b.width]
        if widths:
            code = _gk_code(b.family, widths[0], q, True)
            if code is None:
                raise CoordinateError(
                    f"easting {_fmt(e)} has 8 digits (zone prefix {q}) but {b.canonical} takes eastings "
                    f"without prefix: drop the leading {q}"
                )
            return code, [
                f"easting {_fmt(e)} carries zone prefix {q}, which {b.canonical} does not use: "
                f"read as {code} (zone {q} with prefix)"
            ]
        hint = ""
        for w in (3, 6):
            if q in GK_ZONES[w]:
                code = _gk_code(b.family, w, q, True)
                if code:
                    hint = f"; for zone {q} (CM {_zone_cm(w, q)}°E) use {code}"
                    break
        raise CoordinateError(
            f"wrong zone: easting {_fmt(e)} has zone prefix {q} but {b.canonical} is the zone with "
            f"CM {_fmt(b.gk_cm)}°E without prefix{hint}"
        )
    return b.canonical, []


def _metres_hint(first: float, second: float) -> str:
    fits = _fitting_gk(first, second)
    if fits:
        return f"they fit {_or(fits)}: pass --crs {fits[0]}"
    fits = _fitting_gk(second, first)
    if fits:
        return (
            f"they fit {_or(fits)} in survey order (X=northing first): "
            f"pass --crs {fits[0]} --order survey"
        )
    return "pass --crs with the projected CRS they are in (e.g. EPSG:4526, gk3)"


_SURVEY_NOTE = "survey order: first number read as X (northing/latitude), second as Y"


def _precheck(
    first: float, second: float, b: _Base, survey: bool
) -> tuple[str, float, float, list[str]]:
    """Check one row before the transformation; return (crs, x, y, notes) in GIS order."""
    x, y = (second, first) if survey else (first, second)
    notes: list[str] = []
    if survey:
        notes.append(_SURVEY_NOTE)
    label = b.label if b.kind == "gk_alias" else b.canonical
    if b.kind in ("geographic", "gcj", "bd"):
        if not _in_box(x, y) and _in_box(y, x):
            raise CoordinateError(
                f"longitude and latitude look swapped: got lon={_fmt(x)}, lat={_fmt(y)} ({label}); "
                f"expected longitude first: lon={_fmt(y)}, lat={_fmt(x)}"
                + ("" if survey else " (or pass order='survey', --order survey, for latitude first)")
            )
        if abs(x) > 180 or abs(y) > 90:
            raise CoordinateError(
                f"x={_fmt(first)}, y={_fmt(second)} are not degrees for {label} (lon within ±180, "
                f"lat within ±90): looks like projected metres (Gauss–Krüger?); {_metres_hint(first, second)}"
            )
        if b.kind == "gcj":
            return GCJ02, x, y, notes
        if b.kind == "bd":
            return BD09, x, y, notes
        return b.canonical, x, y, notes

    # projected: a pyproj CRS or a gk alias
    if _looks_northing(x) and _digits(y)[0] in ("plain", "prefixed"):
        if survey:
            raise CoordinateError(
                f"got X={_fmt(first)}, Y={_fmt(second)} with order='survey', but the first looks like an "
                f"easting and the second like a northing: looks like GIS order (easting first); "
                f"drop order='survey' (--order xy)"
            )
        raise CoordinateError(
            f"got x={_fmt(first)}, y={_fmt(second)} ({label}): looks like survey order (X=northing first); "
            f"pass order='survey' (--order survey)"
        )
    if abs(x) <= 180 and abs(y) <= 90:
        raise CoordinateError(
            f"x={_fmt(first)}, y={_fmt(second)} look like lon/lat degrees, but {label} is projected "
            f"(metres): pass --crs EPSG:4490 (or the geographic CRS they are in)"
        )
    crs, gk_notes = _resolve_gk(x, b)
    return crs, x, y, notes + gk_notes


def _outside_error(lon: float, lat: float, first: float, second: float, crs: str, x: float, y: float) -> OutsideCityError:
    w, s, e, n = settings.city_bounds
    km = _km_to_box(lon, lat)
    msg = (
        f"point lon={lon:.6f}, lat={lat:.6f} (from {_fmt(first)}, {_fmt(second)} in {crs}) is "
        f"{km:.1f} km outside the 晋城市 box {w}–{e}°E, {s}–{n}°N"
    )
    if crs not in (GCJ02, BD09) and not _pyproj_crs(crs).is_geographic:
        fits = _fitting_gk(x, y, exclude=crs)
        if fits:
            msg += f"; the numbers fit {_or(fits)}"
    return OutsideCityError(msg)


# --------------------------------------------------------------------------- GCJ-02 / BD-09


def _refine(fwd, lat: float, lon: float, w: prcoords.Coords) -> prcoords.Coords:
    """Extra fixed-point steps w <- w - (fwd(w) - target) with prcoords' forward function."""
    for _ in range(4):
        g = fwd(w, False)
        dlat, dlon = g.lat - lat, g.lon - lon
        w = prcoords.Coords(w.lat - dlat, w.lon - dlon)
        if abs(dlat) < 1e-12 and abs(dlon) < 1e-12:
            break
    return w


def _inverse(bored, forward, lon: float, lat: float) -> tuple[float, float]:
    """prcoords' precise inverse, refined with its own forward function to < 1 cm."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = bored((lat, lon))
        if prcoords.sanity_in_china_p(prcoords.Coords(lat, lon)):
            w = _refine(forward, lat, lon, w)
    return w.lon, w.lat


def _gcj_to_wgs(lon: float, lat: float) -> tuple[float, float]:
    return _inverse(prcoords.gcj_wgs_bored, prcoords.wgs_gcj, lon, lat)


def _bd_to_wgs(lon: float, lat: float) -> tuple[float, float]:
    return _inverse(prcoords.bd_wgs_bored, prcoords.wgs_bd, lon, lat)


def _wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = prcoords.wgs_gcj((lat, lon))
    return g.lon, g.lat


def _wgs_to_bd(lon: float, lat: float) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = prcoords.wgs_bd((lat, lon))
    return g.lon, g.lat


# --------------------------------------------------------------------------- core


def _check_order(order: str) -> bool:
    if order == "survey":
        return True
    if order == "xy":
        return False
    raise CoordinateError(f"order={order!r} is unknown: expected 'xy' (x/easting/lon first) or 'survey' (X=northing first)")


@dataclass
class _Batch:
    lon: np.ndarray
    lat: np.ndarray
    errors: list[CoordinateError | None]
    notes: list[tuple[str, ...]]
    crs: list[str | None]
    inputs: list[tuple[float, float] | None]


def _convert(xs, ys, crs, order: str, check_city: bool) -> _Batch:
    survey = _check_order(order)
    b = _base(crs)  # an unknown CRS stops the whole call: it is no row problem
    xs = list(np.asarray(xs, dtype=object).ravel()) if not isinstance(xs, list) else xs
    ys = list(np.asarray(ys, dtype=object).ravel()) if not isinstance(ys, list) else ys
    if len(xs) != len(ys):
        raise CoordinateError(f"x and y differ in length: {len(xs)} and {len(ys)}")
    n = len(xs)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    errors: list[CoordinateError | None] = [None] * n
    notes: list[tuple[str, ...]] = [()] * n
    crss: list[str | None] = [None] * n
    inputs: list[tuple[float, float] | None] = [None] * n
    gx = np.full(n, np.nan)
    gy = np.full(n, np.nan)
    groups: dict[str, list[int]] = {}
    for i in range(n):
        try:
            first = _num(xs[i], "x")
            second = _num(ys[i], "y")
            inputs[i] = (first, second)
            rc, x, y, nt = _precheck(first, second, b, survey)
        except CoordinateError as exc:
            errors[i] = exc
            continue
        crss[i], gx[i], gy[i], notes[i] = rc, x, y, tuple(nt)
        groups.setdefault(rc, []).append(i)

    for rc, idx in groups.items():
        ii = np.asarray(idx)
        if rc in (GCJ02, BD09):
            f = _gcj_to_wgs if rc == GCJ02 else _bd_to_wgs
            for i in idx:
                lon[i], lat[i] = f(float(gx[i]), float(gy[i]))
            extra: str | None = f"{rc} converted to WGS 84 with prcoords (precise inverse), taken as CGCS2000"
        else:
            lo, la = transformer(rc, TARGET_CRS).transform(gx[ii], gy[ii], errcheck=False)
            lon[ii], lat[ii] = lo, la
            extra = datum_note(rc) if rc != TARGET_CRS else None
        if extra:
            for i in idx:
                notes[i] = notes[i] + (extra,)

    for i in range(n):
        if errors[i] is not None:
            continue
        pair, row_crs = inputs[i], crss[i]
        assert pair is not None and row_crs is not None  # a row without an error has both
        first, second = pair
        if not (math.isfinite(lon[i]) and math.isfinite(lat[i])):
            errors[i] = CoordinateError(
                f"x={_fmt(first)}, y={_fmt(second)} cannot be transformed from {crss[i]}: "
                f"check the CRS and the order"
            )
        elif check_city and not _in_box(lon[i], lat[i]):
            errors[i] = _outside_error(
                float(lon[i]), float(lat[i]), first, second, row_crs, gx[i], gy[i]
            )
        if errors[i] is not None:
            lon[i] = lat[i] = np.nan
    return _Batch(lon, lat, errors, notes, crss, inputs)


# --------------------------------------------------------------------------- public API


def resolve_crs(crs: str | int | None, x: float | str | None = None, y: float | str | None = None) -> str:
    """Canonical name of ``crs`` (``"EPSG:4490"``, ``"GCJ-02"``, ``"BD-09"``, ...).

    ``None`` means ``settings.default_crs``; an int is an EPSG code. With the easting
    ``x`` (GIS order) the Gauss–Krüger zone is resolved: ``gk3`` plus an easting
    38xxxxxx gives ``"EPSG:4526"``, ``gk3:38`` plus 396465.7 gives ``"EPSG:4547"``, a
    zone-prefixed easting with EPSG:4547 gives ``"EPSG:4526"``; a wrong zone raises.
    Without ``x`` the ``gk3``/``gk6`` aliases come back as ``"gk3"``, ``"gk3:38"``...
    (resolved per point). Raises :class:`UnknownCRSError` for a CRS nobody knows.
    """
    b = _base(crs)
    if x is None:
        return b.canonical
    if y is None:
        if b.kind in ("projected", "gk_alias"):
            return _resolve_gk(_num(x, "x"), b)[0]
        return b.canonical
    rc, _, _, _ = _precheck(_num(x, "x"), _num(y, "y"), b, False)
    return rc


def parse_point(
    x: float | str,
    y: float | str,
    crs: str | int | None = None,
    *,
    order: Literal["xy", "survey"] = "xy",
    check_city: bool = True,
) -> ParsedPoint:
    """Parse one coordinate pair into CGCS2000 lon/lat; raise a ``CoordinateError`` subclass.

    ``order="xy"``: x = longitude/easting first. ``order="survey"``: the first number is
    X = northing (latitude for a geographic CRS), the second Y = easting (longitude).
    ``check_city`` checks the point against ``settings.city_bounds`` widened by
    ``CITY_MARGIN_DEG`` and raises :class:`OutsideCityError` outside it.
    """
    r = _convert([x], [y], crs, order, check_city)
    if r.errors[0] is not None:
        raise r.errors[0]
    pair, input_crs = r.inputs[0], r.crs[0]
    assert pair is not None and input_crs is not None  # a row without an error has both
    first, second = pair
    return ParsedPoint(
        lon=float(r.lon[0]),
        lat=float(r.lat[0]),
        input_x=first,
        input_y=second,
        input_crs=input_crs,
        notes=r.notes[0],
    )


def _floats(values: object) -> np.ndarray:
    """Cells as floats (NaN where not a number); a numeric array as it is."""
    a = np.asarray(values)
    if a.dtype.kind in "fiu":
        return a.astype(float, copy=False).ravel()
    return pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()), errors="coerce").to_numpy(float)


def to_cgcs2000(
    x, y, crs: str | int | None = None, *, order: Literal["xy", "survey"] = "xy", check_city: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised :func:`parse_point` for batches.

    Returns ``lon``, ``lat`` (float arrays, CGCS2000) and ``problems`` (object array:
    ``None`` or the one-line message ``parse_point`` would raise for that row). A bad
    row never stops the batch; it gets NaN lon/lat. Projected rows are transformed in
    bulk, grouped by their resolved CRS (cached pyproj Transformers, always_xy=True).
    Only an unknown CRS or an unknown ``order`` raise, as they concern every row.
    """
    r = to_cgcs2000_by_row(x, y, crs, order=order, check_city=check_city)
    return r.lon, r.lat, r.problems


class RowCoordinates(NamedTuple):
    """What :func:`to_cgcs2000_by_row` gives, one entry per row."""

    lon: np.ndarray
    lat: np.ndarray
    #: None, or the one-line message :func:`parse_point` would raise for that row
    problems: np.ndarray
    #: the CRS the row was read in (None where it cannot be read)
    crs: np.ndarray
    #: how the row was read, as :func:`parse_point` notes it (a tuple; None where there is
    #: nothing to say, as for most rows)
    notes: np.ndarray


def to_cgcs2000_by_row(
    x, y, crs: str | int | None = None, *, order: Literal["xy", "survey"] = "xy", check_city: bool = True
) -> RowCoordinates:
    """:func:`to_cgcs2000`, the CRS each row was read in (``crs``: a gk3 alias or a
    zone-prefixed easting resolved to its zone's EPSG code, None for a row that cannot be
    read; what a site's ``input_crs`` says) and each row's notes (survey order, the zone
    read from the easting's prefix, GCJ-02/BD-09 converted, a datum taken as CGCS2000):
    the notes a query of the same point gives."""
    survey = _check_order(order)
    b = _base(crs)
    fast = None
    if b.kind == "geographic":
        # fast path: numeric rows that already lie in the city's box need no row-by-row
        # diagnosis; every other row goes through the full checks below
        fx, fy = _floats(x), _floats(y)
        if survey:
            fx, fy = fy, fx
        if len(fx) == len(fy):
            fast = in_city_box(fx, fy)
    if fast is None or not fast.any():
        r = _convert(x, y, crs, order, check_city)
        problems = np.empty(len(r.errors), dtype=object)
        for i, err in enumerate(r.errors):
            problems[i] = None if err is None else str(err)
        notes = np.empty(len(r.notes), dtype=object)
        for i, nt in enumerate(r.notes):  # one tuple per cell (numpy would spread a list of tuples)
            notes[i] = nt or None
        return RowCoordinates(r.lon, r.lat, problems, np.array(r.crs, dtype=object), notes)
    lon = np.full(len(fast), np.nan)
    lat = np.full(len(fast), np.nan)
    problems = np.full(len(fast), None, dtype=object)
    row_crs = np.full(len(fast), b.canonical, dtype=object)
    notes = np.empty(len(fast), dtype=object)
    # the notes _convert gives such a row: the order it was read in, the datum taken as CGCS2000
    notes.fill(tuple(n for n in (_SURVEY_NOTE if survey else None,
                                 datum_note(b.canonical) if b.canonical != TARGET_CRS else None) if n) or None)
    if b.canonical == TARGET_CRS:
        lon[fast], lat[fast] = fx[fast], fy[fast]
    else:
        lon[fast], lat[fast] = transformer(b.canonical, TARGET_CRS).transform(fx[fast], fy[fast], errcheck=False)
    slow = np.flatnonzero(~fast)
    if len(slow):
        xs = np.asarray(x, dtype=object).ravel()[slow]
        ys = np.asarray(y, dtype=object).ravel()[slow]
        r = _convert(list(xs), list(ys), crs, order, check_city)
        lon[slow], lat[slow] = r.lon, r.lat
        for k, err, rc, nt in zip(slow, r.errors, r.crs, r.notes, strict=True):
            problems[k] = None if err is None else str(err)
            row_crs[k] = rc
            notes[k] = nt or None
    return RowCoordinates(lon, lat, problems, row_crs, notes)


def from_cgcs2000(lon, lat, crs: str | int | None):
    """CGCS2000 lon/lat -> coordinates in ``crs`` (GIS order: x/easting/lon, y/northing/lat).

    Scalars in, floats out; arrays in, arrays out. ``gk3``/``gk6`` give zone-prefixed
    eastings, the zone chosen from each longitude (``gk3:38``: that zone, prefixed).
    ``"GCJ-02"`` / ``"BD-09"`` use prcoords' forward functions.
    """
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lo = np.atleast_1d(np.asarray(lon, dtype=float))
    la = np.atleast_1d(np.asarray(lat, dtype=float))
    lo, la = np.broadcast_arrays(lo, la)
    b = _base(crs)
    ox = np.full(lo.shape, np.nan)
    oy = np.full(lo.shape, np.nan)
    if b.kind in ("gcj", "bd"):
        f = _wgs_to_gcj if b.kind == "gcj" else _wgs_to_bd
        for i in np.ndindex(lo.shape):
            if math.isfinite(lo[i]) and math.isfinite(la[i]):
                ox[i], oy[i] = f(float(lo[i]), float(la[i]))
    elif b.kind == "gk_alias":
        w = b.width
        assert w is not None
        zones = np.full(lo.shape, b.zone) if b.zone is not None else _zones(lo, w)
        for z in np.unique(zones[np.isfinite(zones)]):
            code = _gk_code(b.family, w, int(z), True)
            if code is None:
                continue
            m = zones == z
            ox[m], oy[m] = transformer(TARGET_CRS, code).transform(lo[m], la[m])
    else:
        ox[...], oy[...] = transformer(TARGET_CRS, b.canonical).transform(lo, la)
    if scalar:
        return float(ox.ravel()[0]), float(oy.ravel()[0])
    return ox, oy
