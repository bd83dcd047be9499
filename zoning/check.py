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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.core import settings
from zoning.core.errors import RuleError
from zoning.core.layers import Pack, open_pack, read_layer
from zoning.core.rules import PROJECT_ATTRIBUTES, validate_project
from zoning.core.verdicts import CONTROL_RANK, PROTECTION_RANK, VERDICTS, evaluate_place, overall_verdict

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "CheckContext",
    "RESULT_COLUMNS",
    "build_context",
    "check_sites",
    "county_counts",
    "iter_check",
    "match_land_use",
    "quota_accounting",
    "quota_usage",
    "summarise_by_county",
]

ZONE_KINDS_CHECKED: tuple[str, ...] = ("groundwater_protection", "groundwater_control", "planning_extent")
ACCURACY_RANK = {"official": 0, "indicative": 1, "demonstration": 2}
NOT_CHECKED = "not checked"

RESULT_COLUMNS: tuple[str, ...] = (
    "source", "row", "site_id", "site_name", "status_code", "status", "lon", "lat", "geom_type",
    "site_area_ha", "site_area_mu", "county", "county_adcode", "county_shares", "county_note",
    "in_planning_area", "planning_area_pct", "in_central_city", "central_city_pct",
    "protection_class", "protection_ha", "protection_pct", "control_level", "control_ha", "control_pct",
    "zones", "zone_ids", "verdict", "articles", "missing_attributes", "rule_ids",
    "basis_accuracy", "demonstration_basis", "basis_layers",
    "land_use", "quota_class", "area_ha_stated", "quota_area_ha",
)

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
    """Everything a check needs from a pack, read once and reused across chunks."""

    pack: Pack
    rules: list
    on_date: dt.date
    defaults: dict[str, Any]
    counties: gpd.GeoDataFrame
    county_tolerance_m: float
    zones: gpd.GeoDataFrame  # kind, zone_class, zone_id, zone_name, level, layer, accuracy
    overlay_layers: gpd.GeoDataFrame  # zones + counties (kind "county")
    kind_accuracy: dict[str, str]
    kind_layers: dict[str, list[str]]
    quota: dict[str, Any] | None
    layers_used: list[dict[str, str]] = field(default_factory=list)
    _verdicts: dict = field(default_factory=dict, repr=False)
    _values: dict = field(default_factory=dict, repr=False)

    @property
    def demonstration_layers(self) -> list[str]:
        return [u["name"] for u in self.layers_used if u["accuracy"] == "demonstration"]


