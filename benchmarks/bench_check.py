"""Benchmark ``zoning check`` against a plain geopandas sjoin/overlay baseline.

Scenarios (each run in a fresh subprocess so peak memory is its own):

* points: N point sites in a CSV → check → CSV + GeoPackage (target < 5 s for 100,000 on 2 cores)
* polygons: M red-line polygons in a GeoPackage → check with overlap areas → CSV + GeoPackage
  (target < 10 s for 10,000)
* baseline_points / baseline_polygons: geopandas ``sjoin`` (points) and ``overlay`` +
  area (polygons) against the same zones and counties, written to CSV + GeoPackage:
  the work a GIS analyst would do by hand, without verdicts, statuses or shares
* xlsx_xlsxwriter / xlsx_openpyxl: the Excel writer alone on the point results

Writes benchmarks/results/check.json and check.md. ``--quick``: 10,000 points and
1,000 polygons.

    python benchmarks/bench_check.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))


def _make_inputs(tmp: Path, n_points: int, n_polys: int) -> None:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from zoning.core.layers import open_pack, read_layer

    pack = open_pack(REPO / "layers" / "jincheng")
    city = read_layer(pack, "counties").geometry.union_all()
    rng = np.random.default_rng(42)
    w, s, e, n = city.bounds

    def sample(k):
        out = []
        while len(out) < k:
            x = rng.uniform(w, e, k * 2)
            y = rng.uniform(s, n, k * 2)
            pts = shapely.points(x, y)
            out.extend(pts[shapely.contains_xy(city, x, y)].tolist())
        return out[:k]

    pts = sample(n_points)
    df = pd.DataFrame({"序号": np.arange(1, n_points + 1), "项目名称": [f"示例项目{i}" for i in range(1, n_points + 1)],
                       "经度": np.round(shapely.get_x(pts), 6), "纬度": np.round(shapely.get_y(pts), 6),
                       "建设性质": rng.choice(["新建", "扩建", "改建"], n_points),
                       "是否排放污染物": rng.choice(["是", "否"], n_points)})
    df.to_csv(tmp / "points.csv", index=False, encoding="utf-8-sig")
    centres = sample(n_polys)
    sizes = rng.uniform(0.0005, 0.004, n_polys)
    polys = [shapely.box(p.x - d, p.y - d * 0.8, p.x + d, p.y + d * 0.8) for p, d in zip(centres, sizes)]
    gpd.GeoDataFrame({"项目名称": [f"示例红线{i}" for i in range(1, n_polys + 1)]}, geometry=polys,
                     crs="EPSG:4490").to_file(tmp / "polygons.gpkg", layer="sites", engine="pyogrio")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _scenario(name: str, tmp: Path) -> dict:
    import geopandas as gpd
    import pandas as pd

    from zoning.check import build_context, check_sites
    from zoning.core.context import freeze_loaded
    from zoning.core.layers import open_pack
    from zoning.inputs.sites import iter_sites
    from zoning.outputs.reports import ResultWriter

    pack = open_pack(REPO / "layers" / "jincheng")
    ctx = build_context(pack)  # reading the pack is not timed: a long-lived process reads it once
    freeze_loaded()  # as zoning check does once it has read the pack (for the baselines too: the same process)
    # every run starts from the same disk state: the previous run's outputs removed and every
    # pending write flushed, so that neither lands in this run's timing (each run writes 100-200 MB)
    outputs = [*tmp.glob(f"{name}_out.*")]  # never the inputs (points.csv, polygons.gpkg)
    if name.startswith("baseline"):
        outputs += [tmp / f"{name}.csv", tmp / f"{name}.gpkg"]
    elif name.startswith("xlsx_"):
        outputs.append(tmp / f"{name}.xlsx")
    for old in outputs:
        old.unlink(missing_ok=True)
    os.sync()
    base_mb = _peak_mb()
    t0 = time.perf_counter()
    n = 0
    if name in ("points", "polygons", "points_1m"):
        src = tmp / {"points": "points.csv", "polygons": "polygons.gpkg", "points_1m": "points_1m.csv"}[name]
        w = ResultWriter({"csv": tmp / f"{name}_out.csv", "gpkg": tmp / f"{name}_out.gpkg"}, context=ctx, inputs=[src])
        for chunk in iter_sites(src):
            res = check_sites(chunk, context=ctx)
            w.write(res)
            n += len(res)
        w.close()
    elif name.startswith("baseline"):
        import pandas as pd

        counties = ctx.counties.assign(kind="counties", zone_class=ctx.counties["adcode"], zone_id=ctx.counties["adcode"])
        zones = gpd.GeoDataFrame(pd.concat([ctx.features[["kind", "zone_class", "zone_id", "geometry"]],
                                            counties[["kind", "zone_class", "zone_id", "geometry"]]], ignore_index=True),
                                 crs="EPSG:4490")
        if name == "baseline_points":
            df = pd.read_csv(tmp / "points.csv", encoding="utf-8-sig")
            sites = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["经度"], df["纬度"]), crs="EPSG:4490")
            out = gpd.sjoin(sites, zones, how="left", predicate="intersects")
        else:
            sites = gpd.read_file(tmp / "polygons.gpkg", engine="pyogrio")
            sp = sites.to_crs(zones.crs)
            out = gpd.overlay(sp.reset_index(names="site"), zones, how="intersection", keep_geom_type=True)
            out["overlap_m2"] = out.to_crs("+proj=aea +lat_0=35.65 +lon_0=112.75 +lat_1=35.3 +lat_2=36.0 +ellps=GRS80").area
        n = len(sites)
        out.drop(columns="geometry").to_csv(tmp / f"{name}.csv", index=False, encoding="utf-8-sig")
        out.to_file(tmp / f"{name}.gpkg", engine="pyogrio")
    elif name.startswith("xlsx_"):
        engine = name.split("_", 1)[1]
        res = check_sites(next(iter_sites(tmp / "points.csv", chunksize=10**9)), context=ctx)
        n = len(res)
        t0 = time.perf_counter()
        w = ResultWriter({"xlsx": tmp / f"{name}.xlsx"}, context=ctx, xlsx_engine=engine)
        w.write(res)
        w.close()
    dt = time.perf_counter() - t0
    return {"scenario": name, "sites": n, "seconds": round(dt, 3), "sites_per_s": round(n / dt, 1),
            "peak_rss_mb": round(_peak_mb(), 1), "rss_before_mb": round(base_mb, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 points and 1,000 polygons")
    ap.add_argument("--million", action="store_true",
                    help="also stream 1,000,000 point sites (CSV -> CSV + GeoPackage; ~1 min) to show memory stays flat")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each compared scenario (the median is reported)")
    ap.add_argument("--scenario", help=argparse.SUPPRESS)
    ap.add_argument("--tmp", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.scenario:
        print(json.dumps(_scenario(args.scenario, Path(args.tmp))))
        return
    n_points, n_polys = (10_000, 1_000) if args.quick else (100_000, 10_000)
    results = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        _make_inputs(tmp, n_points, n_polys)
        names = ["points", "baseline_points", "polygons", "baseline_polygons", "xlsx_xlsxwriter", "xlsx_openpyxl"]
        if args.million:
            import pandas as pd

            small = pd.read_csv(tmp / "points.csv", encoding="utf-8-sig")
            reps = -(-1_000_000 // len(small))
            big = pd.concat([small] * reps, ignore_index=True).iloc[:1_000_000]
            big["序号"] = range(1, len(big) + 1)
            big.to_csv(tmp / "points_1m.csv", index=False, encoding="utf-8-sig")
            names.insert(1, "points_1m")
        compared = {"points", "baseline_points", "polygons", "baseline_polygons"}
        runs: dict[str, list[dict]] = {}
        # the compared scenarios run --repeat times, each beside its baseline in turn (a drift of
        # the machine touches both); the median run is reported, every run is kept
        # one warm-up pass first (not counted: the first run after the inputs are written is slower)
        warm = [n for n in names if n in compared]
        order = warm + [n for _ in range(args.repeat) for n in warm] + [n for n in names if n not in compared]
        warmups: dict[str, float] = {}
        for i, name in enumerate(order):
            proc = subprocess.run([sys.executable, __file__, "--scenario", name, "--tmp", str(tmp)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                runs.setdefault(name, []).append({"scenario": name, "error": proc.stderr.strip().splitlines()[-1]})
                continue
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            print(result)
            if i < len(warm):
                warmups[name] = result["seconds"]
                continue
            runs.setdefault(name, []).append(result)
        for name in names:
            ok = sorted((r for r in runs.get(name, []) if "error" not in r), key=lambda r: r["seconds"])
            if not ok:
                results.append(runs[name][0])
                continue
            med = dict(ok[(len(ok) - 1) // 2])
            med["runs_s"] = [r["seconds"] for r in runs[name] if "error" not in r]
            if name in warmups:
                med["warmup_s"] = warmups[name]
            results.append(med)
    by = {r["scenario"]: r for r in results}
    ratios, paired = {}, {}
    for a, b in (("points", "baseline_points"), ("polygons", "baseline_polygons")):
        if "seconds" in by.get(a, {}) and "seconds" in by.get(b, {}):
            ratios[a] = round(by[a]["seconds"] / by[b]["seconds"], 2)
            # each run of a scenario ran just before its baseline's run of the same round: the
            # ratio within each round, then their median (what a drift of the machine touches least)
            pairs = [round(x / y, 2) for x, y in zip(by[a].get("runs_s", []), by[b].get("runs_s", []), strict=False)]
            if pairs:
                paired[a] = {"median": round(statistics.median(pairs), 2), "rounds": pairs}
    meta = {"quick": args.quick, "repeat": args.repeat, "points": n_points, "polygons": n_polys, "cpus": os.cpu_count(),
            "python": platform.python_version(), "machine": platform.machine(),
            "targets": {"points_s": 5.0, "polygons_s": 10.0, "points_1m_s": 60.0} if not args.quick else {}}
    out = {"meta": meta, "results": results, "ratio_zoning_to_baseline": ratios, "ratio_within_rounds": paired}
    rdir = HERE / "results"
    rdir.mkdir(exist_ok=True)
    (rdir / "check.json").write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = [f"# zoning check benchmark ({'quick' if args.quick else 'full'})", "",
             f"{n_points:,} points, {n_polys:,} polygons; {os.cpu_count()} CPUs; Python {platform.python_version()}", "",
             f"Compared scenarios: one warm-up run (not counted, in brackets), then the median of {args.repeat} runs, "
             "each beside its baseline in turn, every run starting with the previous outputs removed and the disk "
             "synced (all runs in the last column).", "",
             "| scenario | sites | seconds | sites/s | peak RSS MB | runs (s) |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['scenario']} | error: {r['error']} | | | | |")
        else:
            runs_s = ", ".join(str(x) for x in r.get("runs_s", [r["seconds"]]))
            if "warmup_s" in r:
                runs_s = f"({r['warmup_s']}) {runs_s}"
            lines.append(f"| {r['scenario']} | {r['sites']:,} | {r['seconds']} | {r['sites_per_s']:,} | {r['peak_rss_mb']} "
                         f"| {runs_s} |")
    lines += ["", "Ratio zoning / baseline (time), of the medians: " + ", ".join(f"{k} {v}×" for k, v in ratios.items()),
              "", "Ratio within each round (zoning's run / its baseline's run just after), their median: " + ", ".join(
                  f"{k} {v['median']:.2f}× (rounds {', '.join(f'{r}×' for r in v['rounds'])})" for k, v in paired.items()),
              "",
              "The baseline joins and writes only; zoning also parses coordinates row by row, assigns counties "
              "with near-line checks, evaluates the rules, and writes statuses, shares and articles.", ""]
    (rdir / "check.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
