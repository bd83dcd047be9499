"""Benchmark of ``zoning derive``: cells/s and peak memory.

Cases (each in its own child process, so peak RSS is per case):

* ``city100`` / ``city30``: the demonstration run on 晋城市 (extent 6,892.2 km²) at 100 m and
  30 m; the demonstration inputs are generated first (not timed).
* ``synth25m`` / ``synth100m``: a synthetic 5,000² / 10,000² grid (30 m cells) whose inputs are
  precomputed index rasters (abundance, quality, drastic_index, cop_index, load_index) with
  smooth sin/cos patterns, processed by 512-row windows: memory should stay flat and time
  grow linearly with the cell count.

``--quick`` runs city100, city30 and a 2,500² / 5,000² synthetic pair instead.
Writes ``benchmarks/results/derive.json`` and ``derive.md``.

    .venv/bin/python benchmarks/bench_derive.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def _synth_inputs(d: Path, n: int, res: float = 30.0) -> Path:
    import geopandas as gpd
    import numpy as np
    import rasterio
    from affine import Affine
    from shapely.geometry import Point, box

    d.mkdir(parents=True, exist_ok=True)
    x0, y1 = 300_000.0, 4_200_000.0
    tr = Affine(res, 0, x0, 0, -res, y1)
    size = n * res
    crs = "EPSG:4547"
    prof = dict(driver="GTiff", width=n, height=n, count=1, crs=crs, transform=tr, tiled=True, blockxsize=256,
                blockysize=256, compress="deflate", zlevel=1, num_threads="all_cpus")
    specs = {"abundance": ("uint8", 255), "quality": ("uint8", 255), "drastic_index": ("float32", -9999.0),
             "cop_index": ("float32", -9999.0), "load_index": ("float32", -9999.0)}
    dsts = {k: rasterio.open(d / f"{k}.tif", "w", dtype=t, nodata=nd, **prof) for k, (t, nd) in specs.items()}
    xs = (np.arange(n) + 0.5) * res
    for r0 in range(0, n, 512):
        h = min(512, n - r0)
        ys = (r0 + np.arange(h) + 0.5)[:, None] * res
        a = np.sin(xs / 7000.0)[None, :] + np.cos(ys / 9000.0)
        b = np.sin((xs + 0.6 * ys) / 5000.0) + 0.5 * np.cos(ys / 3000.0)
        win = rasterio.windows.Window(0, r0, n, h)
        dsts["abundance"].write(np.where(a > 1.0, 1, np.where(a > 0.5, 2, 3)).astype("uint8"), 1, window=win)
        dsts["quality"].write(np.where(b > 1.2, 5, np.where(b > 0.9, 4, 2)).astype("uint8"), 1, window=win)
        dsts["drastic_index"].write((120 + 40 * b).astype("float32"), 1, window=win)
        dsts["cop_index"].write(np.where(a < -1.2, 0.3 + (a + 2) * 2, -9999.0).astype("float32"), 1, window=win)
        dsts["load_index"].write(np.clip(30 * (a * b), 0, None).astype("float32"), 1, window=win)
    for x in dsts.values():
        x.close()
    ext = gpd.GeoDataFrame(geometry=[box(x0, y1 - size, x0 + size, y1)], crs=crs)
    ext.to_file(d / "extent.gpkg")
    half = size / 2
    cty = gpd.GeoDataFrame({"adcode": ["1", "2", "3", "4"], "name": ["A", "B", "C", "D"]},
                           geometry=[box(x0 + i * half, y1 - (j + 1) * half, x0 + (i + 1) * half, y1 - j * half)
                                     for i in (0, 1) for j in (0, 1)], crs=crs)
    cty.to_file(d / "counties.gpkg")
    rng = np.random.default_rng(1)
    pts = rng.uniform(0, size, (40, 2))
    prot = gpd.GeoDataFrame({"class": ["二级保护区"] * 30 + ["泉域重点保护区"] * 10},
                            geometry=[Point(x0 + x, y1 - y).buffer(1500) for x, y in pts], crs=crs)
    prot.to_file(d / "protection.gpkg")
    (d / "config.toml").write_text(f"""label = "benchmark"
[grid]
crs = "EPSG:4547"
resolution = {res}
extent = "extent.gpkg"
window_rows = 512
[inputs]
abundance = "abundance.tif"
quality = "quality.tif"
drastic_index = "drastic_index.tif"
cop_index = "cop_index.tif"
load_index = "load_index.tif"
protection = "protection.gpkg"
counties = "counties.gpkg"
[zones]
min_area_m2 = 10000.0
""", encoding="utf-8")
    return d / "config.toml"


def run_case(case: str, work: Path) -> dict:
    """Prepare the inputs (untimed), then time ``derive`` (in this child process)."""
    from zoning.demo import groundwater as demo
    from zoning.derive import derive

    if case.startswith("city"):
        res = float(case[4:])
        d = work / case
        demo.generate(d, resolution=res, write_config=True)
        cfg = d / "config.toml"
    else:
        n = {"synth6m": 2500, "synth25m": 5000, "synth100m": 10000}[case]
        cfg = _synth_inputs(work / case, n)
    t = time.perf_counter()
    r = derive(cfg, work / f"{case}_out", overwrite=True)
    dt = time.perf_counter() - t
    g = r.provenance["grid"]
    cells = g["width"] * g["height"]
    return {"case": case, "resolution_m": g["resolution_m"], "grid_cells": cells, "extent_cells": g["extent_cells"],
            "seconds": round(dt, 2), "cells_per_s": round(cells / dt), "timings": r.timings,
            "zones": int(len(r.zones))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--case")
    ap.add_argument("--work")
    a = ap.parse_args(argv)
    if a.case:  # child
        print("RESULT " + json.dumps(run_case(a.case, Path(a.work)), default=float))
        return
    cases = ["city100", "city30"] + (["synth6m", "synth25m"] if a.quick else ["synth25m", "synth100m"])
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_derive_") as work:
        for c in cases:
            p = subprocess.Popen([sys.executable, __file__, "--case", c, "--work", work], stdout=subprocess.PIPE,
                                 text=True, cwd=ROOT)
            out = p.stdout.read()
            _, status, ru = os.wait4(p.pid, 0)
            line = [x for x in out.splitlines() if x.startswith("RESULT ")]
            if status != 0 or not line:
                results.append({"case": c, "error": out[-2000:]})
                continue
            r = json.loads(line[0][7:])
            r["peak_rss_mb"] = round(ru.ru_maxrss / 1024, 1)  # includes the untimed input preparation
            results.append(r)
            print(json.dumps(r, default=float))
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(), "cpus": os.cpu_count(),
            "machine": platform.machine(), "quick": a.quick}
    outdir = HERE / "results"
    outdir.mkdir(exist_ok=True)
    (outdir / "derive.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=float))
    lines = ["# zoning derive benchmark", "", f"{meta['date']}, {meta['cpus']} CPUs, Python {meta['python']}"
             + (" (quick)" if a.quick else ""), "",
             "| case | res (m) | grid cells | extent cells | seconds | cells/s | peak RSS (MB) | zones |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['case']} | error | | | | | | |")
            continue
        lines.append(f"| {r['case']} | {r['resolution_m']:g} | {r['grid_cells']:,} | {r['extent_cells']:,} | "
                     f"{r['seconds']} | {r['cells_per_s']:,} | {r['peak_rss_mb']} | {r['zones']} |")
    lines += ["", "Peak RSS is the child process's maximum, including the untimed input generation",
              "(the demonstration generator holds whole-grid arrays; derive itself works by windows)."]
    (outdir / "derive.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
