"""I/O of the derivation: inputs warped onto one grid, processed by windows, outputs written.

:func:`derive` is the API behind ``zoning derive``. It reads a config
(:mod:`zoning.derive.config`), warps every raster input onto the config's grid with
rasterio (``WarpedVRT``; a raster already on the grid is read directly), rasterises the
vector inputs per window, runs the pure steps of :mod:`zoning.derive.steps` on each
window of ``window_rows`` rows, writes every intermediate map as a tiled, compressed
GeoTIFF with a colour table and class names, vectorises the final levels
(:mod:`zoning.derive.vectorize`) into a GeoPackage with provenance, and writes the
report's tables as CSV. Everything is written into a temporary folder beside ``out``
and renamed into place at the end: a failed run leaves nothing half-written.

A window computes exactly what the whole grid computes there: the steps are per-cell
except the source-load spread, which works in global cell coordinates.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio import features
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from zoning.core.errors import CRSMismatchError, InputFileError, ValidationError, ZoningError
from zoning.core.manifest import file_sha256
from zoning.derive import steps
from zoning.derive.classes import CLASS_MAPS, INDEX_MAPS, PALETTES, TITLES, rgba
from zoning.derive.config import Config, load_config
from zoning.derive.grid import Grid, tiff_profile

__all__ = ["CLASS_MAPS", "INDEX_MAPS", "PALETTES", "TITLES", "DeriveResult", "Grid", "Prepare", "derive"]

# ---------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------


def _pyproj(crs) -> CRS:
    return CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") else crs)


def _check_crs(name: str, path: Path, file_crs, cfg: Config) -> CRS:
    declared = cfg.input_crs.get(name)
    if file_crs is None:
        if declared is None:
            raise CRSMismatchError(
                f'{path}: {name} has no CRS; declare it in the config as [inputs.crs] {name} = "EPSG:..."'
            )
        return CRS.from_user_input(declared)
    fc = _pyproj(file_crs)
    if declared is not None:
        dc = CRS.from_user_input(declared)
        if not fc.equals(dc, ignore_axis_order=True):
            raise CRSMismatchError(
                f"{path}: {name} declares CRS {fc.to_string()} but the config says {dc.to_string()} "
                f"([inputs.crs] {name}); fix the file or the config"
            )
    return fc


def _check_bounds(name: str, path: Path, crs: CRS, bounds, grid_bounds, grid_crs: CRS) -> None:
    from rasterio.warp import transform_bounds

    if crs.is_geographic and (
        abs(bounds[0]) > 180 or abs(bounds[2]) > 180 or abs(bounds[1]) > 90 or abs(bounds[3]) > 90
    ):
        raise CRSMismatchError(
            f"{path}: {name} is labelled {crs.to_string()} (degrees) but its coordinates {tuple(round(b) for b in bounds)} "
            "look like projected metres; declare the right CRS"
        )
    try:
        b = transform_bounds(crs, grid_crs, *bounds, densify_pts=21)
    except Exception as e:
        raise CRSMismatchError(f"{path}: {name} bounds cannot be transformed from {crs.to_string()}: {e}") from e
    gx0, gy0, gx1, gy1 = grid_bounds
    if not (b[0] < gx1 and b[2] > gx0 and b[1] < gy1 and b[3] > gy0):
        raise InputFileError(
            f"{path}: {name} does not overlap the assessment extent (its bounds in {grid_crs.to_string()}: "
            f"{tuple(round(v) for v in b)}; extent {tuple(round(v) for v in grid_bounds)}); check its CRS"
        )


class RasterInput:
    """A raster input read window by window on the grid."""

    def __init__(
        self, name: str, path: Path, cfg: Config, grid: Grid, kind: str, resampling: Resampling = Resampling.nearest
    ):
        self.name, self.path, self.kind = name, Path(path), kind
        if not self.path.exists():
            raise InputFileError(f"{self.path}: {name} raster not found")
        try:
            self.src = rasterio.open(self.path)
        except rasterio.errors.RasterioIOError as e:
            raise InputFileError(f"{self.path}: {name} is not a readable raster: {e}") from e
        crs = _check_crs(name, self.path, self.src.crs, cfg)
        _check_bounds(name, self.path, crs, self.src.bounds, _grid_bounds(grid), grid.crs)
        self.dtype = np.uint8 if kind == "class" else np.float32
        self.fill = steps.NODATA if kind == "class" else steps.FNODATA
        self.grid = grid
        self.valid_cells = 0
        st = self.src.transform
        aligned = (
            self.src.crs is not None
            and crs.equals(grid.crs, ignore_axis_order=True)
            and np.isclose(st.a, grid.res)
            and np.isclose(st.e, -grid.res)
            and st.b == 0
            and st.d == 0
            and np.isclose(((st.c - grid.transform.c) / grid.res) % 1, 0, atol=1e-6)
            and np.isclose(((grid.transform.f - st.f) / grid.res) % 1, 0, atol=1e-6)
        )
        if aligned:
            self.col0 = int(round((grid.transform.c - st.c) / grid.res))
            self.row0 = int(round((st.f - grid.transform.f) / grid.res))
            self.reader = self.src
        else:
            self.col0 = self.row0 = 0
            kw = dict(
                crs=grid.crs.to_wkt(),
                transform=grid.transform,
                width=grid.width,
                height=grid.height,
                resampling=resampling,
            )
            if self.src.crs is None:
                kw["src_crs"] = crs.to_wkt()
            self.reader = WarpedVRT(self.src, **kw)
        self.aligned = aligned

    def read(self, row_off: int, h: int, valid: np.ndarray | None = None, allowed: tuple | None = None) -> np.ndarray:
        """The window's rows on the grid; class maps as uint8 (NODATA where masked), else float32."""
        win = Window(self.col0, self.row0 + row_off, self.grid.width, h)
        a = self.reader.read(1, window=win, boundless=self.aligned, masked=True)
        mask = np.ma.getmaskarray(a)
        raw = np.asarray(a.data)
        if self.kind == "class":
            if allowed is not None:
                chk = ~mask if valid is None else (~mask & valid)
                vals = np.unique(raw[chk])
                bad = [v.item() for v in vals if v not in allowed]
                if bad:
                    nd = self.src.nodata
                    raise ValidationError(
                        f"{self.path}: {self.name} has unknown class codes {bad[:10]} inside the extent "
                        f"(allowed {list(allowed)}, nodata {nd if nd is not None else 'not set'})"
                    )
            if raw.dtype == np.uint8:
                out = raw.copy()
            else:
                ok = (raw >= 0) & (raw <= 254)
                out = np.where(ok, raw, steps.NODATA).astype(np.uint8)
            out[mask] = steps.NODATA
        else:
            out = raw.astype(np.float32)
            out[mask] = steps.FNODATA
        return out

    def close(self):
        if self.reader is not self.src:
            self.reader.close()
        self.src.close()


