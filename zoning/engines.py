"""Engines for large batch checks: inside PostGIS, and partitioned on a dask cluster.

Both give the same answers as the in-process :func:`zoning.check.check_sites`:

:func:`check_in_database`
    For a site table already in PostGIS: the overlay runs in SQL, set-wise. The zones and
    counties (and the counties shrunk and grown by their positional accuracy, for the
    county-line check of points) are cut with ``ST_Subdivide`` into GIST-indexed pieces of
    at most :data:`SUBDIVIDE_VERTICES` vertices; the sites are GIST-indexed too, and each
    piece finds its sites (``ST_Intersects``/``ST_Contains`` for points,
    ``ST_Area(ST_Intersection(...))`` summed per zone for areas, in the equal-area
    projection :data:`zoning.core.settings.area_crs`, registered as
    :data:`zoning.core.postgis.AREA_SRID`); the rare cases a cut could decide (a point on a
    cut, an overlap that comes out near zero) are computed again on the whole polygon.
    The rules are evaluated in Python once per distinct combination of zones and
    project attributes (a few hundred rows at most), and the results are written back as
    a table: no site geometry leaves the server.
:func:`check_sites_dask` / :func:`iter_check_dask`
    A GeoDataFrame (or a site file, chunk by chunk) split into spatially sorted
    partitions (sorted by Hilbert distance as dask-geopandas computes it, cut into
    contiguous runs: no shuffle), scattered to the workers and each checked by
    :func:`zoning.check.check_sites` there, with the pack's context sent once to every
    worker (once for all the chunks of a file); results come back without their
    geometry (the input's), in input order. The cluster is a
    ``dask.distributed.LocalCluster`` (processes, ``workers`` of them) unless a
    ``scheduler`` address is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.core import settings
from zoning.check import RESULT_COLUMNS
from zoning.core.errors import EngineError, ZoningError

if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.check import CheckContext
    from zoning.core.layers import Pack

__all__ = [
    "DATABASE_COLUMNS",
    "DatabaseCheck",
    "check_in_database",
    "check_sites_dask",
    "dask_client",
    "iter_check_dask",
]

_POS = "__zoning_pos"

#: Most vertices per piece when :func:`check_in_database` cuts the zones and counties with
#: ``ST_Subdivide`` (smaller pieces: cheaper point-in-polygon and intersection tests, more
#: index entries).
SUBDIVIDE_VERTICES = 64

#: Columns of the result table written by :func:`check_in_database` (after the key),
#: with the same meaning and values as in :data:`zoning.check.RESULT_COLUMNS`.
DATABASE_COLUMNS: tuple[str, ...] = tuple(
    c for c in RESULT_COLUMNS if c not in ("source", "row")
)

_VERDICT_COLS = ("verdict", "articles", "missing_attributes", "rule_ids", "basis_accuracy",
                 "demonstration_basis", "basis_layers")


# ============================================================================ PostGIS


@dataclass
class DatabaseCheck:
    """What :func:`check_in_database` wrote."""

    table: str
    key: str
    n_sites: int
    verdict_counts: dict[str, int] = field(default_factory=dict)
    combinations: int = 0
    demonstration_layers: list[str] = field(default_factory=list)


def _num(expr: str, nd: int) -> str:
    """SQL text of a float rounded to ``nd`` decimals (as Python's f"{x:.{nd}f}" writes it)."""
    return f"round(({expr})::numeric, {nd})::text"


def _split_table(table: str, schema: str | None) -> tuple[str, str]:
    if "." in table and schema is None:
        s, t = table.split(".", 1)
        return s, t
    return schema or "public", table


def check_in_database(
    sites_dsn: str,
    pack: Pack | str | Path | None = None,
    *,
    project_defaults: dict | None = None,
    on_date: dt.date | None = None,
    context: CheckContext | None = None,
    out_table: str | None = None,
    key: str | None = None,
    geom: str | None = None,
) -> DatabaseCheck:
    """Check a site table inside PostGIS and write the results as a table.

    Parameters
    ----------
    sites_dsn
        ``postgresql://…/db?table=SITES`` with optionally ``schema=`` (of the site
        table; default ``public``, or ``table=schema.name``), ``key=`` (a unique column;
        default the table's primary key), ``geom=`` (default its only geometry column) and
        ``out=`` (result table; default ``<table>_check`` in the same schema, replaced if
        it exists). Columns named like the project attributes
        (:data:`zoning.core.rules.PROJECT_ATTRIBUTES`), ``site_id``, ``site_name``,
        ``land_use``, ``area_ha_stated`` and ``input_problem`` are used as
        :func:`zoning.check.check_sites` uses them.
    pack
        The layer pack (a directory or a PostGIS DSN; the zones are copied into a
        temporary table of the session, so any pack works with any database).
    project_defaults, on_date, context
        As for :func:`zoning.check.check_sites`.
    out_table
        Overrides ``out=``.

    Returns
    -------
    DatabaseCheck: the result table, its key column (the site table's key, one row per
    site, same values), the number of sites and the count per verdict.
    """
    from psycopg import sql

    from zoning.core import postgis
    from zoning.check import NOT_CHECKED, _project_for_row, _verdict, build_context, match_land_use
    from zoning.core.overlay import CountyIndex
    from zoning.core.rules import PROJECT_ATTRIBUTES
    from zoning.core.verdicts import CONTROL_RANK, PROTECTION_RANK

    parts = postgis.parse_dsn(sites_dsn)
    if not parts.get("table"):
        msg = f"{postgis.redact(sites_dsn)}: name the site table with ?table=NAME"
        raise EngineError(msg)
    schema, table = _split_table(parts["table"], parts.get("schema"))
    out_schema, out_name = _split_table(out_table or parts.get("out") or f"{table}_check", schema)
    ctx = context or build_context(pack, project_defaults=project_defaults, on_date=on_date)
    ident = postgis._ident
    S = ident(schema, table)
    area_srid = postgis.AREA_SRID
    tol = float(ctx.county_tolerance_m)

    with postgis.connect(sites_dsn) as conn:
        if conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()[0] is None:
            msg = f"{postgis.redact(sites_dsn)}: table {schema}.{table} not found"
            raise EngineError(msg)
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "ORDER BY ordinal_position", (schema, table)).fetchall()]
        if geom is None:
            geom = parts.get("geom")
        if geom is None:
            gcols = [r[0] for r in conn.execute(
                "SELECT f_geometry_column FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s",
                (schema, table)).fetchall()]
            if len(gcols) != 1:
                msg = f"{schema}.{table}: {len(gcols)} geometry columns; name one with ?geom=COLUMN"
                raise EngineError(msg)
            geom = gcols[0]
        key = key or parts.get("key")
        if key is None:
            pk = conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                (f'"{schema}"."{table}"',)).fetchall()
            if len(pk) != 1:
                msg = f"{schema}.{table}: no single-column primary key; name a unique column with ?key=COLUMN"
                raise EngineError(msg)
            key = pk[0][0]
        for c in (key, geom):
            if c not in cols:
                msg = f"{schema}.{table}: column {c!r} not found; columns: {', '.join(cols)}"
                raise EngineError(msg)
        postgis.ensure_area_srid(conn)
        conn.execute("SET LOCAL work_mem = '128MB'")
        # these statements are long joins over few, cheap-to-plan tables: JIT compilation
        # costs ~0.6 s per statement and saves nothing
        conn.execute("SET LOCAL jit = off")

        # ---- the zones (+ counties), as the in-process check orders them, broadcast as a temp table
        lz = ctx.overlay_layers
        cindex = CountyIndex(ctx.counties, tol)
        n_zones = len(ctx.zones)
        conn.execute("CREATE TEMP TABLE _zz (zidx int PRIMARY KEY, kind text, zone_class text, zone_id text, "
                     "zone_name text, geom geometry(Geometry, 4490), inner_g geometry, outer_g geometry) ON COMMIT DROP")
        import shapely

        wkb = shapely.to_wkb(shapely.set_srid(lz.geometry.to_numpy(), 4490), hex=True, include_srid=True)
        inner = [None] * len(lz)
        outer = [None] * len(lz)
        for i in range(len(ctx.counties)):
            inner[n_zones + i] = shapely.to_wkb(shapely.set_srid(cindex.inner[i], 4490), hex=True, include_srid=True)
            outer[n_zones + i] = shapely.to_wkb(shapely.set_srid(cindex.outer[i], 4490), hex=True, include_srid=True)
        with conn.cursor() as cur, cur.copy("COPY _zz FROM STDIN") as cp:
            for i in range(len(lz)):
                cp.write_row((i, lz["kind"].iat[i], str(lz["zone_class"].iat[i]), str(lz["zone_id"].iat[i]),
                              str(lz["zone_name"].iat[i]), wkb[i], inner[i], outer[i]))
        conn.execute(f"ALTER TABLE _zz ADD COLUMN geom_m geometry; UPDATE _zz SET geom_m = ST_Transform(geom, {area_srid})")
        conn.execute("CREATE INDEX ON _zz USING GIST (geom); CREATE INDEX ON _zz USING GIST (geom_m); ANALYZE _zz")
        # the zones and counties cut into pieces of at most SUBDIVIDE_VERTICES vertices
        # (ST_Subdivide), each piece GIST-indexed: a point is tested against one small
        # piece instead of a polygon of hundreds of vertices, and a polygon site is
        # intersected with the few pieces it touches (the areas summed per zone).
        # _zs: lon/lat, for points; _zsm: equal-area, for areas; _cin/_cout: the counties
        # shrunk/grown by the tolerance (the county-line check of points).
        nv = int(SUBDIVIDE_VERTICES)
        conn.execute(f"""
            CREATE TEMP TABLE _zs ON COMMIT DROP AS
              SELECT zidx, kind = 'county' AS cty, ST_Subdivide(geom, {nv}) AS g FROM _zz WHERE NOT ST_IsEmpty(geom);
            CREATE INDEX ON _zs USING GIST (g); ANALYZE _zs;
            CREATE TEMP TABLE _zsm ON COMMIT DROP AS
              SELECT zidx, ST_Subdivide(geom_m, {nv}) AS g FROM _zz WHERE NOT ST_IsEmpty(geom_m);
            CREATE INDEX ON _zsm USING GIST (g); ANALYZE _zsm;
            CREATE TEMP TABLE _cin ON COMMIT DROP AS
              SELECT zidx, ST_Subdivide(inner_g, {nv}) AS g FROM _zz WHERE inner_g IS NOT NULL AND NOT ST_IsEmpty(inner_g);
            CREATE INDEX ON _cin USING GIST (g); ANALYZE _cin;
            CREATE TEMP TABLE _cout ON COMMIT DROP AS
              SELECT zidx, ST_Subdivide(outer_g, {nv}) AS g FROM _zz WHERE outer_g IS NOT NULL AND NOT ST_IsEmpty(outer_g);
            CREATE INDEX ON _cout USING GIST (g); ANALYZE _cout;
        """)
        conn.execute("CREATE TEMP TABLE _rank (kind text, zone_class text, rank int) ON COMMIT DROP")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO _rank VALUES (%s, %s, %s)",
                            [("groundwater_protection", k, v) for k, v in PROTECTION_RANK.items()]
                            + [("groundwater_control", k, v) for k, v in CONTROL_RANK.items()])

        # ---- the sites: type, representative point, area (one pass; OFFSET 0 keeps each
        # level from being folded into the next, so every expression is computed once)
        g_expr = sql.SQL("CASE WHEN ST_SRID({g}) = 4490 THEN {g} ELSE ST_Transform({g}, 4490) END").format(
            g=sql.Identifier(geom))
        conn.execute(sql.SQL(f"""
            CREATE TEMP TABLE _b ON COMMIT DROP AS
            SELECT sid, g, present, gtype, is_point, is_area, polytype, gm, area_m2,
                   CASE WHEN is_point THEN ST_X(g) WHEN is_area THEN ST_X(pos) END AS lon,
                   CASE WHEN is_point THEN ST_Y(g) WHEN is_area THEN ST_Y(pos) END AS lat,
                   coalesce(is_area AND area_m2 > 0, false) AS polygonal
            FROM (SELECT *, ST_Area(gm) AS area_m2 FROM (
                    SELECT *, CASE WHEN is_area THEN ST_Transform(g, {area_srid}) END AS gm,
                              CASE WHEN is_area THEN ST_PointOnSurface(g) END AS pos
                    FROM (SELECT sid, g, present, gtype,
                                 present AND gtype = 'POINT' AS is_point,
                                 present AND gtype <> 'POINT' AS is_area,
                                 present AND gtype IN ('POLYGON', 'MULTIPOLYGON') AS polytype
                          FROM (SELECT {{key}} AS sid, {{g}} AS g,
                                       ({{gc}} IS NOT NULL AND NOT ST_IsEmpty({{gc}})) AS present,
                                       GeometryType({{gc}}) AS gtype
                                FROM {{S}}) q0 OFFSET 0) q1 OFFSET 0) q2 OFFSET 0) q3;
            ALTER TABLE _b ADD PRIMARY KEY (sid);
            ANALYZE _b;
        """).format(key=sql.Identifier(key), g=g_expr, gc=sql.Identifier(geom), S=S))
        # the point sites and the other sites, each GIST-indexed: the joins below run piece
        # by piece (a few thousand index scans, each returning the sites in one piece's box,
        # the piece's prepared geometry reused), not site by site
        conn.execute("""
            CREATE TEMP TABLE _bp ON COMMIT DROP AS SELECT sid, g FROM _b WHERE is_point;
            CREATE INDEX ON _bp USING GIST (g); ANALYZE _bp;
            CREATE TEMP TABLE _ba ON COMMIT DROP AS SELECT sid, gm, polytype, area_m2 FROM _b WHERE is_area;
            CREATE INDEX ON _ba USING GIST (gm); ANALYZE _ba;
        """)

        # ---- (site, zone, overlap) pairs, set-wise against the pieces. A point on the cut
        # between two pieces of one zone hits both (DISTINCT); points also get their county
        # pairs here (_pp), kept out of _p. The overlap of an area site with a zone is the
        # sum over the zone's pieces (they do not overlap; a piece that covers the site adds
        # the site's area). A sum that comes out (near) zero is computed again against the
        # whole zone, so that a site sharing an edge with a zone gets no sliver from the
        # vertices ST_Subdivide puts on its cuts.
        conn.execute("""
            CREATE TEMP TABLE _pp ON COMMIT DROP AS
            SELECT DISTINCT b.sid, s.zidx, s.cty FROM _zs s JOIN _bp b ON ST_Intersects(s.g, b.g);
            CREATE TEMP TABLE _pa ON COMMIT DROP AS
            SELECT b.sid, s.zidx,
                   sum(CASE WHEN b.polytype AND ST_Covers(s.g, b.gm) THEN b.area_m2
                            ELSE ST_Area(ST_Intersection(b.gm, s.g)) END) AS a,
                   bool_and(b.polytype) AS polytype, min(b.area_m2) AS area_m2
              FROM _zsm s JOIN _ba b ON ST_Intersects(s.g, b.gm)
             GROUP BY b.sid, s.zidx;
            UPDATE _pa p SET a = ST_Area(ST_Intersection(b.gm, z.geom_m))
              FROM _ba b, _zz z
             WHERE p.polytype AND p.a <= 1e-6 * p.area_m2 AND b.sid = p.sid AND z.zidx = p.zidx;
            CREATE TEMP TABLE _p ON COMMIT DROP AS
            SELECT sid, zidx, NULL::float8 AS a FROM _pp WHERE NOT cty
            UNION ALL
            SELECT sid, zidx, a FROM _pa WHERE a > 0 OR NOT polytype;
            CREATE INDEX ON _p (sid); ANALYZE _p;
        """)

        # ---- county of point sites (as zoning.query.classify_points: zoning.core.overlay.CountyIndex.assign)
        # _pcc: the first county (in layer order) whose polygon holds the point.
        conn.execute("""
            CREATE TEMP TABLE _pcc ON COMMIT DROP AS
            SELECT sid, min(zidx) AS cidx FROM _pp WHERE cty GROUP BY sid;
            ALTER TABLE _pcc ADD PRIMARY KEY (sid); ANALYZE _pcc;
        """)
        if tol > 0:
            # near the line = not in the interior of its county shrunk by the tolerance: in
            # no piece's interior (ST_Contains; ST_Intersects only where that fails), and
            # for a point touching pieces but inside none (on a cut, or on the line),
            # ST_Contains on the whole shrunk county. The county across = the first other
            # county whose grown polygon contains the point, tested the same way.
            conn.execute("""
                CREATE TEMP TABLE _pin ON COMMIT DROP AS
                SELECT c.sid, bool_or(h.inside) AS inside
                  FROM (SELECT b.sid, s.zidx, ST_Contains(s.g, b.g) AS inside, s.g AS sg, b.g AS bg
                          FROM _cin s JOIN _bp b ON s.g && b.g OFFSET 0) h
                  JOIN _pcc c ON c.sid = h.sid AND c.cidx = h.zidx
                 WHERE h.inside OR ST_Intersects(h.sg, h.bg)
                 GROUP BY c.sid;
                UPDATE _pin p SET inside = ST_Contains(z.inner_g, b.g)
                  FROM _bp b, _pcc c, _zz z WHERE NOT p.inside AND b.sid = p.sid AND c.sid = p.sid AND z.zidx = c.cidx;
                CREATE TEMP TABLE _pnear ON COMMIT DROP AS
                SELECT c.sid, c.cidx, b.g FROM _pcc c JOIN _bp b USING (sid) LEFT JOIN _pin p USING (sid)
                 WHERE NOT coalesce(p.inside, false);
                ALTER TABLE _pnear ADD PRIMARY KEY (sid);
                CREATE INDEX ON _pnear USING GIST (g); ANALYZE _pnear;
                CREATE TEMP TABLE _pnb ON COMMIT DROP AS
                SELECT DISTINCT ON (q.sid) q.sid, q.zidx FROM (
                    SELECT n.sid, s.zidx, bool_or(ST_Contains(s.g, n.g)) AS inside
                      FROM _cout s JOIN _pnear n ON ST_Intersects(s.g, n.g) WHERE s.zidx <> n.cidx
                     GROUP BY n.sid, s.zidx) q
                  JOIN _pnear n USING (sid) JOIN _zz z ON z.zidx = q.zidx
                 WHERE q.inside OR ST_Contains(z.outer_g, n.g)
                 ORDER BY q.sid, q.zidx;
            """)
            near_sql = "c.cidx IS NOT NULL AND pn.sid IS NOT NULL"
            near_join = "LEFT JOIN _pnear pn ON pn.sid = b.sid LEFT JOIN _pnb pnb ON pnb.sid = b.sid"
            nb_zidx = "pnb.zidx"
        else:
            near_sql, near_join, nb_zidx = "false", "", "NULL::int"
        # outside every county: the nearest one (distance in the equal-area CRS)
        conn.execute(f"""
            CREATE TEMP TABLE _pout ON COMMIT DROP AS
            SELECT b.sid, ST_Transform(b.g, {area_srid}) AS gm
              FROM _bp b LEFT JOIN _pcc c USING (sid) WHERE c.sid IS NULL;
            CREATE TEMP TABLE _pnr ON COMMIT DROP AS
            SELECT DISTINCT ON (o.sid) o.sid, z.zidx, ST_Distance(z.geom_m, o.gm) AS d
              FROM _pout o CROSS JOIN (SELECT zidx, geom_m FROM _zz WHERE kind = 'county') z
             ORDER BY o.sid, d, z.zidx;
            CREATE TEMP TABLE _pc ON COMMIT DROP AS
            SELECT b.sid, ci.zone_class AS c_code, ci.zone_name AS c_name, ({near_sql}) AS near,
                   nb.zone_class AS n_code, nb.zone_name AS n_name,
                   nr.zone_class AS r_code, nr.zone_name AS r_name, pnr.d AS r_d
              FROM _b b LEFT JOIN _pcc c ON c.sid = b.sid LEFT JOIN _zz ci ON ci.zidx = c.cidx
              {near_join}
              LEFT JOIN _zz nb ON nb.zidx = {nb_zidx}
              LEFT JOIN _pnr pnr ON pnr.sid = b.sid LEFT JOIN _zz nr ON nr.zidx = pnr.zidx
             WHERE b.is_point;
            CREATE INDEX ON _pc (sid);
        """)

        # ---- per-site aggregates of the pairs
        mu = repr(settings.SQM_PER_MU)
        ha = repr(settings.SQM_PER_HA)
        zone_txt = (f"CASE WHEN b.polygonal THEN z.zone_class || ' ' || z.zone_name || ' [' || z.zone_id || '] ' || "
                    f"{_num(f'p.a / {ha}', 4)} || ' ha / ' || {_num(f'p.a / {mu}', 2)} || ' 亩 / ' || "
                    f"{_num('100 * p.a / b.area_m2', 1)} || '%' "
                    "ELSE z.zone_class || ' ' || z.zone_name || ' [' || z.zone_id || ']' END")
        share_order = "CASE WHEN b.polygonal THEN -p.a ELSE 0 END, p.zidx"
        conn.execute(f"""
            CREATE TEMP TABLE _za ON COMMIT DROP AS
            SELECT p.sid,
              string_agg({zone_txt}, '；' ORDER BY p.zidx) FILTER (WHERE z.kind IN ('groundwater_protection', 'groundwater_control')) AS zones,
              string_agg(z.zone_id, ',' ORDER BY p.zidx) FILTER (WHERE z.kind IN ('groundwater_protection', 'groundwater_control')) AS zone_ids,
              string_agg(DISTINCT z.kind || '|' || z.zone_class, E'\\n') FILTER (WHERE z.kind <> 'county') AS hits_key,
              bool_or(z.kind = 'planning_extent' AND z.zone_class = '中心城市规划区') AS in_pa,
              sum(coalesce(p.a, 0)) FILTER (WHERE z.kind = 'planning_extent' AND z.zone_class = '中心城市规划区') AS pa_a,
              bool_or(z.kind = 'planning_extent' AND z.zone_class = '中心城区') AS in_cc,
              sum(coalesce(p.a, 0)) FILTER (WHERE z.kind = 'planning_extent' AND z.zone_class = '中心城区') AS cc_a,
              count(*) FILTER (WHERE z.kind = 'county') AS n_cty,
              (array_agg(z.zone_name ORDER BY {share_order}) FILTER (WHERE z.kind = 'county'))[1] AS cty_name,
              (array_agg(z.zone_id ORDER BY {share_order}) FILTER (WHERE z.kind = 'county'))[1] AS cty_code,
              string_agg(z.zone_id, ',' ORDER BY {share_order}) FILTER (WHERE z.kind = 'county') AS cty_codes,
              string_agg(z.zone_name || ' ' || {_num('100 * p.a / b.area_m2', 1)} || '%', '；' ORDER BY {share_order})
                FILTER (WHERE z.kind = 'county' AND b.polygonal) AS cty_shares,
              sum(p.a) FILTER (WHERE z.kind = 'county' AND b.polygonal) AS cty_a
            FROM _p p JOIN _b b USING (sid) JOIN _zz z USING (zidx)
            GROUP BY p.sid;
            CREATE INDEX ON _za (sid);
            CREATE TEMP TABLE _top ON COMMIT DROP AS
            SELECT DISTINCT ON (sid, kind) sid, kind, zone_class, a, rank FROM (
              SELECT p.sid, z.kind, z.zone_class, sum(coalesce(p.a, 0)) AS a, coalesce(max(r.rank), 0) AS rank
                FROM _p p JOIN _zz z USING (zidx) LEFT JOIN _rank r ON r.kind = z.kind AND r.zone_class = z.zone_class
               WHERE z.kind IN ('groundwater_protection', 'groundwater_control') GROUP BY 1, 2, 3) q
            ORDER BY sid, kind, rank DESC, zone_class;
            CREATE INDEX ON _top (sid, kind);
        """)

        # ---- county, notes, evaluated
        tol_txt = f"{tol:.0f}"
        conn.execute(f"""
            CREATE TEMP TABLE _r ON COMMIT DROP AS
            SELECT b.sid, b.present, b.polygonal, b.area_m2, b.gtype, b.lon, b.lat, b.is_point, b.is_area,
              za.zones, za.zone_ids, coalesce(za.in_pa, false) AS in_pa, za.pa_a,
              coalesce(za.in_cc, false) AS in_cc, za.cc_a,
              CASE WHEN b.is_point AND tp.rank = 0 THEN NULL ELSE tp.zone_class END AS prot_class, tp.a AS prot_a,
              CASE WHEN b.is_point AND tc.rank = 0 THEN NULL ELSE tc.zone_class END AS ctrl_class, tc.a AS ctrl_a,
              CASE WHEN b.is_point THEN nullif(concat_ws(E'\\n',
                  CASE WHEN za.in_pa THEN 'planning_extent|中心城市规划区' END,
                  CASE WHEN za.in_cc THEN 'planning_extent|中心城区' END,
                  CASE WHEN tp.rank > 0 THEN 'groundwater_protection|' || tp.zone_class END,
                  CASE WHEN tc.rank > 0 AND NOT coalesce(tp.rank > 0, false) THEN 'groundwater_control|' || tc.zone_class END), '')
                ELSE za.hits_key END AS gov_key,
              CASE
                WHEN b.is_point AND pc.c_code IS NOT NULL THEN pc.c_name
                WHEN b.is_point AND pc.r_d <= {tol} THEN pc.r_name
                WHEN b.is_area AND coalesce(za.n_cty, 0) > 0 THEN za.cty_name END AS county,
              CASE
                WHEN b.is_point AND pc.c_code IS NOT NULL THEN pc.c_code
                WHEN b.is_point AND pc.r_d <= {tol} THEN pc.r_code
                WHEN b.is_area AND b.polygonal AND za.n_cty > 1 THEN za.cty_codes
                WHEN b.is_area AND b.polygonal AND za.n_cty = 1 THEN za.cty_code
                WHEN b.is_area AND za.n_cty > 0 THEN za.cty_codes END AS county_adcode,
              CASE WHEN b.is_area AND b.polygonal AND za.n_cty > 1 THEN za.cty_shares END AS county_shares,
              CASE
                WHEN b.is_point AND pc.c_code IS NOT NULL AND pc.near THEN
                  'within {tol_txt} m of the county line (the county layer''s positional accuracy)'
                  || CASE WHEN pc.n_name IS NOT NULL THEN '; it may lie in ' || pc.n_name || ' (' || pc.n_code || ')'
                          ELSE '; it may lie outside 晋城市' END
                WHEN b.is_point AND pc.c_code IS NULL AND pc.r_d <= {tol} THEN
                  'outside 晋城市 (county layer): nearest county ' || pc.r_name || ' (' || pc.r_code || ') '
                  || {_num('pc.r_d / 1000', 2)} || ' km away, within the layer''s positional accuracy ({tol_txt} m)'
                WHEN b.is_area AND b.polygonal AND za.n_cty > 0 AND za.cty_a / b.area_m2 < 0.995 THEN
                  {_num('100 * (1 - za.cty_a / b.area_m2)', 1)} || '% of the site lies outside 晋城市 (county layer)'
                END AS county_note,
              CASE
                WHEN b.is_point AND pc.c_code IS NULL AND NOT (pc.r_d <= {tol}) THEN
                  'outside 晋城市 (county layer): nearest county ' || pc.r_name || ' (' || pc.r_code || ') '
                  || {_num('pc.r_d / 1000', 2)} || ' km away'
                WHEN b.is_area AND coalesce(za.n_cty, 0) = 0 THEN 'outside 晋城市: the site touches no county of the county layer'
                END AS county_problem
            FROM _b b LEFT JOIN _za za USING (sid) LEFT JOIN _pc pc USING (sid)
              LEFT JOIN _top tp ON tp.sid = b.sid AND tp.kind = 'groundwater_protection'
              LEFT JOIN _top tc ON tc.sid = b.sid AND tc.kind = 'groundwater_control';
            ALTER TABLE _r RENAME COLUMN gov_key TO hits_key;
            ALTER TABLE _r ADD COLUMN evaluated boolean;
            UPDATE _r SET evaluated = present AND county_problem IS NULL;
            ALTER TABLE _r ADD PRIMARY KEY (sid);
        """)

        # ---- rules, once per distinct (zones hit, project attributes)
        attrs = [a for a in PROJECT_ATTRIBUTES if a in cols]
        attr_sel = sql.SQL("").join(sql.SQL(", s.{}").format(sql.Identifier(a)) for a in attrs)
        attr_names = sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(a)) for a in attrs)
        # a combination is keyed by the text of the row of its values (NULL and '' print
        # differently), so the result table can hash-join on it
        combo_key = sql.SQL("ROW(r.evaluated, r.hits_key {attr_sel})::text").format(attr_sel=attr_sel)
        conn.execute(sql.SQL("""
            CREATE TEMP TABLE _combo ON COMMIT DROP AS
            SELECT row_number() OVER () AS cid, * FROM (
              SELECT DISTINCT ON (ck) {ck} AS ck, r.evaluated, r.hits_key {attr_sel}
                FROM _r r JOIN {S} s ON s.{key} = r.sid ORDER BY ck) d;
            CREATE UNIQUE INDEX ON _combo (ck); ANALYZE _combo;
        """).format(ck=combo_key, attr_sel=attr_sel, S=S, key=sql.Identifier(key)))
        combos = conn.execute(sql.SQL("SELECT cid, evaluated, hits_key {} FROM _combo").format(attr_names)).fetchall()
        out_rows = []
        for cid, evaluated, hits_key, *vals in combos:
            values = {a: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v) for a, v in zip(attrs, vals)}
            project, problems = _project_for_row(ctx, values)
            hits = frozenset(tuple(h.split("|", 1)) for h in hits_key.split("\n")) if hits_key else frozenset()
            if evaluated:
                v = _verdict(ctx, hits, project)
                row = [v[c] for c in _VERDICT_COLS]
            else:
                row = [NOT_CHECKED, None, None, None, None, None, None]
            out_rows.append((cid, *row, "；".join(problems) or None))
        conn.execute("CREATE TEMP TABLE _v (cid bigint PRIMARY KEY, verdict text, articles text, missing_attributes text, "
                     "rule_ids text, basis_accuracy text, demonstration_basis boolean, basis_layers text, "
                     "attr_problems text) ON COMMIT DROP")
        with conn.cursor() as cur, cur.copy("COPY _v FROM STDIN") as cp:
            for r in out_rows:
                cp.write_row(r)
        combo_join = sql.SQL("c.ck = {}").format(combo_key)

        # ---- land use -> quota class, once per distinct value
        has = {c: c in cols for c in ("site_id", "site_name", "land_use", "area_ha_stated", "input_problem")}
        quota_classes = list(ctx.quota["classes"]) if ctx.quota else []
        conn.execute("CREATE TEMP TABLE _lu (land_use text PRIMARY KEY, quota_class text) ON COMMIT DROP")
        if has["land_use"] and quota_classes:
            uses = [r[0] for r in conn.execute(sql.SQL("SELECT DISTINCT {lu}::text FROM {S} WHERE {lu} IS NOT NULL").format(
                lu=sql.Identifier("land_use"), S=S)).fetchall()]
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO _lu VALUES (%s, %s)", [(u, match_land_use(u, quota_classes)) for u in uses])

        def col(name: str, typ: str = "text") -> sql.Composable:
            return sql.SQL("s.{}").format(sql.Identifier(name)) if has[name] else sql.SQL(f"NULL::{typ}")

        stated = sql.SQL("s.area_ha_stated::float8") if has["area_ha_stated"] else sql.SQL("NULL::float8")
        land_use = sql.SQL("s.land_use::text") if has["land_use"] else sql.SQL("NULL::text")
        input_problem = sql.SQL("nullif(s.input_problem::text, '')") if has["input_problem"] else sql.SQL("NULL::text")
        quota_on = "true" if quota_classes else "false"
        O = ident(out_schema, out_name)
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(O))
        conn.execute(sql.SQL(f"""
            CREATE TABLE {{O}} AS
            SELECT r.sid AS {{key}}, {{site_id}}::text AS site_id, {{site_name}}::text AS site_name,
              CASE WHEN NOT r.evaluated THEN 'error' WHEN prob.txt IS NOT NULL THEN 'warning' ELSE 'ok' END AS status_code,
              coalesce(prob.txt, 'ok') AS status,
              -- points as numpy's np.round(x, 7) (rint(x * 1e7) / 1e7: ties to even), the
              -- representative point of an area as Python's round(x, 7)
              CASE WHEN r.is_point THEN round(r.lon * 1e7::float8) / 1e7::float8 ELSE round(r.lon::numeric, 7)::float8 END AS lon,
              CASE WHEN r.is_point THEN round(r.lat * 1e7::float8) / 1e7::float8 ELSE round(r.lat::numeric, 7)::float8 END AS lat,
              CASE r.gtype WHEN 'POINT' THEN 'Point' WHEN 'LINESTRING' THEN 'LineString' WHEN 'POLYGON' THEN 'Polygon'
                WHEN 'MULTIPOINT' THEN 'MultiPoint' WHEN 'MULTILINESTRING' THEN 'MultiLineString'
                WHEN 'MULTIPOLYGON' THEN 'MultiPolygon' WHEN 'GEOMETRYCOLLECTION' THEN 'GeometryCollection' END AS geom_type,
              CASE WHEN r.polygonal THEN round((r.area_m2 / {ha})::numeric, 4)::float8 END AS site_area_ha,
              CASE WHEN r.polygonal THEN round((r.area_m2 / {mu})::numeric, 2)::float8 END AS site_area_mu,
              CASE WHEN r.present AND (r.evaluated OR r.is_point) THEN r.county END AS county,
              CASE WHEN r.present AND (r.evaluated OR r.is_point) THEN r.county_adcode END AS county_adcode,
              CASE WHEN r.evaluated THEN r.county_shares END AS county_shares,
              CASE WHEN r.present THEN r.county_note END AS county_note,
              CASE WHEN r.present THEN r.in_pa END AS in_planning_area,
              CASE WHEN r.polygonal THEN round((100 * coalesce(r.pa_a, 0) / r.area_m2)::numeric, 1)::float8
                   WHEN r.present THEN CASE WHEN r.in_pa THEN 100.0 ELSE 0.0 END END AS planning_area_pct,
              CASE WHEN r.present THEN r.in_cc END AS in_central_city,
              CASE WHEN r.polygonal THEN round((100 * coalesce(r.cc_a, 0) / r.area_m2)::numeric, 1)::float8
                   WHEN r.present THEN CASE WHEN r.in_cc THEN 100.0 ELSE 0.0 END END AS central_city_pct,
              r.prot_class AS protection_class,
              CASE WHEN r.polygonal AND r.prot_class IS NOT NULL THEN round((r.prot_a / {ha})::numeric, 4)::float8 END AS protection_ha,
              CASE WHEN r.polygonal AND r.prot_class IS NOT NULL THEN round((100 * r.prot_a / r.area_m2)::numeric, 1)::float8 END AS protection_pct,
              r.ctrl_class AS control_level,
              CASE WHEN r.polygonal AND r.ctrl_class IS NOT NULL THEN round((r.ctrl_a / {ha})::numeric, 4)::float8 END AS control_ha,
              CASE WHEN r.polygonal AND r.ctrl_class IS NOT NULL THEN round((100 * r.ctrl_a / r.area_m2)::numeric, 1)::float8 END AS control_pct,
              r.zones, r.zone_ids,
              v.verdict, v.articles, v.missing_attributes, v.rule_ids, v.basis_accuracy, v.demonstration_basis, v.basis_layers,
              {{land_use}} AS land_use, lu.quota_class, {{stated}} AS area_ha_stated,
              CASE WHEN {quota_on} AND {{land_use}} IS NOT NULL AND r.evaluated AND r.in_cc
                        AND coalesce({{stated}}, CASE WHEN r.polygonal THEN r.area_m2 / {ha} END) IS NOT NULL
                   THEN round((coalesce({{stated}}, CASE WHEN r.polygonal THEN r.area_m2 / {ha} END)
                               * CASE WHEN r.polygonal THEN coalesce(r.cc_a, 0) / r.area_m2 ELSE 1.0 END)::numeric, 4)::float8
                   END AS quota_area_ha
            FROM _r r JOIN {{S}} s ON s.{{key}} = r.sid
              JOIN _combo c ON {{combo_join}}
              JOIN _v v ON v.cid = c.cid
              LEFT JOIN _lu lu ON lu.land_use = {{land_use}}
              CROSS JOIN LATERAL (SELECT nullif(concat_ws('；', {{input_problem}},
                                    CASE WHEN r.present THEN r.county_problem END, v.attr_problems), '') AS txt) prob
            ORDER BY r.sid
        """).format(O=O, key=sql.Identifier(key), site_id=col("site_id"), site_name=col("site_name"),
                    land_use=land_use, stated=stated, S=S, combo_join=combo_join, input_problem=input_problem))
        conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(O, sql.Identifier(key)))
        counts = dict(conn.execute(sql.SQL("SELECT verdict, count(*) FROM {} GROUP BY verdict").format(O)).fetchall())
        n = int(sum(counts.values()))
    return DatabaseCheck(table=f"{out_schema}.{out_name}", key=key, n_sites=n, verdict_counts=counts,
                         combinations=len(combos), demonstration_layers=ctx.demonstration_layers)


