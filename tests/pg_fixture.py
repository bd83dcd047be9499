"""A throw-away PostgreSQL + PostGIS cluster for the tests, on a loopback port.

Import the fixture into a test module (``from pg_fixture import pg_dsn  # noqa: F401``).
The first use starts one cluster for the whole session: ``initdb`` into a temporary
directory, ``pg_ctl start`` with ``-p PORT -k TMPDIR -c listen_addresses=127.0.0.1``,
``CREATE EXTENSION postgis`` in a fresh database; it is stopped and removed at the end of
the session. As root the server runs as the ``postgres`` user (``runuser``), which owns
the directory. Binaries are found in ``$PG_BINDIR``, ``/usr/lib/postgresql/<major>/bin``
or on PATH; ``bash scripts/install_postgis.sh`` installs them from Debian's packages.

When the environment variable ``CI`` is set, missing binaries are installed first
(``scripts/install_postgis.sh``, as root or through sudo) and a server that cannot start
fails the tests; elsewhere they are skipped with the reason. :func:`require` does the
same for the optional Python packages of the engines (dask): skipped locally, a failure
under ``CI``.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

DBNAME = "zoning_test"


@dataclass
class PgServer:
    """A running throw-away cluster."""

    bindir: Path
    datadir: Path
    sockdir: Path
    port: int
    user: str
    run_as: str | None

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{DBNAME}"

    def pids(self) -> list[int]:
        """Process ids of the server (postmaster and its children), for memory figures."""
        pidfile = self.datadir / "postmaster.pid"
        if not pidfile.exists():
            return []
        master = int(pidfile.read_text().split()[0])
        out = [master]
        for status in glob.glob("/proc/[0-9]*/status"):
            try:
                text = Path(status).read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("PPid:") and int(line.split()[1]) == master:
                    out.append(int(Path(status).parent.name))
        return out

    def stop(self) -> None:
        if self.datadir.exists():
            _run(self, [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"],
                 check=False)
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def find_bindir() -> Path | None:
    """Directory holding initdb and pg_ctl, or None."""
    cands = [os.environ.get("PG_BINDIR", "")]
    cands += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        cands.append(str(Path(initdb).resolve().parent))
    for c in cands:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(server_or_user, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    run_as = server_or_user.run_as if isinstance(server_or_user, PgServer) else server_or_user
    cmd = ["runuser", "-u", run_as, "--", *args] if run_as else args
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check and res.returncode != 0:
        msg = f"{' '.join(args[:2])} failed ({res.returncode}): {res.stderr.strip() or res.stdout.strip()}"
        raise RuntimeError(msg)
    return res


def _install() -> None:
    """``bash scripts/install_postgis.sh`` (idempotent; apt only)."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "install_postgis.sh"
    res = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        msg = f"{script.name} failed ({res.returncode}): {(res.stderr or res.stdout).strip()[-1500:]}"
        raise RuntimeError(msg)


def start_server() -> PgServer:
    """initdb + pg_ctl start on a free loopback port; CREATE EXTENSION postgis (under
    ``CI``, the binaries are installed first if missing)."""
    bindir = find_bindir()
    if bindir is None and os.environ.get("CI"):
        _install()
        bindir = find_bindir()
    if bindir is None:
        msg = "PostgreSQL binaries (initdb, pg_ctl) not found: run `bash scripts/install_postgis.sh`"
        raise RuntimeError(msg)
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            msg = "running as root and no 'postgres' user to run the server as"
            raise RuntimeError(msg) from exc
        run_as = "postgres"
    root = Path(tempfile.mkdtemp(prefix="zoning-pg-"))
    datadir, sockdir = root / "data", root / "sock"
    sockdir.mkdir()
    if run_as:
        shutil.chown(root, run_as)
        shutil.chown(sockdir, run_as)
    user = "zoning"
    _run(run_as, [str(bindir / "initdb"), "-D", str(datadir), "-U", user, "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync"])
    port = _free_port()
    server = PgServer(bindir, datadir, sockdir, port, user, run_as)
    opts = (f"-p {port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=50 -c shared_buffers=256MB -c work_mem=64MB")
    try:
        _run(run_as, [str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(root / "server.log"), "-w",
                      "-t", "60", "-o", opts, "start"])
    except RuntimeError as exc:
        log = (root / "server.log").read_text(errors="replace")[-2000:] if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"{exc}\n{log}") from None
    atexit.register(server.stop)
    import psycopg

    with psycopg.connect(f"postgresql://{user}@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {DBNAME}")
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION postgis")
        except psycopg.Error as exc:
            server.stop()
            msg = f"CREATE EXTENSION postgis failed ({exc}): run `bash scripts/install_postgis.sh`"
            raise RuntimeError(msg) from None
    return server


