"""Places for the parity tests: the same ≥ 200 places go through the in-process query,
the point check, the polygon check (a 2 m square around the place), dask, PostGIS and the
map, which must all give the same county, zone classes and verdict.

Categories (each place is drawn from the shipped pack with a fixed seed):

- ``in:<class>``: inside a zone of every class (a point well inside a random feature);
- ``edge_in`` / ``edge_out``: 30 m inside / outside a zone's edge;
- ``county_line``: within the county layer's positional accuracy of a line between two
  counties (300 m from it);
- ``city_in_tol`` / ``city_beyond_tol``: outside the city's outline, 300 m (within the
  750 m accuracy) and 1,500 m from it;
- ``outside``: far outside 晋城市;
- ``random``: uniformly random in the city's bounding box.

Every place keeps at least 5 m from any zone edge or county line and 100 m from the
positional-accuracy threshold, so that the map's simplified display geometries (≈ 1 m
rounding, 10 m simplification) decide the same way as the full ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

AREA_CRS = "+proj=aea +lat_0=35.5 +lon_0=112.8 +lat_1=35.0 +lat_2=36.0 +ellps=GRS80 +units=m"


def _to_m():
    return Transformer.from_crs("EPSG:4490", AREA_CRS, always_xy=True)


def _to_ll():
    return Transformer.from_crs(AREA_CRS, "EPSG:4490", always_xy=True)


def _project(geoms, tr):
    return shapely.transform(np.asarray(geoms), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _points_on_boundary(geom_m, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points at random positions along a (multi)polygon's boundary, with the outward
    normal direction at each (unit vectors), in metres."""
    line = shapely.boundary(geom_m)
    length = line.length
    out = []
    for t in rng.uniform(0, length, n):
        p = line.interpolate(t)
        a, b = line.interpolate(max(t - 1.0, 0)), line.interpolate(min(t + 1.0, length))
        dx, dy = b.x - a.x, b.y - a.y
        norm = np.hypot(dx, dy) or 1.0
        nx, ny = dy / norm, -dx / norm  # right-hand normal
        probe = shapely.Point(p.x + 5 * nx, p.y + 5 * ny)
        if geom_m.contains(probe):  # make it point outwards
            nx, ny = -nx, -ny
        out.append((p.x, p.y, nx, ny))
    return np.array(out)


def parity_places(features: pd.DataFrame, counties: pd.DataFrame, *, seed: int = 20261130,
                  per_class: int = 12, per_edge: int = 40, n_county: int = 24, n_random: int = 40,
                  tolerance_m: float = 750.0) -> pd.DataFrame:
    """Places (lon, lat, category), CGCS2000, for the parity tests.

    ``features``: GeoDataFrame of the zones and planning extents with a ``zone_class``
    column (EPSG:4490); ``counties``: the county layer (EPSG:4490).
    """
    rng = np.random.default_rng(seed)
    to_m, to_ll = _to_m(), _to_ll()
    fm = _project(features.geometry.to_numpy(), to_m)
    cm = _project(counties.geometry.to_numpy(), to_m)
    all_edges = shapely.union_all(shapely.boundary(np.concatenate([fm, cm])))
    county_edges = shapely.union_all(shapely.boundary(cm))
    city = shapely.union_all(cm)
    rows: list[tuple[float, float, str]] = []

    def keep(x: float, y: float, min_edge: float = 5.0) -> bool:
        pt = shapely.Point(x, y)
        return (shapely.distance(pt, all_edges) >= min_edge
                and abs(shapely.distance(pt, county_edges) - tolerance_m) >= 100)

    def add(x: float, y: float, cat: str) -> None:
        lon, lat = to_ll.transform(x, y)
        rows.append((float(lon), float(lat), cat))

    # inside every class
    classes = features["zone_class"].astype(str).to_numpy()
    for cls in sorted(set(classes)):
        idx = np.flatnonzero(classes == cls)
        picked = 0
        for i in rng.choice(idx, size=per_class * 4, replace=True):
            if picked >= per_class:
                break
            g = fm[i]
            inner = g.buffer(-20)
            if inner.is_empty:
                continue
            minx, miny, maxx, maxy = inner.bounds
            for _ in range(50):
                x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
                if inner.contains(shapely.Point(x, y)) and keep(x, y):
                    add(x, y, f"in:{cls}")
                    picked += 1
                    break
    # ±30 m of zone edges
    for i in rng.choice(len(fm), size=min(per_edge, len(fm)), replace=False):
        for x, y, nx, ny in _points_on_boundary(fm[i], 1, rng):
            for sign, cat in ((-1, "edge_in"), (1, "edge_out")):
                px, py = x + sign * 30 * nx, y + sign * 30 * ny
                if keep(px, py):
                    add(px, py, cat)
    # county lines inside the city: 300 m from a line shared by two counties
    shared = shapely.union_all([shapely.intersection(shapely.boundary(a), shapely.boundary(b))
                                for k, a in enumerate(cm) for b in cm[k + 1:]])
    shared = shapely.line_merge(shapely.unary_union(shared)) if not shared.is_empty else shared
    for t in rng.uniform(0, shared.length, n_county * 3):
        if sum(1 for r in rows if r[2] == "county_line") >= n_county:
            break
        p = shared.interpolate(t)
        ang = rng.uniform(0, 2 * np.pi)
        x, y = p.x + 300 * np.cos(ang), p.y + 300 * np.sin(ang)
        d = shapely.distance(shapely.Point(x, y), shared)
        if 150 <= d <= 600 and city.contains(shapely.Point(x, y)) and keep(x, y):
            add(x, y, "county_line")
    # the city's outline: 300 m and 1,500 m outside
    outline = shapely.boundary(city)
    for x, y, nx, ny in _points_on_boundary(city, n_county, rng):
        for dist, cat in ((300.0, "city_in_tol"), (1500.0, "city_beyond_tol")):
            px, py = x + dist * nx, y + dist * ny
            pt = shapely.Point(px, py)
            d = shapely.distance(pt, outline)
            if city.contains(pt) or abs(d - tolerance_m) < 100 or not keep(px, py):
                continue
            add(px, py, cat)
    # far outside
    for lon, lat in ((111.5, 35.2), (114.0, 36.0), (112.8, 34.9), (113.9, 35.1)):
        rows.append((lon, lat, "outside"))
    # random in the bounding box
    minx, miny, maxx, maxy = city.bounds
    while sum(1 for r in rows if r[2] == "random") < n_random:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        pt = shapely.Point(x, y)
        if keep(x, y) and abs(shapely.distance(pt, outline) - tolerance_m) >= 100:
            add(x, y, "random")
    return pd.DataFrame(rows, columns=["lon", "lat", "category"])
