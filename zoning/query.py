"""Answer "what applies here?" for a point.

:func:`query_point` parses a coordinate in any accepted form, reads the pack's layers
and returns a :class:`QueryResult`, which serialises to JSON (``to_dict``) and renders
as text in Chinese or English (``to_text``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from zoning import settings
from zoning.layers import ACCURACY_LABELS, Pack, open_pack, read_layer

if TYPE_CHECKING:
    from zoning.coords import ParsedPoint

Lang = Literal["zh", "en"]


@dataclass
class CountyAnswer:
    """The county a point lies in, and how sure that is."""

    adcode: str | None
    name: str | None
    name_en: str | None
    inside_city: bool
    boundary_distance_m: float | None
    near_line: bool
    neighbour_adcode: str | None = None
    neighbour_name: str | None = None
    nearest_adcode: str | None = None
    nearest_name: str | None = None
    nearest_distance_m: float | None = None
    positional_accuracy_m: float | None = None


@dataclass
class LayerUse:
    """A layer an answer rests on, with its accuracy."""

    name: str
    kind: str
    accuracy: str
    source: str


@dataclass
class QueryResult:
    """Everything that applies at one point."""

    lon: float
    lat: float
    input: dict[str, Any]
    county: CountyAnswer
    warnings: list[str] = field(default_factory=list)
    layers_used: list[LayerUse] = field(default_factory=list)
    pack: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (stable keys; see zoning/schemas/query.schema.json)."""
        out = asdict(self)
        out["lon"] = round(self.lon, 7)
        out["lat"] = round(self.lat, 7)
        for key in ("boundary_distance_m", "nearest_distance_m"):
            if out["county"][key] is not None:
                out["county"][key] = round(out["county"][key], 1)
        return out

    def to_text(self, lang: Lang = "zh") -> str:
        """A terminal-readable answer in Chinese (default) or English."""
        zh = lang == "zh"
        c = self.county
        lines = [
            (f"位置: 经度 {self.lon:.6f}, 纬度 {self.lat:.6f} (CGCS2000)" if zh
             else f"Location: lon {self.lon:.6f}, lat {self.lat:.6f} (CGCS2000)"),
            (f"输入: {self.input['x']}, {self.input['y']} ({self.input['crs']})" if zh
             else f"Input: {self.input['x']}, {self.input['y']} ({self.input['crs']})"),
        ]
        for note in self.input.get("notes", []):
            lines.append(("  说明: " if zh else "  note: ") + note)
        if c.adcode:
            lines.append(
                f"县级行政区: {c.name} ({c.adcode})" if zh else f"County: {c.name_en} / {c.name} ({c.adcode})"
            )
            if c.near_line and c.neighbour_name:
                lines.append(
                    f"  注意: 距县界约 {c.boundary_distance_m:.0f} 米, 在县界图层定位精度 "
                    f"({c.positional_accuracy_m:.0f} 米) 之内, 也可能属于 {c.neighbour_name} ({c.neighbour_adcode})"
                    if zh else
                    f"  caution: about {c.boundary_distance_m:.0f} m from a county line, within the county "
                    f"layer's positional accuracy ({c.positional_accuracy_m:.0f} m); it may lie in "
                    f"{c.neighbour_name} ({c.neighbour_adcode})"
                )
            elif c.near_line:
                lines.append(
                    f"  注意: 距市界约 {c.boundary_distance_m:.0f} 米, 在定位精度之内, 可能位于晋城市以外"
                    if zh else
                    f"  caution: about {c.boundary_distance_m:.0f} m from the city boundary, within the "
                    "layer's positional accuracy; it may lie outside 晋城市"
                )
        else:
            km = (c.nearest_distance_m or 0) / 1000
            lines.append(
                f"县级行政区: 不在晋城市范围内; 最近的是 {c.nearest_name} ({c.nearest_adcode}), 约 {km:.1f} 公里"
                if zh else
                f"County: outside 晋城市; the nearest county is {c.nearest_name} ({c.nearest_adcode}), {km:.1f} km away"
            )
        for w in self.warnings:
            lines.append(("警告: " if zh else "warning: ") + w)
        lines.append("所用图层:" if zh else "Layers used:")
        for lu in self.layers_used:
            acc = ACCURACY_LABELS.get(lu.accuracy, (lu.accuracy, lu.accuracy))[0 if zh else 1]
            lines.append(f"  - {lu.name} [{acc}] {lu.source}")
        return "\n".join(lines)


