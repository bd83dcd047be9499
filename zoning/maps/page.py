"""The page: its own UI strings, Leaflet assets, and the element that carries the script.

One :class:`ZoningApp` per map holds the configuration the script receives (vocabulary,
rules, project attributes, layers) and the feature groups it fills.
"""

from __future__ import annotations

import base64
import html
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from zoning.core.errors import ZoningError
from zoning.maps.geometry import json_for_script
from zoning.maps.payload import answer_payload

if TYPE_CHECKING:
    import folium

Lang = Literal["zh", "en"]

LEAFLET_CDN_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CDN_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"
STATIC_DIR = Path(__file__).resolve().parent / "static"

#: the map's own UI strings (zh, en); classes, verdicts and their labels come from
#: :mod:`zoning.core.vocab`
UI: dict[str, tuple[str, str]] = {
    "legend": ("图例", "Legend"),
    "query_title": ("点击查询", "What applies here"),
    "query_hint": ("点击地图任意位置，查询该点所在县、规划范围、供地计划、地下水分区、适用条款及项目结论。",
                   "Click anywhere on the map to see the county, planning extents, quota, "
                   "groundwater zones, the rules that apply and the verdict for the project."),
    "point": ("位置", "Point"),
    "crs_note": ("CGCS2000 ≈ WGS 84 经纬度", "CGCS2000 ≈ WGS 84 lon/lat"),
    "none_here": ("此处无", "none here"),
    "outside_city": ("此点不在晋城市县级行政区内", "This point is outside the counties of 晋城市"),
    "rules": ("适用条款", "Rules that apply"),
    "no_rules": ("规则目录中无对应条款", "no rule in the catalogue names this class"),
    "not_in_force": ("当日不在有效期内", "not in force on"),
    "in_force": ("有效期", "in force"),
    "source": ("来源", "Source"),
    # {year}: the year of the pack's quota layer (maps.build fills it in)
    "quota": ("{year}年度国有建设用地供应计划", "{year} state construction-land supply quota"),
    "quota_suffix": (" · {year}年度供地计划", " · {year} land-supply quota"),
    "kp_count": ("个重点工程项目", "key projects"),
    "kp_badge": ("项 · 位置未公布", "projects · no location"),
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
    # the answer
    "answer": ("此处结论", "The answer here"),
    "near_line": ("距县界约 {d} 米，在县界图层定位精度（{m} 米）之内，归属不确定",
                  "about {d} m from a county line, within the county layer's positional accuracy ({m} m): "
                  "the county is uncertain"),
    "may_be_in": ("也可能属于", "it may lie in"),
    "maybe_outside": ("此点在晋城市界外约 {d} 米，在定位精度之内：按最近的县处理，也可能不在晋城市境内",
                      "about {d} m outside the city's outline, within the positional accuracy: taken as in the "
                      "nearest county, and it may lie outside 晋城市"),
    "inside": ("在内", "inside"),
    "outside": ("不在内", "outside"),
    "zones": ("所在分区", "Zones here"),
    "governing": ("从严适用", "Governing"),
    "verdict": ("结论", "Verdict"),
    "by_articles": ("依据", "by"),
    "to_confirm": ("请补充项目属性", "Describe the project further"),
    "no_verdict_outside": ("此点不在晋城市内，数据包中无条款适用", "outside 晋城市: no rule of the pack applies"),
    "missing_layers": ("本图未载入以下图层，不给结论：", "not in this map, so no verdict is given: "),
    "rule_status": ("适用条款及其状态", "Applicable rules and their status"),
    "city_wide": ("全市", "city-wide"),
    "project": ("项目描述（用于判定结论）", "The project (for the verdict)"),
    # {needs} is the verdict's label from the vocabulary
    "project_note": ("未填写的属性视为未知：依赖该属性的限制性条款给出“{needs}”，不会当作“否”。",
                     "An attribute left blank is unknown: a rule that could prohibit or condition the "
                     "project then gives \u201c{needs}\u201d, never a silent no."),
    "date": ("查询日期", "Date"),
    "unknown_value": ("— 未知 —", "— not known —"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "accuracy_warning": ("分区图层为非官方数据，结论仅供参考", "the zone layers are not official outlines: "
                         "the verdict is illustrative only"),
    # {cls}: a class name from the vocabulary; {attr}: the label of its membership attribute
    "membership_uncertain": ("{cls}为示意范围，此点是否属于{cls}待确认：适用于{cls}的条款按“可能适用”评价"
                             "（在项目描述中填写“{attr}”即可确定）",
                             "{cls} is an indicative outline and whether this point lies in it is uncertain: "
                             "its rules are evaluated as possibly applying (settle it with \u201c{attr}\u201d "
                             "in the project description)"),
    "possibly": ("可能适用", "possibly applying"),
    "by_subject": ("分项结论", "By subject"),
    "quota_plan": ("{year}年度{area}国有建设用地供应计划（{doc}），合计 {total} 公顷",
                   "{year} state construction-land supply plan of {area} ({doc}), total {total} ha"),
    "quota_expired": ("已过期（{to}），数字仅供参考", "expired on {to}: figures kept for reference"),
    "quota_not_yet": ("尚未生效（{from}）", "not yet in force ({from})"),
    "quota_if": ("若此点属于{cls}：", "if the point lies in {cls}: "),
    "quota_none": ("无公布的供应计划覆盖此点", "no published land-supply quota covers this point"),
    "basis": ("结论所依据的图层", "Layers the answer rests on"),
    "bad_value": ("无法识别，按未知处理", "not recognised, taken as unknown"),
    "industry_hint": ("GB/T 4754-2017 代码或名称，或行业词，如 2710、化工", "a GB/T 4754-2017 code or name, or a word, e.g. 2710"),
    "industry_read": ("识别为", "read as"),
    "industry_possible": ("可能属于", "possibly"),
}


def t(key: str, lang: Lang) -> str:
    zh, en = UI[key]
    return zh if lang == "zh" else en


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


def field_labels(fields: list[str], lang: Lang, classes_en: dict[str, str] | None = None) -> list[list[str]]:
    out = []
    for f in fields:
        if f in FIELD_LABELS:
            out.append([f, (FIELD_LABELS[f][0] if lang == "zh" else FIELD_LABELS[f][1])])
        elif f.startswith("ha_"):
            cls = f[3:]
            en = (classes_en or {}).get(cls, cls)
            out.append([f, f"{cls}（公顷）" if lang == "zh" else f"{en} (ha)"])
        else:
            out.append([f, f])
    return out


# ---------------------------------------------------------------------------------------
# Hatch patterns for demonstration fills
# ---------------------------------------------------------------------------------------


@dataclass
class Patterns:
    """SVG hatch patterns for demonstration fills (ids are generated, colours are ours)."""

    defs: OrderedDict[str, str]

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
                "ui": {k: t(k, lang) for k in UI},
                **answer_payload(lang),
                "title": "",
                "subtitle": "",
                "today": None,
                "rules": [],
                "attributes": [],
                "industries": {},
                "missing_kinds": [],
                "layers": [],
                "legend_notes": [],
            }
            self.groups: OrderedDict[str, Any] = OrderedDict()
            self.patterns = Patterns(OrderedDict())
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


