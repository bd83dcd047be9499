"""Benchmark the review reports (审查报告): documents per second for a batch of sites.

Scenarios, on the same red-line polygons (random squares of 1–10 ha over the city, so
maps hold zones, extents and county lines) checked once with :func:`zoning.check.check_sites`:

* ``serial``: the baseline, every document rendered in the parent process (workers=1),
  on the first ``--baseline`` sites;
* ``parallel``: :class:`zoning.outputs.review.ReviewWriter` with its default worker
  processes (the CPU count, at most 4) on all ``--sites`` sites;
* ``volume``: one Word volume of ``--baseline`` sites (summary table first).

Each writes Word and PDF (``--formats``); a document is one file. Writes
benchmarks/results/review.json and review.md.

    python benchmarks/bench_review.py [--sites 1000] [--baseline 100] [--formats docx,pdf]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))


def _sites(n: int, seed: int = 7):
    import geopandas as gpd
    import numpy as np
    import shapely

    from zoning.core.context import load_context

    ctx = load_context(None)
    city = shapely.union_all(ctx.counties.geometry.to_numpy())
    rng = np.random.default_rng(seed)
    zones = ctx.features[ctx.features["kind"] != "planning_extent"].geometry.to_numpy()
    geoms = []
    while len(geoms) < n:  # half near a zone (overlaps to report), half anywhere in the city
        if len(geoms) % 2 == 0:
            c = zones[rng.integers(len(zones))].centroid
            x, y = c.x + rng.normal(0, 0.004), c.y + rng.normal(0, 0.004)
        else:
            b = city.bounds
            x, y = rng.uniform(b[0], b[2]), rng.uniform(b[1], b[3])
            if not city.contains(shapely.Point(x, y)):
                continue
        side = np.sqrt(rng.uniform(1, 10) * 10_000) / 111_000
        geoms.append(shapely.box(x, y, x + side / np.cos(np.radians(y)), y + side))
    return gpd.GeoDataFrame(
        {
            "site_id": [f"B{i:05d}" for i in range(n)],
            "site_name": [f"基准项目{i}" for i in range(n)],
            "row": np.arange(1, n + 1),
        },
        geometry=geoms,
        crs="EPSG:4490",
    )


def _run(ctx, results, formats, out: Path, *, workers: int | None, volume: bool = False) -> dict:
    from zoning.outputs.review import ReviewWriter

    t0 = time.perf_counter()
    kw = {"volume": {f: out / f"volume.{f}" for f in formats}} if volume else {"out_dir": out}
    w = ReviewWriter(ctx, formats=tuple(formats), workers=workers, input_text="benchmark", **kw)
    for start in range(0, len(results), 200):
        w.write(results.iloc[start : start + 200])
    written = w.close()
    dt = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in written)
    return {
        "sites": len(results),
        "documents": len(written),
        "seconds": round(dt, 2),
        "documents_per_s": round(len(written) / dt, 2),
        "sites_per_s": round(len(results) / dt, 2),
        "failures": len(w.failures),
        "mean_kb": round(size / max(len(written), 1) / 1024, 1),
        "workers": w.workers,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--baseline", type=int, default=100)
    ap.add_argument("--formats", default="docx,pdf")
    args = ap.parse_args()
    formats = [f for f in args.formats.split(",") if f]

    from zoning.check import build_context, check_sites

    ctx = build_context(None, project_defaults={"construction": "新建"})
    sites = _sites(args.sites)
    t0 = time.perf_counter()
    results = check_sites(sites, context=ctx)
    check_s = time.perf_counter() - t0
    out: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "formats": formats,
        "check_seconds": round(check_s, 2),
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        base = results.iloc[: args.baseline]
        out["serial"] = _run(ctx, base, formats, tmp_p / "serial", workers=1)
        out["parallel"] = _run(ctx, results, formats, tmp_p / "parallel", workers=None)
        out["volume"] = _run(ctx, base, ["docx"], tmp_p / "volume", workers=None, volume=True)
    out["speed_up"] = round(out["parallel"]["documents_per_s"] / out["serial"]["documents_per_s"], 2)
    res_dir = HERE / "results"
    res_dir.mkdir(exist_ok=True)
    (res_dir / "review.json").write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = [
        "# Review reports (审查报告): documents per second",
        "",
        f"{out['machine']['cpus']} CPUs, Python {out['machine']['python']}; formats {', '.join(formats)}; "
        f"check of {args.sites} red lines {out['check_seconds']} s (not counted below).",
        "",
        "| scenario | sites | documents | workers | seconds | documents/s | sites/s | mean size (KB) | failures |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in ("serial", "parallel", "volume"):
        r = out[name]
        lines.append(
            f"| {name} | {r['sites']} | {r['documents']} | {r['workers']} | {r['seconds']} | "
            f"{r['documents_per_s']} | {r['sites_per_s']} | {r['mean_kb']} | {r['failures']} |"
        )
    lines += ["", f"parallel / serial: {out['speed_up']}× documents per second.", ""]
    (res_dir / "review.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
