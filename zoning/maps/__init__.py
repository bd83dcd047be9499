"""Interactive HTML maps of a layer pack (folium / Leaflet).

:func:`build_map` returns a :class:`folium.Map`; saving it is the caller's business
(``zoning map`` saves it). :func:`add_sites` draws user sites coloured by verdict on any
map, so the batch check can reuse the builder.

What a map carries
------------------
- one switchable overlay per layer (counties, 中心城市规划区, 中心城区 with its land-supply
  quota, groundwater protection and control zones styled by class and level, key
  projects counted per county, user sites), a legend explaining every colour, a metric
  scale bar and a title with the pack name and date;
- popups and tooltips with Chinese (or English) attribute labels, the accuracy of the
  layer, and for zones the rules that apply (文号 + 条 + effect) from
  :func:`zoning.core.rules.rules_for_zone`;
- a click-anywhere query computed in the page (point-in-polygon in JavaScript, no
  server) that lists county, planning extents, quota, zones and rules at the spot.

Honesty: layers whose accuracy is ``indicative`` or ``demonstration`` are drawn dashed
(demonstration also hatched) and say so in the layer switcher, the legend and every popup.
Key projects have no published coordinates: they are shown as a per-county count badge
that says so, never as a site pin.

Safety: every string from a layer or a user file reaches the page as JSON (with ``<``,
``>``, ``&`` and U+2028/2029 escaped) and is put into the DOM with ``textContent``; layer
names given to Leaflet's layer control are HTML-escaped.

Size: geometries are simplified for display with topology preserved (counties with
``shapely.coverage_simplify``, zones with ``simplify(preserve_topology=True)``) and
coordinates rounded to 5 decimals (about 1 m).

Offline: ``offline=True`` inlines Leaflet's JS and CSS (with its images as data URIs)
from the installed ``XStatic-Leaflet`` package; nothing is fetched at run time. With
``basemap="none"`` the page needs no network at all.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import logging
import math
import os
import re
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from zoning.core.errors import CRSMismatchError, InputFileError, ZoningError
from zoning.core.layers import ACCURACY_LABELS, KIND_LABELS, read_layer

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from zoning.core.layers import LayerSpec, Pack
    from zoning.core.rules import Rule

__all__ = [
    "BASEMAPS",
    "VERDICTS",
    "add_sites",
    "build_map",
    "default_map_layers",
]

log = logging.getLogger(__name__)

Lang = Literal["zh", "en"]
Basemap = Literal["none", "osm", "tianditu"]

BASEMAPS: tuple[str, ...] = ("none", "osm", "tianditu")
TIANDITU_KEY_ENV = "TIANDITU_KEY"
LEAFLET_CDN_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CDN_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"

#: display coordinates are rounded to this many decimals (1e-5 deg is about 1 m)
COORD_DECIMALS = 5
#: simplification tolerance in degrees (about 10 m at 35.5 N)
SIMPLIFY_DEG = 1e-4

STATIC_DIR = Path(__file__).resolve().parent / "static"

_MAP_KINDS = ("counties", "planning_extent", "land_supply_quota", "groundwater_protection",
                "groundwater_control", "key_projects")

# ---------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------

#: attribute labels (zh, en); ``ha_<class>`` columns are labelled from the class name
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "name": ("名称", "name"),
    "name_en": ("英文名", "English name"),
    "adcode": ("行政区划代码", "adcode"),
    "area_km2": ("面积（km²）", "area (km²)"),
    "extent_class": ("范围类别", "extent class"),
    "document": ("依据文件", "document"),
    "note": ("说明", "note"),
    "zone_id": ("编号", "zone id"),
    "zone_class": ("类别", "class"),
    "level": ("级别", "level"),
    "county_name": ("所在县（市、区）", "county"),
    "town": ("乡镇", "town"),
    "year": ("年度", "year"),
    "area_name": ("范围", "area"),
    "total_ha": ("供应总量（公顷）", "total supply (ha)"),
    "total_text": ("计划原文", "as published"),
    "category": ("类别", "category"),
    "places": ("建设地点", "place"),
    "verdict": ("结论", "verdict"),
}

#: the attributes shown for each layer kind, in order (those missing are skipped)
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "counties": ("name", "name_en", "adcode", "area_km2"),
    "planning_extent": ("name", "extent_class", "area_km2", "document", "note"),
    "land_supply_quota": ("area_name", "year", "document", "total_ha"),
    "groundwater_protection": ("name", "zone_class", "level", "zone_id", "county_name", "town", "area_km2"),
    "groundwater_control": ("name", "zone_class", "level", "zone_id", "county_name", "town", "area_km2"),
}

EFFECT_LABELS: dict[str, tuple[str, str]] = {
    "prohibited": ("禁止", "prohibited"),
    "conditional": ("有条件", "conditional"),
    "obligation": ("义务", "obligation"),
    "information": ("说明", "information"),
}
_EFFECT_ORDER = {"prohibited": 0, "conditional": 1, "obligation": 2, "information": 3}

#: site verdicts: key -> (colour, zh, en); aliases below map user values onto them
VERDICTS: dict[str, tuple[str, str, str]] = {
    "prohibited": ("#d7191c", "禁止", "prohibited"),
    "conditional": ("#f07c00", "有条件", "conditional"),
    "obligations": ("#e0b400", "须履行义务", "obligations apply"),
    "clear": ("#1a9641", "无限制", "clear"),
    "needs_confirmation": ("#7b3294", "需确认", "needs confirmation"),
    "other": ("#777777", "未判定", "no verdict"),
}
_VERDICT_ALIASES = {
    "prohibited": "prohibited", "禁止": "prohibited", "不可": "prohibited",
    "conditional": "conditional", "有条件": "conditional", "附条件": "conditional",
    "obligations": "obligations", "obligation": "obligations", "obligations apply": "obligations",
    "义务": "obligations", "须履行义务": "obligations", "需履行义务": "obligations",
    "clear": "clear", "无限制": "clear", "无": "clear", "可行": "clear",
    "needs confirmation": "needs_confirmation", "needs_confirmation": "needs_confirmation",
    "unknown": "needs_confirmation", "需确认": "needs_confirmation", "待确认": "needs_confirmation",
}

#: class colours
CLASS_COLOURS: dict[str, str] = {
    "一级保护区": "#08306b",
    "二级保护区": "#2171b5",
    "准保护区": "#6baed6",
    "泉域重点保护区": "#238b45",
    "一级管控区": "#b2182b",
    "二级管控区": "#ef8a62",
    "中心城市规划区": "#8c510a",
    "中心城区": "#762a83",
}
#: English glosses of class names (the class itself stays as the gazette writes it)
CLASS_EN: dict[str, str] = {
    "一级保护区": "level-1 protection zone",
    "二级保护区": "level-2 protection zone",
    "准保护区": "quasi-protection zone",
    "泉域重点保护区": "spring-domain key protection area",
    "一级管控区": "level-1 control zone",
    "二级管控区": "level-2 control zone",
    "中心城市规划区": "central-city planning area",
    "中心城区": "central urban area",
}


def _class_label(cls: str, lang: Lang) -> str:
    return f"{cls} ({CLASS_EN[cls]})" if lang == "en" and cls in CLASS_EN else cls


_FALLBACK_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
KEY_PROJECT_COLOUR = "#37474f"
COUNTY_COLOUR = "#333333"
QUOTA_COLOUR = "#762a83"

_UI: dict[str, tuple[str, str]] = {
    "legend": ("图例", "Legend"),
    "query_title": ("点击查询", "What applies here"),
    "query_hint": ("点击地图任意位置，查询该点所在县、规划范围、供地计划、地下水分区及适用条款。",
                   "Click anywhere on the map to see the county, planning extents, quota, "
                   "groundwater zones and the rules that apply at that spot."),
    "point": ("位置", "Point"),
    "crs_note": ("CGCS2000 ≈ WGS 84 经纬度", "CGCS2000 ≈ WGS 84 lon/lat"),
    "none_here": ("此处无", "none here"),
    "outside_city": ("此点不在晋城市县级行政区内", "This point is outside the counties of 晋城市"),
    "rules": ("适用条款", "Rules that apply"),
    "no_rules": ("规则目录中无对应条款", "no rule in the catalogue names this class"),
    "not_in_force": ("当日不在有效期内", "not in force on"),
    "in_force": ("有效期", "in force"),
    "source": ("来源", "Source"),
    "quota": ("2025年度国有建设用地供应计划", "2025 state construction-land supply quota"),
    "kp_count": ("个重点工程项目", "key projects"),
    "kp_nolocation": ("位置未公布：按所在县计数，不是项目选址", "location not published: counted per county, not a site"),
    "kp_city": ("另有项目仅注明全市或晋城经济技术开发区（无县）",
                "further projects are listed for the whole city or the development zone (no county)"),
    "kp_shared": ("跨县项目在每个相关县各计一次", "a project in several counties is counted in each"),
    "kp_in_county": ("本县重点工程项目", "key projects in this county"),
    "county_uncertain": ("县界为概化数据，距县界数百米内的点归属不确定",
                         "county lines are generalised: a point within a few hundred metres of a line "
                         "cannot be assigned with certainty"),
    "positional": ("位置精度约", "positional accuracy about"),
    "accuracy": ("精度", "accuracy"),
    "honesty_line": ("虚线 = 示意范围；虚线加斜线 = 演示数据；实线 = 官方数据",
                     "dashed = indicative; dashed and hatched = demonstration; solid = official"),
    "generated": ("生成于", "generated"),
    "pack_built": ("数据包构建于", "pack built"),
    "sites": ("项目选址", "Project sites"),
    "site_verdict": ("选址结论", "site verdicts"),
    "close": ("关闭", "close"),
    "layers_used": ("本图查询所用图层", "layers in this map"),
    "not_loaded": ("（未加载到本图）", "(not in this map)"),
    "text": ("原文", "text"),
    "kp_layer": ("按县计数，位置未公布", "count per county, location not published"),
}


def _t(key: str, lang: Lang) -> str:
    zh, en = _UI[key]
    return zh if lang == "zh" else en


def _label(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _honesty(accuracy: str, lang: Lang) -> str:
    """The line every popup of a non-official layer carries."""
    zh, en = ACCURACY_LABELS.get(accuracy, (accuracy, accuracy))
    if accuracy == "official":
        return ""
    if lang == "zh":
        return f"{zh} {en} — 非官方界线，not an official outline"
    return f"{en} — not an official outline"


def _acc_label(accuracy: str, lang: Lang) -> str:
    zh, en = ACCURACY_LABELS.get(accuracy, (accuracy, accuracy))
    return f"{zh} {en}" if lang == "zh" else en


# ---------------------------------------------------------------------------------------
# Geometry and JSON helpers
# ---------------------------------------------------------------------------------------


def _to_display(gdf: gpd.GeoDataFrame, *, coverage: bool = False,
                tolerance: float = SIMPLIFY_DEG) -> gpd.GeoDataFrame:
    """WGS 84 lon/lat (what Leaflet draws), simplified with topology kept, rounded to ~1 m."""
    import numpy as np
    import shapely

    if gdf.crs is None:
        msg = "a layer without a CRS cannot be mapped; declare it (e.g. EPSG:4490)"
        raise CRSMismatchError(msg)
    out = gdf.to_crs("EPSG:4326") if not gdf.crs.equals("EPSG:4326") else gdf.copy()
    geoms = out.geometry.values
    present = ~(shapely.is_missing(np.asarray(geoms)) | shapely.is_empty(np.asarray(geoms)))
    arr = np.asarray(geoms)
    if tolerance > 0 and present.any():
        polys = present & np.isin(shapely.get_type_id(arr), (3, 6))
        if coverage and polys.all():
            arr = np.asarray(shapely.coverage_simplify(arr, tolerance))
        elif polys.any():
            arr[polys] = shapely.simplify(arr[polys], tolerance, preserve_topology=True)
    arr[present] = shapely.transform(arr[present], lambda c: np.round(c, COORD_DECIMALS))
    out = out.set_geometry(list(arr), crs="EPSG:4326")
    return out


def _scalar(value: Any) -> Any:
    """A JSON-ready plain value (None for missing)."""
    import numpy as np

    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            return None
        if v.is_integer() and abs(v) < 1e15:
            return int(v)
        return round(v, 4)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (int, str)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _feature_collection(gdf: gpd.GeoDataFrame, fields: list[str],
                        extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    import shapely

    feats = []
    for i, (geom, row) in enumerate(zip(gdf.geometry.values, gdf[fields].itertuples(index=False))):
        if geom is None or geom.is_empty:
            continue
        props = {f: _scalar(v) for f, v in zip(fields, row)}
        props = {k: v for k, v in props.items() if v is not None and v != ""}
        if extra:
            props.update(extra[i])
        feats.append({"type": "Feature", "properties": props,
                      "geometry": json.loads(shapely.to_geojson(geom))})
    return {"type": "FeatureCollection", "features": feats}


def json_for_script(obj: Any) -> str:
    """JSON safe to embed in an HTML ``<script>``: ``</``, ``<!--`` and ``]]>`` cannot occur.

    ``<``, ``>`` and ``&`` become ``\\u003c`` etc. (valid inside JSON strings, the only place
    they can appear) and U+2028/2029, which end a JavaScript line, are escaped too.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# ---------------------------------------------------------------------------------------
