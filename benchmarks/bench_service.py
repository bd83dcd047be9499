"""Benchmark of the service (issue 15): the single-point answer beside its baseline and the
batched path, a bounded load test of ``/api/v1/query`` on loopback at 1, 8, 32 and 64
concurrent clients, and a 100,000-site check through the API beside ``zoning check`` in the
same run. Writes benchmarks/results/service.json and service.md.

    python benchmarks/bench_service.py [--quick] [--workers 2] [--sites 100000]

The load generator is a minimal asyncio HTTP/1.1 client in a process of its own, on the same two
cores as the server: every figure below is what the server gives while sharing them.
Only 127.0.0.1 is ever contacted, and each level runs a fixed number of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from bench_query import random_points_in_city  # noqa: E402

from zoning.query import PointQuery, load_context, query_point, query_point_answers, query_points  # noqa: E402

#: the commit before the single-point path was reworked: its query.py is the baseline
BASELINE_COMMIT = "92464e4^"


def _baseline_module():
    """zoning/query.py as it was before the rework, loaded beside the current one (None without git)."""
    try:
        text = subprocess.run(["git", "show", f"{BASELINE_COMMIT}:zoning/query.py"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "query_baseline.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("query_baseline", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["query_baseline"] = mod
    try:
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
    except Exception:
        return None
    return mod


def bench_single(n: int) -> dict:
    ctx = load_context(None)
    lon, lat = random_points_in_city(ctx, n, seed=3)
    pts = list(zip(lon.tolist(), lat.tolist(), strict=True))
    proj = {"construction": "new", "industry": "chemical"}
    out: dict = {"points": n}

    def timed(fn) -> float:
        fn(*pts[0])  # warm
        t = time.perf_counter()
        for x, y in pts:
            fn(x, y)
        return (time.perf_counter() - t) / n * 1000

    out["query_point_ms"] = timed(lambda x, y: query_point(x, y, project=proj).to_dict())
    base = _baseline_module()
    if base is not None:
        out["baseline_query_point_ms"] = timed(lambda x, y: base.query_point(x, y, project=proj).to_dict())
        def comparable(d: dict) -> dict:  # fields added after the baseline (provenance) aside
            return {k: v for k, v in d.items() if k != "provenance"}

        same = all(comparable(base.query_point(x, y, project=proj).to_dict())
                   == comparable(query_point(x, y, project=proj).to_dict()) for x, y in pts[:50])
        out["baseline_answers_equal"] = bool(same)
    qs = [PointQuery(x, y, project=proj) for x, y in pts]
    query_point_answers(qs[:10])
    t = time.perf_counter()
    answers = query_point_answers(qs)
    for a in answers:
        a.to_dict()  # type: ignore[union-attr]
    out["query_point_answers_ms"] = (time.perf_counter() - t) / n * 1000
    big_lon, big_lat = random_points_in_city(ctx, 100_000, seed=4)
    t = time.perf_counter()
    query_points((big_lon, big_lat), project=proj)
    out["query_points_100k_ms_per_point"] = (time.perf_counter() - t) / 100_000 * 1000
    return out


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, target: str) -> int:
    """One keep-alive HTTP/1.1 GET on an open connection; returns the status (body read, discarded)."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return status


