"""The PostGIS engine: the hits of a site table computed in SQL, the answers in Python.

:func:`database_hits` computes, for a site table already in PostGIS, the two tables of
:class:`zoning.core.hits.Hits` — one row per site, one per (site, feature) — with the
meanings :mod:`zoning.core.hits` defines, set-wise in SQL:

- the pack's features (:attr:`zoning.core.context.PackContext.features`, their row
  positions as ``feature``) and counties are pushed into temporary tables, in lon/lat
  and in the equal-area CRS (:data:`zoning.core.settings.area_crs`, registered as
  :data:`zoning.core.postgis.AREA_SRID`; the projected geometries are the context's, so
  both engines measure the same polygons), with the counties shrunk and grown by the
  county layer's positional accuracy (the context's own
  :class:`zoning.core.overlay.CountyIndex` polygons);
- each is cut with ``ST_Subdivide`` into GIST-indexed pieces of at most
  :data:`SUBDIVIDE_VERTICES` vertices; the sites are GIST-indexed too, and the joins run
  piece by piece: points (and the representative point of every other site) by
  ``ST_Intersects``/``ST_Contains``, other sites by ``ST_Area(ST_Intersection(...))``
  summed per feature (a point on a cut, or an overlap that comes out near zero, is
  decided again on the whole polygon);
- the outcome is two temporary tables, ``_hs`` (the site columns) and ``_ht`` (the hits),
  keyed by ``sid``, the rank of the site's key.

:func:`check_in_database` reads them back page by page (``sid`` ranges: keyset
pagination in key order, so memory is bounded by the page), with the site's input
attributes but never its geometry, runs :func:`zoning.check.assemble` on each page —
the one place where hits become counties, classes, verdicts and text — and writes the
result rows back into a table with ``COPY``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.check import BOOLEAN_COLUMNS, NUMERIC_COLUMNS, RESULT_COLUMNS, assemble, build_context
from zoning.core import postgis as pg
from zoning.core import settings, vocab
from zoning.core.errors import EngineError
from zoning.core.hits import HIT_COLUMNS, SITE_COLUMNS, Hits
from zoning.core.overlay import NEAREST_REACH_M
from zoning.core.rules import PROJECT_ATTRIBUTES
from zoning.engines.local import hits_frames, python_value

if TYPE_CHECKING:
    import psycopg

    from zoning.check import CheckContext
    from zoning.core.context import PackContext
    from zoning.core.layers import Pack

__all__ = ["DATABASE_COLUMNS", "PAGE_SIZE", "SUBDIVIDE_VERTICES", "DatabaseCheck", "HitsPage", "check_in_database",
           "database_hits"]

#: Most vertices per piece when the features and counties are cut with ``ST_Subdivide``
#: (smaller pieces: cheaper point-in-polygon and intersection tests, more index entries).
SUBDIVIDE_VERTICES = 64

#: Sites per page read back from the database and assembled at once.
PAGE_SIZE = settings.DEFAULT_CHUNKSIZE  # rows fetched at a time: a reader's chunk

#: Columns of the result table written by :func:`check_in_database` (after the key),
#: with the same meaning and values as in :data:`zoning.check.RESULT_COLUMNS`.
DATABASE_COLUMNS: tuple[str, ...] = tuple(c for c in RESULT_COLUMNS if c not in ("source", "row"))

#: Input columns read back with the hits (as check_sites reads them from a file).
_INPUT_TEXT = ("site_id", "site_name", "land_use")



@dataclass
class DatabaseCheck:
    """What :func:`check_in_database` wrote."""

    table: str
    key: str
    n_sites: int
    verdict_counts: dict[str, int] = field(default_factory=dict)
    #: distinct answers (verdict, articles, rules, attributes to confirm) among the sites
    combinations: int = 0
    demonstration_layers: list[str] = field(default_factory=list)


@dataclass
class HitsPage:
    """One page of :func:`database_hits`: the sites' keys, their input attributes (no
    geometry) and their hits, all in key order."""

    keys: list[Any]
    attrs: pd.DataFrame
    hits: Hits


def _split_table(table: str, schema: str | None) -> tuple[str, str]:
    if "." in table and schema is None:
        s, t = table.split(".", 1)
        return s, t
    return schema or "public", table


# ----------------------------------------------------------------------------- SQL


def _hex(geoms: Any, srid: int) -> list[str | None]:
    import shapely

    arr = np.asarray(geoms, dtype=object)
    out: list[str | None] = [None] * len(arr)
    ok = ~shapely.is_missing(arr)
    if ok.any():
        wkb = shapely.to_wkb(shapely.set_srid(arr[ok], srid), hex=True, include_srid=True)
        for i, w in zip(np.flatnonzero(ok), wkb):
            out[i] = w
    return out


def _tree_order(ctx: PackContext) -> np.ndarray:
    """The tie-break among equal county overlaps (a line across a county line overlaps both
    by 0 m²): the county layer's row order, as :func:`zoning.core.hits.site_hits` uses."""
    return np.arange(len(ctx.counties))


