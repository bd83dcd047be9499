"""Final levels -> zones: shapes per window, dissolve per level, connected parts, county/town.

Windows are vectorised separately (``rasterio.features.shapes``) and the pieces of one
level are unioned, so a zone that crosses a window edge becomes one polygon again: the
result is the same as vectorising the whole grid. Parts are then split by county (each
zone lies in one county, so the per-county table adds up), and parts smaller than the
config's ``min_area_m2`` are dropped as fragments.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features
from shapely.geometry import shape

from zoning.derive import steps

CATEGORY = {1: "管控类", 2: "管控类", 3: "保护类", 4: "保护类", 5: "保护类", 6: "保护类"}
#: the report's order of levels in tables
LEVEL_ORDER = [6, 5, 4, 3, 2, 1]


def window_shapes(levels: np.ndarray, transform) -> list[tuple[int, shapely.Geometry]]:
    """(level, polygon) for every connected piece of level 1..6 in one window."""
    mask = (levels >= 1) & (levels <= 6)
    if not mask.any():
        return []
    return [(int(v), shape(g)) for g, v in features.shapes(levels, mask=mask, transform=transform, connectivity=4)]


def _union(geoms: list) -> shapely.Geometry:
    # pieces from different windows share edges but not always vertices (shapes drops
    # collinear ones), so coverage_union would leave them apart: use the full union
    return shapely.union_all(np.asarray(geoms, dtype=object))


def build_zones(
    records,
    crs,
    min_area_m2: float,
    counties: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame | None = None,
    town_field: str = "name",
) -> gpd.GeoDataFrame:
    """Dissolve per level, split into connected parts and by county, drop fragments, attach names."""
    rows = []
    by_level: dict[int, list] = {}
    for lvl, g in records:
        by_level.setdefault(lvl, []).append(g)
    for lvl in sorted(by_level):
        u = _union(by_level[lvl])
        for part in shapely.get_parts(u):
            rows.append({"level": lvl, "geometry": part})
    cols = ["zone_id", "level", "class", "category", "county", "adcode", "area_km2", "geometry"]
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols[:-1]}, geometry=[], crs=crs)
    parts = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    parts["_part"] = np.arange(len(parts))
    cty = counties.to_crs(crs)[["adcode", "name", "geometry"]].rename(columns={"name": "county"})
    z = gpd.overlay(parts, cty, how="intersection", keep_geom_type=True)
    # slivers outside every county (gaps of a generalised county layer) join the nearest county
    covered = shapely.union_all(np.asarray(cty.geometry.values))
    rest = parts.copy()
    rest["geometry"] = rest.geometry.difference(covered)
    rest = rest[~rest.geometry.is_empty & (rest.geometry.area > 0)]
    if len(rest):
        near = gpd.sjoin_nearest(rest, cty, how="left")
        near = near[~near.index.duplicated()].drop(columns="index_right")
        z = pd.concat([z, near], ignore_index=True)
        z = z.dissolve(by=["_part", "level", "county", "adcode"], as_index=False)
    z = z.drop(columns="_part").explode(index_parts=False).reset_index(drop=True)
    z = z[z.geometry.geom_type == "Polygon"]
    z["area_km2"] = z.geometry.area / 1e6
    z = z[z.geometry.area >= min_area_m2].copy()
    z["class"] = z["level"].map(steps.LEVEL_NAMES)
    z["category"] = z["level"].map(CATEGORY)
    if towns is not None and len(towns):
        t = towns.to_crs(crs)
        pts = gpd.GeoDataFrame(geometry=z.geometry.representative_point(), crs=crs)
        j = gpd.sjoin(pts, t[[town_field, "geometry"]], how="left", predicate="within")
        j = j[~j.index.duplicated()]
        z["town"] = j[town_field].reindex(z.index).values
    order = {lvl: i for i, lvl in enumerate(LEVEL_ORDER)}
    z = (
        z.assign(_o=z["level"].map(order))
        .sort_values(["_o", "adcode", "area_km2"], ascending=[True, True, False])
        .drop(columns="_o")
    )
    z = z.reset_index(drop=True)
    z["zone_id"] = [f"{steps.LEVEL_NAMES[l][:2]}-{i + 1:04d}" for i, l in enumerate(z["level"])]
    keep = cols[:-1] + (["town"] if "town" in z.columns else []) + ["geometry"]
    return gpd.GeoDataFrame(z[keep], geometry="geometry", crs=crs)


def zone_table(zones: gpd.GeoDataFrame) -> pd.DataFrame:
    """Count and area per level and county, with per-level totals (the report's table)."""
    cols = ["class", "county", "count", "area_km2"]
    if len(zones) == 0:
        return pd.DataFrame(columns=cols)
    z = zones.assign(county=zones["county"].fillna("(outside counties)"))
    rows = []
    for lvl in LEVEL_ORDER:
        sub = z[z["level"] == lvl]
        if not len(sub):
            continue
        name = steps.LEVEL_NAMES[lvl]
        for cty, g in sub.groupby("county", sort=True):
            rows.append({"class": name, "county": cty, "count": len(g), "area_km2": round(g["area_km2"].sum(), 3)})
        rows.append({"class": name, "county": "合计", "count": len(sub), "area_km2": round(sub["area_km2"].sum(), 3)})
    return pd.DataFrame(rows, columns=cols)