# Styles
# ---------------------------------------------------------------------------------------


def _dash(accuracy: str) -> str | None:
    return {"indicative": "8 6", "demonstration": "5 4"}.get(accuracy)


def _class_style(colour: str, accuracy: str, level: int, pattern_id: str | None) -> dict[str, Any]:
    weight = {1: 2.5, 2: 1.6}.get(level, 1.8)
    style: dict[str, Any] = {"color": colour, "weight": weight, "opacity": 0.95,
                             "fillColor": colour, "fillOpacity": 0.35}
    dash = _dash(accuracy)
    if dash:
        style["dashArray"] = dash
    if accuracy == "demonstration" and pattern_id:
        style["fillColor"] = f"url(#{pattern_id})"
        style["fillOpacity"] = 0.9
    return style


@dataclass
class _Patterns:
    """SVG hatch patterns for demonstration fills (ids are generated, colours are ours)."""

    defs: "OrderedDict[str, str]"

    def get(self, colour: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
            colour = "#777777"
        pid = "zm-hatch-" + colour[1:].lower()
        if pid not in self.defs:
            self.defs[pid] = (
                f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="7" height="7" '
                f'patternTransform="rotate(45)"><rect width="7" height="7" fill="{colour}" '
                f'fill-opacity="0.12"/><line x1="0" y1="0" x2="0" y2="7" stroke="{colour}" '
                f'stroke-width="2.4" stroke-opacity="0.75"/></pattern>'
            )
        return pid


def _level_of(zone_class: str) -> int:
    return 1 if zone_class.startswith("一级") else 2 if zone_class.startswith("二级") else 0


# ---------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------


def _rules_payload(rules: list[Rule], lang: Lang, today: dt.date) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rules:
        in_force = r.in_force
        span = f"{in_force.from_.isoformat()} – {in_force.to.isoformat() if in_force.to else '…'}"
        out[r.id] = {
            "c": f"{r.document} {r.article}".strip(),
            "e": r.effect,
            "el": _label(EFFECT_LABELS.get(r.effect, (r.effect, r.effect)), lang),
            "s": r.summary_en if lang == "en" else "",
            "t": r.text,
            "f": span,
            "ok": bool(in_force.covers(today)),
        }
    return out


def _rule_ids_for(rules: list[Rule], kind: str, classes: list[str]) -> dict[str, list[str]]:
    from zoning.core.rules import ZONE_KINDS, rules_for_zone

    out: dict[str, list[str]] = {}
    if kind not in ZONE_KINDS:
        return out
    for cls in classes:
        if cls not in ZONE_KINDS[kind]:
            continue
        found = rules_for_zone(rules, kind, cls)
        found.sort(key=lambda r: (_EFFECT_ORDER.get(r.effect, 9), r.id))
        out[cls] = [r.id for r in found]
    return out


# ---------------------------------------------------------------------------------------
# The page application (one per map)
# ---------------------------------------------------------------------------------------


def _make_app_class():
    from branca.element import MacroElement
    from jinja2 import Template

    class ZoningApp(MacroElement):
        """The zoning page script: data, styles, legend, popups and the click query."""

        _template = Template(
            """
            {% macro header(this, kwargs) %}
            <style>{{ this.css }}</style>
            {% endmacro %}
            {% macro html(this, kwargs) %}
            <svg class="zm-defs" width="0" height="0" style="position:absolute" aria-hidden="true"><defs>{{ this.pattern_defs }}</defs></svg>
            {% endmacro %}
            {% macro script(this, kwargs) %}
            {{ this.js }}
            ZoningMap.init({{ this._parent.get_name() }}, {{ this.config_json() }}, {{ this.groups_js() }});
            {% endmacro %}
            """
        )

        def __init__(self, lang: Lang) -> None:
            super().__init__()
            self._name = "ZoningApp"
            self.lang = lang
            self.config: dict[str, Any] = {
                "lang": lang,
                "ui": {k: _t(k, lang) for k in _UI},
                "title": "",
                "subtitle": "",
                "rules": {},
                "layers": [],
                "legend_notes": [],
            }
            self.groups: "OrderedDict[str, Any]" = OrderedDict()
            self.patterns = _Patterns(OrderedDict())
            self.css = (STATIC_DIR / "zoning_map.css").read_text(encoding="utf-8")
            self.js = (STATIC_DIR / "zoning_map.js").read_text(encoding="utf-8")

        @property
        def pattern_defs(self) -> str:
            return "".join(self.patterns.defs.values())

        def config_json(self) -> str:
            return json_for_script(self.config)

        def groups_js(self) -> str:
            items = [f"{json_for_script(key)}: {fg.get_name()}" for key, fg in self.groups.items()]
            return "{" + ", ".join(items) + "}"

    return ZoningApp


_APP_CLASS: Any = None


def _app_of(m: folium.Map, lang: Lang) -> Any:
    """The map's ZoningApp, created (with the map's Leaflet assets) if missing."""
    global _APP_CLASS
    app = getattr(m, "_zoning_app", None)
    if app is None:
        if _APP_CLASS is None:
            _APP_CLASS = _make_app_class()
        app = _APP_CLASS(lang)
        m.add_child(app)
        m._zoning_app = app  # type: ignore[attr-defined]
    return app


def _keep_controls_last(m: folium.Map) -> None:
    """Scripts run in insertion order: layer groups, then the app, then the layer control."""
    from folium.map import LayerControl

    app = getattr(m, "_zoning_app", None)
    if app is not None:
        m._children.move_to_end(app.get_name())
    for key, child in list(m._children.items()):
        if isinstance(child, LayerControl):
            m._children.move_to_end(key)


def _add_group(m: folium.Map, app: Any, key: str, name: str, show: bool = True) -> Any:
    import folium

    fg = folium.FeatureGroup(name=html.escape(name), show=show, overlay=True, control=True)
    m.add_child(fg)
    app.groups[key] = fg
    return fg


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


def _field_labels(fields: list[str], lang: Lang, classes_en: dict[str, str] | None = None) -> list[list[str]]:
    out = []
    for f in fields:
        if f in FIELD_LABELS:
            out.append([f, _label(FIELD_LABELS[f], lang)])
        elif f.startswith("ha_"):
            cls = f[3:]
            en = (classes_en or {}).get(cls, cls)
            out.append([f, f"{cls}（公顷）" if lang == "zh" else f"{en} (ha)"])
        else:
            out.append([f, f])
    return out


def _layer_meta(spec: LayerSpec, lang: Lang) -> dict[str, Any]:
    prov = spec.provenance or {}
    docs = prov.get("documents") or []
    source_bits = []
    if docs:
        source_bits.append("、".join(str(d) for d in docs))
    if prov.get("dataset"):
        source_bits.append(f"{prov['dataset']} {prov.get('version', '')}".strip())
    method = str(prov.get("method", ""))
    if method:
        source_bits.append(method)
    meta = {
        "name": spec.name,
        "kind": spec.kind,
        "accuracy": spec.accuracy,
        "acc_label": _acc_label(spec.accuracy, lang),
        "honesty": _honesty(spec.accuracy, lang),
        "source": " · ".join(source_bits),
        "positional_m": spec.positional_accuracy_m,
    }
    return meta


def _quota_rows(quota: gpd.GeoDataFrame, lang: Lang) -> dict[str, list[list[Any]]]:
    """Per area_name, the labelled rows of its quota (for the 中心城区 popup)."""
    out: dict[str, list[list[Any]]] = {}
    for _, row in quota.iterrows():
        classes_en = _parse_classes_en(row.get("classes_en"))
        fields = [c for c in ("year", "document", "total_ha") if c in quota.columns]
        fields += [c for c in quota.columns if c.startswith("ha_")]
        rows = [[lab, _scalar(row[f])] for f, lab in _field_labels(fields, lang, classes_en)
                if _scalar(row[f]) not in (None, "")]
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


def _colour_for(cls: str, i: int) -> str:
    return CLASS_COLOURS.get(cls, _FALLBACK_COLOURS[i % len(_FALLBACK_COLOURS)])


def _add_polygon_layer(m: folium.Map, app: Any, spec: LayerSpec, gdf: gpd.GeoDataFrame, lang: Lang,
                       rules: list[Rule], *, key: str, title: str, show: bool = True,
                       draw: bool = True, extra: list[dict[str, Any]] | None = None,
                       coverage: bool = False, legend_note: str = "") -> None:
    disp = _to_display(gdf, coverage=coverage)
    fields = _fields_for(spec, gdf)
    class_field = spec.class_fields[0] if spec.class_fields else None
    if class_field and class_field not in gdf.columns:
        class_field = None
    classes = sorted({str(c) for c in gdf[class_field].dropna()}) if class_field else []
    if spec.kind in ("groundwater_protection", "groundwater_control", "planning_extent"):
        from zoning.core.rules import ZONE_KINDS

        order = list(ZONE_KINDS.get(spec.kind, ()))
        classes.sort(key=lambda c: order.index(c) if c in order else 99)
    styles: dict[str, dict[str, Any]] = {}
    legend: list[dict[str, Any]] = []
    if spec.kind == "counties":
        base = {"color": COUNTY_COLOUR, "weight": 2.2, "opacity": 0.9, "fill": False}
        if _dash(spec.accuracy):
            base["dashArray"] = _dash(spec.accuracy)
        legend.append({"label": title, "style": base})
    elif classes and spec.kind != "land_supply_quota":
        base = _class_style("#777777", spec.accuracy, 0, None)
        for i, cls in enumerate(classes):
            colour = _colour_for(cls, i)
            pid = app.patterns.get(colour) if spec.accuracy == "demonstration" else None
            st = _class_style(colour, spec.accuracy, _level_of(cls), pid)
            if spec.kind == "planning_extent":
                st["fillOpacity"] = 0.08 if spec.accuracy != "demonstration" else st["fillOpacity"]
                st["weight"] = 3
            styles[cls] = st
            legend.append({"label": _class_label(cls, lang), "style": st})
    else:
        colour = QUOTA_COLOUR if spec.kind == "land_supply_quota" else _colour_for(spec.name, 0)
        pid = app.patterns.get(colour) if spec.accuracy == "demonstration" else None
        base = _class_style(colour, spec.accuracy, 0, pid)
        base["fillOpacity"] = min(base["fillOpacity"], 0.15)
        legend.append({"label": title, "style": base})
    entry = {
        **_layer_meta(spec, lang),
        "key": key,
        "title": title,
        "draw": draw,
        "query": True,
        "fields": _field_labels(fields, lang),
        "class_field": class_field,
        "base_style": base,
        "styles": styles,
        "rules_by_class": _rule_ids_for(rules, spec.kind, classes),
        "legend": legend if draw else [],
        "legend_note": legend_note,
        "data": _feature_collection(disp, fields, extra),
    }
    app.config["layers"].append(entry)
    if draw:
        _add_group(m, app, key, f"{title}［{entry['acc_label']}］", show=show)


def _add_key_projects(m: folium.Map, app: Any, spec: LayerSpec, projects: gpd.GeoDataFrame,
                      counties: gpd.GeoDataFrame | None, lang: Lang, title: str) -> None:
    """Key projects counted per county at the county's representative point; never a pin."""
    county_field = spec.county_field or "county_adcodes"
    items_by_county: dict[str, list[list[Any]]] = {}
    city_items: list[list[Any]] = []
    for _, row in projects.iterrows():
        item = [_scalar(row.get(c)) or "" for c in ("name", "level", "category", "year")]
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
        "kind": "key_projects",
        "draw": True,
        "query": False,
        "groups": groups,
        "city_items": city_items,
        "columns": [_label(FIELD_LABELS["name"], lang), _label(FIELD_LABELS["level"], lang),
                    _label(FIELD_LABELS["category"], lang), _label(FIELD_LABELS["year"], lang)],
        "legend": [{"label": title, "badge": True}],
        "legend_note": (f"{_t('kp_nolocation', lang)}；{_t('kp_shared', lang)}" if lang == "zh"
                        else f"{_t('kp_nolocation', lang)}; {_t('kp_shared', lang)}"),
    }
    app.config["layers"].append(entry)
    _add_group(m, app, spec.name, f"{title}［{_t('kp_layer', lang)}］")


