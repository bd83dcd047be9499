"""PostGIS as a layer-pack store: push a pack into a database, open it, read its layers.

A PostGIS pack is addressed by a DSN::

    postgresql://[user[:password]@]host[:port]/dbname[?schema=zoning][&sslmode=...]

``schema`` (default ``zoning``) is the schema that holds the pack; every other query
parameter goes to libpq unchanged. Site tables for ``zoning check`` use the same form
with ``table=`` (and optionally ``key=``, ``geom=``, ``out=``): see
:func:`zoning.engines.check_in_database`.

What a pack looks like in the database (all in the one schema):

``zoning_manifest (path text primary key, content text not null)``
    ``manifest.toml``: the pack's manifest, each vector layer rewritten to
    ``file = "postgis"``, ``table = <its table in the schema>``; ``rules/<file>.toml``:
    the rules catalogue, file by file, verbatim; ``zoning_push.json``: when and from
    where the pack was pushed (``push_id``, ``pushed_at``, ``source``) and, per layer,
    its columns with their pandas dtypes, so a layer reads back exactly as the
    GeoPackage gives it.
one table per vector layer
    ``fid bigint primary key`` (the feature order of the source), the attribute columns
    (``text``, ``bigint``, ``double precision``, ``boolean``, ``timestamp``), and
    ``geom geometry(Geometry, <SRID of the layer>)`` with a GIST index.
``spatial_ref_sys``
    gets one row, :data:`AREA_SRID` (auth_name ``zoning``), holding
    :data:`zoning.core.settings.area_crs`, the equal-area projection every area is computed
    in, so that ``ST_Area(ST_Transform(geom, AREA_SRID))`` gives the same m² as the
    in-process check.

Raster layers are not pushed (they stay with the directory pack); the database pack's
manifest leaves them out and :func:`push_pack` says so.

Opening a PostGIS pack (:func:`open_pack`, reached through
:func:`zoning.core.layers.open_pack`) writes its manifest and rules catalogue into a local
cache directory (``$ZONING_CACHE_DIR`` or the system temp dir, ``zoning-postgis/<hash>``):
``Pack.path`` and ``Pack.rules_dir`` point there, ``Pack.dsn`` holds the DSN, and
:func:`zoning.core.layers.read_layer` reads the layers from the database
(:func:`read_layer`, cached per push).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import uuid
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import pandas as pd

from zoning.core import settings
from zoning.core.errors import LayerReadError, ManifestError, PostgisError
from zoning.core.manifest import (
    atomic_write_text,
    is_dsn,
    open_dir,
    pack_lock,
    read_file_layer,
    read_manifest_head,
    tomllib,
    verify_rules,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg

    from zoning.core.manifest import LayerSpec, Pack

__all__ = [
    "AREA_SRID",
    "DEFAULT_SCHEMA",
    "DsnParts",
    "connect",
    "ensure_area_srid",
    "is_dsn",
    "open_pack",
    "parse_dsn",
    "push_pack",
    "read_layer",
    "read_table",
    "redact",
    "write_sites",
]

DEFAULT_SCHEMA = "zoning"
MANIFEST_TABLE = "zoning_manifest"
PUSH_INFO = "zoning_push.json"
#: SRID under which :data:`zoning.core.settings.area_crs` is registered in ``spatial_ref_sys``.
AREA_SRID = 990_001
#: Query parameters of a DSN that zoning reads itself (libpq never sees them).
ZONING_PARAMS = ("schema", "table", "key", "geom", "out")

_PG_TYPES = {"i": "bigint", "u": "bigint", "f": "double precision", "b": "boolean", "M": "timestamp"}


# ----------------------------------------------------------------------------- DSNs


class DsnParts(dict):
    """A parsed DSN: ``conninfo`` (for libpq) and the zoning parameters (schema, table, ...)."""

    @property
    def conninfo(self) -> str:
        return self["conninfo"]

    @property
    def schema(self) -> str:
        return self.get("schema") or DEFAULT_SCHEMA


def parse_dsn(dsn: str) -> DsnParts:
    """Split a DSN into libpq's conninfo and zoning's own query parameters."""
    if not is_dsn(dsn):
        msg = f"{dsn!r} is not a PostgreSQL DSN (expected postgresql://user@host:port/dbname?schema=...)"
        raise ManifestError(msg)
    parts = urlsplit(dsn)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in ZONING_PARAMS}
    rest = [(k, v) for k, v in query if k not in ZONING_PARAMS]
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
    return DsnParts(conninfo=conninfo, **ours)


def redact(dsn: str) -> str:
    """The DSN without its password, whether given as userinfo (``user:PASSWORD@``) or as a
    ``?password=`` / ``sslpassword=`` parameter (for messages, logs, the cache and manifest rows)."""
    from zoning.core.errors import scrub_secrets

    return scrub_secrets(dsn)


#: Seconds libpq waits for a server before giving up, unless the DSN (``?connect_timeout=``)
#: or $PGCONNECT_TIMEOUT says otherwise: an unreachable host fails in seconds, not minutes.
CONNECT_TIMEOUT = 10


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection:
    """A psycopg connection for a DSN (zoning's query parameters removed), with a connect
    timeout (:data:`CONNECT_TIMEOUT`, overridable by ``?connect_timeout=`` in the DSN or
    $PGCONNECT_TIMEOUT). Every failure is a one-line :class:`PostgisError` with the DSN
    redacted; no password (neither the DSN's nor $PGPASSWORD) reaches a message."""
    import psycopg

    conninfo = parse_dsn(dsn).conninfo
    query = dict(parse_qsl(urlsplit(conninfo).query, keep_blank_values=True))
    if "connect_timeout" not in query and "connect_timeout" not in kwargs and not os.environ.get("PGCONNECT_TIMEOUT"):
        kwargs["connect_timeout"] = CONNECT_TIMEOUT
    try:
        return psycopg.connect(conninfo, **kwargs)
    except psycopg.ProgrammingError as exc:  # libpq refuses the DSN: an unknown option, a malformed value
        msg = f"{redact(dsn)}: not a valid connection string ({redact(_one_line(exc))})"
        raise PostgisError(msg) from None
    except psycopg.Error as exc:
        msg = f"{redact(dsn)}: cannot connect ({redact(_one_line(exc))})"
        raise PostgisError(msg) from None


def _ident(*names: str):
    from psycopg import sql

    return sql.Identifier(*names)


def _table_name(name: str) -> str:
    """A table name for a layer name: lower case letters, digits and underscores."""
    out = "".join(c if (c.isascii() and c.isalnum()) or c == "_" else "_" for c in name.lower()).strip("_")
    return out or "layer"


def ensure_area_srid(conn: psycopg.Connection) -> int:
    """Register :data:`zoning.core.settings.area_crs` in ``spatial_ref_sys`` as :data:`AREA_SRID`."""
    proj4 = settings.area_crs.replace("+type=crs", "").strip()
    conn.execute(
        "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) VALUES (%s, 'zoning', %s, NULL, %s) "
        "ON CONFLICT (srid) DO UPDATE SET proj4text = EXCLUDED.proj4text, srtext = NULL",
        (AREA_SRID, AREA_SRID, proj4),
    )
    return AREA_SRID


def _srid_of(crs: Any, where: str) -> int:
    from pyproj import CRS

    epsg = CRS.from_user_input(crs).to_epsg() if crs is not None else None
    if epsg is None:
        msg = f"{where}: CRS {crs!r} has no EPSG code; PostGIS needs one (reproject the layer, e.g. to EPSG:4490)"
        raise ManifestError(msg)
    return int(epsg)


# ----------------------------------------------------------------------------- writing


def _column_plan(gdf: pd.DataFrame, geom_name: str) -> list[tuple[str, str, str]]:
    """(column, pandas dtype, PostgreSQL type) for every attribute column."""
    plan = []
    for col in gdf.columns:
        if col == geom_name:
            continue
        dtype = gdf[col].dtype
        kind = getattr(dtype, "kind", "O")
        plan.append((str(col), str(dtype), _PG_TYPES.get(kind, "text")))
    return plan


def _cell(value: Any, pg_type: str) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NaT or (not isinstance(value, (str, bytes)) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if pg_type == "text":
        return str(value)
    if pg_type == "bigint":
        return int(value)
    if pg_type == "double precision":
        return float(value)
    if pg_type == "boolean":
        return bool(value)
    return value


def _write_frame(
    conn: psycopg.Connection, schema: str, table: str, gdf: gpd.GeoDataFrame, srid: int, *, key: str = "fid"
) -> list[tuple[str, str, str]]:
    """Create ``schema.table`` (key, attributes, geom) and COPY ``gdf`` into it, then index it."""
    import shapely
    from psycopg import sql

    geom_name = gdf.geometry.name
    plan = _column_plan(gdf, geom_name)
    cols = [sql.SQL("{} bigint PRIMARY KEY").format(_ident(key))]
    cols += [sql.SQL("{} {}").format(_ident(c), sql.SQL(t)) for c, _, t in plan]
    cols.append(sql.SQL("geom geometry(Geometry, {})").format(sql.Literal(srid)))
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(schema, table)))
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(_ident(schema, table), sql.SQL(", ").join(cols)))
    geoms = gdf.geometry.to_numpy()
    wkb = shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True)
    columns = [gdf[c].to_numpy(dtype=object) for c, _, _ in plan]
    names = sql.SQL(", ").join([_ident(key), *(_ident(c) for c, _, _ in plan), sql.Identifier("geom")])
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(_ident(schema, table), names)) as cp:
        for i in range(len(gdf)):
            row = [i + 1, *(_cell(col[i], t) for col, (_, _, t) in zip(columns, plan)), wkb[i]]
            cp.write_row(row)
    conn.execute(
        sql.SQL("CREATE INDEX {} ON {} USING GIST (geom)").format(_ident(f"{table}_geom_gist"), _ident(schema, table))
    )
    conn.execute(sql.SQL("ANALYZE {}").format(_ident(schema, table)))
    return plan


