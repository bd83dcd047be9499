"""One table of hits: which county, zone and planning extent every site touches, and how.

:func:`site_hits` takes sites (points or polygons, CGCS2000 shapely geometries) and
returns a :class:`Hits`:

``sites``
    one row per site, in input order: ``present``, ``geom_type``, ``lon``/``lat`` (the
    point, or a point on the polygon's surface), ``area_m2`` (polygons), and where the
    site lies with respect to the county layer — :data:`SITE_COLUMNS`.
``table``
    one row per (site, feature): ``site`` (position), ``kind``, ``layer``, ``feature``
    (row of :attr:`PackContext.features`, or of the county layer for ``kind ==
    "counties"``), ``zone_class`` (the adcode for counties), ``zone_id``, ``overlap_m2``
    (NaN for a point, which is contained) and ``share`` (of the site; 1 for a point).

One definition of the city and of its lines, for every site and every engine:

- a site **in the city** touches a county polygon; a point's county is the one containing
  it, a polygon's the one holding the largest share of it;
- a site is **near a line** when its point lies within the county layer's stated positional
  accuracy (``positional_accuracy_m``, 750 m for the shipped layer) of a county line, or
  when a polygon crosses a line; ``near_adcode`` names the county across (None: the line
  is the city's, and the site may lie outside 晋城市);
- a site **outside** every county polygon but within that accuracy of one is **located**
  in the nearest county, near the line (it may lie outside 晋城市); beyond it the site is
  outside 晋城市 and no rule of the pack applies.

A point and a tiny polygon around it therefore get the same county, the same zones and the
same answer. The PostGIS engine computes the same two tables in SQL
(:mod:`zoning.engines`); everything after the hits — governing classes, rules, verdicts,
text — is :mod:`zoning.core.answer`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from zoning.core import vocab

if TYPE_CHECKING:
    from zoning.core.context import PackContext

__all__ = ["HIT_COLUMNS", "SITE_COLUMNS", "Hits", "object_frame", "point_hits", "site_hits"]

#: Columns of :attr:`Hits.sites`.
SITE_COLUMNS: tuple[str, ...] = (
    "present", "geom_type", "lon", "lat", "area_m2",
    "adcode", "county", "in_city", "located", "near_line", "near_adcode", "near_county",
    "boundary_distance_m", "nearest_adcode", "nearest_county", "nearest_distance_m", "outside_m2",
)
#: Columns of :attr:`Hits.table`.
HIT_COLUMNS: tuple[str, ...] = ("site", "kind", "layer", "feature", "zone_class", "zone_id", "overlap_m2", "share")

_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}


@dataclass
class Hits:
    """The hits of a batch of sites: a row per site and a row per (site, feature)."""

    sites: pd.DataFrame
    table: pd.DataFrame

    def __len__(self) -> int:
        return len(self.sites)


def _obj(values: np.ndarray | list) -> np.ndarray:
    return np.asarray(values, dtype=object)


def object_frame(columns: dict[str, Any]) -> pd.DataFrame:
    """A DataFrame of equal-length columns that keeps object arrays as objects (pandas 3
    would convert strings to arrow strings, slowly, and turn None into NaN). Every column
    shares one index, so pandas does not align them: a table of one site costs a third less."""
    n = len(next(iter(columns.values()))) if columns else 0
    index = pd.RangeIndex(n)
    return pd.DataFrame({k: pd.Series(v, index=index, dtype=object, copy=False)
                         if isinstance(v, np.ndarray) and v.dtype == object else
                         (pd.Series(v, index=index, copy=False) if isinstance(v, np.ndarray) else v)
                         for k, v in columns.items()}, index=index, copy=False)


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({"site": np.empty(0, np.int64), "kind": _obj([]), "layer": _obj([]),
                         "feature": np.empty(0, np.int64), "zone_class": _obj([]), "zone_id": _obj([]),
                         "overlap_m2": np.empty(0), "share": np.empty(0)})


def _feature_rows(ctx: PackContext, site: np.ndarray, feature: np.ndarray, overlap: np.ndarray,
                  share: np.ndarray) -> dict[str, np.ndarray]:
    f = ctx.feature_arrays
    return {
        "site": site.astype(np.int64),
        "kind": f["kind"][feature],
        "layer": f["layer"][feature],
        "feature": feature.astype(np.int64),
        "zone_class": f["zone_class"][feature],
        "zone_id": f["zone_id"][feature],
        "overlap_m2": np.asarray(overlap, dtype=float),
        "share": np.asarray(share, dtype=float),
    }


def _county_rows(ctx: PackContext, site: np.ndarray, county: np.ndarray, overlap: np.ndarray,
                 share: np.ndarray) -> dict[str, np.ndarray]:
    codes = ctx.counties["adcode"].to_numpy(dtype=object)
    return {
        "site": site.astype(np.int64),
        "kind": np.full(len(site), vocab.COUNTIES, dtype=object),
        "layer": np.full(len(site), ctx.county_spec.name, dtype=object),
        "feature": county.astype(np.int64),
        "zone_class": codes[county],
        "zone_id": codes[county],
        "overlap_m2": np.asarray(overlap, dtype=float),
        "share": np.asarray(share, dtype=float),
    }


def _table(parts: list[dict[str, np.ndarray]], *, presorted: bool = False) -> pd.DataFrame:
    """The hits table from parts, sorted by site, then the features by number, then the
    county. ``presorted``: each part is already sorted by site then feature and the county
    rows come last, so a stable sort by site alone gives that order."""
    if not parts:
        return _empty_table()
    cols = {c: np.concatenate([p[c] for p in parts]) for c in HIT_COLUMNS}
    if presorted:
        order = np.argsort(cols["site"], kind="stable")
    else:
        order = np.lexsort((cols["feature"], cols["kind"] == vocab.COUNTIES, cols["site"]))
    return object_frame({c: v[order] for c, v in cols.items()})


def _locate(ctx: PackContext, lon: np.ndarray, lat: np.ndarray, *, exact: bool) -> dict[str, np.ndarray]:
    """County columns for points: containment, near-line, and location within tolerance."""
    a = ctx.county_index.assign_arrays(lon, lat, exact=exact)
    tol = ctx.county_tolerance_m
    in_city = a["county_index"] >= 0
    near = a["near_line"] & in_city
    nd = a["nearest_distance_m"]
    with np.errstate(invalid="ignore"):
        within = ~in_city & (nd <= tol)
    adcode = a["adcode"].copy()
    name = a["name"].copy()
    adcode[within] = a["nearest_adcode"][within]
    name[within] = a["nearest_name"][within]
    bdist = a["boundary_distance_m"].copy()
    bdist[within] = nd[within]
    return {
        "adcode": adcode, "county": name, "in_city": in_city, "located": in_city | within,
        "near_line": near | within,
        "near_adcode": a["near_adcode"], "near_county": a["near_name"],
        "boundary_distance_m": bdist,
        "nearest_adcode": a["nearest_adcode"], "nearest_county": a["nearest_name"],
        "nearest_distance_m": nd,
        "county_index": a["county_index"],
    }


def point_hits(ctx: PackContext, lon: np.ndarray, lat: np.ndarray, *, exact: bool = False) -> Hits:
    """The hits of CGCS2000 points (vectorised; ``exact`` computes distances to county lines)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    n = len(lon)
    present = np.isfinite(lon) & np.isfinite(lat)
    loc = _locate(ctx, np.where(present, lon, 0.0), np.where(present, lat, 0.0), exact=exact)
    county_index = loc.pop("county_index")
    if not present.all():
        absent = ~present
        for v in loc.values():
            if v.dtype == bool:
                v[absent] = False
            elif v.dtype == object:
                v[absent] = None
            else:
                v[absent] = np.nan
        county_index = np.where(present, county_index, -1)
    geom_type = np.full(n, None, dtype=object)
    geom_type[present] = "Point"
    cols = {"present": present, "geom_type": geom_type, "lon": lon, "lat": lat, "area_m2": np.full(n, np.nan),
            **loc, "outside_m2": np.full(n, np.nan)}
    sites = object_frame({c: cols[c] for c in SITE_COLUMNS})
    idx = np.flatnonzero(present)
    pi, fi = ctx.feature_index.hits(lon[idx], lat[idx]) if len(idx) else (np.empty(0, np.int64),) * 2
    pi = idx[pi]
    parts = [_feature_rows(ctx, pi, fi, np.full(len(pi), np.nan), np.ones(len(pi)))]
    s = np.flatnonzero(loc["in_city"])
    if len(s):
        parts.append(_county_rows(ctx, s, county_index[s], np.full(len(s), np.nan), np.ones(len(s))))
    return Hits(sites=sites, table=_table(parts, presorted=True))


