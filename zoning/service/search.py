"""The map's search box: a coordinate in any form ``zoning query`` reads, a county name,
a key-project name, or the id or name of a site of the user's finished checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from zoning.core.context import PackContext

MAX_RESULTS = 20
_NUMBER = r"[-+]?\d+(?:\.\d+)?"


def _coordinate(q: str) -> dict[str, Any] | None:
    """``X Y``, ``X,Y`` or ``X Y CRS`` (CRS as ``zoning query --crs`` takes it), through the one parser."""
    from zoning.core.coords import parse_point
    from zoning.core.errors import CoordinateError

    m = re.fullmatch(rf"\s*({_NUMBER})\s*[,，\s]\s*({_NUMBER})\s*(?:[,，\s]\s*(\S+))?\s*", q)
    if not m:
        return None
    x, y, crs = m.group(1), m.group(2), m.group(3)
    for order in ("xy", "survey"):
        try:
            p = parse_point(x, y, crs, order=order, check_city=False)  # type: ignore[arg-type]
        except CoordinateError:
            continue
        return {"kind": "coordinate", "label": f"{p.lon:.6f}, {p.lat:.6f} ({p.input_crs}, {order})",
                "lon": p.lon, "lat": p.lat}
    return None


def search_places(ctx: PackContext, q: str, job_ids: list[str], data_dir: Path) -> list[dict[str, Any]]:
    """Up to :data:`MAX_RESULTS` places matching ``q``."""
    q = q.strip()
    if not q:
        return []
    c = _coordinate(q)
    if c is not None:
        return [c]
    out: list[dict[str, Any]] = []
    counties = ctx.counties
    reps = counties.geometry.representative_point()
    rep_of = {}
    for i, name in enumerate(counties["name"].astype(str)):
        pt = reps.iloc[i]
        rep_of[str(counties["adcode"].iloc[i])] = pt
        if q in name or name in q:
            out.append({"kind": "county", "label": name, "lon": pt.x, "lat": pt.y})
    if ctx.projects is not None:
        gdf = ctx.projects
        for i, name in enumerate(gdf["name"].astype(str)):
            if q not in name:
                continue
            geom = gdf.geometry.iloc[i]
            if geom is not None and not geom.is_empty:
                pt = geom.representative_point() if gdf.crs is None or gdf.crs.to_epsg() == 4490 else \
                    gdf.iloc[[i]].to_crs("EPSG:4490").geometry.iloc[0].representative_point()
            else:
                codes = str(gdf["county_adcodes"].iloc[i] or "").split(",")
                pt = next((rep_of[c] for c in codes if c in rep_of), None)
            if pt is not None:
                out.append({"kind": "key_project", "label": name, "lon": pt.x, "lat": pt.y})
            if len(out) >= MAX_RESULTS:
                return out
    from zoning.service.jobs import read_points

    for job_id in job_ids:
        for p in read_points(data_dir, job_id):
            if q == str(p.get("site_id")) or q in str(p.get("site_name") or ""):
                out.append({"kind": "site", "label": f"{p.get('site_id')} {p.get('site_name') or ''} "
                            f"({p.get('verdict') or ''})", "lon": p["lon"], "lat": p["lat"], "job": job_id})
                if len(out) >= MAX_RESULTS:
                    return out
    return out[:MAX_RESULTS]