def build_context(
    pack: Pack | str | Path | None = None,
    *,
    project_defaults: dict | None = None,
    on_date: dt.date | None = None,
) -> CheckContext:
    """Read the pack's layers and rules once.

    Raises
    ------
    RuleError
        If ``project_defaults`` holds an unknown attribute or value.
    """
    import geopandas as gpd

    from zoning.query import _source_of

    if not isinstance(pack, Pack):
        pack = open_pack(pack or settings.default_pack)
    from zoning.query import load_context

    rules = load_context(pack).rules  # the same parsed catalogue the point path's classification uses
    defaults = validate_project(dict(project_defaults or {}))
    cspec = pack.first_of_kind("counties")
    counties = read_layer(pack, cspec.name)[["adcode", "name", "geometry"]].copy()
    counties["adcode"] = counties["adcode"].astype(str)
    frames = []
    kind_accuracy: dict[str, str] = {}
    kind_layers: dict[str, list[str]] = {}
    used = [{"name": cspec.name, "kind": cspec.kind, "accuracy": cspec.accuracy, "source": _source_of(cspec.provenance)}]
    for kind in ZONE_KINDS_CHECKED:
        for spec in pack.by_kind(kind):
            gdf = read_layer(pack, spec.name)
            cls_field = "extent_class" if kind == "planning_extent" and "extent_class" in gdf.columns else (
                spec.class_fields[0] if spec.class_fields else "zone_class")
            id_field = spec.id_field if spec.id_field in gdf.columns else None
            frames.append(gpd.GeoDataFrame({
                "kind": kind,
                "zone_class": gdf[cls_field].astype(str).to_numpy(),
                "zone_id": gdf[id_field].astype(str).to_numpy() if id_field else np.arange(len(gdf)).astype(str),
                "zone_name": gdf["name"].astype(str).to_numpy() if "name" in gdf.columns else "",
                "level": gdf["level"].to_numpy() if "level" in gdf.columns else None,
                "layer": spec.name,
                "accuracy": spec.accuracy,
            }, geometry=gdf.geometry.to_numpy(), crs=gdf.crs).to_crs("EPSG:4490"))
            prev = kind_accuracy.get(kind, "official")
            kind_accuracy[kind] = max(prev, spec.accuracy, key=ACCURACY_RANK.__getitem__)
            kind_layers.setdefault(kind, []).append(spec.name)
            used.append({"name": spec.name, "kind": kind, "accuracy": spec.accuracy, "source": _source_of(spec.provenance)})
    zones = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4490") if frames else \
        gpd.GeoDataFrame({"kind": [], "zone_class": [], "zone_id": [], "zone_name": [], "level": [], "layer": [], "accuracy": []},
                         geometry=[], crs="EPSG:4490")
    cty = gpd.GeoDataFrame({"kind": "county", "zone_class": counties["adcode"].to_numpy(),
                            "zone_id": counties["adcode"].to_numpy(), "zone_name": counties["name"].astype(str).to_numpy(),
                            "level": None, "layer": cspec.name, "accuracy": cspec.accuracy},
                           geometry=counties.geometry.to_numpy(), crs=counties.crs).to_crs("EPSG:4490")
    overlay_layers = gpd.GeoDataFrame(pd.concat([zones, cty], ignore_index=True), geometry="geometry", crs="EPSG:4490")
    quota = None
    qspecs = pack.by_kind("land_supply_quota")
    if qspecs:
        q = read_layer(pack, qspecs[0].name)
        if len(q):
            row = q.iloc[0]
            quota = {
                "layer": qspecs[0].name,
                "year": int(row["year"]) if "year" in q.columns else None,
                "document": str(row.get("document", "")),
                "area_name": str(row.get("area_name", "")),
                "total_ha": float(row["total_ha"]),
                "classes": {c[3:]: float(row[c]) for c in q.columns if c.startswith("ha_") and pd.notna(row[c])},
            }
            used.append({"name": qspecs[0].name, "kind": "land_supply_quota", "accuracy": qspecs[0].accuracy,
                         "source": _source_of(qspecs[0].provenance)})
    return CheckContext(
        pack=pack, rules=rules, on_date=on_date or dt.date.today(), defaults=defaults, counties=counties,
        county_tolerance_m=float(cspec.positional_accuracy_m or 0.0), zones=zones, overlay_layers=overlay_layers,
        kind_accuracy=kind_accuracy, kind_layers=kind_layers, quota=quota, layers_used=used,
    )


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


def _fmt_num(v: float, nd: int) -> str:
    return f"{v:.{nd}f}"


