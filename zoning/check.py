"""Batch-check project sites against the control zones and planning extents.

:func:`check_sites` takes sites (a file path, or a GeoDataFrame from
:func:`zoning.inputs.sites.read_sites`) and returns one result row per site, in input order:
the zones it touches with overlap in ha, 亩 and % of the site (points: containment),
中心城市规划区 / 中心城区, its county (shares when it crosses a county line), a verdict
from the same rule engine as ``zoning query`` (:func:`zoning.core.verdicts.evaluate_place`),
the articles that produced it, the accuracy of the layers it rests on, and a status.

:func:`iter_check` does the same chunk by chunk with bounded memory (the CLI uses it);
:func:`summarise_by_county` and :func:`quota_accounting` aggregate results (both can be
fed chunk by chunk through :func:`county_counts` / :func:`quota_usage`).

Result columns (English names; :data:`zoning.outputs.reports.COLUMN_LABELS` gives Chinese ones):
``source row site_id site_name status_code status lon lat geom_type site_area_ha
site_area_mu county county_adcode county_shares county_note in_planning_area
planning_area_pct in_central_city central_city_pct protection_class protection_ha
protection_pct control_level control_ha control_pct zones zone_ids verdict articles
missing_attributes rule_ids basis_accuracy demonstration_basis basis_layers land_use
quota_class area_ha_stated quota_area_ha`` + the project attributes given + ``input_crs
input_notes`` + the input file's other columns.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.core import settings, vocab
from zoning.core.answer import VERDICT_COLUMNS, Verdicts
from zoning.core.context import PackContext, load_context
from zoning.core.errors import RuleError
from zoning.core.layers import Pack
from zoning.core.rules import PROJECT_ATTRIBUTES, validate_project
from zoning.core.vocab import NOT_CHECKED, VERDICTS

if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.core.hits import Hits
    from zoning.inputs.sites import Messages

__all__ = [
    "BOOLEAN_COLUMNS",
    "CheckContext",
    "NUMERIC_COLUMNS",
    "RESULT_COLUMNS",
    "RESULT_LABELS",
    "project_for_row",
    "TEXT_COLUMNS",
    "assemble",
    "build_context",
    "check_sites",
    "Tally",
    "UNLOCATED_COUNTY",
    "county_counts",
    "iter_check",
    "match_land_use",
    "quota_accounting",
    "quota_status",
    "quota_usage",
    "summarise_by_county",
    "stated_columns",
]

RESULT_COLUMNS: tuple[str, ...] = (
    "source", "row", "site_id", "site_name", "status_code", "status", "lon", "lat", "geom_type",
    "site_area_ha", "site_area_mu", "county", "county_adcode", "county_shares", "county_note",
    "in_planning_area", "planning_area_pct", "in_central_city", "central_city_pct",
    "protection_class", "protection_ha", "protection_pct", "control_level", "control_ha", "control_pct",
    "zones", "zone_ids", "verdict", "verdict_groundwater", "verdict_land", "verdict_approval", "verdict_water",
    "articles", "missing_attributes", "rule_ids",
    "basis_accuracy", "demonstration_basis", "basis_layers",
    "land_use", "quota_class", "area_ha_stated", "quota_area_ha",
    "nearest_zones", "nearest_zone_m", "near_zone",
)

#: Chinese and English labels of the result columns (headers of every report).
RESULT_LABELS: dict[str, tuple[str, str]] = {
    "source": ("来源文件", "source file"),
    "row": ("行号", "row"),
    "site_id": ("编号", "id"),
    "site_name": ("项目名称", "name"),
    "status_code": ("状态", "status"),
    "status": ("问题说明", "problem"),
    "lon": ("经度", "longitude"),
    "lat": ("纬度", "latitude"),
    "geom_type": ("几何类型", "geometry type"),
    "site_area_ha": ("用地面积(公顷)", "site area (ha)"),
    "site_area_mu": ("用地面积(亩)", "site area (亩)"),
    "county": ("所在县(市、区)", "county"),
    "county_adcode": ("行政区代码", "adcode"),
    "county_shares": ("跨县占比", "county shares"),
    "county_note": ("县界说明", "county note"),
    "in_planning_area": (f"位于{vocab.PLANNING_AREA}", f"in {vocab.PLANNING_AREA}"),
    **{f"verdict_{s}": (f"结论-{vocab.SUBJECT_LABELS[s][0]}", f"verdict: {vocab.SUBJECT_LABELS[s][1]}")
       for s in vocab.SUBJECTS},
    "planning_area_pct": (f"{vocab.PLANNING_AREA}占比%", f"{vocab.PLANNING_AREA} %"),
    "in_central_city": (f"位于{vocab.CENTRAL_AREA}", f"in {vocab.CENTRAL_AREA}"),
    "central_city_pct": (f"{vocab.CENTRAL_AREA}占比%", f"{vocab.CENTRAL_AREA} %"),
    "protection_class": ("地下水保护类区域", "groundwater protection class"),
    "protection_ha": ("保护类区域重叠(公顷)", "protection overlap (ha)"),
    "protection_pct": ("保护类区域占比%", "protection overlap %"),
    "control_level": ("地下水管控类区域", "groundwater control level"),
    "control_ha": ("管控类区域重叠(公顷)", "control overlap (ha)"),
    "control_pct": ("管控类区域占比%", "control overlap %"),
    "zones": ("涉及分区(类别 名称 [编号] 公顷/亩/占比)", "zones (class name [id] ha / 亩 / %)"),
    "zone_ids": ("分区编号", "zone ids"),
    "verdict": ("结论", "verdict"),
    "articles": ("依据条款", "articles"),
    "missing_attributes": ("需补充的项目信息", "attributes needed"),
    "rule_ids": ("规则编号", "rule ids"),
    "basis_accuracy": ("依据图层精度", "accuracy of the layers used"),
    "demonstration_basis": ("依据演示数据", "rests on demonstration data"),
    "basis_layers": ("依据图层", "layers used"),
    "land_use": ("用地类别", "land-use class"),
    "quota_class": ("供地计划类别", "quota class"),
    "area_ha_stated": ("申报面积(公顷)", "stated area (ha)"),
    "quota_area_ha": ("计入供地计划面积(公顷)", "area counted to the quota (ha)"),
    "nearest_zones": ("最近分区(类别 距离 方位)", "nearest zones (class distance direction)"),
    "nearest_zone_m": ("距最近分区(米)", "distance to the nearest zone (m)"),
    "near_zone": ("邻近分区(--near)", "near a zone (--near)"),
    "input_crs": ("输入坐标系", "input CRS"),
    "input_notes": ("输入说明", "input notes"),
    "other_fields": ("其他输入字段", "other input fields"),
    "location": ("建设地点", "location"),
    "county_declared": ("申报所在县", "county stated"),
}


#: Land-use words → the classes of the land-supply quota (GB/T 21010 一级类 and common words).
LAND_USE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("工矿仓储用地", ("工矿", "工业", "仓储", "物流", "采矿", "06")),
    ("商服用地", ("商服", "商业", "商务", "办公", "批发", "零售", "餐饮", "旅馆", "娱乐", "05")),
    ("住宅用地", ("住宅", "居住", "宅基", "07")),
    ("公共管理与公共服务用地", ("公共管理", "公共服务", "机关", "教育", "学校", "医疗", "医院", "卫生", "文化",
                         "体育", "养老", "社会福利", "科研", "殡葬", "公用设施", "公园", "08")),
    ("交通运输用地", ("交通", "道路", "公路", "铁路", "街巷", "机场", "停车", "港口", "10")),
    ("特殊用地", ("特殊", "军事", "宗教", "监教", "墓葬", "使领馆", "09")),
)


@dataclass
class CheckContext:
    """A check run: the pack's one context (:class:`zoning.core.context.PackContext`), the
    date the rules are read on and the project attributes every site shares. Attributes
    of the pack context (``pack``, ``rules``, ``quota_info``, ``layers_used``...) are
    reachable directly."""

    context: PackContext
    on_date: dt.date
    defaults: dict[str, Any]
    #: with a distance (m), the nearest zone of each class a site lies outside is measured and
    #: ``near_zone`` flags sites within it of one (zoning.core.nearest); None: not measured
    near_m: float | None = None
    verdicts: Verdicts = field(init=False, repr=False)
    #: (attribute, raw value) -> (validated value or None, problem or None), each distinct value once
    _values: dict[tuple[str, Any], tuple[Any, str | None]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.verdicts = Verdicts(self.context, self.on_date)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("context", "verdicts", "_values"):
            raise AttributeError(name)
        return getattr(self.context, name)

    def __getstate__(self) -> dict[str, Any]:
        return {"context": self.context, "on_date": self.on_date, "defaults": self.defaults, "near_m": self.near_m}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._values = {}
        self.verdicts = Verdicts(self.context, self.on_date)


def build_context(
    pack: Pack | PackContext | str | Path | None = None,
    *,
    project_defaults: dict | None = None,
    on_date: dt.date | None = None,
    near_m: float | None = None,
) -> CheckContext:
    """A check run over the pack's one context (read once, shared with ``zoning query``).
    ``near_m``: measure the distance to the nearest zone of each class and flag sites within it.

    Raises
    ------
    RuleError
        If ``project_defaults`` holds an unknown attribute or value.
    """
    defaults = validate_project(dict(project_defaults or {}))
    return CheckContext(context=load_context(pack), on_date=on_date or dt.date.today(), defaults=defaults,
                        near_m=near_m)


def match_land_use(value: Any, classes: Iterable[str]) -> str | None:
    """The quota class a land-use value belongs to (``工业用地`` → ``工矿仓储用地``), or None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    classes = list(classes)
    if text in classes:
        return text
    for cls in classes:
        if cls in text or (len(text) >= 2 and text in cls):
            return cls
    code = text[:2] if text[:2].isdigit() else None
    for cls, words in LAND_USE_KEYWORDS:
        if cls not in classes:
            continue
        if code and code in words:
            return cls
        if any(w in text for w in words if not w.isdigit()):
            return cls
    return None


