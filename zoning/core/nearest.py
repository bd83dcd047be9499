"""Distance and direction from a site to the nearest zone of each class it lies outside.

:func:`nearest_zones` takes sites (CGCS2000 shapely geometries, points or polygons) and
returns one row per (site, class) for every zone class of the pack (groundwater
protection and control classes, planning extents) that the site does not lie in:
the nearest feature of that class, the distance in metres between the site and it
(0 for a site that only touches it) and the direction from the site to it as one of
the eight compass points of :data:`zoning.core.vocab.COMPASS_POINTS`.

Distances are measured in the equal-area CRS of :mod:`zoning.core.settings` (an Albers
projection centred on the city, within 0.1 % of the true distance everywhere in it),
between the closest points of the site and the zone. The direction is the bearing of
that shortest line on the projection's grid; grid north differs from true north by
less than 0.6° in the city, far below the 45° of a compass point.

A site "within" a distance of a zone (``--near METRES``) is one whose row has
``distance_m <= METRES``; :func:`format_nearest` writes the rows as a planner reads
them: ``一级管控区 1.2 km 东北``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from zoning.core import vocab

if TYPE_CHECKING:
    from zoning.core.context import PackContext
    from zoning.core.hits import Hits

__all__ = ["NEAREST_COLUMNS", "format_distance", "format_nearest", "format_nearest_lines", "near_columns", "nearest_columns",
           "nearest_dicts", "nearest_records", "nearest_zones"]

#: Columns of :func:`nearest_zones`.
NEAREST_COLUMNS: tuple[str, ...] = ("site", "kind", "zone_class", "feature", "layer", "zone_id", "zone_name",
                                    "accuracy", "distance_m", "bearing_deg", "direction")


def _class_trees(ctx: PackContext) -> dict[tuple[str, str], tuple[np.ndarray, Any]]:
    """Per (kind, class): the feature rows of that class and an STRtree of their
    equal-area geometries (built once per context)."""
    cached = ctx._cache.get("nearest_trees")
    if cached is not None:
        return cached
    kinds = ctx.feature_arrays["kind"]
    classes = ctx.feature_arrays["zone_class"]
    out = {}
    for zc in vocab.ZONE_CLASS_LIST:
        rows = np.flatnonzero((kinds == zc.kind) & (classes == zc.name))
        if len(rows):
            out[(zc.kind, zc.name)] = (rows, shapely.STRtree(ctx.features_m[rows]))
    ctx._cache["nearest_trees"] = out
    return out


def nearest_columns(
    ctx: PackContext,
    geoms: np.ndarray,
    *,
    hits: Hits | None = None,
    max_distance_m: float | None = None,
) -> dict[str, np.ndarray]:
    """:func:`nearest_zones` as plain column arrays (:data:`NEAREST_COLUMNS`, sorted by site
    then distance): no frame is built, which for one point or a few costs more than the search."""
    from zoning.core.overlay import to_area_crs

    geoms = np.asarray(geoms, dtype=object)
    present = ~shapely.is_missing(geoms)
    present[present] = ~shapely.is_empty(geoms[present])
    idx = np.flatnonzero(present)
    parts: list[dict[str, np.ndarray]] = []
    if len(idx):
        gm = to_area_crs(geoms[idx])
        inside: set[tuple[int, str, str]] = set()
        if hits is not None and len(hits.table):
            t = hits.table
            inside = set(zip(t["site"].to_numpy().tolist(), t["kind"].to_numpy().tolist(),
                             t["zone_class"].to_numpy().tolist()))
        for (kind, cls), (rows, tree) in _class_trees(ctx).items():
            kw = {"max_distance": max_distance_m} if max_distance_m is not None else {}
            si, ti = tree.query_nearest(gm, return_distance=False, all_matches=False, **kw)
            if len(si):
                part = _class_part(ctx, gm, idx, kind, cls, si, rows[ti], inside if hits is not None else None)
                if part is not None:
                    parts.append(part)
    if not parts:
        return {c: np.empty(0, dtype=np.int64 if c in ("site", "feature") else
                            (float if c in ("distance_m", "bearing_deg") else object)) for c in NEAREST_COLUMNS}
    cols = {c: np.concatenate([p[c] for p in parts]) for c in NEAREST_COLUMNS}
    order = np.lexsort((cols["distance_m"], cols["site"]))  # by site, then distance (stable)
    return {c: v[order] for c, v in cols.items()}


def _class_part(ctx: PackContext, gm: np.ndarray, idx: np.ndarray, kind: str, cls: str, si: np.ndarray,
                feat: np.ndarray, inside: set[tuple[int, str, str]] | None) -> dict[str, np.ndarray] | None:
    """The columns of one class: its nearest feature to each site that does not lie in it."""
    site = idx[si]
    dist = shapely.distance(gm[si], ctx.features_m[feat])
    if inside is not None:
        keep = np.array([(int(s), kind, cls) not in inside for s in site], dtype=bool)
    else:
        keep = dist > 0  # without hits, a class at distance 0 is one the site lies in
    if not keep.any():
        return None
    si, feat, site, dist = si[keep], feat[keep], site[keep], dist[keep]
    line = shapely.shortest_line(gm[si], ctx.features_m[feat])
    c = shapely.get_coordinates(line).reshape(-1, 2, 2)
    dx, dy = c[:, 1, 0] - c[:, 0, 0], c[:, 1, 1] - c[:, 0, 1]
    bearing = np.where(dist > 0, np.degrees(np.arctan2(dx, dy)) % 360.0, np.nan)
    n = len(site)
    f = ctx.feature_arrays
    return {
        "site": site.astype(np.int64), "kind": np.full(n, kind, dtype=object),
        "zone_class": np.full(n, cls, dtype=object), "feature": feat.astype(np.int64),
        **{name: f[name][feat] for name in ("layer", "zone_id", "zone_name", "accuracy")},
        "distance_m": dist.astype(float), "bearing_deg": bearing.astype(float),
        "direction": np.array([vocab.compass_point(b) if b == b else None for b in bearing.tolist()], dtype=object),
    }


def nearest_zones(
    ctx: PackContext,
    geoms: np.ndarray,
    *,
    hits: Hits | None = None,
    max_distance_m: float | None = None,
) -> pd.DataFrame:
    """The nearest zone of every class each site lies outside (:data:`NEAREST_COLUMNS`).

    Parameters
    ----------
    ctx
        The pack context.
    geoms
        Sites as CGCS2000 shapely geometries (None or empty: no rows for that site).
    hits
        The sites' hits (:func:`zoning.core.hits.site_hits`), if at hand: a class the
        site lies in (has a hit of) gets no row. Without them, a class at distance 0 is
        taken as one the site lies in.
    max_distance_m
        Look no further than this (faster for ``--near``); classes beyond get no row.

    Returns
    -------
    DataFrame, sorted by site then distance.
    """
    cols = nearest_columns(ctx, geoms, hits=hits, max_distance_m=max_distance_m)
    return pd.DataFrame({c: pd.Series(v, dtype=v.dtype) for c, v in cols.items()})


def nearest_records(cols: dict[str, np.ndarray]) -> dict[int, list[tuple[Any, ...]]]:
    """The rows of :func:`nearest_columns` by site, each a tuple in :data:`NEAREST_COLUMNS` order."""
    out: dict[int, list[tuple[Any, ...]]] = {}
    for rec in zip(*(cols[c].tolist() for c in NEAREST_COLUMNS), strict=True):
        out.setdefault(rec[0], []).append(rec)
    return out


def format_distance(metres: float) -> str:
    """``350 m`` below a kilometre, ``1.2 km`` from one on."""
    return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"


def format_nearest(rows: pd.DataFrame, lang: str = "zh") -> str:
    """The rows of one site as a planner reads them: ``一级管控区 1.2 km 东北；中心城区 350 m 南``."""
    sep = "；" if lang == "zh" else "; "
    return sep.join(_nearest_part(c, d, w, lang) for c, d, w in zip(rows["zone_class"], rows["distance_m"],
                                                                    rows["direction"]))


def _nearest_part(cls: str, distance_m: float, direction: str | None, lang: str) -> str:
    """One class of :func:`format_nearest`: ``一级管控区 1.2 km 东北``."""
    where = vocab.compass_label(direction, lang) if direction else ("相邻" if lang == "zh" else "adjacent")
    return f"{vocab.class_label(cls, lang)} {format_distance(float(distance_m))} {where}"


def nearest_dicts(rows: list[tuple[Any, ...]] | None, near_m: float | None, lang: str) -> list[dict[str, Any]]:
    """One site's rows of :func:`nearest_records` as the ``nearest`` field of a query answer."""
    if rows is None:
        return []
    out = []
    for _site, kind, zone_class, _feature, layer, zone_id, zone_name, accuracy, dist, bearing, direction in rows:
        out.append({
            "kind": kind, "zone_class": zone_class, "layer": layer, "zone_id": zone_id,
            "zone_name": zone_name, "accuracy": accuracy, "distance_m": round(float(dist), 1),
            "bearing_deg": None if bearing != bearing else round(float(bearing), 1),
            "direction": direction,
            "direction_label": vocab.compass_label(direction, lang) if direction else None,
            "within_near": None if near_m is None else bool(dist <= near_m),
        })
    return out