def _load_client(url: str, clients: int, requests: int, points: list[tuple[float, float]] | str) -> dict:
    """``clients`` connections, each looping over its share of ``requests`` GETs (bounded).

    A minimal keep-alive HTTP/1.1 client on asyncio streams: a general client (httpx) costs
    more CPU per 90 KB answer than the server does, and here it shares the server's cores.
    """
    from urllib.parse import urlencode, urlsplit

    if isinstance(points, str):
        points = [tuple(p) for p in json.loads(Path(points).read_text())]
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    assert host in ("127.0.0.1", "localhost", "::1"), "load tests run on loopback only"
    lat_ms: list[float] = []
    errors = 0

    async def worker(k: int, n: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in range(n):
                x, y = points[(k * 7919 + i) % len(points)]
                target = "/api/v1/query?" + urlencode({"lon": f"{x:.6f}", "lat": f"{y:.6f}", "a": "construction=new"})
                t = time.perf_counter()
                try:
                    status = await _get(reader, writer, host, target)
                except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                lat_ms.append((time.perf_counter() - t) * 1000)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    async def run() -> float:
        per = [requests // clients + (1 if k < requests % clients else 0) for k in range(clients)]
        t = time.perf_counter()
        await asyncio.gather(*(worker(k, n) for k, n in enumerate(per)))
        return time.perf_counter() - t

    seconds = asyncio.run(run())
    q = np.percentile(lat_ms, [50, 95, 99])
    return {"clients": clients, "requests": requests, "seconds": round(seconds, 3),
            "answers_per_s": round(requests / seconds, 1), "p50_ms": round(float(q[0]), 2),
            "p95_ms": round(float(q[1]), 2), "p99_ms": round(float(q[2]), 2), "errors": errors}


def bench_load(server, levels: list[int], requests: dict[int, int]) -> list[dict]:
    ctx = load_context(None)
    lon, lat = random_points_in_city(ctx, 5000, seed=5)
    points = list(zip(lon.tolist(), lat.tolist(), strict=True))
    _load_client(server.url, 8, 400, points)  # warm every worker
    path = Path(tempfile.mkdtemp()) / "points.json"
    path.write_text(json.dumps(points))
    out = []
    for c in levels:
        # the client runs in a process of its own, as a separate user's browser would
        code = (f"import json,sys; sys.path.insert(0, {str(HERE)!r}); from bench_service import _load_client; "
                f"print(json.dumps(_load_client({server.url!r}, {c}, {requests[c]}, {str(path)!r})))")
        r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
        out.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(out[-1], flush=True)
    return out


def bench_check(server, n: int, tmp: Path) -> dict:
    import httpx

    from service_server import ZONING, wait_job

    ctx = load_context(None)
    lon, lat = random_points_in_city(ctx, n, seed=6)
    sites = tmp / f"sites_{n}.csv"
    with sites.open("w", encoding="utf-8") as fh:
        fh.write("编号,项目名称,经度,纬度,建设性质\n")
        for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
            fh.write(f"S{i},项目{i},{x:.6f},{y:.6f},新建\n")
    t = time.perf_counter()
    subprocess.run([*ZONING, "check", sites.name, "-o", str(tmp / "cli.csv"), "--no-progress"], cwd=tmp, check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    cli_s = time.perf_counter() - t
    with httpx.Client(base_url=server.url, timeout=600) as c:
        t = time.perf_counter()
        with sites.open("rb") as fh:
            r = c.post("/api/v1/checks", files={"file": (sites.name, fh, "text/csv")}, data={"format": "csv"})
        job = wait_job(c, r.json()["id"], timeout=1800)
        api_s = time.perf_counter() - t
        api_csv = c.get(job["files"]["check.csv"]).content
    same = api_csv == (tmp / "cli.csv").read_bytes()
    return {"sites": n, "cli_s": round(cli_s, 2), "api_s": round(api_s, 2), "ratio": round(api_s / cli_s, 3),
            "status": job["status"], "reports_identical": same}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sites", type=int, default=100_000)
    args = ap.parse_args()
    from service_server import Server

    single = bench_single(100 if args.quick else 400)
    print(single, flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
    server = Server(tmp / "data", "--workers", str(args.workers), "--job-workers", "1")
    try:
        per_level = {1: 200, 8: 400, 32: 500, 64: 500} if args.quick else {1: 300, 8: 1000, 32: 2000, 64: 2000}
        load = bench_load(server, [1, 8, 32, 64], per_level)
        check = bench_check(server, 5000 if args.quick else args.sites, tmp)
        print(check, flush=True)
    finally:
        server.stop()
    result = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "workers": args.workers, "quick": args.quick, "single": single, "load": load, "check": check,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "service.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [f"# Service benchmark ({result['when']})", "", f"{result['machine']}; `zoning serve --workers "
             f"{args.workers}`; the load client shares the same cores.", "",
             "## One answer (`query_point(...).to_dict()`, a project described)", "",
             "| path | ms per answer |", "| --- | ---: |"]
    if "baseline_query_point_ms" in single:
        lines.append(f"| baseline: query.py before the rework ({BASELINE_COMMIT}) | {single['baseline_query_point_ms']:.2f} |")
    lines += [f"| query_point (single point) | {single['query_point_ms']:.2f} |",
              f"| query_point_answers ({single['points']} points in one call, as the service batches them) | "
              f"{single['query_point_answers_ms']:.3f} |",
              f"| query_points (vectorised table, 100,000 points, no per-point answer object) | "
              f"{single['query_points_100k_ms_per_point']:.4f} |", ""]
    if "baseline_query_point_ms" in single:
        lines.append(f"Single point: **{single['baseline_query_point_ms'] / single['query_point_ms']:.2f}×** faster "
                     f"than the baseline (answers equal: {single['baseline_answers_equal']}); batched: "
                     f"**{single['baseline_query_point_ms'] / single['query_point_answers_ms']:.1f}×**.")
    lines += ["", "## `/api/v1/query` under load (bounded loops on 127.0.0.1)", "",
              "| clients | requests | answers/s | p50 ms | p95 ms | p99 ms | errors |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in load:
        lines.append(f"| {r['clients']} | {r['requests']} | {r['answers_per_s']:,.0f} | {r['p50_ms']} | {r['p95_ms']} | "
                     f"{r['p99_ms']} | {r['errors']} |")
    lines += ["", "Targets (issue 15): at least 1,000 answers/s with p95 under 50 ms at 32 clients.", "",
              f"## A {check['sites']:,}-site check", "", "| path | seconds |", "| --- | ---: |",
              f"| `zoning check sites.csv -o out.csv` (cold start included) | {check['cli_s']} |",
              f"| API: upload, job, poll until done | {check['api_s']} |", "",
              f"API / CLI: **{check['ratio']}×** (target ≤ 1.3×); reports byte-identical: {check['reports_identical']}."]
    (out / "service.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