def _push_pack(conn: psycopg.Connection, ctx: PackContext, nv: int) -> None:
    """The features and counties as temporary tables, with their subdivided, indexed pieces.

    ``_f``: feature (row of ``ctx.features``), kind, layer, zone_class, zone_id, geom
    (lon/lat), geom_m (equal-area). ``_c``: county (row of ``ctx.counties``), adcode,
    name, layer, tie (:func:`_tree_order`), geom (lon/lat, made valid: containment of points), geom_m (equal-area:
    overlaps and distances), inner_g / outer_g (shrunk / grown by the tolerance).
    Pieces: ``_fs``/``_cs`` (lon/lat), ``_fsm``/``_csm`` (equal-area), ``_cin``/``_cout``.
    """
    area = pg.AREA_SRID
    f = ctx.features
    conn.execute("CREATE TEMP TABLE _f (feature int PRIMARY KEY, kind text, layer text, zone_class text, "
                 "zone_id text, geom geometry, geom_m geometry) ON COMMIT DROP")
    g, gm = _hex(f.geometry.to_numpy(), 4490), _hex(ctx.features_m, area)
    cols = [f[c].to_numpy(dtype=object) for c in ("kind", "layer", "zone_class", "zone_id")]
    with conn.cursor() as cur, cur.copy("COPY _f FROM STDIN") as cp:
        for i in range(len(f)):
            cp.write_row((i, *(None if c[i] is None else str(c[i]) for c in cols), g[i], gm[i]))
    cidx = ctx.county_index
    tol = ctx.county_tolerance_m
    conn.execute("CREATE TEMP TABLE _c (county int PRIMARY KEY, adcode text, name text, layer text, tie int, "
                 "geom geometry, geom_m geometry, inner_g geometry, outer_g geometry) ON COMMIT DROP")
    c = ctx.counties
    tie = _tree_order(ctx)
    g, gm = _hex(cidx.geoms, 4490), _hex(ctx.counties_m, area)
    inner = _hex(cidx.inner, 4490) if tol > 0 else [None] * len(c)
    outer = _hex(cidx.outer, 4490) if tol > 0 else [None] * len(c)
    codes, names = c["adcode"].astype(str).to_numpy(), c["name"].astype(str).to_numpy()
    with conn.cursor() as cur, cur.copy("COPY _c FROM STDIN") as cp:
        for i in range(len(c)):
            cp.write_row((i, codes[i], names[i], ctx.county_spec.name, int(tie[i]), g[i], gm[i], inner[i], outer[i]))
    pieces = []
    for name, table, key, col in (("_fs", "_f", "feature", "geom"), ("_fsm", "_f", "feature", "geom_m"),
                                  ("_cs", "_c", "county", "geom"), ("_csm", "_c", "county", "geom_m"),
                                  ("_cin", "_c", "county", "inner_g"), ("_cout", "_c", "county", "outer_g")):
        pieces.append(f"""
            CREATE TEMP TABLE {name} ON COMMIT DROP AS
              SELECT {key}, ST_Subdivide({col}, {nv}) AS g FROM {table} WHERE {col} IS NOT NULL AND NOT ST_IsEmpty({col});
            CREATE INDEX ON {name} USING GIST (g); ANALYZE {name};""")
    conn.execute("ANALYZE _f; ANALYZE _c;" + "".join(pieces))


