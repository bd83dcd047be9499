"""The dask engine: :func:`zoning.check.check_sites` run partition by partition on a cluster.

A GeoDataFrame (or a site file, chunk by chunk) is split into spatially sorted partitions
(sorted by Hilbert distance as dask-geopandas computes it, cut into contiguous runs: no
shuffle), scattered to the workers, and each is checked there by the in-process engine —
:func:`zoning.core.hits.site_hits` then :func:`zoning.check.assemble`, the same functions,
so the same answers. The run's :class:`zoning.check.CheckContext` is pickled once and
sent once to every worker (its indexes are not pickled: each worker builds them once, as
soon as the context arrives, while the client goes on splitting the sites). Results come
back without their geometry (the input's), in input order. The cluster is a
``dask.distributed.LocalCluster`` (processes, ``workers`` of them) unless a ``scheduler``
address is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.check import build_context, check_sites
from zoning.engines.local import as_sites

if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.check import CheckContext
    from zoning.core.layers import Pack

__all__ = ["check_sites_dask", "dask_client", "iter_check_dask"]

_POS = "__zoning_pos"


@contextmanager
def dask_client(*, workers: int | None = None, scheduler: str | None = None,
                memory_limit: str | None = "auto") -> Iterator[Any]:
    """A dask.distributed Client: on ``scheduler`` if given, else on a LocalCluster of
    ``workers`` processes (one thread each; default: the CPU count). Closed on exit."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    import os

    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _check_partition(part: gpd.GeoDataFrame, ctx: CheckContext, dtypes: dict[str, Any] | None = None,
                     keep_geometry: bool = True) -> pd.DataFrame:
    if len(part) == 0:
        return pd.DataFrame()
    if dtypes:  # the dtypes of the input (a shuffle may have turned str columns into object)
        diff = {c: t for c, t in dtypes.items() if c in part.columns and part[c].dtype != t}
        if diff:
            part = part.astype(diff)
    pos = part[_POS].to_numpy()
    res = check_sites(part.drop(columns=[_POS]), context=ctx)
    res[_POS] = pos
    out = pd.DataFrame(res)  # plain frame: the geometry column travels as shapely objects
    if not keep_geometry:
        # the result's geometry is the input's (check_sites returns it unchanged): the
        # caller, which holds it, puts it back, so it does not travel back from the worker
        out["geometry"] = None
    return out


def _warm_context(ctx: CheckContext) -> None:
    """Build the indexes of the worker's copy of the context (dropped when pickled)."""
    ctx.context.warm()


def _scatter_context(client: Any, ctx: CheckContext) -> Any:
    """The context sent once to every worker (pickled once), and each worker told to build
    its indexes on its copy meanwhile (asynchronously: the client goes on splitting the sites)."""
    from dask.distributed import fire_and_forget

    [fut] = client.scatter([ctx], broadcast=True, hash=False)
    for w in client.scheduler_info().get("workers", {}):
        fire_and_forget(client.submit(_warm_context, fut, workers=[w], allow_other_workers=False, pure=False))
    return fut


