"""build_map: the layers of a pack on a folium map, with legend, popups and the click query."""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from zoning.core import vocab
from zoning.core.errors import ZoningError
from zoning.core.layers import read_layer
from zoning.maps.geometry import COORD_DECIMALS, feature_collection, scalar, to_display
from zoning.maps.page import FIELD_LABELS, Lang, add_group, app_of, field_labels, keep_controls_last, set_assets, t
from zoning.maps.payload import attributes_payload, industries_payload, rules_payload
from zoning.maps.sites import add_sites

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from zoning.core.layers import LayerSpec, Pack
    from zoning.core.rules import Rule

log = logging.getLogger(__name__)

Basemap = Literal["none", "osm", "tianditu"]
BASEMAPS: tuple[str, ...] = ("none", "osm", "tianditu")
TIANDITU_KEY_ENV = "TIANDITU_KEY"

_MAP_KINDS = (vocab.COUNTIES, vocab.EXTENT, vocab.QUOTA, vocab.PROTECTION, vocab.CONTROL, vocab.KEY_PROJECTS)
#: the kinds the answer to "what applies here?" rests on
_ANSWER_KINDS = (vocab.COUNTIES, vocab.EXTENT, *vocab.ZONE_KINDS)

_FALLBACK_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
COUNTY_COLOUR = "#333333"
QUOTA_COLOUR = "#762a83"

# ---------------------------------------------------------------------------------------
# Attributes shown per layer kind
# ---------------------------------------------------------------------------------------

#: the attributes shown for each layer kind, in order (those missing are skipped)
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    vocab.COUNTIES: ("name", "name_en", "adcode", "area_km2"),
    vocab.EXTENT: ("name", "extent_class", "area_km2", "document", "note"),
    vocab.QUOTA: ("area_name", "year", "document", "total_ha"),
    vocab.PROTECTION: ("name", "zone_class", "level", "zone_id", "county_name", "town", "area_km2"),
    vocab.CONTROL: ("name", "zone_class", "level", "zone_id", "county_name", "town", "area_km2"),
}


def _honesty(accuracy: str, lang: Lang) -> str:
    """The line every popup of a non-official layer carries."""
    if accuracy == vocab.OFFICIAL:
        return ""
    zh, en = vocab.ACCURACY_LABELS.get(accuracy, (accuracy, accuracy))
    if lang == "zh":
        return f"{zh} {en} — 非官方界线，not an official outline"
    return f"{en} — not an official outline"


def _acc_label(accuracy: str, lang: Lang) -> str:
    zh, en = vocab.ACCURACY_LABELS.get(accuracy, (accuracy, accuracy))
    return f"{zh} {en}" if lang == "zh" else en


# ---------------------------------------------------------------------------------------
# Styles
# ---------------------------------------------------------------------------------------


def _dash(accuracy: str) -> str | None:
    return {vocab.INDICATIVE: "8 6", vocab.DEMONSTRATION: "5 4"}.get(accuracy)


def _weight_of(zone_class: str) -> float:
    """Outline weight by strictness within the class's kind: the strictest thickest."""
    zc = vocab.ZONE_CLASSES_BY_NAME.get(zone_class)
    if zc is None or zc.rank == 0:
        return 1.8
    top = max(vocab.RANKS[zc.kind].values())
    return {top: 2.5, top - 1: 1.6}.get(zc.rank, 1.8)


def _class_style(colour: str, accuracy: str, weight: float, pattern_id: str | None) -> dict[str, Any]:
    style: dict[str, Any] = {"color": colour, "weight": weight, "opacity": 0.95,
                             "fillColor": colour, "fillOpacity": 0.35}
    dash = _dash(accuracy)
    if dash:
        style["dashArray"] = dash
    if accuracy == vocab.DEMONSTRATION and pattern_id:
        style["fillColor"] = f"url(#{pattern_id})"
        style["fillOpacity"] = 0.9
    return style


