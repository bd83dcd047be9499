"""Answer "what applies here?" for a point, or for many points at once.

:func:`query_point` parses a coordinate in any accepted form and returns a
:class:`QueryResult` (``to_dict`` for JSON, ``to_text`` for the terminal in Chinese or
English). :func:`query_points` answers many points at once, vectorised: one STRtree
query per layer, and the rules evaluated once per distinct combination of zones. Both
use :func:`classify_points`, so a single query, a batch and the map agree.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import weakref
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from zoning.core import settings, vocab
from zoning.core.context import LayerUse, PackContext, load_context
from zoning.core.hits import point_hits
from zoning.core.layers import ACCURACY_LABELS, KIND_LABELS, Pack
from zoning.core.nearest import nearest_columns, nearest_dicts, nearest_records

if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.core.hits import Hits
    from zoning.core.rules import Rule

__all__ = ["LayerUse", "PackContext", "PointQuery", "QueryResult", "query_point_answers", "classify_points", "load_context", "query_point", "query_points"]

Lang = Literal["zh", "en"]

DEFAULT_RADIUS_M = 5000.0


def classify_points(
    ctx: PackContext, lon: np.ndarray, lat: np.ndarray, *, exact: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """County, planning extents and zones of every point, from the one hits table.

    Returns
    -------
    points : DataFrame, one row per point in input order: the site columns of
        :data:`zoning.core.hits.SITE_COLUMNS` (``name``, ``near_name`` and ``nearest_name``
        name the counties) and the place columns of :data:`zoning.core.answer.PLACE_COLUMNS`
        (``governing``: the governing (kind, class) pairs after the overlap principles of 123号).
    hits : the hits table (:data:`zoning.core.hits.HIT_COLUMNS`) without the county rows,
        with ``point`` (= ``site``) and ``row`` (the feature's row in its layer).
    """
    h = point_hits(ctx, lon, lat, exact=exact)
    return _points_frame(ctx, h), _zone_hits(ctx, h)


def _points_frame(ctx: PackContext, h: Hits) -> pd.DataFrame:
    from zoning.core.answer import places

    sites = h.sites.rename(columns=_RENAMED)
    return pd.concat([sites.reset_index(drop=True), places(ctx, h)], axis=1)


def _classify_many(ctx: PackContext, lon: np.ndarray, lat: np.ndarray
                   ) -> tuple[list[dict[str, Any]], list[pd.DataFrame], Hits]:
    """:func:`classify_points` (exact) with each point's row as a plain dict and its zone
    and extent hits apart: no one-row frames for a single point."""
    from zoning.core.answer import places

    h = point_hits(ctx, lon, lat, exact=True)
    pl = places(ctx, h)
    names = [*(_RENAMED.get(c, c) for c in h.sites.columns), *pl.columns]
    columns = [s.to_numpy().tolist() for frame in (h.sites, pl) for _, s in frame.items()]
    rows = [dict(zip(names, v, strict=True)) for v in zip(*columns, strict=True)]  # Python values, as to_numpy(object)
    t = h.table
    zones = t[t["kind"].isin(vocab.CLASSED_KINDS).to_numpy()]
    if len(lon) == 1:
        return rows, [zones], h
    site = zones["site"].to_numpy()
    cuts = np.searchsorted(site, np.arange(len(lon) + 1))  # the table is sorted by site
    return rows, [zones.iloc[cuts[i]:cuts[i + 1]] for i in range(len(lon))], h


_RENAMED = {"county": "name", "near_county": "near_name", "nearest_county": "nearest_name"}


def _zone_hits(ctx: PackContext, h: Hits) -> pd.DataFrame:
    t = h.table
    zones = t[t["kind"].isin(vocab.CLASSED_KINDS).to_numpy()].reset_index(drop=True)
    rows = ctx.feature_arrays["row"][zones["feature"].to_numpy()] if len(zones) else np.empty(0, np.int64)
    return zones.assign(point=zones["site"].to_numpy(), row=rows)


# --------------------------------------------------------------------------------------
# The answer for one point
# --------------------------------------------------------------------------------------


@dataclass
class CountyAnswer:
    """The county a point lies in, and how sure that is."""

    adcode: str | None
    name: str | None
    name_en: str | None
    inside_city: bool
    boundary_distance_m: float | None
    near_line: bool
    neighbour_adcode: str | None = None
    neighbour_name: str | None = None
    nearest_adcode: str | None = None
    nearest_name: str | None = None
    nearest_distance_m: float | None = None
    positional_accuracy_m: float | None = None
    #: in a county, or outside every county but within the layer's positional accuracy
    #: of one (then in the nearest, near the line): the rules of the pack apply
    located: bool = False


@dataclass
class ExtentAnswer:
    """Inside or outside 中心城市规划区 and 中心城区."""

    in_planning_area: bool
    in_central_area: bool
    accuracy: str | None
    note: str = ""
    #: yes / no / uncertain: an indicative outline decides only away from its edges, and
    #: the drawn 中心城区 is a lower bound (see zoning.core.answer.places)
    planning_membership: str = "no"
    central_membership: str = "no"
    compensation_level: str | None = None
    compensation_levels_wan_per_mu: list[float] = field(default_factory=list)
    compensation_note: str = ""


@dataclass
class QuotaAnswer:
    """The land-supply quota that governs the point, or a statement that none does."""

    applies: bool
    year: int | None = None
    area_name: str | None = None
    document: str | None = None
    total_ha: float | None = None
    classes: list[dict[str, Any]] = field(default_factory=list)
    principles: list[str] = field(default_factory=list)
    statement: str = ""
    #: the plan's period; ``in_force`` False: expired (or not yet in force) on the date —
    #: its figures are kept for reference
    valid_from: str | None = None
    valid_to: str | None = None
    in_force: bool | None = None
    #: the site may lie in the plan's area (its membership of 中心城区 is uncertain)
    possibly: bool = False


@dataclass
class ZoneAnswer:
    """One zone the point falls in."""

    layer: str
    kind: str
    zone_id: str | None
    zone_class: str
    level: int | None
    name: str | None
    county: str | None
    town: str | None
    accuracy: str
    governs: bool


@dataclass(frozen=True)
class RuleAnswer:
    """One rule, cited, with its verdict at the point (shared by the answers of every point
    with the same classes, project and date: read-only)."""

    id: str
    document: str
    article: str
    citation: str
    zone_kind: str | None
    zone_class: str | None
    effect: str
    status: str
    missing: list[str]
    reason: str
    addressee: str
    heading: str | None
    text: str
    summary_en: str
    in_force_from: str
    in_force_to: str | None


@dataclass
class ProjectAnswer:
    """A key project near the point (or, located only by county, in the same county)."""

    year: int
    name: str
    level: str
    category: str
    places: str
    location_precision: str
    distance_m: float | None
    document: str


@dataclass
class NearbyAnswer:
    radius_m: float
    within_radius: list[ProjectAnswer]
    same_county: list[ProjectAnswer]
    note: str


@dataclass
class QueryResult:
    """Everything that applies at one point."""

    lon: float
    lat: float
    input: dict[str, Any]
    date: str
    county: CountyAnswer
    extents: ExtentAnswer
    quota: QuotaAnswer
    zones: list[ZoneAnswer]
    governing: list[dict[str, str]]
    rules: list[RuleAnswer]
    verdict: str | None
    verdict_rules: list[str]
    to_confirm: list[str]
    project: dict[str, Any] | None
    nearby_projects: NearbyAnswer
    layers_used: list[LayerUse]
    accuracy_notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pack: str = ""
    #: the verdict of each subject (groundwater, land, approval, water) beside the overall one
    subject_verdicts: dict[str, str | None] = field(default_factory=dict)
    #: the nearest zone of each class the point lies outside (zoning.core.nearest.nearest_columns)
    nearest: list[dict[str, Any]] = field(default_factory=list)
    lang: str = "zh"
    #: where the answer comes from (zoning.core.provenance): pack version and content hash,
    #: rules version, as-of date, tool version, the input
    provenance: dict[str, str] = field(default_factory=dict)
    schema: str = "zoning.query/1"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; its shape is zoning/schemas/query.schema.json."""
        out = _plain(self)
        out["lon"] = round(self.lon, 7)
        out["lat"] = round(self.lat, 7)
        for key in ("boundary_distance_m", "nearest_distance_m"):
            if out["county"][key] is not None:
                out["county"][key] = round(out["county"][key], 1)
        return out

    def to_text(self, lang: Lang = "zh") -> str:
        """A terminal-readable answer in Chinese (default) or English."""
        return _render_text(self, lang)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(obj: Any) -> Any:
    """What :func:`dataclasses.asdict` gives (dataclasses as dicts, lists, tuples and dicts
    copied, other values deep-copied), without its generic per-value machinery: the answer
    holds dozens of rules and projects, and ``asdict`` cost a third of a query."""
    cls = type(obj)
    if cls in _SCALARS:
        return obj
    names = _FIELDS.get(cls)
    if names is None and is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELDS[cls] = tuple(f.name for f in fields(obj))
    if names is not None:
        out = {}
        for name in names:  # scalars, most of an answer, without a call each
            v = getattr(obj, name)
            out[name] = v if type(v) in _SCALARS else _plain(v)
        return out
    if cls is list:
        return [v if type(v) in _SCALARS else _plain(v) for v in obj]
    if cls is dict:
        return {k if type(k) in _SCALARS else _plain(k): v if type(v) in _SCALARS else _plain(v)
                for k, v in obj.items()}
    return asdict_value(obj)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def asdict_value(obj: Any) -> Any:
    """Any other value exactly as :func:`dataclasses.asdict` copies it."""
    return asdict(_Box(obj))["value"]


@dataclass
class _Box:
    value: Any


def _county_answer(ctx: PackContext, row: dict[str, Any]) -> CountyAnswer:
    located = bool(row["located"])
    bd = None if pd.isna(row["boundary_distance_m"]) else float(row["boundary_distance_m"])
    return CountyAnswer(
        adcode=row["adcode"],
        name=row["name"],
        name_en=ctx.county_names_en.get(row["adcode"]) if located else None,
        inside_city=bool(row["in_city"]),
        boundary_distance_m=bd,
        near_line=bool(located and row["near_line"]),
        neighbour_adcode=row["near_adcode"],
        neighbour_name=row["near_name"],
        nearest_adcode=row["nearest_adcode"],
        nearest_name=row["nearest_name"],
        nearest_distance_m=None if pd.isna(row["nearest_distance_m"]) else float(row["nearest_distance_m"]),
        positional_accuracy_m=ctx.county_tolerance_m,
        located=located,
    )


def _compensation_rule(rules: list[Rule]) -> Rule | None:
    for rule in rules:
        if rule.values and all("wan_yuan_per_mu" in v for v in rule.values):
            return rule
    return None


def _extent_answer(ctx: PackContext, row: dict[str, Any]) -> ExtentAnswer:
    spec = ctx.extents_spec
    comp = _compensation_rule(ctx.rules)
    comp_note = ""
    levels: list[float] = []
    if row["central_membership"] != vocab.NO and comp is not None:
        levels = [v["wan_yuan_per_mu"] for v in comp.values]
        comp_note = (
            f"{comp.citation}: five compensation-reward levels ({'/'.join(map(str, levels))} 万元/亩); "
            "the zone table (附件) is not published in the gazette, so the level at this point cannot be given"
        )
    note = ""
    if spec is not None and spec.accuracy != vocab.OFFICIAL:
        note = f"{spec.name} is {spec.accuracy}: {spec.provenance.get('method', '')}"
    return ExtentAnswer(
        in_planning_area=bool(row["in_planning_area"]),
        in_central_area=bool(row["in_central_area"]),
        accuracy=spec.accuracy if spec else None,
        note=note,
        compensation_levels_wan_per_mu=levels,
        compensation_note=comp_note,
        planning_membership=row["planning_membership"],
        central_membership=row["central_membership"],
    )


def _quota_answer(ctx: PackContext, row: dict[str, Any], day: dt.date, lang: str = "zh") -> QuotaAnswer:
    """The land-supply plan that covers the point on ``day`` — or that did, or may."""
    q = ctx.quota_info
    if q is None:
        return QuotaAnswer(applies=False, statement="the pack holds no land-supply quota layer")
    valid_from, valid_to, in_force = ctx.quota_period(day)
    covered = bool(row["in_quota_area"])
    possibly = not covered and row["central_membership"] == vocab.UNCERTAIN
    if not covered and not possibly:
        return QuotaAnswer(
            applies=False, valid_from=valid_from, valid_to=valid_to, in_force=in_force,
            statement=(f"no published land-supply quota covers this point: the {q['year']} plan "
                       f"({q['document']}) covers {q['area_name']} only"),
        )
    classes = [{"class": c, "ha": ha} for c, ha in q["classes"].items()]
    statement = f"{q['year']}年度{q['area_name']}国有建设用地供应计划 ({q['document']})"
    if not in_force:
        zh = lang == "zh"
        expired = valid_to is not None and day.isoformat() > valid_to
        statement += ((f" — 已过期 ({valid_to}), 数字仅供参考" if zh else
                       f" — expired on {valid_to}, figures kept for reference") if expired else
                      (f" — 尚未生效 ({valid_from})" if zh else f" — not yet in force ({valid_from})"))
    return QuotaAnswer(
        applies=covered and in_force, year=q["year"], area_name=q["area_name"], document=q["document"],
        total_ha=q["total_ha"], classes=classes, principles=list(q["principles"]), statement=statement,
        possibly=possibly, valid_from=valid_from, valid_to=valid_to, in_force=in_force,
    )


def _zone_answers(ctx: PackContext, hits: pd.DataFrame, governing: tuple) -> list[ZoneAnswer]:
    """The groundwater zones of the hits (planning extents are answered apart)."""
    out = []
    col = ctx.feature_arrays
    for f in hits["feature"].to_numpy():
        i = int(f)
        kind = col["kind"][i]
        if kind not in vocab.ZONE_KINDS:
            continue
        level = col["level"][i]
        zone_id = col["zone_id"][i]
        out.append(ZoneAnswer(
            layer=col["layer"][i], kind=kind, zone_id=None if str(zone_id).startswith("#") else zone_id,
            zone_class=col["zone_class"][i], level=None if pd.isna(level) else int(level), name=col["zone_name"][i],
            county=col["county_name"][i], town=col["town"][i], accuracy=col["accuracy"][i],
            governs=(kind, col["zone_class"][i]) in governing,
        ))
    return out


def _rule_answers(evaluated) -> list[RuleAnswer]:
    return [
        RuleAnswer(
            id=e.rule.id, document=e.rule.document, article=e.rule.article, citation=e.rule.citation,
            zone_kind=e.zone_kind, zone_class=e.zone_class, effect=e.rule.effect, status=e.verdict.status,
            missing=list(e.verdict.missing), reason=e.verdict.reason, addressee=e.rule.addressee,
            heading=e.rule.heading, text=e.rule.text, summary_en=e.rule.summary_en,
            in_force_from=e.rule.in_force.from_.isoformat(),
            in_force_to=e.rule.in_force.to.isoformat() if e.rule.in_force.to else None,
        )
        for e in evaluated
    ]


@dataclass(frozen=True)
class _ProjectIndex:
    """The key-project layer prepared once per context for :func:`_nearby`."""

    #: the fields of each project's answer but its distance, in layer order
    base: list[tuple[int, str, str, str, str, str, str]]
    #: rows with a published site, and those sites in the equal-area CRS
    sited: np.ndarray
    sites_m: np.ndarray
    #: rows without a site per county adcode, in layer order
    by_county: dict[str, list[int]]
    note: str


def _project_index(ctx: PackContext) -> _ProjectIndex:
    key = "query.project_index"
    idx = ctx._cache.get(key)
    if idx is not None:
        return idx
    gdf = ctx.projects
    assert gdf is not None
    has_site = (gdf.geometry.notna() & ~gdf.geometry.is_empty).to_numpy(dtype=bool)
    n = len(gdf)

    def text(col: str) -> list[str]:  # str() of each value, as a row read with iterrows gives it
        return [str(v) for v in gdf[col].to_numpy(dtype=object)] if col in gdf.columns else [""] * n

    years = [int(v) for v in gdf["year"].to_numpy(dtype=object)]
    base = list(zip(years, text("name"), text("level"), text("category"), text("places"),
                    text("location_precision"), text("document"), strict=True))
    sited = np.flatnonzero(has_site)
    sites_m = np.asarray(gdf[has_site].to_crs(settings.area_crs).geometry.to_numpy(), dtype=object)
    by_county: dict[str, list[int]] = {}
    codes = gdf["county_adcodes"].fillna("").astype(str).str.split(",").to_numpy(dtype=object)
    for i in np.flatnonzero(~has_site):
        for code in dict.fromkeys(codes[i]):
            by_county.setdefault(code, []).append(int(i))
    note = (f"{len(sited)} of {n} key projects have a published site; the others are "
            "located by county (or only city-wide) and are listed as in the same county, without a distance")
    idx = _ProjectIndex(base, sited, sites_m, by_county, note)
    ctx._cache[key] = idx
    return idx


def _nearby(ctx: PackContext, row: dict[str, Any], lon: float, lat: float, radius_m: float) -> NearbyAnswer:
    if ctx.projects is None:
        return NearbyAnswer(radius_m, [], [], "the pack holds no key-project layer")
    import shapely

    idx = _project_index(ctx)

    def answer(i: int, dist: float | None) -> ProjectAnswer:
        year, name, level, category, places, precision, document = idx.base[i]
        return ProjectAnswer(year=year, name=name, level=level, category=category, places=places,
                             location_precision=precision, distance_m=None if dist is None else round(dist, 1),
                             document=document)

    within: list[ProjectAnswer] = []
    if len(idx.sited):
        from zoning.core.overlay import project_points

        here = project_points(np.array([lon]), np.array([lat]))[0]
        dist = shapely.distance(idx.sites_m, here)
        near = np.flatnonzero(dist <= radius_m)
        for k in near[np.argsort(dist[near])]:
            within.append(answer(int(idx.sited[k]), float(dist[k])))
    code = row["adcode"]
    same = [answer(i, None) for i in idx.by_county.get(code, [])] if code else []
    return NearbyAnswer(radius_m, within, same, idx.note)


def _accuracy_notes(ctx: PackContext, zones: list[ZoneAnswer], extents: ExtentAnswer, lang: str) -> list[str]:
    """What the answer's layers can and cannot say, in the answer's language."""
    zh = lang == "zh"
    notes = []
    for spec, _ in ctx.zones:
        if spec.accuracy != vocab.OFFICIAL:
            acc = vocab.label(vocab.ACCURACY_LABELS[spec.accuracy], lang)
            notes.append(
                f"地下水分区 ({spec.name}) 为{acc}, 不是官方界线: 此点是否位于某一分区, 以及据此得出的地下水结论, 仅供参考"
                if zh else
                f"groundwater zones ({spec.name}) are {spec.accuracy} data, not official outlines: "
                "whether this point lies in a zone, and so every groundwater verdict, is illustrative only"
            )
    if ctx.extents_spec is not None and ctx.extents_spec.accuracy != vocab.OFFICIAL:
        tol = ctx.extent_tolerance_m
        pa, ca = vocab.PLANNING_AREA, vocab.CENTRAL_AREA
        notes.append(
            f"{pa} / {ca} ({ctx.extents_spec.name}) 为示意范围: 距其边界 {tol:.0f} 米内归属待确认; "
            f"所绘{ca}为下限, {pa}内其余部分 (长晋高速以西) 也可能属于{ca}"
            if zh else
            f"{pa} / {ca} ({ctx.extents_spec.name}) are {ctx.extents_spec.accuracy} outlines: membership within "
            f"{tol:.0f} m of their edges is uncertain; the drawn {ca} is a lower bound, and the rest of {pa} "
            "(west of 长晋高速) may belong to it"
        )
    c = ctx.county_spec
    if c.positional_accuracy_m:
        notes.append(
            f"县界 ({c.name}) 来自公开数据集, 已概化, 位置精度约 {c.positional_accuracy_m:.0f} 米"
            if zh else
            f"county lines ({c.name}) come from a public data set, generalised; positional accuracy about "
            f"{c.positional_accuracy_m:.0f} m"
        )
    return notes


def query_point(
    x: float | str,
    y: float | str,
    crs: str | int | None = None,
    *,
    order: Literal["xy", "survey"] = "xy",
    pack: Pack | str | Path | None = None,
    project: dict[str, Any] | None = None,
    on_date: dt.date | None = None,
    radius_m: float = DEFAULT_RADIUS_M,
    lang: Lang = "zh",
    with_nearest: bool = False,
    near_m: float | None = None,
) -> QueryResult:
    """What applies at one point (:func:`query_point_answers` of that one point).

    Parameters
    ----------
    x, y
        The coordinate as the planner has it: lon/lat, or easting/northing (or
        northing/easting with ``order="survey"``).
    crs
        Any CRS pyproj understands, or an alias (``gcj02``, ``bd09``, ``gk3``...);
        default CGCS2000 lon/lat.
    pack
        A pack (or its directory); default the shipped Jincheng pack.
    project
        Project attributes (see ``zoning.core.rules.PROJECT_ATTRIBUTES``); without them the
        rules are listed as they stand and no verdict is given.
    on_date
        The date the rules are read on (default today).
    radius_m
        Radius for nearby key projects.
    with_nearest, near_m
        Add the nearest zone of each class the point lies outside (the ``nearest`` field,
        as ``zoning query`` prints it); ``near_m`` flags those within that distance.

    Raises
    ------
    CoordinateError
        If the coordinate cannot be parsed or is implausible (swapped, metres as
        degrees, wrong Gauss-Kruger zone).
    RuleError
        If a project attribute or value is unknown.
    """
    query = PointQuery(x, y, crs, order, project, on_date, radius_m, lang, with_nearest, near_m)
    (result,) = query_point_answers([query], pack)
    if isinstance(result, Exception):
        raise result
    return result


@dataclass(frozen=True)
class PointQuery:
    """One point of :func:`query_point_answers`: the arguments of :func:`query_point`."""

    x: float | str
    y: float | str
    crs: str | int | None = None
    order: Literal["xy", "survey"] = "xy"
    project: dict[str, Any] | None = None
    on_date: dt.date | None = None
    radius_m: float = DEFAULT_RADIUS_M
    lang: Lang = "zh"
    #: add the nearest zone of each class the point lies outside, as ``zoning query`` does
    #: (:func:`zoning.core.nearest.nearest_columns`); ``near_m`` flags those within reach
    with_nearest: bool = False
    near_m: float | None = None

    def __post_init__(self) -> None:
        """The query's own values (a coordinate and its order are read per point, where a bad one
        is that point's answer): every edge (the CLI, the service) is refused the same way."""
        from zoning.core.errors import UsageError

        if self.lang not in ("zh", "en"):
            raise UsageError(f"lang={self.lang!r}: expected zh or en")
        if not self.radius_m >= 0:
            raise UsageError(f"radius={self.radius_m / 1000:g} km: expected 0 or more")
        if self.near_m is not None and not self.near_m >= 0:
            raise UsageError(f"near={self.near_m:g}: expected metres, 0 or more")


def query_point_answers(
    queries: list[PointQuery], pack: Pack | str | Path | PackContext | None = None
) -> list[QueryResult | Exception]:
    """:func:`query_point` for many points at once: one hits table for all of them, then
    each answer assembled as :func:`query_point` assembles it (the answers are equal).

    A point whose coordinate or project cannot be read gets its exception in its place
    (CoordinateError, RuleError), the others are answered; the service batches the
    queries that arrive together through here.
    """
    from zoning.core.coords import parse_point
    from zoning.core.errors import ZoningError
    from zoning.core.rules import validate_project

    ctx = load_context(pack)
    out: list[QueryResult | Exception | None] = []
    ready: list[tuple[int, Any, dict[str, Any] | None]] = []
    for q in queries:
        try:
            parsed = parse_point(q.x, q.y, q.crs, order=q.order, check_city=False)
            proj = validate_project(q.project) if q.project is not None else None
        except (ZoningError, ValueError) as exc:
            out.append(exc)
            continue
        ready.append((len(out), parsed, proj))
        out.append(None)
    if ready:
        lon = np.array([p.lon for _, p, _ in ready])
        lat = np.array([p.lat for _, p, _ in ready])
        rows, hits, h = _classify_many(ctx, lon, lat)
        nearest = _nearest_rows(ctx, lon, lat, h) if any(queries[i].with_nearest for i, _, _ in ready) else None
        for k, (i, parsed, proj) in enumerate(ready):
            q = queries[i]
            res = _assemble(ctx, parsed, q.order, rows[k], hits[k], proj, q.on_date or dt.date.today(),
                            q.radius_m, q.lang)
            if nearest is not None and q.with_nearest and res.county.located:
                res.nearest = nearest_dicts(nearest.get(k), q.near_m, q.lang)
            out[i] = res
    return [o for o in out if o is not None]


def _nearest_rows(ctx: PackContext, lon: np.ndarray, lat: np.ndarray, h: Hits) -> dict[int, list[tuple[Any, ...]]]:
    """:func:`zoning.core.nearest.nearest_zones` of the batch, in one call, by point."""
    import shapely

    return nearest_records(nearest_columns(ctx, np.asarray(shapely.points(lon, lat), dtype=object), hits=h))


def _assemble(ctx: PackContext, parsed: Any, order: str, row: dict[str, Any], hits: pd.DataFrame,
              proj: dict[str, Any] | None, day: dt.date, radius_m: float, lang: Lang) -> QueryResult:
    """The answer at one classified point (the one assembly of :func:`query_point`)."""
    governing = row["governing"]
    zones = _zone_answers(ctx, hits, governing)
    inside = bool(row["located"])
    ruling = _ruling(ctx, row, proj, day) if inside else _Ruling([], None, [], [], dict.fromkeys(vocab.SUBJECTS))
    extents = _extent_answer(ctx, row)
    warnings: list[str] = []
    if not inside:
        warnings.append("此点位于晋城市以外: 数据包的规则均不适用" if lang == "zh" else
                        "the point lies outside 晋城市: no rule of the pack applies")
    used = list(ctx.layers_used)
    return QueryResult(
        lon=parsed.lon,
        lat=parsed.lat,
        input={"x": parsed.input_x, "y": parsed.input_y, "crs": parsed.input_crs, "order": order,
               "notes": list(parsed.notes)},
        date=day.isoformat(),
        county=_county_answer(ctx, row),
        extents=extents,
        quota=_quota_answer(ctx, row, day, lang),
        zones=zones,
        governing=[{"kind": k, "zone_class": c} for k, c in governing],
        rules=list(ruling.rules),
        verdict=ruling.verdict,
        verdict_rules=list(ruling.verdict_rules),
        to_confirm=list(ruling.to_confirm),
        project=proj,
        nearby_projects=_nearby(ctx, row, parsed.lon, parsed.lat, radius_m),
        layers_used=used,
        accuracy_notes=_accuracy_notes(ctx, zones, extents, lang) if inside else [],
        warnings=warnings,
        pack=ctx.pack.name,
        subject_verdicts=dict(ruling.subject_verdicts),
        lang=lang,
        provenance=_provenance(ctx, day, parsed, order),
    )


@dataclass(frozen=True)
class _Ruling:
    """The rules evaluated at a place for a project on a date, and the verdicts they give."""

    rules: list[RuleAnswer]
    verdict: str | None
    verdict_rules: list[str]
    to_confirm: list[str]
    subject_verdicts: dict[str, str | None]


def _ruling(ctx: PackContext, row: dict[str, Any], proj: dict[str, Any] | None, day: dt.date) -> _Ruling:
    """The ruling at a located point (:func:`zoning.core.answer.rule_place`, computed once per
    place, project and date) as the answer gives it."""
    from zoning.core.answer import rule_place

    r = rule_place(ctx, row["classes"], proj, day, row["uncertain"])
    found = _RULINGS.get(r)
    if found is None:  # the answer's form of a kept ruling, made once (it lives as long as the ruling)
        found = _RULINGS[r] = _Ruling(rules=_rule_answers(r.evaluated), verdict=r.verdict,
                                      verdict_rules=[e.rule.id for e in r.producing], to_confirm=list(r.missing),
                                      subject_verdicts=dict(r.subjects))
    return found


_RULINGS: weakref.WeakKeyDictionary[Any, _Ruling] = weakref.WeakKeyDictionary()


def _provenance(ctx: PackContext, day: dt.date, parsed: Any, order: str) -> dict[str, str]:
    from zoning.core.provenance import provenance

    return provenance(ctx, on_date=day,
                      input_text=f"{parsed.input_x} {parsed.input_y} {parsed.input_crs} {order}")


# --------------------------------------------------------------------------------------
# Many points
# --------------------------------------------------------------------------------------


def query_points(
    points: gpd.GeoDataFrame | tuple[np.ndarray, np.ndarray],
    pack: Pack | str | Path | None = None,
    *,
    project: dict[str, Any] | None = None,
    on_date: dt.date | None = None,
) -> pd.DataFrame:
    """The answer for many CGCS2000 points, vectorised, one row per point in input order.

    ``points`` is a GeoDataFrame of points (any CRS) or a (lon, lat) pair of arrays.
    Columns: county (``adcode``, ``county``, ``near_county``), ``in_planning_area``,
    ``in_central_area``, ``in_quota_area``, ``protection_class``, ``control_class``,
    ``zone_ids``, ``verdict`` (None without a project), ``articles`` (citations of the
    rules that produced the verdict, or of the prohibitions and conditions as they stand),
    ``accuracy`` (the least accurate layer the zone answer rests on).
    """
    from zoning.core.answer import Verdicts, places
    from zoning.core.hits import point_hits
    from zoning.core.rules import validate_project

    ctx = load_context(pack)
    if isinstance(points, tuple):
        lon, lat = (np.asarray(a, dtype=float) for a in points)
    else:
        geo = points.to_crs("EPSG:4490").geometry
        lon, lat = geo.x.to_numpy(), geo.y.to_numpy()
    day = on_date or dt.date.today()
    proj = validate_project(project) if project is not None else None
    h = point_hits(ctx, lon, lat)
    pl = places(ctx, h)
    n = len(h.sites)
    ids = np.full(n, "", dtype=object)
    zones = h.table[h.table["kind"].isin(vocab.ZONE_KINDS).to_numpy()]
    if len(zones):
        joined = zones.groupby("site", sort=True)["zone_id"].agg(",".join)
        ids[joined.index.to_numpy()] = joined.to_numpy()
    # rules once per distinct combination of governing zones
    verdicts = np.full(n, None, dtype=object)
    articles = np.full(n, "", dtype=object)
    inside = h.sites["located"].to_numpy(dtype=bool)
    codes = pl["classes_code"].to_numpy()
    judge = Verdicts(ctx, day)
    for code in np.unique(codes[inside]):
        idx = np.flatnonzero(inside & (codes == code))
        classes, uncertain = pl["classes"].iat[idx[0]], pl["uncertain"].iat[idx[0]]
        if proj is not None:
            v = judge.of(classes, proj, uncertain)
            verdicts[idx] = v["verdict"]
            articles[idx] = (v["articles"] or "").replace("；", "; ")
        else:
            producing = [e for e in judge.evaluated(classes, None, uncertain) if e.rule.addressee == "project"
                         and e.verdict.status in ("prohibited", "conditional")]
            articles[idx] = "; ".join(dict.fromkeys(e.rule.citation for e in producing))
    zone_acc = vocab.least_accurate(ctx.kind_accuracy.get(k) for k in vocab.ZONE_KINDS)
    accuracy = np.full(n, None, dtype=object)  # the zone layers' accuracy where the point is located
    accuracy[inside] = zone_acc

    def obj(values) -> pd.Series:  # object dtype keeps None (pandas 3 would infer str + NaN)
        return pd.Series(np.asarray(values, dtype=object), dtype=object)

    s = h.sites
    return pd.DataFrame({
        "lon": lon,
        "lat": lat,
        "adcode": obj(s["adcode"]),
        "county": obj(s["county"]),
        "near_county": obj(s["near_county"]),
        "near_line": s["near_line"].to_numpy(dtype=bool),
        "in_planning_area": pl["in_planning_area"].to_numpy(),
        "in_central_area": pl["in_central_area"].to_numpy(),
        "planning_membership": obj(pl["planning_membership"]),
        "central_membership": obj(pl["central_membership"]),
        "in_quota_area": pl["in_quota_area"].to_numpy(),
        "protection_class": pl["protection_class"],
        "control_class": pl["control_class"],
        "governing": obj(["、".join(c for _, c in g) for g in pl["governing"]]),
        "zone_ids": obj(ids),
        "verdict": obj(verdicts),
        "articles": obj(articles),
        "accuracy": obj(accuracy),
    })


# --------------------------------------------------------------------------------------
# Text rendering
# --------------------------------------------------------------------------------------



def _wrap(text: str, indent: str, width: int = 88) -> list[str]:
    """Wrap to ``width`` terminal columns (a CJK character takes two)."""
    wide = sum(1 for ch in text if ord(ch) > 0x2E80)
    if wide > len(text) / 3:
        width = len(indent) + (width - len(indent)) // 2
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent) or [indent]


