"""What the engines share on the client: sites as the in-process check takes them, and
the hits of a batch turned into result rows by :func:`zoning.check.assemble`.

Nothing here decides a county, a zone or a verdict: the hits come from
:func:`zoning.core.hits.site_hits` (in process, on a dask worker) or from the SQL of
:mod:`zoning.engines.postgis` (the same two tables), and every answer after them is
:func:`zoning.check.assemble`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.core.hits import HIT_COLUMNS, SITE_COLUMNS, Hits

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["as_sites", "hits_frames", "python_value"]

#: Columns of :data:`zoning.core.hits.SITE_COLUMNS` that hold flags, and numbers.
SITE_FLAGS: tuple[str, ...] = ("present", "in_city", "located", "near_line")
SITE_NUMBERS: tuple[str, ...] = ("lon", "lat", "area_m2", "boundary_distance_m", "nearest_distance_m", "outside_m2")


def as_sites(sites: Any) -> gpd.GeoDataFrame:
    """Sites as :func:`zoning.check.check_sites` takes them: a path is read with
    :func:`zoning.inputs.sites.read_sites`; a GeoDataFrame goes to EPSG:4490 with a fresh
    index and, without one, a ``row`` column numbering its rows from 1."""
    import geopandas as gpd

    from zoning.inputs.sites import read_sites

    if isinstance(sites, (str, Path)):
        return read_sites(sites)
    if not isinstance(sites, gpd.GeoDataFrame):
        msg = f"sites must be a path or a GeoDataFrame, got {type(sites).__name__}"
        raise TypeError(msg)
    if sites.crs is None:
        msg = "sites: the GeoDataFrame has no CRS; set one (e.g. gdf.set_crs('EPSG:4490'))"
        raise ValueError(msg)
    gdf = sites.to_crs("EPSG:4490") if sites.crs.to_epsg() != 4490 else sites
    gdf = gdf.reset_index(drop=True)
    if "row" not in gdf.columns:
        gdf = gdf.assign(row=np.arange(1, len(gdf) + 1))
    return gdf


def _objects(values: list) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object) if values else np.empty(0, dtype=object), dtype=object)


def hits_frames(site_rows: list[tuple], hit_rows: list[tuple], first: int) -> Hits:
    """:class:`zoning.core.hits.Hits` from rows fetched from a database: ``site_rows`` are
    ``(sid, *SITE_COLUMNS)`` for sites ``first, first + 1, ...`` (in that order), and
    ``hit_rows`` ``(sid, *HIT_COLUMNS[1:])``; ``site`` becomes ``sid - first``."""
    cols = list(zip(*site_rows)) if site_rows else [() for _ in range(len(SITE_COLUMNS) + 1)]
    sites: dict[str, Any] = {}
    for name, values in zip(SITE_COLUMNS, cols[1:]):
        if name in SITE_FLAGS:
            sites[name] = np.array([bool(v) for v in values], dtype=bool)
        elif name in SITE_NUMBERS:
            sites[name] = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
        else:
            sites[name] = _objects(list(values))
    hcols = list(zip(*hit_rows)) if hit_rows else [() for _ in range(len(HIT_COLUMNS))]
    table = pd.DataFrame({
        "site": np.asarray(hcols[0], dtype=np.int64) - first,
        "kind": _objects(list(hcols[1])),
        "layer": _objects(list(hcols[2])),
        "feature": np.asarray(hcols[3], dtype=np.int64),
        "zone_class": _objects(list(hcols[4])),
        "zone_id": _objects(list(hcols[5])),
        "overlap_m2": np.array([np.nan if v is None else float(v) for v in hcols[6]], dtype=float),
        "share": np.array([np.nan if v is None else float(v) for v in hcols[7]], dtype=float),
    })
    return Hits(sites=pd.DataFrame(sites)[list(SITE_COLUMNS)], table=table)


def python_value(v: Any) -> Any:
    """A result cell as a plain Python value for the database (NaN and NA: None)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else float(v)
    return v
