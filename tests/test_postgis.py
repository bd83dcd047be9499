"""PostGIS packs: push, open, read, validate, and the same answers as the GeoPackage.

Runs against a real throw-away PostgreSQL + PostGIS cluster (tests/pg_fixture.py).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal

from conftest import PACK_DIR
from pg_fixture import pg_dsn, pg_server  # noqa: F401  (session fixtures)
from zoning.core import postgis
from zoning.core.errors import ManifestError
from zoning.core.layers import open_pack, read_layer
from zoning.core.rules import load_rules


@pytest.fixture(scope="module")
def pg_pack_dsn(pg_dsn):
    """The shipped pack pushed into schema ``jincheng``."""
    dsn = f"{pg_dsn}?schema=jincheng"
    postgis.push_pack(PACK_DIR, dsn, replace_existing=True)
    return dsn


def test_dsn_parsing_keeps_zoning_params_from_libpq():
    parts = postgis.parse_dsn("postgresql://u:secret@h:5433/db?schema=s&table=t&sslmode=disable")
    assert parts.schema == "s" and parts["table"] == "t"
    assert parts.conninfo == "postgresql://u:secret@h:5433/db?sslmode=disable"
    assert postgis.redact("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"


def test_not_a_dsn_is_refused():
    with pytest.raises(ManifestError, match="not a PostgreSQL DSN"):
        postgis.parse_dsn("mysql://h/db")


def test_push_writes_tables_with_gist_indexes_and_manifest(pg_pack_dsn):
    with postgis.connect(pg_pack_dsn) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'jincheng'"
            ).fetchall()
        }
        gist = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_indexes WHERE schemaname = 'jincheng' AND indexdef LIKE '%USING gist%'"
            ).fetchall()
        }
        paths = {r[0] for r in conn.execute("SELECT path FROM jincheng.zoning_manifest").fetchall()}
    layers = {
        "counties",
        "planning_extents",
        "land_supply_quota",
        "groundwater_protection",
        "groundwater_control",
        "key_projects",
    }
    assert layers | {"zoning_manifest"} <= tables
    assert layers <= gist
    assert {"manifest.toml", "zoning_push.json", "rules/jsh_2023_124.toml"} <= paths


def test_open_pack_by_dsn_materialises_manifest_and_rules(pg_pack_dsn):
    pack = open_pack(pg_pack_dsn)
    assert pack.dsn == pg_pack_dsn
    assert pack.name == "jincheng"
    assert [s.name for s in pack.layers] == [s.name for s in open_pack(PACK_DIR).layers]
    assert pack.rules_dir is not None and len(list(pack.rules_dir.glob("*.toml"))) == len(
        list((PACK_DIR / "rules").glob("*.toml")))
    assert all(s.file == "postgis" for s in pack.layers)


@pytest.mark.parametrize(
    "name",
    [
        "counties",
        "planning_extents",
        "land_supply_quota",
        "groundwater_protection",
        "groundwater_control",
        "key_projects",
    ],
)
def test_every_layer_reads_back_identical(pg_pack_dsn, name):
    assert_geodataframe_equal(read_layer(open_pack(PACK_DIR), name), read_layer(open_pack(pg_pack_dsn), name))


def test_areas_in_the_registered_equal_area_srid_match_pyproj(pg_pack_dsn):
    from zoning.core import settings

    zones = read_layer(open_pack(PACK_DIR), "groundwater_control")
    with postgis.connect(pg_pack_dsn) as conn:
        rows = conn.execute(
            f"SELECT ST_Area(ST_Transform(geom, {postgis.AREA_SRID})) FROM jincheng.groundwater_control ORDER BY fid"
        ).fetchall()
    np.testing.assert_allclose([r[0] for r in rows], zones.to_crs(settings.area_crs).area, rtol=1e-12)


def test_query_points_identical_from_both_stores(pg_pack_dsn):
    from zoning.query import query_points

    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(112.0, 113.55, 2000), rng.uniform(35.2, 36.05, 2000)
    day = dt.date(2025, 6, 1)
    a = query_points((lon, lat), PACK_DIR, project={"construction": "new"}, on_date=day)
    b = query_points((lon, lat), open_pack(pg_pack_dsn), project={"construction": "new"}, on_date=day)
    pd.testing.assert_frame_equal(a, b)
    assert a["protection_class"].notna().any() and a["in_central_area"].any()


def test_check_sites_identical_from_both_stores(pg_pack_dsn):
    from pg_fixture import synthetic_sites
    from zoning.check import check_sites

    sites = synthetic_sites(300, 300, seed=3)
    day = dt.date(2025, 6, 1)
    a = check_sites(sites, PACK_DIR, on_date=day)
    b = check_sites(sites, open_pack(pg_pack_dsn), on_date=day)
    assert_geodataframe_equal(a, b)


def test_push_refuses_to_overwrite_without_replace(pg_pack_dsn):
    with pytest.raises(ManifestError, match="already holds a pack"):
        postgis.push_pack(PACK_DIR, pg_pack_dsn)


def test_open_schema_without_pack_names_the_fix(pg_dsn):
    with pytest.raises(ManifestError, match="holds no zoning pack.*zoning layers push"):
        open_pack(f"{pg_dsn}?schema=nothing_here")


def test_unreachable_server_is_a_clear_error():
    from zoning.core.errors import ZoningError

    with pytest.raises(ZoningError, match="cannot connect"):
        open_pack("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_cli_push_then_validate(pg_dsn, runner):
    from zoning.cli.main import main_group
    from zoning.cli.push import push

    dsn = f"{pg_dsn}?schema=cli_pack"
    res = runner.invoke(push, [str(PACK_DIR), dsn, "--replace"])
    assert res.exit_code == 0, res.output
    assert "GIST index" in res.output and "pushed jincheng" in res.output
    res = runner.invoke(main_group, ["layers", "validate", dsn])
    assert res.exit_code == 0, res.output
    assert res.output.rstrip().endswith("valid")
    n = len(load_rules(PACK_DIR / "rules"))
    assert f"rules catalogue: {n} rules" in res.output
    res = runner.invoke(push, [str(PACK_DIR), "not-a-dsn"])
    assert res.exit_code == 2