def push_pack(pack: Pack | str | Path, dsn: str, *, replace_existing: bool = False) -> tuple[Pack, list[str]]:
    """Load a pack (directory or another DSN) into PostGIS, with GIST indexes.

    Parameters
    ----------
    pack
        The source pack.
    dsn
        Target database; ``?schema=NAME`` chooses the schema (default ``zoning``),
        created if missing.
    replace_existing
        Replace a pack already in that schema (its layer tables are dropped first).

    Returns
    -------
    (the PostGIS pack as :func:`open_pack` gives it, notes on what was done)

    Raises
    ------
    ManifestError
        If the schema already holds a pack and ``replace_existing`` is false, or a
        layer's CRS has no EPSG code.
    PostgisError
        If the database cannot be reached or PostGIS is not installed in it.
    """
    import tomli_w

    if isinstance(pack, (str, Path)):
        src = open_pack(str(pack)) if is_dsn(pack) else _open_source_dir(pack)
    else:
        src = pack
    verify_rules(src, required=True)  # a pack goes into the database only with its whole rules catalogue
    parts = parse_dsn(dsn)
    schema = parts.schema
    notes: list[str] = []
    with connect(dsn) as conn:
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone() is None:
            try:
                conn.execute("CREATE EXTENSION postgis")
            except Exception as exc:  # psycopg.Error: no permission, or PostGIS not installed
                msg = f"{redact(dsn)}: PostGIS is not enabled and cannot be ({redact(_one_line(exc))})"
                raise PostgisError(msg) from None
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}")
        old = _manifest_rows(conn, schema)
        if old is not None:
            if not replace_existing:
                msg = f"{redact(dsn)}: schema {schema!r} already holds a pack; pass --replace to replace it"
                raise ManifestError(msg)
            info = json.loads(old.get(PUSH_INFO, "{}"))
            for table in info.get("tables", {}).values():
                conn.execute(f"DROP TABLE IF EXISTS {_quote(schema)}.{_quote(table)}")
            conn.execute(f"DELETE FROM {_quote(schema)}.{MANIFEST_TABLE}")
        else:
            conn.execute(
                f"CREATE TABLE {_quote(schema)}.{MANIFEST_TABLE} (path text PRIMARY KEY, content text NOT NULL)"
            )
        ensure_area_srid(conn)
        layers = []
        tables: dict[str, str] = {}
        columns: dict[str, list[list[str]]] = {}
        used = set()
        for spec in src.layers:
            if spec.kind == "raster":
                notes.append(f"{spec.name}: raster layer not pushed (rasters stay in the directory pack)")
                continue
            gdf = read_layer(src, spec) if src.dsn else read_file_layer(src, spec)
            srid = _srid_of(gdf.crs, f"layer {spec.name}")
            table = _table_name(spec.name)
            while table in used or table == MANIFEST_TABLE:
                table += "_"
            used.add(table)
            plan = _write_frame(conn, schema, table, gdf, srid)
            tables[spec.name] = table
            columns[spec.name] = [[c, d] for c, d, _ in plan] + [[gdf.geometry.name, "geometry"]]
            layers.append(replace(spec, file="postgis", table=table))
            notes.append(f"{spec.name}: {len(gdf)} features -> {schema}.{table} (SRID {srid}, GIST index)")
        head = read_manifest_head(src)
        head.pop("postgis", None)
        head.pop("postgis_push", None)
        rule_files: dict[str, str] = {}
        if src.rules_dir is not None and src.rules_dir.is_dir():
            for f in sorted(src.rules_dir.glob("*.toml")):
                rule_files[f"rules/{f.name}"] = f.read_text(encoding="utf-8")
            head["rules"] = "rules"
        else:
            head.pop("rules", None)
        doc = {"pack": head, "layers": [s.to_manifest() for s in layers]}
        info = {
            "push_id": uuid.uuid4().hex,
            "pushed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "source": str(src.dsn and redact(src.dsn) or src.path),
            "schema": schema,
            "tables": tables,
            "columns": columns,
            "area_srid": AREA_SRID,
        }
        rows = [
            ("manifest.toml", tomli_w.dumps(doc)),
            (PUSH_INFO, json.dumps(info, ensure_ascii=False, indent=1)),
            *rule_files.items(),
        ]
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {_quote(schema)}.{MANIFEST_TABLE} (path, content) VALUES (%s, %s)", rows)
        notes.append(f"manifest and {len(rule_files)} rules file(s) -> {schema}.{MANIFEST_TABLE}")
    return open_pack(dsn), notes


