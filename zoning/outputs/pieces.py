"""压占 outputs: the overlap pieces and the remainders of checked sites, as files.

:func:`pieces_frames` turns checked sites (the rows of :func:`zoning.check.check_sites`,
with their geometry and project attributes) into two GeoDataFrames in EPSG:4490:

``pieces``
    one row per (site, zone or extent) overlap: ``row``, ``site_id``, ``site_name``,
    ``layer``, ``kind``, ``zone_class``, ``zone_id``, ``zone_name``, ``accuracy`` (of the
    layer: demonstration and indicative outlines say so), ``area_ha``, ``area_mu``,
    ``share_pct`` (of the site), ``verdict`` (of that class's own rules for the site's
    project) and ``conflict`` (the class prohibits or conditions the project, or may).
``remainder``
    two rows per polygonal site: ``remainder`` = ``non_conflicting`` (outside every
    conflicting zone) and ``outside_groundwater`` (outside every groundwater zone), with
    ``label``, ``site_ha``, ``area_ha``, ``area_mu``, ``share_pct``, ``excluded`` (the
    zones cut away) and ``accuracy`` (the least accurate layer it was cut from).

:class:`PiecesWriter` writes them chunk by chunk, each file to a temporary name renamed
into place on :meth:`PiecesWriter.close`: the GeoPackage layers ``pieces`` and
``remainder`` (added to the check's own GeoPackage when there is one), GeoJSON,
shapefile (UTF-8 with a ``.cpg``), DXF (:func:`write_dxf`: Gauss–Krüger metres, one
layer per kind) and the remainders as 界址点坐标 files (:func:`jzd_text`) in the layout
:mod:`zoning.inputs.jzd` reads, coordinates to the millimetre, so that they can be filed
or read back as sites.

Areas are those of the equal-area CRS of :mod:`zoning.core.settings`, the same as the
check's overlap columns; a 界址点 file states the plane area of its Gauss–Krüger polygon
(what the reader validates), which differs from it by the projection's scale (below
0.05 % in the city).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.core import settings, vocab
from zoning.core.coords import gk_crs, gk_zone_of
from zoning.core.pieces import NON_CONFLICTING, OUTSIDE_GROUNDWATER, REMAINDER_KINDS, site_pieces

if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.check import CheckContext

__all__ = [
    "PIECE_FORMATS",
    "PIECES_LAYER",
    "REMAINDER_LAYER",
    "PiecesWriter",
    "gk_zone_crs",
    "jzd_text",
    "pieces_frames",
    "pieces_outputs",
    "write_dxf",
]

#: The formats ``--pieces-format`` accepts.
PIECE_FORMATS: tuple[str, ...] = ("gpkg", "geojson", "shp", "dxf", "jzd")
PIECES_LAYER = "pieces"
REMAINDER_LAYER = "remainder"


def _projects(results: pd.DataFrame, ctx: CheckContext) -> list[dict[str, Any]]:
    """The project of each checked site, as the check built it (:func:`zoning.check.project_for_row`:
    the run's attributes and the row's own; a value the rules do not understand is left out)."""
    from zoning.check import project_for_row, stated_columns

    stated = stated_columns(results.columns)  # the user's statements, not the computed memberships beside them
    attrs = list(stated)
    rows = zip(*(results[c].to_numpy(dtype=object) for c in stated.values())) if attrs else [()] * len(results)
    return [project_for_row(ctx, {a: None if isinstance(v, float) and v != v else v for a, v in zip(attrs, values)})[0]
            for values in rows]


def _to_cgcs2000(geoms: np.ndarray) -> np.ndarray:
    from zoning.core.overlay import repair_geometries, transform_geoms

    # a hole touching its outline at a point may cross it by a hair after the transformation: repair
    # (the area stays; the file holds valid polygons that QGIS and the readers take as they are)
    return repair_geometries(transform_geoms(geoms, settings.area_crs, "EPSG:4490"))[0]


def _column(results: pd.DataFrame, name: str, idx: np.ndarray) -> pd.Series:
    if name not in results.columns:
        return pd.Series([None] * len(idx), dtype=object)
    return pd.Series(results[name].to_numpy(dtype=object)[idx], dtype=object)


def pieces_frames(results: gpd.GeoDataFrame, ctx: CheckContext, lang: str = "zh") -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The pieces and remainders of checked sites (EPSG:4490); see the module docstring.

    Sites that were not checked (``status_code`` error: outside the city, unreadable)
    get neither."""
    import geopandas as gpd

    geoms = results.geometry.to_numpy().copy()
    if "status_code" in results.columns:
        geoms[results["status_code"].to_numpy(dtype=object) == "error"] = None
    p = site_pieces(ctx.context, geoms, _projects(results, ctx), verdicts=ctx.verdicts)
    pc = p.pieces
    sidx = pc["site"].to_numpy(dtype=np.int64)
    pieces = gpd.GeoDataFrame({
        "row": _column(results, "row", sidx), "site_id": _column(results, "site_id", sidx),
        "site_name": _column(results, "site_name", sidx),
        "layer": pc["layer"], "kind": pc["kind"], "zone_class": pc["zone_class"], "zone_id": pc["zone_id"],
        "zone_name": pc["zone_name"], "accuracy": pc["accuracy"],
        "area_ha": np.round(pc["area_m2"].to_numpy(dtype=float) / settings.SQM_PER_HA, 6),
        "area_mu": np.round(pc["area_m2"].to_numpy(dtype=float) / settings.SQM_PER_MU, 4),
        "share_pct": np.round(100 * pc["share"].to_numpy(dtype=float), 3),
        "verdict": pc["class_verdict"], "conflict": pc["conflict"].astype(bool),
    }, geometry=gpd.GeoSeries(_to_cgcs2000(pc["geometry"].to_numpy()), crs="EPSG:4490"), crs="EPSG:4490")
    rm = p.remainder
    ridx = rm["site"].to_numpy(dtype=np.int64)
    remainder = gpd.GeoDataFrame({
        "row": _column(results, "row", ridx), "site_id": _column(results, "site_id", ridx),
        "site_name": _column(results, "site_name", ridx), "remainder": rm["remainder"],
        "label": pd.Series([vocab.label(REMAINDER_KINDS[k], lang) for k in rm["remainder"]], dtype=object),
        "site_ha": np.round(rm["site_m2"].to_numpy(dtype=float) / settings.SQM_PER_HA, 6),
        "area_ha": np.round(rm["area_m2"].to_numpy(dtype=float) / settings.SQM_PER_HA, 6),
        "area_mu": np.round(rm["area_m2"].to_numpy(dtype=float) / settings.SQM_PER_MU, 4),
        "share_pct": np.round(100 * rm["share"].to_numpy(dtype=float), 3),
        "excluded": rm["excluded"], "accuracy": rm["accuracy"],
    }, geometry=gpd.GeoSeries(_to_cgcs2000(rm["geometry"].to_numpy()), crs="EPSG:4490"), crs="EPSG:4490")
    return pieces, remainder