def _colour_for(cls: str, i: int) -> str:
    zc = vocab.ZONE_CLASSES_BY_NAME.get(cls)
    return zc.colour if zc else _FALLBACK_COLOURS[i % len(_FALLBACK_COLOURS)]


def _class_order(kind: str, classes: list[str]) -> list[str]:
    order = list(vocab.ZONE_CLASSES.get(kind, ()))
    return sorted(classes, key=lambda c: (order.index(c) if c in order else len(order), c))


# ---------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------

_EFFECT_ORDER = {e: i for i, e in enumerate(vocab.EFFECTS)}


def _rule_ids_for(rules: list[Rule], kind: str, classes: list[str]) -> dict[str, list[str]]:
    from zoning.core.rules import rules_for_zone

    out: dict[str, list[str]] = {}
    for cls in classes:
        if cls not in vocab.ZONE_CLASSES.get(kind, ()):
            continue
        found = rules_for_zone(rules, kind, cls)
        found.sort(key=lambda r: (_EFFECT_ORDER.get(r.effect, 9), r.id))
        out[cls] = [r.id for r in found]
    return out


# ---------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------


def default_map_layers(pack: Pack) -> list[str]:
    """Names of the pack's vector layers a map shows by default (every one of them)."""
    return [s.name for s in pack.layers if s.kind in _MAP_KINDS]


def _fields_for(spec: LayerSpec, gdf: gpd.GeoDataFrame) -> list[str]:
    wanted = list(KIND_FIELDS.get(spec.kind, ()))
    for f in (spec.id_field, *spec.class_fields):
        if f and f not in wanted:
            wanted.append(f)
    fields = [f for f in wanted if f in gdf.columns]
    if not fields:  # an imported layer with other columns: show its scalar columns
        fields = [c for c in gdf.columns if c != gdf.geometry.name][:12]
    return fields


def _layer_meta(spec: LayerSpec, lang: Lang) -> dict[str, Any]:
    from zoning.core.context import source_of

    prov = spec.provenance or {}
    # where the layer comes from, as every answer names it (core.context.source_of), then how it was made
    source = source_of(prov)
    method = str(prov.get("method", ""))
    source_bits = [source] + ([method] if method and method != source else [])
    return {
        "name": spec.name,
        "kind": spec.kind,
        "accuracy": spec.accuracy,
        "acc_label": _acc_label(spec.accuracy, lang),
        "honesty": _honesty(spec.accuracy, lang),
        "source": " · ".join(source_bits),
        "positional_m": spec.positional_accuracy_m,
        # what the accuracy means, in words (an official but generalised source says so)
        "acc_text": vocab.layer_accuracy_label(spec.accuracy, lang, spec.positional_accuracy_m),
        "valid_from": spec.valid_from.isoformat() if spec.valid_from else None,
        "valid_to": spec.valid_to.isoformat() if spec.valid_to else None,
    }


def _quota_rows(quota: gpd.GeoDataFrame, lang: Lang) -> dict[str, list[list[Any]]]:
    """Per area_name, the labelled rows of its quota (for the 中心城区 popup)."""
    out: dict[str, list[list[Any]]] = {}
    for _, row in quota.iterrows():
        classes_en = _parse_classes_en(row.get("classes_en"))
        fields = [c for c in ("year", "document", "total_ha") if c in quota.columns]
        fields += [c for c in quota.columns if c.startswith("ha_")]
        rows = [[lab, scalar(row[f])] for f, lab in field_labels(fields, lang, classes_en)
                if scalar(row[f]) not in (None, "")]
        out.setdefault(str(row.get("area_name", "")), []).extend(rows)
    return out


