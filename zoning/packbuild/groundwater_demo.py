"""Demonstration layer of the groundwater key zones of 晋市环发〔2023〕123号.

The report (``layers/jincheng/sources/001_b15999e637248622.txt``, lines ~6723-6812)
publishes counts and areas per zone class and, for the control class, the counties and
towns where the zones mainly lie. It publishes no outline. This module builds a
**demonstration** layer that reproduces those published facts exactly (counts) or to
within 0.01 % (areas), while every shape and position is synthetic:

* every figure used as a target is parsed from the report text in code
  (:func:`published_targets`, :func:`named_places`), with its source line number;
* each zone is a seeded random smooth polygon (a star-shaped "radial Fourier blob":
  r(θ) = 1 + Σ a_k cos(kθ + φ_k), k = 2…5, stretched and rotated), scaled so its area is
  exactly the size drawn for it; sizes per class are log-normal, rescaled so that the
  class total equals the published area;
* zones are placed at random (rejection sampling) wholly inside a county the report
  names for the class (60 m inside its boundary), at least 100 m clear of every zone
  already placed, except where a zone is deliberately nested (below). The position
  inside the county is arbitrary: the report gives no coordinates and town boundaries
  are not available, so a ``town`` attribute says which named town a zone stands for,
  not where that town is.

Structure (all classes are net and mutually disjoint, so the strictest-class query
gives the same answer as a layered one):

* 二级保护区 polygons enclose 1-2 一级保护区 each, cut out as holes (net area);
  the remaining 一级保护区 stand alone (township wellheads);
* the 准保护区 is a ring around the largest 二级保护区 (its outer blob buffered by a
  width solved for 8.3 km², minus that blob);
* 泉域重点保护区 zones are net of water-source zones: some enclose standalone
  一级保护区 as holes;
* control zones never touch protection zones (100 m clearance), and 一级 and 二级
  管控区 never overlap each other.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from zoning.core import settings
from zoning.core.errors import ValidationError
from zoning.packbuild.counties import COUNTIES

DOCUMENT = "晋市环发〔2023〕123号"
SOURCE_FILE = "001_b15999e637248622.txt"
SOURCES_DIR = Path(__file__).resolve().parents[2] / "layers" / "jincheng" / "sources"
DEFAULT_SEED = 20240118

#: Zone classes in order of strictness (strictest first), with id code, category, level.
CLASSES: dict[str, dict] = {
    "一级保护区": {"code": "P1", "category": "protection", "level": 1},
    "二级保护区": {"code": "P2", "category": "protection", "level": 2},
    "准保护区": {"code": "PQ", "category": "protection", "level": None},
    "泉域重点保护区": {"code": "PS", "category": "protection", "level": None},
    "一级管控区": {"code": "C1", "category": "control", "level": 1},
    "二级管控区": {"code": "C2", "category": "control", "level": 2},
}

# --- generator parameters (documented in layers/jincheng/METHODS.md) ----------------
COUNTY_MARGIN_M = 60.0  # zones stay this far inside their county line
CLEARANCE_M = 100.0  # minimum gap between zones that are not nested
HOLE_MARGIN_M = 40.0  # a nested zone stays this far inside its host
SIZE_SIGMA = {  # log-normal sigma of the zone sizes of each class
    "一级保护区": 0.5,
    "二级保护区": 0.7,
    "准保护区": 0.0,
    "泉域重点保护区": 0.5,
    "一级管控区": 0.7,
    "二级管控区": 0.8,
}
MIN_SIZE_FRACTION = 0.25  # no zone smaller than this share of its class mean (no slivers)
MAX_SIZE_FACTOR = 4.0  # nor larger than this multiple of the class mean
NESTED_P1_PER_P2 = (1, 2)  # 一级保护区 enclosed by each 二级保护区 (inclusive range)
WELLS_IN_SPRING = (0, 2)  # standalone 一级保护区 enclosed by each 泉域 zone
BLOB_VERTICES = 96
MAX_TRIES = 20_000


# --- the report text ----------------------------------------------------------------


def _joined_text(start_anchor: str, n_lines: int, sources_dir: Path) -> tuple[str, list, int]:
    """Whitespace-free text of ``n_lines`` lines from the line holding ``start_anchor``.

    Returns (text, [(char offset, line number)], first line number); the offsets map a
    match back to the 1-based line of the source file where it starts.
    """
    lines = (sources_dir / SOURCE_FILE).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if start_anchor in re.sub(r"\s+", "", line):
            text, starts = "", []
            for j, w in enumerate(lines[i : i + n_lines]):
                starts.append((len(text), i + j + 1))
                text += re.sub(r"\s+", "", w)
            return text, starts, i + 1
    raise ValidationError(f"anchor {start_anchor!r} not found in {SOURCE_FILE}")


def _line_of(starts: list, pos: int) -> int:
    return max(ln for off, ln in starts if off <= pos)


_TARGET_PATTERNS = [
    ("一级保护区", r"一级保护区(\d+)个，总面积([\d.]+)平方公里"),
    ("二级保护区", r"二级保护区(\d+)个，总面积([\d.]+)平方公里"),
    ("准保护区", r"准保护区(\d+)个，总面积([\d.]+)平方公里"),
    ("泉域重点保护区", r"泉域保护区共(\d+)处（[^）]*），面积([\d.]+)平方公里"),
    ("一级管控区", r"一级管控区(\d+)个，总面积([\d.]+)平方公里"),
    ("二级管控区", r"二级管控区(\d+)个，总面积([\d.]+)平方公里"),
]


def published_targets(sources_dir: Path = SOURCES_DIR) -> pd.DataFrame:
    """Count and area (km²) per zone class, parsed from the report, with source lines.

    Checks the report's own totals: water-source zones (113 处, 126.166 km²) and control
    zones (512.95 km²) must equal the sums of their classes.
    """
    text, starts, _ = _joined_text("全市水源地各类保护区共", 90, sources_dir)
    rows = []
    for zone_class, pattern in _TARGET_PATTERNS:
        m = re.search(pattern, text)
        if not m:
            raise ValidationError(f"{zone_class}: count and area not found in {SOURCE_FILE}")
        rows.append(
            {
                "zone_class": zone_class,
                "count": int(m.group(1)),
                "area_km2": float(m.group(2)),
                "source_line": _line_of(starts, m.start(1)),
            }
        )
    df = pd.DataFrame(rows)
    by = df.set_index("zone_class")
    ws = re.search(r"全市水源地各类保护区共(\d+)处，总面积([\d.]+)平方公里", text)
    ctl = re.search(r"管控区总面积([\d.]+)平方公里", text)
    water = ["一级保护区", "二级保护区", "准保护区"]
    problems = []
    if ws is None or int(ws.group(1)) != by.loc[water, "count"].sum():
        problems.append("water-source zone count does not add up")
    elif abs(float(ws.group(2)) - by.loc[water, "area_km2"].sum()) > 1e-6:
        problems.append("water-source zone area does not add up")
    if ctl is None or abs(float(ctl.group(1)) - by.loc[["一级管控区", "二级管控区"], "area_km2"].sum()) > 1e-6:
        problems.append("control zone area does not add up")
    if problems:
        raise ValidationError("published targets inconsistent", problems)
    return df


def named_places(sources_dir: Path = SOURCES_DIR) -> pd.DataFrame:
    """Counties and towns the report names for each zone class, with source lines.

    Control zones: the sentences "一级管控区主要位于…" and "二级管控区主要位于…" list
    county; town、town; … The protection class is defined as "各乡镇水源地、县城水源地和
    泉域重点保护区" (every township and county-seat source): no county is singled out,
    so every county of the city is eligible and the town is empty.
    """
    by_name = {v: k for k, v in COUNTIES.items()}
    county_re = "|".join(re.escape(n) for n in COUNTIES.values())
    rows = []
    text, starts, _ = _joined_text("全市水源地各类保护区共", 90, sources_dir)
    ptext, pstarts, _ = _joined_text("本次评估不重新划定地下水保护区域", 10, sources_dir)
    m = re.search(r"各乡镇水源地、县城水源地和泉域重点保护区", ptext)
    if m is None:
        raise ValidationError(f"definition of the protection class not found in {SOURCE_FILE}")
    prot_line = _line_of(pstarts, m.start())
    for zone_class in ("一级保护区", "二级保护区", "准保护区", "泉域重点保护区"):
        for adcode, name in COUNTIES.items():
            rows.append(
                {"zone_class": zone_class, "county": adcode, "county_name": name,
                 "town": "", "source_line": prot_line}
            )
    for zone_class in ("一级管控区", "二级管控区"):
        m = re.search(zone_class + r"主要位于(.*?)。", text)
        if m is None:
            raise ValidationError(f"places of {zone_class} not found in {SOURCE_FILE}")
        pos = m.start(1)
        for segment in m.group(1).split("；"):
            seg_pos = pos
            pos += len(segment) + 1
            cm = re.match(rf"({county_re})的?(.*)$", segment)
            if cm is None:
                raise ValidationError(f"{zone_class}: no county in {segment!r}")
            towns = re.sub(r"等$", "", cm.group(2))
            for town in towns.split("、"):
                if not town:
                    continue
                rows.append(
                    {
                        "zone_class": zone_class,
                        "county": by_name[cm.group(1)],
                        "county_name": cm.group(1),
                        "town": town,
                        "source_line": _line_of(starts, seg_pos + segment.find(town)),
                    }
                )
    return pd.DataFrame(rows)


# --- geometry -----------------------------------------------------------------------


def _unit_blob(rng: np.random.Generator) -> np.ndarray:
    """Vertices of a smooth star-shaped polygon of area 1 centred on (0, 0)."""
    theta = np.linspace(0.0, 2.0 * math.pi, BLOB_VERTICES, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 6):
        r += rng.uniform(0.0, 0.32 / k) * np.cos(k * theta + rng.uniform(0.0, 2 * math.pi))
    aspect = math.sqrt(rng.uniform(1.0, 1.8))
    x, y = r * np.cos(theta) * aspect, r * np.sin(theta) / aspect
    rot = rng.uniform(0.0, math.pi)
    c, s = math.cos(rot), math.sin(rot)
    xy = np.column_stack([c * x - s * y, s * x + c * y])
    area = 0.5 * abs(np.dot(xy[:, 0], np.roll(xy[:, 1], -1)) - np.dot(xy[:, 1], np.roll(xy[:, 0], -1)))
    return xy / math.sqrt(area)


def _blob(rng: np.random.Generator, area_m2: float) -> np.ndarray:
    return _unit_blob(rng) * math.sqrt(area_m2)


def _sizes(rng: np.random.Generator, n: int, total: float, sigma: float) -> np.ndarray:
    """``n`` log-normal sizes, bounded to [MIN, MAX] × mean, summing exactly to ``total``."""
    mean = total / n
    raw = np.exp(rng.normal(0.0, sigma, n)) if sigma > 0 else np.ones(n)
    sizes = raw / raw.sum() * total
    for _ in range(50):
        sizes = np.clip(sizes, MIN_SIZE_FRACTION * mean, MAX_SIZE_FACTOR * mean)
        free = (sizes > MIN_SIZE_FRACTION * mean) & (sizes < MAX_SIZE_FACTOR * mean)
        excess = total - sizes.sum()
        if abs(excess) < 1e-9 * total or not free.any():
            break
        sizes[free] += excess * sizes[free] / sizes[free].sum()
    return sizes * (total / sizes.sum())


@dataclass
class _Region:
    """Where zones may go: one county's interior, and the footprints already taken."""

    adcode: str
    geom: object  # county shrunk by COUNTY_MARGIN_M, prepared
    bounds: tuple
    taken: list = field(default_factory=list)

    def free(self, poly: Polygon, clearance: float) -> bool:
        if not shapely.contains(self.geom, poly):
            return False
        minx, miny, maxx, maxy = poly.bounds
        for other in self.taken:
            ox0, oy0, ox1, oy1 = other.bounds
            if ox0 - clearance > maxx or ox1 + clearance < minx or oy0 - clearance > maxy or oy1 + clearance < miny:
                continue
            if other.distance(poly) < clearance:
                return False
        return True