def _source_of(provenance: dict[str, Any]) -> str:
    parts = []
    if provenance.get("documents"):
        parts.append("、".join(provenance["documents"]))
    if provenance.get("dataset"):
        ds = provenance["dataset"]
        if provenance.get("version"):
            ds += f" {provenance['version']}"
        if provenance.get("data_source"):
            ds += f" ({provenance['data_source']})"
        parts.append(ds)
    return "; ".join(parts) or str(provenance.get("method", ""))


def county_answer(pack: Pack, lon: float, lat: float) -> tuple[CountyAnswer, LayerUse]:
    """The county at one CGCS2000 point, from the pack's county layer."""
    from zoning.overlay import assign_counties

    spec = pack.first_of_kind("counties")
    counties = read_layer(pack, spec.name)
    tol = float(spec.positional_accuracy_m or 0.0)
    row = assign_counties(counties, np.array([lon]), np.array([lat]), tolerance_m=tol).iloc[0]
    en = dict(zip(counties["adcode"].astype(str), counties.get("name_en", counties["name"])))
    inside = row["adcode"] is not None
    bd = None if np.isnan(row["boundary_distance_m"]) else float(row["boundary_distance_m"])
    answer = CountyAnswer(
        adcode=row["adcode"],
        name=row["name"],
        name_en=en.get(row["adcode"]) if inside else None,
        inside_city=inside,
        boundary_distance_m=bd,
        near_line=bool(inside and bd is not None and bd <= tol),
        neighbour_adcode=row["near_adcode"],
        neighbour_name=row["near_name"],
        nearest_adcode=row["nearest_adcode"],
        nearest_name=row["nearest_name"],
        nearest_distance_m=None if np.isnan(row["nearest_distance_m"]) else float(row["nearest_distance_m"]),
        positional_accuracy_m=tol,
    )
    use = LayerUse(spec.name, spec.kind, spec.accuracy, _source_of(spec.provenance))
    return answer, use


def query_point(
    x: float | str,
    y: float | str,
    crs: str | int | None = None,
    *,
    order: Literal["xy", "survey"] = "xy",
    pack: Pack | str | Path | None = None,
) -> QueryResult:
    """What applies at one point.

    Parameters
    ----------
    x, y
        The coordinate as the planner has it: lon/lat, or easting/northing (or
        northing/easting with ``order="survey"``).
    crs
        Any CRS pyproj understands, or an alias (``gcj02``, ``bd09``, ``gk3``...);
        default CGCS2000 lon/lat.
    pack
        A pack (or its directory); default the shipped Jincheng pack.

    Raises
    ------
    CoordinateError
        If the coordinate cannot be parsed or is implausible (swapped, metres as
        degrees, wrong Gauss-Kruger zone).
    """
    from zoning.coords import parse_point

    if not isinstance(pack, Pack):
        pack = open_pack(pack or settings.default_pack)
    parsed: ParsedPoint = parse_point(x, y, crs, order=order, check_city=False)
    county, use = county_answer(pack, parsed.lon, parsed.lat)
    warnings: list[str] = []
    return QueryResult(
        lon=parsed.lon,
        lat=parsed.lat,
        input={
            "x": parsed.input_x,
            "y": parsed.input_y,
            "crs": parsed.input_crs,
            "order": order,
            "notes": list(parsed.notes),
        },
        county=county,
        warnings=warnings,
        layers_used=[use],
        pack=pack.name,
    )
