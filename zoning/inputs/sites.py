"""Read project sites from the files planners have, into one GeoDataFrame layout.

Inputs: CSV (UTF-8, UTF-8 with BOM or GBK, detected), Excel ``.xlsx`` (a title row
above the header, merged cells and Chinese headers are normal), longitude/latitude,
X/Y or WKT columns; GeoJSON, GeoPackage, shapefile (GBK without ``.cpg`` detected);
界址点坐标 text files (one or many parcels), alone or in a folder.

Every input row gives exactly one output row, in input order, whatever is wrong with it.
The layout (EPSG:4490):

``source``, ``row`` (row number in the file as a spreadsheet shows it; feature number
for a vector file; line of the parcel line for a 界址点 file), ``site_id``,
``site_name``, ``location``, ``county_declared``, ``land_use``, ``area_ha_stated``, the
project attributes of :data:`zoning.core.rules.PROJECT_ATTRIBUTES` found in the file (raw
values, validated later by :func:`zoning.check.check_sites`), ``input_crs``,
``input_problem`` (None, or the exact problem; ``geometry`` is None when the site
cannot be placed), ``input_notes``, then the file's other columns unchanged.

Public API: :func:`read_sites`, :func:`iter_sites` (chunked, bounded memory),
:func:`sites_from_frame` (a pandas table already in memory), :func:`map_site_fields`,
:data:`SITE_FIELD_ALIASES`, :func:`detect_text_encoding`.
"""

from __future__ import annotations

import codecs
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, MutableMapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from zoning.core import settings
from zoning.core.errors import CoordinateError, InputFileError
from zoning.core.fields import FIELD_ALIASES, header_key, map_fields
from zoning.core.overlay import repair_geometries
from zoning.core.rules import PROJECT_ATTRIBUTES
from zoning.inputs.vectors import VECTOR_SUFFIXES  # the one list: what read_vector_file reads

if TYPE_CHECKING:
    import geopandas as gpd

#: messages about rows, by row number in the chunk (a Python or numpy integer: they hash alike)
Messages = MutableMapping[Any, list[str]]

__all__ = [
    "DEFAULT_CHUNKSIZE",
    "SITE_FIELD_ALIASES",
    "SITE_COLUMNS",
    "detect_text_encoding",
    "known_encoding",
    "iter_sites",
    "map_site_fields",
    "site_field_target",
    "read_sites",
    "sites_from_frame",
]

DEFAULT_CHUNKSIZE = settings.DEFAULT_CHUNKSIZE

TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}

#: Target -> header spellings, compared like :func:`zoning.core.fields.map_fields` does
#: (case-insensitive, without spaces, brackets, underscores or hyphens).
SITE_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("id", "序号", "编号", "项目编号", "项目代码", "地块编号", "宗地号", "宗地编号", "fid", "no",
                "code", "项目统一代码", "objectid"),
    "site_name": ("name", "项目名称", "名称", "地块名称", "宗地名称", "项目", "project", "project_name",
                  "site_name", "xmmc"),
    "lon": ("lon", "lng", "long", "longitude", "经度", "东经", "中心点经度", "经度e", "jd"),
    "lat": ("lat", "latitude", "纬度", "北纬", "中心点纬度", "纬度n", "wd"),
    "easting": ("easting", "东坐标", "y坐标东", "e"),
    "northing": ("northing", "北坐标", "x坐标北", "n"),
    "x": ("x", "x坐标", "横坐标", "坐标x"),
    "y": ("y", "y坐标", "纵坐标", "坐标y"),
    "wkt": ("wkt", "geometry", "geom", "the_geom", "shape_wkt", "坐标串", "范围wkt", "红线范围"),
    "crs": ("crs", "srs", "epsg", "坐标系", "坐标系统"),
    "location": ("location", "address", "建设地点", "地点", "项目地点", "位置", "项目地址", "地址", "坐落",
                 "建设地址"),
    "county_declared": FIELD_ALIASES["county"],
    "land_use": ("land_use", "landuse", "用地类别", "用地性质", "土地用途", "用途", "用地类型", "规划用途",
                 "供地类别", "土地用途分类", "地类"),
    "area_mu": ("area_mu", "用地面积亩", "面积亩", "占地面积亩", "用地规模亩", "占地亩", "亩"),
    "area_ha": ("area_ha", "用地面积公顷", "面积公顷", "用地面积ha", "面积ha", "占地面积公顷", "用地规模公顷",
                "公顷"),
    "area_m2": ("area_m2", "用地面积平方米", "面积平方米", "用地面积m2", "面积m2", "面积㎡", "用地面积㎡",
                "占地面积平方米"),
    "area_unknown": ("用地面积", "面积", "占地面积", "用地规模", "area"),
    "construction": ("是否新建",),
    "discharges_pollutants": ("排污", "是否排污", "是否排放污染物", "排放污染物"),
    "industry": ("行业类别", "所属行业", "行业", "产业类别", "industry_category"),
    "key_project_level": ("重点项目级别", "项目级别", "重点工程级别", "重点项目", "级别"),
    "total_investment_wan": ("总投资", "投资额万元", "总投资额万元", "计划总投资万元", "投资万元", "总投资额"),
}
for _name, _spec in PROJECT_ATTRIBUTES.items():
    SITE_FIELD_ALIASES[_name] = tuple(dict.fromkeys((*SITE_FIELD_ALIASES.get(_name, ()), _spec.zh, *_spec.aliases)))