def _render_text(r: QueryResult, lang: Lang) -> str:
    """The text answer of ``zoning query``, section by section."""
    t = _chooser(lang)
    lines: list[str] = []
    for section in (_text_place, _text_plan, _text_zones_and_verdict, _text_rules, _text_sources):
        lines += section(r, lang, t)
    return "\n".join(lines)


def _chooser(lang: Lang) -> Any:
    """``t(zh, en)``: the text of the answer's language."""
    return (lambda a, b: a) if lang == "zh" else (lambda a, b: b)


def _text_place(r: QueryResult, lang: Lang, t: Any) -> list[str]:
    """Where the point is: its location, the input and how it was read, the county (and the line near it)."""
    c = r.county
    lines = [
        t(f"位置: 经度 {r.lon:.6f}, 纬度 {r.lat:.6f} (CGCS2000)  查询日期 {r.date}",
          f"Location: lon {r.lon:.6f}, lat {r.lat:.6f} (CGCS2000)  date {r.date}"),
        t(f"输入: {r.input['x']}, {r.input['y']} ({r.input['crs']})", f"Input: {r.input['x']}, {r.input['y']} ({r.input['crs']})"),
    ]
    lines += [t("  说明: ", "  note: ") + n for n in r.input.get("notes", [])]
    if c.adcode:
        lines.append(t(f"县级行政区: {c.name} ({c.adcode})", f"County: {c.name_en} / {c.name} ({c.adcode})"))
        if c.near_line and c.neighbour_name:
            lines.append(t(
                f"  注意: 距县界约 {c.boundary_distance_m:.0f} 米, 在县界图层定位精度 ({c.positional_accuracy_m:.0f} 米) 之内, "
                f"也可能属于 {c.neighbour_name} ({c.neighbour_adcode})",
                f"  caution: about {c.boundary_distance_m:.0f} m from a county line, within the county layer's "
                f"positional accuracy ({c.positional_accuracy_m:.0f} m); it may lie in {c.neighbour_name} ({c.neighbour_adcode})"))
        elif c.near_line:
            lines.append(t(f"  注意: 距市界约 {c.boundary_distance_m:.0f} 米, 在定位精度之内, 可能位于晋城市以外",
                           f"  caution: about {c.boundary_distance_m:.0f} m from the city boundary, within the layer's "
                           "positional accuracy; it may lie outside 晋城市"))
    else:
        km = (c.nearest_distance_m or 0) / 1000
        lines.append(t(f"县级行政区: 不在晋城市范围内; 最近的是 {c.nearest_name} ({c.nearest_adcode}), 约 {km:.1f} 公里",
                       f"County: outside 晋城市; the nearest county is {c.nearest_name} ({c.nearest_adcode}), {km:.1f} km away"))
    return lines


