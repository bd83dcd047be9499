"""Benchmark the 压占 outputs: red lines checked with their pieces and remainders, beside the plain check.

N red-line polygons (squares of 1-20 ha; half of them centred on groundwater zones, so
they cut several zones, the other half anywhere in the city) are

* ``check``: checked (:func:`zoning.check.check_sites`: hits, overlap areas, verdicts);
* ``check + pieces``: checked, then their overlap pieces and both remainders computed
  (:func:`zoning.outputs.pieces.pieces_frames`: intersections, per-class rule verdicts,
  differences, back to CGCS2000);
* ``check + pieces + files``: the same and written as the GeoPackage layers ``pieces`` and
  ``remainder``, a DXF drawing and the 界址点 file (:class:`zoning.outputs.pieces.PiecesWriter`).

Each scenario is timed in the same process after a warm-up on 200 sites (pack read,
indexes built), best of ``--repeat``. Writes benchmarks/results/pieces.json and pieces.md.

    python benchmarks/bench_pieces.py [--sites 10000] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))


def _red_lines(n: int, seed: int = 7):
    import geopandas as gpd
    import numpy as np
    import shapely

    from zoning.core.context import load_context

    ctx = load_context()
    rng = np.random.default_rng(seed)
    f = ctx.features
    zones = f[f["kind"].isin(("groundwater_protection", "groundwater_control")).to_numpy()]
    city = ctx.counties.geometry.union_all()
    w, s, e, nb = city.bounds
    half = n // 2
    centres = zones.geometry.representative_point().to_numpy()[rng.integers(0, len(zones), half)]
    cx = np.concatenate([shapely.get_x(centres) + rng.normal(0, 0.005, half), rng.uniform(w, e, n - half)])
    cy = np.concatenate([shapely.get_y(centres) + rng.normal(0, 0.005, half), rng.uniform(s, nb, n - half)])
    side = np.sqrt(rng.uniform(1, 20, n) * 10_000) / 100_000  # 1-20 ha, in degrees (about 1e5 m per degree)
    geoms = shapely.box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    return gpd.GeoDataFrame({"site_id": [f"R{i:05d}" for i in range(n)]}, geometry=geoms, crs="EPSG:4490")


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1,000 sites, one repeat")
    args = ap.parse_args()
    n, repeat = (1_000, 1) if args.quick else (args.sites, args.repeat)

    from zoning.check import build_context, check_sites
    from zoning.outputs.pieces import PiecesWriter, pieces_frames

    sites = _red_lines(n)
    ctx = build_context(project_defaults={"construction": "new", "discharges_pollutants": True})
    ctx.context.warm()
    warm = check_sites(sites.iloc[:200], context=ctx)
    pieces_frames(warm, ctx)

    t_check, res = _best(lambda: check_sites(sites, context=ctx), repeat)

    def with_pieces():
        r = check_sites(sites, context=ctx)
        return r, pieces_frames(r, ctx)

    t_pieces, (_r, (pieces, remainder)) = _best(with_pieces, repeat)

    def with_files():
        with tempfile.TemporaryDirectory() as tmp:
            r = check_sites(sites, context=ctx)
            w = PiecesWriter({"gpkg": Path(tmp) / "p.gpkg", "dxf": Path(tmp) / "p.dxf", "jzd": Path(tmp) / "r.txt"},
                             ctx)
            w.write(r)
            w.close()
            return sum(f.stat().st_size for f in Path(tmp).iterdir())

    t_files, size = _best(with_files, repeat)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        {"scenario": scenario, "seconds": round(t, 2), "sites_per_s": round(n / t), "x_check": round(t / t_check, 2)}
        for scenario, t in (("check", t_check), ("check + pieces + remainders", t_pieces),
                            ("check + pieces + files (gpkg, dxf, 界址点)", t_files))
    ]
    result = {
        "sites": n, "repeat": repeat, "pieces": len(pieces), "remainders": len(remainder),
        "files_bytes": int(size), "peak_rss_mb": round(peak_mb), "python": platform.python_version(),
        "machine": platform.machine(), "rows": rows,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    suffix = "_quick" if args.quick else ""
    (out / f"pieces{suffix}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# 压占 outputs: {n:,} red lines ({len(pieces):,} pieces, {len(remainder):,} remainders)", "",
        f"Best of {repeat}, in one process after a warm-up; Python {platform.python_version()}, "
        f"{platform.machine()}, peak RSS {peak_mb:.0f} MB; files {size / 1e6:.1f} MB.", "",
        "| scenario | seconds | sites/s | × plain check |", "| --- | ---: | ---: | ---: |",
        *(f"| {r['scenario']} | {r['seconds']} | {r['sites_per_s']:,} | {r['x_check']} |" for r in rows), "",
    ]
    (out / f"pieces{suffix}.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
