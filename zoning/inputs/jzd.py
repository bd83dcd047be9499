"""界址点坐标 text files: the land-survey exchange layout used for 建设用地报批 and 勘测定界.

Read leniently, validate strictly.

The layout (GBK or UTF-8)::

    [属性描述]
    坐标系=2000国家大地坐标系
    几度分带=3
    带号=38
    ...
    [地块坐标]
    5,3.1570,001,某某项目用地,面,,工业用地,,@
    J1,1,3928409.180,38396465.710
    ...

A parcel line gives the number of boundary points, the stated area (公顷), the parcel
number, name, shape kind (点/线/面), map sheet, use, land-class code, and ends with
``@``. A point line gives the point name, the ring number (1 = outer, 2... = holes or
further parts), X = northing and Y = easting (survey order).

Lenient reading: Chinese or ASCII commas, spaces, missing header keys and missing
trailing fields are accepted; the zone comes from ``带号`` or, failing that, from the
8-digit easting's prefix; 3° and 6° zones; CGCS2000, Xian 1980, Beijing 1954.

Strict validation, reported per parcel (never silently fixed): every ring closed
(first point = last point), the stated point count equal to the point lines read, the
stated area equal to the computed plane area within :data:`AREA_TOLERANCE_HA` or
:data:`AREA_TOLERANCE_REL`, a valid polygon, zone prefix consistent with 带号.

Public API: :func:`read_jzd` (text → :class:`JzdFile`), :func:`read_jzd_file`
(path → :class:`JzdFile`, encoding detected), :func:`jzd_to_gdf` (→ GeoDataFrame in
EPSG:4490, one row per parcel), :func:`is_jzd_file`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zoning.core.errors import InputFileError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "AREA_TOLERANCE_HA",
    "AREA_TOLERANCE_REL",
    "JzdFile",
    "JzdParcel",
    "is_jzd_file",
    "jzd_crs",
    "jzd_to_gdf",
    "read_jzd",
    "read_jzd_file",
]

#: Stated and computed areas agree when they differ by at most this many hectares
#: (the layout states areas to 4 decimals: 1 m²) ...
AREA_TOLERANCE_HA: float = 0.001
#: ... or by at most this fraction of the stated area (whichever is larger).
AREA_TOLERANCE_REL: float = 0.001

_SPLIT = re.compile(r"\s*[,，;；\t]\s*|\s+")
_SECTION = re.compile(r"^\s*\[(.+?)\]\s*$")


@dataclass
class JzdParcel:
    """One parcel of a 界址点 file, as read (rings in survey order: X northing, Y easting)."""

    line: int
    stated_points: int | None
    stated_area_ha: float | None
    number: str
    name: str
    shape: str
    sheet: str
    use: str
    land_class: str
    rings: dict[int, list[tuple[str, float, float]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    point_lines: int = 0

    @property
    def label(self) -> str:
        bits = [b for b in (self.number, self.name) if b]
        return " ".join(bits) or f"line {self.line}"


@dataclass
class JzdFile:
    """A parsed 界址点 file: its header keys and parcels."""

    header: dict[str, str]
    parcels: list[JzdParcel]
    source: str = ""
    encoding: str = ""
    problems: list[str] = field(default_factory=list)


def _num(text: str) -> float | None:
    try:
        v = float(text.strip())
    except (ValueError, AttributeError):
        return None
    return v if math.isfinite(v) else None


def _is_parcel_line(fields: list[str], raw: str) -> bool:
    return raw.rstrip().endswith("@") or (len(fields) >= 2 and fields[-1] == "@")


def read_jzd(text: str, *, source: str = "") -> JzdFile:
    """Parse the text of a 界址点 file (lenient: problems are recorded, not raised).

    Raises
    ------
    InputFileError
        If the text holds no parcel at all.
    """
    header: dict[str, str] = {}
    parcels: list[JzdParcel] = []
    problems: list[str] = []
    section = ""
    current: JzdParcel | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        m = _SECTION.match(line)
        if m:
            section = m.group(1).strip()
            continue
        if "=" in line and not _is_parcel_line([], line) and (section != "地块坐标" or current is None):
            key, _, value = line.partition("=")
            header[key.strip()] = value.strip()
            continue
        fields = [f for f in re.split(r"\s*[,，]\s*", line)]
        if _is_parcel_line(fields, line):
            body = line.rstrip().rstrip("@").rstrip()
            body = body[:-1] if body.endswith((",", "，")) else body
            f = [x.strip() for x in re.split(r"[,，]", body)]
            f += [""] * (9 - len(f))
            npts = _num(f[0])
            area = _num(f[1])
            current = JzdParcel(
                line=lineno,
                stated_points=int(npts) if npts is not None and float(npts).is_integer() else None,
                stated_area_ha=area,
                number=f[2],
                name=f[3],
                shape=f[4],
                sheet=f[5],
                use=f[6],
                land_class=f[7],
            )
            if npts is None:
                current.problems.append(f"line {lineno}: the point count {f[0]!r} is not a number")
            if area is None and f[1]:
                current.problems.append(f"line {lineno}: the stated area {f[1]!r} is not a number")
            parcels.append(current)
            continue
        # a point line: name, ring, X (northing), Y (easting); tolerate missing name/ring
        f = [x for x in _SPLIT.split(line) if x != ""]
        nums = [_num(x) for x in f]
        if current is None:
            problems.append(f"line {lineno}: {line[:60]!r} comes before any parcel line (ending in @); ignored")
            continue
        if len(f) >= 4 and (x := nums[2]) is not None and (y := nums[3]) is not None:
            name, ring_txt = f[0], f[1]
        elif len(f) == 3 and (x := nums[1]) is not None and (y := nums[2]) is not None:
            name, ring_txt = f[0], "1"
        elif len(f) == 2 and (x := nums[0]) is not None and (y := nums[1]) is not None:
            name, ring_txt = "", "1"
        else:
            current.problems.append(f"line {lineno}: point line {line[:60]!r} is not 'name,ring,X,Y'")
            current.point_lines += 1
            continue
        ring_num = _num(ring_txt)
        ring = int(ring_num) if ring_num is not None and float(ring_num).is_integer() else None
        if ring is None or ring < 1:
            current.problems.append(f"line {lineno}: ring number {ring_txt!r} is not 1, 2, ...")
            ring = 1
        current.rings.setdefault(ring, []).append((name, float(x), float(y)))
        current.point_lines += 1
    if not parcels:
        msg = f"{source or 'text'}: no parcel line (ending in @) found: not a 界址点坐标 file"
        raise InputFileError(msg)
    return JzdFile(header=header, parcels=parcels, source=source, problems=problems)


def _decode(raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "UTF-8 (BOM)"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "GBK/GB18030"
    except UnicodeDecodeError as exc:
        msg = f"text is neither UTF-8 nor GBK ({exc})"
        raise InputFileError(msg) from exc


def read_jzd_file(path: str | Path, *, encoding: str | None = None) -> JzdFile:
    """Read a 界址点 file from disk, detecting UTF-8 (with or without BOM) or GBK."""
    path = Path(path)
    if not path.exists():
        msg = f"{path}: file not found"
        raise InputFileError(msg)
    raw = path.read_bytes()
    if encoding:
        try:
            text, enc = raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            msg = f"{path}: cannot decode as {encoding} ({exc})"
            raise InputFileError(msg) from exc
    else:
        try:
            text, enc = _decode(raw)
        except InputFileError as exc:
            raise InputFileError(f"{path}: {exc}") from None
    parsed = read_jzd(text, source=str(path))
    parsed.encoding = enc
    return parsed


def is_jzd_file(path: str | Path) -> bool:
    """Whether a text file looks like a 界址点 file (a [地块坐标] section or a line ending in @)."""
    path = Path(path)
    try:
        head = path.read_bytes()[:65536]
    except OSError:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("gb18030", errors="ignore")
    return "[地块坐标]" in text or "[属性描述]" in text or bool(re.search(r"^\s*\d+\s*[,，].*@\s*$", text, re.M))


def _family(header: dict[str, str]) -> tuple[str, list[str]]:
    text = header.get("坐标系", "")
    notes: list[str] = []
    if re.search(r"西安|xian|1980|80", text, re.I):
        return "Xian1980", notes
    if re.search(r"北京|beijing|1954|54", text, re.I):
        return "Beijing1954", notes
    if not text:
        notes.append("header gives no 坐标系: CGCS2000 assumed")
    elif not re.search(r"2000|cgcs", text, re.I):
        notes.append(f"坐标系={text!r} not recognised: CGCS2000 assumed")
    return "CGCS2000", notes


def jzd_crs(header: dict[str, str], easting: float) -> tuple[str, list[str]]:
    """The EPSG code of a file's coordinates, from its header and one easting.

    Zone: ``带号`` if given, else the prefix of an 8-digit easting. Width: ``几度分带``
    (3 or 6), default 3. A prefix that disagrees with 带号 is an error. The code is
    :func:`zoning.core.coords.gk_crs` of that zone: with the zone prefix when the eastings
    carry it (8 digits, ``带号=38``: EPSG:4526), without it otherwise (EPSG:4547).

    Raises
    ------
    InputFileError
        If no zone can be determined or prefix and 带号 disagree.
    """
    from zoning.core.coords import GK_ZONES, gk_crs

    family, notes = _family(header)
    width_txt = re.sub(r"\D", "", header.get("几度分带", "") or header.get("分带", ""))
    width = int(width_txt) if width_txt in ("3", "6") else 3
    if not width_txt:
        notes.append("header gives no 几度分带: 3° zones assumed")
    zone_txt = re.sub(r"\D", "", header.get("带号", ""))
    stated = int(zone_txt) if zone_txt else None
    prefix = int(easting // 1_000_000) if easting >= 10_000_000 else None
    zones = GK_ZONES[width]
    if prefix is not None and stated is not None and prefix != stated:
        msg = f"带号={stated} but the eastings carry the zone prefix {prefix}"
        raise InputFileError(msg)
    zone = stated if stated is not None else prefix
    if zone is None:
        msg = "no 带号 in the header and the eastings carry no zone prefix: the zone is unknown"
        raise InputFileError(msg)
    if zone not in zones:
        msg = f"zone {zone} is not a {width}° zone covering China ({zones.start}-{zones.stop - 1}); check 几度分带/带号"
        raise InputFileError(msg)
    if stated is None:
        notes.append(f"zone {zone} taken from the easting prefix")
    return gk_crs(zone, width=width, prefixed=prefix is not None, family=family), notes


def _ring_closed(pts: list[tuple[str, float, float]]) -> bool:
    return len(pts) >= 2 and abs(pts[0][1] - pts[-1][1]) < 1e-6 and abs(pts[0][2] - pts[-1][2]) < 1e-6


def _build_geometry(parcel: JzdParcel) -> tuple[Any, list[str], list[str]]:
    """Plane polygon (x = easting, y = northing) and (problems, notes)."""
    from shapely.geometry import MultiPolygon, Polygon

    problems: list[str] = []
    notes: list[str] = []
    rings = {}
    for num in sorted(parcel.rings):
        pts = parcel.rings[num]
        if not _ring_closed(pts):
            problems.append(
                f"ring {num} is not closed: first point {pts[0][0] or '?'} and last point "
                f"{pts[-1][0] or '?'} differ"
            )
        coords = [(y, x) for _, x, y in pts]
        if len(coords) < 3:
            problems.append(f"ring {num} has {len(coords)} point(s): a ring needs at least 3")
            continue
        rings[num] = coords
    if 1 not in rings:
        if not problems:
            problems.append("no outer ring (ring 1)")
        return None, problems, notes
    outer = Polygon(rings[1])
    holes, parts = [], []
    for num, coords in rings.items():
        if num == 1:
            continue
        poly = Polygon(coords)
        if outer.contains(poly.representative_point()) and outer.buffer(1e-6).contains(poly):
            holes.append(coords)
        else:
            parts.append(poly)
    if holes:
        notes.append(f"{len(holes)} hole(s)")
    if parts:
        notes.append(f"{len(parts) + 1} parts")
    geom = Polygon(rings[1], holes)
    if parts:
        geom = MultiPolygon([geom, *parts])
    if not geom.is_valid:
        from zoning.core.overlay import repair_geometry

        geom, why = repair_geometry(geom)
        problems.append(str(why))
        if geom is None:
            return None, problems, notes
    return geom, problems, notes


def jzd_to_gdf(jzd: JzdFile, *, crs: str | None = None) -> gpd.GeoDataFrame:
    """One row per parcel, in file order, in CGCS2000 lon/lat (EPSG:4490).

    Columns: ``source``, ``row`` (line of the parcel line), ``site_id`` (parcel
    number), ``site_name``, ``land_use``, ``land_class``, ``shape``, ``sheet``,
    ``stated_points``, ``points_read``, ``stated_area_ha``, ``plane_area_ha`` (area in
    the file's Gauss–Krüger plane), ``input_crs``, ``input_problem`` (None, or every
    validation finding joined by ``; ``), ``input_notes``, ``geometry_repaired``.

    ``crs`` overrides the CRS derived from the header (any string pyproj accepts).
    """
    import geopandas as gpd
    import shapely

    from zoning.core.coords import datum_note, resolve_crs, transformer
    from zoning.core.overlay import repair_geometry

    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for parcel in jzd.parcels:
        problems = list(parcel.problems)
        notes: list[str] = []
        geom = None
        plane_area = None
        input_crs = None
        all_pts = [p for pts in parcel.rings.values() for p in pts]
        if parcel.stated_points is not None and parcel.stated_points != parcel.point_lines:
            problems.append(
                f"the parcel line states {parcel.stated_points} points, {parcel.point_lines} point lines follow"
            )
        if all_pts:
            plane, gp, gn = _build_geometry(parcel)
            problems += gp
            notes += gn
            if plane is not None:
                plane_area = plane.area / 10_000.0
                if parcel.stated_area_ha is not None:
                    diff = plane_area - parcel.stated_area_ha
                    tol = max(AREA_TOLERANCE_HA, AREA_TOLERANCE_REL * abs(parcel.stated_area_ha))
                    if abs(diff) > tol:
                        problems.append(
                            f"stated area {parcel.stated_area_ha:.4f} ha, computed {plane_area:.4f} ha "
                            f"(differs by {diff:+.4f} ha, {100 * diff / parcel.stated_area_ha if parcel.stated_area_ha else float('inf'):+.2f}%)"
                        )
                try:
                    if crs:
                        input_crs = resolve_crs(crs, max(p[2] for p in all_pts))
                    else:
                        input_crs, cn = jzd_crs(jzd.header, max(p[2] for p in all_pts))
                        notes += cn
                except Exception as exc:  # InputFileError, CoordinateError
                    problems.append(f"coordinate system: {exc}")
                    input_crs = None
                if input_crs:
                    # the package's one cached transformer per pair, and the note a query of a
                    # point in that CRS gives (a datum PROJ cannot transform, taken as CGCS2000)
                    tr = transformer(input_crs, "EPSG:4490")
                    geom = shapely.transform(plane, lambda a, tr=tr: _tx(tr, a))
                    if datum := datum_note(input_crs):
                        notes.append(datum)
                    if not shapely.is_valid(geom):
                        geom = repair_geometry(geom)[0]
        else:
            problems.append("no point lines follow the parcel line")
        rows.append(
            {
                "source": jzd.source,
                "row": parcel.line,
                "site_id": parcel.number or None,
                "site_name": parcel.name or None,
                "land_use": parcel.use or None,
                "land_class": parcel.land_class or None,
                "shape": parcel.shape or None,
                "sheet": parcel.sheet or None,
                "stated_points": parcel.stated_points,
                "points_read": parcel.point_lines,
                "stated_area_ha": parcel.stated_area_ha,
                "plane_area_ha": None if plane_area is None else round(plane_area, 6),
                "input_crs": input_crs,
                "input_problem": "; ".join(problems) if problems else None,
                "input_notes": "; ".join(notes) if notes else None,
            }
        )
        geoms.append(geom)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490")


def _tx(tr, a):
    x, y = tr.transform(a[:, 0], a[:, 1])
    return np.column_stack([x, y])