# ---------------------------------------------------------------------------------------
# Basemaps and assets
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


def _leaflet_dir() -> Path:
    try:
        from xstatic.pkg import leaflet as xleaflet
    except ImportError as exc:
        msg = ("offline maps inline Leaflet from the XStatic-Leaflet package, which is not installed: "
               "pip install XStatic-Leaflet")
        raise ZoningError(msg) from exc
    return Path(xleaflet.BASE_DIR)


def leaflet_inline_assets() -> tuple[str, str]:
    """(leaflet.js, leaflet.css) from the installed XStatic-Leaflet, CSS images as data URIs."""
    base = _leaflet_dir()
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        rel = match.group(1).strip("'\"")
        path = base / rel
        if not path.is_file():
            return match.group(0)
        b64 = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{b64})"

    css = re.sub(r"url\((images/[^)]+)\)", data_uri, css)
    # nothing in either may close the <script>/<style> element it is put in
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    css = re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)
    return js, css


def _set_assets(m: folium.Map, offline: bool) -> None:
    import folium

    if offline:
        js, css = leaflet_inline_assets()
        m.default_js = []  # type: ignore[misc]
        m.default_css = []  # type: ignore[misc]
        m.get_root().header.add_child(
            folium.Element(f"<style>{css}</style>\n<script>{js}</script>"), name="leaflet_inline")
    else:
        # Leaflet only: these maps use no jQuery, Bootstrap or awesome-markers
        m.default_js = [("leaflet", LEAFLET_CDN_JS)]  # type: ignore[misc]
        m.default_css = [("leaflet_css", LEAFLET_CDN_CSS)]  # type: ignore[misc]


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
        The date printed in the title and used to flag rules not in force (default: today).

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

    if lang not in ("zh", "en"):
        msg = f"lang was {lang!r} but is expected to be 'zh' or 'en'"
        raise ZoningError(msg)
    if basemap not in BASEMAPS:
        msg = f"basemap was {basemap!r} but is expected to be one of {', '.join(BASEMAPS)}"
        raise ZoningError(msg)
    today = today or dt.date.today()
    names = list(layers) if layers else default_map_layers(pack)
    specs = [pack.layer(n) for n in names]  # raises LayerNotFoundError listing the names
    raster = [s.name for s in specs if s.kind == "raster"]
    if raster:
        msg = f"raster layer(s) {', '.join(raster)} cannot be drawn on the HTML map yet"
        raise ZoningError(msg)
    if offline and basemap != "none":
        warnings.warn(f"--offline inlines the map's code, but the {basemap} tiles still need the "
                      f"network; use --basemap none for a map that works with no network",
                      stacklevel=2)

    if rules is None:
        rules = []
        if pack.rules_dir is not None and Path(pack.rules_dir).is_dir():
            from zoning.core.rules import load_rules

            rules = load_rules(pack.rules_dir)

    m = folium.Map(location=[35.6, 112.75], zoom_start=9, tiles=None, control_scale=False,
                   prefer_canvas=False, zoom_control=True)
    _set_assets(m, offline)
    _add_basemap(m, basemap, lang)
    app = _app_of(m, lang)
    title = f"{pack.title}（{pack.name}）" if lang == "zh" else f"{pack.title} ({pack.name})"
    built = pack.meta.get("built")
    sub = f"{_t('generated', lang)} {today.isoformat()}"
    if built:
        sub += f" · {_t('pack_built', lang)} {built}"
    app.config["title"] = title
    app.config["subtitle"] = sub
    app.config["today"] = today.isoformat()
    app.config["rules"] = _rules_payload(rules, lang, today)
    m.get_root().header.add_child(
        folium.Element(f"<title>{html.escape(title)} · {html.escape(sub)}</title>"), name="zm_title")

    shown_kinds = {s.kind for s in specs}
    counties_gdf = None
    county_specs = pack.by_kind("counties")
    if county_specs:
        counties_gdf = read_layer(pack, county_specs[0].name)

    quota_rows: dict[str, list[list[Any]]] = {}
    for spec in pack.by_kind("land_supply_quota"):
        if spec.name in names:
            quota_rows.update(_quota_rows(read_layer(pack, spec.name), lang))

    bounds_src = []
    for spec in specs:
        kind_title = _label(KIND_LABELS.get(spec.kind, (spec.kind, spec.kind)), lang)
        if spec.kind == "key_projects":
            _add_key_projects(m, app, spec, read_layer(pack, spec.name), counties_gdf, lang,
                              kind_title)
            continue
        gdf = read_layer(pack, spec.name)
        if gdf.geometry is None or gdf.geometry.isna().all():
            log.warning("layer %s has no geometry; not drawn", spec.name)
            continue
        bounds_src.append(gdf.to_crs("EPSG:4326").total_bounds)
        if spec.kind == "planning_extent" and "extent_class" in gdf.columns:
            from zoning.core.rules import ZONE_KINDS

            order = list(ZONE_KINDS["planning_extent"])
            classes = sorted({str(c) for c in gdf["extent_class"].dropna()},
                             key=lambda c: order.index(c) if c in order else 99)
            for cls in classes:
                part = gdf[gdf["extent_class"] == cls].reset_index(drop=True)
                extra = None
                if cls in quota_rows:
                    extra = [{"_quota": quota_rows[cls]} for _ in range(len(part))]
                label = _class_label(cls, lang)
                if cls in quota_rows:
                    label += " · 2025年度供地计划" if lang == "zh" else " · 2025 land-supply quota"
                _add_polygon_layer(m, app, spec, part, lang, rules, key=f"{spec.name}:{cls}",
                                   title=label, extra=extra)
            continue
        if spec.kind == "land_supply_quota":
            # its outline is the 中心城区: drawn there (popup) unless no extent layer is shown
            draw = "planning_extent" not in shown_kinds
            _add_polygon_layer(m, app, spec, gdf, lang, rules, key=spec.name,
                               title=_t("quota", lang), draw=draw)
            continue
        extra = None
        if spec.kind == "counties":
            pts = gdf.to_crs("EPSG:4326").geometry.representative_point()
            extra = [{"_label": [round(p.y, COORD_DECIMALS), round(p.x, COORD_DECIMALS)]} for p in pts]
        _add_polygon_layer(m, app, spec, gdf, lang, rules, key=spec.name,
                           title=kind_title, coverage=spec.kind == "counties", extra=extra)

    if bounds_src:
        import numpy as np

        b = np.array(bounds_src)
        m.fit_bounds([[float(b[:, 1].min()), float(b[:, 0].min())],
                      [float(b[:, 3].max()), float(b[:, 2].max())]])

    if sites is not None:
        add_sites(m, sites, lang)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _keep_controls_last(m)
    m._zoning_meta = {"pack": pack.name, "layers": names, "offline": offline,  # type: ignore[attr-defined]
                      "basemap": basemap, "lang": lang}
    return m