#: Targets that are not project attributes, in the order of the output layout.
SITE_COLUMNS: tuple[str, ...] = ("source", "row", "site_id", "site_name", "location", "county_declared",
                                 "land_use", "area_ha_stated")
def site_field_target(target: str, column: str) -> str:
    """The site target a ``--field TARGET=COLUMN`` names (a site field, a project attribute by
    name or label, or ``area``); an unknown target or an empty column is a
    :class:`~zoning.core.errors.UsageError` naming the known ones (the command line, the
    service's upload form and the reader all ask here)."""
    from zoning.core.errors import UsageError

    name = target
    if target not in SITE_FIELD_ALIASES:
        for attr, spec in PROJECT_ATTRIBUTES.items():
            if target in (spec.zh, *spec.aliases):
                name = attr
        if name not in SITE_FIELD_ALIASES:
            if target != "area":
                known = ", ".join(t for t in SITE_FIELD_ALIASES if t != "area_unknown")
                raise UsageError(f"{target}={column}: unknown target {target!r}; known: {known}")
            name = "area_unknown"
    if not column:
        raise UsageError(f"{target}=: no column named")
    return name


def map_site_fields(columns, overrides: dict[str, str] | None = None, *, source: str = "input") -> dict[str, str]:
    """Map site targets (``lon``, ``site_name``, ``construction``...) to the file's columns.

    Overrides (``--field target=COLUMN``) win and must name a column of the file; a
    target may be a project attribute's name or its Chinese label. A column is used for
    one target only.

    Raises
    ------
    InputFileError
        If an override names a column that is not in the file, or an unknown target.
    """
    from zoning.core.errors import UsageError

    overrides = dict(overrides or {})
    resolved: dict[str, str] = {}
    for target, column in overrides.items():
        try:
            resolved[site_field_target(target, column)] = column
        except UsageError as exc:
            raise InputFileError(f"{source}: --field {exc}") from None
    out = map_fields(list(columns), (), resolved, source=source)
    used = set(out.values())
    keyed: dict[str, str] = {}
    for c in columns:
        keyed.setdefault(header_key(str(c)), str(c))
    for target, aliases in SITE_FIELD_ALIASES.items():
        if target in out:
            continue
        for alias in (target, *aliases):
            col = keyed.get(header_key(alias))
            if col is not None and col not in used:
                out[target] = col
                used.add(col)
                break
    return out


def detect_text_encoding(path: str | Path) -> tuple[str, str]:
    """Encoding of a text/CSV file and why: BOM → ``utf-8-sig``; valid UTF-8 → ``utf-8``;
    else ``gb18030`` (the superset of GBK that Excel in China writes).
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", "UTF-8 byte-order mark"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", "UTF-16 byte-order mark"
        fh.seek(0)
        dec = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := fh.read(1 << 20):
                dec.decode(block)
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            fh.seek(0)
            gdec = codecs.getincrementaldecoder("gb18030")()
            try:
                while block := fh.read(1 << 20):
                    gdec.decode(block)
            except UnicodeDecodeError as exc:
                msg = f"{path}: text is neither UTF-8 nor GBK/GB18030 ({exc}); pass --encoding"
                raise InputFileError(msg) from exc
            return "gb18030", "not UTF-8; decodes as GBK/GB18030"
    return "utf-8", "valid UTF-8"


@lru_cache(maxsize=1)
def _site_header_keys() -> frozenset[str]:
    """Every site field's name and aliases as :func:`header_key` spells them."""
    return frozenset({header_key(str(a)) for aliases in SITE_FIELD_ALIASES.values() for a in aliases}
                     | {header_key(t) for t in SITE_FIELD_ALIASES})


def _header_score(cells: list[Any]) -> int:
    keys = _site_header_keys()
    score = 0
    for c in cells:
        if c is None or (isinstance(c, float) and np.isnan(c)):
            continue
        k = header_key(str(c))
        if k and k in keys:
            score += 1
    return score


def _find_header(rows: list[list[Any]]) -> int:
    best, best_score = 0, 0
    for i, cells in enumerate(rows[:20]):
        s = _header_score(cells)
        if s > best_score:
            best, best_score = i, s
    return best


# --------------------------------------------------------------------------- tables


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _cell_text(v: Any) -> str | None:
    if _is_blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _text(series: pd.Series) -> pd.Series:
    """Cell text (integral floats without ``.0``, stripped, blanks as None), vectorised
    for numeric and string columns; mixed object columns cell by cell."""
    n = len(series)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        num = series.to_numpy(dtype=float, na_value=np.nan)
        out = np.full(n, None, dtype=object)
        ok = ~np.isnan(num)
        integral = ok & (num == np.floor(num)) & (np.abs(num) < 2**62)
        out[integral] = num[integral].astype(np.int64).astype(str)
        other = np.flatnonzero(ok & ~integral)
        out[other] = [str(v) for v in series.to_numpy()[other]]
        return pd.Series(out, index=series.index, dtype=object)
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        stripped = series.str.strip()
        keep = (stripped.str.len() > 0).fillna(False).to_numpy(dtype=bool)
        out = np.full(n, None, dtype=object)
        out[keep] = stripped.to_numpy(dtype=object)[keep]
        return pd.Series(out, index=series.index, dtype=object)
    return pd.Series([_cell_text(v) for v in series.tolist()], index=series.index, dtype=object)