# --------------------------------------------------------------------------- checking


def project_for_row(ctx: CheckContext, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The project of a row: the run's defaults and the row's own attributes (each distinct
    value validated once); the problems of values that are not understood."""
    project = dict(ctx.defaults)
    problems: list[str] = []
    for attr, raw in values.items():
        if raw is None:
            continue
        key = (attr, raw)
        hit = ctx._values.get(key)
        if hit is None:
            try:
                hit = (validate_project({attr: raw}).get(attr), None)
            except RuleError as exc:  # the site is still checked, with the attribute unknown
                hit = (None, f"{attr} treated as not given: {exc}")
            ctx._values[key] = hit
        value, problem = hit
        if problem is not None:
            problems.append(problem)
        elif value is not None:
            project[attr] = value
    return project, problems


def stated_columns(columns: Any) -> dict[str, str]:
    """Where the check's results keep each project attribute a row stated: under its own name,
    or as 原_<name> where the name is also a result column (``in_planning_area``: the column
    holds the computed membership, the statement sits beside it)."""
    have = set(columns)
    out = {}
    for a in PROJECT_ATTRIBUTES:
        col = INPUT_PREFIX + a if a in RESULT_COLUMNS else a
        if col in have:
            out[a] = col
    return out


def _clean(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


def _column(sites: pd.DataFrame, name: str, n: int, dtype: Any = object) -> np.ndarray:
    if name in sites.columns:
        return sites[name].to_numpy(dtype=dtype)
    return np.full(n, np.nan if dtype is float else None, dtype=dtype)


def _county_columns(ctx: CheckContext, hits: Hits, cols: dict[str, np.ndarray], problems: Messages) -> None:
    """county, county_adcode, county_shares, county_note, and the problem of a site
    outside the city (one wording for points and polygons)."""
    s = hits.sites
    tol = ctx.county_tolerance_m
    located = s["located"].to_numpy(dtype=bool)
    cols["county"][located] = s["county"].to_numpy(dtype=object)[located]
    cols["county_adcode"][located] = s["adcode"].to_numpy(dtype=object)[located]
    t = hits.table
    cty = t[(t["kind"].to_numpy() == vocab.COUNTIES) & np.isfinite(t["overlap_m2"].to_numpy(dtype=float))]
    if len(cty):
        names = dict(zip(ctx.counties["adcode"], ctx.counties["name"].astype(str)))
        cty = cty.sort_values(["site", "overlap_m2"], ascending=[True, False], kind="stable")
        multi = cty[cty.duplicated("site", keep=False)]
        for site, g in multi.groupby("site", sort=False):
            cols["county_shares"][site] = "；".join(f"{names[c]} {100 * sh:.1f}%" for c, sh in
                                                   zip(g["zone_class"], g["share"]))
            cols["county_adcode"][site] = ",".join(g["zone_class"])
    near = located & s["near_line"].to_numpy(dtype=bool)
    in_city = s["in_city"].to_numpy(dtype=bool)
    near_name, near_code = s["near_county"].to_numpy(dtype=object), s["near_adcode"].to_numpy(dtype=object)
    nn, nc = s["nearest_county"].to_numpy(dtype=object), s["nearest_adcode"].to_numpy(dtype=object)
    nd = s["nearest_distance_m"].to_numpy(dtype=float)
    outside = s["outside_m2"].to_numpy(dtype=float)
    area = s["area_m2"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        outside_share = np.where(area > 0, outside / np.where(area > 0, area, 1.0), 0.0)
    present = s["present"].to_numpy(dtype=bool)
    # only the sites that get a note or a problem are visited (most get neither)
    todo = present & ((located & ~in_city) | near | ~located | (located & in_city & (outside_share >= 0.005)))
    for k in np.flatnonzero(todo):
        if located[k] and not in_city[k]:
            cols["county_note"][k] = (f"outside 晋城市 (county layer): nearest county {nn[k]} ({nc[k]}) "
                                      f"{nd[k] / 1000:.2f} km away, within the layer's positional accuracy ({tol:.0f} m)")
        elif near[k] and cols["county_shares"][k] is None:
            other = f"; it may lie in {near_name[k]} ({near_code[k]})" if near_name[k] else "; it may lie outside 晋城市"
            cols["county_note"][k] = (f"within {tol:.0f} m of the county line (the county layer's positional "
                                      f"accuracy){other}")
        if located[k] and in_city[k] and outside_share[k] >= 0.005:
            cols["county_note"][k] = f"{100 * outside_share[k]:.1f}% of the site lies outside 晋城市 (county layer)"
        if not located[k]:
            where = (f"nearest county {nn[k]} ({nc[k]}) {nd[k] / 1000:.2f} km away" if nn[k] is not None
                     else "no county within reach")
            problems[k].append(f"outside 晋城市 (county layer): {where}")


def _zone_columns(ctx: CheckContext, hits: Hits, pl: pd.DataFrame, cols: dict[str, np.ndarray]) -> None:
    """zones, zone_ids, the planning extents and the strictest classes with their overlaps."""
    s = hits.sites
    located = s["located"].to_numpy(dtype=bool)
    present = s["present"].to_numpy(dtype=bool)
    area = s["area_m2"].to_numpy(dtype=float)
    polygonal = np.isfinite(area) & (area > 0)
    t = hits.table
    z = t[t["kind"].isin(vocab.ZONE_KINDS).to_numpy() & located[t["site"].to_numpy()]]
    if len(z):
        names = ctx.context.feature_arrays["zone_name"][z["feature"].to_numpy()]
        site = z["site"].to_numpy()
        ov = z["overlap_m2"].to_numpy(dtype=float)
        text = [
            f"{c} {nm or ''} [{i}] {a / settings.SQM_PER_HA:.4f} ha / {a / settings.SQM_PER_MU:.2f} 亩 / "
            f"{100 * a / area[k]:.1f}%" if polygonal[k] else f"{c} {nm or ''} [{i}]"
            for k, c, nm, i, a in zip(site, z["zone_class"].to_numpy(), names, z["zone_id"].to_numpy(), ov)
        ]
        ids = z["zone_id"].to_numpy(dtype=object)
        cols["zones"][site] = text  # sites with one zone; those with several are joined below
        cols["zone_ids"][site] = ids
        several = np.flatnonzero(np.bincount(site, minlength=len(located)) > 1)
        if len(several):
            for k in several:
                sel = np.flatnonzero(site == k) if len(several) < 50 else None
                if sel is None:
                    break
                cols["zones"][k] = "；".join(text[j] for j in sel)
                cols["zone_ids"][k] = ",".join(ids[j] for j in sel)
            else:
                several = np.empty(0, dtype=np.int64)
        if len(several):
            multi = np.isin(site, several)
            frame = pd.DataFrame({"site": site[multi], "text": pd.Series(np.asarray(text, dtype=object)[multi], dtype=object),
                                  "id": pd.Series(ids[multi], dtype=object)})
            for k, g in frame.groupby("site", sort=False):
                cols["zones"][k] = "；".join(g["text"])
                cols["zone_ids"][k] = ",".join(g["id"])
    for flag, share, out_flag, out_pct in (("in_planning_area", "planning_share", "in_planning_area", "planning_area_pct"),
                                           ("in_central_area", "central_share", "in_central_city", "central_city_pct")):
        membership = pl["planning_membership" if flag == "in_planning_area" else "central_membership"]
        cols[out_flag][present] = membership.to_numpy(dtype=object)[present]
        pct = np.round(100 * np.nan_to_num(pl[share].to_numpy(dtype=float)), 1)
        pct = np.where(polygonal, pct, np.where(pl[flag].to_numpy(dtype=bool), 100.0, 0.0))
        cols[out_pct][present] = pct[present]
    for cls, m2, sh, out_cls, out_ha, out_pct in (
            ("protection_class", "protection_m2", "protection_share", "protection_class", "protection_ha", "protection_pct"),
            ("control_class", "control_m2", "control_share", "control_level", "control_ha", "control_pct")):
        c = pl[cls].to_numpy(dtype=object)
        has = located & np.array([v is not None for v in c], dtype=bool)
        cols[out_cls][has] = c[has]
        area_has = has & polygonal
        cols[out_ha][area_has] = np.round(pl[m2].to_numpy(dtype=float)[area_has] / settings.SQM_PER_HA, 4)
        cols[out_pct][area_has] = np.round(100 * pl[sh].to_numpy(dtype=float)[area_has], 1)


def _verdict_columns(ctx: CheckContext, sites: pd.DataFrame, hits: Hits, pl: pd.DataFrame,
                     cols: dict[str, np.ndarray], problems: Messages) -> None:
    """The verdict of every located site: one evaluation per distinct (classes,
    project attributes)."""
    n = len(sites)
    attr_cols = [a for a in PROJECT_ATTRIBUTES if a in sites.columns]
    project_cols: list[np.ndarray] = []
    for a in attr_cols:
        vals = pd.Series(sites[a].to_numpy(dtype=object), dtype=object)
        norm = np.full(n, None, dtype=object)
        codes, uniques = pd.factorize(vals, use_na_sentinel=True)
        for u, raw in enumerate(uniques):
            project, bad = project_for_row(ctx, {a: raw})
            where = np.flatnonzero(codes == u)
            if bad:
                for k in where:
                    problems[k].extend(bad)
            else:
                box = np.empty(1, dtype=object)
                box[0] = project.get(a)  # boxed: a value may be a tuple (an industry's groups), set whole
                norm[where] = box
        project_cols.append(norm)
    located = hits.sites["located"].to_numpy(dtype=bool)
    group = pd.factorize(pl["classes_code"].to_numpy())[0]
    for c in project_cols:  # one group number per distinct (classes, attributes), by hashing
        k = pd.factorize(pd.Series(c, dtype=object), use_na_sentinel=True)[0] + 1
        group = pd.factorize(group.astype(np.int64) * (int(k.max(initial=0)) + 1) + k)[0]
    classes, uncertain = pl["classes"].to_numpy(), pl["uncertain"].to_numpy()
    for key in ("verdict", *(f"verdict_{s}" for s in vocab.SUBJECTS)):
        cols[key][~located] = NOT_CHECKED
    ev = np.flatnonzero(located)
    order = ev[np.argsort(group[ev], kind="stable")]
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    for members in np.split(order, bounds) if len(order) else []:
        k0 = members[0]
        project = dict(ctx.defaults)
        for a, c in zip(attr_cols, project_cols):
            if c[k0] is not None:
                project[a] = c[k0]
        v = ctx.verdicts.of(classes[k0], project, uncertain[k0])
        for key in VERDICT_COLUMNS:
            cols[key][members] = v[key]


def _quota_columns(ctx: CheckContext, sites: pd.DataFrame, hits: Hits, pl: pd.DataFrame,
                   cols: dict[str, np.ndarray]) -> None:
    """The quota class of a site's land use and the area it counts against the quota: the
    stated area (or the polygon's) times the share of the site in 中心城区."""
    q = ctx.quota_info
    if not q or "land_use" not in sites.columns:
        return
    classes = list(q["classes"])
    land_use = sites["land_use"].to_numpy(dtype=object)
    n = len(sites)
    stated = _column(sites, "area_ha_stated", n, float)
    area = hits.sites["area_m2"].to_numpy(dtype=float)
    located = hits.sites["located"].to_numpy(dtype=bool)
    central = pl["in_central_area"].to_numpy(dtype=bool)
    share = pl["central_share"].to_numpy(dtype=float)
    cache: dict[Any, str | None] = {}
    for k in range(n):
        value = _clean(land_use[k])
        if value is None:
            continue
        if value not in cache:
            cache[value] = match_land_use(value, classes)
        cols["quota_class"][k] = cache[value]
        if located[k] and central[k]:
            polygonal = np.isfinite(area[k]) and area[k] > 0
            base = stated[k] if stated[k] == stated[k] else (area[k] / settings.SQM_PER_HA if polygonal else np.nan)
            if base == base:
                cols["quota_area_ha"][k] = round(float(base) * (share[k] if polygonal else 1.0), 4)


#: Result columns that hold numbers (NaN where there is none) and yes/no flags (None where
#: unknown); the others hold text. Writers type their columns from these, whatever a chunk holds.
NUMERIC_COLUMNS = frozenset({"lon", "lat", "site_area_ha", "site_area_mu", "planning_area_pct", "central_city_pct",
                             "protection_ha", "protection_pct", "control_ha", "control_pct", "quota_area_ha",
                             "area_ha_stated", "nearest_zone_m"})
BOOLEAN_COLUMNS = frozenset({"demonstration_basis", "near_zone"})
TEXT_COLUMNS = frozenset(c for c in RESULT_COLUMNS if c not in NUMERIC_COLUMNS | BOOLEAN_COLUMNS | {"row"})


def assemble(ctx: CheckContext, sites: pd.DataFrame, hits: Hits) -> pd.DataFrame:
    """The result columns of a batch of sites from their hits (computed in process or in
    PostGIS): county, extents, zones, verdict, quota and status. ``sites`` holds the
    input attributes (``input_problem``, ``land_use``, ``area_ha_stated``, the project
    attributes), one row per row of ``hits.sites``, in the same order."""
    from zoning.core.answer import places

    n = len(sites)
    cols: dict[str, np.ndarray] = {c: np.full(n, None, dtype=object) for c in RESULT_COLUMNS
                                   if c not in ("source", "row", "site_id", "site_name", "land_use", "area_ha_stated")}
    s = hits.sites
    present = s["present"].to_numpy(dtype=bool)
    cols["geom_type"] = s["geom_type"].to_numpy(dtype=object).copy()
    cols["lon"][present] = np.round(s["lon"].to_numpy(dtype=float)[present], 7)
    cols["lat"][present] = np.round(s["lat"].to_numpy(dtype=float)[present], 7)
    area = s["area_m2"].to_numpy(dtype=float)
    polygonal = np.isfinite(area) & (area > 0)
    cols["site_area_ha"][polygonal] = np.round(area[polygonal] / settings.SQM_PER_HA, 4)
    cols["site_area_mu"][polygonal] = np.round(area[polygonal] / settings.SQM_PER_MU, 2)
    input_problem = _column(sites, "input_problem", n)
    problems: Messages = defaultdict(list)  # by row, only the rows that have any
    for k in np.flatnonzero(pd.notna(input_problem)):
        problems[k].append(str(input_problem[k]))
    pl = places(ctx.context, hits)
    _county_columns(ctx, hits, cols, problems)
    _zone_columns(ctx, hits, pl, cols)
    _verdict_columns(ctx, sites, hits, pl, cols, problems)
    _quota_columns(ctx, sites, hits, pl, cols)
    if ctx.near_m is not None and hasattr(sites, "geometry"):
        from zoning.core.nearest import near_columns

        near_columns(ctx.context, sites.geometry.to_numpy(), hits, ctx.near_m, cols)
    located = s["located"].to_numpy(dtype=bool)
    status = np.full(n, "ok", dtype=object)
    for k, p in problems.items():
        if p:
            status[k] = "；".join(p)
    cols["status"] = status
    cols["status_code"] = np.where(~located, "error", np.where(status == "ok", "ok", "warning")).astype(object)
    # the arrays are this function's own: no copy, and no stacking of the text columns into one block
    return pd.DataFrame({c: pd.Series(v, dtype=float if c in NUMERIC_COLUMNS else object, index=sites.index, copy=False)
                         for c, v in cols.items()}, index=sites.index, copy=False)


def _check_batch(sites: gpd.GeoDataFrame, ctx: CheckContext) -> pd.DataFrame:
    """Check a batch; a site whose geometry or attributes make the check itself fail gets
    that failure as its status (the batch is halved until the failing sites are alone),
    so one bad site never sinks the others."""
    from zoning.core.hits import site_hits

    try:
        return assemble(ctx, sites, site_hits(ctx.context, sites.geometry.to_numpy()))
    except Exception as exc:  # noqa: BLE001 - any failure becomes the failing site's status
        if len(sites) <= 1:
            return _failed_rows(sites, exc)
        half = len(sites) // 2
        return pd.concat([_check_batch(sites.iloc[:half], ctx), _check_batch(sites.iloc[half:], ctx)])


def _failed_rows(sites: gpd.GeoDataFrame, exc: Exception) -> pd.DataFrame:
    """The result row of a site the check could not handle: not checked, with the reason."""
    n = len(sites)
    cols = {c: pd.Series([None] * n, dtype=float if c in NUMERIC_COLUMNS else object, index=sites.index)
            for c in RESULT_COLUMNS if c not in ("source", "row", "site_id", "site_name", "land_use", "area_ha_stated")}
    for key in ("verdict", *(f"verdict_{s}" for s in vocab.SUBJECTS)):
        cols[key] = pd.Series([NOT_CHECKED] * n, dtype=object, index=sites.index)
    cols["status_code"] = pd.Series(["error"] * n, dtype=object, index=sites.index)
    reason = f"cannot be checked: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    cols["status"] = pd.Series([reason] * n, dtype=object, index=sites.index)
    return pd.DataFrame(cols, index=sites.index)


def _assemble(sites: gpd.GeoDataFrame, res: pd.DataFrame) -> gpd.GeoDataFrame:
    import geopandas as gpd

    n = len(sites)
    index = pd.RangeIndex(n)

    def col(frame: pd.DataFrame, c: str) -> pd.Series:  # keeps the column's dtype (no round trip through numpy)
        return frame[c].set_axis(index)

    out: dict[str, Any] = {}
    for c in RESULT_COLUMNS:
        if c in res.columns:
            out[c] = col(res, c)
        elif c in sites.columns:
            out[c] = col(sites, c)
        else:
            out[c] = pd.Series(None, index=index, dtype=object)
    # a project attribute that is also a result column (in_planning_area: the site's computed
    # membership) keeps the result; the user's statement is kept beside it as 原_<name>
    attrs = [a for a in PROJECT_ATTRIBUTES if a in sites.columns and a not in RESULT_COLUMNS]
    for a in attrs:
        out[a] = col(sites, a)
    for c in ("input_crs", "input_notes"):
        out[c] = col(sites, c) if c in sites.columns else pd.Series(None, index=index, dtype=object)
    # the reader's own columns; any other input column is the user's and is kept (prefixed on a clash)
    skip = set(_READER_COLUMNS) | set(attrs) | {"input_crs", "input_notes", "input_problem", sites.geometry.name,
                                                "location", "county_declared"}
    for c in ("location", "county_declared"):
        if c in sites.columns and sites[c].notna().any():
            out[c] = col(sites, c)
    taken = _output_names(out)
    for c in sites.columns:
        if c not in skip:
            name = str(c)
            while name in taken or name in out:  # an input column named 状态, 结论, verdict...: kept, prefixed
                name = INPUT_PREFIX + name
            out[name] = col(sites, c)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(sites.geometry.to_numpy(), crs="EPSG:4490", index=index),
                            crs="EPSG:4490", copy=False)  # the columns as they are (copy-on-write guards them)


#: Result columns that the site readers fill (the others are the check's).
_READER_COLUMNS = ("source", "row", "site_id", "site_name", "land_use", "area_ha_stated")

#: Prefix of an input column whose name is also an output column's name or label.
INPUT_PREFIX = "原_"


def _output_names(columns: Iterable[str]) -> set[str]:
    """Every name an output column goes by: its own and its Chinese and English labels."""
    from zoning.core.rules import PROJECT_ATTRIBUTES

    names = set(columns)
    for c in list(names):
        if c in PROJECT_ATTRIBUTES:
            names |= {PROJECT_ATTRIBUTES[c].zh, PROJECT_ATTRIBUTES[c].en}
    names |= {label for pair in RESULT_LABELS.values() for label in pair}
    names.add("verdict_label")
    return names


def check_sites(
    sites: gpd.GeoDataFrame | str | Path,
    pack: Pack | str | Path | None = None,
    *,
    project_defaults: dict | None = None,
    on_date: dt.date | None = None,
    context: CheckContext | None = None,
    progress: Any = None,
    batch_size: int = settings.DEFAULT_CHUNKSIZE,
) -> gpd.GeoDataFrame:
    """Check every site; one result row per input row, in input order.

    Parameters
    ----------
    sites
        A path (any kind :func:`zoning.inputs.sites.read_sites` reads) or a GeoDataFrame (any
        CRS; rows with no geometry come back as ``not checked``).
    pack
        The layer pack (default: the shipped Jincheng pack).
    project_defaults
        Project attributes that apply to every site unless a row gives its own
        (``{"construction": "新建", "discharges_pollutants": "是"}``).
    on_date
        Date the rules are evaluated for (default today).
    context
        A :class:`CheckContext` from :func:`build_context` to reuse across calls.
    progress
        A tqdm-like object; its ``update(n)`` is called per batch.
    batch_size
        Sites checked together (as many as a reader's chunk, so that a chunk is one batch:
        each batch builds its tables once).

    Returns
    -------
    GeoDataFrame in EPSG:4490 with :data:`RESULT_COLUMNS`, the project attributes and
    the input's other columns.

    Examples
    --------
    >>> res = check_sites("examples/sites_demo.csv", project_defaults={"construction": "新建"})
    >>> res[["site_name", "verdict", "articles"]].head()  # doctest: +SKIP
    """
    from zoning.engines.local import as_sites

    gdf = as_sites(sites)
    ctx = context or build_context(pack, project_defaults=project_defaults, on_date=on_date)
    parts = []
    for start in range(0, max(len(gdf), 1), batch_size):
        batch = gdf.iloc[start:start + batch_size]
        parts.append(_check_batch(batch, ctx))
        if progress is not None:
            progress.update(len(batch))
    res = pd.concat(parts) if len(parts) > 1 else parts[0]
    out = _assemble(gdf, res)
    out.attrs["notes"] = list(gdf.attrs.get("notes", []))
    return out


def iter_check(
    path: str | Path,
    pack: Pack | str | Path | None = None,
    *,
    project_defaults: dict | None = None,
    on_date: dt.date | None = None,
    context: CheckContext | None = None,
    progress: Any = None,
    **read_kwargs: Any,
) -> Iterator[gpd.GeoDataFrame]:
    """Check a file chunk by chunk (``chunksize`` rows of CSV at a time): bounded memory.

    ``read_kwargs`` go to :func:`zoning.inputs.sites.iter_sites` (crs, order, fields, layer,
    sheet, encoding, chunksize).
    """
    from zoning.inputs.sites import iter_sites

    ctx = context or build_context(pack, project_defaults=project_defaults, on_date=on_date)
    for chunk in iter_sites(path, **read_kwargs):
        yield check_sites(chunk, context=ctx, progress=progress)


# --------------------------------------------------------------------------- aggregates


#: The county row of sites outside 晋城市 or not located.
UNLOCATED_COUNTY = "（晋城市外/未定位）"


def county_counts(results: pd.DataFrame) -> pd.DataFrame:
    """Counts per county × verdict for one chunk (add chunks with ``DataFrame.add``)."""
    county = results["county"].fillna(UNLOCATED_COUNTY).astype(str)
    table = pd.crosstab(county, results["verdict"].astype(str))
    return table


@dataclass
class Tally:
    """What the summaries count of a run, chunk by chunk (:meth:`add`): sites per county ×
    verdict, those resting on demonstration data per county, and the area counted against
    each quota class (:func:`quota_usage`). The writer and :func:`summarise_by_county` /
    :func:`quota_accounting` all count this way."""

    counts: pd.DataFrame | None = None
    demo: pd.Series | None = None
    usage: pd.DataFrame | None = None

    def add(self, results: pd.DataFrame) -> None:
        t = county_counts(results)
        self.counts = t if self.counts is None else self.counts.add(t, fill_value=0)
        county = results["county"].fillna(UNLOCATED_COUNTY).astype(str)
        d = results["demonstration_basis"].fillna(False).astype(bool).groupby(county).sum()
        self.demo = d if self.demo is None else self.demo.add(d, fill_value=0)
        u = quota_usage(results)
        self.usage = u if self.usage is None else self.usage.add(u, fill_value=0)

    def summary(self) -> pd.DataFrame:
        """:func:`summarise_by_county` of the chunks added."""
        return finish_summary(self.counts, self.demo)


def summarise_by_county(results: pd.DataFrame | Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Sites per county (the county holding most of a site) and verdict, with totals.

    Columns: the verdicts in order of strength, ``not checked``, ``total``; a last row
    ``合计``. ``demonstration_basis`` sites are counted in ``on demonstration data``.
    """
    tally = Tally()
    for f in [results] if isinstance(results, pd.DataFrame) else list(results):
        tally.add(f)
    return tally.summary()


def finish_summary(table: pd.DataFrame | None, demo: pd.Series | None) -> pd.DataFrame:
    cols = [*VERDICTS, NOT_CHECKED]
    if table is None:
        table = pd.DataFrame(columns=cols)
    table = table.reindex(columns=cols, fill_value=0).fillna(0).astype(int)
    table["total"] = table.sum(axis=1)
    table["on demonstration data"] = (demo.reindex(table.index).fillna(0).astype(int) if demo is not None else 0)
    table = table.sort_index()
    table.loc["合计"] = table.sum(axis=0)
    table.index.name = "county"
    return table


def quota_usage(results: pd.DataFrame) -> pd.DataFrame:
    """Area (ha) and count per quota class of the sites counted against the quota, for one chunk."""
    sel = results[results["quota_area_ha"].notna()]
    cls = sel["quota_class"].fillna("（未识别的用地类别）")
    grouped = sel.assign(quota_class=cls).groupby("quota_class")["quota_area_ha"].agg(["sum", "count"])
    return grouped.rename(columns={"sum": "sites_ha", "count": "sites"})


def quota_accounting(
    results: pd.DataFrame | Iterable[pd.DataFrame] | None,
    pack: Pack | str | Path | None = None,
    *,
    context: CheckContext | None = None,
    usage: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Sites in 中心城区 with a land-use class and an area, summed by class, beside the quota.

    The area counted is the stated area (用地面积) or, failing that, the polygon's
    area, times the share of the site in 中心城区. Columns: ``class``, ``quota_ha``,
    ``sites``, ``sites_ha``, ``remaining_ha``, ``overrun_ha``; a row for land-use values
    matching no quota class, and a total row against the quota's total.
    """
    ctx = context or build_context(pack)
    if usage is None:  # the area of each chunk counted against the quota (what Tally.add adds, alone)
        for f in [results] if isinstance(results, pd.DataFrame) else list(results or []):
            u = quota_usage(f)
            usage = u if usage is None else usage.add(u, fill_value=0)
    if usage is None:
        usage = pd.DataFrame(columns=["sites_ha", "sites"])
    quota = ctx.quota_info
    if quota is None:
        return pd.DataFrame(columns=["class", "quota_ha", "sites", "sites_ha", "remaining_ha", "overrun_ha"])
    rows = []
    for cls, q in quota["classes"].items():
        used = float(usage["sites_ha"].get(cls, 0.0)) if len(usage) else 0.0
        n = int(usage["sites"].get(cls, 0)) if len(usage) else 0
        rows.append({"class": cls, "quota_ha": q, "sites": n, "sites_ha": round(used, 4),
                     "remaining_ha": round(max(q - used, 0.0), 4), "overrun_ha": round(max(used - q, 0.0), 4)})
    for cls in usage.index:
        if cls not in quota["classes"]:
            rows.append({"class": cls, "quota_ha": np.nan, "sites": int(usage.loc[cls, "sites"]),
                         "sites_ha": round(float(usage.loc[cls, "sites_ha"]), 4), "remaining_ha": np.nan, "overrun_ha": np.nan})
    total_used = float(usage["sites_ha"].sum()) if len(usage) else 0.0
    total = quota["total_ha"]
    rows.append({"class": "合计", "quota_ha": total, "sites": int(usage["sites"].sum()) if len(usage) else 0,
                 "sites_ha": round(total_used, 4), "remaining_ha": round(max(total - total_used, 0.0), 4),
                 "overrun_ha": round(max(total_used - total, 0.0), 4)})
    out = pd.DataFrame(rows)
    valid_from, valid_to, in_force = ctx.context.quota_period(ctx.on_date)
    out.attrs["quota"] = {**{k: v for k, v in quota.items() if k != "classes"},
                          "valid_from": valid_from, "valid_to": valid_to,
                          "in_force": in_force, "on_date": ctx.on_date.isoformat()}
    return out


def quota_status(info: dict[str, Any], lang: str = "zh") -> str | None:
    """A line saying that the supply plan is not in force on the run's date (None if it is)."""
    if not info or info.get("in_force", True):
        return None
    zh = lang == "zh"
    plan = f"{info.get('year', '')}年度{info.get('area_name', '')}国有建设用地供应计划 ({info.get('document', '')})"
    if info.get("valid_to") and info["on_date"] > info["valid_to"]:
        return (f"{plan} 已于 {info['valid_to']} 到期 (评价日期 {info['on_date']}): 数字仅供参考" if zh else
                f"{plan} expired on {info['valid_to']} (run date {info['on_date']}): figures kept for reference")
    return (f"{plan} 自 {info.get('valid_from')} 起生效, 评价日期 {info['on_date']} 尚未生效" if zh else
            f"{plan} is in force from {info.get('valid_from')}, not yet on the run date {info['on_date']}")