def _push_sites(conn: psycopg.Connection, S: Any, key: str, geom: str, inputs: list[str]) -> int:
    """``_b``: one row per site — ``sid`` (1.. in key order), the key, the input
    attributes, the geometry in lon/lat, its type, its representative point (the point,
    or a point on the surface) and, for the other sites, the geometry in the equal-area
    CRS and (polygons) its area. ``_bp``: the representative points, ``_ba``: the
    non-point sites, each GIST-indexed."""
    from psycopg import sql

    area = pg.AREA_SRID
    gc = sql.Identifier(geom)
    g_expr = sql.SQL("CASE WHEN ST_SRID({g}) = 4490 THEN {g} ELSE ST_Transform({g}, 4490) END").format(g=gc)

    def attr(name: str) -> sql.Composable:
        if name == "area_ha_stated":
            return sql.SQL("s.{c}::float8 AS {c}").format(c=sql.Identifier(name))
        if name == "input_problem":
            return sql.SQL("nullif(s.{c}::text, '') AS {c}").format(c=sql.Identifier(name))
        if name in _INPUT_TEXT:
            return sql.SQL("s.{c}::text AS {c}").format(c=sql.Identifier(name))
        return sql.SQL("s.{c}").format(c=sql.Identifier(name))

    attrs = sql.SQL("").join(sql.SQL(", ") + attr(a) for a in inputs)
    names = sql.SQL("").join(sql.SQL(", ") + sql.Identifier(a) for a in inputs)
    # OFFSET 0 keeps each level from being folded into the next: every expression once
    conn.execute(sql.SQL(f"""
        CREATE TEMP TABLE _b ON COMMIT DROP AS
        SELECT sid, k, present, gtype, is_point, is_area, polytype, g, rep, gm,
               CASE WHEN polytype THEN ST_Area(gm) END AS area_m2 {{names}}
        FROM (SELECT *, CASE WHEN is_point THEN g WHEN is_area THEN ST_PointOnSurface(g) END AS rep,
                        CASE WHEN is_area THEN ST_Transform(g, {area}) END AS gm
              FROM (SELECT *, present AND gtype = 'POINT' AS is_point, present AND gtype <> 'POINT' AS is_area,
                           present AND gtype IN ('POLYGON', 'MULTIPOLYGON') AS polytype
                    FROM (SELECT row_number() OVER (ORDER BY s.{{key}}) AS sid, s.{{key}} AS k, {{g}} AS g,
                                 ({{gc}} IS NOT NULL AND NOT ST_IsEmpty({{gc}})) AS present,
                                 CASE WHEN {{gc}} IS NOT NULL AND NOT ST_IsEmpty({{gc}}) THEN GeometryType({{gc}}) END AS gtype
                                 {{attrs}}
                          FROM {{S}} s) q0 OFFSET 0) q1 OFFSET 0) q2;
        ALTER TABLE _b ADD PRIMARY KEY (sid);
        ANALYZE _b;
        CREATE TEMP TABLE _bp ON COMMIT DROP AS SELECT sid, is_point, rep AS p FROM _b WHERE present;
        CREATE INDEX ON _bp USING GIST (p); ALTER TABLE _bp ADD PRIMARY KEY (sid); ANALYZE _bp;
        CREATE TEMP TABLE _ba ON COMMIT DROP AS SELECT sid, gm, polytype, area_m2 FROM _b WHERE is_area;
        CREATE INDEX ON _ba USING GIST (gm); ANALYZE _ba;
    """).format(key=sql.Identifier(key), g=g_expr, gc=gc, S=S, attrs=attrs, names=names))
    return int(_single(conn.execute("SELECT count(*) FROM _b").fetchone()))


def _single(row: tuple[Any, ...] | None) -> Any:
    """The value of a query that returns exactly one row (``count(*)``, ``to_regclass``)."""
    if row is None:
        msg = "the database returned no row where one is always returned"
        raise EngineError(msg)
    return row[0]


