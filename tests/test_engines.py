"""The batch engines give the in-process answers: SQL inside PostGIS, and dask partitions.

The PostGIS tests run against a real throw-away cluster (tests/pg_fixture.py); the dask
tests on a real 2-process LocalCluster.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal

from conftest import PACK_DIR, REPO
from pg_fixture import pg_dsn, pg_server, require, synthetic_sites  # noqa: F401  (session fixtures)
from zoning import engines
from zoning.check import build_context, check_sites
from zoning.core import postgis

DAY = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def ctx():
    return build_context(PACK_DIR, project_defaults={"total_investment_wan": 5000}, on_date=DAY)


def _norm(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _read_result(dsn: str, table: str, key: str) -> pd.DataFrame:
    with postgis.connect(dsn) as conn:
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY {key}")
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def _assert_same(ref: pd.DataFrame, got: pd.DataFrame) -> None:
    assert len(ref) == len(got)
    problems = []
    for col in engines.DATABASE_COLUMNS:
        a, b = ref[col].to_numpy(dtype=object), got[col].to_numpy(dtype=object)
        diff = [i for i in range(len(a)) if _norm(a[i]) != _norm(b[i])]
        if diff:
            problems.append(f"{col}: {len(diff)} rows differ, e.g. row {diff[0]}: {a[diff[0]]!r} != {b[diff[0]]!r}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------- SQL engine


@pytest.mark.parametrize("seed", [11, 12])
def test_sql_check_equals_in_process(pg_dsn, ctx, seed):
    sites = synthetic_sites(2500, 2500, seed=seed)
    ref = check_sites(sites, context=ctx)
    postgis.write_sites(sites, f"{pg_dsn}?table=sites_{seed}", if_exists="replace")
    res = engines.check_in_database(f"{pg_dsn}?table=sites_{seed}", context=ctx)
    assert res.table == f"public.sites_{seed}_check" and res.key == "site_key" and res.n_sites == len(sites)
    got = _read_result(pg_dsn, res.table, res.key)
    assert got["site_key"].tolist() == list(range(1, len(sites) + 1))
    _assert_same(ref, got)
    # the data exercise every branch: verdicts, errors, warnings, shares, notes
    assert {"prohibited", "needs confirmation", "not checked"} <= set(ref["verdict"])
    assert ref["county_shares"].notna().any() and ref["county_note"].notna().any()
    assert (ref["status_code"] == "warning").any() and ref["quota_area_ha"].notna().any()
    assert res.verdict_counts == ref["verdict"].value_counts().to_dict()


def _cut_points(conn, geom, n: int = 12) -> list:
    """Points on the cut lines ST_Subdivide makes in ``geom`` (as check_in_database cuts
    it), strictly inside ``geom``: each lies on the edge of two pieces."""
    import shapely

    rows = conn.execute(
        "SELECT (SELECT min(ST_X(d.geom)) FROM ST_DumpPoints(p) d), (SELECT max(ST_X(d.geom)) FROM ST_DumpPoints(p) d), "
        "(SELECT min(ST_Y(d.geom)) FROM ST_DumpPoints(p) d), (SELECT max(ST_Y(d.geom)) FROM ST_DumpPoints(p) d) "
        "FROM ST_Subdivide(ST_GeomFromWKB(%s, 4490), %s) p", (shapely.to_wkb(geom), engines.SUBDIVIDE_VERTICES)).fetchall()
    x0, y0, x1, y1 = geom.bounds
    xs = {v for r in rows for v in r[:2]} - {x0, x1}
    ys = {v for r in rows for v in r[2:]} - {y0, y1}
    pts = [shapely.Point(x, y) for x in xs for y in np.linspace(y0, y1, n)[1:-1]]
    pts += [shapely.Point(x, y) for y in ys for x in np.linspace(x0, x1, n)[1:-1]]
    return [p for p in pts if geom.contains(p)]


def test_sql_check_on_the_subdivision_cuts_and_shared_edges(pg_dsn, ctx):
    """Where the pieces of ST_Subdivide could show: points on the cuts inside the most
    detailed zones and inside the shrunk counties (the county-line check), points on
    zone vertices, triangles of three consecutive zone vertices (sharing two edges with
    the zone, some inside it, some outside: no sliver of overlap from the cuts), and
    whole zones as sites (their overlap summed over many pieces)."""
    import geopandas as gpd
    import shapely

    geoms = ctx.context.features.geometry.to_numpy()
    detailed = geoms[np.argsort(-shapely.get_num_coordinates(geoms), kind="stable")[:5]]
    inner = ctx.context.county_index.inner
    sites = []
    with postgis.connect(pg_dsn) as conn:
        for g in [*detailed, *inner]:
            sites += _cut_points(conn, g)
    assert len(sites) > 50
    for g in detailed:
        ring = np.asarray(shapely.get_exterior_ring(g).coords)[:-1]
        sites += [shapely.Point(*xy) for xy in ring[::7]]
        tri = [shapely.Polygon([ring[i], ring[(i + 1) % len(ring)], ring[(i + 2) % len(ring)]]) for i in range(len(ring))]
        sites += [t for t in tri if t.is_valid and t.area > 0]
        sites.append(g)
    frame = gpd.GeoDataFrame({"site_id": [f"E{i}" for i in range(len(sites))]},
                             geometry=gpd.GeoSeries(sites, crs="EPSG:4490"), crs="EPSG:4490")
    ref = check_sites(frame, context=ctx)
    postgis.write_sites(frame, f"{pg_dsn}?table=edge_sites", if_exists="replace")
    res = engines.check_in_database(f"{pg_dsn}?table=edge_sites", context=ctx)
    _assert_same(ref, _read_result(pg_dsn, res.table, res.key))


def test_sql_check_with_a_postgis_pack_in_the_same_database(pg_dsn):
    pack_dsn = f"{pg_dsn}?schema=engines_pack"
    postgis.push_pack(PACK_DIR, pack_dsn, replace_existing=True)
    sites = synthetic_sites(300, 300, seed=5)
    postgis.write_sites(sites, f"{pg_dsn}?table=s5&schema=work", if_exists="replace")
    res = engines.check_in_database(f"{pg_dsn}?table=s5&schema=work&out=s5_results", pack_dsn, on_date=DAY)
    assert res.table == "work.s5_results"
    ref = check_sites(sites, PACK_DIR, on_date=DAY)
    _assert_same(ref, _read_result(pg_dsn, res.table, res.key))


def test_sql_check_needs_a_table(pg_dsn, ctx):
    with pytest.raises(engines.EngineError, match=r"\?table=NAME"):
        engines.check_in_database(pg_dsn, context=ctx)
    with pytest.raises(engines.EngineError, match="not found"):
        engines.check_in_database(f"{pg_dsn}?table=no_such_table", context=ctx)


# ------------------------------------------------------------------------- dask engine


@pytest.fixture(scope="module")
def client():
    require("dask.distributed")
    with engines.dask_client(workers=2) as c:
        yield c


def test_dask_equals_in_process_in_input_order(client, ctx):
    sites = synthetic_sites(2000, 2000, seed=21)
    ref = check_sites(sites, context=ctx)
    got = engines.check_sites_dask(sites, client=client, context=ctx, npartitions=5)
    assert_geodataframe_equal(ref, got)


def test_dask_iter_check_matches_iter_check(client):
    from zoning.check import iter_check

    path = REPO / "examples" / "sites_demo.csv"
    ref = pd.concat(list(iter_check(path, PACK_DIR, on_date=DAY, chunksize=100)), ignore_index=True)
    got = pd.concat(list(engines.iter_check_dask(path, PACK_DIR, client=client, on_date=DAY, chunksize=100,
                                                 partition_size=20)), ignore_index=True)
    assert_geodataframe_equal(ref, got)


# ------------------------------------------------------------------------- command line


def test_cli_check_engine_dask_writes_the_same_csv(tmp_path):
    require("dask.distributed")
    from click.testing import CliRunner

    from zoning.cli.main import main_group

    runner = CliRunner()
    sites = REPO / "examples" / "sites_demo.csv"
    common = ["--pack", str(PACK_DIR), "--date", "2025-06-01", "--no-progress"]
    a = runner.invoke(main_group, ["check", str(sites), "-o", str(tmp_path / "a.csv"), *common])
    b = runner.invoke(main_group, ["check", str(sites), "-o", str(tmp_path / "b.csv"), "--engine", "dask",
                                   "--workers", "2", *common])
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_cli_check_a_postgis_table(pg_dsn):
    from click.testing import CliRunner

    from zoning.cli.main import main_group

    sites = synthetic_sites(200, 50, seed=8)
    postgis.write_sites(sites, f"{pg_dsn}?table=cli_sites", if_exists="replace")
    runner = CliRunner()
    result = runner.invoke(main_group, ["check", f"{pg_dsn}?table=cli_sites", "--pack", str(PACK_DIR),
                                        "--date", "2025-06-01"])
    assert result.exit_code == 0, result.output
    assert f"{len(sites)} sites checked in the database" in result.output and "cli_sites_check" in result.output
    result = runner.invoke(main_group, ["check", f"{pg_dsn}?table=cli_sites", "--engine", "dask"])
    assert result.exit_code == 2 and "--engine postgis" in result.output
