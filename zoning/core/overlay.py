"""Pure overlay operations: GeoDataFrames and arrays in, GeoDataFrames and arrays out.

Everything is vectorised over points (prepared polygons, ``contains_xy``, STRtree), so
the single-point query, the batch check and the map share one code path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from zoning.core import settings
from zoning.core.coords import transformer

if TYPE_CHECKING:
    import geopandas as gpd


def project_points(lon: np.ndarray, lat: np.ndarray, crs: str = settings.area_crs) -> np.ndarray:
    """CGCS2000 lon/lat arrays to shapely points in a projected CRS (metres)."""
    tr = transformer("EPSG:4490", crs)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return shapely.points(x, y)


def to_area_crs(geoms: np.ndarray, src: str = "EPSG:4490") -> np.ndarray:
    """Shapely geometries (CGCS2000 lon/lat) to the equal-area CRS of :mod:`zoning.core.settings`."""
    return transform_geoms(geoms, src, settings.area_crs)


def transform_geoms(geoms: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Shapely geometries from ``src`` to ``dst`` (one cached transformer per pair; None and
    empty geometries stay as they are)."""
    tr = transformer(src, dst)
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if ok.any():
        out[ok] = shapely.transform(geoms[ok], lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return out




def repair_geometries(geoms: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """Make invalid polygons valid (shapely ``make_valid``, polygonal parts kept).

    Returns the geometries and, per geometry, None or the note saying what was repaired
    (or that it could not be). The one repair of the package: site readers (tables, 界址点,
    DXF) and the pieces written back to lon/lat all use it."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    notes: list[str | None] = [None] * len(geoms)
    present = ~shapely.is_missing(geoms)
    candidates = np.full(len(geoms), None, dtype=object)
    candidates[present] = geoms[present]
    invalid = np.flatnonzero(present & ~shapely.is_valid(candidates))
    for i in invalid:
        reason = shapely.is_valid_reason(geoms[i])
        fixed = shapely.make_valid(geoms[i])
        kind = geoms[i].geom_type
        if "Polygon" in kind:
            parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
            fixed = shapely.union_all(parts) if parts else None
        if fixed is None or fixed.is_empty:
            out[i] = None
            notes[i] = f"invalid {kind} ({reason}) cannot be repaired"
        else:
            out[i] = fixed
            notes[i] = f"invalid {kind} ({reason}) repaired with make_valid"
    return out, notes


def repair_geometry(geom: Any) -> tuple[Any, str | None]:
    """:func:`repair_geometries` of one geometry: the geometry (None if nothing of it is left)
    and the note saying what was repaired."""
    fixed, notes = repair_geometries(np.array([geom], dtype=object))
    return fixed[0], notes[0]


#: How far from the city a batch looks for the nearest county of a point outside it.
NEAREST_REACH_M = 20_000.0


class CountyIndex:
    """Prepared county polygons for assigning many points at once.

    Containment is tested with ``shapely.contains_xy`` on prepared polygons, so no
    point geometry is created. Near-line detection uses two derived sets of polygons,
    each county shrunk and grown by the tolerance (computed once, in the equal-area CRS):
    a point outside its county's shrunk polygon is within tolerance of a line; a grown
    neighbour that contains it names the county across. Exact distances are computed
    only for those few points.
    """

    def __init__(self, counties: gpd.GeoDataFrame, tolerance_m: float = 0.0) -> None:
        c4490 = counties.to_crs("EPSG:4490")
        self.codes = c4490["adcode"].astype(str).to_numpy()
        self.names = c4490["name"].astype(str).to_numpy()
        self.geoms = np.array(shapely.make_valid(c4490.geometry.values))
        self.tolerance_m = float(tolerance_m)
        projected = counties.to_crs(settings.area_crs).geometry.values
        self.geoms_m = np.array(projected)
        self.boundaries_m = shapely.boundary(self.geoms_m)
        self.tree_m = STRtree(self.geoms_m)
        back = transformer(settings.area_crs, "EPSG:4490")
        if self.tolerance_m > 0:
            self.inner = self._to_lonlat(shapely.buffer(self.geoms_m, -self.tolerance_m), back)
            self.outer = self._to_lonlat(shapely.buffer(self.geoms_m, self.tolerance_m), back)
        else:
            self.inner = self.geoms
            self.outer = self.geoms
        for g in (*self.geoms, *self.inner, *self.outer):
            shapely.prepare(g)

    @staticmethod
    def _to_lonlat(geoms: np.ndarray, tr) -> np.ndarray:
        dense = shapely.segmentize(geoms, 200.0)
        return np.array(shapely.transform(dense, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))))

    def assign(self, lon: np.ndarray, lat: np.ndarray, *, exact: bool = False) -> pd.DataFrame:
        """:meth:`assign_arrays` as a DataFrame (object columns keep None)."""
        return pd.DataFrame({k: pd.Series(v, dtype=object) if v.dtype == object else v
                             for k, v in self.assign_arrays(lon, lat, exact=exact).items()})

    def assign_arrays(self, lon: np.ndarray, lat: np.ndarray, *, exact: bool = False) -> dict[str, np.ndarray]:
        """The county of every point, and whether a county line is within tolerance.

        Returns a DataFrame, one row per point in input order: ``adcode``, ``name``
        (None outside every county), ``boundary_distance_m`` (to the line of its county,
        computed where ``near_line``; NaN elsewhere, where it exceeds the tolerance),
        ``near_line``, ``near_adcode``/``near_name`` (the county across a line within
        tolerance), ``nearest_adcode``/``nearest_name``/``nearest_distance_m`` (outside).
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        n = len(lon)
        county = np.full(n, -1, dtype=np.int64)
        for i, g in enumerate(self.geoms):
            todo = county < 0
            if not todo.any():
                break
            idx = np.flatnonzero(todo)
            county[idx[shapely.intersects_xy(g, lon[idx], lat[idx])]] = i
        inside = county >= 0

        near = np.zeros(n, dtype=bool)
        near_idx = np.full(n, -1, dtype=np.int64)
        bdist = np.full(n, np.nan)
        if self.tolerance_m > 0 and inside.any():
            # outside its county shrunk by the tolerance = within tolerance of a line
            for i, g in enumerate(self.inner):
                idx = np.flatnonzero(county == i)
                if len(idx):
                    near[idx[~shapely.contains_xy(g, lon[idx], lat[idx])]] = True
            cand = np.flatnonzero(near)
            if len(cand):
                pts = project_points(lon[cand], lat[cand]) if exact else None
                best = np.full(len(cand), np.inf)
                for j, g in enumerate(self.outer):
                    other = (county[cand] != j) & (near_idx[cand] < 0 if not exact else True)
                    other &= shapely.contains_xy(g, lon[cand], lat[cand])
                    if not other.any():
                        continue
                    if pts is not None:  # exact: the nearest neighbour where several are within tolerance
                        d = np.full(len(cand), np.inf)
                        d[other] = shapely.distance(pts[other], self.geoms_m[j])
                        other = d < best
                        best[other] = d[other]
                    near_idx[cand[other]] = j
                if pts is not None:  # exact
                    bdist[cand] = shapely.distance(pts, self.boundaries_m[county[cand]])

        nearest_idx = np.full(n, -1, dtype=np.int64)
        nearest_dist = np.full(n, np.nan)
        if (~inside).any():
            out = np.flatnonzero(~inside)
            pts = project_points(lon[out], lat[out])
            # a batch needs the nearest county only within reach of a message (NEAREST_REACH_M);
            # a single query (exact) names it at any distance
            reach = None if exact else max(NEAREST_REACH_M, 2 * self.tolerance_m)
            (qi, ti), dists = self.tree_m.query_nearest(pts, max_distance=reach, return_distance=True,
                                                        all_matches=False)
            nearest_idx[out[qi]] = ti
            nearest_dist[out[qi]] = dists

        def pick(arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
            # object dtype keeps None for "no county" (pandas 3 would infer str and use NaN)
            res = np.full(len(idx), None, dtype=object)
            ok = idx >= 0
            res[ok] = arr[idx[ok]]
            return res

        return {
            "county_index": county,
            "adcode": pick(self.codes, county),
            "name": pick(self.names, county),
            "boundary_distance_m": bdist,
            "near_line": near,
            "near_adcode": pick(self.codes, near_idx),
            "near_name": pick(self.names, near_idx),
            "nearest_index": nearest_idx,
            "nearest_adcode": pick(self.codes, nearest_idx),
            "nearest_name": pick(self.names, nearest_idx),
            "nearest_distance_m": nearest_dist,
        }


def assign_counties(
    counties: gpd.GeoDataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    tolerance_m: float = 0.0,
) -> pd.DataFrame:
    """The county of every CGCS2000 point (see :meth:`CountyIndex.assign`).

    For repeated calls, build a :class:`CountyIndex` once and call ``assign``.
    """
    return CountyIndex(counties, tolerance_m).assign(lon, lat, exact=True)


class ZoneIndex:
    """Prepared zone polygons (CGCS2000) for point-in-polygon tests on many points.

    Points are swept in order of longitude: each zone tests only the points inside its
    bounding box (found with ``searchsorted``) with ``shapely.intersects_xy`` on the
    prepared polygon, so no point geometry is created and the cost follows the number of
    candidate points, not points × zones.
    """

    def __init__(self, zones: gpd.GeoDataFrame) -> None:
        self.geoms = np.array(zones.to_crs("EPSG:4490").geometry.values)
        self.bounds = shapely.bounds(self.geoms)
        for g in self.geoms:
            if g is not None:
                shapely.prepare(g)

    def hits(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (point index, zone row index), sorted by point then zone.

        A point on a zone's edge counts as in it.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        if len(lon) * len(self.bounds) <= SMALL_BATCH_PAIRS:
            return self._hits_few(lon, lat)
        order = np.argsort(lon, kind="stable")
        xs = lon[order]
        pis, zis = [], []
        for z, (minx, miny, maxx, maxy) in enumerate(self.bounds):
            if np.isnan(minx):
                continue
            i0 = np.searchsorted(xs, minx, side="left")
            i1 = np.searchsorted(xs, maxx, side="right")
            if i1 <= i0:
                continue
            cand = order[i0:i1]
            y = lat[cand]
            cand = cand[(y >= miny) & (y <= maxy)]
            if len(cand) == 0:
                continue
            inside = cand[shapely.intersects_xy(self.geoms[z], lon[cand], lat[cand])]
            if len(inside):
                pis.append(inside)
                zis.append(np.full(len(inside), z, dtype=np.int64))
        if not pis:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        pi = np.concatenate(pis)
        zi = np.concatenate(zis)
        o = np.lexsort((zi, pi))
        return pi[o], zi[o]


    def _hits_few(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The same pairs for a few points (one query): bounding boxes compared all at once,
        then one vectorised containment test on the candidate pairs."""
        b = self.bounds
        with np.errstate(invalid="ignore"):
            mask = ((lon[:, None] >= b[None, :, 0]) & (lon[:, None] <= b[None, :, 2])
                    & (lat[:, None] >= b[None, :, 1]) & (lat[:, None] <= b[None, :, 3]))
        pi, zi = np.nonzero(mask)
        if len(pi):
            inside = shapely.intersects_xy(self.geoms[zi], lon[pi], lat[pi])
            pi, zi = pi[inside], zi[inside]
        return pi.astype(np.int64), zi.astype(np.int64)


#: Below this many (point, zone) pairs, :meth:`ZoneIndex.hits` compares bounding boxes all
#: at once instead of sweeping (a single query, a small batch).
SMALL_BATCH_PAIRS = 2_000_000