def _place(rng, region: _Region, xy: np.ndarray, clearance: float = CLEARANCE_M) -> Polygon:
    """Translate the blob ``xy`` to a random free spot of ``region`` and reserve it."""
    minx, miny, maxx, maxy = region.bounds
    for _ in range(MAX_TRIES):
        cx, cy = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(region.geom, cx, cy):
            continue
        poly = Polygon(xy + (cx, cy))
        if region.free(poly, clearance):
            region.taken.append(poly)
            return poly
    raise ValidationError(f"no room for a zone in county {region.adcode}")


def _place_inside(rng, host: Polygon, xy: np.ndarray, siblings: list) -> Polygon:
    """A random spot for blob ``xy`` inside ``host`` (HOLE_MARGIN_M in), clear of siblings."""
    inner = host.buffer(-HOLE_MARGIN_M)
    shapely.prepare(inner)
    minx, miny, maxx, maxy = inner.bounds
    for _ in range(MAX_TRIES):
        cx, cy = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(inner, cx, cy):
            continue
        poly = Polygon(xy + (cx, cy))
        if shapely.contains(inner, poly) and all(s.distance(poly) >= HOLE_MARGIN_M for s in siblings):
            return poly
    raise ValidationError("no room for a nested zone")


def _ring_width(outer: Polygon, ring_area: float) -> float:
    """Buffer width w with area(buffer(outer, w)) - area(outer) = ring_area (bisection)."""
    lo, hi = 0.0, 50.0 * math.sqrt(ring_area)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        got = outer.buffer(mid, quad_segs=16).area - outer.area
        if abs(got - ring_area) < 1e-7 * ring_area:
            break
        lo, hi = (mid, hi) if got < ring_area else (lo, mid)
    return mid