def _project_for_row(ctx: CheckContext, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    project = dict(ctx.defaults)
    problems: list[str] = []
    for attr, raw in values.items():
        if raw is None:
            continue
        key = (attr, raw)
        hit = ctx._values.get(key)
        if hit is None:
            try:
                hit = ("ok", validate_project({attr: raw}).get(attr))
            except RuleError as exc:
                hit = ("bad", f"bad attribute value: {exc}")
            ctx._values[key] = hit
        if hit[0] == "ok":
            if hit[1] is not None:
                project[attr] = hit[1]
        else:
            problems.append(hit[1])
    return project, problems


def _verdict(ctx: CheckContext, hits: frozenset, project: dict[str, Any]) -> dict[str, Any]:
    key = (hits, tuple(sorted(project.items())))
    cached = ctx._verdicts.get(key)
    if cached is not None:
        return cached
    evaluated = evaluate_place(ctx.rules, sorted(hits), project, ctx.on_date)
    verdict, producing = overall_verdict(evaluated)
    articles = list(dict.fromkeys(e.rule.citation for e in producing))
    missing: list[str] = []
    for e in producing:
        missing.extend(e.verdict.missing)
    missing = list(dict.fromkeys(missing))
    kinds = {e.zone_kind for e in producing if e.zone_kind}
    if verdict == "clear" or not kinds:
        kinds = set(ctx.kind_accuracy)
    accs = [ctx.kind_accuracy[k] for k in kinds if k in ctx.kind_accuracy]
    basis = max(accs, key=ACCURACY_RANK.__getitem__) if accs else "official"
    layers = [name for k in ZONE_KINDS_CHECKED if k in kinds for name in ctx.kind_layers.get(k, [])]
    out = {
        "verdict": verdict,
        "articles": "；".join(articles) or None,
        "missing_attributes": "、".join(
            f"{m} ({PROJECT_ATTRIBUTES[m].zh})" if m in PROJECT_ATTRIBUTES else m for m in missing) or None,
        "rule_ids": ", ".join(dict.fromkeys(e.rule.id for e in producing)) or None,
        "basis_accuracy": basis,
        "demonstration_basis": basis == "demonstration",
        "basis_layers": ", ".join(layers) or None,
    }
    ctx._verdicts[key] = out
    return out


def _area_pairs(ctx: CheckContext, geoms: np.ndarray, is_area: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """(site, zone, overlap_m2) pairs of the non-point sites over ``overlay_layers`` (zones
    and counties), and each site's area in m² (NaN for points; they go through
    :func:`_check_points`)."""
    import geopandas as gpd

    from zoning.core.overlay import polygon_overlaps

    area_m2 = np.full(len(geoms), np.nan)
    aidx = np.flatnonzero(is_area)
    if not len(aidx):
        return pd.DataFrame({"site": [], "zone": [], "overlap_m2": []}), area_m2
    sub = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms[aidx], crs="EPSG:4490"), crs="EPSG:4490")
    ov = polygon_overlaps(ctx.overlay_layers, sub)
    area_m2[aidx] = sub.to_crs(settings.area_crs).area.to_numpy()
    polygonal = np.isin(sub.geom_type.to_numpy(), ("Polygon", "MultiPolygon"))
    ov = ov.loc[(ov["overlap_m2"].to_numpy() > 0) | ~polygonal[ov["site"].to_numpy()]]
    pairs = pd.DataFrame({"site": aidx[ov["site"].to_numpy()], "zone": ov["zone"].to_numpy(),
                          "overlap_m2": ov["overlap_m2"].to_numpy()})
    return pairs.sort_values(["site", "zone"], kind="stable").reset_index(drop=True), area_m2


