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
  the default breaks (100/140), from a score correlated (ρ = 0.45) with 富水性;
* COP factors C, O, P are built in a karst area of ≈3,437 km² (the area the published
  percentages imply) so that C × O × P falls in the published classes under Vías breaks;
* 1,760 source points (394 industry, 437 mines, 5 hazardous waste, 13 landfills, 225 petrol
  stations, 686 agriculture) clustered around seeded town centres; the cluster spread is
  set so the loaded area is 3,222.65 km², and the quantities Q = α·q^γ so that the default
  load breaks give the published high/medium/low areas;
* protection zones: 81 一级 (4.494 km²), 31 二级 (113.372), 1 准保护区 (8.3), 6 泉域 (70.97 km²),
  drawn as discs and rings, each inside one county and the extent and apart from the others,
  with radii fitted by bisection to the published areas on the grid (:func:`_protection`);
* control zones (:class:`_ControlCalibration`): the control total (512.95 km²) is exact by
  construction; a fine seeded texture mixed into the DRASTIC score (weight τ_s) and into the
  COP score (τ_d) makes the patchiness, τ_s set by bisection so that there are 54 一级管控区
  zones and τ_d so that there are 261 二级管控区 zones (counted as the vectoriser counts them:
  4-connected parts split by county, ≥ 0.01 km²); 25 三线一单 key units are discs around the
  most-loaded towns whose radius is set so the 一级管控区 area is 41.75 km²; a count trim of a
  few one- or two-cell zones closes the remainder, checked with ``vectorize.build_zones``.

Run ``python -m zoning.demo OUTDIR [--resolution 100] [--seed N]``; it also writes a
``config.toml`` there. ``zoning derive`` (and :func:`zoning.demo.derive_demo`) generate these
inputs before running the pipeline when the config says ``[demo] generate = true``.

