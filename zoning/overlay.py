"""Pure overlay operations: GeoDataFrames and arrays in, GeoDataFrames and arrays out.

Everything is vectorised over points with a shapely 2 STRtree, so the single-point
query, the batch check and the map share one code path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from zoning import settings

if TYPE_CHECKING:
    import geopandas as gpd


def project_points(lon: np.ndarray, lat: np.ndarray, crs: str = settings.area_crs) -> np.ndarray:
    """CGCS2000 lon/lat arrays to shapely points in a projected CRS (metres)."""
    tr = _transformer("EPSG:4490", crs)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return shapely.points(x, y)


_TRANSFORMERS: dict[tuple[str, str], object] = {}


def _transformer(src: str, dst: str):
    from pyproj import Transformer

    key = (src, dst)
    if key not in _TRANSFORMERS:
        _TRANSFORMERS[key] = Transformer.from_crs(src, dst, always_xy=True)
    return _TRANSFORMERS[key]


def assign_counties(
    counties: gpd.GeoDataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    tolerance_m: float = 0.0,
) -> pd.DataFrame:
    """The county of every point, and whether a county line is within ``tolerance_m``.

    Parameters
    ----------
    counties
        County layer with ``adcode`` and ``name`` (any CRS).
    lon, lat
        CGCS2000 coordinates.
    tolerance_m
        Positional accuracy of the county layer: a point closer than this to a county
        line cannot be assigned with certainty, and the neighbour across it is named.

    Returns
    -------
    DataFrame, one row per point, in input order, with columns ``adcode``, ``name``
    (None outside every county), ``boundary_distance_m`` (to the line of its county),
    ``near_adcode``/``near_name`` (the other county within tolerance, if any),
    ``nearest_adcode``/``nearest_name``/``nearest_distance_m`` (for points outside).
    """
    cm = counties.to_crs(settings.area_crs)
    geoms = cm.geometry.values
    codes = cm["adcode"].astype(str).to_numpy()
    names = cm["name"].astype(str).to_numpy()
    pts = project_points(lon, lat)
    n = len(pts)
    tree = STRtree(geoms)

    county_idx = np.full(n, -1, dtype=np.int64)
    pi, ci = tree.query(pts, predicate="intersects")
    # a point exactly on a shared line intersects two counties: keep the first
    first = np.unique(pi, return_index=True)[1]
    county_idx[pi[first]] = ci[first]
    inside = county_idx >= 0

    bdist = np.full(n, np.nan)
    if inside.any():
        boundaries = shapely.boundary(geoms)
        bdist[inside] = shapely.distance(pts[inside], boundaries[county_idx[inside]])

    near_idx = np.full(n, -1, dtype=np.int64)
    if tolerance_m > 0:
        pi, ci = tree.query(pts, predicate="dwithin", distance=tolerance_m)
        other = ci != county_idx[pi]
        pi, ci = pi[other], ci[other]
        if len(pi):
            d = shapely.distance(pts[pi], geoms[ci])
            order = np.lexsort((d, pi))
            pi, ci = pi[order], ci[order]
            first = np.unique(pi, return_index=True)[1]
            near_idx[pi[first]] = ci[first]

    nearest_idx = np.full(n, -1, dtype=np.int64)
    nearest_dist = np.full(n, np.nan)
    if (~inside).any():
        out = np.flatnonzero(~inside)
        (qi, ti), dists = tree.query_nearest(pts[out], return_distance=True, all_matches=False)
        nearest_idx[out[qi]] = ti
        nearest_dist[out[qi]] = dists

    def pick(arr: np.ndarray, idx: np.ndarray) -> pd.Series:
        # object dtype keeps None for "no county" (pandas 3 would infer str and use NaN)
        res = np.full(len(idx), None, dtype=object)
        ok = idx >= 0
        res[ok] = arr[idx[ok]]
        return pd.Series(res, dtype=object)

    return pd.DataFrame(
        {
            "adcode": pick(codes, county_idx),
            "name": pick(names, county_idx),
            "boundary_distance_m": bdist,
            "near_adcode": pick(codes, near_idx),
            "near_name": pick(names, near_idx),
            "nearest_adcode": pick(codes, nearest_idx),
            "nearest_name": pick(names, nearest_idx),
            "nearest_distance_m": nearest_dist,
        }
    )


def point_hits(zones: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (point index, zone row index) for every zone that contains a point.

    Vectorised: one STRtree query with the ``intersects`` predicate (a point on a zone's
    edge counts as in it). Works in the zones' CRS, which must be CGCS2000 lon/lat.
    """
    pts = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    tree = STRtree(zones.geometry.values)
    pi, zi = tree.query(pts, predicate="intersects")
    order = np.lexsort((zi, pi))
    return pi[order], zi[order]


def polygon_overlaps(zones: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Overlap of every site with every zone it touches, in m² (equal-area CRS).

    Returns a frame with ``site`` (row position in ``sites``), ``zone`` (row position in
    ``zones``), ``overlap_m2`` and ``site_area_m2``; points and lines get overlap 0 and
    are reported by containment.
    """
    zm = zones.to_crs(settings.area_crs).geometry.values
    sm = sites.to_crs(settings.area_crs).geometry.values
    tree = STRtree(zm)
    si, zi = tree.query(sm, predicate="intersects")
    inter = shapely.intersection(sm[si], zm[zi])
    return pd.DataFrame(
        {
            "site": si,
            "zone": zi,
            "overlap_m2": shapely.area(inter),
            "site_area_m2": shapely.area(sm[si]),
        }
    )