def near_columns(ctx: PackContext, geoms: np.ndarray, hits: Hits, near_m: float, cols: dict[str, np.ndarray]) -> None:
    """Fill a batch check's distance columns for the located sites: ``nearest_zones`` (every
    class the site lies outside, nearest first: ``一级管控区 1.2 km 东北；...``),
    ``nearest_zone_m`` (the nearest of them) and ``near_zone`` (one lies within ``near_m``)."""
    located = hits.sites["located"].to_numpy(dtype=bool)
    placed = np.asarray(geoms, dtype=object).copy()
    placed[~located] = None
    rows = nearest_columns(ctx, placed, hits=hits)  # sorted by site, then distance
    cols["near_zone"][located] = False
    site, dist = rows["site"], rows["distance_m"]
    if not len(site):
        return
    text = [_nearest_part(c, d, w, "zh") for c, d, w in zip(rows["zone_class"].tolist(), dist.tolist(),
                                                            rows["direction"].tolist())]
    first = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])  # each site's nearest row
    ends = [*first[1:].tolist(), len(site)]
    for a, b in zip(first.tolist(), ends, strict=True):
        cols["nearest_zones"][site[a]] = "；".join(text[a:b])
    cols["nearest_zone_m"][site[first]] = np.round(dist[first], 1)
    cols["near_zone"][site[first]] = dist[first] <= near_m


