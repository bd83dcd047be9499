"""The content of a 建设项目用地合规性审查报告 (review report), built once per site.

:func:`build_review` turns one result row of :func:`zoning.check.check_sites` (the row the
CSV writes), the site's zone hits and the pack context into a :class:`Review`: plain
labelled text and figures in the report's language, which the Word and PDF renderers
(:mod:`zoning.outputs.review.word`, :mod:`zoning.outputs.review.pdf`) lay out without
deciding anything themselves. Figures are printed with the digits the CSV shows (公顷 4
decimals, 亩 2, % 1), so a reader can hold the report beside the CSV row.

:func:`provenance` is the one place that says where an answer came from (pack, manifest
and rules hashes, evaluation date, tool version, input hash); :func:`answer_id` a stable
id of one site's answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.core import settings, vocab

if TYPE_CHECKING:
    from zoning.check import CheckContext
    from zoning.core.context import PackContext

__all__ = ["Article", "Review", "answer_id", "build_review", "build_reviews", "zone_rows"]

#: Rows of :func:`zone_rows`: one per (site, zone) with the overlap in m² (NaN for a point).
ZONE_ROW_COLUMNS = ("site", "kind", "zone_class", "zone_id", "zone_name", "overlap_m2")


def t(lang: str, zh: str, en: str) -> str:
    """The text of the report's language."""
    return zh if lang == "zh" else en


@dataclass
class Article:
    """An article quoted in the opinion."""

    citation: str
    document: str
    document_title: str
    article: str
    text: str
    effect: str
    subject: str
    #: the English summary of the article (shown beside the quote in English reports)
    summary_en: str = ""


@dataclass
class Review:
    """Everything one site's report says, as labelled text (see module docstring)."""

    lang: str
    title: str
    number: str
    date: str
    site_label: str
    #: (label, value) rows of the project facts
    project: list[tuple[str, str]]
    geometry: Any
    is_point: bool
    verdict: str
    verdict_label: str
    #: (subject label, verdict label) rows
    subject_verdicts: list[tuple[str, str]]
    #: overlap per zone class: header + rows
    class_header: list[str]
    class_rows: list[list[str]]
    #: overlap per zone: header + rows
    zone_header: list[str]
    zone_rows: list[list[str]]
    #: planning extents and counties: header + rows
    extent_header: list[str]
    extent_rows: list[list[str]]
    county_header: list[str]
    county_rows: list[list[str]]
    articles: list[Article]
    #: (attribute label, why) rows of what must be confirmed
    to_confirm: list[tuple[str, str]]
    opinion: list[str]
    #: notes on the input and the county line
    notes: list[str]
    #: accuracy: the first-page statement (empty when every layer is official) and a row per layer
    accuracy_statement: list[str]
    accuracy_header: list[str]
    accuracy_rows: list[list[str]]
    #: (kind label, accuracy label) for the map's note, one per layer drawn
    map_accuracy: list[tuple[str, str]]
    provenance: list[tuple[str, str]]
    signature: list[str]
    demonstration: bool
    status: str
    labels: dict[str, str] = field(default_factory=dict)
    #: the result row's verdict code and figures, for summaries
    summary: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- answer id


