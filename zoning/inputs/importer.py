"""Bring a planner's shapefile / GeoPackage / GeoJSON into a pack.

:func:`prepare_layer` is pure (a frame in, a frame plus notes out): it maps fields,
normalises counties and classes, and reprojects. :func:`import_layer` reads the file,
prepares, validates and only then writes it into the pack with its provenance.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely

from zoning.core.errors import CRSMismatchError, InputFileError, ValidationError
from zoning.core.fields import ZONE_CLASSES, map_fields, normalise_county, normalise_zone_class
from zoning.core.layers import KINDS, LayerSpec, Pack, add_layer, check_name, read_layer
from zoning.core.manifest import safe_name

if TYPE_CHECKING:
    import geopandas as gpd

#: The fields ``--field TARGET=COLUMN`` may map, per kind.
TARGETS: dict[str, tuple[str, ...]] = {
    "counties": ("county", "name"),
    "planning_extent": ("zone_class", "county", "name"),
    "groundwater_protection": ("zone_class", "county", "name", "town", "zone_id"),
    "groundwater_control": ("zone_class", "county", "name", "town", "zone_id"),
    "land_supply_quota": ("county", "name"),
    "key_projects": ("county", "name"),
}
_TARGETS = TARGETS


#: CRS names of obfuscated lon/lat (zoning.core.coords): converted vertex by vertex, not by pyproj
_OBFUSCATED = ("GCJ-02", "BD-09")


def _layer_crs(value: str, gdf: gpd.GeoDataFrame, source: str) -> str:
    """``--crs`` of a layer through the one coordinate parser (:func:`zoning.core.coords.resolve_crs`).

    Returns a name pyproj understands, or ``GCJ-02`` / ``BD-09``. A Gauss–Krüger alias takes
    its zone from the data: ``gk3`` from the zone prefix of the 8-digit eastings
    (38xxxxxx -> EPSG:4526), ``gk3:38`` with 6-digit eastings -> EPSG:4547. Raises
    UnknownCRSError for a CRS nobody knows, CRSMismatchError when the eastings do not fit
    (no prefix with ``gk3``, features in two zones).
    """
    from zoning.core.coords import resolve_crs
    from zoning.core.errors import CoordinateError

    canonical = resolve_crs(value)  # UnknownCRSError names the accepted aliases
    if canonical in _OBFUSCATED:
        return canonical
    bounds = gdf.total_bounds
    if not np.all(np.isfinite(bounds)):  # no coordinates
        if canonical.startswith("gk"):
            msg = f"{source}: --crs {value}: the layer has no coordinates to tell the zone from; pass an EPSG code"
            raise CRSMismatchError(msg)
        return canonical
    try:
        west, east = (resolve_crs(value, x=float(bounds[0])), resolve_crs(value, x=float(bounds[2])))
    except CoordinateError as exc:
        msg = f"{source}: --crs {value}: {exc}"
        raise CRSMismatchError(msg) from None
    if west != east:
        msg = (
            f"{source}: --crs {value}: the eastings run from {bounds[0]:.0f} ({west}) to {bounds[2]:.0f} "
            f"({east}); one layer must lie in one zone"
        )
        raise CRSMismatchError(msg)
    return west


def _pyproj_crs(name: str) -> pyproj.CRS:
    return pyproj.CRS.from_user_input(name)


def _deobfuscate(gdf: gpd.GeoDataFrame, canonical: str, source: str) -> gpd.GeoDataFrame:
    """GCJ-02 / BD-09 lon/lat -> CGCS2000 (EPSG:4490), every vertex, with :func:`zoning.core.coords.to_cgcs2000`."""
    from zoning.core.coords import to_cgcs2000

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat, problems = to_cgcs2000(xy[:, 0], xy[:, 1], canonical, check_city=False)
        bad = [p for p in problems if p]
        if bad:
            msg = f"{source}: --crs {canonical}: {bad[0]}"
            raise CRSMismatchError(msg)
        return np.column_stack([lon, lat])

    out = gdf.copy()
    geoms = shapely.transform(np.asarray(gdf.geometry.values), convert)
    return out.set_geometry(geoms, crs="EPSG:4490")


def prepare_layer(
    gdf: gpd.GeoDataFrame,
    kind: str,
    counties: gpd.GeoDataFrame | None,
    *,
    pack_crs: str = "EPSG:4490",
    crs: str | None = None,
    field_map: dict[str, str] | None = None,
    repair: bool = False,
    source: str = "input",
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Map fields, normalise values and reproject a layer for the pack.

    Returns the prepared frame and notes on what was done. Raises InputFileError or
    ValidationError naming the rows and fields that cannot be brought in.
    """
    if kind not in KINDS or kind == "raster":
        msg = f"--kind {kind!r} cannot be imported as vectors; expected one of {', '.join(k for k in KINDS if k != 'raster')}"
        raise InputFileError(msg)
    notes: list[str] = []
    gdf = _in_declared_crs(gdf.copy(), crs, source, notes)
    gdf = _pack_fields(gdf, kind, counties, field_map, source, notes)
    gdf = _repaired(gdf, repair, source, notes)
    if not gdf.crs.equals(_pyproj_crs(pack_crs)):
        notes.append(f"reprojected from {gdf.crs.to_string()} to {pack_crs}")
        gdf = gdf.to_crs(pack_crs)
    if kind in ZONE_CLASSES and "zone_class" in gdf.columns:
        from zoning.core.validate import class_overlaps

        notes.extend(class_overlaps([(source, gdf)]))
    return gdf, notes