def _parse_classes_en(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(value, str):
        for part in value.split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                out[k.strip()] = v.strip()
    return out


def _add_polygon_layer(m: folium.Map, app: Any, spec: LayerSpec, gdf: gpd.GeoDataFrame, lang: Lang,
                       rules: list[Rule], *, key: str, title: str, show: bool = True,
                       draw: bool = True, extra: list[dict[str, Any]] | None = None,
                       tolerance: float | None = None, legend_note: str = "") -> None:
    disp = to_display(gdf) if tolerance is None else to_display(gdf, tolerance=tolerance)
    fields = _fields_for(spec, gdf)
    class_field = spec.class_fields[0] if spec.class_fields else None
    if class_field and class_field not in gdf.columns:
        class_field = None
    classes = sorted({str(c) for c in gdf[class_field].dropna()}) if class_field else []
    if spec.kind in vocab.CLASSED_KINDS:
        classes = _class_order(spec.kind, classes)
    styles: dict[str, dict[str, Any]] = {}
    legend: list[dict[str, Any]] = []
    if spec.kind == vocab.COUNTIES:
        base: dict[str, Any] = {"color": COUNTY_COLOUR, "weight": 2.2, "opacity": 0.9, "fill": False}
        if _dash(spec.accuracy):
            base["dashArray"] = _dash(spec.accuracy)
        legend.append({"label": title, "style": base})
    elif classes and spec.kind != vocab.QUOTA:
        base = _class_style("#777777", spec.accuracy, 1.8, None)
        for i, cls in enumerate(classes):
            colour = _colour_for(cls, i)
            pid = app.patterns.get(colour) if spec.accuracy == vocab.DEMONSTRATION else None
            st = _class_style(colour, spec.accuracy, _weight_of(cls), pid)
            if spec.kind == vocab.EXTENT:
                st["fillOpacity"] = 0.08 if spec.accuracy != vocab.DEMONSTRATION else st["fillOpacity"]
                st["weight"] = 3
            styles[cls] = st
            legend.append({"label": vocab.class_label(cls, lang), "style": st})
    else:
        colour = QUOTA_COLOUR if spec.kind == vocab.QUOTA else _colour_for(spec.name, 0)
        pid = app.patterns.get(colour) if spec.accuracy == vocab.DEMONSTRATION else None
        base = _class_style(colour, spec.accuracy, 1.8, pid)
        base["fillOpacity"] = min(base["fillOpacity"], 0.15)
        legend.append({"label": title, "style": base})
    entry = {
        **_layer_meta(spec, lang),
        "key": key,
        "title": title,
        "draw": draw,
        "query": True,
        "fields": field_labels(fields, lang),
        "class_field": class_field,
        "class_labels": {c: vocab.class_label(c, lang) for c in classes},
        "base_style": base,
        "styles": styles,
        "rules_by_class": _rule_ids_for(rules, spec.kind, classes),
        "legend": legend if draw else [],
        "legend_note": legend_note,
        "data": feature_collection(disp, fields, extra),
    }
    app.config["layers"].append(entry)
    if draw:
        add_group(m, app, key, f"{title}［{entry['acc_label']}］", show=show)


def _add_key_projects(m: folium.Map, app: Any, spec: LayerSpec, projects: gpd.GeoDataFrame,
                      counties: gpd.GeoDataFrame | None, lang: Lang, title: str) -> None:
    """Key projects counted per county at the county's representative point; never a pin."""
    county_field = spec.county_field or "county_adcodes"
    items_by_county: dict[str, list[list[Any]]] = {}
    city_items: list[list[Any]] = []
    for _, row in projects.iterrows():
        item = [scalar(row.get(c)) or "" for c in ("name", "level", "category", "year")]
        codes = [c.strip() for c in str(row.get(county_field) or "").split(",") if c.strip()]
        if not codes:
            city_items.append(item)
        for code in codes:
            items_by_county.setdefault(code, []).append(item)
    groups = []
    if counties is not None and len(counties):
        disp = counties.to_crs("EPSG:4326")
        for _, row in disp.iterrows():
            code = str(row.get("adcode"))
            pt = row.geometry.representative_point()
            name = str(row.get("name" if lang == "zh" else "name_en", row.get("name", code)))
            groups.append({"adcode": code, "county": name,
                           "latlng": [round(pt.y, COORD_DECIMALS), round(pt.x, COORD_DECIMALS)],
                           "items": items_by_county.get(code, [])})
    elif items_by_county:
        warnings.warn("no county layer in the pack: key projects cannot be placed by county",
                      stacklevel=3)
    entry = {
        **_layer_meta(spec, lang),
        "key": spec.name,
        "title": title,
        "kind": vocab.KEY_PROJECTS,
        "draw": True,
        "query": False,
        "groups": groups,
        "city_items": city_items,
        "columns": [vocab.label(FIELD_LABELS[c], lang) for c in ("name", "level", "category", "year")],
        "legend": [{"label": title, "badge": True}],
        "legend_note": (f"{t('kp_nolocation', lang)}；{t('kp_shared', lang)}" if lang == "zh"
                        else f"{t('kp_nolocation', lang)}; {t('kp_shared', lang)}"),
    }
    app.config["layers"].append(entry)
    add_group(m, app, spec.name, f"{title}［{t('kp_layer', lang)}］")


# ---------------------------------------------------------------------------------------
# Basemaps
# ---------------------------------------------------------------------------------------


def _add_basemap(m: folium.Map, basemap: str, lang: Lang) -> None:
    import folium

    if basemap == "none":
        return
    if basemap == "osm":
        folium.TileLayer(
            "OpenStreetMap", name="OpenStreetMap", control=True, overlay=False,
        ).add_to(m)
        return
    if basemap == "tianditu":
        key = os.environ.get(TIANDITU_KEY_ENV, "").strip()
        if not key:
            msg = (f"--basemap tianditu needs a 天地图 (Tianditu) API key in the environment variable "
                   f"{TIANDITU_KEY_ENV}; get one at the Tianditu developer console, or use "
                   f"--basemap none / osm")
            raise ZoningError(msg)
        if not re.fullmatch(r"[0-9A-Za-z]+", key):
            msg = f"{TIANDITU_KEY_ENV} must be letters and digits only (got {len(key)} characters)"
            raise ZoningError(msg)
        base = ("https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                "&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                "&TILECOL={x}&tk=" + key)
        attr = "天地图 Tianditu (CGCS2000)"
        folium.TileLayer(tiles=base % ("vec", "vec"), attr=attr, name="天地图 Tianditu",
                         subdomains="01234567", max_zoom=18, overlay=False, control=True).add_to(m)
        folium.TileLayer(tiles=base % ("cva", "cva"), attr=attr, name="天地图注记 labels",
                         subdomains="01234567", max_zoom=18, overlay=True, control=False).add_to(m)
        return
    msg = f"basemap was {basemap!r} but is expected to be one of {', '.join(BASEMAPS)}"
    raise ZoningError(msg)


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def build_map(
    pack: Pack,
    *,
    layers: list[str] | tuple[str, ...] | None = None,
    sites: gpd.GeoDataFrame | str | Path | None = None,
    basemap: Basemap = "none",
    lang: Lang = "zh",
    offline: bool = False,
    rules: list[Rule] | None = None,
    today: dt.date | None = None,
) -> folium.Map:
    """An interactive map of a pack's layers, with legend, layer switcher and click query.

    Parameters
    ----------
    pack : Pack
        The layer pack (:func:`zoning.core.layers.open_pack`).
    layers : list of str, optional
        Names of the pack layers to show (default: every vector layer, see
        :func:`default_map_layers`).
    sites : GeoDataFrame or path, optional
        User sites with a ``name`` and optional ``verdict`` column (see :func:`add_sites`).
    basemap : {"none", "osm", "tianditu"}
        Background tiles. ``tianditu`` reads its key from ``$TIANDITU_KEY``. No GCJ-02
        basemap is offered: the layers are CGCS2000 and would be drawn offset on one.
    lang : {"zh", "en"}
        Language of labels, popups and legend.
    offline : bool
        Inline Leaflet (from XStatic-Leaflet) so the saved HTML needs no CDN.
    rules : list of Rule, optional
        The rule catalogue (default: ``load_rules(pack.rules_dir)`` when the pack has one).
    today : date, optional
        The date printed in the title and the page's default query date (default: today).

    Returns
    -------
    folium.Map
        Not saved: call ``m.save(path)``.

    Raises
    ------
    LayerNotFoundError
        A name in ``layers`` is not in the pack.
    ZoningError
        Unknown basemap, ``tianditu`` without a key, or ``offline`` without XStatic-Leaflet.
    """
    import folium

    specs = _map_layers(pack, layers, basemap, lang, offline)
    names = [s.name for s in specs]
    today = today or dt.date.today()
    if rules is None:
        rules = []
        if pack.rules_dir is not None and Path(pack.rules_dir).is_dir():
            from zoning.core.rules import load_rules

            rules = load_rules(pack.rules_dir)
    m = folium.Map(location=[35.6, 112.75], zoom_start=9, tiles=None, control_scale=False,
                   prefer_canvas=False, zoom_control=True)
    set_assets(m, offline)
    _add_basemap(m, basemap, lang)
    app = app_of(m, lang)
    _page_config(m, app, pack, specs, rules, today, lang)
    _draw_layers(m, app, pack, specs, rules, lang)
    if sites is not None:
        add_sites(m, sites, lang)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    keep_controls_last(m)
    m._zoning_meta = {"pack": pack.name, "layers": names, "offline": offline,  # type: ignore[attr-defined]
                      "basemap": basemap, "lang": lang}
    return m


def _map_layers(pack: Pack, layers: list[str] | tuple[str, ...] | None, basemap: str, lang: Lang,
                offline: bool) -> list[Any]:
    """The pack layers to draw (every vector layer by default), after the arguments are checked."""
    if lang not in ("zh", "en"):
        msg = f"lang was {lang!r} but is expected to be 'zh' or 'en'"
        raise ZoningError(msg)
    if basemap not in BASEMAPS:
        msg = f"basemap was {basemap!r} but is expected to be one of {', '.join(BASEMAPS)}"
        raise ZoningError(msg)
    names = list(layers) if layers else default_map_layers(pack)
    specs = [pack.layer(n) for n in names]  # raises LayerNotFoundError listing the names
    raster = [s.name for s in specs if s.kind == vocab.RASTER]
    if raster:
        msg = f"raster layer(s) {', '.join(raster)} cannot be drawn on the HTML map yet"
        raise ZoningError(msg)
    if offline and basemap != "none":
        warnings.warn(f"--offline inlines the map's code, but the {basemap} tiles still need the "
                      f"network; use --basemap none for a map that works with no network",
                      stacklevel=3)
    return specs


def _page_config(m: Any, app: Any, pack: Pack, specs: list[Any], rules: list[Rule], today: dt.date,
                 lang: Lang) -> None:
    """What the page's script receives besides the layers: the title and its provenance line,
    the date, the rules, the project attributes and industries of the query form, and the
    kinds of layer the answer needs that are not drawn."""
    import folium

    title = f"{pack.title}（{pack.name}）" if lang == "zh" else f"{pack.title} ({pack.name})"
    built = pack.meta.get("built")
    sub = f"{t('generated', lang)} {today.isoformat()}"
    if built:
        sub += f" · {t('pack_built', lang)} {built}"
    from zoning.core.provenance import PROVENANCE_LABELS, provenance

    prov = provenance(pack, on_date=today)  # the one record every output carries
    i = 0 if lang == "zh" else 1
    sub += " · " + " · ".join(f"{PROVENANCE_LABELS[k][i]} {prov[k][:16] if k == 'pack_sha256' else prov[k]}"
                               for k in ("pack_version", "pack_sha256", "tool_version") if k in prov)
    app.config["title"] = title
    app.config["subtitle"] = sub
    app.config["provenance"] = prov
    app.config["today"] = today.isoformat()
    app.config["rules"] = rules_payload(rules, lang)
    app.config["attributes"] = attributes_payload(rules, lang)
    app.config["industries"] = industries_payload(lang)
    shown_kinds = {s.kind for s in specs}
    app.config["missing_kinds"] = [k for k in _ANSWER_KINDS
                                   if pack.by_kind(k) and k not in shown_kinds]
    root = m.get_root()
    assert isinstance(root, folium.Figure)  # folium.Map puts itself in a Figure, the page's root
    root.header.add_child(
        folium.Element(f"<title>{html.escape(title)} · {html.escape(sub)}</title>"), name="zm_title")


def _draw_layers(m: Any, app: Any, pack: Pack, specs: list[Any], rules: list[Rule], lang: Lang) -> None:
    """Every layer drawn, each as its kind is (extents by class with the quota they carry,
    key projects counted per county, counties labelled and never simplified), and the view
    fitted to them."""
    names = [s.name for s in specs]
    shown_kinds = {s.kind for s in specs}
    counties_gdf = None
    county_specs = pack.by_kind(vocab.COUNTIES)
    if county_specs:
        counties_gdf = read_layer(pack, county_specs[0].name)
    quota_rows: dict[str, list[list[Any]]] = {}
    quota_year = ""
    for spec in pack.by_kind(vocab.QUOTA):
        if spec.name in names:
            quota = read_layer(pack, spec.name)
            quota_rows.update(_quota_rows(quota, lang))
            if "year" in quota.columns and len(quota):
                quota_year = str(int(quota["year"].iloc[0]))
    # the plan's year as the layer gives it (a later pack's plan is not the 2025 one)
    quota_title, quota_suffix = (t(k, lang).format(year=quota_year).strip() for k in ("quota", "quota_suffix"))
    app.config["ui"]["quota"] = quota_title

    bounds_src = []
    for spec in specs:
        kind_title = vocab.label(vocab.KIND_LABELS.get(spec.kind, (spec.kind, spec.kind)), lang)
        if spec.kind == vocab.KEY_PROJECTS:
            _add_key_projects(m, app, spec, read_layer(pack, spec.name), counties_gdf, lang, kind_title)
            continue
        gdf = read_layer(pack, spec.name)
        if gdf.geometry is None or gdf.geometry.isna().all():
            log.warning("layer %s has no geometry; not drawn", spec.name)
            continue
        bounds_src.append(gdf.to_crs("EPSG:4326").total_bounds)
        if spec.kind == vocab.EXTENT and "extent_class" in gdf.columns:
            classes = _class_order(spec.kind, [str(c) for c in gdf["extent_class"].dropna().unique()])
            for cls in classes:
                part = gdf[gdf["extent_class"] == cls].reset_index(drop=True)
                extra = None
                label = vocab.class_label(cls, lang)
                if cls in quota_rows:
                    extra = [{"_quota": quota_rows[cls]} for _ in range(len(part))]
                    label += " " + quota_suffix
                _add_polygon_layer(m, app, spec, part, lang, rules, key=f"{spec.name}:{cls}",
                                   title=label, extra=extra)
            continue
        if spec.kind == vocab.QUOTA:
            # its outline is the 中心城区: drawn there (popup) unless no extent layer is shown
            draw = vocab.EXTENT not in shown_kinds
            _add_polygon_layer(m, app, spec, gdf, lang, rules, key=spec.name,
                               title=quota_title, draw=draw)
            continue
        extra = None
        if spec.kind == vocab.COUNTIES:
            pts = gdf.to_crs("EPSG:4326").geometry.representative_point()
            extra = [{"_label": [round(p.y, COORD_DECIMALS), round(p.x, COORD_DECIMALS)]} for p in pts]
        # counties are not simplified: the page decides county and near-line on them
        _add_polygon_layer(m, app, spec, gdf, lang, rules, key=spec.name, title=kind_title,
                           extra=extra, tolerance=0 if spec.kind == vocab.COUNTIES else None)

    if bounds_src:
        import numpy as np

        b = np.array(bounds_src)
        m.fit_bounds([[float(b[:, 1].min()), float(b[:, 0].min())],
                      [float(b[:, 3].max()), float(b[:, 2].max())]])