def _open_source_dir(path: str | Path) -> Pack:
    """A directory pack to push (the local cache of a PostGIS pack gets its DSN back)."""
    pack = open_dir(path)
    return attach(pack) if pack.meta.get("postgis") else pack


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ----------------------------------------------------------------------------- reading


def _one(row: tuple[Any, ...] | None) -> Any:
    """The single value of a one-row, one-column query (``None`` for no row)."""
    return None if row is None else row[0]


def _manifest_rows(conn: psycopg.Connection, schema: str) -> dict[str, str] | None:
    exists = _one(conn.execute("SELECT to_regclass(%s)", (f"{_quote(schema)}.{MANIFEST_TABLE}",)).fetchone())
    if exists is None:
        return None
    return dict(conn.execute(f"SELECT path, content FROM {_quote(schema)}.{MANIFEST_TABLE}").fetchall())


def _cache_root() -> Path:
    return Path(os.environ.get("ZONING_CACHE_DIR") or Path(tempfile.gettempdir()) / "zoning-postgis")


#: cache directory -> full DSN (with any password), for packs opened in this process
_DSNS: dict[str, str] = {}


def open_pack(dsn: str) -> Pack:
    """Open the pack stored in PostGIS at ``dsn`` (see the module docstring).

    Raises
    ------
    ManifestError
        If the schema holds no pack.
    PostgisError
        If the database cannot be reached.
    """
    parts = parse_dsn(dsn)
    with connect(dsn) as conn:
        rows = _manifest_rows(conn, parts.schema)
    if rows is None or "manifest.toml" not in rows:
        msg = (
            f"{redact(dsn)}: schema {parts.schema!r} holds no zoning pack (no {MANIFEST_TABLE} table); "
            "load one with `zoning layers push PACK DSN`"
        )
        raise ManifestError(msg)
    info = json.loads(rows.get(PUSH_INFO, "{}"))
    pack_dsn = _pack_dsn(dsn)
    key = hashlib.sha1(redact(pack_dsn).encode()).hexdigest()[:16]
    cache = _cache_root() / key
    import tomli_w

    doc = tomllib.loads(rows["manifest.toml"])
    doc["pack"]["postgis"] = redact(pack_dsn)
    doc["pack"]["postgis_push"] = info.get("push_id", "")
    files = {"manifest.toml": tomli_w.dumps(doc)}
    files.update({p: c for p, c in rows.items() if p.startswith("rules/")})
    files[PUSH_INFO] = rows.get(PUSH_INFO, "{}")
    for rel in files:  # names from the database become paths: rules/<plain name>.toml only
        parts_ = rel.split("/")
        if rel not in ("manifest.toml", PUSH_INFO) and not (
            len(parts_) == 2 and parts_[1].endswith(".toml") and not parts_[1].startswith(".") and "\\" not in rel
        ):
            msg = f"{redact(dsn)}: {MANIFEST_TABLE} holds an entry {rel!r} that is no rules file; refusing to cache it"
            raise ManifestError(msg)
    with pack_lock(cache):  # two processes opening the same pack write the cache one after the other
        stale = cache / "rules"
        if stale.is_dir():
            for f in stale.glob("*.toml"):
                if f"rules/{f.name}" not in files:
                    f.unlink()
        for rel, content in files.items():
            target = cache / rel
            if target.exists() and target.read_text(encoding="utf-8") == content:
                continue  # unchanged: keep the mtime, so caches keyed on it stay valid
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(target, content)
    _DSNS[str(cache.resolve())] = pack_dsn
    return attach(open_dir(cache))