def _arrow_text(series: pd.Series) -> bool:
    """Text as Arrow reads it: pandas' own ``str`` (Arrow storage, NaN where missing). Other
    text dtypes (``string``, whose missing value is ``<NA>``) go through Python objects."""
    dt = series.dtype
    return isinstance(dt, pd.StringDtype) and dt.storage == "pyarrow" and dt.na_value is np.nan


def _text_column(series: pd.Series) -> Any:
    """:func:`_text` as a column of the sites frame: text read by Arrow stays Arrow (blanks
    missing), so the frame does not turn Python strings back into the Arrow they came from;
    a column with no text left is all None, as :func:`_text` gives it."""
    if _arrow_text(series):
        stripped = series.str.strip()
        filled = (stripped.str.len() > 0).fillna(False)
        if filled.any():
            return stripped.where(filled).array
    return _text(series).to_numpy()


def _numbers(series: pd.Series, label: str, problems: Messages) -> np.ndarray:
    s = series.astype(object)
    blank = s.map(_is_blank).to_numpy()
    cleaned = s.map(lambda v: v if not isinstance(v, str) else v.strip().replace(",", "").replace("，", ""))
    num = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~blank & np.isnan(num))
    for i in bad:
        problems[i].append(f"{label}: {str(s.iloc[i])!r} is not a number")
    return num


def _blank_mask(series: pd.Series) -> np.ndarray:
    """Vectorised :func:`_is_blank`."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.isna().to_numpy()
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        return (series.isna() | (series.str.strip().str.len() == 0)).fillna(True).to_numpy(dtype=bool)
    return series.astype(object).map(_is_blank).to_numpy(dtype=bool)


def _coord_values(series: pd.Series) -> tuple[list[Any] | np.ndarray, np.ndarray]:
    """Numbers where the cell is numeric, the raw text elsewhere (coords explains it); a
    column read as numbers comes back as a float array."""
    blank = _blank_mask(series)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan), blank  # parsed as numbers already
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        cells = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), pa.array(series.array).cast(pa.string()))
        try:  # a column of plain numbers (most files): Arrow reads them at once (blank cells: NaN)
            return pc.cast(cells, pa.float64()).to_numpy(zero_copy_only=False), blank
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # some cell is not a plain number: cell by cell below, so coords can explain it
    s = series.astype(object)
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    out = num.astype(object)
    nan = np.isnan(num)
    out[nan] = s.to_numpy()[nan]
    return list(out), blank


def sites_from_frame(
    df: pd.DataFrame,
    *,
    crs: str | None = None,
    order: Literal["xy", "survey"] = "xy",
    fields: dict[str, str] | None = None,
    source: str = "",
    rows: np.ndarray | list[int] | None = None,
    field_map: dict[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Turn a table (one site per row) into the site layout, one output row per input row.

    Coordinates: WKT where a WKT cell is filled, else longitude/latitude, else
    easting/northing, else X/Y (``order`` says which comes first). ``crs`` applies to
    every row unless the table has a CRS column. ``rows`` are the row numbers to report
    (default 1..n).

    Raises
    ------
    InputFileError
        If no coordinate column is found (the message lists the columns).
    UnknownCRSError
        If ``crs`` is unknown (it concerns every row).
    """
    import geopandas as gpd
    import shapely

    n = len(df)
    fmap = field_map if field_map is not None else map_site_fields(df.columns, fields, source=source or "input")
    has_pt = ("lon" in fmap and "lat" in fmap) or ("easting" in fmap and "northing" in fmap) or ("x" in fmap and "y" in fmap)
    if not has_pt and "wkt" not in fmap:
        cols = ", ".join(map(str, df.columns))
        msg = (f"{source or 'input'}: no coordinate columns found (expected 经度/纬度, lon/lat, X/Y, 东坐标/北坐标 or "
               f"WKT); columns: {cols}; name them with --field lon=COLUMN --field lat=COLUMN or --field wkt=COLUMN")
        raise InputFileError(msg)
    # by row, only the rows that have any (most have none: no list per row of a large chunk)
    problems: Messages = defaultdict(list)
    notes: Messages = defaultdict(list)
    geoms = np.full(n, None, dtype=object)
    in_crs = np.full(n, None, dtype=object)

    crs_col = _text(df[fmap["crs"]]).to_numpy() if "crs" in fmap else np.full(n, None, dtype=object)
    row_crs = np.array([c if c is not None else crs for c in crs_col], dtype=object)

    wkt_used = np.zeros(n, dtype=bool)
    if "wkt" in fmap:
        wtxt = _text(df[fmap["wkt"]]).to_numpy()
        wkt_used = np.array([w is not None for w in wtxt])
        if wkt_used.any():
            cells = np.full(n, None, dtype=object)
            cells[wkt_used] = wtxt[wkt_used]
            parsed, why = _parse_wkt(cells)
            for i in np.flatnonzero(wkt_used & shapely.is_missing(parsed)):
                problems[i].append(why.get(int(i)) or f"WKT {str(wtxt[i])[:40]!r} cannot be parsed")
            ok = wkt_used & ~shapely.is_missing(parsed)
            _place_geoms(parsed, ok, row_crs, order, geoms, in_crs, problems, notes, "crs" in fmap)

    if has_pt:
        if "lon" in fmap and "lat" in fmap:
            xcol, ycol, pt_order, label = fmap["lon"], fmap["lat"], "xy", f"{fmap['lon']}/{fmap['lat']}"
        elif "easting" in fmap and "northing" in fmap:
            xcol, ycol, pt_order, label = fmap["easting"], fmap["northing"], "xy", f"{fmap['easting']}/{fmap['northing']}"
        else:
            xcol, ycol, pt_order, label = fmap["x"], fmap["y"], order, f"{fmap['x']}/{fmap['y']}"
        xs, xblank = _coord_values(df[xcol])
        ys, yblank = _coord_values(df[ycol])
        todo = ~wkt_used
        for i in np.flatnonzero(todo & (xblank | yblank)):
            if "wkt" in fmap and not problems[i]:
                problems[i].append(f"no coordinates: {label} and {fmap['wkt']} are empty")
            elif not problems[i]:
                which = xcol if xblank[i] and not yblank[i] else ycol if yblank[i] and not xblank[i] else label
                problems[i].append(f"no coordinates: {which} empty")
        todo &= ~(xblank | yblank)
        _place_points(xs, ys, todo, row_crs, pt_order, geoms, in_crs, problems, notes, "crs" in fmap, label)
    elif "wkt" in fmap:
        for i in np.flatnonzero(~wkt_used):
            problems[i].append(f"no coordinates: {fmap['wkt']} is empty")

    out: dict[str, Any] = {
        "source": source or None,
        "row": np.asarray(rows if rows is not None else np.arange(1, n + 1)),
    }
    for target in ("site_id", "site_name", "location", "county_declared", "land_use"):
        out[target] = _text_column(df[fmap[target]]) if target in fmap else np.full(n, None, dtype=object)
    out["area_ha_stated"] = _stated_area(df, fmap, problems, notes)
    for attr in PROJECT_ATTRIBUTES:
        if attr in fmap:
            out[attr] = _text_column(df[fmap[attr]])
    out["input_crs"] = in_crs
    out["input_problem"] = _joined(problems, n, lambda p: "; ".join(p))
    out["input_notes"] = _joined(notes, n, lambda x: "; ".join(dict.fromkeys(x)))
    used = set(fmap.values())
    result = pd.DataFrame(out, index=pd.RangeIndex(n))
    for c in df.columns:
        if str(c) in used:
            continue
        name = str(c) if str(c) not in result.columns else f"原_{c}"
        col = df[c]  # Arrow text as read (no round trip through Python objects); anything else as before
        result[name] = col.array if _arrow_text(col) else col.to_numpy()
    for k, p in problems.items():
        if p and geoms[k] is not None and not _repair_only(p):
            geoms[k] = None
    return gpd.GeoDataFrame(result, geometry=gpd.GeoSeries(geoms, crs="EPSG:4490"), crs="EPSG:4490")