def _clean(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


def _check_points(
    sites: gpd.GeoDataFrame,
    rows: np.ndarray,
    ctx: CheckContext,
    cols: dict[str, np.ndarray],
    lon: np.ndarray,
    lat: np.ndarray,
    attr_cols: list[str],
    attr_values: dict[str, np.ndarray],
    input_problem: np.ndarray,
    land_use: np.ndarray,
    stated: np.ndarray,
    quota_classes: list[str],
    lu_cache: dict[Any, str | None],
) -> None:
    """Point sites, vectorised: the classification of :func:`zoning.query.classify_points`
    (the same as ``zoning query``), then one rule evaluation per distinct combination of
    governing zones and project attributes. Fills ``cols`` at ``rows``."""
    from zoning.query import classify_points, load_context

    qctx = load_context(ctx.pack)
    m = len(rows)
    plon, plat = lon[rows], lat[rows]
    pts, hits = classify_points(qctx, plon, plat)
    tol = ctx.county_tolerance_m
    problems: list[list[str]] = [[] for _ in range(m)]
    for k, v in enumerate(input_problem[rows]):
        if _clean(v) is not None:
            problems[k].append(str(v))
    cols["geom_type"][rows] = "Point"
    cols["lon"][rows] = np.round(plon, 7)
    cols["lat"][rows] = np.round(plat, 7)

    # counties
    adcode = pts["adcode"].to_numpy()
    inside = np.array([a is not None for a in adcode])
    evaluated = inside.copy()
    cols["county"][rows[inside]] = pts["name"].to_numpy()[inside]
    cols["county_adcode"][rows[inside]] = adcode[inside]
    near = inside & pts["near_line"].to_numpy()
    near_name = pts["near_name"].to_numpy()
    near_code = pts["near_adcode"].to_numpy()
    for k in np.flatnonzero(near):
        other = f"; it may lie in {near_name[k]} ({near_code[k]})" if near_name[k] else "; it may lie outside 晋城市"
        cols["county_note"][rows[k]] = (f"within {tol:.0f} m of the county line (the county layer's positional "
                                        f"accuracy){other}")
    nd = pts["nearest_distance_m"].to_numpy()
    nn, nc = pts["nearest_name"].to_numpy(), pts["nearest_adcode"].to_numpy()
    for k in np.flatnonzero(~inside):
        msg = f"outside 晋城市 (county layer): nearest county {nn[k]} ({nc[k]}) {nd[k] / 1000:.2f} km away"
        if nd[k] <= tol:
            cols["county_note"][rows[k]] = msg + f", within the layer's positional accuracy ({tol:.0f} m)"
            cols["county"][rows[k]] = nn[k]
            cols["county_adcode"][rows[k]] = nc[k]
            evaluated[k] = True
        else:
            problems[k].append(msg)

    # zones touched (text, ids, highest class of each kind)
    if len(hits):
        layers = {spec.name: (spec, gdf) for spec, gdf in qctx.zones}
        text = np.empty(len(hits), dtype=object)
        ids = np.empty(len(hits), dtype=object)
        prot_rank = np.zeros(m, dtype=np.int8)
        ctrl_rank = np.zeros(m, dtype=np.int8)
        hp, hr = hits["point"].to_numpy(), hits["row"].to_numpy()
        for name, idx in hits.groupby("layer", sort=False).indices.items():
            spec, gdf = layers[name]
            zc = gdf["zone_class"].astype(str).to_numpy()[hr[idx]]
            zid = (gdf[spec.id_field].astype(str).to_numpy() if spec.id_field in gdf.columns
                   else np.arange(len(gdf)).astype(str))[hr[idx]]
            zname = (gdf["name"].astype(str).to_numpy() if "name" in gdf.columns else np.full(len(gdf), ""))[hr[idx]]
            text[idx] = [f"{c} {nm} [{i}]" for c, nm, i in zip(zc, zname, zid)]
            ids[idx] = zid
            table = PROTECTION_RANK if spec.kind == "groundwater_protection" else CONTROL_RANK
            target = prot_rank if spec.kind == "groundwater_protection" else ctrl_rank
            np.maximum.at(target, hp[idx], np.array([table.get(c, 0) for c in zc], dtype=np.int8))
        order = np.argsort(hp, kind="stable")
        hp_sorted = hp[order]
        cuts = np.flatnonzero(np.diff(hp_sorted)) + 1
        firsts = hp_sorted[np.r_[0, cuts]]
        cols["zones"][rows[firsts]] = ["；".join(g) for g in np.split(text[order], cuts)]
        cols["zone_ids"][rows[firsts]] = [",".join(g) for g in np.split(ids[order], cuts)]
        prot_names = np.array([None] + sorted(PROTECTION_RANK, key=PROTECTION_RANK.get), dtype=object)
        ctrl_names = np.array([None] + sorted(CONTROL_RANK, key=CONTROL_RANK.get), dtype=object)
        cols["protection_class"][rows] = prot_names[prot_rank]
        cols["control_level"][rows] = ctrl_names[ctrl_rank]
    planning = pts["in_planning_area"].to_numpy()
    central = pts["in_central_area"].to_numpy()
    cols["in_planning_area"][rows] = planning
    cols["in_central_city"][rows] = central
    cols["planning_area_pct"][rows] = np.where(planning, 100.0, 0.0)
    cols["central_city_pct"][rows] = np.where(central, 100.0, 0.0)

    # project attributes: each distinct value validated once
    project_cols: list[np.ndarray] = []
    for a in attr_cols:
        vals = attr_values[a][rows]
        norm = np.full(m, None, dtype=object)
        for raw in pd.unique(pd.Series(vals, dtype=object).dropna()):
            project, bad = _project_for_row(ctx, {a: raw})
            where = np.flatnonzero(pd.Series(vals, dtype=object).to_numpy() == raw)
            if bad:
                for k in where:
                    problems[k].extend(bad)
            else:
                norm[where] = project.get(a)
        project_cols.append(norm)
    # one verdict per distinct (governing zones, project attributes)
    keys = [pts["governing_code"].to_numpy()]
    keys += [pd.factorize(pd.Series(c, dtype=object), use_na_sentinel=True)[0] for c in project_cols]
    group = np.unique(np.column_stack(keys), axis=0, return_inverse=True)[1].reshape(-1)
    governing = pts["governing"].to_numpy()
    ev = np.flatnonzero(evaluated)
    cols["verdict"][rows[~evaluated]] = NOT_CHECKED
    for gid in np.unique(group[ev]):
        members = ev[group[ev] == gid]
        k0 = members[0]
        project = dict(ctx.defaults)
        for a, c in zip(attr_cols, project_cols):
            if c[k0] is not None:
                project[a] = c[k0]
        v = _verdict(ctx, frozenset(governing[k0]), project)
        for key, val in v.items():
            cols[key][rows[members]] = val

    # quota (a point has no area: the stated area counts, in full, inside 中心城区)
    if quota_classes:
        lu = land_use[rows]
        for k in range(m):
            value = _clean(lu[k])
            if value is None:
                continue
            if value not in lu_cache:
                lu_cache[value] = match_land_use(value, quota_classes)
            cols["quota_class"][rows[k]] = lu_cache[value]
            if evaluated[k] and central[k] and stated[rows[k]] == stated[rows[k]]:
                cols["quota_area_ha"][rows[k]] = round(float(stated[rows[k]]), 4)

    status = np.array(["ok" if not p else "；".join(p) for p in problems], dtype=object)
    cols["status"][rows] = status
    cols["status_code"][rows] = np.where(~evaluated, "error", np.where(status == "ok", "ok", "warning"))


def _check_batch(sites: gpd.GeoDataFrame, ctx: CheckContext) -> pd.DataFrame:
    import shapely

    n = len(sites)
    geoms = sites.geometry.to_numpy()
    present = ~shapely.is_missing(geoms)
    present[present] = ~shapely.is_empty(geoms[present])
    type_id = np.full(n, -1)
    type_id[present] = shapely.get_type_id(geoms[present])
    is_point = type_id == 0
    is_area = present & ~is_point
    rep = geoms.copy()
    if is_area.any():
        rep[is_area] = shapely.point_on_surface(geoms[is_area])
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    lon[present] = shapely.get_x(rep[present])
    lat[present] = shapely.get_y(rep[present])

    pairs, area_m2 = _area_pairs(ctx, geoms, is_area)
    lz = ctx.overlay_layers
    kinds = lz["kind"].to_numpy()
    classes = lz["zone_class"].to_numpy()
    zids = lz["zone_id"].to_numpy()
    znames = lz["zone_name"].to_numpy()

    # per-site collections
    site_pairs: dict[int, list[tuple[int, float]]] = {}
    for s, z, a in zip(pairs["site"].to_numpy(), pairs["zone"].to_numpy(), pairs["overlap_m2"].to_numpy()):
        site_pairs.setdefault(int(s), []).append((int(z), float(a)))

    attr_cols = [a for a in PROJECT_ATTRIBUTES if a in sites.columns]
    attr_values = {a: sites[a].to_numpy() for a in attr_cols}
    input_problem = sites["input_problem"].to_numpy() if "input_problem" in sites.columns else np.full(n, None, object)
    land_use = sites["land_use"].to_numpy() if "land_use" in sites.columns else np.full(n, None, object)
    stated = sites["area_ha_stated"].to_numpy(dtype=float) if "area_ha_stated" in sites.columns else np.full(n, np.nan)
    quota_classes = list(ctx.quota["classes"]) if ctx.quota else []
    type_names = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
                  6: "MultiPolygon", 7: "GeometryCollection"}
    lu_cache: dict[Any, str | None] = {}
    cols: dict[str, np.ndarray] = {c: np.full(n, None, dtype=object) for c in RESULT_COLUMNS
                                   if c not in ("source", "row", "site_id", "site_name", "land_use", "area_ha_stated")}
    point_rows = np.flatnonzero(is_point)
    if len(point_rows):
        _check_points(sites, point_rows, ctx, cols, lon, lat, attr_cols, attr_values, input_problem, land_use, stated,
                      quota_classes, lu_cache)
    for i in np.flatnonzero(~is_point):
        problems: list[str] = []
        if input_problem[i] is not None and not (isinstance(input_problem[i], float) and np.isnan(input_problem[i])):
            problems.append(str(input_problem[i]))
        evaluated = bool(present[i])
        cols["geom_type"][i] = type_names.get(int(type_id[i])) if present[i] else None
        if present[i]:
            cols["lon"][i] = round(float(lon[i]), 7)
            cols["lat"][i] = round(float(lat[i]), 7)
        hits_here = site_pairs.get(i, [])
        a_m2 = area_m2[i]
        polygonal = is_area[i] and a_m2 > 0
        if polygonal:
            cols["site_area_ha"][i] = round(a_m2 / settings.SQM_PER_HA, 4)
            cols["site_area_mu"][i] = round(a_m2 / settings.SQM_PER_MU, 2)
        # counties
        if evaluated:
            shares = [(znames[z], zids[z], a) for z, a in hits_here if kinds[z] == "county"]
            if polygonal and shares:
                shares.sort(key=lambda t: -t[2])
                cols["county"][i] = shares[0][0]
                cols["county_adcode"][i] = shares[0][1]
                if len(shares) > 1:
                    cols["county_shares"][i] = "；".join(f"{nm} {100 * a / a_m2:.1f}%" for nm, _, a in shares)
                    cols["county_adcode"][i] = ",".join(s[1] for s in shares)
                inside = sum(a for _, _, a in shares) / a_m2
                if inside < 0.995:
                    cols["county_note"][i] = f"{100 * (1 - inside):.1f}% of the site lies outside 晋城市 (county layer)"
            elif shares:
                cols["county"][i] = shares[0][0]
                cols["county_adcode"][i] = ",".join(dict.fromkeys(s[1] for s in shares))
            else:
                problems.append("outside 晋城市: the site touches no county of the county layer")
                evaluated = False
        # zones
        hits: set[tuple[str, str]] = set()
        zone_txt: list[str] = []
        zone_ids: list[str] = []
        by_class: dict[tuple[str, str], float] = {}
        for z, a in hits_here:
            k = kinds[z]
            if k == "county":
                continue
            hits.add((k, classes[z]))
            by_class[(k, classes[z])] = by_class.get((k, classes[z]), 0.0) + (a if a == a else 0.0)
            if k == "planning_extent":
                continue
            zone_ids.append(zids[z])
            if polygonal:
                zone_txt.append(f"{classes[z]} {znames[z]} [{zids[z]}] {a / settings.SQM_PER_HA:.4f} ha / "
                                f"{a / settings.SQM_PER_MU:.2f} 亩 / {100 * a / a_m2:.1f}%")
            else:
                zone_txt.append(f"{classes[z]} {znames[z]} [{zids[z]}]")
        if zone_txt:
            cols["zones"][i] = "；".join(zone_txt)
            cols["zone_ids"][i] = ",".join(zone_ids)
        for ext, flag, pct in (("中心城市规划区", "in_planning_area", "planning_area_pct"),
                               ("中心城区", "in_central_city", "central_city_pct")):
            inside = ("planning_extent", ext) in hits
            if present[i]:
                cols[flag][i] = inside
                if polygonal:
                    cols[pct][i] = round(100 * by_class.get(("planning_extent", ext), 0.0) / a_m2, 1)
                else:
                    cols[pct][i] = 100.0 if inside else 0.0
        for kind, rank, cname, ha, pct in (("groundwater_protection", PROTECTION_RANK, "protection_class", "protection_ha", "protection_pct"),
                                           ("groundwater_control", CONTROL_RANK, "control_level", "control_ha", "control_pct")):
            found = [c for k, c in hits if k == kind]
            if found:
                top = max(found, key=lambda c: rank.get(c, 0))
                cols[cname][i] = top
                if polygonal:
                    a = by_class[(kind, top)]
                    cols[ha][i] = round(a / settings.SQM_PER_HA, 4)
                    cols[pct][i] = round(100 * a / a_m2, 1)
        # project attributes and verdict
        values = {a: attr_values[a][i] for a in attr_cols}
        values = {a: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v) for a, v in values.items()}
        project, attr_problems = _project_for_row(ctx, values)
        problems.extend(attr_problems)
        if evaluated:
            v = _verdict(ctx, frozenset(hits), project)
            for key, val in v.items():
                cols[key][i] = val
        else:
            cols["verdict"][i] = NOT_CHECKED
        # quota
        lu = land_use[i]
        if lu is not None and not (isinstance(lu, float) and np.isnan(lu)) and quota_classes:
            if lu not in lu_cache:
                lu_cache[lu] = match_land_use(lu, quota_classes)
            qc = lu_cache[lu]
            cols["quota_class"][i] = qc
            if evaluated and ("planning_extent", "中心城区") in hits:
                base = stated[i] if stated[i] == stated[i] else (a_m2 / settings.SQM_PER_HA if polygonal else np.nan)
                frac = (by_class.get(("planning_extent", "中心城区"), 0.0) / a_m2) if polygonal else 1.0
                if base == base:
                    cols["quota_area_ha"][i] = round(float(base) * frac, 4)
        cols["status"][i] = "ok" if not problems else "；".join(problems)
        cols["status_code"][i] = "error" if not evaluated else ("warning" if problems else "ok")
    return pd.DataFrame({c: list(v) for c, v in cols.items()}, index=sites.index)