def _text_plan(r: QueryResult, lang: Lang, t: Any) -> list[str]:
    """The planning extents (yes / no / uncertain), the compensation levels and the land-supply quota."""
    zh = lang == "zh"
    lines: list[str] = []
    e = r.extents
    yes, no = t("是", "yes"), t("否", "no")
    acc = ACCURACY_LABELS.get(e.accuracy or "", ("", ""))[0 if zh else 1]
    pa, ca = vocab.PLANNING_AREA, vocab.CENTRAL_AREA
    pm = vocab.label(vocab.MEMBERSHIP_LABELS.get(e.planning_membership, (yes, yes)), lang)
    cm = vocab.label(vocab.MEMBERSHIP_LABELS.get(e.central_membership, (no, no)), lang)
    lines.append(t(f"{pa}: {pm}   {ca}: {cm}   [{acc}]",
                   f"{pa} (planning area): {pm}   {ca} (central area): {cm}   [{acc}]"))
    if vocab.UNCERTAIN in (e.planning_membership, e.central_membership):
        which = ca if e.central_membership == vocab.UNCERTAIN else pa
        attr = vocab.MEMBERSHIP_ATTRIBUTES[which]
        lines += _wrap(t(f"  注意: {which}为示意范围, 此点是否属于{which}待确认; 适用于{which}的条款按“可能适用”评价 "
                         f"(确认后用 -a {attr}=是/否)",
                         f"  caution: {which} is an indicative outline and whether this point lies in it is uncertain; "
                         f"its rules are evaluated as possibly applying (settle it with -a {attr}=true/false)"), "")
    if e.compensation_levels_wan_per_mu:
        levels = "/".join(f"{v:g}" for v in e.compensation_levels_wan_per_mu)
        lines += _wrap(t(
            f"征地补偿奖励: 晋市政发〔2021〕3号（五）分5个奖励级别区 ({levels} 万元/亩); 分级附件未在公报中公布, 无法确定此点所属级别",
            f"Compensation-reward levels: {e.compensation_note}"), "  ")
    q = r.quota
    if q.total_ha is not None and (q.applies or q.possibly or q.in_force is False):
        head = t("土地供应计划: ", "Land-supply quota: ")
        if q.possibly:
            head += t(f"(若此点属于{vocab.CENTRAL_AREA}) ", f"(if the point lies in {vocab.CENTRAL_AREA}) ")
        lines.append(head + t(f"{q.statement} 合计 {q.total_ha} 公顷", f"{q.statement}, total {q.total_ha} ha"))
        lines.append("  " + "; ".join(f"{x['class']} {x['ha']}" for x in q.classes))
    else:
        lines.append(t("土地供应计划: 无公布的供应计划覆盖此点", "Land-supply quota: ") + ("" if zh else q.statement))
    return lines