def _joined(messages: Messages, n: int, join: Any) -> np.ndarray:
    """One cell per row: its messages joined, None where it has none."""
    out = np.full(n, None, dtype=object)
    for i, m in messages.items():
        if m:
            out[i] = join(m)
    return out


def _parse_wkt(cells: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """WKT cells to geometries; a cell that cannot be read gets None and, where the reason
    is known (curved types, which shapely does not model), the reason."""
    import shapely

    try:
        return shapely.from_wkt(cells, on_invalid="ignore"), {}
    except Exception:  # noqa: BLE001 - one bad cell must not sink the batch: parse cell by cell
        out = np.full(len(cells), None, dtype=object)
        why: dict[int, str] = {}
        for i, cell in enumerate(cells):
            if cell is None:
                continue
            try:
                out[i] = shapely.from_wkt(cell, on_invalid="ignore")
            except NotImplementedError:
                why[i] = (f"WKT {str(cell)[:40]!r}: curved geometries (CIRCULARSTRING, CURVEPOLYGON...) are not "
                          "supported; convert them to straight segments first (PostGIS ST_CurveToLine, QGIS Segmentize)")
            except Exception as exc:  # noqa: BLE001
                why[i] = f"WKT {str(cell)[:40]!r} cannot be parsed ({exc})"
        return out, why


_NONFATAL = ("repaired with make_valid", "is not a number")


def _repair_only(problems: list[str]) -> bool:
    return all(any(tag in p for tag in _NONFATAL) and not p.startswith(("no coordinates", "WKT")) for p in problems)


def _stated_area(df: pd.DataFrame, fmap: dict[str, str], problems, notes) -> np.ndarray:
    n = len(df)
    area = np.full(n, np.nan)
    for target, factor in (("area_ha", 1.0), ("area_mu", 1 / 15.0), ("area_m2", 1e-4), ("area_unknown", 1 / 15.0)):
        if target not in fmap:
            continue
        vals = _numbers(df[fmap[target]], fmap[target], problems) * factor
        fill = np.isnan(area) & ~np.isnan(vals)
        area[fill] = vals[fill]
        if target == "area_unknown":
            for i in np.flatnonzero(fill):
                notes[i].append(f"{fmap[target]}: no unit in the header, taken as 亩")
    return area


def _group_by_crs(row_crs: np.ndarray, mask: np.ndarray) -> dict[Any, np.ndarray]:
    """Rows (positions, in order) of each CRS among the masked rows."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return {}
    codes, uniques = pd.factorize(pd.Series(row_crs[idx], dtype=object), use_na_sentinel=False)
    return {(None if isinstance(u, float) and u != u else u): idx[codes == k] for k, u in enumerate(uniques)}


def _unknown_crs(exc: Exception, crs: Any, idx: np.ndarray, problems: Messages, per_row: bool) -> None:
    """A CRS given for the whole file stops the run; one given per row marks its rows."""
    if not per_row:
        raise exc
    for i in idx:
        problems[i].append(f"unknown CRS {crs!r}: {exc}")


def _cells(values: list[Any] | np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The cells ``idx`` of a coordinate column: floats stay a float array, anything else objects."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return values[idx]
    return np.asarray(values, dtype=object)[idx]


def _place_points(xs, ys, mask, row_crs, order, geoms, in_crs, problems, notes, per_row=False, cols_label="") -> None:
    import shapely

    from zoning.core.coords import to_cgcs2000_by_row
    from zoning.core.errors import UnknownCRSError

    for crs, idx in _group_by_crs(row_crs, mask).items():
        try:
            lon, lat, probs, read_in, row_notes = to_cgcs2000_by_row(_cells(xs, idx), _cells(ys, idx), crs,
                                                                     order=order, check_city=True)
        except UnknownCRSError as exc:
            _unknown_crs(exc, crs, idx, problems, per_row)
            continue
        except CoordinateError as exc:
            for i in idx:
                problems[i].append(str(exc))
            continue
        pts = shapely.points(lon, lat)
        bad = np.array([pr is not None for pr in probs], dtype=bool) if len(probs) else np.zeros(0, dtype=bool)
        for j in np.flatnonzero(bad):
            problems[idx[j]].append(f"{cols_label}: {probs[j]}" if cols_label else str(probs[j]))
        good = idx[~bad]
        geoms[good] = pts[~bad]
        in_crs[good] = read_in[~bad]  # the CRS each row was read in (a zone from its easting's prefix)
        for j in np.flatnonzero(~bad & pd.notna(row_notes)):  # how it was read, as a query of the point says it
            notes[idx[j]].extend(row_notes[j])


def _place_geoms(parsed, mask, row_crs, order, geoms, in_crs, problems, notes, per_row=False) -> None:
    """Transform WKT geometries vertex by vertex with the coordinate parser, then repair."""
    from zoning.core.errors import UnknownCRSError

    for crs, idx in _group_by_crs(row_crs, mask).items():
        try:
            out, probs, label, read_notes = transform_geometries(parsed[idx], crs, order=order)
        except UnknownCRSError as exc:
            _unknown_crs(exc, crs, idx, problems, per_row)
            continue
        fixed, fix_notes = repair_geometries(out)
        for j, i in enumerate(idx):
            if probs[j] is not None:
                problems[i].append(probs[j])
                continue
            geoms[i] = fixed[j]
            in_crs[i] = label
            notes[i].extend(read_notes[j])  # how it was read, as a query of a vertex says it
            if fix_notes[j]:
                problems[i].append(fix_notes[j])


def transform_geometries(
    geoms: np.ndarray, crs: str | None, *, order: Literal["xy", "survey"] = "xy"
) -> tuple[np.ndarray, list[str | None], str, list[tuple[str, ...]]]:
    """Geometries in ``crs`` to CGCS2000 lon/lat, vertex by vertex through
    :func:`zoning.core.coords.to_cgcs2000_by_row` (so GCJ-02/BD-09, Gauss–Krüger zone
    detection, swapped order and the city check all apply). Returns (geometries, problem per
    geometry, canonical CRS, notes per geometry: how its vertices were read, as a query of one
    of them says it). A geometry with a bad vertex gets that vertex's problem.
    """
    import shapely

    from zoning.core.coords import resolve_crs, to_cgcs2000_by_row

    geoms = np.asarray(geoms, dtype=object)
    problems: list[str | None] = [None] * len(geoms)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    finite = np.isfinite(coords).all(axis=1)
    for k in np.flatnonzero(~finite):
        g = index[k]
        if problems[g] is None:
            problems[g] = f"vertex {k - np.searchsorted(index, g) + 1}: coordinates are not finite numbers"
    lon = np.full(len(coords), np.nan)
    lat = np.full(len(coords), np.nan)
    probs: list[str | None] = [None] * len(coords)
    notes: list[dict[str, None]] = [{} for _ in range(len(geoms))]  # ordered, each note once
    if finite.any():
        r = to_cgcs2000_by_row(coords[finite, 0], coords[finite, 1], crs, order=order, check_city=True)
        lon[finite], lat[finite] = r.lon, r.lat
        for k, pr, nt in zip(np.flatnonzero(finite), r.problems, r.notes):
            probs[k] = pr
            if nt:
                notes[index[k]].update(dict.fromkeys(nt))
    for v, pr in enumerate(probs):
        if pr is None:
            continue
        g = index[v]
        if problems[g] is None:
            problems[g] = f"vertex {v - np.searchsorted(index, g) + 1}: {pr}"
    for g in range(len(geoms)):
        if problems[g] is None and shapely.is_empty(geoms[g]):
            problems[g] = "empty geometry"
    # only geometries whose every vertex was converted get new coordinates
    out = np.full(len(geoms), None, dtype=object)
    good = np.array([p is None for p in problems], dtype=bool)
    if good.any():
        keep = good[index]
        copies = shapely.from_wkb(shapely.to_wkb(geoms[good]))
        out[good] = shapely.set_coordinates(copies, np.column_stack([lon[keep], lat[keep]]))
    return out, problems, resolve_crs(crs), [tuple(n) for n in notes]


# --------------------------------------------------------------------------- readers


def _read_excel_rows(path: Path, sheet: str | None) -> list[list[Any]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, InvalidFileException, KeyError
        msg = f"{path}: cannot read as an Excel .xlsx workbook ({exc})"
        raise InputFileError(msg) from exc
    if sheet is not None:
        if sheet not in wb.sheetnames:
            msg = f"{path}: no sheet {sheet!r}; sheets: {', '.join(wb.sheetnames)}"
            raise InputFileError(msg)
        ws = wb[sheet]
    else:
        ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max((len(r) for r in rows), default=0)
    for row in rows:
        row.extend([None] * (width - len(row)))
    # a merged range carries its value in its top-left cell only: give it to every cell
    for rng in ws.merged_cells.ranges:
        value = rows[rng.min_row - 1][rng.min_col - 1] if rng.min_row - 1 < len(rows) else None
        for r in range(rng.min_row - 1, min(rng.max_row, len(rows))):
            for c in range(rng.min_col - 1, min(rng.max_col, width)):
                rows[r][c] = value
    return rows


def _frame_from_rows(rows: list[list[Any]], path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    if not rows:
        msg = f"{path}: the sheet is empty"
        raise InputFileError(msg)
    h = _find_header(rows)
    header = []
    seen: dict[str, int] = {}
    for j, c in enumerate(rows[h]):
        name = f"列{j + 1}" if _is_blank(c) else str(c).strip()
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        header.append(name)
    data = rows[h + 1:]
    numbers = np.arange(h + 2, h + 2 + len(data))
    keep = np.array([not all(_is_blank(v) for v in r) for r in data], dtype=bool) if data else np.zeros(0, bool)
    df = pd.DataFrame([r for r, k in zip(data, keep) if k], columns=header, dtype=object)
    return df, numbers[keep]


def _csv_header_line(path: Path, encoding: str, sep: str | None) -> int:
    lines: list[list[str]] = []
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        for _ in range(20):
            line = fh.readline()
            if not line:
                break
            lines.append(re.split(r"[,\t;]" if sep is None else re.escape(sep), line.rstrip("\r\n")))
    return _find_header(lines)


def known_encoding(name: str) -> str:
    """``name`` if Python knows it as a text encoding (``gbk``, ``utf-8``, ``gb18030``...); a
    :class:`~zoning.core.errors.UsageError` otherwise (the command line's ``--encoding`` and the
    service's ``encoding`` field both say it this way)."""
    from zoning.core.errors import UsageError

    try:
        codecs.lookup(name)
    except LookupError:
        raise UsageError(f"{name!r} is not a text encoding Python knows (e.g. utf-8, gbk, gb18030)") from None
    return name


def _iter_csv(path: Path, *, encoding: str | None, chunksize: int) -> Iterator[tuple[pd.DataFrame, np.ndarray, list[str]]]:
    from zoning.core.errors import UsageError

    enc, why = (encoding, "given") if encoding else detect_text_encoding(path)
    try:
        known_encoding(enc)
    except UsageError as exc:
        raise InputFileError(f"{path}: {exc}") from None
    sep = "\t" if path.suffix.lower() == ".tsv" else None
    h = _csv_header_line(path, enc, sep)
    notes = [f"encoding {enc} ({why})"] + ([f"header on line {h + 1}; {h} line(s) above it skipped"] if h else [])
    try:
        plain = _csv_frames_arrow(path, enc, sep or ",", chunksize) if h == 0 else None
        frames: Iterable[pd.DataFrame] = plain if plain is not None else _csv_frames_pandas(path, enc, sep or ",", h,
                                                                                              chunksize)
        start = h + 2
        for chunk in frames:
            numbers = np.arange(start, start + len(chunk))
            start += len(chunk)
            blank = (chunk == "").all(axis=1).to_numpy() if len(chunk.columns) else np.zeros(len(chunk), bool)
            blank = blank | chunk.isna().all(axis=1).to_numpy()
            if blank.any():
                chunk = chunk.loc[~blank].reset_index(drop=True)
            yield chunk, numbers[~blank], notes
    except pd.errors.EmptyDataError as exc:
        msg = f"{path}: the file is empty (no header row, no sites)"
        raise InputFileError(msg) from exc
    except (pd.errors.ParserError, UnicodeDecodeError, LookupError) as exc:
        msg = f"{path}: cannot read as CSV ({exc})"
        raise InputFileError(msg) from exc


def _csv_frames_pandas(path: Path, enc: str, sep: str, h: int, chunksize: int) -> Iterator[pd.DataFrame]:
    """The rows below the header as text, chunk by chunk (pandas' reader: any CSV it reads)."""
    yield from pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False, skiprows=h, chunksize=chunksize,
                           skip_blank_lines=False, sep=sep, engine="c")


#: Files up to this size are read whole by Arrow when they are plain (see :func:`_csv_frames_arrow`):
#: about half a million sites, some 80 MB more than reading them chunk by chunk; larger files stream
#: through pandas, so a run's memory does not grow with its input.
ARROW_CSV_MAX_BYTES = 32 * 2**20


def _csv_frames_arrow(path: Path, enc: str, sep: str, chunksize: int) -> list[pd.DataFrame] | None:
    """A plain CSV (header on its first line, every row as wide as the header, no repeated
    or blank column name) read by Arrow's reader, several times faster than pandas', as the
    same rows :func:`_csv_frames_pandas` gives (a blank line is an empty row here, a missing
    one there: both are dropped with their line numbers kept). Anything else (or a file
    past :data:`ARROW_CSV_MAX_BYTES`): None, and pandas reads it, as before."""
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    if path.stat().st_size > ARROW_CSV_MAX_BYTES:
        return None
    try:
        with path.open(encoding=enc, errors="strict", newline="") as fh:
            names = next(csv.reader(fh, delimiter=sep), None)
    except (UnicodeDecodeError, csv.Error):
        return None  # pandas reads it, and says what is wrong
    if not names or len(set(names)) != len(names) or any(not n for n in names):
        return None  # pandas names blank and repeated columns its own way (Unnamed: 1, a.1)
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=enc),
            parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, LookupError):
        return None
    if table.num_rows == 0 or table.column_names != names:
        return None
    text = pd.StringDtype(na_value=np.nan)  # what pandas' reader gives for dtype=str
    frame = table.to_pandas(types_mapper={pa.string(): text}.get)
    return [frame.iloc[i:i + chunksize].reset_index(drop=True) for i in range(0, len(frame), chunksize)]