def _assemble(sites: gpd.GeoDataFrame, res: pd.DataFrame) -> gpd.GeoDataFrame:
    import geopandas as gpd

    n = len(sites)
    out: dict[str, Any] = {}
    for c in RESULT_COLUMNS:
        if c in res.columns:
            out[c] = res[c].to_numpy()
        elif c in sites.columns:
            out[c] = sites[c].to_numpy()
        else:
            out[c] = np.full(n, None, dtype=object)
    frame = pd.DataFrame(out, index=pd.RangeIndex(n))
    attrs = [a for a in PROJECT_ATTRIBUTES if a in sites.columns]
    for a in attrs:
        frame[a] = sites[a].to_numpy()
    for c in ("input_crs", "input_notes"):
        frame[c] = sites[c].to_numpy() if c in sites.columns else None
    skip = set(RESULT_COLUMNS) | set(attrs) | {"input_crs", "input_notes", "input_problem", sites.geometry.name,
                                               "location", "county_declared"}
    for c in ("location", "county_declared"):
        if c in sites.columns and sites[c].notna().any():
            frame[c] = sites[c].to_numpy()
    for c in sites.columns:
        if c not in skip and c not in frame.columns:
            frame[c] = sites[c].to_numpy()
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(sites.geometry.to_numpy(), crs="EPSG:4490"), crs="EPSG:4490")