def check_sites_dask(
    sites: gpd.GeoDataFrame,
    pack: Pack | str | Path | None = None,
    *,
    client: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    npartitions: int | None = None,
    partition_size: int = 200_000,
    project_defaults: dict | None = None,
    on_date: dt.date | None = None,
    context: CheckContext | None = None,
    context_future: Any = None,
) -> gpd.GeoDataFrame:
    """:func:`zoning.check.check_sites` run partitioned on a dask cluster.

    The sites are split into ``npartitions`` (default: one per ``partition_size`` rows,
    at least two per worker) spatially coherent partitions (sorted by Hilbert distance,
    as dask-geopandas computes it, and cut into contiguous runs), each checked on a
    worker; the run's context (zones, counties, rules) is built once here and sent once
    to every worker (``context_future``: one already scattered, for several calls). The
    partitions are scattered to the workers directly (not embedded in a task graph), and
    the results come back without their geometry (the input's, put back here). The
    result is identical to the in-process engine, rows in input order.

    ``client`` uses an existing dask Client; otherwise ``scheduler`` (an address) or a
    LocalCluster of ``workers`` processes is started and closed.
    """
    if client is None:
        with dask_client(workers=workers, scheduler=scheduler) as own:
            return check_sites_dask(sites, pack, client=own, npartitions=npartitions, partition_size=partition_size,
                                    project_defaults=project_defaults, on_date=on_date, context=context)
    import geopandas as gpd

    gdf = as_sites(sites)  # EPSG:4490, fresh index, row numbers 1..n for the whole input
    ctx = context or build_context(pack, project_defaults=project_defaults, on_date=on_date)
    n = len(gdf)
    if n == 0:
        return check_sites(gdf, context=ctx)
    ctx_future = context_future if context_future is not None else _scatter_context(client, ctx)
    n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
    # two partitions per worker at least, so that a worker that finishes early takes one
    nparts = npartitions or max(2 * n_workers, -(-n // partition_size))
    nparts = max(1, min(nparts, n))
    gdf = gdf.assign(**{_POS: np.arange(n)})
    geoms = gdf.geometry.to_numpy()
    present = gdf.geometry.notna().to_numpy() & ~gdf.geometry.is_empty.to_numpy()
    placed, unplaced = gdf[present], gdf[~present]
    frames = []
    if len(placed):
        if nparts > 1:
            # spatial partitions without a shuffle: the Hilbert distance of every site
            # (geopandas' implementation of dask-geopandas' one, computed here, in numpy),
            # sorted, cut into contiguous runs
            hd = placed.geometry.hilbert_distance()
            placed = placed.iloc[np.argsort(hd.to_numpy(), kind="stable")]
        cuts = np.linspace(0, len(placed), min(nparts, len(placed)) + 1).astype(int)
        parts = [placed.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
        if len(unplaced):
            # rows without a geometry go with the last partition, so that every batch
            # mixes them with placed sites as the in-process check's one batch does
            parts[-1] = pd.concat([parts[-1], unplaced])
        dtypes = {c: t for c, t in gdf.dtypes.items() if c not in (gdf.geometry.name, _POS)}
        part_futures = client.scatter(parts, hash=False)
        futures = client.map(_check_partition, part_futures, ctx=ctx_future, dtypes=dtypes, keep_geometry=False,
                             pure=False)
        frames = [f for f in client.gather(futures) if len(f)]
        del part_futures, futures
    else:
        frames.append(_check_partition(unplaced, ctx, keep_geometry=False))
    res = pd.concat(frames, ignore_index=True)
    pos = res[_POS].to_numpy()
    res = res.take(np.argsort(pos, kind="stable")).drop(columns=[_POS]).reset_index(drop=True)
    res["geometry"] = geoms[np.sort(pos)]
    # a column whose partitions inferred different dtypes (float64 in one, object with
    # None in another) is inferred again over all rows, as one in-process batch does
    for c in res.columns:
        if c != "geometry" and len({str(f[c].dtype) for f in frames if c in f.columns}) > 1:
            res[c] = pd.DataFrame({c: res[c].tolist()})[c]
    out = gpd.GeoDataFrame(res, geometry="geometry", crs="EPSG:4490")
    out.attrs["notes"] = list(gdf.attrs.get("notes", []))
    return out


def iter_check_dask(
    path: str | Path,
    pack: Pack | str | Path | None = None,
    *,
    client: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    project_defaults: dict | None = None,
    on_date: dt.date | None = None,
    context: CheckContext | None = None,
    partition_size: int = 200_000,
    **read_kwargs: Any,
) -> Iterator[gpd.GeoDataFrame]:
    """A site file checked chunk by chunk (as :func:`zoning.check.iter_check`), each chunk
    partitioned across the cluster: memory bounded by ``chunksize``, results in order.
    The run's context is sent to the workers once, for all chunks.

    ``read_kwargs`` go to :func:`zoning.inputs.sites.iter_sites` (crs, order, fields, layer,
    sheet, encoding, chunksize).
    """
    from zoning.inputs.sites import iter_sites

    ctx = context or build_context(pack, project_defaults=project_defaults, on_date=on_date)
    if client is None:
        with dask_client(workers=workers, scheduler=scheduler) as own:
            yield from iter_check_dask(path, client=own, context=ctx, partition_size=partition_size, **read_kwargs)
        return
    ctx_future = _scatter_context(client, ctx)
    for chunk in iter_sites(path, **read_kwargs):
        yield check_sites_dask(chunk, client=client, context=ctx, partition_size=partition_size,
                               context_future=ctx_future)