# --- the generator ------------------------------------------------------------------


def _method(zone_class: str, target: dict, where: str) -> str:
    return (
        f"demonstration, not a real outline: seeded random smooth polygon; class total "
        f"scaled to the published {target['count']} zones / {target['area_km2']:g} km² "
        f"({SOURCE_FILE} line {target['source_line']}); {where}; position inside the "
        f"county is arbitrary"
    )


def build_groundwater_demo(counties: gpd.GeoDataFrame, seed: int = DEFAULT_SEED) -> gpd.GeoDataFrame:
    """The demonstration groundwater zones (protection and control classes), EPSG:4490.

    Deterministic for a given ``seed``; ``counties`` is the layer of
    :func:`zoning.packbuild.counties.build_counties`.
    """
    rng = np.random.default_rng(seed)
    targets = {r.zone_class: r._asdict() for r in published_targets().itertuples(index=False)}
    places = named_places()
    proj = counties.to_crs(settings.area_crs).set_index("adcode")
    county_geom = {a: shapely.make_valid(g) for a, g in proj.geometry.items()}
    county_area = {a: g.area for a, g in county_geom.items()}

    regions: dict[str, _Region] = {}
    for a, g in county_geom.items():
        inner = g.buffer(-COUNTY_MARGIN_M)
        shapely.prepare(inner)
        regions[a] = _Region(a, inner, inner.bounds)

    def pick_county(eligible: list[str]) -> str:
        w = np.array([county_area[a] for a in eligible])
        return eligible[int(rng.choice(len(eligible), p=w / w.sum()))]

    records: list[dict] = []

    def add(zone_class, geom, county, town, where):
        records.append(
            {"zone_class": zone_class, "county": county, "town": town, "geometry": geom,
             "method": _method(zone_class, targets[zone_class], where)}
        )

    prot_counties = sorted(set(places.loc[places.zone_class == "一级保护区", "county"]))
    prot_where = (
        "the report names no county for protection zones (all township and county-seat "
        "sources), so the county is drawn in proportion to its area"
    )

    # Sizes (m²) of every zone of each class, summing to the published totals.
    size = {
        c: list(_sizes(rng, targets[c]["count"], targets[c]["area_km2"] * 1e6, SIZE_SIGMA[c]))
        for c in CLASSES
    }

    # 1. Water-source complexes: each 二级保护区 encloses 1-2 一级保护区; the largest
    #    二级 also gets the 准保护区 ring around it.
    n_p2 = targets["二级保护区"]["count"]
    p1_sizes = size["一级保护区"]
    nested = [int(rng.integers(NESTED_P1_PER_P2[0], NESTED_P1_PER_P2[1] + 1)) for _ in range(n_p2)]
    while sum(nested) > len(p1_sizes):
        nested[int(np.argmax(nested))] -= 1
    p2_sizes = sorted(size["二级保护区"], reverse=True)
    quasi = [size["准保护区"][0]] + [0.0] * (n_p2 - 1)
    p1_iter = iter(p1_sizes)
    for k in range(n_p2):
        holes = [next(p1_iter) for _ in range(nested[k])]
        outer_xy = _blob(rng, p2_sizes[k] + sum(holes))
        county = pick_county(prot_counties)
        if quasi[k] > 0:
            base = Polygon(outer_xy)
            w = _ring_width(base, quasi[k])
            ring_outer = base.buffer(w, quad_segs=16)
            # Place the whole complex by its outer footprint, then recover the offset.
            foot = _place(rng, regions[county], np.asarray(ring_outer.exterior.coords)[:-1])
            dx = foot.exterior.coords[0][0] - ring_outer.exterior.coords[0][0]
            dy = foot.exterior.coords[0][1] - ring_outer.exterior.coords[0][1]
            outer = Polygon(outer_xy + (dx, dy))
            add("准保护区", shapely.difference(foot, outer), county, "",
                prot_where + "; a ring around the largest 二级保护区")
        else:
            outer = _place(rng, regions[county], outer_xy)
        hole_polys: list[Polygon] = []
        for h in holes:
            hole_polys.append(_place_inside(rng, outer, _blob(rng, h), hole_polys))
        for hp in hole_polys:
            add("一级保护区", hp, county, "", prot_where + "; enclosed by a 二级保护区")
        add("二级保护区", shapely.difference(outer, shapely.union_all(hole_polys)), county, "",
            prot_where + "; net of the 一级保护区 it encloses")

    standalone = list(p1_iter)

    # 2. Spring-domain key protection areas, net of the wellheads some of them enclose.
    for s in size["泉域重点保护区"]:
        k = min(int(rng.integers(WELLS_IN_SPRING[0], WELLS_IN_SPRING[1] + 1)), len(standalone))
        holes = [standalone.pop() for _ in range(k)]
        county = pick_county(prot_counties)
        outer = _place(rng, regions[county], _blob(rng, s + sum(holes)))
        hole_polys = []
        for h in holes:
            hole_polys.append(_place_inside(rng, outer, _blob(rng, h), hole_polys))
        for hp in hole_polys:
            add("一级保护区", hp, county, "", prot_where + "; inside a 泉域重点保护区, cut out of it")
        geom = shapely.difference(outer, shapely.union_all(hole_polys)) if hole_polys else outer
        add("泉域重点保护区", geom, county, "",
            prot_where + "; net of water-source zones (report line "
            f"{targets['泉域重点保护区']['source_line']})")

    # 3. Standalone 一级保护区 (township wellheads).
    for h in standalone:
        county = pick_county(prot_counties)
        add("一级保护区", _place(rng, regions[county], _blob(rng, h)), county, "",
            prot_where + "; a standalone wellhead zone")

    # 4. Control zones: inside the counties the report names, one town each (every named
    #    town gets at least one zone); 100 m clear of every protection and control zone.
    for zone_class in ("一级管控区", "二级管控区"):
        pl = places[places.zone_class == zone_class].reset_index(drop=True)
        n = targets[zone_class]["count"]
        idx = list(range(len(pl))) + list(rng.integers(0, len(pl), n - len(pl)))
        idx = [idx[i] for i in rng.permutation(n)]
        for s, i in zip(size[zone_class], idx):
            row = pl.loc[i]
            where = (
                f"the report names {row.county_name}{row.town} for this level (line "
                f"{row.source_line}); the town is an attribute only, its boundary is unknown"
            )
            add(zone_class, _place(rng, regions[row.county], _blob(rng, s)), row.county,
                row.town, where)

    # Assemble, number per class, reproject.
    order = {c: i for i, c in enumerate(CLASSES)}
    records.sort(key=lambda r: order[r["zone_class"]])
    counters = {c: 0 for c in CLASSES}
    for r in records:
        counters[r["zone_class"]] += 1
        n = counters[r["zone_class"]]
        spec = CLASSES[r["zone_class"]]
        r["zone_id"] = f"GW-{spec['code']}-{n:03d}"
        r["category"] = spec["category"]
        r["level"] = spec["level"]
        r["name"] = f"示范{r['zone_class']} {n:03d}"
        r["county_name"] = COUNTIES[r["county"]]
    gdf = gpd.GeoDataFrame(pd.DataFrame(records), geometry="geometry", crs=settings.area_crs)
    gdf["level"] = gdf["level"].astype("Int64")
    gdf["accuracy"] = "demonstration"
    gdf["document"] = DOCUMENT
    gdf = gdf.to_crs("EPSG:4490")
    gdf["area_km2"] = (gdf.to_crs(settings.area_crs).area / 1e6).round(6)
    cols = ["zone_id", "category", "zone_class", "level", "name", "county", "county_name",
            "town", "area_km2", "accuracy", "method", "document", "geometry"]
    return gdf[cols]


def summarise(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per class: count and area (km², equal-area CRS) against the published figures."""
    area = gdf.to_crs(settings.area_crs).area / 1e6
    got = pd.DataFrame({"zone_class": gdf["zone_class"], "a": area}).groupby("zone_class")["a"]
    pub = published_targets().set_index("zone_class")
    rows = []
    for c in CLASSES:
        count = int(got.size().get(c, 0))
        a = float(got.sum().get(c, 0.0))
        pa = float(pub.loc[c, "area_km2"])
        rows.append(
            {"zone_class": c, "count": count, "area_km2": round(a, 4),
             "published_count": int(pub.loc[c, "count"]), "published_area_km2": pa,
             "diff_pct": round(100.0 * (a - pa) / pa, 4)}
        )
    return pd.DataFrame(rows)