def _pack_dsn(dsn: str) -> str:
    """The DSN of the pack: conninfo plus schema, without table/key/geom/out."""
    parts = urlsplit(dsn)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("table", "key", "geom", "out")
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def attach(pack: Pack) -> Pack:
    """Give a pack opened from a PostGIS cache directory its DSN (zoning.core.layers.open_pack calls it)."""
    dsn = _DSNS.get(str(Path(pack.path).resolve())) or str(pack.meta["postgis"])
    return replace(pack, dsn=dsn)


def read_layer(pack: Pack, spec: LayerSpec) -> gpd.GeoDataFrame:
    """One layer of a PostGIS pack, with the columns and dtypes it was pushed with (a copy)."""
    if spec.kind == "raster":
        msg = f"layer {spec.name!r} is a raster; rasters are not stored in PostGIS packs"
        raise LayerReadError(msg)
    push = str(pack.meta.get("postgis_push", ""))
    return _read_cached(pack.dsn, spec.table or _table_name(spec.name), spec.name, push, str(pack.path)).copy()


@lru_cache(maxsize=32)
def _read_cached(dsn: str, table: str, name: str, _push: str, cache_dir: str) -> gpd.GeoDataFrame:
    info_path = Path(cache_dir) / PUSH_INFO
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
    cols = info.get("columns", {}).get(name)
    schema = parse_dsn(dsn).schema
    try:
        return read_table(dsn, table, schema=schema, columns=cols, order_by="fid")
    except PostgisError:
        raise
    except Exception as exc:  # psycopg.Error: missing table, permissions
        msg = f"{redact(dsn)} (table {schema}.{table}): cannot read ({redact(_one_line(exc))})"
        raise LayerReadError(msg) from exc