def _locate_points(conn: psycopg.Connection, tol: float) -> None:
    """The county columns of the representative points (:meth:`CountyIndex.assign`):
    ``_pc`` the first county (in layer order) holding the point; ``_pnear`` the points
    within ``tol`` of their county's line (outside its shrunk polygon); ``_pnb`` the
    first other county whose grown polygon holds such a point; ``_pn`` the nearest county
    of a point outside every county, within reach, and its distance (equal-area CRS)."""
    area = pg.AREA_SRID
    conn.execute("""
        CREATE TEMP TABLE _pc ON COMMIT DROP AS
        SELECT b.sid, min(s.county) AS county FROM _cs s JOIN _bp b ON ST_Intersects(s.g, b.p) GROUP BY b.sid;
        ALTER TABLE _pc ADD PRIMARY KEY (sid); ANALYZE _pc;
    """)
    if tol > 0:
        # inside the shrunk county = in a piece's interior (ST_Contains), or, for a point
        # touching pieces but inside none (on a cut, or on the line), in the whole shrunk
        # county's interior. The county across: the first other county whose grown
        # polygon holds the point, tested the same way.
        conn.execute("""
            CREATE TEMP TABLE _pin ON COMMIT DROP AS
            SELECT c.sid, bool_or(h.inside) AS inside
              FROM (SELECT b.sid, s.county, ST_Contains(s.g, b.p) AS inside, s.g AS sg, b.p AS bp
                      FROM _cin s JOIN _bp b ON s.g && b.p OFFSET 0) h
              JOIN _pc c ON c.sid = h.sid AND c.county = h.county
             WHERE h.inside OR ST_Intersects(h.sg, h.bp)
             GROUP BY c.sid;
            UPDATE _pin p SET inside = ST_Contains(z.inner_g, b.p)
              FROM _bp b, _pc c, _c z WHERE NOT p.inside AND b.sid = p.sid AND c.sid = p.sid AND z.county = c.county;
            CREATE TEMP TABLE _pnear ON COMMIT DROP AS
            SELECT c.sid, c.county, b.p FROM _pc c JOIN _bp b USING (sid) LEFT JOIN _pin p USING (sid)
             WHERE NOT coalesce(p.inside, false);
            ALTER TABLE _pnear ADD PRIMARY KEY (sid);
            CREATE INDEX ON _pnear USING GIST (p); ANALYZE _pnear;
            CREATE TEMP TABLE _pnb ON COMMIT DROP AS
            SELECT DISTINCT ON (q.sid) q.sid, q.county FROM (
                SELECT n.sid, s.county, bool_or(ST_Contains(s.g, n.p)) AS inside
                  FROM _cout s JOIN _pnear n ON ST_Intersects(s.g, n.p) WHERE s.county <> n.county
                 GROUP BY n.sid, s.county) q
              JOIN _pnear n USING (sid) JOIN _c z ON z.county = q.county
             WHERE q.inside OR ST_Contains(z.outer_g, n.p)
             ORDER BY q.sid, q.county;
            ALTER TABLE _pnb ADD PRIMARY KEY (sid);
        """)
    else:
        conn.execute("CREATE TEMP TABLE _pnear (sid bigint PRIMARY KEY, county int, p geometry) ON COMMIT DROP; "
                     "CREATE TEMP TABLE _pnb (sid bigint PRIMARY KEY, county int) ON COMMIT DROP")
    reach = max(NEAREST_REACH_M, 2 * tol)  # as CountyIndex.assign looks for a batch
    conn.execute(f"""
        CREATE TEMP TABLE _po ON COMMIT DROP AS
        SELECT b.sid, ST_Transform(b.p, {area}) AS pm FROM _bp b LEFT JOIN _pc c USING (sid) WHERE c.sid IS NULL;
        CREATE TEMP TABLE _pn ON COMMIT DROP AS
        SELECT DISTINCT ON (sid) sid, county, d FROM (
            SELECT o.sid, s.county, min(ST_Distance(s.g, o.pm)) AS d
              FROM _po o JOIN _csm s ON ST_DWithin(s.g, o.pm, {reach!r}) GROUP BY o.sid, s.county) q
         ORDER BY sid, d, county;
        ALTER TABLE _pn ADD PRIMARY KEY (sid);
    """)


