"""Engines for large batch checks: inside PostGIS, and partitioned on a dask cluster.

Both give the answers of the in-process :func:`zoning.check.check_sites`, because they
compute the same hits (:mod:`zoning.core.hits`: which county, zone and planning extent
each site touches, and how) and leave everything after them — counties, governing
classes, verdicts, notes — to :func:`zoning.check.assemble`:

:func:`check_in_database` (:mod:`zoning.engines.postgis`)
    For a site table already in PostGIS: the hits are computed in SQL, set-wise, on
    subdivided GIST-indexed pieces of the features and counties, in the equal-area
    projection; they are read back page by page (no site geometry leaves the server),
    assembled in Python, and the result rows written back as a table.
:func:`check_sites_dask` / :func:`iter_check_dask` (:mod:`zoning.engines.dask`)
    A GeoDataFrame (or a site file, chunk by chunk) split into spatially sorted
    partitions, each checked by :func:`zoning.check.check_sites` on a worker, with the
    run's context sent once to every worker.
"""

from __future__ import annotations

from zoning.core.errors import EngineError, ZoningError
from zoning.engines.dask import check_sites_dask, dask_client, iter_check_dask
from zoning.engines.local import as_sites
from zoning.engines.postgis import (
    DATABASE_COLUMNS,
    PAGE_SIZE,
    SUBDIVIDE_VERTICES,
    DatabaseCheck,
    HitsPage,
    check_in_database,
    database_hits,
)

__all__ = [
    "DATABASE_COLUMNS",
    "PAGE_SIZE",
    "SUBDIVIDE_VERTICES",
    "DatabaseCheck",
    "EngineError",
    "HitsPage",
    "ZoningError",
    "as_sites",
    "check_in_database",
    "check_sites_dask",
    "dask_client",
    "database_hits",
    "iter_check_dask",
]