def read_table(
    dsn: str,
    table: str,
    *,
    schema: str | None = None,
    columns: list[list[str]] | None = None,
    order_by: str | None = None,
    geom: str = "geom",
    drop: tuple[str, ...] = ("fid",),
) -> gpd.GeoDataFrame:
    """Read a table with a geometry column into a GeoDataFrame.

    ``columns`` is ``[[name, pandas dtype], ...]`` (the geometry's entry names the
    GeoDataFrame's geometry column); without it every column is read with inferred types.
    """
    import geopandas as gpd
    import shapely
    from psycopg import sql

    schema = schema or parse_dsn(dsn).schema
    with connect(dsn) as conn:
        srid = _one(
            conn.execute(
                sql.SQL("SELECT Find_SRID({}, {}, {})").format(sql.Literal(schema), sql.Literal(table), sql.Literal(geom))
            ).fetchone()
        )
        if columns is None:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                    "ORDER BY ordinal_position",
                    (schema, table),
                ).fetchall()
            ]
            attrs = [[n, ""] for n in names if n != geom and n not in drop]
            geom_out = "geometry"
        else:
            attrs = [c for c in columns if c[1] != "geometry"]
            geom_out = next((c[0] for c in columns if c[1] == "geometry"), "geometry")
        select = [sql.Identifier(c) for c, _ in attrs] + [sql.SQL("ST_AsBinary({})").format(sql.Identifier(geom))]
        query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(select), _ident(schema, table))
        if order_by:
            query += sql.SQL(" ORDER BY {}").format(sql.Identifier(order_by))
        rows = conn.execute(query).fetchall()
    data: dict[str, Any] = {}
    for j, (c, dtype) in enumerate(attrs):
        values = [r[j] for r in rows]
        if dtype:
            ser = pd.Series(values, dtype=object)
            if dtype in ("int64", "int32", "bool") and ser.isna().any():
                data[c] = ser
            else:
                data[c] = ser.astype(dtype) if dtype != "object" else ser
        else:
            data[c] = pd.Series(values) if values else pd.Series([], dtype=object)
    wkb = [r[-1] for r in rows]
    geoms = shapely.from_wkb(np.array([bytes(b) if b is not None else None for b in wkb], dtype=object))
    return gpd.GeoDataFrame(
        data,
        geometry=gpd.GeoSeries(geoms, crs=f"EPSG:{srid}" if srid else None, name=geom_out),
        crs=f"EPSG:{srid}" if srid else None,
    )