def _overlaps(conn: psycopg.Connection) -> None:
    """``_haf`` / ``_hac``: (site, feature / county, overlap m²) of the non-point sites,
    summed over the pieces (which do not overlap; a piece covering the site adds the
    site's area). A polygon's overlap that comes out (near) zero is computed again on the
    whole polygon, so that a site sharing an edge gets no sliver from the vertices
    ``ST_Subdivide`` puts on its cuts; a polygon keeps the features it overlaps with an
    area, any other site those it touches."""
    for out, pieces, whole, col in (("_haf", "_fsm", "_f", "feature"), ("_hac", "_csm", "_c", "county")):
        conn.execute(f"""
            CREATE TEMP TABLE {out} ON COMMIT DROP AS
            SELECT b.sid, s.{col},
                   sum(CASE WHEN NOT b.polytype THEN 0
                            WHEN ST_Covers(s.g, b.gm) THEN b.area_m2
                            ELSE ST_Area(ST_Intersection(b.gm, s.g)) END) AS a,
                   bool_and(b.polytype) AS polytype, min(b.area_m2) AS area_m2
              FROM {pieces} s JOIN _ba b ON ST_Intersects(s.g, b.gm)
             GROUP BY b.sid, s.{col};
            UPDATE {out} p SET a = ST_Area(ST_Intersection(b.gm, z.geom_m))
              FROM _ba b, {whole} z
             WHERE p.polytype AND p.a <= 1e-6 * p.area_m2 AND b.sid = p.sid AND z.{col} = p.{col};
            DELETE FROM {out} WHERE polytype AND NOT a > 0;
            CREATE INDEX ON {out} (sid); ANALYZE {out};
        """)