_SERVER: PgServer | None = None


def get_server() -> PgServer:
    """The session's server, started on first use (shared by every module importing the fixture)."""
    global _SERVER
    if _SERVER is None:
        _SERVER = start_server()
    return _SERVER


def require(module: str):
    """Import ``module``: skipped when missing, except under ``CI``, where it fails."""
    if os.environ.get("CI"):
        import importlib

        return importlib.import_module(module)
    return pytest.importorskip(module)


@pytest.fixture(scope="session")
def pg_server():
    """The running throw-away cluster; fails under CI, skips elsewhere, if it cannot start."""
    try:
        server = get_server()
    except Exception as exc:  # noqa: BLE001 - any failure to start is reported the same way
        if os.environ.get("CI"):
            pytest.fail(f"PostGIS test server could not start (CI is set, so this fails): {exc}")
        pytest.skip(f"PostGIS test server could not start: {exc}")
    yield server
    # stopped once, at interpreter exit (atexit), after every module that shares it


@pytest.fixture(scope="session")
def pg_dsn(pg_server) -> str:
    """DSN of a PostGIS-enabled database on the throw-away cluster."""
    return pg_server.dsn


# ----------------------------------------------------------------------------- test data


def synthetic_sites(n_points: int, n_polygons: int, *, seed: int = 0, with_oddities: bool = True):
    """Seeded synthetic sites over 晋城市 and a margin around it (EPSG:4490).

    Points, then irregular polygons of 50-800 m radius (some across county lines, some
    outside the city), with project attributes and land use; ``with_oddities`` adds a
    line, a multipolygon, a row without geometry and a bad attribute value.
    """
    import geopandas as gpd
    import numpy as np
    import shapely

    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = 112.0, 35.2, 113.55, 36.05
    px = rng.uniform(x0, x1, n_points)
    py = rng.uniform(y0, y1, n_points)
    geoms = list(shapely.points(px, py)) if n_points else []
    if n_polygons:
        k = 9
        cx = rng.uniform(x0, x1, n_polygons)[:, None]
        cy = rng.uniform(y0, y1, n_polygons)[:, None]
        r = rng.uniform(50, 800, n_polygons)[:, None] * rng.uniform(0.6, 1.0, (n_polygons, k))
        ang = np.sort(rng.uniform(0, 2 * np.pi, (n_polygons, k)), axis=1)
        xs = cx + r * np.cos(ang) / (111_320 * np.cos(np.radians(35.6)))
        ys = cy + r * np.sin(ang) / 110_950
        ring = np.stack([xs, ys], axis=-1)
        ring = np.concatenate([ring, ring[:, :1]], axis=1)
        geoms += list(shapely.make_valid(shapely.polygons(ring)))
    n = len(geoms)
    construction = rng.choice(np.array(["新建", "改建", "扩建", None], dtype=object), n)
    discharges = rng.choice(np.array(["是", "否", None], dtype=object), n)
    industry = rng.choice(np.array(["化工", "医药", None], dtype=object), n)
    land_use = rng.choice(np.array(["工业用地", "住宅用地", "商服用地", "农田", None], dtype=object), n)
    if with_oddities and n >= 4:
        geoms += [shapely.LineString([(112.80, 35.45), (112.95, 35.55)]),
                  shapely.MultiPolygon([shapely.box(112.84, 35.48, 112.85, 35.49), shapely.box(112.86, 35.50, 112.87, 35.51)]),
                  None]
        construction = np.concatenate([construction, np.array(["新建", "拆了重建", None], dtype=object)])
        discharges = np.concatenate([discharges, np.array(["是", None, "否"], dtype=object)])
        industry = np.concatenate([industry, np.array([None, "化工", None], dtype=object)])
        land_use = np.concatenate([land_use, np.array(["道路", "工业用地", None], dtype=object)])
        n += 3
    return gpd.GeoDataFrame({
        "site_id": [f"S{i:07d}" for i in range(n)],
        "site_name": [f"site {i}" for i in range(n)],
        "construction": construction,
        "discharges_pollutants": discharges,
        "industry": industry,
        "land_use": land_use,
    }, geometry=gpd.GeoSeries(geoms, crs="EPSG:4490"), crs="EPSG:4490")