def _text_zones_and_verdict(r: QueryResult, lang: Lang, t: Any) -> list[str]:
    """The groundwater zones (the governing one marked), the verdict, per subject, and what to confirm."""
    from zoning.core.vocab import VERDICT_LABELS

    zh = lang == "zh"
    c = r.county
    lines: list[str] = []
    if r.zones:
        lines.append(t("地下水污染防治重点区:", "Groundwater key zones:"))
        for z in r.zones:
            acc = ACCURACY_LABELS.get(z.accuracy, (z.accuracy, z.accuracy))[0 if zh else 1]
            gov = t(" ← 从严适用", " ← governs") if z.governs else ""
            where = "".join(x for x in (z.town,) if x)
            lines.append(f"  - {z.zone_class} {z.name or ''} {z.zone_id or ''} {where} [{acc}]{gov}")
    elif c.adcode:
        lines.append(t("地下水污染防治重点区: 不在任何保护类或管控类区域内 (一般区)",
                       "Groundwater key zones: none (general area)"))
    if r.verdict:
        label = VERDICT_LABELS[r.verdict][0 if zh else 1]
        lines.append(t(f"结论: {label}  (依据: {', '.join(r.verdict_rules) or '—'})",
                       f"Verdict: {label}  (by: {', '.join(r.verdict_rules) or '—'})"))
        per = [f"{vocab.label(vocab.SUBJECT_LABELS[s], lang)} {vocab.verdict_label(v, lang)}"
               for s, v in r.subject_verdicts.items() if v is not None]
        if per:
            lines.append(t("  分项结论: ", "  by subject: ") + "; ".join(per))
        shaky = sorted({lu.accuracy for lu in r.layers_used
                        if lu.accuracy != vocab.OFFICIAL and lu.kind in vocab.CLASSED_KINDS})
        if shaky:
            labels = "/".join(ACCURACY_LABELS[a][0 if zh else 1] for a in shaky)
            lines.append(t(f"  注意: 此结论所依据的分区图层为{labels}数据, 不是官方界线, 仅供参考",
                           f"  note: this verdict rests on {labels} zone layers, not official outlines: illustrative only"))
        if r.to_confirm:
            from zoning.core.rules import PROJECT_ATTRIBUTES

            named = [f"{a} ({PROJECT_ATTRIBUTES[a].zh if zh else PROJECT_ATTRIBUTES[a].en})"
                     if a in PROJECT_ATTRIBUTES else a for a in r.to_confirm]
            lines.append(t("  请补充项目属性: ", "  describe the project further: ") + ", ".join(named)
                         + t("  (用 -a 名称=值)", "  (with -a NAME=VALUE)"))
    return lines