def _hit_tables(conn: psycopg.Connection, tol: float) -> None:
    """``_hs`` (one row per site: :data:`zoning.core.hits.SITE_COLUMNS`) and ``_ht`` (one
    row per site and feature or county: :data:`zoning.core.hits.HIT_COLUMNS`), as
    :func:`zoning.core.hits.site_hits` defines them."""
    from psycopg import sql

    names = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon", "MULTIPOINT": "MultiPoint",
             "MULTILINESTRING": "MultiLineString", "MULTIPOLYGON": "MultiPolygon",
             "GEOMETRYCOLLECTION": "GeometryCollection"}
    gtype = sql.SQL("CASE b.gtype {} END").format(sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN {}").format(sql.Literal(k), sql.Literal(v)) for k, v in names.items()))
    counties = sql.Literal(vocab.COUNTIES)
    t = sql.Literal(float(tol))
    conn.execute(sql.SQL("""
        CREATE TEMP TABLE _hca ON COMMIT DROP AS
        SELECT h.sid, (array_agg(h.county ORDER BY coalesce(h.a, 0) DESC, c.tie))[1] AS c1,
                      (array_agg(h.county ORDER BY coalesce(h.a, 0) DESC, c.tie))[2] AS c2,
                      sum(coalesce(h.a, 0)) AS inside_m2
          FROM _hac h JOIN _c c USING (county) GROUP BY h.sid;
        ALTER TABLE _hca ADD PRIMARY KEY (sid);
        CREATE TEMP TABLE _hs ON COMMIT DROP AS
        SELECT sid, present, geom_type, lon, lat, area_m2,
               CASE WHEN touched THEN a1.adcode WHEN pt_in THEN c.adcode WHEN within THEN cr.adcode END AS adcode,
               CASE WHEN touched THEN a1.name WHEN pt_in THEN c.name WHEN within THEN cr.name END AS county,
               CASE WHEN touched THEN true WHEN is_area THEN false ELSE pt_in END AS in_city,
               touched OR pt_in OR within AS located,
               (touched AND a2.county IS NOT NULL) OR (pt_in AND near) OR within AS near_line,
               CASE WHEN touched AND a2.county IS NOT NULL THEN a2.adcode ELSE cn.adcode END AS near_adcode,
               CASE WHEN touched AND a2.county IS NOT NULL THEN a2.name ELSE cn.name END AS near_county,
               CASE WHEN touched AND a2.county IS NOT NULL THEN 0.0::float8 WHEN within THEN nd END AS boundary_distance_m,
               cr.adcode AS nearest_adcode, cr.name AS nearest_county, nd AS nearest_distance_m,
               CASE WHEN touched AND area_m2 IS NOT NULL THEN greatest(area_m2 - inside_m2, 0)
                    WHEN is_area AND NOT touched THEN area_m2 END AS outside_m2
          FROM (SELECT b.sid, b.present, {gtype} AS geom_type, ST_X(b.rep) AS lon, ST_Y(b.rep) AS lat, b.area_m2,
                       b.is_area, pc.county IS NOT NULL AS pt_in, pn.sid IS NOT NULL AS near,
                       pc.county IS NULL AND coalesce(nr.d <= {t}, false) AS within,
                       b.is_area AND ca.sid IS NOT NULL AS touched, ca.c1, ca.c2, ca.inside_m2,
                       pc.county AS pt_county, nb.county AS nb_county, nr.county AS nr_county, nr.d AS nd
                  FROM _b b LEFT JOIN _pc pc USING (sid) LEFT JOIN _pnear pn USING (sid)
                       LEFT JOIN _pnb nb USING (sid) LEFT JOIN _pn nr USING (sid) LEFT JOIN _hca ca USING (sid)) q
               LEFT JOIN _c c ON c.county = q.pt_county LEFT JOIN _c cn ON cn.county = q.nb_county
               LEFT JOIN _c cr ON cr.county = q.nr_county
               LEFT JOIN _c a1 ON a1.county = q.c1 LEFT JOIN _c a2 ON a2.county = q.c2;
        ALTER TABLE _hs ADD PRIMARY KEY (sid);
        CREATE TEMP TABLE _ht ON COMMIT DROP AS
        SELECT h.sid, f.kind, f.layer, h.feature, f.zone_class, f.zone_id, NULL::float8 AS overlap_m2,
               1.0::float8 AS share, false AS cty
          FROM (SELECT DISTINCT b.sid, s.feature FROM _fs s JOIN _bp b ON ST_Intersects(s.g, b.p) WHERE b.is_point) h
          JOIN _f f USING (feature)
        UNION ALL
        SELECT pc.sid, {counties}, c.layer, pc.county, c.adcode, c.adcode, NULL, 1.0, true
          FROM _pc pc JOIN _bp b USING (sid) JOIN _c c USING (county) WHERE b.is_point
        UNION ALL
        SELECT h.sid, f.kind, f.layer, h.feature, f.zone_class, f.zone_id, CASE WHEN h.polytype THEN h.a END,
               CASE WHEN h.polytype AND h.area_m2 > 0 THEN h.a / h.area_m2 ELSE 1.0 END, false
          FROM _haf h JOIN _f f USING (feature)
        UNION ALL
        SELECT h.sid, {counties}, c.layer, h.county, c.adcode, c.adcode, CASE WHEN h.polytype THEN h.a END,
               CASE WHEN h.polytype AND h.area_m2 > 0 THEN h.a / h.area_m2 ELSE 1.0 END, true
          FROM _hac h JOIN _c c USING (county);
        CREATE INDEX ON _ht (sid, feature, cty); ANALYZE _ht;
    """).format(gtype=gtype, counties=counties, t=t))


def _resolve(conn: psycopg.Connection, sites_dsn: str, key: str | None, geom: str | None
             ) -> tuple[str, str, str, str, list[str], str]:
    """Schema, table, key, geometry column, the table's columns and the key's SQL type."""
    parts = pg.parse_dsn(sites_dsn)
    if not parts.get("table"):
        msg = f"{pg.redact(sites_dsn)}: name the site table with ?table=NAME"
        raise EngineError(msg)
    schema, table = _split_table(parts["table"], parts.get("schema"))
    regclass = f'"{schema}"."{table}"'
    if _single(conn.execute("SELECT to_regclass(%s)", (regclass,)).fetchone()) is None:
        msg = f"{pg.redact(sites_dsn)}: table {schema}.{table} not found"
        raise EngineError(msg)
    cols = {r[0]: r[1] for r in conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (regclass,)).fetchall()}
    geom = geom or parts.get("geom")
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
            (regclass,)).fetchall()
        if len(pk) != 1:
            msg = f"{schema}.{table}: no single-column primary key; name a unique column with ?key=COLUMN"
            raise EngineError(msg)
        key = pk[0][0]
    for c in (key, geom):
        if c not in cols:
            msg = f"{schema}.{table}: column {c!r} not found; columns: {', '.join(cols)}"
            raise EngineError(msg)
    return schema, table, key, geom, list(cols), cols[key]


