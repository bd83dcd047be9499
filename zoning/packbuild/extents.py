"""Indicative outlines of 中心城市规划区 and 中心城区 (晋市政发〔2021〕3号).

The gazette describes the two extents in words only (``layers/jincheng/sources/
002_f92106df1a097c08.txt``, lines 634-650):

* 中心城市规划区: "G342（北部新线）以南、G55城市高速外环线（规划新线）以内区域，涉及城区
  行政区划范围、泽州县的金村镇、南村镇以及大箕镇、高都镇、巴公镇部分生态空间，面积约366平方公里".
* 中心城区: "中心城市规划区范围内的城区、开发区、泽州县部分区域（长晋高速以西）".

No road (G342, G55 ring, 长晋高速) or town geometry is available offline, so the
outlines are built from the county layer and these facts only, and every feature is
labelled ``accuracy = "indicative"``.

Method (reproducible, no random element):

* 中心城市规划区 = 城区 ∪ (泽州县 ∩ buffer(城区, w)), where w is solved by bisection so
  that the area (Albers equal-area, :data:`zoning.core.settings.area_crs`) equals the
  published 366 km² (tolerance 0.01 %). 城区 is an enclave of 泽州县 and lies wholly inside
  the extent; the five towns the gazette names all belong to 泽州县 and ring 城区, so a
  band of uniform width inside 泽州县 is the least-assumption reading of "城区 + the
  surrounding 泽州县 towns inside the ring road".
* 中心城区 = 城区 (the whole administrative area), the only part of it the text fixes
  without road geometry. It is a lower bound: the 泽州县 part west of 长晋高速 and the parts
  of 开发区 outside 城区 cannot be drawn and are not included.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from zoning.core import settings
from zoning.core.errors import ValidationError

DOCUMENT = "晋市政发〔2021〕3号"
SOURCE_FILE = "002_f92106df1a097c08.txt"
SOURCES_DIR = Path(__file__).resolve().parents[2] / "layers" / "jincheng" / "sources"

CHENGQU = "140502"
ZEZHOU = "140525"

#: Relative tolerance of the solved 规划区 area against the published figure.
AREA_TOLERANCE = 1e-4
#: Bracket of the band width (m) searched by bisection.
WIDTH_BRACKET_M = (0.0, 30_000.0)


def published_planning_area(sources_dir: Path = SOURCES_DIR) -> tuple[float, int]:
    """(area km², line number) of "面积约 366平方公里" of 中心城市规划区, parsed from the gazette.

    The sentence is split across lines by the PDF extraction, so the text is joined
    (whitespace removed) between the anchor "本《意见》所指中心城市规划" and the figure.
    """
    lines = (sources_dir / SOURCE_FILE).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if "所指中心城市规划" in line:
            window = lines[i : i + 20]
            joined, starts = "", []
            for j, w in enumerate(window):
                starts.append((len(joined), i + j + 1))
                joined += re.sub(r"\s+", "", w)
            m = re.search(r"面积约([\d.]+)平方公里", joined)
            if m:
                line_no = max(ln for pos, ln in starts if pos <= m.start(1))
                return float(m.group(1)), line_no
    raise ValidationError(f"area of 中心城市规划区 not found in {SOURCE_FILE}")


def _planning_area(chengqu, zezhou, width_m: float):
    band = zezhou.intersection(chengqu.buffer(width_m, quad_segs=16))
    return shapely.make_valid(chengqu.union(band))


def solve_band_width(chengqu, zezhou, target_m2: float, tol: float = AREA_TOLERANCE) -> float:
    """Band width (m) for which 城区 ∪ (泽州县 ∩ buffer(城区, w)) has area ``target_m2``.

    The area grows monotonically with w, so bisection converges; geometries are in
    the equal-area CRS.
    """
    lo, hi = WIDTH_BRACKET_M
    if _planning_area(chengqu, zezhou, hi).area < target_m2 or chengqu.area > target_m2:
        raise ValidationError("published area is outside what 城区 + 泽州县 band can reach")
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        area = _planning_area(chengqu, zezhou, mid).area
        if abs(area - target_m2) <= tol * target_m2:
            return mid
        if area < target_m2:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def build_planning_extents(counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The two indicative extents (中心城市规划区, 中心城区), EPSG:4490.

    ``counties`` is the layer of :func:`zoning.packbuild.counties.build_counties`.
    """
    area_km2, line_no = published_planning_area()
    proj = counties.to_crs(settings.area_crs).set_index("adcode")
    chengqu = shapely.make_valid(proj.geometry[CHENGQU])
    zezhou = shapely.make_valid(proj.geometry[ZEZHOU])

    width = solve_band_width(chengqu, zezhou, area_km2 * 1e6)
    planning = _planning_area(chengqu, zezhou, width)
    central = chengqu

    def touched(geom) -> str:
        hits = [a for a, g in proj.geometry.items() if geom.intersection(g).area > 1.0]
        return ",".join(sorted(hits))

    rows = [
        {
            "extent_class": "中心城市规划区",
            "name": "晋城市中心城市规划区（示意范围）",
            "area_km2": planning.area / 1e6,
            "accuracy": "indicative",
            "method": (
                f"城区 plus a band of 泽州县 within {width:,.0f} m of 城区, the width solved by "
                f"bisection so the area equals the published {area_km2:g} km² "
                f"({SOURCE_FILE} line {line_no}); not the G342 / G55 ring-road outline, which "
                "is not available"
            ),
            "document": DOCUMENT,
            "published_area_km2": area_km2,
            "counties": touched(planning),
            "band_width_m": round(width, 1),
            "note": (
                "indicative: the true outline follows G342 (north) and the G55 ring road and "
                "takes only parts of 大箕镇, 高都镇, 巴公镇; a point within a few km of this "
                "line cannot be assigned with certainty"
            ),
            "geometry": planning,
        },
        {
            "extent_class": "中心城区",
            "name": "晋城市中心城区（示意范围，仅城区部分）",
            "area_km2": central.area / 1e6,
            "accuracy": "indicative",
            "method": (
                "the administrative area of 城区 (140502) from the county layer, the only part "
                "of 中心城区 the gazette fixes without road geometry; a lower bound"
            ),
            "document": DOCUMENT,
            "published_area_km2": None,
            "counties": touched(central),
            "band_width_m": None,
            "note": (
                "lower bound: the 泽州县 part west of 长晋高速 and the 开发区 areas outside 城区 "
                "are in 中心城区 but not drawn; a point in 泽州县 inside 中心城市规划区 may be "
                "in 中心城区"
            ),
            "geometry": central,
        },
    ]
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=settings.area_crs)
    gdf["published_area_km2"] = gdf["published_area_km2"].astype("float64")
    gdf["band_width_m"] = gdf["band_width_m"].astype("float64")
    gdf = gdf.to_crs("EPSG:4490")
    gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
    # Report the area of the shipped (geographic) geometry, measured in the equal-area CRS.
    gdf["area_km2"] = (gdf.to_crs(settings.area_crs).area / 1e6).round(3)
    return gdf