def _sites_from_vector(path: Path, *, crs, order, fields, layer, encoding) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import shapely

    from zoning.inputs.vectors import read_vector_file

    gdf, vnotes = read_vector_file(path, layer=layer, encoding=encoding)
    n = len(gdf)
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    fmap = map_site_fields(attrs.columns, fields, source=str(path))
    fake = attrs.copy()
    # geometry handled here; the table part goes through sites_from_frame with a WKT stand-in
    fmap.pop("wkt", None)
    for t in ("lon", "lat", "x", "y", "easting", "northing"):
        fmap.pop(t, None)
    fake["__geom__"] = None
    fmap["wkt"] = "__geom__"
    base = sites_from_frame(fake, crs=crs, order=order, source=str(path), rows=np.arange(1, n + 1), field_map=fmap)
    base["input_problem"] = None
    base = base.drop(columns=["__geom__"], errors="ignore")
    geoms = gdf.geometry.to_numpy()
    problems: list[str | None] = [None] * n
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(np.where(shapely.is_missing(geoms), None, geoms))
    for i in np.flatnonzero(~present):
        problems[i] = "feature has no geometry"
    out = np.full(n, None, dtype=object)
    read: list[tuple[str, ...]] = [()] * n  # how each feature's coordinates were read
    label = None
    if gdf.crs is None or crs is not None and _is_alias(crs):
        idx = np.flatnonzero(present)
        if len(idx):
            tg, probs, label, read_notes = transform_geometries(geoms[idx], crs, order=order)
            for j, i in enumerate(idx):
                if probs[j]:
                    problems[i] = probs[j]
                else:
                    out[i] = tg[j]
                    read[i] = read_notes[j]
        if gdf.crs is None:
            vnotes["crs"] = f"the file declares no CRS: {label} assumed (--crs)"
    else:
        from zoning.core.coords import datum_note

        label = gdf.crs.to_string()
        proj = gdf.to_crs("EPSG:4490").geometry.to_numpy()
        try:  # the file's datum taken as CGCS2000 where PROJ has no transformation, as a query says it
            said = datum_note(label)
        except Exception:  # noqa: BLE001 - a CRS the parser does not name: no note rather than no sites
            said = None
        if said:
            read = [(said,)] * n
        pts = shapely.point_on_surface(np.where(present, proj, None))
        from zoning.core.coords import in_city_box

        w, s, e, nb = settings.city_bounds
        xs, ys = shapely.get_x(pts), shapely.get_y(pts)
        inside = present & in_city_box(xs, ys)
        out[inside] = proj[inside]
        for i in np.flatnonzero(present & ~inside):
            problems[i] = (f"feature at lon={xs[i]:.6f}, lat={ys[i]:.6f} ({label}) is outside the 晋城市 box "
                           f"{w}–{e}°E, {s}–{nb}°N")
    fixed, fix = repair_geometries(out)
    for k in range(n):
        if fix[k]:
            problems[k] = fix[k] if problems[k] is None else f"{problems[k]}; {fix[k]}"
    base["input_problem"] = problems
    base["input_crs"] = [label if g is not None else None for g in fixed]
    base["input_notes"] = [  # the table's own notes on the row, then how its coordinates were read
        "; ".join(dict.fromkeys([*([str(had)] if isinstance(had, str) else []), *(r if g is not None else ())])) or None
        for had, r, g in zip(base["input_notes"].to_numpy(dtype=object), read, fixed)]
    base = base.set_geometry(gpd.GeoSeries(fixed, crs="EPSG:4490"))
    base.attrs["notes"] = [f"{path.name}: {k} {v}" for k, v in vnotes.items()]
    return base