def _in_declared_crs(gdf: gpd.GeoDataFrame, crs: str | None, source: str, notes: list[str]) -> gpd.GeoDataFrame:
    """The layer in the CRS its coordinates are in: the file's, or ``--crs`` where the file
    declares none (GCJ-02 / BD-09 converted); a file and a ``--crs`` that disagree, or metres
    labelled as degrees, are refused."""
    if gdf.crs is None:
        if crs is None:
            msg = f"{source}: the file declares no CRS (no .prj?); pass --crs, e.g. EPSG:4490, EPSG:4547 or gk3"
            raise CRSMismatchError(msg)
        declared = _layer_crs(crs, gdf, source)
        if declared in _OBFUSCATED:
            gdf = _deobfuscate(gdf, declared, source)
            notes.append(f"{declared} lon/lat from --crs {crs} (the file declares no CRS) converted to CGCS2000")
        else:
            gdf = gdf.set_crs(_pyproj_crs(declared))
            notes.append(f"CRS {declared} taken from --crs {crs} (the file declares none)")
    elif crs is not None:
        declared = _layer_crs(crs, gdf, source)
        if declared in _OBFUSCATED and gdf.crs.is_geographic:
            # Amap/Baidu exports label their obfuscated lon/lat as WGS 84: --crs says what they are
            label = gdf.crs.to_string()
            gdf = _deobfuscate(gdf, declared, source)
            notes.append(f"{declared} lon/lat (labelled {label} in the file) converted to CGCS2000")
        elif declared in _OBFUSCATED or not gdf.crs.equals(_pyproj_crs(declared)):
            msg = f"{source}: the file declares {gdf.crs.to_string()} but --crs says {crs}; drop --crs or fix the .prj"
            raise CRSMismatchError(msg)
    if gdf.crs.is_geographic:
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            msg = (
                f"{source}: the file says {gdf.crs.to_string()} (degrees) but its coordinates reach "
                f"{maxx:.0f}, {maxy:.0f}: projected metres labelled as degrees; pass the right --crs"
            )
            raise CRSMismatchError(msg)

    return gdf


def _pack_fields(gdf: gpd.GeoDataFrame, kind: str, counties: gpd.GeoDataFrame | None,
                 field_map: dict[str, str] | None, source: str, notes: list[str]) -> gpd.GeoDataFrame:
    """The pack's fields of a layer of ``kind``: found under their many names, the county
    (given, or taken from the county layer) and the class normalised; every row that cannot
    be brought in is named at once."""
    mapping = map_fields(gdf.columns.drop(gdf.geometry.name), _TARGETS[kind], field_map, source=source)
    problems: list[str] = []
    if kind == "counties":
        if "county" not in mapping:
            problems.append(
                "no county code field found (adcode, XZQDM, 行政区代码...); map one with --field county=NAME"
            )
    elif "county" not in mapping and counties is not None:
        # derive the county from the county layer, at each feature's representative point
        from zoning.core.overlay import assign_counties

        pts = gdf.to_crs("EPSG:4490").geometry.representative_point()
        got = assign_counties(counties, pts.x.to_numpy(), pts.y.to_numpy())
        gdf["county"] = got["adcode"].to_numpy()
        notes.append("county derived from the county layer (the file has no county field)")
    rename = {col: target for target, col in mapping.items() if target != col}
    gdf = gdf.rename(columns=rename)
    if "county" in gdf.columns and counties is not None and kind != "counties":
        codes, bad = normalise_county(gdf["county"], counties)
        for i in bad:
            problems.append(f"row {i + 1}: county {gdf['county'].iloc[i]!r} is not a county of the pack")
        gdf["county"] = codes
    if kind in ZONE_CLASSES:
        if "zone_class" not in gdf.columns:
            problems.append(
                f"no class field found (类别, 级别, class...); map one with --field zone_class=NAME; "
                f"values expected: {', '.join(ZONE_CLASSES[kind])}"
            )
        else:
            classes, bad = normalise_zone_class(gdf["zone_class"], kind)
            for i in bad:
                problems.append(
                    f"row {i + 1}: class {gdf['zone_class'].iloc[i]!r} is not one of {', '.join(ZONE_CLASSES[kind])}"
                )
            gdf["zone_class"] = classes
        if kind == "planning_extent":
            gdf = gdf.rename(columns={"zone_class": "extent_class"})
    if kind == "counties":
        gdf = gdf.rename(columns={"county": "adcode"})
        gdf["adcode"] = gdf["adcode"].astype(str).str.slice(0, 6)
    if problems:
        msg = f"{source}: {len(problems)} problem(s) prevent the import"
        raise ValidationError(msg, problems)

    return gdf