# --------------------------------------------------------------------------- Gauss–Krüger


def gk_zone_crs(lon: Iterable[float]) -> tuple[str, int]:
    """The CGCS2000 3° Gauss–Krüger CRS (zone-prefixed eastings) for a set of longitudes:
    the zone of their median (:func:`zoning.core.coords.gk_zone_of`; 晋城市 lies across zones
    37 and 38), zone 38 when no longitude is finite."""
    vals = np.asarray(list(lon), dtype=float)
    zone = gk_zone_of(vals) if np.isfinite(vals).any() else 38
    return gk_crs(zone), zone


def _to_gk(geoms: np.ndarray, crs: str) -> np.ndarray:
    from zoning.core.overlay import transform_geoms

    return transform_geoms(geoms, "EPSG:4490", crs)


def _polygons(g: Any) -> list[Any]:
    import shapely

    if g is None or g.is_empty:
        return []
    return [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and not p.is_empty]


def _field(v: Any) -> str:
    """A value as one field of a 界址点 line (no separator, no line break, no closing @)."""
    return " ".join(str(v).replace(",", " ").replace("，", " ").replace("@", " ").split())


def _mm(v: float) -> str:
    return f"{v:.3f}"


def jzd_text(remainder: gpd.GeoDataFrame, *, kind: str = NON_CONFLICTING, zone: int | None = None,
             producer: str = "zoning", on_date: dt.date | None = None) -> tuple[str, list[str]]:
    """The remainders of ``kind`` as a 界址点坐标 file (CGCS2000 3° Gauss–Krüger, zone-prefixed
    eastings, coordinates to the millimetre) and the notes about sites left out.

    Each polygon part is one parcel (number ``site_id``, or ``site_id-2``... for further
    parts; holes are its rings 2, 3...), its area line the plane area (公顷, 4 decimals)
    of the polygon as written; points are numbered J1, J2... within the parcel and each
    ring repeats its first point to close."""
    import shapely

    sel = remainder[remainder["remainder"] == kind]
    if zone is None:
        reps = [g.representative_point().x for g in sel.geometry if g is not None and not g.is_empty]
        crs, zone = gk_zone_crs(reps)
    else:
        crs = gk_crs(zone)
    gk = _to_gk(sel.geometry.to_numpy(), crs)
    lines = [
        "[属性描述]", "格式版本号=1.01版本", f"数据产生单位={producer}",
        f"数据产生日期={(on_date or dt.date.today()).isoformat()}", "坐标系=2000国家大地坐标系", "几度分带=3",
        "投影类型=高斯克吕格", "计量单位=米", f"带号={zone}", "精度=0.001", "转换参数=,,,,,,", "[地块坐标]",
    ]
    notes: list[str] = []
    label = vocab.label(REMAINDER_KINDS[kind], "zh")
    for site_id, name, row, g in zip(sel["site_id"], sel["site_name"], sel["row"], gk):
        base = _field(site_id) if site_id is not None and site_id == site_id else f"row{row}"
        parts = _polygons(g)
        if not parts:
            notes.append(f"site {base}: no {kind} remainder (the whole site is cut away): no parcel written")
            continue
        for j, part in enumerate(parts, start=1):
            rings = [part.exterior, *part.interiors]
            coords = [np.round(np.asarray(r.coords), 3) for r in rings]
            # the area of the polygon as written (mm coordinates), which the reader recomputes
            plane = shapely.Polygon(coords[0], coords[1:])
            number = base if len(parts) == 1 else f"{base}-{j}"
            title = " ".join(_field(v) for v in (name, label) if v is not None and v == v)
            npts = sum(len(c) for c in coords)
            lines.append(f"{npts},{plane.area / settings.SQM_PER_HA:.4f},{number},{title},面,,,,@")
            p = 0
            for ring_no, c in enumerate(coords, start=1):
                first = p + 1
                for i, (x, y) in enumerate(c):
                    if i == len(c) - 1:
                        nm = f"J{first}"
                    else:
                        p += 1
                        nm = f"J{p}"
                    lines.append(f"{nm},{ring_no},{_mm(y)},{_mm(x)}")  # X = northing, Y = easting
    return "\n".join(lines) + "\n", notes