# (site index, target index, overlap m² (NaN for a line), share of the site's area)
_Overlaps = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _area_hits(ctx: PackContext, geoms: np.ndarray) -> tuple[_Overlaps, _Overlaps, np.ndarray]:
    """Overlaps of non-point sites with the features and with the counties (equal-area CRS);
    the area of each site (NaN unless polygonal)."""
    from zoning.core.overlay import to_area_crs

    gm = to_area_crs(geoms)
    area = shapely.area(gm)
    polygonal = np.isin(shapely.get_type_id(gm), (3, 6))

    def overlaps(tree, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        si, ti = tree.query(gm, predicate="intersects")
        # a site wholly inside a zone or county overlaps it by its own area: only the sites
        # that cross an outline need the (costly) intersection with it
        whole = shapely.contains_properly(targets[ti], gm[si])
        ov = np.where(whole, area[si], 0.0)
        part = ~whole
        ov[part] = shapely.area(shapely.intersection(gm[si[part]], targets[ti[part]]))
        keep = (ov > 0) | ~polygonal[si]
        return si[keep], ti[keep], ov[keep]

    si, fi, ov = overlaps(ctx.features_tree_m, ctx.features_m)
    share = np.where(polygonal[si] & (area[si] > 0), ov / np.where(area[si] > 0, area[si], 1.0), 1.0)
    feats = (si, fi, np.where(polygonal[si], ov, np.nan), share)
    ci, cc, cov = overlaps(ctx.counties_tree_m, ctx.counties_m)
    cshare = np.where(polygonal[ci] & (area[ci] > 0), cov / np.where(area[ci] > 0, area[ci], 1.0), 1.0)
    cnty = (ci, cc, np.where(polygonal[ci], cov, np.nan), cshare)
    return feats, cnty, np.where(polygonal, area, np.nan)


def site_hits(ctx: PackContext, geoms: np.ndarray, *, exact: bool = False) -> Hits:
    """The hits of sites given as CGCS2000 shapely geometries (None or empty: not present)."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    present = ~shapely.is_missing(geoms)
    present[present] = ~shapely.is_empty(geoms[present])
    type_id = np.full(n, -1)
    type_id[present] = shapely.get_type_id(geoms[present])
    is_point = type_id == 0
    if is_point.all():
        return point_hits(ctx, shapely.get_x(geoms), shapely.get_y(geoms), exact=exact)
    rep = geoms.copy()
    is_area = present & ~is_point
    if is_area.any():
        rep[is_area] = shapely.point_on_surface(geoms[is_area])
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    lon[present] = shapely.get_x(rep[present])
    lat[present] = shapely.get_y(rep[present])
    base = point_hits(ctx, lon, lat, exact=exact)
    sites = base.sites.copy()
    sites["geom_type"] = _obj([_TYPE_NAMES.get(int(t)) if t >= 0 else None for t in type_id])
    keep = ~np.isin(base.table["site"].to_numpy(), np.flatnonzero(is_area))
    frames = [{c: base.table[c].to_numpy()[keep] for c in HIT_COLUMNS}]
    aidx = np.flatnonzero(is_area)
    if len(aidx):
        (si, fi, ov, sh), (ci, cc, cov, csh), area = _area_hits(ctx, geoms[aidx])
        frames.append(_feature_rows(ctx, aidx[si], fi, ov, sh))
        frames.append(_county_rows(ctx, aidx[ci], cc, cov, csh))
        sites.loc[aidx, "area_m2"] = area
        _area_counties(ctx, sites, aidx, aidx[ci], cc, cov)
    return Hits(sites=sites[list(SITE_COLUMNS)], table=_table(frames))


def _area_counties(ctx: PackContext, sites: pd.DataFrame, aidx: np.ndarray, site: np.ndarray,
                   county: np.ndarray, overlap: np.ndarray) -> None:
    """County columns of non-point sites from their county overlaps: the largest share
    names the county; a site across a line is near it, with the other county named."""
    codes = ctx.counties["adcode"].to_numpy(dtype=object)
    names = ctx.counties["name"].astype(str).to_numpy(dtype=object)
    touched = np.zeros(len(sites), dtype=bool)
    touched[site] = True
    if len(site):
        frame = pd.DataFrame({"site": site, "county": county, "ov": np.nan_to_num(overlap, nan=0.0)})
        # the largest share names the county; equal shares (a line across a line: 0 m² each)
        # fall to the county layer's row order, in every engine
        frame = frame.sort_values(["site", "ov", "county"], ascending=[True, False, True], kind="stable")
        first = frame.drop_duplicates("site")
        second = frame[frame.duplicated("site")].drop_duplicates("site")
        s = first["site"].to_numpy()
        sites.loc[s, "adcode"] = codes[first["county"].to_numpy()]
        sites.loc[s, "county"] = names[first["county"].to_numpy()]
        sites.loc[s, ["in_city", "located"]] = True
        if len(second):
            s2 = second["site"].to_numpy()
            sites.loc[s2, "near_line"] = True
            sites.loc[s2, "near_adcode"] = codes[second["county"].to_numpy()]
            sites.loc[s2, "near_county"] = names[second["county"].to_numpy()]
            sites.loc[s2, "boundary_distance_m"] = 0.0
        inside = frame.groupby("site")["ov"].sum()
        area = sites.loc[inside.index, "area_m2"].to_numpy(dtype=float)
        sites.loc[inside.index, "outside_m2"] = np.where(np.isfinite(area), np.maximum(area - inside.to_numpy(), 0.0),
                                                         np.nan)
    # a non-point site touching no county: located by its point (within tolerance or not)
    untouched = aidx[~touched[aidx]]
    sites.loc[untouched, "in_city"] = False
    sites.loc[untouched, "outside_m2"] = sites.loc[untouched, "area_m2"]