def _compute_hits(conn: psycopg.Connection, ctx: PackContext, S: Any, key: str, geom: str,
                  inputs: list[str]) -> int:
    """Every temporary table up to ``_hs``/``_ht`` (one transaction); the number of sites."""
    pg.ensure_area_srid(conn)
    conn.execute("SET LOCAL work_mem = '128MB'")
    # long joins over few, cheap-to-plan tables: JIT costs ~0.6 s a statement and saves nothing
    conn.execute("SET LOCAL jit = off")
    _push_pack(conn, ctx, int(SUBDIVIDE_VERTICES))
    n = _push_sites(conn, S, key, geom, inputs)
    _locate_points(conn, float(ctx.county_tolerance_m))
    _overlaps(conn)
    _hit_tables(conn, float(ctx.county_tolerance_m))
    return n


def _pages(conn: psycopg.Connection, n: int, inputs: list[str], page_size: int) -> Iterator[HitsPage]:
    """The hits read back ``page_size`` sites at a time (``sid`` ranges, in key order)."""
    from psycopg import sql

    site_cols = sql.SQL(", ").join(sql.Identifier(c) for c in ("sid", *SITE_COLUMNS))
    hit_cols = sql.SQL(", ").join(sql.Identifier(c) for c in ("sid", *HIT_COLUMNS[1:]))
    attr_cols = sql.SQL("").join(sql.SQL(", ") + sql.Identifier(c) for c in inputs)
    for lo in range(0, n, page_size):
        hi = lo + page_size
        rows = conn.execute(sql.SQL("SELECT k {} FROM _b WHERE sid > %s AND sid <= %s ORDER BY sid").format(attr_cols),
                            (lo, hi)).fetchall()
        site_rows = conn.execute(sql.SQL("SELECT {} FROM _hs WHERE sid > %s AND sid <= %s ORDER BY sid").format(
            site_cols), (lo, hi)).fetchall()
        hit_rows = conn.execute(sql.SQL("SELECT {} FROM _ht WHERE sid > %s AND sid <= %s ORDER BY sid, feature, cty")
                                .format(hit_cols), (lo, hi)).fetchall()
        keys = [r[0] for r in rows]
        attrs = pd.DataFrame({c: pd.Series([r[i + 1] for r in rows], dtype=object) for i, c in enumerate(inputs)},
                             index=pd.RangeIndex(len(rows)))
        if "area_ha_stated" in attrs.columns:
            attrs["area_ha_stated"] = pd.to_numeric(attrs["area_ha_stated"], errors="coerce").astype(float)
        yield HitsPage(keys=keys, attrs=attrs, hits=hits_frames(site_rows, hit_rows, lo + 1))


def _input_columns(cols: list[str]) -> list[str]:
    wanted = [*_INPUT_TEXT, "area_ha_stated", "input_problem", *PROJECT_ATTRIBUTES]
    return [c for c in wanted if c in cols]


