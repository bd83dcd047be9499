"""Checks of layers and packs that collect every problem before reporting.

:func:`check_layer` is pure (GeoDataFrames in, a list of problems out);
:func:`validate_pack` reads the pack's files through :mod:`zoning.core.layers` and runs it
on each layer, then checks the rules catalogue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import shapely

from zoning.core import settings
from zoning.core.context import feature_ids
from zoning.core.errors import ZoningError
from zoning.core.layers import KINDS, LayerSpec, Pack, read_layer
from zoning.core.vocab import ZONE_KINDS

if TYPE_CHECKING:
    import geopandas as gpd

#: Kinds whose features may lack a geometry (a key project known only by county).
_GEOMETRY_OPTIONAL = {"key_projects"}


@dataclass
class LayerReport:
    """What validation found for one layer."""

    name: str
    kind: str
    accuracy: str
    provenance: dict
    features: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class PackReport:
    """Validation of a whole pack: one report per layer plus pack-wide problems."""

    pack: str
    layers: list[LayerReport]
    problems: list[str] = field(default_factory=list)
    rules: int | None = None
    #: findings that do not make the pack invalid (overlapping zone classes)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.layers)

    def all_problems(self) -> list[str]:
        out = list(self.problems)
        for rep in self.layers:
            out.extend(f"{rep.name}: {p}" for p in rep.problems)
        return out


def _split_codes(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [c.strip() for c in str(value).replace("，", ",").split(",") if c.strip()]


def check_layer(
    gdf: gpd.GeoDataFrame,
    spec: LayerSpec,
    counties: gpd.GeoDataFrame | None = None,
    *,
    county_tolerance_m: float = 0.0,
) -> list[str]:
    """Every problem of one layer: CRS, fields, ids, geometries, county attributes.

    Parameters
    ----------
    gdf
        The layer as read from its file.
    spec
        Its manifest entry.
    counties
        The pack's county layer (adcode, geometry), used to check ``county_field``.
    county_tolerance_m
        Positional accuracy of the county layer: a point within this distance of its
        declared county, or a polygon with at least half its area inside the declared
        counties widened by this distance, agrees.
    """
    from pyproj import CRS

    problems: list[str] = []
    if gdf.crs is None:
        problems.append(f"no CRS in the file (manifest declares {spec.crs})")
    else:
        try:
            declared = CRS.from_user_input(spec.crs)
        except Exception:  # pyproj.exceptions.CRSError
            problems.append(f"manifest CRS {spec.crs!r} is not a CRS pyproj understands")
        else:
            if not CRS.from_user_input(gdf.crs).equals(declared, ignore_axis_order=True):
                problems.append(f"file CRS {gdf.crs.to_string()} differs from manifest CRS {spec.crs}")
    if len(gdf) == 0:
        problems.append("layer has no features")
        return problems

    required = list(KINDS[spec.kind])
    for extra in (spec.id_field, spec.county_field, *spec.class_fields):
        if extra and extra not in required:
            required.append(extra)
    missing = [f for f in required if f not in gdf.columns]
    if missing:
        problems.append(f"required field(s) missing: {', '.join(missing)}")

    ids = [str(i) for i in feature_ids(spec, gdf)]  # as every answer and the pack diff name them
    if spec.id_field and spec.id_field in gdf.columns:
        dupes = sorted(i for i, count in Counter(ids).items() if count > 1)
        if dupes:
            problems.append(f"duplicate {spec.id_field}: {', '.join(dupes[:10])}")

    geoms = gdf.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if spec.kind not in _GEOMETRY_OPTIONAL:
        for i in np.flatnonzero(empty):
            problems.append(f"feature {ids[i]}: empty or missing geometry")
    invalid = ~empty & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        problems.append(f"feature {ids[i]}: invalid geometry ({reason})")

    if counties is not None and spec.county_field and spec.county_field in gdf.columns and spec.kind != "counties":
        problems.extend(_check_counties(gdf, spec, counties, ids, empty | invalid, county_tolerance_m))
    return problems


def _check_counties(
    gdf: gpd.GeoDataFrame,
    spec: LayerSpec,
    counties: gpd.GeoDataFrame,
    ids: list[str],
    skip: np.ndarray,
    tolerance_m: float,
) -> list[str]:
    problems: list[str] = []
    known = set(counties["adcode"].astype(str))
    names = dict(zip(counties["adcode"].astype(str), counties["name"]))
    counties_m = counties.to_crs(settings.area_crs)
    by_code = dict(zip(counties_m["adcode"].astype(str), counties_m.geometry.values))
    feats_m = gdf.to_crs(settings.area_crs).geometry.values if gdf.crs is not None else None
    for i, value in enumerate(gdf[spec.county_field].to_numpy()):
        codes = _split_codes(value)
        if not codes:
            if spec.kind not in _GEOMETRY_OPTIONAL:  # a project may be known only citywide
                problems.append(f"feature {ids[i]}: {spec.county_field} is empty")
            continue
        unknown = [c for c in codes if c not in known]
        if unknown:
            problems.append(f"feature {ids[i]}: {spec.county_field}={value!r} names no county of the pack ({', '.join(unknown)})")
            continue
        if skip[i] or feats_m is None or shapely.is_missing(feats_m[i]):
            continue
        geom = feats_m[i]
        declared = shapely.union_all([by_code[c] for c in codes])
        widened = declared.buffer(tolerance_m) if tolerance_m > 0 else declared
        if shapely.get_dimensions(geom) == 2:
            share = shapely.area(shapely.intersection(geom, widened)) / max(geom.area, 1e-9)
            agrees = share >= 0.5
        else:
            agrees = bool(shapely.covers(widened, geom))
        if not agrees:
            actual = [c for c, g in by_code.items() if g.intersects(geom)]
            where = "、".join(f"{names[c]} {c}" for c in actual) or "outside every county"
            declared_txt = "、".join(f"{names[c]} {c}" for c in codes)
            problems.append(f"feature {ids[i]}: {spec.county_field} says {declared_txt} but it lies in {where}")
    return problems


def class_overlaps(frames: list[tuple[str, gpd.GeoDataFrame]], *, min_m2: float = 1.0,
                   limit: int = 20) -> list[str]:
    """Pairs of groundwater zones of different classes that overlap (official layers may:
    a 准保护区 inside a 泉域重点保护区). Not an error — the rules of both classes apply there,
    the strictest outcome counts — but a reviewer should know. ``frames``: (layer name,
    GeoDataFrame with ``zone_class``)."""
    import pandas as pd

    parts = []
    for name, gdf in frames:
        if "zone_class" not in gdf.columns or not len(gdf):
            continue
        ids = gdf["zone_id"].astype(str).to_numpy() if "zone_id" in gdf.columns else np.arange(len(gdf)).astype(str)
        parts.append(pd.DataFrame({"layer": name, "id": ids, "cls": gdf["zone_class"].astype(str).to_numpy(),
                                   "geom": shapely.make_valid(gdf.to_crs(settings.area_crs).geometry.to_numpy())}))
    if not parts:
        return []
    allf = pd.concat(parts, ignore_index=True)
    geoms = allf["geom"].to_numpy()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = (a < b) & (allf["cls"].to_numpy()[a] != allf["cls"].to_numpy()[b])
    a, b = a[keep], b[keep]
    if not len(a):
        return []
    area = shapely.area(shapely.intersection(geoms[a], geoms[b]))
    found = [(float(m2), i, j) for m2, i, j in zip(area, a, b) if m2 >= min_m2]
    out = []
    for m2, i, j in sorted(found, reverse=True)[:limit]:
        x, y = allf.iloc[i], allf.iloc[j]
        out.append(f"{x['layer']} {x['id']} ({x['cls']}) and {y['layer']} {y['id']} ({y['cls']}) overlap by "
                   f"{m2 / 1e6:.4f} km²: the rules of both classes apply there (the strictest outcome counts)")
    if len(found) > limit:
        out.append(f"... and {len(found) - limit} more overlapping pair(s)")
    return out


def validate_pack(pack: Pack) -> PackReport:
    """Read and check every layer of ``pack`` and its rules catalogue."""
    report = PackReport(pack=str(pack.path), layers=[])
    counties = None
    tolerance = 0.0
    county_specs = pack.by_kind("counties")
    if not county_specs:
        report.problems.append("the pack has no layer of kind 'counties'")
    else:
        try:
            counties = read_layer(pack, county_specs[0].name)
            tolerance = float(county_specs[0].positional_accuracy_m or 0.0)
        except ZoningError as exc:
            report.problems.append(str(exc))
    zone_frames: list = []
    for spec in pack.layers:
        rep = LayerReport(spec.name, spec.kind, spec.accuracy, spec.provenance)
        report.layers.append(rep)
        if spec.kind == "raster":
            rep.problems.extend(_check_raster(pack, spec))
            continue
        try:
            gdf = read_layer(pack, spec.name)
        except ZoningError as exc:
            rep.problems.append(str(exc))
            continue
        rep.features = len(gdf)
        rep.problems.extend(check_layer(gdf, spec, counties, county_tolerance_m=tolerance))
        if spec.kind in ZONE_KINDS:
            zone_frames.append((spec.name, gdf))
    report.warnings.extend(class_overlaps(zone_frames))
    from zoning.core.manifest import verify_rules
    from zoning.core.rules import load_rules

    try:  # a pack is valid only with its rules: named, present, as the manifest hashes them
        verify_rules(pack, required=True)
    except ZoningError as exc:
        report.problems.append(f"rules: {exc}")
    else:
        assert pack.rules_dir is not None  # verify_rules(required=True) saw to it
        try:
            report.rules = len(load_rules(pack.rules_dir))
        except ZoningError as exc:
            report.problems.append(f"rules: {exc}")
        else:
            if not report.rules:
                report.problems.append(f"rules: the catalogue {pack.rules_dir} holds no rule")
    return report


def _check_raster(pack: Pack, spec: LayerSpec) -> list[str]:
    import rasterio
    from rasterio.errors import RasterioIOError

    path = pack.file_path(spec)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                return [f"{path}: raster has no CRS (manifest declares {spec.crs})"]
    except RasterioIOError as exc:
        return [f"{path}: cannot read raster ({exc})"]
    return []