def _text_rules(r: QueryResult, lang: Lang, t: Any) -> list[str]:
    """The articles: those that bind the project (with their text), those that do not apply, the authorities' duties."""
    zh = lang == "zh"
    lines: list[str] = []

    def rule_line(ra: RuleAnswer) -> str:
        status = vocab.label(vocab.STATUS_LABELS.get(ra.status, (ra.status, ra.status.replace("_", " "))), lang)
        scope = ra.zone_class or t("全市", "city-wide")
        valid = f"{ra.in_force_from}–{ra.in_force_to or t('长期', 'open')}"
        return f"  [{status}] {ra.citation} ({scope}; {t('有效期', 'in force')} {valid})"

    to_project = [ra for ra in r.rules if ra.addressee == "project" and ra.status != "not_applicable"]
    if to_project:
        lines.append(t("适用于建设项目的条款:", "Rules that bind the project:"))
        for ra in to_project:
            lines.append(rule_line(ra))
            if ra.missing:
                lines.append(("      " + t(vocab.VERDICT_LABELS[vocab.NEEDS_CONFIRMATION][0] + ": ", "confirm: ")) + ", ".join(ra.missing))
            lines += _wrap(ra.text if zh else ra.summary_en, "      ")
    skipped = [ra for ra in r.rules if ra.addressee == "project" and ra.status == "not_applicable"]
    if skipped:
        lines.append(t(f"不适用于本项目的条款: {len(skipped)} 条 (", f"Rules not applicable to this project: {len(skipped)} (")
                     + ", ".join(ra.citation for ra in skipped) + ")")
    duties = [ra for ra in r.rules if ra.addressee != "project"]
    if duties:
        lines.append(t("主管部门职责 (不约束项目, 全文见 --format json):",
                       "Duties of the authorities (not binding the project; full text with --format json):"))
        for ra in duties:
            lines.append(rule_line(ra) + " " + (ra.heading or "" if zh else ra.summary_en))
    return lines