def database_hits(
    sites_dsn: str,
    pack: Pack | PackContext | str | Path | None = None,
    *,
    key: str | None = None,
    geom: str | None = None,
    page_size: int = PAGE_SIZE,
) -> Iterator[HitsPage]:
    """The hits of a PostGIS site table (as :func:`zoning.core.hits.site_hits` computes
    them in process), computed in SQL and read back page by page, in key order.

    ``sites_dsn`` as for :func:`check_in_database` (``table=``, ``schema=``, ``key=``,
    ``geom=``). The temporary tables live for the iteration (one transaction).
    """
    from psycopg import sql

    from zoning.core.context import load_context

    ctx = load_context(pack)
    with pg.connect(sites_dsn) as conn:
        schema, table, key, geom, cols, _ = _resolve(conn, sites_dsn, key, geom)
        inputs = _input_columns(cols)
        n = _compute_hits(conn, ctx, sql.Identifier(schema, table), key, geom, inputs)
        yield from _pages(conn, n, inputs, page_size)


def _result_rows(page: HitsPage, res: pd.DataFrame) -> Iterator[tuple]:
    """The result rows of a page as plain Python values (missing: None), column-wise."""
    columns: list[list[Any]] = []
    for c in DATABASE_COLUMNS:
        src = res if c in res.columns else page.attrs if c in page.attrs.columns else None
        if src is None:
            columns.append([None] * len(res))
            continue
        values = src[c].to_numpy(dtype=object)
        missing = pd.isna(values)
        if c in NUMERIC_COLUMNS:
            numbers = np.where(missing, np.nan, values).astype(float)
            columns.append([None if math.isnan(x) else x for x in numbers.tolist()])
        elif c in BOOLEAN_COLUMNS:
            columns.append([None if m else bool(v) for v, m in zip(values, missing)])
        else:
            columns.append([None if m else python_value(v) for v, m in zip(values, missing)])
    return zip(page.keys, *columns)


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
    page_size: int = PAGE_SIZE,
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
        The layer pack (a directory or a PostGIS DSN; its features are copied into
        temporary tables of the session, so any pack works with any database).
    project_defaults, on_date, context
        As for :func:`zoning.check.check_sites`.
    out_table
        Overrides ``out=``.
    page_size
        Sites read back, assembled and written at a time (bounds the client's memory).

    Returns
    -------
    DatabaseCheck: the result table (its key column: the site table's key, one row per
    site, same values; then :data:`DATABASE_COLUMNS`), the number of sites and the count
    per verdict.
    """
    from psycopg import sql

    parts = pg.parse_dsn(sites_dsn)
    run = context or build_context(pack, project_defaults=project_defaults, on_date=on_date)
    with pg.connect(sites_dsn) as conn:
        schema, table, key, geom, cols, key_type = _resolve(conn, sites_dsn, key, geom)
        out_schema, out_name = _split_table(out_table or parts.get("out") or f"{table}_check", schema)
        inputs = _input_columns(cols)
        n = _compute_hits(conn, run.context, sql.Identifier(schema, table), key, geom, inputs)
        O = sql.Identifier(out_schema, out_name)
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(O))
        defs = [sql.SQL("{} {}").format(sql.Identifier(key), sql.SQL(key_type))]
        defs += [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(
            "double precision" if c in NUMERIC_COLUMNS else "boolean" if c in BOOLEAN_COLUMNS else "text"))
            for c in DATABASE_COLUMNS]
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(O, sql.SQL(", ").join(defs)))
        copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            O, sql.SQL(", ").join(sql.Identifier(c) for c in (key, *DATABASE_COLUMNS)))
        counts: dict[str, int] = {}
        answers: set[tuple] = set()
        for page in _pages(conn, n, inputs, page_size):
            res = assemble(run, page.attrs, page.hits)
            for v, c in res["verdict"].value_counts(dropna=False).items():
                counts[v] = counts.get(v, 0) + int(c)
            answers.update(res[["verdict", "articles", "rule_ids", "missing_attributes"]].itertuples(index=False,
                                                                                                     name=None))
            with conn.cursor() as cur, cur.copy(copy) as cp:
                for row in _result_rows(page, res):
                    cp.write_row(row)
        conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(O, sql.Identifier(key)))
    return DatabaseCheck(table=f"{out_schema}.{out_name}", key=key, n_sites=n, verdict_counts=counts,
                         combinations=len(answers), demonstration_layers=run.demonstration_layers)