def write_dxf(pieces: gpd.GeoDataFrame, remainder: gpd.GeoDataFrame, path: str | Path, *,
              zone: int | None = None) -> Path:
    """Pieces and remainders as a DXF drawing (R2010) in CGCS2000 3° Gauss–Krüger metres with
    zone-prefixed eastings: closed polylines on the layers ``pieces``,
    ``remainder_non_conflicting`` and ``remainder_outside_groundwater`` (holes as closed
    polylines inside their outline), and a label per polygon on ``<layer>_labels``."""
    import ezdxf

    geoms = [g for g in (*pieces.geometry, *remainder.geometry) if g is not None and not g.is_empty]
    if zone is None:
        crs, zone = gk_zone_crs([g.representative_point().x for g in geoms])
    else:
        crs = gk_crs(zone)
    doc = ezdxf.new("R2010", setup=True)
    doc.header["$INSUNITS"] = 6  # metres
    colours = {"pieces": 1, f"remainder_{NON_CONFLICTING}": 3, f"remainder_{OUTSIDE_GROUNDWATER}": 5}
    for name, colour in colours.items():
        doc.layers.add(name, color=colour)
        doc.layers.add(f"{name}_labels", color=colour)
    msp = doc.modelspace()

    def draw(frame: gpd.GeoDataFrame, layers: list[str], labels: list[str]) -> None:
        gk = _to_gk(frame.geometry.to_numpy(), crs)
        for g, layer, label in zip(gk, layers, labels):
            for part in _polygons(g):
                for ring in (part.exterior, *part.interiors):
                    msp.add_lwpolyline(list(ring.coords)[:-1], close=True, dxfattribs={"layer": layer})
                pt = part.representative_point()
                msp.add_text(label, height=2.0, dxfattribs={"layer": f"{layer}_labels", "insert": (pt.x, pt.y)})

    def labels(frame: gpd.GeoDataFrame, what: Iterable[str]) -> list[str]:
        """Each polygon's label: its site (the id, else the row number), then ``what``; built
        from whole columns (a cell read at a time cost a fifth of the drawing's time)."""
        sites = frame["site_id"].to_numpy(dtype=object)
        return [f"{s if s is not None and s == s else r} {w}" for s, r, w in zip(sites, frame["row"].to_numpy(), what)]

    draw(pieces, ["pieces"] * len(pieces),
         labels(pieces, (f"{c} [{i}] {a:.4f} ha" for c, i, a in
                         zip(pieces["zone_class"], pieces["zone_id"], pieces["area_ha"]))))
    draw(remainder, [f"remainder_{k}" for k in remainder["remainder"]],
         labels(remainder, (f"{lab} {a:.4f} ha" for lab, a in zip(remainder["label"], remainder["area_ha"]))))
    path = Path(path)
    doc.saveas(str(path))
    return path