def app_of(m: folium.Map, lang: Lang) -> Any:
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


def keep_controls_last(m: folium.Map) -> None:
    """Scripts run in insertion order: layer groups, then the app, then the layer control."""
    from folium.map import LayerControl

    app = getattr(m, "_zoning_app", None)
    if app is not None:
        m._children.move_to_end(app.get_name())
    for key, child in list(m._children.items()):
        if isinstance(child, LayerControl):
            m._children.move_to_end(key)


def add_group(m: folium.Map, app: Any, key: str, name: str, show: bool = True) -> Any:
    """A switchable overlay; its name is HTML-escaped (Leaflet's layer control sets innerHTML)."""
    import folium

    fg = folium.FeatureGroup(name=html.escape(name), show=show, overlay=True, control=True)
    m.add_child(fg)
    app.groups[key] = fg
    return fg


# ---------------------------------------------------------------------------------------
# Leaflet assets
# ---------------------------------------------------------------------------------------


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


def set_assets(m: folium.Map, offline: bool) -> None:
    import folium

    if offline:
        js, css = leaflet_inline_assets()
        m.default_js = []  # type: ignore[misc]
        m.default_css = []  # type: ignore[misc]
        root = m.get_root()
        assert isinstance(root, folium.Figure)  # folium.Map puts itself in a Figure, the page's root
        root.header.add_child(
            folium.Element(f"<style>{css}</style>\n<script>{js}</script>"), name="leaflet_inline")
    else:
        # Leaflet only: these maps use no jQuery, Bootstrap or awesome-markers
        m.default_js = [("leaflet", LEAFLET_CDN_JS)]  # type: ignore[misc]
        m.default_css = [("leaflet_css", LEAFLET_CDN_CSS)]  # type: ignore[misc]
