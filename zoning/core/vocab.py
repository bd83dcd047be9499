"""The one vocabulary of zoning: zone kinds and classes, their ranks, rule effects and
statuses, verdicts, accuracy levels, and every Chinese and English label of them.

Nothing else in the package spells a class, a verdict or a label: engines, reports, the
CLI and the map's script take them from here (the map receives :func:`for_script` in its
configuration). Class names are those of 晋市环发〔2023〕123号 (groundwater) and
晋市政发〔2021〕3号 (planning extents); the ranks encode the overlap principles of 123号
(the strictest protection class governs; control levels 就高不就低).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Lang = Literal["zh", "en"]

#: A label in both languages.
Label = tuple[str, str]


def label(pair: Label, lang: str = "zh") -> str:
    """The label of ``pair`` in ``lang`` (``zh`` or ``en``)."""
    return pair[0] if lang == "zh" else pair[1]


# ------------------------------------------------------------------- layer kinds

PROTECTION = "groundwater_protection"
CONTROL = "groundwater_control"
EXTENT = "planning_extent"
COUNTIES = "counties"
QUOTA = "land_supply_quota"
KEY_PROJECTS = "key_projects"
RASTER = "raster"

#: Groundwater zone kinds, in the order answers list them.
ZONE_KINDS: tuple[str, ...] = (PROTECTION, CONTROL)
#: Kinds whose features a site can lie in and that rules select by class.
CLASSED_KINDS: tuple[str, ...] = (PROTECTION, CONTROL, EXTENT)

#: Layer kinds and the attribute fields each must carry (beyond geometry).
KINDS: dict[str, tuple[str, ...]] = {
    COUNTIES: ("adcode", "name"),
    EXTENT: ("extent_class",),
    QUOTA: ("year", "area_name", "total_ha"),
    PROTECTION: ("zone_class",),
    CONTROL: ("zone_class",),
    KEY_PROJECTS: ("year", "name", "level"),
    RASTER: (),
}

KIND_LABELS: dict[str, Label] = {
    COUNTIES: ("县级行政区", "counties"),
    EXTENT: ("规划范围", "planning extent"),
    QUOTA: ("土地供应计划", "land-supply quota"),
    PROTECTION: ("地下水保护类区域", "groundwater protection zones"),
    CONTROL: ("地下水管控类区域", "groundwater control zones"),
    KEY_PROJECTS: ("重点工程项目", "key projects"),
    RASTER: ("栅格", "raster"),
}


# ------------------------------------------------------------------- zone classes


@dataclass(frozen=True)
class ZoneClass:
    """One class of zone: its name as the gazette writes it, kind, rank and display."""

    name: str
    kind: str
    #: strictness within its kind (higher governs); 0 for planning extents
    rank: int
    en: str
    colour: str
    #: the code the derive pipeline writes for it in the combined ``levels`` raster
    level_code: int


ZONE_CLASS_LIST: tuple[ZoneClass, ...] = (
    ZoneClass("一级保护区", PROTECTION, 4, "level-1 protection zone", "#08306b", 6),
    ZoneClass("二级保护区", PROTECTION, 3, "level-2 protection zone", "#2171b5", 5),
    ZoneClass("准保护区", PROTECTION, 2, "quasi-protection zone", "#6baed6", 4),
    ZoneClass("泉域重点保护区", PROTECTION, 1, "spring-domain key protection area", "#238b45", 3),
    ZoneClass("一级管控区", CONTROL, 2, "level-1 control zone", "#b2182b", 2),
    ZoneClass("二级管控区", CONTROL, 1, "level-2 control zone", "#ef8a62", 1),
    ZoneClass("中心城市规划区", EXTENT, 0, "central-city planning area", "#8c510a", 0),
    ZoneClass("中心城区", EXTENT, 0, "central urban area", "#762a83", 0),
)

ZONE_CLASSES_BY_NAME: dict[str, ZoneClass] = {c.name: c for c in ZONE_CLASS_LIST}

#: kind -> its class names, strictest first
ZONE_CLASSES: dict[str, tuple[str, ...]] = {
    kind: tuple(c.name for c in ZONE_CLASS_LIST if c.kind == kind) for kind in CLASSED_KINDS
}

PROTECTION_RANK: dict[str, int] = {c.name: c.rank for c in ZONE_CLASS_LIST if c.kind == PROTECTION}
CONTROL_RANK: dict[str, int] = {c.name: c.rank for c in ZONE_CLASS_LIST if c.kind == CONTROL}
RANKS: dict[str, dict[str, int]] = {PROTECTION: PROTECTION_RANK, CONTROL: CONTROL_RANK}

PLANNING_AREA = "中心城市规划区"
CENTRAL_AREA = "中心城区"

#: The project attribute that states a site's membership of a class whose outline is
#: indicative (the site may lie in it): the user can settle what the layer cannot.
MEMBERSHIP_ATTRIBUTES: dict[str, str] = {PLANNING_AREA: "in_planning_area", CENTRAL_AREA: "in_central_area"}

#: Membership of an indicative extent, or of a county near its line.
YES, NO, UNCERTAIN = "yes", "no", "uncertain"
MEMBERSHIP_LABELS: dict[str, Label] = {YES: ("是", "yes"), NO: ("否", "no"), UNCERTAIN: ("待确认", "uncertain")}

#: The place that lies in no groundwater zone (123号: 一般区).
GENERAL_AREA: Label = ("一般区", "general area")
NO_ZONE: Label = ("无", "none")


def class_label(cls: str, lang: str = "zh") -> str:
    """A class as the gazette writes it; in English with its gloss: ``一级管控区 (level-1 control zone)``."""
    zc = ZONE_CLASSES_BY_NAME.get(cls)
    return f"{cls} ({zc.en})" if lang == "en" and zc is not None else cls


def class_by_rank(kind: str, rank: int) -> str | None:
    """The class of ``kind`` with ``rank`` (None for 0 or unknown)."""
    for c in ZONE_CLASS_LIST:
        if c.kind == kind and c.rank == rank and rank > 0:
            return c.name
    return None


# ------------------------------------------------------------------- directions

#: The eight compass points, clockwise from north, for the direction to the nearest zone.
COMPASS_POINTS: tuple[tuple[str, str, str], ...] = (
    ("N", "北", "north"), ("NE", "东北", "north-east"), ("E", "东", "east"), ("SE", "东南", "south-east"),
    ("S", "南", "south"), ("SW", "西南", "south-west"), ("W", "西", "west"), ("NW", "西北", "north-west"),
)


def compass_point(bearing_deg: float) -> str:
    """The compass point (``N``, ``NE``...) of a bearing in degrees clockwise from north."""
    return COMPASS_POINTS[int(((bearing_deg % 360.0) + 22.5) // 45.0) % 8][0]


def compass_label(code: str, lang: str = "zh") -> str:
    """A compass point in words: ``东北`` (zh) or ``north-east`` (en)."""
    for c, zh, en in COMPASS_POINTS:
        if c == code:
            return zh if lang == "zh" else en
    return code


# ------------------------------------------------------------------- accuracy

OFFICIAL = "official"
INDICATIVE = "indicative"
DEMONSTRATION = "demonstration"
ACCURACIES: tuple[str, ...] = (OFFICIAL, INDICATIVE, DEMONSTRATION)
#: higher = less certain; the basis of an answer is its least accurate layer
ACCURACY_RANK: dict[str, int] = {OFFICIAL: 0, INDICATIVE: 1, DEMONSTRATION: 2}
ACCURACY_LABELS: dict[str, Label] = {
    OFFICIAL: ("官方", "official"),
    INDICATIVE: ("示意", "indicative"),
    DEMONSTRATION: ("演示数据", "demonstration"),
}


def layer_accuracy_label(accuracy: str, lang: str = "zh", positional_accuracy_m: float | None = None) -> str:
    """What a layer's accuracy means, in words: an official source that is generalised
    says so with its positional accuracy (``官方来源，概化，位置精度约 750 米``)."""
    base = label(ACCURACY_LABELS.get(accuracy, (accuracy, accuracy)), lang)
    if accuracy == OFFICIAL and positional_accuracy_m:
        return (f"官方来源，概化，位置精度约 {positional_accuracy_m:.0f} 米" if lang == "zh" else
                f"official source, generalised, positional accuracy about {positional_accuracy_m:.0f} m")
    return base


def least_accurate(accuracies: Any) -> str:
    """The least accurate of ``accuracies`` (``official`` for none)."""
    found = [a for a in accuracies if a in ACCURACY_RANK]
    return max(found, key=ACCURACY_RANK.__getitem__) if found else OFFICIAL


# ------------------------------------------------------------------- rules

#: What a rule does to a project (rules.schema.json ``effect``).
EFFECTS: tuple[str, ...] = ("prohibited", "conditional", "obligation", "information")
EFFECT_LABELS: dict[str, Label] = {
    "prohibited": ("禁止", "prohibited"),
    "conditional": ("有条件", "conditional"),
    "obligation": ("义务", "obligation"),
    "information": ("信息", "information"),
}
#: The status of a rule evaluated for a project at a place.
RULE_STATUSES: tuple[str, ...] = ("prohibited", "conditional", "obligation", "information",
                                  "not_applicable", "unknown", "not_in_force")
STATUS_LABELS: dict[str, Label] = {
    **EFFECT_LABELS,
    "not_applicable": ("不适用", "not applicable"),
    "unknown": ("待确认", "unknown"),
    "not_in_force": ("不在有效期", "not in force"),
}


# ------------------------------------------------------------------- subjects

#: What a planner asks about, each answered by its own documents (a rules file's
#: ``subject``) and getting its own verdict beside the overall one.
GROUNDWATER, LAND, APPROVAL, WATER = "groundwater", "land", "approval", "water"
SUBJECTS: tuple[str, ...] = (GROUNDWATER, LAND, APPROVAL, WATER)
SUBJECT_LABELS: dict[str, Label] = {
    GROUNDWATER: ("地下水", "groundwater"),
    LAND: ("中心城区用地", "central-area land"),
    APPROVAL: ("投资审批", "investment approval"),
    WATER: ("取用水", "water abstraction"),
}


# ------------------------------------------------------------------- verdicts

PROHIBITED = "prohibited"
NEEDS_CONFIRMATION = "needs confirmation"
CONDITIONAL = "conditional"
OBLIGATIONS = "obligations"
CLEAR = "clear"
NOT_CHECKED = "not checked"

#: The verdicts a place can get, strongest first.
VERDICTS: tuple[str, ...] = (PROHIBITED, NEEDS_CONFIRMATION, CONDITIONAL, OBLIGATIONS, CLEAR)
#: ...and the one a site gets when it cannot be checked (no geometry, outside the city).
ALL_VERDICTS: tuple[str, ...] = (*VERDICTS, NOT_CHECKED)
VERDICT_LABELS: dict[str, Label] = {
    PROHIBITED: ("禁止", "prohibited"),
    NEEDS_CONFIRMATION: ("需确认", "needs confirmation"),
    CONDITIONAL: ("有条件准入", "conditional"),
    OBLIGATIONS: ("须履行义务", "obligations apply"),
    CLEAR: ("无限制", "clear"),
    NOT_CHECKED: ("未判定", "not checked"),
}
#: Strong colours (map markers, legends) and light ones (spreadsheet cells).
VERDICT_COLOURS: dict[str, str] = {
    PROHIBITED: "#d7191c", NEEDS_CONFIRMATION: "#7b3294", CONDITIONAL: "#f07c00",
    OBLIGATIONS: "#e0b400", CLEAR: "#1a9641", NOT_CHECKED: "#777777",
}
VERDICT_FILLS: dict[str, str] = {
    PROHIBITED: "#F4B6B6", NEEDS_CONFIRMATION: "#FFE08A", CONDITIONAL: "#FFD1A6",
    OBLIGATIONS: "#CFE2F3", CLEAR: "#C9EBC9", NOT_CHECKED: "#D9D9D9",
}
#: Words users write for a verdict in their own files (for colouring sites on a map).
VERDICT_ALIASES: dict[str, str] = {
    **{v: v for v in ALL_VERDICTS},
    **{zh: v for v, (zh, _en) in VERDICT_LABELS.items()},
    **{en: v for v, (_zh, en) in VERDICT_LABELS.items()},
    "needs_confirmation": NEEDS_CONFIRMATION, "unknown": NEEDS_CONFIRMATION, "待确认": NEEDS_CONFIRMATION,
    "不可": PROHIBITED, "有条件": CONDITIONAL, "附条件": CONDITIONAL, "obligation": OBLIGATIONS,
    "义务": OBLIGATIONS, "需履行义务": OBLIGATIONS, "无": CLEAR, "可行": CLEAR,
}

#: Row statuses of a batch check.
STATUS_CODES: dict[str, Label] = {
    "ok": ("正常", "ok"),
    "warning": ("有问题(已判定)", "warning (checked)"),
    "error": ("错误(未判定)", "error (not checked)"),
}


def verdict_label(code: Any, lang: str = "zh") -> str:
    """The label of a verdict code (None and ``not checked`` give the not-checked label)."""
    if code is None or (isinstance(code, float) and code != code):
        code = NOT_CHECKED
    pair = VERDICT_LABELS.get(str(code))
    return label(pair, lang) if pair else str(code)


# ------------------------------------------------------------------- for the map's script


def for_script(lang: str = "zh") -> dict[str, Any]:
    """The vocabulary as JSON for the map's script (which spells no class or label itself)."""
    return {
        "lang": lang,
        "classes": {c.name: {"kind": c.kind, "rank": c.rank, "label": class_label(c.name, lang),
                             "colour": c.colour} for c in ZONE_CLASS_LIST},
        "zone_kinds": list(ZONE_KINDS),
        "kinds": {k: label(v, lang) for k, v in KIND_LABELS.items()},
        "verdicts": list(VERDICTS),
        "verdict_labels": {v: label(p, lang) for v, p in VERDICT_LABELS.items()},
        "verdict_colours": dict(VERDICT_COLOURS),
        "effects": {k: label(v, lang) for k, v in EFFECT_LABELS.items()},
        "statuses": {k: label(v, lang) for k, v in STATUS_LABELS.items()},
        "accuracy": {k: label(v, lang) for k, v in ACCURACY_LABELS.items()},
        "accuracy_rank": dict(ACCURACY_RANK),
        "general_area": label(GENERAL_AREA, lang),
        "subjects": {s: label(SUBJECT_LABELS[s], lang) for s in SUBJECTS},
        "membership": {m: label(p, lang) for m, p in MEMBERSHIP_LABELS.items()},
        "membership_attributes": dict(MEMBERSHIP_ATTRIBUTES),
    }
