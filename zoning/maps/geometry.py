"""Display geometry and JSON for the page: lon/lat, simplified with topology kept, rounded.

The page draws these geometries and also answers its click query on them, so they are
kept precise enough for the query: zones and planning extents are simplified by
:data:`SIMPLIFY_DEG` (about 2 m) and counties not at all, and every coordinate is rounded
to :data:`COORD_DECIMALS` (about 1 m). A point farther than about 3 m from an edge is
decided the same way in the page as on the full geometry.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import TYPE_CHECKING, Any

from zoning.core.errors import CRSMismatchError

if TYPE_CHECKING:
    import geopandas as gpd

#: display coordinates are rounded to this many decimals (1e-5 deg is about 1 m)
COORD_DECIMALS = 5
#: simplification tolerance in degrees (about 2 m at 35.5 N: below the 5 m a query
#: place keeps from an edge, so the page decides as the full geometry does)
SIMPLIFY_DEG = 2e-5


def to_display(gdf: gpd.GeoDataFrame, *, coverage: bool = False,
               tolerance: float = SIMPLIFY_DEG) -> gpd.GeoDataFrame:
    """WGS 84 lon/lat (what Leaflet draws), simplified with topology kept, rounded to ~1 m."""
    import numpy as np
    import shapely

    if gdf.crs is None:
        msg = "a layer without a CRS cannot be mapped; declare it (e.g. EPSG:4490)"
        raise CRSMismatchError(msg)
    out = gdf.to_crs("EPSG:4326") if not gdf.crs.equals("EPSG:4326") else gdf.copy()
    geoms = out.geometry.values
    present = ~(shapely.is_missing(np.asarray(geoms)) | shapely.is_empty(np.asarray(geoms)))
    arr = np.asarray(geoms)
    if tolerance > 0 and present.any():
        polys = present & np.isin(shapely.get_type_id(arr), (3, 6))
        if coverage and polys.all():
            arr = np.asarray(shapely.coverage_simplify(arr, tolerance))
        elif polys.any():
            arr[polys] = shapely.simplify(arr[polys], tolerance, preserve_topology=True)
    arr[present] = shapely.transform(arr[present], lambda c: np.round(c, COORD_DECIMALS))
    return out.set_geometry(list(arr), crs="EPSG:4326")


def scalar(value: Any) -> Any:
    """A JSON-ready plain value (None for missing)."""
    import numpy as np

    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            return None
        if v.is_integer() and abs(v) < 1e15:
            return int(v)
        return round(v, 4)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (int, str)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def feature_collection(gdf: gpd.GeoDataFrame, fields: list[str],
                       extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``gdf`` with ``fields`` (and ``extra``) as properties."""
    import shapely

    feats = []
    for i, (geom, row) in enumerate(zip(gdf.geometry.values, gdf[fields].itertuples(index=False))):
        if geom is None or geom.is_empty:
            continue
        props = {f: scalar(v) for f, v in zip(fields, row)}
        props = {k: v for k, v in props.items() if v is not None and v != ""}
        if extra:
            props.update(extra[i])
        feats.append({"type": "Feature", "properties": props,
                      "geometry": json.loads(shapely.to_geojson(geom))})
    return {"type": "FeatureCollection", "features": feats}


def json_for_script(obj: Any) -> str:
    """JSON safe to embed in an HTML ``<script>``: ``</``, ``<!--`` and ``]]>`` cannot occur.

    ``<``, ``>`` and ``&`` become ``\\u003c`` etc. (valid inside JSON strings, the only place
    they can appear) and U+2028/2029, which end a JavaScript line, are escaped too.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