The county layer is the config's, else the pack's (:func:`zoning.derive.counties.pack_counties`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from pyproj import CRS, Transformer
from rasterio import features
from shapely.geometry import Point, Polygon, box

from zoning.derive import steps
from zoning.derive.config import DEFAULT_CLASSES
from zoning.derive.grid import Grid, tiff_profile

DEFAULT_SEED = 20231123
LABEL = "demonstration"

#: the report's figures (km²) [R 6431–6778]
PUBLISHED: dict[str, Any] = {
    "extent": 6892.2,
    "abundance": {"强富水": 983.8, "中等富水": 691.0, "弱富水": 5218.7},
    "quality_grade": {"好 (I–III类)": 5929.3, "中 (IV类)": 840.1, "差 (V类)": 122.8},
    "function_value": {"功能价值高": 1428.18, "功能价值中": 201.96, "功能价值低": 5246.50},
    "vulnerability": {"脆弱性高": 940.96, "脆弱性中": 3486.59, "脆弱性低": 2459.08},
    "cop_class": {"低": 2357.54, "较低": 421.31, "较高": 163.04, "高": 2.69},
    "load_class": {"高污染荷载": 116.39, "中污染荷载": 343.63, "低污染荷载": 2762.63},
    "protection": {"一级保护区": 4.494, "二级保护区": 113.372, "准保护区": 8.3, "泉域重点保护区": 70.97},
    "levels": {
        "一级管控区": 41.75,
        "二级管控区": 471.20,
        "一级保护区": 4.494,
        "二级保护区": 113.372,
        "准保护区": 8.3,
        "泉域重点保护区": 70.97,
    },
}
PUBLISHED_COUNTS = {
    "一级管控区": 54,
    "二级管控区": 261,
    "一级保护区": 81,
    "二级保护区": 31,
    "准保护区": 1,
    "泉域重点保护区": 6,
}
COP_MEDIUM_DERIVED = 492.0  # ≈ 3,437 km² karst implied by the percentages, minus the four published classes
SOURCE_COUNTS = {
    "industry": 394,
    "mine": 437,
    "hazardous_waste": 5,
    "landfill": 13,
    "petrol_station": 225,
    "agriculture": 686,
}
# typical toxicity and release scores per type (1..5) [?] demonstration
TOXICITY = {
    "industry": (3, 5),
    "mine": (2, 4),
    "hazardous_waste": (5, 5),
    "landfill": (4, 5),
    "petrol_station": (3, 4),
    "agriculture": (1, 3),
}
# basins (lon, lat, sigma km): 泽州/城区, 高平, 阳城, 沁水, 陵川 (approximate, for texture only)
BASINS = [(112.85, 35.50, 14), (112.92, 35.80, 14), (112.42, 35.49, 10), (112.19, 35.70, 8), (113.28, 35.78, 7)]
TOWN_CENTRES = 60
#: zone-count calibration (see :class:`_ControlCalibration`): fine texture mixed into the COP and
#: DRASTIC scores, its scale and grid; the DRASTIC score's correlation with 富水性; key-unit disc radius
TEXTURE_BASE_KM = 0.2
TEXTURE_SIGMA_KM = 0.35
TAU_MAX = 4.0
DRASTIC_RHO = 0.45
KEY_RADIUS_M = 1500.0
KEY_UNITS = 25


# ---------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------


def _smooth_noise(rng, shape, sigma_cells):
    """Gaussian-smoothed white noise by FFT, standardised."""
    h, w = shape
    n = rng.standard_normal((h, w))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    k = np.exp(-2 * (np.pi * sigma_cells) ** 2 * (fx**2 + fy**2))
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
        flat[order[pos : pos + n]] = c
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
    prof = tiff_profile(grid, dtype, nodata)
    with rasterio.open(path, "w", **prof) as d:
        d.write(arr.astype(dtype), 1)
        d.update_tags(accuracy=LABEL, source="zoning.demo (seeded synthetic, not observed data)")


# ---------------------------------------------------------------------------------
# extent
# ---------------------------------------------------------------------------------


def demo_extent(
    counties: gpd.GeoDataFrame, crs, seed: int = DEFAULT_SEED, target_km2: float = PUBLISHED["extent"]
) -> gpd.GeoDataFrame:
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
    return gpd.GeoDataFrame(
        {
            "name": ["评估范围 (demonstration)"],
            "accuracy": [LABEL],
            "area_km2": [ext.area / 1e6],
            "method": ["city minus NW/SW bedrock corners, seeded cut, bisection to 6,892.2 km²"],
        },
        geometry=[ext],
        crs=crs,
    )


# ---------------------------------------------------------------------------------
# generator
# ---------------------------------------------------------------------------------


def generate(
    outdir: str | Path,
    resolution: float = 100.0,
    seed: int = DEFAULT_SEED,
    crs="EPSG:4547",
    counties: gpd.GeoDataFrame | None = None,
    write_config: bool = False,
) -> dict:
    """Write the demonstration inputs into ``outdir``; returns the calibration record.

    ``counties`` defaults to the county layer of the default pack; without one this raises
    :class:`zoning.core.errors.NoCountyLayerError`.
    """
    if counties is None:
        from zoning.derive.counties import pack_counties

        counties = pack_counties()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    crs = CRS.from_user_input(crs)
    cty = counties.to_crs(crs)
    extent = demo_extent(cty, crs, seed)
    grid = Grid.from_bounds(crs, extent.total_bounds, resolution)
    cell = grid.cell_km2
    shape = (grid.height, grid.width)
    valid = features.rasterize(
        list(extent.geometry), out_shape=shape, transform=grid.transform, fill=0, default_value=1, dtype="uint8"
    ).astype(bool)
    F = _Fields(grid, seed)
    xs, ys = F.xy()
    to_grid = Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    basin = np.zeros(shape, np.float32)
    for lon, lat, sig in BASINS:
        bx, by = to_grid.transform(lon, lat)
        gx = np.exp(-0.5 * ((xs - bx) / (sig * 1000)) ** 2).astype(np.float32)
        gy = np.exp(-0.5 * ((ys - by) / (sig * 1000)) ** 2).astype(np.float32)
        basin = np.maximum(basin, gy[:, None] * gx[None, :])
    rec: dict = {
        "label": LABEL,
        "seed": seed,
        "resolution_m": resolution,
        "crs": crs.to_string(),
        "extent_km2_polygon": float(extent.area_km2.iloc[0]),
        "extent_km2_cells": float(valid.sum() * cell),
    }

    # -- 富水性 (1 strong, 2 medium, 3 weak)
    wet = _z(basin, valid) + 0.6 * F.noise(6)
    ab, _ = _alloc(wet, valid, [(1, 983.8), (2, 691.0), (3, None)], cell, fill=steps.NODATA)
    # -- quality (GB/T class) joint with 富水性: counts per (abundance, grade) [see module doc]
    poll = F.noise(4) + 0.3 * _z(basin, valid)
    qual = np.full(shape, steps.NODATA, np.uint8)
    good_cls = F.noise(8)  # which of I/II/III among good cells
    plan = {
        1: [(5, 40.0), (4, 80.0), (0, None)],
        2: [(5, 27.8), (4, 161.96), (0, None)],
        3: [(5, 55.0), (4, 598.14), (0, None)],
    }
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
    cop_noise = (F.noise(2), F.noise(15), F.noise(4))  # position in class, P, C (drawn here: fixed order)

    # -- protection zones (vectors) and their raster, radii fitted on this grid
    ext_geom = shapely.union_all(np.asarray(extent.geometry.values, dtype=object))
    prot_gdf, prot, rec["protection"] = _protection(grid, valid, ab, karst, cty, ext_geom, seed, crs)

    # -- sources and load
    src_gdf, load, load_rec = _sources(grid, valid, basin, ab, seed, crs, list(extent.geometry))
    towns = load_rec.pop("_towns")
    rec["load"] = load_rec
    lcls = steps.load_class(load, DEFAULT_CLASSES["load_breaks"], valid=valid)

    # -- control-zone structure: COP classes, DRASTIC high cells and 三线一单 key units, calibrated
    #    so that the control areas and the zone counts per level are the published ones
    noise_v = F.noise(5)
    ctl = _ControlCalibration(
        grid, cty, ext_geom, valid, fv, prot, karst, lcls, towns, kv, noise_v, _z(wet, valid), seed, crs
    )
    ctl.run()
    rec["control"] = ctl.record
    cop_cls, S, key_gdf = ctl.cop_cls, ctl.S, ctl.key_gdf

    C, O, P = _cop_factors(cop_cls, karst, cop_noise)
    chk = steps.cop_class(steps.cop_index(C, O, P))
    assert np.array_equal(chk[karst], cop_cls[karst]), "COP factor construction missed a class"

    # DRASTIC classes: the shallow control cells S are high; the rest of the high class lies outside
    # high function value (where it does not decide control); medium and low by rank of the score
    vul = _vulnerability(ctl.vscore, valid, ctl.cand, S, cell)
    ratings = _drastic_ratings(vul, F)
    di = steps.drastic_index(ratings)
    chk = steps.vulnerability(di, DEFAULT_CLASSES["drastic_breaks"])
    assert np.array_equal(chk[valid], vul[valid]), "DRASTIC rating construction missed a class"
    key = ctl.key_raster(ctl.n_key, ctl.key_scale)
    ctrl = steps.control_class(
        fv,
        vul,
        lcls,
        cop_cls,
        key,
        prot,
        cop_high_classes=DEFAULT_CLASSES["cop_high_classes"],
        key_unit_lifts_deep=DEFAULT_CLASSES["key_unit_lifts_deep"],
        high_load_lifts_deep=DEFAULT_CLASSES["high_load_lifts_deep"],
    )
    ctrl[~valid] = 0
    lv = steps.final_levels(ctrl, np.where(valid, prot, 0), valid)
    assert np.array_equal(lv == 2, ctl.levels == 2) and np.array_equal(lv == 1, ctl.levels == 1), (
        "control levels differ from the calibrated structure"
    )
    rec["control"]["level_km2"] = {steps.LEVEL_NAMES[k]: round(float((lv == k).sum() * cell), 3) for k in range(1, 7)}

    # -- write
    _write(outdir / "abundance.tif", ab, grid, steps.NODATA, "uint8")
    _write(outdir / "quality.tif", qual, grid, steps.NODATA, "uint8")
    for f, r in ratings.items():
        _write(outdir / f"drastic_{f}.tif", r, grid, steps.NODATA, "uint8")
    for f, a in (("C", C), ("O", O), ("P", P)):
        _write(outdir / f"cop_{f}.tif", a, grid, steps.FNODATA, "float32")
    for name, g in (
        ("extent", extent),
        ("sources", src_gdf),
        ("key_units", key_gdf),
        ("protection", prot_gdf),
        ("counties", cty.assign(accuracy=_county_accuracy(cty))),
    ):
        g.to_file(outdir / f"{name}.gpkg", driver="GPKG")
    rec["files"] = sorted(p.name for p in outdir.iterdir())
    (outdir / "demo.json").write_text(json.dumps(rec, ensure_ascii=False, indent=2, default=float), encoding="utf-8")
    if write_config:
        (outdir / "config.toml").write_text(demo_config_text(resolution, generate=False), encoding="utf-8")
    return rec


def _county_accuracy(cty: gpd.GeoDataFrame) -> str:
    """The accuracy the county layer carries (the pack's county layer has none as a column)."""
    if "accuracy" in cty.columns and len(cty):
        return str(cty["accuracy"].iloc[0])
    return "official (the pack's county layer)"


def _cop_factors(cop_cls, karst, noises):
    """C, O, P (float32, FNODATA outside karst) whose product lies inside each cell's class;
    ``noises`` = smooth fields for the position inside the class interval, P and C."""
    n_u, n_p, n_c = (a.astype(np.float64) for a in noises)
    bounds = {5: (0.05, 0.5), 4: (0.5, 1.0), 3: (1.0, 2.0), 2: (2.0, 4.0), 1: (4.0, 12.0)}
    target = np.zeros(cop_cls.shape, np.float64)
    u = 1 / (1 + np.exp(-n_u))  # position inside the class interval
    for k, (lo, hi) in bounds.items():
        m = cop_cls == k
        target[m] = lo + (0.1 + 0.8 * u[m]) * (hi - lo)
    p = 0.4 + 0.6 / (1 + np.exp(-n_p))
    c = 0.2 + 0.8 / (1 + np.exp(-n_c))
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


def _burn(geoms, grid) -> np.ndarray:
    """Cells whose centre lies in any of ``geoms`` (the pipeline's rasterisation)."""
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros((grid.height, grid.width), bool)
    return features.rasterize(
        geoms, out_shape=(grid.height, grid.width), transform=grid.transform, fill=0, default_value=1, dtype="uint8"
    ).astype(bool)


def _disc_mask(grid, pts, radius) -> np.ndarray:
    """Cells whose centre lies within ``radius`` of any point: the fast stand-in for rasterised
    discs used inside the searches (the final rasters are rasterised from the polygons)."""
    out = np.zeros((grid.height, grid.width), bool)
    tr, res = grid.transform, grid.res
    for x, y in pts:
        c0, c1 = max(0, int((x - radius - tr.c) // res)), min(grid.width, int((x + radius - tr.c) // res) + 1)
        r0, r1 = max(0, int((tr.f - y - radius) // res)), min(grid.height, int((tr.f - y + radius) // res) + 1)
        if c0 >= c1 or r0 >= r1:
            continue
        cx = tr.c + (np.arange(c0, c1) + 0.5) * res - x
        cy = tr.f - (np.arange(r0, r1) + 0.5) * res - y
        out[r0:r1, c0:c1] |= (cx[None, :] ** 2 + cy[:, None] ** 2) < radius * radius
    return out


def _protection(grid, valid, ab, karst, cty, ext_geom, seed, crs):
    """Protection zones (vectors), their raster and the fit record.

    31 water sources: two wells (一级 discs) inside a 二级 ring, the first source also with a
    准保护区 ring; 19 single wells (一级 discs); 6 泉域 discs in the karst area. Every zone lies
    inside one county and inside the extent (2-cell margin) and no two zones overlap, so each
    zone stays one zone after the county split. The radius of each class is then scaled by
    bisection until its rasterised area on this grid is the published one (counts 81/31/1/6).
    """
    rng = np.random.default_rng(seed + 7)
    tr = grid.transform
    cell = grid.cell_km2
    margin = 2 * grid.res
    regions = [shapely.intersection(g, ext_geom) for g in cty.geometry]
    for r in regions:
        shapely.prepare(r)
    placed: list[tuple[float, float, float]] = []

    def pick(mask, reserve, n, gap):
        cand = np.argwhere(mask)
        pts = []
        tries = 0
        while len(pts) < n and tries < 40000 and len(cand):
            tries += 1
            r, c = cand[rng.integers(len(cand))]
            x = tr.c + (c + rng.random()) * tr.a
            y = tr.f + (r + rng.random()) * tr.e
            if any((x - px) ** 2 + (y - py) ** 2 < (reserve + pr + gap) ** 2 for px, py, pr in placed):
                continue
            disc = Point(x, y).buffer(reserve + margin, 16)
            if not any(reg.contains(disc) for reg in regions):
                continue
            placed.append((x, y, reserve))
            pts.append((x, y))
        return pts

    pub = PUBLISHED["protection"]
    a1 = pub["一级保护区"] * 1e6 / 81
    r1 = np.sqrt(a1 / np.pi)
    a2 = pub["二级保护区"] * 1e6 / 31
    r2 = np.sqrt((a2 + 2 * a1) / np.pi)  # outer radius of a 二级 ring holding two wells
    rq = np.sqrt((pub["准保护区"] * 1e6 + np.pi * r2**2) / np.pi)
    rs = np.sqrt(pub["泉域重点保护区"] * 1e6 / 6 / np.pi)
    kmax = 1.25  # room left for the radius fit
    basin_mask = valid & (ab <= 2)
    sites = pick(basin_mask, rq * kmax, 1, 1500)
    sites += pick(basin_mask, r2 * kmax, 31 - len(sites), 1500)
    wells = [(x + dx, y) for x, y in sites for dx in (-350.0, 350.0)]
    wells += pick(basin_mask, r1 * 2.0, 81 - len(wells), 400)
    springs = pick(valid & karst, rs * kmax, 6, 2000)

    def discs(pts, r):
        return [Point(x, y).buffer(r, 64) for x, y in pts]

    def fit(area_cells, lo, hi, target_km2):
        target = int(round(target_km2 / cell))
        k, n = _bisect(lambda k: float(area_cells(k)), lo, hi, target, iters=40)
        return k, int(n)

    k1, _ = fit(lambda k: _disc_mask(grid, wells, r1 * k).sum(), 0.5, 1.9, pub["一级保护区"])
    well_mask = _disc_mask(grid, wells, r1 * k1)
    k2, _ = fit(lambda k: (_disc_mask(grid, sites, r2 * k) & ~well_mask).sum(), 0.8, kmax, pub["二级保护区"])
    outer0 = _disc_mask(grid, sites[:1], r2 * k2)
    kq, _ = fit(lambda k: (_disc_mask(grid, sites[:1], rq * k) & ~outer0).sum(), 0.8, kmax, pub["准保护区"])
    ks, _ = fit(lambda k: _disc_mask(grid, springs, rs * k).sum(), 0.8, kmax, pub["泉域重点保护区"])

    rows = []
    well_geoms = discs(wells, r1 * k1)
    for i, (x, y) in enumerate(sites):
        own = well_geoms[2 * i : 2 * i + 2]
        outer = Point(x, y).buffer(r2 * k2, 128)
        for j, w in enumerate(own):
            rows.append(
                {
                    "class": "一级保护区",
                    "name": f"水源地{i + 1:02d}-{2 * i + j + 1:02d} 一级 (demonstration)",
                    "geometry": w,
                }
            )
        rows.append(
            {
                "class": "二级保护区",
                "name": f"水源地{i + 1:02d} 二级 (demonstration)",
                "geometry": outer.difference(shapely.union_all(own)),
            }
        )
        if i == 0:
            quasi = Point(x, y).buffer(rq * kq, 128).difference(outer)
            rows.append({"class": "准保护区", "name": f"水源地{i + 1:02d} 准保护区 (demonstration)", "geometry": quasi})
    for n, w in enumerate(well_geoms[2 * len(sites) :], start=2 * len(sites) + 1):
        rows.append({"class": "一级保护区", "name": f"单井水源{n:02d} 一级 (demonstration)", "geometry": w})
    for i, g in enumerate(discs(springs, rs * ks)):
        rows.append({"class": "泉域重点保护区", "name": f"泉域重点保护区{i + 1} (demonstration)", "geometry": g})
    g = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    g["accuracy"] = LABEL
    g["area_km2"] = g.geometry.area / 1e6
    srt = g.assign(_c=g["class"].map(steps.PROTECTION_CLASS_CODES)).sort_values("_c", kind="stable")
    prot = features.rasterize(
        [(geom, int(c)) for geom, c in zip(srt.geometry, srt._c)],
        out_shape=(grid.height, grid.width),
        transform=grid.transform,
        fill=0,
        dtype="uint8",
    )
    prot[~valid] = 0
    counts = g["class"].value_counts().to_dict()
    rec = {
        "radius_scale": {"一级保护区": k1, "二级保护区": k2, "准保护区": kq, "泉域重点保护区": ks},
        "zones": {c: int(counts.get(c, 0)) for c in pub},
        "raster_km2": {
            c: round(float((prot == code).sum() * cell), 3) for c, code in steps.PROTECTION_CLASS_CODES.items()
        },
    }
    return g, prot, rec


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
        vals = steps.source_load(tox, rel, q**gamma, weight)
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
    quantity = alpha * q**gamma
    load = steps.spread_load(shape, r, c, steps.source_load(tox, rel, quantity, weight), rad, dec)
    names = {t: T[t]["name"] for t in T}
    gdf = gpd.GeoDataFrame(
        {
            "type": types,
            "type_name": [names[t] for t in types],
            "toxicity": tox.astype(int),
            "release": rel.astype(int),
            "quantity": quantity,
            "accuracy": LABEL,
        },
        geometry=gpd.points_from_xy(x, y),
        crs=crs,
    )
    towns = [
        (float(tx_), float(ty_), float(load[int(rr), int(cc)]) if 0 <= rr < shape[0] and 0 <= cc < shape[1] else 0.0)
        for (tx_, ty_), (rr, cc) in zip(town_xy, town_rc)
    ]
    rec = {
        "cluster_spread_km": s,
        "loaded_km2_calibrated": la,
        "gamma": gamma,
        "alpha": float(alpha),
        "threshold_ratio": rat,
        "_towns": towns,
    }
    return gdf, load, rec


def _dilate(mask: np.ndarray, n: int = 1) -> np.ndarray:
    """Binary dilation by ``n`` cells (8-neighbourhood)."""
    out = mask.copy()
    for _ in range(n):
        p = np.pad(out, 1)
        out = (
            p[:-2, :-2]
            | p[:-2, 1:-1]
            | p[:-2, 2:]
            | p[1:-1, :-2]
            | p[1:-1, 1:-1]
            | p[1:-1, 2:]
            | p[2:, :-2]
            | p[2:, 1:-1]
            | p[2:, 2:]
        )
    return out


def _label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """4-connected components of ``mask`` (labels 1..n, 0 elsewhere), by rasterio's polygoniser."""
    if not mask.any():
        return np.zeros(mask.shape, np.int32), 0
    geoms = [g for g, _ in features.shapes(mask.astype(np.uint8), mask=mask, connectivity=4)]
    lab = features.rasterize([(g, i + 1) for i, g in enumerate(geoms)], out_shape=mask.shape, fill=0, dtype="int32")
    return lab, len(geoms)


class _ControlCalibration:
    """Seeded calibration of the control zones: areas and zone counts per level.

    The control classes follow from three demonstration inputs: the COP classes (deep karst
    较高+高 -> 二级), the DRASTIC high class inside high function value (shallow -> 二级, or 一级
    under high load or in a 三线一单 key unit) and the key units. Zones are counted as the
    vectoriser makes them: 4-connected parts of a level, split by county, ≥ ``min_area_m2``.

    * the control **total** is exact by construction: the shallow cells S are the top cells of
      the DRASTIC score inside high function value and outside protection, as many as
      512.95 km² minus the deep control cells (COP 较高+高 outside protection);
    * **patchiness**: a fine texture field (``TEXTURE_SIGMA_KM`` on a ``TEXTURE_BASE_KM``
      grid, its own seed) is mixed into the smooth scores as ``(smooth + τ·texture) / √(1 + τ²)``;
      τ_s (DRASTIC score) is set by bisection so that there are 54 一级管控区 zones, with the
      radius of the ``KEY_UNITS`` key-unit discs (around the most-loaded towns) re-fitted by
      bisection at each step so that the 一级管控区 area stays 41.75 km²; then τ_d (COP score,
      class areas unchanged) so that there are 261 二级管控区 zones; the pair is searched again
      (at most three rounds) while the counts are off by more than a few;
    * a **count trim** closes what the searches leave: it removes the smallest zone of a level
      that lies inside one county, clear of the cells county lines and the extent edge touch, and
      has no deep cells, or adds a zone of that level on the best-scored free cells (two cells where
      one cell is just the minimum area, one cell where a cell is well above it), and repeats
      until the counts of the vectoriser itself (``vectorize.build_zones``) are the targets.
      Each step changes an area by one or two cells.

    Searches use a cell-centre disc test for the key units (:func:`_disc_mask`); the final key
    raster is rasterised from the written polygons, as the pipeline does.
    """

    def __init__(self, grid, cty, ext_geom, valid, fv, prot, karst, lcls, towns, kv, noise_v, wz, seed, crs):
        from zoning.derive.config import DEFAULT_ZONES

        self.grid, self.cty, self.crs = grid, cty, crs
        self.shape = (grid.height, grid.width)
        self.cell = grid.cell_km2
        self.valid, self.prot, self.karst = valid, prot, karst
        self.kv, self.noise_v, self.wz = kv, noise_v, wz
        tex = _Fields(grid, seed + 29, base_km=TEXTURE_BASE_KM)
        self.tex_v = tex.noise(TEXTURE_SIGMA_KM)
        self.tex_k = tex.noise(TEXTURE_SIGMA_KM)
        self.cand = valid & (fv == 3) & (prot == 0)
        self.free = valid & (prot == 0)
        self.lhigh = (lcls == 3) & valid
        self.n_ctrl = int(
            round(PUBLISHED["levels"]["一级管控区"] / self.cell + PUBLISHED["levels"]["二级管控区"] / self.cell)
        )
        self.n_lvl1 = int(round(PUBLISHED["levels"]["一级管控区"] / self.cell))
        self.target = {2: PUBLISHED_COUNTS["一级管控区"], 1: PUBLISHED_COUNTS["二级管控区"]}
        self.min_area = float(DEFAULT_ZONES["min_area_m2"])
        self.cid = features.rasterize(
            [(g, i + 1) for i, g in enumerate(cty.geometry)],
            out_shape=self.shape,
            transform=grid.transform,
            fill=0,
            dtype="uint8",
        )
        lines = list(cty.geometry.boundary) + [ext_geom.boundary]
        touched = features.rasterize(
            lines,
            out_shape=self.shape,
            transform=grid.transform,
            fill=0,
            default_value=1,
            all_touched=True,
            dtype="uint8",
        ).astype(bool)
        self.interior = valid & (self.cid > 0) & ~_dilate(touched, 1)
        self.towns = sorted(towns, key=lambda t: -t[2])
        self._cop_cache = None
        self.record: dict = {}

    # -- building blocks
    def cop(self, tau_d):
        """COP classes (exact published areas) from the smooth score with texture weight ``tau_d``."""
        if self._cop_cache is None or self._cop_cache[0] != tau_d:
            ks = (self.kv + tau_d * self.tex_k) / np.sqrt(1.0 + tau_d * tau_d)
            cop_cls, _ = _alloc(
                ks,
                self.karst,
                [(5, 2.69), (4, 163.04), (3, COP_MEDIUM_DERIVED), (2, 421.31), (1, None)],
                self.cell,
                fill=0,
            )
            cop_ctrl = np.isin(cop_cls, DEFAULT_CLASSES["cop_high_classes"]) & self.free
            self._cop_cache = (tau_d, cop_cls, cop_ctrl)
        return self._cop_cache[1:]

    def structure(self, tau_s, tau_d):
        """(COP classes, deep control cells, DRASTIC score, shallow control cells S)."""
        cop_cls, cop_ctrl = self.cop(tau_d)
        vs = DRASTIC_RHO * self.wz + np.sqrt(1 - DRASTIC_RHO**2) * (self.noise_v + tau_s * self.tex_v) / np.sqrt(
            1.0 + tau_s * tau_s
        )
        n_s = self.n_ctrl - int(cop_ctrl.sum())
        s, _ = _alloc(vs, self.cand, [(1, n_s * self.cell)], self.cell, fill=0)
        return cop_cls, cop_ctrl, vs, s == 1

    def key_geoms(self, n, scale):
        return [Point(x, y).buffer(KEY_RADIUS_M * scale, 64) for x, y, _ in self.towns[:n]]

    def key_raster(self, n, scale):
        """The key units rasterised as the pipeline does (final)."""
        return _burn(self.key_geoms(n, scale), self.grid)

    def key_fast(self, n, scale):
        return _disc_mask(self.grid, [(x, y) for x, y, _ in self.towns[:n]], KEY_RADIUS_M * scale)

    def split(self, S, cop_ctrl, key):
        l1 = S & (self.lhigh | key)
        return l1, (S & ~l1) | cop_ctrl

    def count(self, mask):
        """Zones of a level as the vectoriser makes them, on cells: parts split by county, ≥ min area."""
        lab = np.where(mask, self.cid, 0).astype(np.uint8)
        if not lab.any():
            return 0
        px = self.grid.res**2
        n = 0
        for g, _ in features.shapes(lab, mask=lab > 0, connectivity=4):
            if len(g["coordinates"]) and shapely.geometry.shape(g).area * px >= self.min_area - 1e-6:
                n += 1
        return n

    def levels_raster(self, S, cop_ctrl, key):
        l1, l2 = self.split(S, cop_ctrl, key)
        lv = np.where(l1, 2, np.where(l2, 1, 0)).astype(np.uint8)
        lv = np.where(self.prot > 0, self.prot + 2, lv).astype(np.uint8)
        lv[~self.valid] = steps.NODATA
        return lv

    def exact_counts(self, levels):
        from zoning.derive import vectorize

        z = vectorize.build_zones(
            vectorize.window_shapes(levels, self.grid.transform), self.crs, self.min_area, self.cty
        )
        c = z["level"].value_counts()
        return {int(k): int(c.get(k, 0)) for k in range(1, 7)}

    def fit_key_scale(self, S, n):
        sc, a = _bisect(
            lambda sc: float((S & (self.lhigh | self.key_fast(n, sc))).sum()), 0.02, 6.0, self.n_lvl1, iters=24
        )
        return sc, int(a)

    # -- calibration
    def run(self):
        tgt1, tgt2 = self.target[2], self.target[1]
        n_k = min(KEY_UNITS, len(self.towns))
        tau_s = tau_d = 0.0
        hist = []
        for _ in range(3):
            # shallow texture: the number of 一级管控区 zones, the key-unit radius keeping its area
            def c1(t, tau_d=tau_d):  # bound now: _bisect calls it in this round
                s = self.structure(t, tau_d)[3]
                sc, _ = self.fit_key_scale(s, n_k)
                return float(self.count(s & (self.lhigh | self.key_fast(n_k, sc))))

            tau_s, _ = _bisect(c1, 0.0, TAU_MAX, tgt1, iters=14)
            S = self.structure(tau_s, tau_d)[3]
            k_sc, _ = self.fit_key_scale(S, n_k)
            key = self.key_fast(n_k, k_sc)

            # deep texture: the number of 二级管控区 zones
            def c2(t, tau_s=tau_s, key=key):  # bound now: _bisect calls it in this round
                _, cc, _, s = self.structure(tau_s, t)
                return float(self.count(self.split(s, cc, key)[1]))

            tau_d, _ = _bisect(c2, 0.0, TAU_MAX, tgt2, iters=14)
            cop_cls, cop_ctrl, vs, S = self.structure(tau_s, tau_d)
            k_sc, a1 = self.fit_key_scale(S, n_k)
            key = self.key_fast(n_k, k_sc)
            l1, l2 = self.split(S, cop_ctrl, key)
            n1, n2 = self.count(l1), self.count(l2)
            hist.append(
                {
                    "tau_shallow": tau_s,
                    "tau_deep": tau_d,
                    "key_radius_m": KEY_RADIUS_M * k_sc,
                    "zones_1": n1,
                    "zones_2": n2,
                    "level1_km2": a1 * self.cell,
                    "level1_load_only_km2": float((S & self.lhigh).sum() * self.cell),
                }
            )
            if abs(n1 - tgt1) <= 3 and abs(n2 - tgt2) <= 6:
                break
        key = self.key_raster(n_k, k_sc)
        self.n_key, self.key_scale = n_k, k_sc
        self.cop_cls, self.vscore = cop_cls, vs
        S, trims, exact = self._trim(S, cop_ctrl, key)
        self.S = S
        self.levels = self.levels_raster(S, cop_ctrl, key)
        g = self.key_geoms(n_k, k_sc)
        self.key_gdf = gpd.GeoDataFrame(
            {"name": [f"重点管控单元{i + 1:02d} (demonstration)" for i in range(len(g))], "accuracy": LABEL},
            geometry=g,
            crs=self.crs,
        )
        self.record = {
            "texture_tau_shallow": tau_s,
            "texture_tau_deep": tau_d,
            "texture_sigma_km": TEXTURE_SIGMA_KM,
            "texture_base_km": TEXTURE_BASE_KM,
            "drastic_rho": DRASTIC_RHO,
            "key_units": n_k,
            "key_unit_radius_m": KEY_RADIUS_M * k_sc,
            "search": hist,
            "trim_steps": trims,
            "zones_exact": {steps.LEVEL_NAMES[k]: v for k, v in exact.items()},
            "counts_met": exact[2] == tgt1 and exact[1] == tgt2,
        }

    def _trim(self, S, cop_ctrl, key):
        """Remove or add single zones until the vectoriser's counts are the targets."""
        S = S.copy()
        up = self.lhigh | key
        trims = []
        exact = self.exact_counts(self.levels_raster(S, cop_ctrl, key))
        for _ in range(4):
            d = {lvl: exact[lvl] - self.target[lvl] for lvl in (2, 1)}
            if not any(d.values()):
                break
            for lvl in (2, 1):
                for _ in range(abs(d[lvl])):
                    ok = self._remove(S, cop_ctrl, key, lvl) if d[lvl] > 0 else self._add(S, cop_ctrl, up, lvl)
                    if not ok:
                        break
                    trims.append(("remove " if d[lvl] > 0 else "add ") + steps.LEVEL_NAMES[lvl] + f" ({ok} cells)")
            exact = self.exact_counts(self.levels_raster(S, cop_ctrl, key))
        return S, trims, exact

    def _remove(self, S, cop_ctrl, key, lvl):
        l1, l2 = self.split(S, cop_ctrl, key)
        mine = l1 if lvl == 2 else l2  # a level's zones do not depend on the other level's cells
        lab, n = _label(mine)
        if not n:
            return 0
        size = np.bincount(lab.ravel(), minlength=n + 1)
        bad = np.zeros(n + 1, bool)
        bad[0] = True
        bad[np.unique(lab[mine & ~self.interior])] = True  # near a county line or the extent edge
        bad[np.unique(lab[mine & cop_ctrl])] = True  # deep cells are not DRASTIC cells
        ok = np.flatnonzero(~bad)
        if not len(ok):
            return 0
        i = ok[np.argmin(size[ok])]
        S[lab == i] = False
        return int(size[i])

    def _add(self, S, cop_ctrl, up, lvl):
        l1, l2 = self.split(S, cop_ctrl, up)
        near = _dilate(l1 if lvl == 2 else l2, 1)  # not touching the same level, not even at a corner
        free = self.cand & ~S & self.interior & ~near & (up if lvl == 2 else ~up)
        if self.grid.res**2 >= 1.5 * self.min_area:  # one cell is safely a zone
            if not free.any():
                return 0
            r, c = np.unravel_index(np.argmax(np.where(free, self.vscore, -np.inf)), free.shape)
            S[r, c] = True
            return 1
        pair = free[:, :-1] & free[:, 1:]  # a cell of exactly the minimum area is not relied on
        if not pair.any():
            return 0
        sc = np.where(pair, self.vscore[:, :-1] + self.vscore[:, 1:], -np.inf)
        r, c = np.unravel_index(np.argmax(sc), sc.shape)
        S[r, c] = S[r, c + 1] = True
        return 2


def _vulnerability(vscore, valid, cand, S, cell):
    """DRASTIC classes (1 low, 2 medium, 3 high; NODATA outside): S high; the rest of the high
    area outside the candidate cells by rank of the score; medium and low by rank."""
    vul = np.full(vscore.shape, steps.NODATA, np.uint8)
    vul[S] = 3
    rest = int(round(PUBLISHED["vulnerability"]["脆弱性高"] / cell)) - int(S.sum())
    part, _ = _alloc(vscore, valid & ~cand, [(3, rest * cell)], cell, fill=0)
    vul[part == 3] = 3
    remaining = valid & (vul != 3)
    part, _ = _alloc(
        vscore,
        remaining,
        [(2, PUBLISHED["vulnerability"]["脆弱性中"]), (1, PUBLISHED["vulnerability"]["脆弱性低"])],
        cell,
        fill=steps.NODATA,
    )
    vul[remaining] = part[remaining]
    return vul


def demo_config_text(resolution: float = 100.0, generate: bool = True, seed: int = DEFAULT_SEED) -> str:
    pub = PUBLISHED
    lines = [
        "# 晋城市 groundwater key zones: DEMONSTRATION derivation (zoning.derive).",
        "# Inputs are seeded synthetic data (zoning.demo), calibrated to the areas published in",
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
        lines += [
            "[demo]",
            "generate = true   # inputs are generated into OUT/demo_inputs; paths below resolve there",
            f"seed = {seed}",
            "",
        ]
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
