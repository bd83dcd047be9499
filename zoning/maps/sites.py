"""User sites on a map, coloured by their verdict (codes, labels and colours from the vocabulary)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoning.core import vocab
from zoning.core.errors import CRSMismatchError, InputFileError
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


def read_sites(path: str | Path) -> gpd.GeoDataFrame:
    """Read a sites file (GeoJSON, GeoPackage, shapefile…) with :func:`zoning.inputs.vectors.read_vector_file`."""
    from zoning.inputs.vectors import read_vector_file

    gdf, _notes = read_vector_file(path)
    return gdf


def add_sites(m: folium.Map, sites: gpd.GeoDataFrame | str | Path, lang: Lang = "zh", *,
              name: str | None = None, show: bool = True) -> folium.Map:
    """Draw user sites on ``m``, coloured by their ``verdict``; returns ``m``.

    ``sites`` is a GeoDataFrame (points or red-line polygons, any CRS) or a vector file,
    with a ``name`` column and optionally ``verdict`` (a verdict code of
    :data:`zoning.core.vocab.VERDICTS` or any word of :data:`zoning.core.vocab.VERDICT_ALIASES`,
    e.g. the Chinese labels 禁止 / 需确认 / 有条件准入 / 须履行义务 / 无限制). Every other
    scalar column is shown in the popup. Works on any folium map; on one from
    :func:`build_map` the sites join its legend, layer switcher and click query.

    Raises
    ------
    InputFileError
        No ``name`` column, or no geometry.
    CRSMismatchError
        No CRS and coordinates that are not longitude/latitude.
    """
    import geopandas as gpd

    if not isinstance(sites, gpd.GeoDataFrame):
        sites = read_sites(sites)
    if "name" not in sites.columns:
        msg = f"sites: expected column 'name' is missing; columns are {', '.join(map(str, sites.columns))}"
        raise InputFileError(msg)
    if sites.geometry is None or sites.geometry.isna().all():
        msg = "sites: no geometry (give points or polygons)"
        raise InputFileError(msg)
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
    fields = ["name"] + [c for c in disp.columns if c not in ("name", geom_col)
                         and disp[c].dtype.kind in "biufOUSMm" and not c.startswith("_")][:15]
    extra = [{"_verdict": normalise_verdict(v)} for v in
             (disp["verdict"] if "verdict" in disp.columns else [None] * len(disp))]
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