def _grid_bounds(grid: Grid):
    t = grid.transform
    return (t.c, t.f + grid.height * t.e, t.c + grid.width * t.a, t.f)


def read_vector(name: str, path: Path, cfg: Config, grid_crs: CRS | None = None) -> gpd.GeoDataFrame:
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: {name} file not found")
    try:
        gdf = gpd.read_file(path)
    except Exception as e:
        raise InputFileError(f"{path}: {name} is not a readable vector file: {e}") from e
    if len(gdf) == 0:
        raise InputFileError(f"{path}: {name} has no features")
    crs = _check_crs(name, path, gdf.crs, cfg)
    gdf = gdf.set_crs(crs, allow_override=True)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if crs.is_geographic:
        b = gdf.total_bounds
        if abs(b[0]) > 180 or abs(b[2]) > 180 or abs(b[1]) > 90 or abs(b[3]) > 90:
            raise CRSMismatchError(
                f"{path}: {name} is labelled {crs.to_string()} (degrees) but its "
                f"coordinates look like projected metres; declare the right CRS"
            )
    return gdf.to_crs(grid_crs) if grid_crs is not None else gdf


# ---------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------


@dataclass
class DeriveResult:
    out: Path
    class_areas: pd.DataFrame
    zone_table: pd.DataFrame
    zones: gpd.GeoDataFrame
    provenance: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def report(self) -> str:
        ca = self.class_areas.copy()
        lines = [
            f"groundwater key-zone derivation ({self.provenance['label']}) -> {self.out}",
            "",
            "area per class of every map (km²):",
        ]
        lines.append(ca.to_string(index=False))
        lines += ["", "zones per level and county:", self.zone_table.to_string(index=False)]
        if self.warnings:
            lines += ["", "warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------
# derive
# ---------------------------------------------------------------------------------


def _open_out(path: Path, grid: Grid, dtype, nodata, name: str, threads: bool = True):
    prof = tiff_profile(grid, dtype, nodata) | {"bigtiff": "if_safer"}
    if threads:
        prof["num_threads"] = "all_cpus"
    dst = rasterio.open(path, "w", **prof)
    if name in CLASS_MAPS:  # the colour table must precede the first tile written
        dst.write_colormap(1, {k: rgba(v) for k, v in PALETTES[name].items()} | {steps.NODATA: (0, 0, 0, 0)})
    return dst


def _finish_out(dst, name: str, label: str) -> None:
    names = CLASS_MAPS.get(name)
    if names is not None:
        dst.update_tags(
            1,
            class_names=json.dumps({str(k): v for k, v in names.items()}, ensure_ascii=False),
            **{f"CLASS_{k}": v for k, v in names.items()},
        )
    dst.set_band_description(1, TITLES.get(name, name))
    dst.update_tags(
        title=TITLES.get(name, name), accuracy=label, method="晋市环发〔2023〕123号 derivation (zoning.derive)"
    )


#: Writes a run's inputs into the folder it is given (inside the run's output, so they are
#: renamed into place with it) and returns the config to run with plus a record for the
#: provenance: ``prepare(cfg, folder) -> (cfg, record)``. The demonstration generator
#: (:func:`zoning.demo.prepare_inputs`) is one.
Prepare = Callable[[Config, Path], tuple[Config, dict[str, Any] | None]]


def derive(
    config: str | Path | Config,
    out: str | Path | None = None,
    *,
    overwrite: bool = False,
    html_map: bool = False,
    vectorize_zones: bool = True,
    quiet: bool = True,
    prepare: Prepare | None = None,
) -> DeriveResult:
    """Run the derivation; outputs go to ``out`` (default ``<config dir>/out``).

    ``prepare`` writes the inputs first (into ``OUT/demo_inputs``); a config that asks for
    generated demonstration inputs (``[demo] generate = true``) needs one: ``zoning derive``
    passes it, from Python use :func:`zoning.demo.derive_demo`.

    Raises :class:`zoning.core.errors.ZoningError` subclasses for bad input, naming the file.
    """
    t_start = time.perf_counter()
    cfg = config if isinstance(config, Config) else load_config(config)
    if prepare is None and cfg.demo and cfg.demo.get("generate"):
        where = cfg.path or "the config"
        raise ZoningError(
            f"{where}: [demo] generate = true asks for generated demonstration inputs; run it with "
            "`zoning derive`, or from Python zoning.demo.derive_demo(config, out)"
        )
    out = Path(out) if out is not None else cfg.base / "out"
    previous = _previous_run(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        res = _derive_into(cfg, tmp, html_map=html_map, vectorize_zones=vectorize_zones, prepare=prepare)
        _move_into_place(tmp, out, previous)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    res.out = out
    res.timings["total_s"] = time.perf_counter() - t_start
    if not quiet:
        print(res.report())
    return res


#: The list of what a run wrote into its output folder: ``--overwrite`` removes only these.
MARKER = ".zoning-derive.json"


def _previous_run(out: Path, overwrite: bool) -> dict[str, Any] | None:
    """What an earlier run wrote into ``out`` (its marker), checked before any work.

    An empty or missing folder needs nothing. A non-empty one needs ``overwrite`` and the
    marker of an earlier ``zoning derive``: a folder this command did not fill is never emptied.
    """
    if out.exists() and not out.is_dir():
        raise ZoningError(f"{out}: is a file, not an output folder")
    if not out.exists() or not any(out.iterdir()):
        return None
    marker = out / MARKER
    if not overwrite:
        raise ZoningError(f"{out}: output folder exists and is not empty (use --overwrite)")
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        written = info["written"]
        if not isinstance(written, list) or not all(isinstance(w, str) for w in written):
            raise ValueError("written is not a list of names")
    except (OSError, ValueError, KeyError, TypeError):
        raise ZoningError(
            f"{out}: not written by `zoning derive` (no valid {MARKER}); --overwrite replaces only a folder it "
            "wrote: choose another --out or empty it yourself"
        ) from None
    for name in written:  # names of the folder's own entries, never paths out of it
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise ZoningError(f"{marker}: entry {name!r} is not a name inside {out}; refusing to overwrite")
    return info


def _move_into_place(tmp: Path, out: Path, previous: dict[str, Any] | None) -> None:
    """Move the new run's files from ``tmp`` into ``out``: a new folder is renamed into place
    whole; in an existing one, only what the previous run listed is removed, the user's
    other files stay, and the marker lists what this run wrote."""
    written = sorted(p.name for p in tmp.iterdir())
    if not out.exists():
        (tmp / MARKER).write_text(json.dumps({"written": written, "created_folder": True}, indent=1), encoding="utf-8")
        tmp.rename(out)
        return
    ours = set(previous["written"]) if previous else set()
    clash = [n for n in written if (out / n).exists() and n not in ours and n != MARKER]
    if clash:
        raise ZoningError(
            f"{out}: {', '.join(clash)} exist(s) and was not written by `zoning derive`; refusing to replace "
            "it: choose another --out"
        )
    for name in sorted(ours):
        target = out / name
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
    for name in written:
        os.replace(tmp / name, out / name)
    created = bool(previous and previous.get("created_folder"))
    (out / MARKER).write_text(json.dumps({"written": written, "created_folder": created}, indent=1), encoding="utf-8")
    tmp.rmdir()


def _derive_into(
    cfg: Config, tmp: Path, *, html_map: bool, vectorize_zones: bool, prepare: Prepare | None = None
) -> DeriveResult:
    """The 晋市环发〔2023〕123号 delineation written into ``tmp``, one call per step:

    the grid over the assessment extent; the inputs of every step of the method; the method's
    steps on the grid, window by window, into the maps (function value, DRASTIC vulnerability,
    COP, source load, protection, the decision rules' control class, the final levels); the
    inputs' coverage checked; the zones; the tables; the provenance; the files that record them.
    """
    from zoning.derive import vectorize

    timings: dict[str, float] = {}
    warn: list[str] = []
    t0 = time.perf_counter()
    demo_info = None
    if prepare is not None:
        cfg, demo_info = prepare(cfg, tmp / "demo_inputs")
        timings["demo_generate_s"] = time.perf_counter() - t0
    grid, ext_geoms = _grid_and_extent(cfg)
    wr = max(1, int(cfg.window_rows))  # multiples of 256 align with the output tiles

    with _open_inputs(cfg, grid, warn) as inputs:
        timings["open_inputs_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        tally = _derive_maps(cfg, grid, ext_geoms, wr, inputs, tmp, vectorize_zones)
        timings["raster_s"] = time.perf_counter() - t1
    _check_coverage(cfg, grid, inputs.rasters, tally, warn)

    t2 = time.perf_counter()
    zones = _zones(cfg, grid, inputs, tally.records, vectorize_zones)
    timings["vectorize_s"] = time.perf_counter() - t2

    class_areas = _class_area_table(tally.counts, grid, cfg)
    zone_table = vectorize.zone_table(zones)
    provenance = _provenance(cfg, grid, wr, inputs, tally.extent_cells, warn, demo_info)
    _write_records(tmp, provenance, class_areas, zone_table, zones)
    if html_map:
        from zoning.derive import maps

        maps.write_map(tmp, tmp / "map.html", zones, label=cfg.label)
    timings["total_into_s"] = time.perf_counter() - t0
    return DeriveResult(
        out=tmp,
        class_areas=class_areas,
        zone_table=zone_table,
        zones=zones,
        provenance=provenance,
        warnings=warn,
        timings=timings,
    )


def _grid_and_extent(cfg: Config) -> tuple[Grid, list]:
    """The assessment extent (评价范围, polygons) and the one grid every layer is put on: the
    config's CRS and resolution over the extent's bounds."""
    extent = read_vector("extent", cfg.extent, cfg, cfg.crs)
    if not extent.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise ValidationError(f"{cfg.extent}: extent must hold polygons")
    grid = Grid.from_bounds(cfg.crs, extent.total_bounds, cfg.resolution)
    return grid, list(extent.geometry)


# ---------------------------------------------------------------------------------
# derive: the inputs of every step
# ---------------------------------------------------------------------------------


@dataclass
class _Inputs:
    """A run's inputs, checked and on the grid: the raster readers the windows read, the vector
    layers they rasterise or spread, the administrative units the zones are counted by, and the
    files used (for the provenance). A context manager: leaving it closes the raster readers."""

    used: dict[str, Path]
    rasters: dict[str, RasterInput]
    prot_shapes: list[tuple[Any, int]]
    key_shapes: list[tuple[Any, int]]
    sources: tuple[np.ndarray, ...]
    n_sources: dict[str, int]
    counties: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame | None

    def __enter__(self) -> _Inputs:
        return self

    def __exit__(self, *exc: object) -> None:
        for r in self.rasters.values():
            r.close()


def _open_inputs(cfg: Config, grid: Grid, warn: list[str]) -> _Inputs:
    """Every input of the method read and checked, in this order (the first bad one is reported):
    the rasters, the protection zones, the key units, the pollution sources, the counties and towns.
    If one fails, the rasters already opened are closed."""
    used: dict[str, Path] = {"extent": cfg.extent}
    rasters: dict[str, RasterInput] = {}
    try:
        _open_rasters(cfg, grid, rasters, used)
        prot_shapes = _protection_shapes(cfg, used)
        key_shapes = _key_unit_shapes(cfg, used, warn)
        if "load_index" in cfg.inputs:  # the load comes as a raster, opened with the others
            sources: tuple[np.ndarray, ...] = (np.zeros(0),) * 5
            n_sources: dict[str, int] = {}
        else:
            sources, n_sources = _source_points(cfg, grid, used, warn)
        counties = _counties(cfg, used)
        towns = _towns(cfg, used)
    except BaseException:
        for r in rasters.values():
            r.close()
        raise
    return _Inputs(used, rasters, prot_shapes, key_shapes, sources, n_sources, counties, towns)


def _open_rasters(cfg: Config, grid: Grid, rasters: dict[str, RasterInput], used: dict[str, Path]) -> None:
    """The raster inputs, opened into ``rasters`` (and recorded in ``used``) in the method's order:
    function value (富水性, 水质), shallow vulnerability (the seven DRASTIC ratings, or the index),
    deep karst vulnerability (COP's C, O, P, or the index), and the source load when it is given as
    an index. Class maps are resampled nearest, continuous values bilinear."""
    inp, c = cfg.inputs, cfg.classes

    def ras(name, path, kind, resampling=Resampling.nearest):
        rasters[name] = RasterInput(name, path, cfg, grid, kind, resampling)
        used[name] = Path(path)

    ras("abundance", inp["abundance"], "class")
    ras("quality", inp["quality"], "class")
    if "drastic_index" in inp:
        ras("drastic_index", inp["drastic_index"], "float", Resampling.bilinear)
    else:
        for f in steps.DRASTIC_FACTORS:
            raw = f in c["drastic_raw"]
            ras(
                f"drastic_{f}",
                inp["drastic"][f],
                "float" if raw else "class",
                Resampling.bilinear if raw else Resampling.nearest,
            )
    if "cop_index" in inp:
        ras("cop_index", inp["cop_index"], "float", Resampling.bilinear)
    else:
        for f in ("C", "O", "P"):
            ras(f"cop_{f}", inp["cop"][f], "float", Resampling.bilinear)
    if "load_index" in inp:
        ras("load_index", inp["load_index"], "float", Resampling.bilinear)


def _protection_shapes(cfg: Config, used: dict[str, Path]) -> list[tuple[Any, int]]:
    """The protection class (保护类区域): drinking-water source 一级/二级/准保护区 and 泉域 polygons
    as codes 4..1, ordered so that the strictest is burnt last and wins where they overlap."""
    inp, pf = cfg.inputs, cfg.classes["protection_field"]
    protection = read_vector("protection", inp["protection"], cfg, cfg.crs)
    used["protection"] = Path(inp["protection"])
    if pf not in protection.columns:
        raise ValidationError(f"{inp['protection']}: protection layer lacks the class column {pf!r}")
    codes = protection[pf].map(
        lambda v: steps.PROTECTION_CLASS_CODES.get(
            str(v).strip(), int(v) if str(v).strip().isdigit() and 1 <= int(v) <= 4 else None
        )
    )
    if codes.isna().any():
        bad = sorted(set(protection.loc[codes.isna(), pf].astype(str)))
        raise ValidationError(
            f"{inp['protection']}: unknown protection class {bad}; use "
            f"{list(steps.PROTECTION_CLASS_CODES)} or codes 1..4"
        )
    protection = protection.assign(_code=codes.astype(int)).sort_values("_code", kind="stable")
    return [(g, int(k)) for g, k in zip(protection.geometry, protection["_code"])]


def _key_unit_shapes(cfg: Config, used: dict[str, Path], warn: list[str]) -> list[tuple[Any, int]]:
    """The decision rules' upgrade layer: 三线一单 重点管控单元, which lift shallow control cells
    to 一级管控区; without it the upgrade is not applied (a warning)."""
    if "key_units" not in cfg.inputs:
        warn.append("no key_units (三线一单 重点管控单元) layer: the upgrade rule is not applied")
        return []
    ku = read_vector("key_units", cfg.inputs["key_units"], cfg, cfg.crs)
    used["key_units"] = Path(cfg.inputs["key_units"])
    return [(g, 1) for g in ku.geometry]


def _source_points(
    cfg: Config, grid: Grid, used: dict[str, Path], warn: list[str]
) -> tuple[tuple[np.ndarray, ...], dict[str, int]]:
    """Pollution-source load (污染源荷载) from source points: each point's load, grid position,
    radius and decay (spread per window by :func:`zoning.derive.steps.spread_load`), and the
    number of sources per type."""
    src = read_vector("sources", cfg.inputs["sources"], cfg, cfg.crs)
    used["sources"] = Path(cfg.inputs["sources"])
    rows, cols, vals, rad, dec, n_sources = _prepare_sources(
        src, Path(cfg.inputs["sources"]), cfg.classes["source_types"], grid, warn
    )
    return (rows, cols, vals, rad, dec), n_sources


def _towns(cfg: Config, used: dict[str, Path]) -> gpd.GeoDataFrame | None:
    """The towns the zones are attributed to, when the config names a layer."""
    if "towns" not in cfg.inputs:
        return None
    towns = read_vector("towns", cfg.inputs["towns"], cfg, cfg.crs)
    used["towns"] = Path(cfg.inputs["towns"])
    return towns


# ---------------------------------------------------------------------------------
# derive: the maps, window by window
# ---------------------------------------------------------------------------------

#: The maps a run writes, one GeoTIFF each, in the order of the method's steps.
_MAPS = (
    "abundance",
    "quality",
    "quality_grade",
    "function_value",
    "drastic_index",
    "vulnerability",
    "cop_index",
    "cop_class",
    "load_index",
    "load_class",
    "protection",
    "control",
    "levels",
)


@dataclass
class _Tally:
    """What the windows add up, for the tables, the zones and the checks after the maps."""

    #: cells per class code of every class map, inside the extent
    counts: dict[str, dict[int, int]]
    #: cells with data of every raster input, inside the extent
    valid_in: dict[str, int]
    #: the final levels' shapes of every window, for the zones
    records: list = field(default_factory=list)
    extent_cells: int = 0
    #: cells inside the extent without function value or vulnerability
    missing_cells: int = 0

    def add(self, res: dict[str, np.ndarray], valid: np.ndarray) -> None:
        """Add one window's maps (``res``) inside the extent (``valid``)."""
        self.extent_cells += int(valid.sum())
        self.missing_cells += int(
            (valid & ((res["function_value"] == steps.NODATA) | (res["vulnerability"] == steps.NODATA))).sum()
        )
        for n, cnt in self.counts.items():
            for code, cells in steps.class_counts(res[n][valid]).items():
                cnt[code] = cnt.get(code, 0) + cells


def _derive_maps(
    cfg: Config, grid: Grid, ext_geoms: list, wr: int, inputs: _Inputs, tmp: Path, vectorize_zones: bool
) -> _Tally:
    """The method's steps on the grid, ``wr`` rows at a time: each window's inputs read, every
    step computed (:func:`compute_window`: function value, DRASTIC, COP, source load, protection,
    the decision rules' control class, the final levels) and written into the maps' GeoTIFFs."""

    dsts = _open_maps(tmp, grid)
    try:
        tally = _map_windows(cfg, grid, ext_geoms, wr, inputs, dsts, vectorize_zones)
    except BaseException:  # the maps closed before the run's folder is removed (Windows cannot remove open files)
        for d in dsts.values():
            d.close()
        raise
    for n, d in dsts.items():
        _finish_out(d, n, cfg.label)
        d.close()
    return tally


def _map_windows(cfg: Config, grid: Grid, ext_geoms: list, wr: int, inputs: _Inputs, dsts: dict[str, Any],
                 vectorize_zones: bool) -> _Tally:
    """Every window of the grid through the method's steps, written into ``dsts``."""
    from zoning.derive import vectorize

    tally = _Tally(counts={n: {} for n in _MAPS if n not in INDEX_MAPS}, valid_in={k: 0 for k in inputs.rasters})
    allowed = _allowed_codes(cfg.classes)
    for row_off, h in grid.windows(wr):
        wt = grid.window_transform(row_off)
        valid = features.rasterize(
            ext_geoms, out_shape=(h, grid.width), transform=wt, fill=0, default_value=1, dtype="uint8"
        ).astype(bool)
        arrs = _read_window(inputs.rasters, row_off, h, valid, allowed, tally.valid_in)
        res = compute_window(
            arrs, valid, cfg.classes, grid, row_off, inputs.prot_shapes, inputs.key_shapes, inputs.sources, wt
        )
        win = Window(0, row_off, grid.width, h)
        for n in _MAPS:
            dsts[n].write(res[n], 1, window=win)
        tally.add(res, valid)
        if vectorize_zones:
            tally.records.extend(vectorize.window_shapes(res["levels"], wt))
    return tally


def _open_maps(tmp: Path, grid: Grid) -> dict[str, Any]:
    """The maps' GeoTIFFs opened for writing: index maps float32, class maps uint8 with their
    colour table."""
    dsts: dict[str, Any] = {}
    try:
        for n in _MAPS:
            fl = n in INDEX_MAPS
            dsts[n] = _open_out(
                tmp / f"{n}.tif", grid, "float32" if fl else "uint8", steps.FNODATA if fl else steps.NODATA, n
            )
    except BaseException:  # those opened before the one that failed are closed
        for d in dsts.values():
            d.close()
        raise
    return dsts


def _allowed_codes(c: dict) -> dict[str, tuple[int, ...]]:
    """The codes each class raster input may hold: 富水性 1–3, 水质 I–V, DRASTIC ratings 1–10
    (a factor given raw, in its units, is rated by range instead)."""
    allowed: dict[str, tuple[int, ...]] = {"abundance": (1, 2, 3), "quality": (1, 2, 3, 4, 5)}
    for f in steps.DRASTIC_FACTORS:
        if f not in c["drastic_raw"]:
            allowed[f"drastic_{f}"] = tuple(range(1, 11))
    return allowed


def _read_window(
    rasters: dict[str, RasterInput],
    row_off: int,
    h: int,
    valid: np.ndarray,
    allowed: dict[str, tuple[int, ...]],
    valid_in: dict[str, int],
) -> dict[str, np.ndarray]:
    """One window of every raster input on the grid, class codes checked; adds each input's cells
    with data inside the extent to ``valid_in``."""
    arrs = {}
    for k, r in rasters.items():
        a = r.read(row_off, h, valid, allowed.get(k))
        nd = steps.NODATA if r.kind == "class" else steps.FNODATA
        valid_in[k] += int(((a != nd) & valid).sum())
        arrs[k] = a
    return arrs


def _check_coverage(cfg: Config, grid: Grid, rasters: dict[str, RasterInput], tally: _Tally, warn: list[str]) -> None:
    """The inputs' coverage of the extent, once every window is read: an extent over no cell, or a
    raster input without data inside it, is an error; a raster input with nodata on more than 1 %
    of the extent (COP and load index aside), and cells lacking function value or vulnerability,
    are warnings."""
    if tally.extent_cells == 0:
        raise InputFileError(f"{cfg.extent}: the extent covers no cell of the grid")
    empty = [k for k, v in tally.valid_in.items() if v == 0]
    if empty:
        k = empty[0]
        raise InputFileError(f"{rasters[k].path}: {k} has no data (nodata everywhere) inside the assessment extent")
    for k, v in tally.valid_in.items():
        share = 1 - v / tally.extent_cells
        if share > 0.01 and not k.startswith("cop") and k != "load_index":
            warn.append(f"{rasters[k].path.name}: {k} has nodata on {share:.1%} of the extent")
    missing_cells = tally.missing_cells
    if missing_cells:
        warn.append(
            f"{missing_cells} cells ({missing_cells * grid.cell_km2:.2f} km²) inside the extent lack "
            "function value or vulnerability; they count as 一般区 unless protected"
        )


# ---------------------------------------------------------------------------------
# derive: zones, provenance and the files that record them
# ---------------------------------------------------------------------------------


def _zones(cfg: Config, grid: Grid, inputs: _Inputs, records: list, vectorize_zones: bool) -> gpd.GeoDataFrame:
    """The zones: the final levels' window shapes merged into polygons of at least the minimum
    area, each attributed to its county (and town); empty when not vectorised."""
    from zoning.derive import vectorize

    if vectorize_zones:
        zones = vectorize.build_zones(
            records,
            grid.crs,
            float(cfg.zones["min_area_m2"]),
            inputs.counties,
            inputs.towns,
            cfg.zones.get("town_field", "name"),
        )
    else:
        zones = gpd.GeoDataFrame({"level": [], "class": [], "county": [], "area_km2": []}, geometry=[], crs=grid.crs)
    zones["accuracy"] = cfg.label
    return zones


def _provenance(
    cfg: Config,
    grid: Grid,
    wr: int,
    inputs: _Inputs,
    extent_cells: int,
    warn: list[str],
    demo_info: dict[str, Any] | None,
) -> dict[str, Any]:
    """The run's provenance: method, label, run date, config and its switches, classes, grid,
    every input file with its hash, the pack, tool version, sources per type, warnings."""
    from zoning.core.provenance import tool_version

    used = inputs.used
    return {
        "method": "晋市环发〔2023〕123号 groundwater key-zone derivation (zoning.derive)",
        "label": cfg.label,
        "run_date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "config": str(cfg.path) if cfg.path else None,
        "config_sha256": cfg.text_hash,
        "switches": cfg.switches(),
        "classes": {k: v for k, v in cfg.classes.items()},
        "grid": {
            "crs": grid.crs.to_string(),
            "resolution_m": grid.res,
            "width": grid.width,
            "height": grid.height,
            "transform": list(grid.transform)[:6],
            "extent_cells": extent_cells,
            "extent_km2": extent_cells * grid.cell_km2,
            "window_rows": wr,
        },
        "inputs": {
            k: {"path": str(p), "sha256": file_sha256(p) if p.is_file() else None}
            for k, p in used.items()
            if k != "pack"
        },
        "pack": used.get("pack"),
        "tool_version": tool_version(),
        "sources_per_type": inputs.n_sources,
        "min_area_m2": float(cfg.zones["min_area_m2"]),
        "warnings": warn,
        "demo": demo_info,
    }


def _write_records(
    tmp: Path,
    provenance: dict[str, Any],
    class_areas: pd.DataFrame,
    zone_table: pd.DataFrame,
    zones: gpd.GeoDataFrame,
) -> None:
    """The outputs beside the maps: ``provenance.json``, the report's tables as CSV (UTF-8 with
    a BOM, for Excel) and ``zones.gpkg`` (the zones, and the provenance as a table)."""
    (tmp / "provenance.json").write_text(
        json.dumps(provenance, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    class_areas.to_csv(tmp / "class_areas.csv", index=False, encoding="utf-8-sig")
    zone_table.to_csv(tmp / "zones_by_level_county.csv", index=False, encoding="utf-8-sig")
    gpkg = tmp / "zones.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zones.to_file(gpkg, layer="zones", driver="GPKG")
        prov_rows = pd.DataFrame(
            {
                "key": list(provenance),
                "value": [json.dumps(v, ensure_ascii=False, default=str) for v in provenance.values()],
            }
        )
        import pyogrio

        pyogrio.write_dataframe(prov_rows, gpkg, layer="provenance", driver="GPKG", append=False)


def _counties(cfg: Config, used: dict) -> gpd.GeoDataFrame:
    """The counties the zones are attributed to: the config's layer, or the default pack's county
    lines (the pack then recorded in the provenance)."""
    if "counties" in cfg.inputs:
        g = read_vector("counties", cfg.inputs["counties"], cfg, cfg.crs)
        used["counties"] = Path(cfg.inputs["counties"])
    else:
        from zoning.core.provenance import provenance
        from zoning.derive.counties import county_pack, pack_counties

        pack = county_pack()  # opened once, for its county lines and its provenance
        g = pack_counties(pack).to_crs(cfg.crs)
        # the pack the county lines come from, as every output records a pack
        used["pack"] = provenance(pack)
    for col in ("name", "adcode"):
        if col not in g.columns:
            raise ValidationError(f"counties layer lacks column {col!r}")
    return g[["adcode", "name", "geometry"]]


SOURCE_FIELDS = ("type", "toxicity", "release", "quantity")


def _prepare_sources(src: gpd.GeoDataFrame, path: Path, types: dict, grid: Grid, warn: list[str]):
    miss = [f for f in SOURCE_FIELDS if f not in src.columns]
    if miss:
        raise ValidationError(f"{path}: sources lack the fields {miss} (need {list(SOURCE_FIELDS)})")
    if not src.geom_type.eq("Point").all():
        raise ValidationError(f"{path}: sources must be points; found {sorted(set(src.geom_type) - {'Point'})}")
    t = src["type"]
    bad = t.isna() | (t.astype(str).str.strip() == "")
    if bad.any():
        rows = [int(i) for i in np.flatnonzero(bad.values)[:10]]
        raise ValidationError(f"{path}: {int(bad.sum())} source point(s) with a missing type (rows {rows})")
    unknown = sorted(set(t.astype(str)) - set(types))
    if unknown:
        raise ValidationError(f"{path}: unknown source type(s) {unknown}; configured: {sorted(types)}")
    for f in ("toxicity", "release", "quantity"):
        v = pd.to_numeric(src[f], errors="coerce")
        if v.isna().any() or (v < 0).any():
            rows = [int(i) for i in np.flatnonzero((v.isna() | (v < 0)).values)[:10]]
            raise ValidationError(f"{path}: field {f} missing, not numeric or negative in rows {rows}")
    w = t.map(lambda k: types[k]["weight"]).values.astype(float)
    vals = steps.source_load(
        src["toxicity"].astype(float).values,
        src["release"].astype(float).values,
        src["quantity"].astype(float).values,
        w,
    )
    x = src.geometry.x.values
    y = src.geometry.y.values
    tr = grid.transform
    cols = (x - tr.c) / tr.a
    rows = (y - tr.f) / tr.e
    rad = t.map(lambda k: types[k]["radius_m"]).values.astype(float) / grid.res
    dec = t.map(lambda k: types[k].get("decay", "linear")).values
    outside = (cols < 0) | (cols > grid.width) | (rows < 0) | (rows > grid.height)
    if outside.any():
        warn.append(
            f"{path.name}: {int(outside.sum())} source point(s) outside the grid (their load reaches "
            "the grid only within their radius)"
        )
    n_by_type = {k: int(v) for k, v in t.value_counts().items()}
    return rows, cols, vals, rad, dec, n_by_type


def compute_window(
    arrs: dict[str, np.ndarray],
    valid: np.ndarray,
    c: dict,
    grid: Grid,
    row_off: int,
    prot_shapes,
    key_shapes,
    sources,
    wt: Affine,
) -> dict[str, np.ndarray]:
    """All steps on one window (arrays already on the grid)."""
    shape = valid.shape
    inv = ~valid
    res: dict[str, np.ndarray] = {}
    ab = arrs["abundance"].copy()
    q = arrs["quality"].copy()
    ab[inv] = steps.NODATA
    q[inv] = steps.NODATA
    res["abundance"] = ab
    res["quality"] = q
    grades = {int(k): int(v) for k, v in c["quality_grades"].items()}
    res["quality_grade"] = steps.quality_grade(q, grades)
    res["function_value"] = steps.function_value(ab, res["quality_grade"], c["function_value_matrix"])
    if "drastic_index" in arrs:
        di = arrs["drastic_index"].copy()
    else:
        ratings = {}
        for f in steps.DRASTIC_FACTORS:
            a = arrs[f"drastic_{f}"]
            if f in c["drastic_raw"]:
                b, r = steps.DRASTIC_RANGE_TABLES[f]
                a = steps.rate_by_ranges(a, b, r, valid=a != steps.FNODATA)
            ratings[f] = a
        di = steps.drastic_index(ratings, c["drastic_weights"])
    di[inv] = steps.FNODATA
    res["drastic_index"] = di
    res["vulnerability"] = steps.vulnerability(di, c["drastic_breaks"])
    if "cop_index" in arrs:
        ci = arrs["cop_index"].copy()
    else:
        ci = steps.cop_index(arrs["cop_C"], arrs["cop_O"], arrs["cop_P"])
    ci[inv] = steps.FNODATA
    res["cop_index"] = ci
    cc = steps.cop_class(ci, c["cop_breaks"])
    cc[inv] = steps.NODATA
    res["cop_class"] = cc
    if "load_index" in arrs:
        li = arrs["load_index"].astype(np.float64)
        li[li == steps.FNODATA] = 0.0
    else:
        r, cl, v, rad, dec = sources
        li = steps.spread_load(shape, r, cl, v, rad, dec, row_off=row_off)
    res["load_class"] = steps.load_class(li, c["load_breaks"], valid=valid)
    li = li.astype(np.float32)
    li[inv] = steps.FNODATA
    res["load_index"] = li
    prot = (
        features.rasterize(prot_shapes, out_shape=shape, transform=wt, fill=0, dtype="uint8")
        if prot_shapes
        else np.zeros(shape, np.uint8)
    )
    key = (
        features.rasterize(key_shapes, out_shape=shape, transform=wt, fill=0, dtype="uint8").astype(bool)
        if key_shapes
        else np.zeros(shape, bool)
    )
    prot = steps.protection_class(prot)
    ctrl = steps.control_class(
        res["function_value"],
        res["vulnerability"],
        res["load_class"],
        cc,
        key,
        prot,
        cop_high_classes=[int(k) for k in c["cop_high_classes"]],
        key_unit_lifts_deep=bool(c["key_unit_lifts_deep"]),
        high_load_lifts_deep=bool(c["high_load_lifts_deep"]),
    )
    prot[inv] = steps.NODATA
    ctrl[inv] = steps.NODATA
    res["protection"] = prot
    res["control"] = ctrl
    res["levels"] = steps.final_levels(ctrl, np.where(inv, 0, prot), valid)
    return res


def _class_area_table(counts: dict[str, dict[int, int]], grid: Grid, cfg: Config) -> pd.DataFrame:
    rows = []
    for m, cnt in counts.items():
        names = CLASS_MAPS[m]
        pub = cfg.published.get(m, {})
        for code in sorted(set(cnt) | set(k for k in names if names[k] in pub)):
            name = names.get(code, f"code {code}")
            area = cnt.get(code, 0) * grid.cell_km2
            p = pub.get(name)
            rows.append(
                {
                    "map": m,
                    "title": TITLES[m],
                    "code": code,
                    "class": name,
                    "cells": cnt.get(code, 0),
                    "area_km2": round(area, 3),
                    "published_km2": p,
                    "deviation_pct": round(100 * (area - p) / p, 2) if p else None,
                }
            )
    return pd.DataFrame(rows)