# --------------------------------------------------------------------------- writer


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


@dataclass
class PiecesWriter:
    """Write pieces and remainders chunk by chunk; every file renamed into place on close.

    ``outputs`` maps a format of :data:`PIECE_FORMATS` to a path: ``gpkg`` the
    GeoPackage that receives the layers (the check's own, once it is written, or a
    file of its own), ``geojson`` / ``shp`` / ``dxf`` the stem of the pieces file (the
    remainder goes beside it as ``<stem>_remainder``... for GeoJSON and shapefile, and
    into the same drawing for DXF), ``jzd`` the 界址点 file of the non-conflicting
    remainder (the groundwater remainder beside it, ``<stem>_outside_groundwater.txt``).
    """

    outputs: dict[str, Path]
    context: CheckContext
    lang: str = "zh"
    n_pieces: int = 0
    n_remainders: int = 0
    notes: list[str] = field(default_factory=list)
    _pieces: list[Any] = field(default_factory=list, repr=False)
    _remainders: list[Any] = field(default_factory=list, repr=False)
    #: layer -> its stream to a GeoPackage of its own (two layers cannot be written at once to one file)
    _feeds: dict[str, Any] = field(default_factory=dict, repr=False)

    def write(self, results: gpd.GeoDataFrame) -> None:
        """Add the pieces and remainders of a chunk of checked sites."""
        from zoning.outputs.reports import GpkgFeed

        pieces, remainder = pieces_frames(results, self.context, self.lang)
        self.n_pieces += len(pieces)
        self.n_remainders += len(remainder)
        if "gpkg" in self.outputs:
            for layer, frame in ((PIECES_LAYER, pieces), (REMAINDER_LAYER, remainder)):
                table = _arrow_table(frame)
                if layer not in self._feeds:  # the first chunk fixes the layer's fields
                    path = _tmp(self.outputs["gpkg"].with_suffix(f".{layer}.gpkg"))
                    path.unlink(missing_ok=True)
                    self._feeds[layer] = GpkgFeed(path, table.schema, "MultiPolygon", layer=layer)
                self._feeds[layer].put(table)
        if any(f in self.outputs for f in ("geojson", "shp", "dxf", "jzd")):
            self._pieces.append(pieces)
            self._remainders.append(remainder)

    def close(self) -> dict[str, Path]:
        """Write the files and rename them into place; the paths written, by format."""
        import geopandas as gpd
        import pyogrio

        written: dict[str, Path] = {}
        if "gpkg" in self.outputs and self._feeds:
            from zoning.outputs.reports import unsynced_sqlite

            for feed in self._feeds.values():
                feed.close()  # each layer whole, its spatial index built once
            target = self.outputs["gpkg"]
            tmp = _tmp(target)
            parts = [(layer, feed.path) for layer, feed in self._feeds.items()]
            if target.exists():  # the check's own GeoPackage: the layers go into a copy, which replaces it
                shutil.copyfile(target, tmp)
            else:  # a GeoPackage of the pieces' own: the first layer's file, the other added to it
                os.replace(parts[0][1], tmp)
                parts = parts[1:]
            with unsynced_sqlite():
                for layer, path in parts:  # streamed from file to file, never whole in memory
                    with pyogrio.raw.open_arrow(path, layer=layer, use_pyarrow=True) as (meta, reader):
                        # a layer of that name (a file left by an earlier run) is replaced, the others kept
                        pyogrio.raw.write_arrow(reader, tmp, layer=layer, driver="GPKG",
                                                geometry_name=meta["geometry_name"] or "geometry",
                                                geometry_type="MultiPolygon", crs="EPSG:4490")
                    path.unlink()
            os.replace(tmp, target)
            self._feeds = {}
            written["gpkg"] = target
        if not self._pieces:
            return written
        pieces = gpd.GeoDataFrame(pd.concat(self._pieces, ignore_index=True), geometry="geometry", crs="EPSG:4490")
        remainder = gpd.GeoDataFrame(pd.concat(self._remainders, ignore_index=True), geometry="geometry",
                                     crs="EPSG:4490")
        for fmt, driver in (("geojson", "GeoJSON"), ("shp", "ESRI Shapefile")):
            if fmt not in self.outputs:
                continue
            target = self.outputs[fmt]
            rtarget = target.with_name(f"{target.stem}_remainder{target.suffix}")
            for frame, path in ((pieces, target), (remainder, rtarget)):
                tmp_dir = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
                tmp_dir.mkdir(exist_ok=True)
                try:
                    tmp = tmp_dir / path.name
                    kw = {"encoding": "UTF-8"} if fmt == "shp" else {}
                    pyogrio.write_dataframe(_for_file(frame), tmp, driver=driver, promote_to_multi=True, **kw)
                    for f in tmp_dir.iterdir():  # a shapefile is several files
                        os.replace(f, path.with_name(f.name))
                finally:
                    shutil.rmtree(tmp_dir, ignore_errors=True)
            written[fmt] = target
            written[f"{fmt} (remainder)"] = rtarget
        if "dxf" in self.outputs:
            target = self.outputs["dxf"]
            tmp = _tmp(target)
            write_dxf(pieces, remainder, tmp)
            os.replace(tmp, target)
            written["dxf"] = target
        if "jzd" in self.outputs:
            target = self.outputs["jzd"]
            for kind, path in ((NON_CONFLICTING, target),
                               (OUTSIDE_GROUNDWATER, target.with_name(f"{target.stem}_{OUTSIDE_GROUNDWATER}.txt"))):
                text, notes = jzd_text(remainder, kind=kind)
                self.notes += notes
                tmp = _tmp(path)
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, path)
                written[f"jzd ({kind})"] = path
        return written

    def abort(self) -> None:
        """Remove the temporary files of an interrupted run."""
        for feed in self._feeds.values():
            feed.abort()
            feed.path.unlink(missing_ok=True)
        self._feeds = {}