def _is_alias(crs: str) -> bool:
    """An obfuscated web-map CRS (GCJ-02, BD-09, in any spelling the one parser accepts): the
    file's own label cannot be right for it, so ``--crs`` decides."""
    from zoning.core.coords import resolve_crs

    try:
        return resolve_crs(crs) in ("GCJ-02", "BD-09")
    except CoordinateError:
        return False


def _sites_from_jzd(path: Path, *, crs, encoding) -> gpd.GeoDataFrame:
    from zoning.inputs.jzd import jzd_to_gdf, read_jzd_file

    j = read_jzd_file(path, encoding=encoding)
    gdf = jzd_to_gdf(j, crs=crs)
    gdf["area_ha_stated"] = gdf["stated_area_ha"]
    gdf.attrs["notes"] = [f"{path.name}: 界址点 file, encoding {j.encoding}, {len(j.parcels)} parcel(s)", *j.problems]
    for c in ("location", "county_declared"):
        gdf[c] = None
    # findings that leave a usable polygon (area or count mismatch, unclosed ring,
    # repaired polygon) are reported; the parcel is still checked
    cols = [*SITE_COLUMNS, "input_crs", "input_problem", "input_notes"]
    rest = [c for c in gdf.columns if c not in cols and c != "geometry"]
    return gdf[[*cols, *rest, "geometry"]]


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and (p.suffix.lower() in TABLE_SUFFIXES | VECTOR_SUFFIXES | {".jzd", ".dxf"}))
        if not files:
            msg = f"{path}: the folder holds no site file (.csv .xlsx .txt .shp .gpkg .geojson)"
            raise InputFileError(msg)
        return files
    if not path.exists():
        msg = f"{path}: file not found"
        raise InputFileError(msg)
    return [path]