def _as_sites(sites: Any) -> gpd.GeoDataFrame:
    import geopandas as gpd

    from zoning.inputs.sites import read_sites

    if isinstance(sites, (str, Path)):
        return read_sites(sites)
    if not isinstance(sites, gpd.GeoDataFrame):
        msg = f"sites must be a path or a GeoDataFrame, got {type(sites).__name__}"
        raise TypeError(msg)
    gdf = sites
    if gdf.crs is None:
        msg = "sites: the GeoDataFrame has no CRS; set one (e.g. gdf.set_crs('EPSG:4490'))"
        raise ValueError(msg)
    if gdf.crs.to_epsg() != 4490:
        gdf = gdf.to_crs("EPSG:4490")
    gdf = gdf.reset_index(drop=True)
    if "row" not in gdf.columns:
        gdf = gdf.assign(row=np.arange(1, len(gdf) + 1))
    return gdf


def check_sites(
    sites: gpd.GeoDataFrame | str | Path,
    pack: Pack | str | Path | None = None,
    *,
    project_defaults: dict | None = None,
    on_date: dt.date | None = None,
    context: CheckContext | None = None,
    progress: Any = None,
    batch_size: int = 20_000,
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

    Returns
    -------
    GeoDataFrame in EPSG:4490 with :data:`RESULT_COLUMNS`, the project attributes and
    the input's other columns.

    Examples
    --------
    >>> res = check_sites("examples/sites_demo.csv", project_defaults={"construction": "新建"})
    >>> res[["site_name", "verdict", "articles"]].head()  # doctest: +SKIP
    """
    gdf = _as_sites(sites)
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


def county_counts(results: pd.DataFrame) -> pd.DataFrame:
    """Counts per county × verdict for one chunk (add chunks with ``DataFrame.add``)."""
    county = results["county"].fillna("（晋城市外/未定位）").astype(str)
    table = pd.crosstab(county, results["verdict"].astype(str))
    return table


def summarise_by_county(results: pd.DataFrame | Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Sites per county (the county holding most of a site) and verdict, with totals.

    Columns: the verdicts in order of strength, ``not checked``, ``total``; a last row
    ``合计``. ``demonstration_basis`` sites are counted in ``on demonstration data``.
    """
    frames = [results] if isinstance(results, pd.DataFrame) else list(results)
    table = None
    demo = None
    for f in frames:
        t = county_counts(f)
        table = t if table is None else table.add(t, fill_value=0)
        county = f["county"].fillna("（晋城市外/未定位）").astype(str)
        d = f["demonstration_basis"].fillna(False).astype(bool).groupby(county).sum()
        demo = d if demo is None else demo.add(d, fill_value=0)
    return _finish_summary(table, demo)


def _finish_summary(table: pd.DataFrame | None, demo: pd.Series | None) -> pd.DataFrame:
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
    if usage is None:
        frames = [results] if isinstance(results, pd.DataFrame) else list(results or [])
        usage = None
        for f in frames:
            u = quota_usage(f)
            usage = u if usage is None else usage.add(u, fill_value=0)
    if usage is None:
        usage = pd.DataFrame(columns=["sites_ha", "sites"])
    if ctx.quota is None:
        return pd.DataFrame(columns=["class", "quota_ha", "sites", "sites_ha", "remaining_ha", "overrun_ha"])
    rows = []
    for cls, q in ctx.quota["classes"].items():
        used = float(usage["sites_ha"].get(cls, 0.0)) if len(usage) else 0.0
        n = int(usage["sites"].get(cls, 0)) if len(usage) else 0
        rows.append({"class": cls, "quota_ha": q, "sites": n, "sites_ha": round(used, 4),
                     "remaining_ha": round(max(q - used, 0.0), 4), "overrun_ha": round(max(used - q, 0.0), 4)})
    for cls in usage.index:
        if cls not in ctx.quota["classes"]:
            rows.append({"class": cls, "quota_ha": np.nan, "sites": int(usage.loc[cls, "sites"]),
                         "sites_ha": round(float(usage.loc[cls, "sites_ha"]), 4), "remaining_ha": np.nan, "overrun_ha": np.nan})
    total_used = float(usage["sites_ha"].sum()) if len(usage) else 0.0
    total = ctx.quota["total_ha"]
    rows.append({"class": "合计", "quota_ha": total, "sites": int(usage["sites"].sum()) if len(usage) else 0,
                 "sites_ha": round(total_used, 4), "remaining_ha": round(max(total - total_used, 0.0), 4),
                 "overrun_ha": round(max(total_used - total, 0.0), 4)})
    out = pd.DataFrame(rows)
    out.attrs["quota"] = {k: v for k, v in ctx.quota.items() if k != "classes"}
    return out