# ============================================================================ dask


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
    from zoning.check import check_sites

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


def _warm_worker(pack: Pack) -> None:
    """Read the pack's query context (cached per process) before the first partition arrives."""
    from zoning.query import load_context

    load_context(pack)


def _scatter_context(client: Any, ctx: CheckContext) -> Any:
    """The context sent once to every worker (pickled once), and the workers told to read
    the pack's layers meanwhile (asynchronously: the client goes on splitting the sites)."""
    from dask.distributed import fire_and_forget

    [fut] = client.scatter([ctx], broadcast=True, hash=False)
    for w in client.scheduler_info().get("workers", {}):
        fire_and_forget(client.submit(_warm_worker, ctx.pack, workers=[w], allow_other_workers=False, pure=False))
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
    _context_future: Any = None,
) -> gpd.GeoDataFrame:
    """:func:`zoning.check.check_sites` run partitioned on a dask cluster.

    The sites are split into ``npartitions`` (default: one per ``partition_size`` rows,
    at least two per worker) spatially coherent partitions (sorted by Hilbert distance,
    as dask-geopandas computes it, and cut into contiguous runs), each checked on a
    worker; the pack's context (zones, counties, rules) is built once here and sent once
    to every worker. The partitions are scattered to the workers directly (not embedded
    in a task graph), and the results come back without their geometry (the input's,
    put back here). The result is identical to the in-process engine, rows in input
    order.

    ``client`` uses an existing dask Client; otherwise ``scheduler`` (an address) or a
    LocalCluster of ``workers`` processes is started and closed.
    """
    from zoning.check import _as_sites, build_context

    if client is None:
        with dask_client(workers=workers, scheduler=scheduler) as own:
            return check_sites_dask(sites, pack, client=own, npartitions=npartitions, partition_size=partition_size,
                                    project_defaults=project_defaults, on_date=on_date, context=context)
    import geopandas as gpd

    gdf = _as_sites(sites)  # EPSG:4490, fresh index, row numbers 1..n for the whole input
    ctx = context or build_context(pack, project_defaults=project_defaults, on_date=on_date)
    n = len(gdf)
    if n == 0:
        from zoning.check import check_sites

        return check_sites(gdf, context=ctx)
    ctx_future = _context_future if _context_future is not None else _scatter_context(client, ctx)
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
        dtypes = {c: t for c, t in gdf.dtypes.items() if c not in (gdf.geometry.name, _POS)}
        part_futures = client.scatter(parts, hash=False)
        futures = client.map(_check_partition, part_futures, ctx=ctx_future, dtypes=dtypes, keep_geometry=False,
                             pure=False)
        frames = [f for f in client.gather(futures) if len(f)]
        del part_futures, futures
    if len(unplaced):
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
    The pack's context is sent to the workers once, for all chunks.

    ``read_kwargs`` go to :func:`zoning.inputs.sites.iter_sites` (crs, order, fields, layer,
    sheet, encoding, chunksize).
    """
    from zoning.check import build_context
    from zoning.inputs.sites import iter_sites

    ctx = context or build_context(pack, project_defaults=project_defaults, on_date=on_date)
    if client is None:
        with dask_client(workers=workers, scheduler=scheduler) as own:
            yield from iter_check_dask(path, client=own, context=ctx, partition_size=partition_size, **read_kwargs)
        return
    ctx_future = _scatter_context(client, ctx)
    for chunk in iter_sites(path, **read_kwargs):
        yield check_sites_dask(chunk, client=client, context=ctx, partition_size=partition_size,
                               _context_future=ctx_future)