def _repaired(gdf: gpd.GeoDataFrame, repair: bool, source: str, notes: list[str]) -> gpd.GeoDataFrame:
    """Invalid geometries refused, or with ``--repair`` repaired by the package's one repair
    (:func:`zoning.core.overlay.repair_geometries`: a polygon stays polygonal, where make_valid
    alone could leave lines beside it)."""
    from zoning.core.overlay import repair_geometries

    invalid = ~shapely.is_valid(gdf.geometry.values) & ~shapely.is_missing(gdf.geometry.values)
    if not invalid.any():
        return gdf
    if not repair:
        rows = ", ".join(str(i + 1) for i in invalid.nonzero()[0][:20])
        msg = f"{source}: invalid geometry in row(s) {rows}; fix them or pass --repair (shapely make_valid)"
        raise ValidationError(
            msg, [f"row {i + 1}: {shapely.is_valid_reason(gdf.geometry.values[i])}" for i in invalid.nonzero()[0]]
        )
    rows = invalid.nonzero()[0]
    fixed, why = repair_geometries(gdf.geometry.values[invalid])
    lost = [f"row {i + 1}: {w}" for i, g, w in zip(rows, fixed, why) if g is None]
    if lost:  # nothing of the outline is left: the row cannot be brought in
        raise ValidationError(f"{source}: {len(lost)} geometr{'y' if len(lost) == 1 else 'ies'} cannot be repaired", lost)
    gdf.loc[invalid, gdf.geometry.name] = fixed
    notes.append(f"repaired {int(invalid.sum())} invalid geometr{'y' if invalid.sum() == 1 else 'ies'} with make_valid")
    return gdf


def import_layer(
    pack: Pack,
    path: str | Path,
    *,
    kind: str,
    name: str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    field_map: dict[str, str] | None = None,
    accuracy: str = "official",
    source: str | None = None,
    documents: tuple[str, ...] = (),
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    repair: bool = False,
    replace: bool = False,
) -> tuple[Pack, LayerSpec, list[str]]:
    """Read, prepare, validate and add a planner's layer to ``pack``.

    Returns the reopened pack, the new layer spec and notes. Nothing is written if any
    check fails.
    """
    from zoning.core.validate import check_layer
    from zoning.inputs.vectors import read_vector_file

    path = Path(path)
    gdf, io_notes = read_vector_file(path, layer=layer, encoding=encoding)
    county_spec = pack.by_kind("counties")
    counties = read_layer(pack, county_spec[0].name) if county_spec and kind != "counties" else None
    tolerance = float(county_spec[0].positional_accuracy_m or 0) if county_spec else 0.0
    prepared, notes = prepare_layer(
        gdf, kind, counties, pack_crs=pack.crs, crs=crs, field_map=field_map, repair=repair, source=str(path)
    )
    if "encoding" in io_notes:
        notes.insert(0, f"attributes read as {io_notes['encoding']} ({io_notes.get('encoding_reason', 'given')})")
    name = check_name(name) if name else safe_name(path.stem)
    id_field = "zone_id" if "zone_id" in prepared.columns else ("adcode" if kind == "counties" else None)
    spec = LayerSpec(
        name=name,
        kind=kind,
        file=f"{name}.gpkg",
        table=name,
        crs=pack.crs,
        accuracy=accuracy,
        title=name,
        id_field=id_field,
        county_field="adcode" if kind == "counties" else ("county" if "county" in prepared.columns else None),
        class_fields=tuple(c for c in ("zone_class", "extent_class") if c in prepared.columns),
        valid_from=valid_from,
        valid_to=valid_to,
        positional_accuracy_m=None,
        provenance={
            "imported_from": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "imported": dt.date.today().isoformat(),
            "source": source or "supplied by the user",
            "documents": list(documents),
            "import_notes": notes,
        },
    )
    problems = check_layer(prepared, spec, counties, county_tolerance_m=tolerance)
    if problems:
        msg = f"{path}: {len(problems)} problem(s) after import; nothing was written"
        raise ValidationError(msg, problems)
    pack = add_layer(pack, prepared, spec, replace=replace)
    return pack, spec, notes