def _arrow_table(frame: gpd.GeoDataFrame) -> Any:
    """A pieces or remainder frame as an Arrow table of fixed field types, whatever a chunk
    holds: ``row`` an integer, the numbers as numbers, ``conflict`` a yes/no, the rest text
    (missing stays missing), the geometry as multipolygon WKB."""
    import pyarrow as pa

    from zoning.outputs.reports import wkb_array

    geom = frame.geometry.name
    names: list[str] = []
    arrays: list[Any] = []
    for c in frame.columns:
        if c == geom:
            continue
        col = frame[c]
        if c == "row":
            arr = pa.array(pd.to_numeric(col, errors="coerce").astype("Int64"), type=pa.int64(), from_pandas=True)
        elif pd.api.types.is_bool_dtype(col):
            arr = pa.array(col.to_numpy(dtype=bool), type=pa.bool_())
        elif pd.api.types.is_numeric_dtype(col):
            arr = pa.array(col.to_numpy(dtype=float), type=pa.float64(), from_pandas=True)
        else:
            arr = pa.array(_texts(col), type=pa.string())
        names.append(str(c))
        arrays.append(arr)
    names.append("geometry")
    arrays.append(wkb_array(frame.geometry.to_numpy(), "MultiPolygon"))
    return pa.table(arrays, names=names)


def _texts(col: pd.Series) -> list[str | None]:
    """A column's cells as text, missing ones (None, NaN) as None."""
    return [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in col.to_numpy(dtype=object)]


def _for_file(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Text columns as strings (missing values stay missing), numbers as numbers."""
    out = frame.copy()
    for c in out.columns:
        if c == out.geometry.name:
            continue
        if out[c].dtype == object:
            out[c] = pd.Series(_texts(out[c]), index=out.index, dtype=object)
    return out


def pieces_outputs(results_outputs: dict[str, Path], stem: str, formats: Iterable[str]) -> dict[str, Path]:
    """Where ``--pieces`` writes, beside the check's outputs: the GeoPackage layers into the
    check's ``.gpkg`` when there is one (else ``<stem>_pieces.gpkg``), and
    ``<stem>_pieces.geojson`` / ``.shp`` / ``.dxf``, ``<stem>_remainder.txt`` (界址点)."""
    base = next(iter(results_outputs.values())).parent if results_outputs else Path(".")
    out: dict[str, Path] = {}
    for fmt in formats:
        if fmt == "gpkg":
            out[fmt] = results_outputs.get("gpkg", base / f"{stem}_pieces.gpkg")
        elif fmt == "jzd":
            out[fmt] = base / f"{stem}_remainder.txt"
        else:
            out[fmt] = base / f"{stem}_pieces.{fmt}"
    return out