def _normalise_verdict(value: Any) -> str:
    if value is None:
        return "other"
    v = str(value).strip()
    if not v or v.lower() in ("nan", "none"):
        return "other"
    key = v.lower().replace("-", " ")
    if key in _VERDICT_ALIASES:
        return _VERDICT_ALIASES[key]
    key = key.replace(" ", "_")
    return _VERDICT_ALIASES.get(key, key if key in VERDICTS else "other")


def read_sites(path: str | Path) -> gpd.GeoDataFrame:
    """Read a sites file (GeoJSON, GeoPackage, shapefile…) with :func:`zoning.inputs.vectors.read_vector_file`."""
    from zoning.inputs.vectors import read_vector_file

    gdf, _notes = read_vector_file(path)
    return gdf


def add_sites(m: folium.Map, sites: gpd.GeoDataFrame | str | Path, lang: Lang = "zh", *,
              name: str | None = None, show: bool = True) -> folium.Map:
    """Draw user sites on ``m``, coloured by their ``verdict``; returns ``m``.

    ``sites`` is a GeoDataFrame (points or red-line polygons, any CRS) or a vector file,
    with a ``name`` column and optionally ``verdict`` (prohibited / conditional /
    obligations / clear / needs confirmation, or the Chinese words 禁止 / 有条件 /
    须履行义务 / 无限制 / 需确认). Every other scalar column is shown in the popup.
    Works on any folium map; on one from :func:`build_map` the sites join its legend,
    layer switcher and click query.

    Raises
    ------
    InputFileError
        No ``name`` column, or no geometry.
    CRSMismatchError
        No CRS and coordinates that are not longitude/latitude.
    """
    import folium
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
    app = _app_of(m, lang)
    if not app.config.get("title"):
        app.config["title"] = name or _t("sites", lang)
    key = "sites"
    n = 1
    while key in app.groups:
        n += 1
        key = f"sites-{n}"
    disp = _to_display(sites.reset_index(drop=True), tolerance=0)
    geom_col = disp.geometry.name
    fields = ["name"] + [c for c in disp.columns if c not in ("name", geom_col)
                         and disp[c].dtype.kind in "biufOUSMm" and not c.startswith("_")][:15]
    extra = [{"_verdict": _normalise_verdict(v)} for v in
             (disp["verdict"] if "verdict" in disp.columns else [None] * len(disp))]
    used = []
    for e in extra:
        if e["_verdict"] not in used:
            used.append(e["_verdict"])
    order = list(VERDICTS)
    used.sort(key=order.index)
    styles = {}
    for v in order:
        colour = VERDICTS[v][0]
        styles[v] = {"color": colour, "weight": 3, "opacity": 1, "fillColor": colour,
                     "fillOpacity": 0.35, "radius": 7}
    title = name or _t("sites", lang)
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
        "fields": _field_labels(fields, lang),
        "class_field": "_verdict",
        "class_labels": {v: (VERDICTS[v][1] if lang == "zh" else VERDICTS[v][2]) for v in VERDICTS},
        "base_style": styles["other"],
        "styles": styles,
        "rules_by_class": {},
        "legend": [{"label": (VERDICTS[v][1] if lang == "zh" else VERDICTS[v][2]), "style": styles[v],
                    "point": True} for v in used],
        "legend_note": "",
        "data": _feature_collection(disp, fields, extra),
    }
    app.config["layers"].append(entry)
    fg = folium.FeatureGroup(name=html.escape(title), show=show, overlay=True, control=True)
    m.add_child(fg)
    app.groups[key] = fg
    _keep_controls_last(m)
    return m
