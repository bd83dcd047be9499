"""Benchmark of the query (issue 4): CLI cold start, zone classification of 1,000,000
points and the full answer for 100,000 points, each beside a naive baseline measured in
the same run. Writes benchmarks/results/query.json and query.md.

    python benchmarks/bench_query.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from zoning.query import classify_points, load_context, query_points  # noqa: E402


def random_points_in_city(ctx, n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """n uniformly random points inside the county layer (rejection sampling)."""
    rng = np.random.default_rng(seed)
    city = shapely.union_all(ctx.counties.geometry.values)
    shapely.prepare(city)
    minx, miny, maxx, maxy = city.bounds
    lons, lats = [], []
    need = n
    while need > 0:
        x = rng.uniform(minx, maxx, int(need * 1.4) + 100)
        y = rng.uniform(miny, maxy, int(need * 1.4) + 100)
        keep = shapely.contains_xy(city, x, y)
        lons.append(x[keep][:need])
        lats.append(y[keep][:need])
        need -= int(min(keep.sum(), need))
    return np.concatenate(lons), np.concatenate(lats)


def naive_classify(ctx, lon, lat) -> list[list[str]]:
    """Baseline: a Python loop of shapely contains over every zone of every layer."""
    zones = [(g.geometry.values, g["zone_class"].to_numpy()) for _, g in ctx.zones]
    out = []
    for x, y in zip(lon, lat):
        p = shapely.Point(x, y)
        hit = []
        for geoms, classes in zones:
            for geom, cls in zip(geoms, classes):
                if geom.contains(p):
                    hit.append(cls)
        out.append(hit)
    return out


def timed(fn, *args, repeat: int = 3, **kw):
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args, **kw)
        times.append(time.perf_counter() - t0)
    return min(times), result


def cli_cold_start(repeat: int = 5) -> float:
    exe = Path(sys.executable).with_name("zoning")
    cmd = [str(exe), "query", "112.85", "35.49"]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="0"))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    args = ap.parse_args()
    n_classify = 100_000 if args.quick else 1_000_000
    n_answer = 20_000 if args.quick else 100_000
    n_naive = 500 if args.quick else 2_000

    ctx = load_context(REPO / "layers" / "jincheng")
    n_zones = sum(len(g) for _, g in ctx.zones)
    lon, lat = random_points_in_city(ctx, n_classify)

    def zones_only(lon, lat):
        return ctx.feature_index.hits(lon, lat)  # every zone and extent, one prepared index

    t_zones, _ = timed(zones_only, lon, lat, repeat=2)
    t_classify, (points, hits) = timed(classify_points, ctx, lon, lat, repeat=2)
    t_naive, naive = timed(naive_classify, ctx, lon[:n_naive], lat[:n_naive], repeat=1)
    # the two must agree on the sample
    sample_hits = hits[(hits["point"] < n_naive) & hits["kind"].isin(["groundwater_protection", "groundwater_control"])]
    by_point: dict[int, list[str]] = {}
    for p, cls in zip(sample_hits["point"].to_numpy(), sample_hits["zone_class"].to_numpy()):
        by_point.setdefault(int(p), []).append(cls)
    assert all(sorted(by_point.get(i, [])) == sorted(naive[i]) for i in range(n_naive)), "indexed and naive disagree"

    project = {"construction": "new", "industry": "chemical", "discharges_pollutants": True}
    t_answer, answers = timed(query_points, (lon[:n_answer], lat[:n_answer]), ctx.pack, project=project,
                              on_date=dt.date(2025, 6, 1), repeat=2)
    from zoning.query import query_point

    n_single = 100 if args.quick else 500
    t_single, _ = timed(lambda: [query_point(float(x), float(y), pack=ctx.pack, project=project,
                                             on_date=dt.date(2025, 6, 1)).to_dict()
                                 for x, y in zip(lon[:n_single], lat[:n_single])], repeat=1)
    t_cli = cli_cold_start()

    rate_classify = n_classify / t_classify
    rate_naive = n_naive / t_naive
    result = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, shapely {shapely.__version__}",
        "zones": n_zones,
        "zone_classification": {"points": n_classify, "seconds": round(t_zones, 3), "points_per_s": round(n_classify / t_zones)},
        "classify_points": {"points": n_classify, "seconds": round(t_classify, 3), "points_per_s": round(rate_classify)},
        "naive_loop": {"points": n_naive, "seconds": round(t_naive, 3), "points_per_s": round(rate_naive)},
        "speedup_zones_vs_naive": round(n_classify / t_zones / rate_naive, 1),
        "speedup_vs_naive": round(rate_classify / rate_naive, 1),
        "full_answer": {"points": n_answer, "seconds": round(t_answer, 3), "points_per_s": round(n_answer / t_answer),
                        "verdicts": answers["verdict"].value_counts().to_dict()},
        "single_answer": {"points": n_single, "seconds": round(t_single, 3),
                          "ms_per_answer": round(1000 * t_single / n_single, 2)},
        "cli_cold_start_s": round(t_cli, 3),
        "quick": args.quick,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "query.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md = [
        f"# Query benchmark ({result['date']})",
        "",
        f"{result['machine']}; {n_zones} groundwater zones in the pack.",
        "",
        "| what | points | seconds | points/s |",
        "| --- | ---: | ---: | ---: |",
        f"| zone classification: every groundwater zone (ZoneIndex) | {n_classify:,} | {t_zones:.3f} | {n_classify / t_zones:,.0f} |",
        f"| baseline: Python loop of shapely contains over every zone | {n_naive:,} | {t_naive:.3f} | {rate_naive:,.0f} |",
        f"| full classification: county + line check, extents, quota, zones (classify_points) | {n_classify:,} | {t_classify:.3f} | {rate_classify:,.0f} |",
        f"| full answer with rules and verdicts (query_points) | {n_answer:,} | {t_answer:.3f} | {n_answer / t_answer:,.0f} |",
        f"| one query_point(...).to_dict() at a time | {n_single:,} | {t_single:.3f} | {n_single / t_single:,.0f} "
        f"({1000 * t_single / n_single:.1f} ms each) |",
        "",
        f"Zone classification is **{result['speedup_zones_vs_naive']}×** the naive loop's rate; the full "
        f"classification **{result['speedup_vs_naive']}×**.",
        f"CLI cold start for one query (`zoning query 112.85 35.49`, median of 5): **{t_cli:.2f} s**.",
        "",
    ]
    (out / "query.md").write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