def format_nearest_lines(nearest: list[dict], near_m: float | None, lang: str = "zh") -> str:
    """The ``nearest`` field of a query answer as text lines (and, with ``near_m``, the
    zones within it)."""
    zh = lang == "zh"

    def one(r: dict) -> str:
        where = r.get("direction_label") or ("相邻" if zh else "adjacent")
        acc = r.get("accuracy")
        tag = f" [{vocab.label(vocab.ACCURACY_LABELS[acc], lang)}]" if acc in vocab.ACCURACY_LABELS and acc != vocab.OFFICIAL else ""
        return (f"{vocab.class_label(r['zone_class'], lang)} {r.get('zone_name') or ''} [{r['zone_id']}] "
                f"{format_distance(float(r['distance_m']))} {where}{tag}")

    head = "最近分区 (所在分区以外):" if zh else "Nearest zones (of the classes the point is outside):"
    lines = [head] + [f"  {one(r)}" for r in nearest] if nearest else [head + (" 无" if zh else " none")]
    if near_m is not None:
        within = [r for r in nearest if r.get("within_near")]
        tag = f"--near {format_distance(near_m)}:"
        if within:
            lines.append(f"{tag} {'邻近' if zh else 'within reach'}: " + ("；" if zh else "; ").join(one(r) for r in within))
        else:
            lines.append(f"{tag} {'范围内无分区' if zh else 'no zone within reach'}")
    return "\n".join(lines)