def iter_sites(
    path: str | Path,
    *,
    crs: str | None = None,
    order: Literal["xy", "survey"] = "xy",
    fields: dict[str, str] | None = None,
    layer: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
) -> Iterator[gpd.GeoDataFrame]:
    """Read sites chunk by chunk (CSV in ``chunksize`` rows; other kinds in one chunk).

    ``path`` may be a folder: every site file in it, in name order.

    Raises
    ------
    InputFileError
        Unreadable file, unknown kind, no coordinate columns.
    UnknownCRSError
        An unknown ``crs``.
    """
    from zoning.inputs.jzd import is_jzd_file

    for file in _expand(Path(path)):
        suffix = file.suffix.lower()
        if suffix in (".txt", ".jzd") and is_jzd_file(file):
            yield _sites_from_jzd(file, crs=crs, encoding=encoding)
        elif suffix in (".csv", ".tsv", ".txt"):
            for chunk, numbers, notes in _iter_csv(file, encoding=encoding, chunksize=chunksize):
                gdf = sites_from_frame(chunk, crs=crs, order=order, fields=fields, source=str(file), rows=numbers)
                gdf.attrs["notes"] = [f"{file.name}: {n}" for n in notes]
                yield gdf
        elif suffix in (".xlsx", ".xlsm"):
            df, numbers = _frame_from_rows(_read_excel_rows(file, sheet), file)
            yield sites_from_frame(df, crs=crs, order=order, fields=fields, source=str(file), rows=numbers)
        elif suffix in (".dxf", ".dwg"):  # CAD red lines (zoning.inputs.dxf); DWG: one line advising DXF
            from zoning.inputs.dxf import read_dxf_sites

            yield read_dxf_sites(file, crs=crs, layer=layer)
        elif suffix in VECTOR_SUFFIXES:
            yield _sites_from_vector(file, crs=crs, order=order, fields=fields, layer=layer, encoding=encoding)
        elif suffix == ".xls":
            msg = f"{file}: old Excel .xls is not read; save it as .xlsx"
            raise InputFileError(msg)
        else:
            msg = f"{file}: unsupported site file {suffix!r}; expected .csv .xlsx .txt (界址点) .shp .gpkg .geojson .dxf"
            raise InputFileError(msg)


def read_sites(path: str | Path, **kwargs: Any) -> gpd.GeoDataFrame:
    """All sites of a file or folder in one GeoDataFrame (see :func:`iter_sites`)."""
    import geopandas as gpd

    chunks = list(iter_sites(path, **kwargs))
    notes = [n for c in chunks for n in c.attrs.get("notes", [])]
    if len(chunks) == 1:
        out = chunks[0]
    else:
        for c in chunks:
            c.attrs = {}
        out = gpd.GeoDataFrame(pd.concat(chunks, ignore_index=True), geometry="geometry", crs="EPSG:4490")
    out.attrs["notes"] = list(dict.fromkeys(notes))
    return out