def answer_id(prov: dict[str, str], row: pd.Series | dict[str, Any], project: dict[str, Any]) -> str:
    """A stable id of one site's answer: the hash of the pack and rules hashes, the date,
    the input's hash, the row, its geometry and its project attributes (16 hex digits)."""
    geom = row.get("geometry")
    wkb = geom.wkb_hex if geom is not None and hasattr(geom, "wkb_hex") else ""
    parts = [
        prov.get("pack_sha256", prov.get("manifest_sha256", "")),
        prov.get("rules_version", ""),
        prov.get("as_of", ""),
        prov.get("input_sha256", ""),
        str(row.get("row", "")),
        wkb,
        repr(sorted((str(k), str(v)) for k, v in project.items())),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- zone hits


def zone_rows(context: PackContext, geometries: Any) -> pd.DataFrame:
    """The zones each geometry touches (:data:`ZONE_ROW_COLUMNS`), from the one hits table
    (:func:`zoning.core.hits.site_hits`) the check's CSV columns are assembled from."""
    from zoning.core.hits import site_hits

    h = site_hits(context, np.asarray(geometries))
    tab = h.table
    z = tab[tab["kind"].isin(vocab.ZONE_KINDS).to_numpy()]
    names = context.feature_arrays["zone_name"][z["feature"].to_numpy()] if len(z) else []
    return pd.DataFrame(
        {
            "site": z["site"].to_numpy(),
            "kind": z["kind"].to_numpy(),
            "zone_class": z["zone_class"].to_numpy(),
            "zone_id": z["zone_id"].to_numpy(),
            "zone_name": pd.Series(names, dtype=object),
            "overlap_m2": z["overlap_m2"].to_numpy(dtype=float),
        }
    )


def build_reviews(
    ctx: CheckContext,
    results: Any,
    prov: dict[str, str],
    *,
    lang: str = "zh",
    errors: list[tuple[str, str]] | None = None,
) -> list[Review]:
    """The review of every row of a chunk of check results (one hits computation for the chunk).

    With ``errors``, a row whose review cannot be built is left out and its (row, problem)
    appended there, so one bad site never sinks the batch; without, the error is raised."""
    zones = zone_rows(ctx.context, results.geometry.to_numpy())
    by_site = {int(k): g for k, g in zones.groupby("site", sort=False)} if len(zones) else {}
    empty = zones.iloc[0:0]
    out = []
    for k in range(len(results)):
        row = results.iloc[k]
        try:
            out.append(build_review(ctx, row, by_site.get(k, empty), prov, lang=lang))
        except Exception as exc:  # noqa: BLE001 - reported per site when asked to
            if errors is None:
                raise
            errors.append((f"{row.get('row')} {row.get('site_name')}", f"{type(exc).__name__}: {exc}"))
    return out


# --------------------------------------------------------------------------- formatting


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _txt(v: Any, empty: str = "—") -> str:
    if _missing(v):
        return empty
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def ha(m2_or_ha: float, *, from_m2: bool = False) -> str:
    v = m2_or_ha / settings.SQM_PER_HA if from_m2 else m2_or_ha
    return f"{v:.4f}"


def mu(m2: float) -> str:
    return f"{m2 / settings.SQM_PER_MU:.2f}"


def _industry(value: Any, lang: str) -> str:
    if _missing(value):
        return "—"
    from zoning.core.errors import RuleError
    from zoning.core.industries import resolve_industry

    raw = str(value)
    try:
        ind = resolve_industry(raw)
    except RuleError:
        return raw + t(lang, " (未能对应 GB/T 4754-2017 代码)", " (no GB/T 4754-2017 code matches)")
    std = f"{ind.code} {ind.name}" if ind.code else ind.name
    return f"{raw} → GB/T 4754-2017 {std}" if std != raw else f"GB/T 4754-2017 {std}"


def _attribute_names(text: Any) -> list[str]:
    """The project attributes named in a result row's ``missing_attributes`` cell."""
    from zoning.core.rules import PROJECT_ATTRIBUTES

    if _missing(text):
        return []
    found = re.findall(r"([a-z][a-z0-9_]*)(?= \()", str(text))
    return [a for a in dict.fromkeys(found) if a in PROJECT_ATTRIBUTES] or [
        s.strip() for s in str(text).split("、") if s.strip()
    ]


def _condition_attrs(conditions: Any) -> set[str]:
    out: set[str] = set()
    for c in conditions or ():
        if hasattr(c, "attr"):
            out.add(c.attr)
        for group in getattr(c, "groups", ()):
            out |= _condition_attrs(group)
    return out


def _rule_attrs(rule: Any) -> set[str]:
    attrs = _condition_attrs(rule.conditions)
    for exc in rule.exceptions:
        attrs |= _condition_attrs(exc.conditions)
    return attrs


def _attr_value(attr: str, value: Any, lang: str) -> str:
    """A project attribute's value in words (``new`` → 新建, ``True`` → 是)."""
    from zoning.core.errors import RuleError
    from zoning.core.rules import PROJECT_ATTRIBUTES, validate_project

    spec = PROJECT_ATTRIBUTES.get(attr)
    if _missing(value) or spec is None:
        return _txt(value)
    try:
        norm = validate_project({attr: value}).get(attr, value)
    except RuleError:
        return _txt(value)
    if spec.type == "bool" and isinstance(norm, bool):
        return t(lang, "是", "yes") if norm else t(lang, "否", "no")
    for v in spec.values:
        if v.value == norm:
            return v.zh if lang == "zh" else v.en
    if isinstance(norm, tuple):
        return "、".join(map(str, norm))
    return _txt(value if not isinstance(value, tuple) else "、".join(map(str, value)))


def _membership(v: Any, lang: str) -> str:
    pair = vocab.MEMBERSHIP_LABELS.get(str(v)) if not _missing(v) else None
    return vocab.label(pair, lang) if pair else "—"


# --------------------------------------------------------------------------- the review


def build_review(
    ctx: CheckContext,
    row: pd.Series,
    zones: pd.DataFrame,
    prov: dict[str, str],
    *,
    lang: str = "zh",
) -> Review:
    """The content of one site's report.

    Parameters
    ----------
    ctx
        The check run's context (pack, date, project defaults).
    row
        The site's result row from :func:`zoning.check.check_sites` (with ``geometry``).
    zones
        The site's rows of :func:`zone_rows`.
    prov
        :func:`provenance` of the run.
    """
    L = partial(t, lang)
    is_point = _missing(row.get("site_area_ha"))
    project = _project(ctx, row)
    aid = answer_id(prov, row, project)
    day = prov.get("as_of", ctx.on_date.isoformat())
    verdict = str(row.get("verdict")) if not _missing(row.get("verdict")) else vocab.NOT_CHECKED
    status = _txt(row.get("status"), "ok")
    name = _txt(row.get("site_name"), L("（未命名）", "(unnamed)"))
    # 一、项目概况 (二、项目位置图 draws the geometry and map_accuracy)
    facts = _project_facts(row, project, name, is_point, lang)
    # 三、压占分析
    class_header, zone_header = _overlap_headers(is_point, lang)
    class_rows, zone_table = _overlap_rows(row, zones, is_point, lang)
    extent_header, extent_rows = _extent_table(row, lang)
    county_header, county_rows = _county_table(row, is_point, lang)
    # 四、审查意见
    quoted = _quoted_rules(ctx, row)
    opinion = _opinion(row, verdict, status, prov, day, is_point, lang)
    # 五、数据精度说明
    accuracy_rows, map_accuracy = _layer_accuracy(ctx, lang)
    demonstration = _demonstration(ctx, row)
    return Review(
        lang=lang,
        title=L("建设项目用地合规性审查报告", "Compliance review of a construction-project site"),
        number=f"JC-ZS-{day.replace('-', '')}-{aid[:8].upper()}",
        date=dt.date.today().isoformat(),
        site_label=name,
        project=facts,
        geometry=row.get("geometry"),
        is_point=is_point,
        verdict=verdict,
        verdict_label=vocab.verdict_label(verdict, lang),
        subject_verdicts=_subject_verdicts(row, lang),
        class_header=class_header,
        class_rows=class_rows,
        zone_header=zone_header,
        zone_rows=zone_table,
        extent_header=extent_header,
        extent_rows=extent_rows,
        county_header=county_header,
        county_rows=county_rows,
        articles=_articles(quoted, lang),
        to_confirm=_to_confirm(row, quoted, lang),
        opinion=opinion,
        notes=_notes(row, verdict, status, lang),
        accuracy_statement=_accuracy_statement(ctx, demonstration, lang),
        accuracy_header=[L("图层", "Layer"), L("类别", "Kind"), L("精度", "Accuracy"), L("来源", "Source")],
        accuracy_rows=accuracy_rows,
        map_accuracy=map_accuracy,
        provenance=_provenance_rows(prov, aid, lang),
        signature=[L("审查人", "Reviewed by"), L("复核人", "Checked by"), L("日期", "Date")],
        demonstration=demonstration,
        status=status,
        labels=_labels(lang),
        summary=_summary(row, verdict, name, is_point, aid),
    )


# ---- 一、项目概况: the project facts


def _project(ctx: CheckContext, row: pd.Series) -> dict[str, Any]:
    """The project attributes the site was judged with: the run's defaults, overridden by
    what the row states (an attribute that is also a result column was kept as 原_<name>)."""
    from zoning.check import stated_columns

    stated = stated_columns(row.index)
    project = {a: row.get(c) for a, c in stated.items() if not _missing(row.get(c))}
    return {**{k: v for k, v in ctx.defaults.items()}, **project}


def _spec_label(attr: str, lang: str) -> str:
    """A project attribute's name in the report's language (``construction`` → 建设性质)."""
    from zoning.core.rules import PROJECT_ATTRIBUTES

    spec = PROJECT_ATTRIBUTES.get(attr)
    return (spec.zh if lang == "zh" else spec.en) if spec else attr


def _project_facts(
    row: pd.Series, project: dict[str, Any], name: str, is_point: bool, lang: str
) -> list[tuple[str, str]]:
    """The (label, value) rows of 一、项目概况: name, id, industry, area, county, location,
    input row, then every other project attribute the site was judged with."""
    L = partial(t, lang)
    area = _site_area(row, is_point, lang)
    county = _txt(row.get("county"))
    if not _missing(row.get("county_adcode")):
        county += f" ({row.get('county_adcode')})"
    where = _location(row, lang)
    facts = [
        (L("项目名称", "Project"), name),
        (L("项目编号", "Identifier"), _txt(row.get("site_id"))),
        (_spec_label("construction", lang), _attr_value("construction", project.get("construction"), lang)),
        (L("行业 (GB/T 4754-2017)", "Industry (GB/T 4754-2017)"), _industry(row.get("industry"), lang)),
        (L("总投资 (万元)", "Investment (万元)"), _txt(row.get("total_investment_wan"))),
        (L("用地面积", "Site area"), area),
        (L("用地类别", "Land-use class"), _txt(row.get("land_use"))),
        (L("所在县(市、区)", "County"), county),
        (L("位置", "Location"), where),
        (L("建设地点", "Address"), _txt(row.get("location"))),
        (
            L("输入文件及行号", "Input file and row"),
            f"{_txt(row.get('source'))}, {L('第', 'row ')}{_txt(row.get('row'))}" + L("行", ""),
        ),
    ]
    shown = {"construction", "industry", "total_investment_wan"}
    for attr, value in project.items():
        if attr not in shown:
            facts.append((_spec_label(attr, lang), _attr_value(attr, value, lang)))
    return facts


def _site_area(row: pd.Series, is_point: bool, lang: str) -> str:
    """The site's area: the red line's in 公顷 and 亩 (or that it is a point), and the stated area."""
    L = partial(t, lang)
    area_ha = row.get("site_area_ha")
    if not is_point:
        area = L(
            f"{ha(float(area_ha))} 公顷 / {float(row.get('site_area_mu')):.2f} 亩 (红线面积)",
            f"{ha(float(area_ha))} ha / {float(row.get('site_area_mu')):.2f} 亩 (red line)",
        )
    else:
        area = L("点位, 无红线面积", "a point, no red-line area")
    stated = row.get("area_ha_stated")
    if not _missing(stated):
        s = float(stated)
        area += L(
            f"; 申报 {s:.4f} 公顷 / {s * settings.SQM_PER_HA / settings.SQM_PER_MU:.2f} 亩",
            f"; stated {s:.4f} ha / {s * settings.SQM_PER_HA / settings.SQM_PER_MU:.2f} 亩",
        )
    return area


def _location(row: pd.Series, lang: str) -> str:
    """The site's longitude and latitude (CGCS2000), or — without them."""
    if _missing(row.get("lon")):
        return "—"
    return t(
        lang,
        f"经度 {float(row['lon']):.6f}, 纬度 {float(row['lat']):.6f} (CGCS2000)",
        f"lon {float(row['lon']):.6f}, lat {float(row['lat']):.6f} (CGCS2000)",
    )


# ---- 三、压占分析: the overlaps, the planning extents and the counties


def _overlap_headers(is_point: bool, lang: str) -> tuple[list[str], list[str]]:
    """The headers of 表 1 (per zone class) and 表 2 (per zone): whether a point lies in the
    zone, or a red line's overlap in 公顷, 亩 and % of the site."""
    L = partial(t, lang)
    if is_point:
        class_header = [L("分区类别", "Zone class"), L("是否位于", "Contains the point")]
        zone_header = [
            L("分区类别", "Zone class"),
            L("名称", "Name"),
            L("编号", "Id"),
            L("是否位于", "Contains the point"),
        ]
    else:
        class_header = [
            L("分区类别", "Zone class"),
            L("重叠面积 (公顷)", "Overlap (ha)"),
            L("重叠面积 (亩)", "Overlap (亩)"),
            L("占项目用地 %", "% of the site"),
        ]
        zone_header = [
            L("分区类别", "Zone class"),
            L("名称", "Name"),
            L("编号", "Id"),
            L("公顷", "ha"),
            L("亩", "亩"),
            "%",
        ]
    return class_header, zone_header


def _overlap_rows(
    row: pd.Series, zones: pd.DataFrame, is_point: bool, lang: str
) -> tuple[list[list[str]], list[list[str]]]:
    """The rows of 表 1 (one per zone class) and 表 2 (one per zone), classes in the
    vocabulary's order and zones by id within a class."""
    area_ha = row.get("site_area_ha")
    area_m2 = float(area_ha) * settings.SQM_PER_HA if not is_point else float("nan")
    class_rows: list[list[str]] = []
    zone_table: list[list[str]] = []
    yes = vocab.label(vocab.MEMBERSHIP_LABELS[vocab.YES], lang)
    order = {c: i for i, c in enumerate(vocab.ZONE_CLASSES_BY_NAME)}
    z = zones.assign(_o=zones["zone_class"].map(order)).sort_values(["_o", "zone_id"], kind="stable")
    for cls, g in z.groupby("zone_class", sort=False):
        label = vocab.class_label(str(cls), lang)
        if is_point:
            class_rows.append([label, yes])
        else:
            m2 = float(g["overlap_m2"].sum())
            class_rows.append([label, ha(m2, from_m2=True), mu(m2), f"{100 * m2 / area_m2:.1f}"])
        for _, r in g.iterrows():
            base = [label, _txt(r["zone_name"]), _txt(r["zone_id"])]
            if is_point:
                zone_table.append([*base, yes])
            else:
                m2 = float(r["overlap_m2"])
                zone_table.append([*base, ha(m2, from_m2=True), mu(m2), f"{100 * m2 / area_m2:.1f}"])
    return class_rows, zone_table


def _extent_table(row: pd.Series, lang: str) -> tuple[list[str], list[list[str]]]:
    """表 3: whether the site lies in the planning area and the central city, and the % of it that does."""
    L = partial(t, lang)
    extent_header = [L("范围", "Extent"), L("是否位于", "Within"), L("占项目用地 %", "% of the site")]
    extent_rows = [
        [vocab.PLANNING_AREA, _membership(row.get("in_planning_area"), lang), _txt(row.get("planning_area_pct"))],
        [vocab.CENTRAL_AREA, _membership(row.get("in_central_city"), lang), _txt(row.get("central_city_pct"))],
    ]
    for r in extent_rows:
        if r[2] != "—":
            r[2] = f"{float(r[2]):.1f}"
    return extent_header, extent_rows


def _county_table(row: pd.Series, is_point: bool, lang: str) -> tuple[list[str], list[list[str]]]:
    """表 4: the counties the site lies in, with the % of it in each (the CSV's county shares)."""
    L = partial(t, lang)
    county_header = [L("县(市、区)", "County"), L("占项目用地 %", "% of the site")]
    county_rows: list[list[str]] = []
    shares = row.get("county_shares")
    if not _missing(shares):
        for part in str(shares).split("；"):
            bits = part.rsplit(" ", 1)
            county_rows.append([bits[0], bits[1].rstrip("%") if len(bits) > 1 else "—"])
    elif not _missing(row.get("county")):
        county_rows.append([str(row["county"]), "100.0" if not is_point else L("点位所在", "contains the point")])
    return county_header, county_rows


# ---- 四、审查意见: the verdict, its articles, what must be confirmed, the notes


def _subject_verdicts(row: pd.Series, lang: str) -> list[tuple[str, str]]:
    """The (subject, verdict) rows of 分项结论, one per subject the row has a verdict for."""
    return [
        (vocab.label(vocab.SUBJECT_LABELS[s], lang), vocab.verdict_label(row.get(f"verdict_{s}"), lang))
        for s in vocab.SUBJECTS
        if f"verdict_{s}" in row.index
    ]


def _quoted_rules(ctx: CheckContext, row: pd.Series) -> list[Any]:
    """The rules of the row's ``rule_ids`` (the ones that produce its verdict), in its order."""
    rules = {r.id: r for r in ctx.context.rules}
    ids = [s.strip() for s in str(row.get("rule_ids") or "").split(",") if s.strip()]
    return [rules[i] for i in ids if i in rules]


def _articles(quoted: list[Any], lang: str) -> list[Article]:
    """依据条款: each quoted rule's article, with its document, effect and subject."""
    return [
        Article(
            citation=r.citation,
            document=r.document,
            document_title=r.document_title,
            article=r.article,
            text=r.text,
            summary_en="" if lang == "zh" else (r.summary_en or ""),
            effect=vocab.label(vocab.EFFECT_LABELS.get(r.effect, (r.effect, r.effect)), lang),
            subject=vocab.label(vocab.SUBJECT_LABELS[r.subject], lang) if r.subject in vocab.SUBJECT_LABELS else "—",
        )
        for r in quoted
    ]


def _to_confirm(row: pd.Series, quoted: list[Any], lang: str) -> list[tuple[str, str]]:
    """须确认的事项: each missing project attribute, with the articles whose application depends on it."""
    L = partial(t, lang)
    to_confirm = []
    for attr in _attribute_names(row.get("missing_attributes")):
        by = [r.citation for r in quoted if attr in _rule_attrs(r)]
        why = (
            (L("条款 ", "needed by ") + "、".join(dict.fromkeys(by)) + L(" 的适用取决于此项", ""))
            if by
            else L("结论取决于此项", "the verdict depends on it")
        )
        to_confirm.append((f"{_spec_label(attr, lang)} ({attr})", why))
    return to_confirm


def _strictest(row: pd.Series, is_point: bool, lang: str) -> list[str]:
    """The strictest protection and control classes the site touches, as the CSV gives them
    (protection_ha, control_ha): the class, and for a red line its 公顷, 亩 and %."""
    strictest = []
    for cls_col, ha_col, pct_col in (
        ("protection_class", "protection_ha", "protection_pct"),
        ("control_level", "control_ha", "control_pct"),
    ):
        if not _missing(row.get(cls_col)):
            if is_point:
                strictest.append(vocab.class_label(str(row[cls_col]), lang))
            else:
                h = float(row[ha_col])
                strictest.append(
                    t(
                        lang,
                        f"{row[cls_col]} {h:.4f} 公顷 / {h * settings.SQM_PER_HA / settings.SQM_PER_MU:.2f} 亩 / "
                        f"{float(row[pct_col]):.1f}%",
                        f"{vocab.class_label(str(row[cls_col]), lang)} {h:.4f} ha / "
                        f"{h * settings.SQM_PER_HA / settings.SQM_PER_MU:.2f} 亩 / {float(row[pct_col]):.1f}%",
                    )
                )
    return strictest


def _opinion(
    row: pd.Series, verdict: str, status: str, prov: dict[str, str], day: str, is_point: bool, lang: str
) -> list[str]:
    """The opinion's paragraphs: what the site touches, checked against which pack on which
    date, and the verdict; or why the site could not be checked."""
    L = partial(t, lang)
    strictest = _strictest(row, is_point, lang)
    if verdict == vocab.NOT_CHECKED:
        return [L(f"本项目未能审查: {status}", f"The site could not be checked: {status}")]
    where_txt = (
        L("涉及: " + "；".join(strictest), "touches: " + "; ".join(strictest))
        if strictest
        else L(
            "不涉及地下水保护类或管控类区域 (一般区)",
            "touches no groundwater protection or control zone (general area)",
        )
    )
    vlabel = vocab.verdict_label(verdict, lang)
    return [
        L(
            f"经对照图层包 {prov.get('pack')} 与 {day} 有效的规则审查, 本项目用地{where_txt}。",
            f"Checked against pack {prov.get('pack')} and the rules in force on {day}, the site {where_txt}.",
        ),
        L(f"审查结论: {vlabel}。", f"Verdict: {vlabel}."),
    ]


def _notes(row: pd.Series, verdict: str, status: str, lang: str) -> list[str]:
    """The notes on the input (a checked site's status, how its coordinates were read: a
    datum taken as CGCS2000, GCJ-02 converted...) and on the county line."""
    L = partial(t, lang)
    notes: list[str] = []
    if verdict != vocab.NOT_CHECKED and status != "ok":
        notes.append(L(f"输入说明: {status}", f"Input note: {status}"))
    read = row.get("input_notes")
    if not _missing(read):
        notes.append(L(f"坐标说明: {read}", f"Coordinates: {read}"))
    county_note = row.get("county_note")
    if not _missing(county_note):
        notes.append(L(f"县界说明: {county_note}", f"County note: {county_note}"))
    return notes


# ---- 五、数据精度说明: the accuracy of the layers


def _layer_accuracy(ctx: CheckContext, lang: str) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """The accuracy table's rows (layer, kind, accuracy, source), one per layer the answer
    rests on, and the (kind, accuracy) pairs of the layers the site map draws."""
    accuracy_rows = []
    map_accuracy = []
    for lu in ctx.context.layers_used:
        kind = _kind_label(lu.kind, lang)
        acc = vocab.layer_accuracy_label(lu.accuracy, lang, lu.positional_accuracy_m)
        accuracy_rows.append([lu.name, kind, acc, lu.source])
        if lu.kind in (*vocab.CLASSED_KINDS, vocab.COUNTIES):
            map_accuracy.append((kind, acc))
    return accuracy_rows, map_accuracy


def _kind_label(kind: str, lang: str) -> str:
    """A layer kind's name in the report's language."""
    return vocab.label(vocab.KIND_LABELS.get(kind, (kind, kind)), lang)


def _demonstration(ctx: CheckContext, row: pd.Series) -> bool:
    """Whether the verdict rests on demonstration data: the row says so, or a zone layer is
    demonstration data."""
    return bool(row.get("demonstration_basis")) or any(
        lu.accuracy == vocab.DEMONSTRATION and lu.kind in vocab.CLASSED_KINDS for lu in ctx.context.layers_used
    )


def _accuracy_statement(ctx: CheckContext, demonstration: bool, lang: str) -> list[str]:
    """The first page's accuracy statement: a warning (stronger when the verdict rests on
    demonstration data), then a sentence per layer that is not official; empty when all are."""
    L = partial(t, lang)
    statement: list[str] = []
    non_official = [lu for lu in ctx.context.layers_used if lu.accuracy != vocab.OFFICIAL]
    if not non_official:
        return statement
    for lu in non_official:
        kind = _kind_label(lu.kind, lang)
        acc = vocab.label(vocab.ACCURACY_LABELS[lu.accuracy], lang)
        if lu.accuracy == vocab.DEMONSTRATION:
            statement.append(
                L(
                    f"{kind} ({lu.name}) 为{acc}: 仅为演示而构造, 不是官方公布的界线。",
                    f"{kind} ({lu.name}) is {acc} data: constructed for demonstration, not the "
                    "officially published outlines.",
                )
            )
        else:
            statement.append(
                L(
                    f"{kind} ({lu.name}) 为{acc}范围: 依公开文件按说明的方法绘制, 边界附近的归属需核实。",
                    f"{kind} ({lu.name}) is an {acc} outline drawn from the published documents by a "
                    "stated method: membership near its edges must be verified.",
                )
            )
    if demonstration:
        warning = L(
            "重要提示: 本报告的结论依据演示数据, 不能作为审批依据; 请导入官方图层后重新审查。",
            "IMPORTANT: this report's verdict rests on demonstration data and must not be used "
            "for approval; load the official layers and check again.",
        )
    else:
        warning = L(
            "提示: 本报告所依据的部分图层不是官方界线, 结论须结合官方图件核实。",
            "Note: some layers of this report are not official outlines; verify the verdict against the official maps.",
        )
    return [warning, *statement]


# ---- 六、数据来源与可追溯信息, the section labels and the summary


def _provenance_rows(prov: dict[str, str], aid: str, lang: str) -> list[tuple[str, str]]:
    """The (label, value) rows of 六、数据来源与可追溯信息: the run's provenance and the answer id."""
    from zoning.core.provenance import PROVENANCE_LABELS

    L = partial(t, lang)
    prov_rows = [(L(*PROVENANCE_LABELS[k]) if k in PROVENANCE_LABELS else k, v) for k, v in prov.items()]
    prov_rows.append((L("答复编号", "Answer id"), aid))
    return prov_rows


def _labels(lang: str) -> dict[str, str]:
    """The report's fixed wording: section and table titles, captions, intros and page numbering."""
    L = partial(t, lang)
    return {
        "number": L("报告编号", "Report no."),
        "date": L("出具日期", "Date"),
        "verdict": L("审查结论", "Verdict"),
        "s_project": L("一、项目概况", "1. The project"),
        "s_map": L("二、项目位置图", "2. Site map"),
        "map_caption": L(
            "图 1  项目用地与管控分区、规划范围及县界的位置关系",
            "Figure 1  The site over the zones, planning extents and county lines",
        ),
        "s_overlap": L("三、压占分析", "3. Overlaps"),
        "t_class": L("表 1  按分区类别", "Table 1  By zone class"),
        "t_zone": L("表 2  按分区图斑", "Table 2  By zone"),
        "t_extent": L("表 3  规划范围", "Table 3  Planning extents"),
        "t_county": L("表 4  所在县(市、区)", "Table 4  Counties"),
        "no_zone": L(
            "不涉及地下水保护类或管控类区域 (一般区)。", "No groundwater protection or control zone (general area)."
        ),
        "s_opinion": L("四、审查意见", "4. Opinion"),
        "t_subject": L("分项结论", "Verdict by subject"),
        "subject": L("事项", "Subject"),
        "articles": L("依据条款", "Articles"),
        "confirm": L("须确认的事项", "To be confirmed"),
        "confirm_attr": L("项目信息", "Project fact"),
        "confirm_why": L("原因", "Why"),
        "articles_intro": L(
            "得出该结论的条款原文摘录如下 (文号及条次):",
            "The articles that produce the verdict, quoted (document and article):",
        ),
        "confirm_intro": L(
            "以下项目信息未提供, 须在审批前确认 (未提供的信息不视为“否”):",
            "These project facts were not given and must be confirmed before approval (a missing "
            "fact is never taken as no):",
        ),
        "s_accuracy": L("五、数据精度说明", "5. Accuracy of the data"),
        "accuracy_first": L("数据精度声明", "Accuracy statement"),
        "all_official": L("本报告所依据的图层均为官方数据。", "Every layer of this report is official."),
        "s_provenance": L("六、数据来源与可追溯信息", "6. Provenance"),
        "s_signature": L("七、审查签字", "7. Signatures"),
        "page": L("第", "page "),
        "of": L("页 共", " of "),
        "pages": L("页", ""),
    }


def _summary(row: pd.Series, verdict: str, name: str, is_point: bool, aid: str) -> dict[str, Any]:
    """The row's verdict code and figures, for the volume's summary table."""
    area_ha = row.get("site_area_ha")
    return {
        "verdict": verdict,
        "county": _txt(row.get("county")),
        "row": _txt(row.get("row")),
        "site_id": _txt(row.get("site_id")),
        "name": name,
        "area": (f"{float(area_ha):.4f}" if not is_point else "—"),
        "answer_id": aid,
    }