def _text_sources(r: QueryResult, lang: Lang, t: Any) -> list[str]:
    """Key projects nearby, the accuracy notes and warnings, the layers used and the provenance."""
    zh = lang == "zh"
    lines: list[str] = []
    nb = r.nearby_projects
    if nb.within_radius:
        lines.append(t(f"{nb.radius_m / 1000:g} 公里内的重点工程:", f"Key projects within {nb.radius_m / 1000:g} km:"))
        lines += [f"  - {p.name} ({p.year} {p.level}, {p.distance_m:.0f} m)" for p in nb.within_radius]
    if nb.same_county:
        names = "、".join(p.name for p in nb.same_county[:6])
        more = "" if len(nb.same_county) <= 6 else t(f" 等 {len(nb.same_county)} 个", f" and others, {len(nb.same_county)} in all")
        lines.append(t(f"同县重点工程 (仅知所在县, 无具体位置): {names}{more}",
                       f"Key projects in the same county (located by county only, no site): {names}{more}"))
    for note in r.accuracy_notes:
        lines += _wrap(t("精度: ", "accuracy: ") + note, "")
    for w in r.warnings:
        lines.append(t("警告: ", "warning: ") + w)
    lines.append(t("所用图层:", "Layers used:"))
    for lu in r.layers_used:
        acc = vocab.layer_accuracy_label(lu.accuracy, lang, lu.positional_accuracy_m)
        kind = KIND_LABELS.get(lu.kind, (lu.kind, lu.kind))[0 if zh else 1]
        lines.append(f"  - {lu.name} ({kind}) [{acc}] {lu.source}")
    if r.provenance:
        from zoning.core.provenance import provenance_lines

        keys = ("pack_version", "pack_sha256", "rules_version", "as_of", "tool_version")
        lines.append(t("来源:", "Provenance:"))
        lines += [f"  {line}" for line in provenance_lines({k: r.provenance[k] for k in keys if k in r.provenance},
                                                           lang)]
    return lines
