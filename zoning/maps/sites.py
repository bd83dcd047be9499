"""User sites on a map, coloured by their verdict (codes, labels and colours from the vocabulary)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zoning.core import vocab
from zoning.core.errors import CRSMismatchError, InputFileError

# sites are read as zoning check reads them (tables, red lines, 界址点; its results too)
from zoning.inputs.sites import read_sites
from zoning.maps.geometry import feature_collection, to_display
from zoning.maps.page import Lang, add_group, app_of, field_labels, keep_controls_last, t

if TYPE_CHECKING:
    import folium
    import geopandas as gpd


def normalise_verdict(value: Any) -> str:
    """A verdict code of :data:`zoning.core.vocab.ALL_VERDICTS` for what a user wrote
    (``禁止``, ``Needs confirmation``, ``needs_confirmation``…); ``not checked`` otherwise."""
    if value is None:
        return vocab.NOT_CHECKED
    v = str(value).strip()
    if not v or v.lower() in ("nan", "none"):
        return vocab.NOT_CHECKED
    for key in (v, v.lower(), v.lower().replace("-", " ").replace("_", " ")):
        if key in vocab.VERDICT_ALIASES:
            return vocab.VERDICT_ALIASES[key]
    return vocab.NOT_CHECKED


#: The site reader's own columns (zoning.inputs.sites), left out of a site's popup.
_READER_COLUMNS = ("source", "input_crs", "input_notes", "location", "county_declared", "geom_type", "status_code")


def _verdict_column(sites: gpd.GeoDataFrame) -> Any:
    """The sites' verdicts: a ``verdict`` column, or the verdict column of zoning check's
    results under its header in either language (a result CSV read back); None if none."""
    from zoning.check import RESULT_LABELS

    for col in ("verdict", *RESULT_LABELS["verdict"]):
        if col in sites.columns:
            return sites[col]
    return None


def _why_unplaced(sites: gpd.GeoDataFrame, unplaced: np.ndarray, most: int = 3) -> str:
    """Why the first sites without a place have none: the reader's problem with each row
    (outside the city, swapped coordinates, metres given as degrees...), or that it has no geometry."""
    rows = sites["row"].to_numpy()[unplaced] if "row" in sites.columns else np.flatnonzero(unplaced) + 1
    why = (sites["input_problem"].to_numpy(dtype=object)[unplaced] if "input_problem" in sites.columns
           else np.full(len(rows), None, dtype=object))
    said = [f"row {r}: {w if isinstance(w, str) and w else 'no geometry'}" for r, w in zip(rows[:most], why[:most])]
    more = f"; and {len(rows) - most} more" if len(rows) > most else ""
    return ": " + "; ".join(said) + more


def _site_names(sites: gpd.GeoDataFrame) -> Any:
    """A site's name: its ``name``, else its ``site_name`` (what the site reader and the check
    call it), else its ``site_id``."""
    for col in ("name", "site_name", "site_id"):
        if col in sites.columns:
            return sites[col]
    msg = (f"sites: expected a column 'name' (or 项目名称 / site_name, as zoning check reads them); columns are "
           f"{', '.join(map(str, sites.columns))}")
    raise InputFileError(msg)


def add_sites(m: folium.Map, sites: gpd.GeoDataFrame | str | Path, lang: Lang = "zh", *,
              name: str | None = None, show: bool = True) -> folium.Map:
    """Draw user sites on ``m``, coloured by their ``verdict``; returns ``m``.

    ``sites`` is a GeoDataFrame (points or red-line polygons, any CRS) or any file
    :func:`read_sites` reads, with a ``name`` (else ``site_name`` or ``site_id``, as the
    check's results have them) and optionally ``verdict`` (a verdict code of
    :data:`zoning.core.vocab.VERDICTS` or any word of :data:`zoning.core.vocab.VERDICT_ALIASES`,
    e.g. the Chinese labels 禁止 / 需确认 / 有条件准入 / 须履行义务 / 无限制). Every other
    scalar column is shown in the popup. Works on any folium map; on one from
    :func:`build_map` the sites join its legend, layer switcher and click query.

    Raises
    ------
    InputFileError
        No name column, or no geometry at all (sites without one are left out, with a warning).
    CRSMismatchError
        No CRS and coordinates that are not longitude/latitude.
    """
    import geopandas as gpd

    if not isinstance(sites, gpd.GeoDataFrame):
        sites = read_sites(sites)
    sites = sites.assign(name=_site_names(sites))
    unplaced = (sites.geometry.isna() | sites.geometry.is_empty).to_numpy() if sites.geometry is not None else None
    if unplaced is None or unplaced.all():
        src = [v for v in sites["source"] if isinstance(v, str)] if "source" in sites.columns else []
        msg = (f"{src[0] if src else 'sites'}: none can be drawn"
               + (_why_unplaced(sites, unplaced) if unplaced is not None else " (no geometry: give points or polygons)"))
        raise InputFileError(msg)
    if unplaced.any():  # rows the reader could not place, with the reason the check gives them
        warnings.warn(f"{int(unplaced.sum())} site(s) are not drawn{_why_unplaced(sites, unplaced)}", stacklevel=2)
        sites = sites[~unplaced]
    if sites.crs is None:
        minx, miny, maxx, maxy = sites.total_bounds
        if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
            warnings.warn("sites have no CRS: taken as CGCS2000 lon/lat (EPSG:4490)", stacklevel=2)
            sites = sites.set_crs("EPSG:4490")
        else:
            msg = "sites have no CRS and their coordinates are not lon/lat; declare the CRS"
            raise CRSMismatchError(msg)
    app = app_of(m, lang)
    if not app.config.get("title"):
        app.config["title"] = name or t("sites", lang)
    key = "sites"
    n = 1
    while key in app.groups:
        n += 1
        key = f"sites-{n}"
    disp = to_display(sites.reset_index(drop=True), tolerance=0)
    geom_col = disp.geometry.name
    fields = ["name"] + [c for c in disp.columns if c not in ("name", geom_col, *_READER_COLUMNS)
                         and disp[c].dtype.kind in "biufOUSMmT" and not str(c).startswith("_")
                         and disp[c].notna().any()][:15]
    verdicts = _verdict_column(disp)
    extra = [{"_verdict": normalise_verdict(v)} for v in (verdicts if verdicts is not None else [None] * len(disp))]
    order = list(vocab.ALL_VERDICTS)
    used = sorted({e["_verdict"] for e in extra}, key=order.index)
    styles = {}
    for v in order:
        colour = vocab.VERDICT_COLOURS[v]
        styles[v] = {"color": colour, "weight": 3, "opacity": 1, "fillColor": colour,
                     "fillOpacity": 0.35, "radius": 7}
    labels = {v: vocab.verdict_label(v, lang) for v in order}
    title = name or t("sites", lang)
    entry = {
        "name": key,
        "key": key,
        "kind": "sites",
        "accuracy": "user",
        "acc_label": "用户数据 user data" if lang == "zh" else "user data",
        "honesty": "",
        "source": "",
        "title": title,
        "draw": True,
        "query": True,
        "fields": field_labels(fields, lang),
        "class_field": "_verdict",
        "class_labels": labels,
        "base_style": styles[vocab.NOT_CHECKED],
        "styles": styles,
        "rules_by_class": {},
        "legend": [{"label": labels[v], "style": styles[v], "point": True} for v in used],
        "legend_note": "",
        "data": feature_collection(disp, fields, extra),
    }
    app.config["layers"].append(entry)
    add_group(m, app, key, title, show=show)
    keep_controls_last(m)
    return m