def write_sites(
    gdf: gpd.GeoDataFrame, dsn: str, table: str | None = None, *, key: str = "site_key", if_exists: str = "fail"
) -> str:
    """Write a site layer into PostGIS (``key`` = 1..n in row order, GIST index) for
    :func:`zoning.engines.check_in_database`; the geometry goes in as EPSG:4490.

    Bulk-loaded with COPY in CSV form: an empty string in a text column arrives as NULL.
    Returns the qualified table name.
    """
    import io

    import shapely
    from psycopg import sql

    parts = parse_dsn(dsn)
    table = table or parts.get("table")
    if not table:
        msg = "write_sites: no table given (argument or ?table= in the DSN)"
        raise ValueError(msg)
    schema = parts.get("schema") or "public"
    gdf = gdf.to_crs("EPSG:4490") if gdf.crs is not None and gdf.crs.to_epsg() != 4490 else gdf
    geom_name = gdf.geometry.name
    plan = _column_plan(gdf, geom_name)
    with connect(dsn) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}")
        exists = _one(conn.execute("SELECT to_regclass(%s)", (f"{_quote(schema)}.{_quote(table)}",)).fetchone())
        if exists is not None:
            if if_exists != "replace":
                msg = f"{schema}.{table} exists; pass if_exists='replace'"
                raise PostgisError(msg)
            conn.execute(sql.SQL("DROP TABLE {}").format(_ident(schema, table)))
        cols: list[sql.Composable] = [sql.SQL("{} bigint PRIMARY KEY").format(_ident(key))]
        cols += [sql.SQL("{} {}").format(_ident(c), sql.SQL(t)) for c, _, t in plan if c != key]
        cols.append(sql.SQL("geom geometry(Geometry, 4490)"))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(_ident(schema, table), sql.SQL(", ").join(cols)))
        out = pd.DataFrame({key: np.arange(1, len(gdf) + 1)})
        for c, _, t in plan:
            if c == key:
                continue
            ser = gdf[c]
            out[c] = ser.astype(object).where(ser.notna(), None) if t == "text" else ser.to_numpy()
        out["geom"] = shapely.to_wkb(shapely.set_srid(gdf.geometry.to_numpy(), 4490), hex=True, include_srid=True)
        names = sql.SQL(", ").join([sql.Identifier(c) for c in out.columns])
        stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(_ident(schema, table), names)
        step = 200_000
        with conn.cursor() as cur, cur.copy(stmt) as cp:
            for start in range(0, len(out), step):
                buf = io.StringIO()
                out.iloc[start : start + step].to_csv(buf, header=False, index=False)
                cp.write(buf.getvalue().encode("utf-8"))
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} USING GIST (geom)").format(
                _ident(f"{table}_geom_gist"), _ident(schema, table)
            )
        )
        conn.execute(sql.SQL("ANALYZE {}").format(_ident(schema, table)))
    return f"{schema}.{table}"
