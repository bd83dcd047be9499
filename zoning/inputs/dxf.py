"""Red lines from CAD: parcels read from the closed polylines of a DXF drawing (ezdxf).

What the designing institute delivers is a drawing: the red line (建设项目用地红线) as
closed polylines on a layer, often with arcs, a label inside each parcel, and
coordinates in Gauss–Krüger metres. This reader turns it into the site layout of
:mod:`zoning.inputs.sites` (EPSG:4490, one row per parcel):

- **parcels**: every ``LWPOLYLINE`` and 2-D ``POLYLINE`` on the chosen layer (``layer``;
  case-insensitive, as CAD compares layer names) or on every layer; their arc segments
  (bulges) are approximated by chords that stay within ``arc_tolerance_m`` of the arc
  (:data:`DEFAULT_ARC_TOLERANCE_M`, 1 cm), and the notes say how many arcs were
  approximated and to what tolerance;
- **holes**: an outline lying inside another is a hole of it (an outline inside a hole
  is a parcel again), and the notes say so;
- **names**: a ``TEXT`` or ``MTEXT`` whose insertion point lies inside a parcel names it
  (texts on the parcels' layer first, then on any layer); several texts are joined;
- **coordinates**: in the CRS the user gives (``crs``: ``gk3`` with the zone prefix on
  the eastings, ``gk3:38`` / ``EPSG:4547`` without, any CRS pyproj understands), through
  the one coordinate parser :func:`zoning.core.coords.to_cgcs2000`; without ``crs`` the
  eastings must carry their zone prefix (``gk3``), and a note says so;
- **problems, per parcel, never silently dropped**: an outline that is not closed (its
  gap is given; it is closed by a straight line and still checked), a self-intersecting
  outline (where; repaired with ``make_valid`` and still checked), an outline of fewer
  than three points, a vertex the coordinate parser refuses (the parcel is not placed
  and says why); other entities on the chosen layers (lines, arcs, circles, blocks,
  hatches, 3-D polylines) are counted in the notes, as they are not read as parcels.

DWG is a closed format that no maintained Python library reads: a ``.dwg`` gets one
line advising to save the drawing as DXF.

Public API: :func:`read_dxf_sites`, :func:`dxf_parcels`, :data:`DEFAULT_ARC_TOLERANCE_M`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zoning.core.errors import InputFileError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["DEFAULT_ARC_TOLERANCE_M", "DWG_ADVICE", "DxfParcel", "dxf_parcels", "read_dxf_sites"]

#: Largest distance (drawing units, metres) between an arc and the chords replacing it.
DEFAULT_ARC_TOLERANCE_M: float = 0.01
#: First and last vertices closer than this (metres) close the outline.
CLOSE_TOLERANCE_M: float = 0.001

DWG_ADVICE = ("DWG is a closed format that cannot be read without a converter: save the drawing as DXF "
              "(AutoCAD/中望CAD: 另存为 → DXF) and check that file")

_POLYLINES = ("LWPOLYLINE", "POLYLINE")
_TEXTS = ("TEXT", "MTEXT")
_UNITS = {0: None, 1: "inches", 2: "feet", 4: "millimetres", 5: "centimetres", 6: "metres", 7: "kilometres"}


@dataclass
class DxfParcel:
    """One closed outline of the drawing, in drawing coordinates, and what was found."""

    number: int
    handle: str
    layer: str
    ring: list[tuple[float, float]]
    arcs: int = 0
    closed: bool = True
    gap_m: float = 0.0
    holes: list[int] = field(default_factory=list)
    hole_of: int | None = None
    names: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _open(path: Path) -> Any:
    try:
        import ezdxf
        from ezdxf import recover
    except ImportError as exc:  # the optional extra
        msg = f"{path}: reading DXF needs ezdxf: pip install 'zoning[cad]'"
        raise InputFileError(msg) from exc
    try:
        doc, auditor = recover.readfile(str(path))
    except (OSError, ezdxf.DXFStructureError) as exc:
        msg = f"{path}: not a readable DXF file ({exc})"
        raise InputFileError(msg) from exc
    return doc, auditor


def _arc_points(x1: float, y1: float, x2: float, y2: float, bulge: float, tolerance: float) -> list[tuple[float, float]]:
    """The points after (x1, y1) of the arc of ``bulge`` to (x2, y2), on the true arc, with
    chords at most ``tolerance`` from it (the last point is (x2, y2))."""
    chord = math.hypot(x2 - x1, y2 - y1)
    theta = 4.0 * math.atan(bulge)  # included angle, signed (positive: counter-clockwise)
    if chord == 0 or abs(theta) < 1e-12:
        return [(x2, y2)]
    r = chord / (2.0 * math.sin(abs(theta) / 2.0))
    # the sagitta of a chord spanning angle a is r (1 - cos(a / 2)): at most the tolerance
    step = 2.0 * math.acos(max(-1.0, min(1.0, 1.0 - tolerance / r))) if tolerance < r else abs(theta)
    n = max(1, math.ceil(abs(theta) / step)) if step > 0 else 1
    mx, my = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    # centre: from the chord's midpoint along its normal, by r cos(theta / 2), to the bulge's side
    d = r * math.cos(theta / 2.0)
    ux, uy = (x2 - x1) / chord, (y2 - y1) / chord
    if theta < 0:
        cx, cy = mx + uy * d, my - ux * d
    else:
        cx, cy = mx - uy * d, my + ux * d
    a0 = math.atan2(y1 - cy, x1 - cx)
    pts = [(cx + r * math.cos(a0 + theta * k / n), cy + r * math.sin(a0 + theta * k / n)) for k in range(1, n)]
    return [*pts, (x2, y2)]


def _outline(entity: Any, tolerance: float) -> tuple[list[tuple[float, float]], int, bool]:
    """The vertices of a polyline (arcs flattened to ``tolerance``, points on the true
    arcs), its arc count, and whether the drawing marks it closed."""
    if entity.dxftype() == "LWPOLYLINE":
        closed = bool(entity.closed)
        verts = [(float(x), float(y), float(b)) for x, y, b in entity.get_points("xyb")]
    else:
        closed = bool(entity.is_closed)
        verts = [(float(v.dxf.location.x), float(v.dxf.location.y), float(v.dxf.get("bulge", 0.0) or 0.0))
                 for v in entity.vertices]
    if not verts:
        return [], 0, closed
    ocs = entity.ocs()
    pts: list[tuple[float, float]] = [verts[0][:2]]
    arcs = 0
    segments = len(verts) if closed else len(verts) - 1
    for k in range(segments):
        x1, y1, b = verts[k]
        x2, y2, _ = verts[(k + 1) % len(verts)]
        if b:
            arcs += 1
            pts += _arc_points(x1, y1, x2, y2, b, tolerance)
        else:
            pts.append((x2, y2))
    if ocs.transform:  # an extrusion other than +Z (a mirrored drawing): to world coordinates
        pts = [(float(w.x), float(w.y)) for w in ocs.points_to_wcs([(x, y, 0.0) for x, y in pts])]
    return pts, arcs, closed


def dxf_parcels(doc: Any, *, layer: str | None = None,
                arc_tolerance_m: float = DEFAULT_ARC_TOLERANCE_M) -> tuple[list[DxfParcel], list[str]]:
    """The closed outlines of a drawing's modelspace and the notes about the rest.

    Raises
    ------
    InputFileError
        If ``layer`` is not a layer of the drawing, or the layers hold no polyline.
    """
    import shapely
    from shapely.geometry import Point, Polygon

    msp = doc.modelspace()
    want = layer.lower() if layer else None
    layers = {e.dxf.layer for e in msp}
    if want is not None and want not in {name.lower() for name in layers}:
        names = ", ".join(sorted(layers)) or "none"
        msg = f"layer {layer!r} is not in the drawing (its modelspace layers: {names})"
        raise InputFileError(msg)

    def on_layer(e: Any) -> bool:
        return want is None or e.dxf.layer.lower() == want

    notes: list[str] = []
    units = _UNITS.get(int(doc.header.get("$INSUNITS", 0)), "unknown units")
    if units not in (None, "metres"):
        notes.append(f"the drawing declares its units as {units}; coordinates are read as given, in the --crs")
    parcels: list[DxfParcel] = []
    skipped: dict[str, int] = {}
    for e in msp:
        if not on_layer(e):
            continue
        kind = e.dxftype()
        if kind in _TEXTS:
            continue
        if kind == "POLYLINE" and not e.is_2d_polyline:
            skipped["3-D POLYLINE/mesh"] = skipped.get("3-D POLYLINE/mesh", 0) + 1
            continue
        if kind not in _POLYLINES:
            skipped[kind] = skipped.get(kind, 0) + 1
            continue
        pts, arcs, closed = _outline(e, arc_tolerance_m)
        parcel = DxfParcel(number=len(parcels) + 1, handle=str(e.dxf.handle), layer=e.dxf.layer, ring=pts,
                           arcs=arcs)
        if len(pts) >= 2:
            gap = float(np.hypot(pts[0][0] - pts[-1][0], pts[0][1] - pts[-1][1]))
            if not closed and gap > CLOSE_TOLERANCE_M:
                parcel.closed = False
                parcel.gap_m = gap
                parcel.problems.append(
                    f"outline not closed: {gap:.3f} m between its first and last vertex (closed by a straight line "
                    f"for the check; close it in the drawing)")
            if gap <= CLOSE_TOLERANCE_M and len(pts) > 2:
                pts = pts[:-1]
        if len(pts) < 3:
            parcel.problems.append(f"outline of {len(pts)} point(s): a parcel needs at least 3")
        parcel.ring = pts
        if arcs:
            parcel.notes.append(f"{arcs} arc segment(s) approximated by chords within {arc_tolerance_m:g} m")
        parcels.append(parcel)
    if skipped:
        where = f"layer {layer!r}" if layer else "the drawing"
        notes.append(f"not read as parcels on {where} (only closed polylines are): "
                     + ", ".join(f"{n} {k}" for k, n in sorted(skipped.items())))
    if not parcels:
        where = f"layer {layer!r}" if layer else "any layer"
        msg = f"no LWPOLYLINE or POLYLINE on {where}: no red line to read" + (f" ({notes[-1]})" if skipped else "")
        raise InputFileError(msg)
    # holes: an outline inside another is a hole of the smallest one holding it, unless that one is a hole
    polys = [Polygon(p.ring) if len(p.ring) >= 3 else None for p in parcels]
    areas = [abs(shapely.area(g)) if g is not None and g.is_valid else 0.0 for g in polys]
    order = sorted(range(len(parcels)), key=lambda k: -areas[k])
    depth: dict[int, int] = {}
    for pos, k in enumerate(order):
        g = polys[k]
        holder = None
        if g is not None and g.is_valid and areas[k] > 0:
            for j in reversed(order[:pos]):
                h = polys[j]
                if h is not None and h.is_valid and areas[j] > areas[k] and h.contains(g):
                    holder = j
                    break
        depth[k] = 0 if holder is None else depth[holder] + 1
        if holder is not None and depth[k] % 2 == 1:
            parcels[k].hole_of = holder
            parcels[holder].holes.append(k)
    # names: texts whose insertion point lies inside a parcel (not in its holes)
    texts = []
    for e in msp.query("TEXT MTEXT"):
        text = " ".join(e.plain_text().split())
        if not text:
            continue
        ins = e.dxf.insert
        if e.dxftype() == "TEXT" and (e.dxf.get("halign", 0) or e.dxf.get("valign", 0)) and e.dxf.hasattr("align_point"):
            ins = e.dxf.align_point
        texts.append((on_layer(e), text, Point(float(ins[0]), float(ins[1]))))
    shells = {k: Polygon(parcels[k].ring, [parcels[h].ring for h in parcels[k].holes])
              for k in range(len(parcels)) if parcels[k].hole_of is None and len(parcels[k].ring) >= 3}
    for k, shell in shells.items():
        if not shell.is_valid:
            shell = shapely.make_valid(shell)
        inside = [(own, t) for own, t, pt in texts if shell.contains(pt)]
        found = [t for own, t in inside if own] or [t for own, t in inside]
        parcels[k].names = list(dict.fromkeys(found))
    return parcels, notes


def read_dxf_sites(
    path: str | Path,
    *,
    crs: str | None = None,
    layer: str | None = None,
    arc_tolerance_m: float = DEFAULT_ARC_TOLERANCE_M,
) -> gpd.GeoDataFrame:
    """The parcels of a DXF drawing as sites (EPSG:4490), one row per parcel in drawing
    order (holes are part of their parcel, not rows of their own).

    Columns: the :data:`zoning.inputs.sites.SITE_COLUMNS` layout (``row`` = the parcel's
    number in drawing order, holes not counted, ``site_id`` = ``dxf:<handle>``, ``site_name`` = the text
    inside it), ``input_crs``, ``input_problem``, ``input_notes``, ``dxf_layer``,
    ``dxf_handle``, ``arc_segments``, ``holes``, ``geometry``.

    Raises
    ------
    InputFileError
        A DWG, an unreadable DXF, an unknown ``layer`` or no polyline at all.
    UnknownCRSError
        An unknown ``crs``.
    """
    import geopandas as gpd
    import shapely
    from shapely.geometry import Polygon

    from zoning.core.coords import resolve_crs, to_cgcs2000_by_row
    from zoning.core.overlay import repair_geometry

    path = Path(path)
    if path.suffix.lower() == ".dwg":
        raise InputFileError(f"{path}: {DWG_ADVICE}")
    doc, auditor = _open(path)
    parcels, notes = dxf_parcels(doc, layer=layer, arc_tolerance_m=arc_tolerance_m)
    if auditor.has_errors:
        notes.append(f"the DXF has {len(auditor.errors)} structural error(s) that ezdxf recovered from")
    given = crs
    crs = crs or "gk3"
    label = resolve_crs(crs)
    if given is None:
        notes.append("a DXF declares no CRS: CGCS2000 3° Gauss–Krüger with the zone prefix on the eastings (gk3) "
                     "assumed; give --crs (gk3:38, EPSG:4547...) otherwise")
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for p in parcels:
        if p.hole_of is not None:
            continue
        problems = list(p.problems)
        pnotes = list(p.notes)
        for h in p.holes:
            pnotes.append(f"the closed polyline {parcels[h].handle} inside it taken as a hole")
            problems += [f"hole {parcels[h].handle}: {q}" for q in parcels[h].problems]
        if len(p.names) > 1:
            pnotes.append(f"{len(p.names)} texts inside: {' / '.join(p.names)}")
        geom = None
        in_crs = None
        rings = [p.ring, *(parcels[h].ring for h in p.holes)]
        if len(p.ring) >= 3:
            xy = np.array([pt for r in rings for pt in r], dtype=float)
            read = to_cgcs2000_by_row(xy[:, 0], xy[:, 1], crs, order="xy", check_city=True)
            lon, lat, probs = read.lon, read.lat, read.problems
            bad = [k for k, q in enumerate(probs) if q is not None]
            # how its vertices were read (a zone from the eastings' prefix, a datum taken as CGCS2000)
            pnotes += dict.fromkeys(n for nt in read.notes if nt for n in nt)
            if bad:
                x, y = xy[bad[0]]
                problems.append(f"vertex {bad[0] + 1} ({x:.3f}, {y:.3f}): {probs[bad[0]]}")
            else:
                plane = Polygon(p.ring, [parcels[h].ring for h in p.holes if len(parcels[h].ring) >= 3])
                if not plane.is_valid:
                    problems.append(f"outline self-intersects or is invalid ({shapely.is_valid_reason(plane)}); "
                                    "repaired with make_valid for the check")
                sizes = [len(r) for r in rings]
                cuts = np.cumsum(sizes)[:-1]
                parts = [np.column_stack([a, b]) for a, b in zip(np.split(lon, cuts), np.split(lat, cuts))]
                geom = Polygon(parts[0], [q for q, s in zip(parts[1:], sizes[1:]) if s >= 3])
                if not geom.is_valid:
                    geom = repair_geometry(geom)[0]
                    if geom is None:
                        problems.append("nothing polygonal is left after the repair: not placed")
                in_crs = resolve_crs(crs, float(xy[0, 0])) if label.startswith(("gk3", "gk6")) else label
        rows.append({
            "source": str(path), "row": len(rows) + 1, "site_id": f"dxf:{p.handle}",
            "site_name": " / ".join(p.names) or None, "location": None, "county_declared": None,
            "land_use": None, "area_ha_stated": None, "input_crs": in_crs,
            "input_problem": "; ".join(problems) or None, "input_notes": "; ".join(pnotes) or None,
            "dxf_layer": p.layer, "dxf_handle": p.handle, "arc_segments": p.arcs, "holes": len(p.holes),
        })
        geoms.append(geom)
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490")
    gdf.attrs["notes"] = [f"{path.name}: DXF, {len(rows)} parcel(s)" + (f" on layer {layer!r}" if layer else ""),
                          *(f"{path.name}: {n}" for n in notes)]
    return gdf
