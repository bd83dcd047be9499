"""The rules catalogue: loader, validator and evaluator.

Rules are data. Each ``layers/<pack>/rules/*.toml`` file holds the rules of one gazette
document (文号); this module reads them, validates every file against
``zoning/schemas/rules.schema.json`` and against the project-attribute vocabulary
:data:`PROJECT_ATTRIBUTES`, and evaluates a rule for a project description.

Everything here is a pure function (no printing, no global state); errors are
:class:`zoning.core.errors.RuleError` with a message naming the file, the rule id and the field.

Condition language
------------------
``conditions`` is a list of items that are ANDed. An item is either a predicate
``{ attr = "construction", in = ["new", "expansion"] }`` (exactly one operator of
``eq ne in not_in lt le gt ge``) or ``{ any_of = [[...], [...]] }``: an OR of AND-groups,
each group itself a condition list. Evaluation is three-valued: a predicate on an attribute
the project does not give is *unknown*, never *false*.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from zoning.core import vocab
from zoning.core.errors import RuleError

__all__ = [
    "EFFECTS",
    "STATUSES",
    "ZONE_KINDS",
    "PROJECT_ATTRIBUTES",
    "TRUE_WORDS",
    "FALSE_WORDS",
    "AttributeSpec",
    "EnumValue",
    "Predicate",
    "AnyOf",
    "ZoneSelector",
    "RuleException",
    "InForce",
    "Rule",
    "RuleVerdict",
    "SCHEMA_PATH",
    "clean_gazette_text",
    "load_rules",
    "validate_project",
    "checked_project",
    "parse_pairs",
    "evaluate_rule",
    "rules_for_zone",
]

# ---------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------

EFFECTS = vocab.EFFECTS
STATUSES = vocab.RULE_STATUSES

#: zone kinds and the exact class names each admits
ZONE_KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType(dict(vocab.ZONE_CLASSES))

OPERATORS: tuple[str, ...] = ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge")

SCHEMA_PATH: Path = Path(__file__).resolve().parent.parent / "schemas" / "rules.schema.json"


@dataclass(frozen=True)
class EnumValue:
    value: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttributeSpec:
    """One project attribute: its type, allowed values and labels."""

    name: str
    type: str  # "enum" | "bool" | "number"
    zh: str
    en: str
    values: tuple[EnumValue, ...] = ()
    unit: str | None = None
    aliases: tuple[str, ...] = ()  # other keys (e.g. Chinese column headers) accepted for it

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values)


def _enum(name, zh, en, values, aliases=()):
    return AttributeSpec(name, "enum", zh, en, tuple(EnumValue(*v) for v in values), None, aliases)


def _bool(name, zh, en, aliases=()):
    return AttributeSpec(name, "bool", zh, en, (), None, aliases)


def _num(name, zh, en, unit, aliases=()):
    return AttributeSpec(name, "number", zh, en, (), unit, aliases)


_ATTRS: tuple[AttributeSpec, ...] = (
    _enum(
        "construction", "建设性质", "type of construction",
        [
            ("new", "新建", "new build", ("新", "新建项目")),
            ("rebuild", "改建", "rebuild / alteration", ("改", "改建项目")),
            ("expansion", "扩建", "expansion", ("扩", "扩建项目")),
            ("existing", "已建成", "existing (already built)", ("已建", "现有", "已建成项目")),
            ("other", "其他", "other", ()),
        ],
        aliases=("建设类型",),
    ),
    _bool("discharges_pollutants", "排放污染物", "discharges pollutants", ("是否排放污染物",)),
    _bool("severe_water_pollution", "对水体污染严重", "severe water pollution"),
    _bool(
        "water_supply_related", "与供水设施和保护水源有关", "related to water supply or source protection"
    ),
    _bool("may_pollute_groundwater", "可能造成地下水污染", "may pollute groundwater"),
    _enum(
        "industry", "行业", "industry",
        [
            ("chemical", "化工（化学品生产、化学原料和化学制品制造）", "chemicals", ("化工", "化学品生产", "化学原料和化学制品制造")),
            ("industrial_park", "工业聚集区", "industrial cluster", ("工业园区", "工业聚集区")),
            ("mining", "矿山开采", "mining", ("开矿", "矿山", "矿山开采")),
            ("coal", "采煤", "coal mining", ("煤炭", "煤矿", "采煤")),
            ("quarrying", "开山采石", "quarrying", ("采石", "开山采石")),
            ("tailings", "尾矿库", "tailings pond", ("尾矿库",)),
            ("hazardous_waste", "危险废物处置场", "hazardous-waste disposal", ("危险废物", "危废", "危险废物处置场")),
            ("landfill", "垃圾填埋场", "landfill", ("垃圾填埋场", "填埋场")),
            ("petrol_station", "加油站", "petrol station", ("加油站",)),
            ("energy", "能源", "energy", ("能源",)),
            ("metallurgy", "冶金", "metallurgy", ("冶金",)),
            ("coking", "焦化", "coking", ("焦化",)),
            ("building_materials", "建材", "building materials", ("建材",)),
            ("nonferrous", "有色金属冶炼", "non-ferrous metal smelting", ("有色", "有色金属冶炼")),
            ("petroleum_refining", "石油加工", "petroleum refining", ("石油加工",)),
            ("pharmaceutical", "医药制造", "pharmaceutical manufacturing", ("医药", "医药制造")),
            ("pharmaceutical_api", "原料药", "active pharmaceutical ingredients", ("原料药",)),
            ("chemical_fibre", "化学纤维制造", "chemical fibre manufacturing", ("化学纤维制造", "化纤")),
            ("printing_dyeing", "纺织印染", "textile printing and dyeing", ("印染", "纺织印染")),
            ("papermaking", "造纸", "papermaking", ("造纸",)),
            ("tannery", "制革", "tannery", ("制革", "皮革")),
            ("electroplating", "电镀", "electroplating", ("电镀",)),
            ("agriculture_livestock", "农业、畜禽养殖", "agriculture / livestock", ("农业", "畜禽养殖", "养殖")),
            ("other", "其他", "other", ()),
        ],
        aliases=("所属行业", "行业类别"),
    ),
    _enum(
        "activity", "活动", "activity (other than building works)",
        [
            ("cage_aquaculture", "网箱养殖", "cage aquaculture", ()),
            ("tourism", "旅游", "tourism", ()),
            ("swimming", "游泳", "swimming", ()),
            ("angling", "垂钓", "angling", ()),
            # 第十条 prohibits *擅自* (unauthorised) wells: a well the user did not call unauthorised
            # is `well_drilling`, and whether it is authorised is asked (activity_authorised)
            ("well_drilling_diversion", "擅自打井、挖泉、截流、引水", "unauthorised well drilling, spring digging, damming or diversion",
             ("擅自打井", "擅自挖泉", "擅自截流", "擅自引水", "unauthorised_well_drilling")),
            ("well_drilling", "打井、挖泉、截流、引水", "well drilling, spring digging, damming or diversion (authorisation to confirm)",
             ("打井", "挖泉", "截流", "引水", "取水井")),
            ("waste_dumping", "排放、倾倒工业废渣、城镇垃圾和其他废弃物", "dumping industrial residue, municipal refuse or other waste", ("倾倒废渣", "倾倒垃圾")),
            ("wastewater_discharge", "排放、倾倒工业废水、生活污水", "discharging industrial or domestic wastewater", ("排放污水",)),
            ("mixed_aquifer_abstraction", "已污染含水层与未污染含水层混合开采", "mixed abstraction from polluted and unpolluted aquifers", ("混合开采",)),
            ("none", "无", "none of these", ("否", "无上述活动")),
        ],
    ),
    _enum(
        "key_project_level", "重点项目级别", "key-project level",
        [
            ("national", "国家重点", "national", ("国家级", "国家", "国家重点项目", "国家重点工程")),
            ("provincial", "省重点", "provincial", ("省级", "省", "省重点项目", "省重点工程")),
            ("municipal", "市重点", "municipal", ("市级", "市", "市重点项目")),
            ("none", "非重点", "none", ("无", "否", "一般项目")),
        ],
        aliases=("项目级别",),
    ),
    _bool("livelihood_project", "重要民生工程", "important public-livelihood project"),
    _bool(
        "activity_authorised", "已依法批准（取水许可等）", "authorised (abstraction permit or approval obtained)",
        ("是否经批准", "已批准"),
    ),
    _bool(
        "provincial_water_approval", "经省人民政府水行政主管部门批准",
        "approved by the provincial water authority after expert review",
    ),
    _bool("key_groundwater_discharger", "地下水污染防治重点排污单位", "groundwater key pollutant-discharge unit"),
    _bool("soil_key_supervision_unit", "土壤污染重点监管单位", "soil-pollution key supervised unit"),
    _bool("toxic_substances", "涉及有毒有害物质", "involves toxic or hazardous substances"),
    _bool("underground_storage_tank", "地下储罐（油罐）", "underground storage tank"),
    _bool(
        "in_spring_or_karst_area", "位于泉域保护范围或岩溶强发育、落水洞和岩溶漏斗较多的区域",
        "inside a spring-domain protection area or a strongly karstified area",
    ),
    _bool(
        "unlined_wastewater_channel", "利用无防渗漏措施的沟渠、坑塘输送或存贮有毒废水、含病原体污水或其他废弃物",
        "uses unlined ditches or ponds to convey or store toxic wastewater, pathogenic sewage or waste",
    ),
    _bool("abstracts_groundwater", "新增取用地下水", "applies for new groundwater abstraction", ("取用地下水",)),
    _bool("in_water_overload_area", "位于水资源超载地区", "in a water-resource overload area"),
    _bool("domestic_water_use", "合理的新增生活用水", "reasonable new domestic water use"),
    _bool("poverty_alleviation_project", "脱贫攻坚项目", "poverty-alleviation project"),
    _bool("water_rights_transfer", "通过水权转让获得取用水指标", "water quota obtained by water-rights transfer"),
    _bool("involves_expropriation", "涉及土地征收", "involves expropriation of collective land", ("土地征收",)),
    _bool("conforms_to_spatial_plan", "符合国土空间规划", "conforms to the territorial spatial plan"),
    _bool("in_annual_land_plan", "纳入年度建设用地计划", "within the annual construction-land plan"),
    _bool("in_development_zone", "位于开发区范围内", "inside the development zone (晋城经济技术开发区)"),
    _bool("designated_important_project", "重要建设项目（规划条件中明确）", "important project designated in the planning conditions"),
    _bool("large_public_welfare_project", "国家、省、市大型公益性工程项目", "large national/provincial/municipal public-welfare project"),
    _enum(
        "land_supply_method", "供地方式", "land-supply method",
        [
            ("allocation", "划拨", "allocation (划拨)", ("划拨用地",)),
            ("transfer", "出让", "transfer for a fee (出让)", ("出让用地", "招拍挂", "协议出让")),
            ("other", "其他", "other", ()),
        ],
    ),
    _bool("net_land_conditions_met", "具备净地出让条件", "meets the net-land (净地) conditions for transfer"),
    _bool("changes_planning_conditions", "改变规划条件", "changes the planning conditions of transferred land"),
    _bool(
        "municipal_approval", "属市行政审批服务管理局审批权限", "approved by the municipal administrative approval bureau",
    ),
    _num("government_investment_wan", "政府投资", "government investment", "万元", ("政府投资(万元)", "政府投资（万元）")),
    _num("total_investment_wan", "总投资", "total investment", "万元", ("总投资(万元)", "总投资（万元）")),
    _enum(
        "works_type", "项目类型", "works type",
        [
            ("building", "房屋建筑", "buildings", ("房屋建筑类", "房建")),
            ("municipal", "市政基础设施", "municipal infrastructure", ("市政", "市政基础设施类")),
            ("equipment", "单纯设备购置", "equipment purchase only", ("设备购置", "设备购置类")),
            ("it", "信息化", "information technology", ("信息化项目", "信息化类")),
            ("other", "其他", "other", ()),
        ],
    ),
    _bool("in_annual_plan", "列入当年年度市级政府投资计划", "in the year's municipal government-investment plan"),
    # 晋市审管发〔2022〕13号 拿地即开工 and 晋市政办〔2025〕5号
    _enum(
        "investment_regime", "投资项目管理类别", "investment-project regime",
        [
            ("government", "政府投资", "government investment", ("政府投资类", "政府投资项目")),
            ("enterprise_filing", "企业投资备案", "enterprise investment, filed (备案)", ("备案", "备案类", "企业投资备案类")),
            ("enterprise_approval", "企业投资核准", "enterprise investment, approved (核准)", ("核准", "核准类", "企业投资核准类")),
        ],
    ),
    _bool(
        "hazardous_or_major_project",
        "涉及易燃易爆危险品、危险化学品生产储存或技术难度特别复杂，关系国家安全和生态安全、重大生产力布局、重大公共利益，或属特殊工程和交通、水利、能源等领域重大工程",
        "hazardous-chemical, very complex, security, major-interest project, or special or major transport, water or energy works",
    ),
    _bool("in_industrial_development_zone", "位于工业类开发区", "inside an industrial development zone of the city"),
    _bool("new_industrial_land", "新增工业用地", "new industrial land"),
    # membership of the indicative extents: the site's own statement settles what the layer cannot
    _bool(vocab.MEMBERSHIP_ATTRIBUTES[vocab.PLANNING_AREA], f"位于{vocab.PLANNING_AREA}",
          f"inside the {vocab.class_label(vocab.PLANNING_AREA, 'en')}"),
    _bool(vocab.MEMBERSHIP_ATTRIBUTES[vocab.CENTRAL_AREA], f"位于{vocab.CENTRAL_AREA}",
          f"inside the {vocab.class_label(vocab.CENTRAL_AREA, 'en')}"),
)

PROJECT_ATTRIBUTES: Mapping[str, AttributeSpec] = MappingProxyType({a.name: a for a in _ATTRS})

_KEY_ALIASES: dict[str, str] = {}
for _a in _ATTRS:
    _KEY_ALIASES[_a.zh] = _a.name
    for _al in _a.aliases:
        _KEY_ALIASES[_al] = _a.name

#: The words a yes/no attribute reads as yes and as no (stripped, lower case): Python's and the map's.
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "是", "有", "对", "√", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "否", "无", "不", "×", "f"})

# ---------------------------------------------------------------------------------------
# Rule data model
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predicate:
    attr: str
    op: str
    value: Any  # tuple for in / not_in


@dataclass(frozen=True)
class AnyOf:
    groups: tuple[tuple[Predicate | AnyOf, ...], ...]


Condition = Predicate | AnyOf


@dataclass(frozen=True)
class ZoneSelector:
    kind: str
    classes: tuple[str, ...]


@dataclass(frozen=True)
class RuleException:
    conditions: tuple[Condition, ...]
    effect: str
    text: str
    summary_en: str = ""


@dataclass(frozen=True)
class InForce:
    from_: date
    to: date | None = None
    note: str | None = None

    def covers(self, day: date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)


@dataclass(frozen=True)
class Rule:
    id: str
    document: str
    document_title: str
    article: str
    source_file: str
    source_lines: tuple[int, int]
    text: str
    applies_to: tuple[ZoneSelector, ...]
    effect: str
    summary_en: str
    conditions: tuple[Condition, ...]
    exceptions: tuple[RuleException, ...]
    in_force: InForce
    who: str | None = None
    addressee: str = "project"
    heading: str | None = None
    values: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)
    notes: str | None = None
    rules_file: str = field(default="", compare=False)
    #: what the rule answers (vocab.SUBJECTS): its document's subject
    subject: str | None = None

    @property
    def citation(self) -> str:
        return f"{self.document}{self.article}"


@dataclass(frozen=True)
class RuleVerdict:
    rule_id: str
    status: str
    missing: tuple[str, ...]
    reason: str


# ---------------------------------------------------------------------------------------
# Gazette text cleaning
# ---------------------------------------------------------------------------------------

_HEADER_RES = (
    re.compile(r"^晋\s*城\s*市\s*人\s*民\s*政\s*府\s*公\s*报"),  # running page header / masthead
    re.compile(r"^—+\s*\d+\s*—*$"),  # — 4 —   /  —— 41
    re.compile(r"^续\s*表$"),
    re.compile(r"^JINCHENGSHI"),
    re.compile(r"^•.*•$"),
)
_WS_RE = re.compile(r"\s+")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")


def _is_header(line: str) -> bool:
    return any(r.search(line) for r in _HEADER_RES)


def _undouble(s: str, start: int = 0) -> tuple[str, bool]:
    """Collapse runs printed twice (``（（一一））完善完善`` → ``（一）完善``) from ``start``.

    Returns the text and whether the whole line was made of doubled runs (a heading
    that may continue, doubled, on the next line).
    """
    out = [s[:start]]
    i, n = start, len(s)
    while i < n:
        k = next((k for k in range(1, (n - i) // 2 + 1) if s[i : i + k] == s[i + k : i + 2 * k]), 0)
        if not k:
            break
        out.append(s[i : i + k])
        i += 2 * k
    out.append(s[i:])
    return "".join(out), i >= n


def _doubled_runs(s: str) -> int:
    i, n, runs = 0, len(s), 0
    while i < n:
        k = next((k for k in range(1, (n - i) // 2 + 1) if s[i : i + k] == s[i + k : i + 2 * k]), 0)
        if not k:
            break
        runs += 1
        i += 2 * k
    return runs


def _collapse_ws(s: str) -> str:
    """Drop whitespace except a single space between two ASCII letters/digits."""

    def repl(m: re.Match) -> str:
        a = s[m.start() - 1] if m.start() > 0 else ""
        b = s[m.end()] if m.end() < len(s) else ""
        return " " if _ASCII_ALNUM.match(a or " ") and _ASCII_ALNUM.match(b or " ") else ""

    return _WS_RE.sub(repl, s)


def clean_gazette_text(lines: Iterable[str]) -> str:
    """Join PDF-extracted gazette lines into clean running text.

    Removes blank lines and page headers (``晋城市人民政府公报２ / 2025• 市政府文件 •``,
    ``— 4 —``, ``续　　表``), undoubles headings (``（（一一））完善完善`` → ``（一）完善``,
    ``1.环境监测环境监测`` → ``1.环境监测``, ``66、、保护类…`` → ``6、保护类…``, including a
    doubled heading that runs on to the next line), joins lines without separators (the
    text is Chinese) and drops whitespace except between two ASCII letters or digits.
    """
    parts: list[str] = []
    continuing = False
    for raw in lines:
        line = raw.strip()
        if not line or _is_header(line):
            continue
        doubled = False
        m = re.match(r"^\d{1,2}\.", line)
        rest = line[m.end() :] if m else ""
        if line.startswith("（（") or re.match(r"^(\d)\1、、", line):
            line, doubled = _undouble(line)
        elif m and any(rest[:k] == rest[k : 2 * k] for k in range(2, len(rest) // 2 + 1)):
            line, doubled = _undouble(line, m.end())
        elif continuing:
            # the rest of a doubled heading (``偿标准偿标准。。一般…``, ``度度。。国有…``): accept
            # only two or more doubled runs, so that ``22万元`` is not read as doubled
            cand, doubled = _undouble(line)
            if doubled or _doubled_runs(line) >= 2:
                line = cand
            else:
                doubled = False
        continuing = doubled and not line.endswith(("。", "：", "；"))
        parts.append(line)
    return _collapse_ws("".join(parts))


# ---------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------

_SCHEMA_CACHE: dict[str, Any] = {}


def _schema() -> dict:
    if "s" not in _SCHEMA_CACHE:
        _SCHEMA_CACHE["s"] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return _SCHEMA_CACHE["s"]


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return obj


def _err(path: Path | str, rule_id: str | None, fld: str, msg: str) -> RuleError:
    where = f"{path}"
    if rule_id:
        where += f": rule {rule_id}"
    return RuleError(f"{where}: field {fld}: {msg}")


def _json_path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(file)"


def _check_predicate_value(spec: AttributeSpec, op: str, value: Any) -> str | None:
    """Return a problem description, or None when the value fits the attribute."""
    vals = value if op in ("in", "not_in") else [value]
    if op in ("in", "not_in") and not isinstance(value, list):
        return f"operator {op} needs a list"
    if spec.type == "number":
        if op in ("in", "not_in", "eq", "ne", "lt", "le", "gt", "ge"):
            for v in vals:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    return f"{spec.name} is a number; got {v!r}"
        return None
    if op in ("lt", "le", "gt", "ge"):
        return f"operator {op} needs a number attribute; {spec.name} is {spec.type}"
    for v in vals:
        if spec.type == "bool" and not isinstance(v, bool):
            return f"{spec.name} is true/false; got {v!r}"
        if spec.type == "enum" and v not in spec.allowed:
            return f"{spec.name} has no value {v!r}; allowed: {', '.join(spec.allowed)}"
    return None


def _parse_conditions(items: list, path: Path, rid: str, fld: str) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for i, item in enumerate(items):
        f = f"{fld}[{i}]"
        if "any_of" in item:
            groups = tuple(
                _parse_conditions(g, path, rid, f"{f}.any_of[{j}]") for j, g in enumerate(item["any_of"])
            )
            out.append(AnyOf(groups))
            continue
        attr = item["attr"]
        spec = PROJECT_ATTRIBUTES.get(attr)
        if spec is None:
            raise _err(path, rid, f"{f}.attr", f"unknown project attribute {attr!r}; known: {', '.join(PROJECT_ATTRIBUTES)}")
        ops = [o for o in OPERATORS if o in item]
        if len(ops) != 1:
            raise _err(path, rid, f, "a predicate needs exactly one operator of " + ", ".join(OPERATORS))
        op = ops[0]
        problem = _check_predicate_value(spec, op, item[op])
        if problem:
            raise _err(path, rid, f"{f}.{op}", problem)
        value = tuple(item[op]) if op in ("in", "not_in") else item[op]
        out.append(Predicate(attr, op, value))
    return tuple(out)


def _parse_date_range(d: dict) -> InForce:
    return InForce(d["from"], d.get("to"), d.get("note"))


def _load_file(path: Path, check_schema: bool = True) -> list[Rule]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise _err(path, None, "(syntax)", f"not valid TOML: {e}") from None
    except OSError as e:
        raise _err(path, None, "(file)", f"cannot read: {e}") from None
    if not check_schema:
        try:
            return _build_rules(path, data)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            pass  # malformed: fall through to the schema, which names the field at fault
    _check_schema(path, data)
    return _build_rules(path, data)


def _check_schema(path: Path, data: dict) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(_jsonable(data)), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        e = errors[0]
        p = list(e.absolute_path)
        rid = None
        if len(p) >= 2 and p[0] == "rules" and isinstance(p[1], int):
            rules = data.get("rules", [])
            if p[1] < len(rules) and isinstance(rules[p[1]], dict):
                rid = str(rules[p[1]].get("id", f"#{p[1] + 1}"))
            p = p[2:]
        raise _err(path, rid, _json_path(p), e.message)


def _build_rules(path: Path, data: dict) -> list[Rule]:
    default_force = _parse_date_range(data["in_force"])
    out: list[Rule] = []
    for r in data["rules"]:
        rid = r["id"]
        inf = _parse_date_range(r["in_force"]) if "in_force" in r else default_force
        if inf.to is not None and inf.to < inf.from_:
            raise _err(path, rid, "in_force", f"to {inf.to} is before from {inf.from_}")
        first, last = r["source_lines"]
        if last < first:
            raise _err(path, rid, "source_lines", f"last line {last} before first line {first}")
        sel = r.get("applies_to", [])
        if isinstance(sel, dict):
            sel = [sel]
        selectors = []
        for i, s in enumerate(sel):
            allowed = ZONE_KINDS[s["kind"]]
            for c in s["classes"]:
                if c not in allowed:
                    raise _err(path, rid, f"applies_to[{i}].classes", f"{c!r} is not a class of {s['kind']}; allowed: {', '.join(allowed)}")
            selectors.append(ZoneSelector(s["kind"], tuple(s["classes"])))
        conds = _parse_conditions(r.get("conditions", []), path, rid, "conditions")
        excs = []
        for i, x in enumerate(r.get("exceptions", [])):
            xc = _parse_conditions(x["conditions"], path, rid, f"exceptions[{i}].conditions")
            excs.append(RuleException(xc, x["effect"], x["text"], x.get("summary_en", "")))
        out.append(
            Rule(
                id=rid,
                document=r.get("document", data["document"]),
                document_title=r.get("document_title", data["document_title"]),
                article=r["article"],
                source_file=r.get("source_file", data["source_file"]),
                source_lines=(first, last),
                text=r["text"],
                applies_to=tuple(selectors),
                effect=r["effect"],
                summary_en=r["summary_en"],
                conditions=conds,
                exceptions=tuple(excs),
                in_force=inf,
                who=r.get("who"),
                addressee=r.get("addressee", "project"),
                heading=r.get("heading"),
                values=tuple(MappingProxyType(dict(v)) for v in r.get("values", [])),
                notes=r.get("notes"),
                rules_file=str(path),
                subject=r.get("subject", data.get("subject")),
            )
        )
    return out


def load_rules(rules_dir: str | Path, *, check_schema: bool = True) -> list[Rule]:
    """Read, validate and return every rule of every ``*.toml`` in ``rules_dir``.

    ``check_schema=False`` skips the JSON Schema pass when the files parse cleanly (a
    query does this to start fast; ``zoning layers validate`` and the tests check the
    schema); a file that does not parse is still checked and reported by the schema.

    Sorted by rule id (ids are zero-padded, so this is document then article order).
    Raises :class:`RuleError` naming the file, the rule id and the field at fault,
    and for an id used twice.
    """
    d = Path(rules_dir)
    if not d.is_dir():
        raise RuleError(f"{d}: rules directory not found")
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in sorted(d.glob("*.toml")):
        for rule in _load_file(path, check_schema):
            if rule.id in seen:
                raise _err(path, rule.id, "id", f"duplicate id, also in {seen[rule.id]}")
            seen[rule.id] = str(path)
            rules.append(rule)
    return sorted(rules, key=lambda r: r.id)


# ---------------------------------------------------------------------------------------
# Projects
# ---------------------------------------------------------------------------------------


def _coerce(spec: AttributeSpec, value: Any) -> Any:
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            v = value.strip().lower()
            if v in TRUE_WORDS:
                return True
            if v in FALSE_WORDS:
                return False
        raise RuleError(f"project attribute {spec.name} ({spec.zh}): value {value!r} is not allowed; allowed: true/false (是/否)")
    if spec.type == "number":
        if isinstance(value, bool):
            pass
        elif isinstance(value, (int, float)) and math.isfinite(value):
            return value
        elif isinstance(value, str):
            try:
                f = float(value.strip().replace(",", "").replace("，", ""))
                if math.isfinite(f):
                    return f
            except ValueError:
                pass
        raise RuleError(f"project attribute {spec.name} ({spec.zh}): value {value!r} is not allowed; allowed: a number in {spec.unit}")
    if spec.name == "industry":  # a GB/T 4754-2017 code or name, or a word: every group it belongs to
        return _industry_groups(value)
    # enum
    if isinstance(value, str):
        v = value.strip()
        for ev in spec.values:
            if v == ev.value or v.lower() == ev.value or v == ev.zh or v in ev.aliases:
                return ev.value
    allowed = ", ".join(f"{ev.value} ({ev.zh})" for ev in spec.values)
    raise RuleError(f"project attribute {spec.name} ({spec.zh}): value {value!r} is not allowed; allowed: {allowed}")


def _industry_groups(value: Any) -> tuple[str, ...]:
    """The groups the articles name that an industry belongs to (sorted; ``("other",)`` for
    an industry no article names). Accepts a tuple of groups (already resolved)."""
    from zoning.core.industries import descendant_groups, resolve_industry

    if isinstance(value, tuple):
        allowed = PROJECT_ATTRIBUTES["industry"].allowed
        bad = [v for v in value if v.removeprefix(POSSIBLE) not in allowed]
        if bad:
            raise RuleError(f"project attribute industry (行业): groups {bad} are not known; known: {', '.join(allowed)}")
        return tuple(sorted(set(value)))
    ind = resolve_industry(str(value))
    certain = set(ind.groups)
    possible = descendant_groups(ind.code) - certain if ind.code else set()
    if not certain and not possible:
        return ("other",)
    # groups the code's descendants belong to are possible, not certain: C 制造业 may be 化工
    return tuple(sorted(certain)) + tuple(sorted(POSSIBLE + g for g in possible))


#: Marks a group an industry may belong to (a broad code whose narrower codes are in it).
POSSIBLE = "?"


def parse_pairs(values: Iterable[str], expected: str = "NAME=VALUE", example: str = "construction=new") -> dict[str, str]:
    """Repeated ``NAME=VALUE`` values (``-a``, ``--set``, ``--field``; the service's ``a=``) as a
    dict, stripped; a value without ``=`` is a :class:`~zoning.core.errors.UsageError` that
    names the form expected and shows ``example``."""
    from zoning.core.errors import UsageError

    out: dict[str, str] = {}
    for item in values or ():
        if "=" not in item:
            raise UsageError(f"{item!r}: expected {expected}, e.g. {example}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def checked_project(attrs: dict[str, str]) -> dict[str, str] | None:
    """Project attributes as given (``NAME=VALUE`` pairs), after :func:`validate_project` has
    accepted every name and value (None for none given); a :class:`RuleError` points to
    ``zoning query --list-attributes``."""
    if not attrs:
        return None
    try:
        validate_project(dict(attrs))
    except RuleError as exc:
        raise RuleError(f"{exc} (zoning query --list-attributes lists them)") from None
    return dict(attrs)


def validate_project(project: dict) -> dict:
    """Check a project description against :data:`PROJECT_ATTRIBUTES` and normalise it.

    Keys may be the attribute names or their Chinese labels; values may be Chinese
    (新建 → ``new``, 是/否 → True/False, 省重点 → ``provincial``). ``None`` values are dropped
    (the attribute is then missing). Raises :class:`RuleError` naming the attribute, the
    value and the allowed values.
    """
    if not isinstance(project, Mapping):
        raise RuleError(f"project must be a mapping of attributes, got {type(project).__name__}")
    out: dict[str, Any] = {}
    for key, value in project.items():
        name = key if key in PROJECT_ATTRIBUTES else _KEY_ALIASES.get(str(key).strip())
        if name is None:
            raise RuleError(f"unknown project attribute {key!r}; known: {', '.join(PROJECT_ATTRIBUTES)}")
        if value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip()):
            continue
        out[name] = _coerce(PROJECT_ATTRIBUTES[name], value)
    return out


# ---------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------


def _fmt(v: Any) -> str:
    if isinstance(v, tuple):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v).lower() if isinstance(v, bool) else str(v)


def _pred_str(p: Predicate) -> str:
    sym = {"eq": "=", "ne": "≠", "in": "in", "not_in": "not in", "lt": "<", "le": "≤", "gt": ">", "ge": "≥"}[p.op]
    return f"{p.attr} {sym} {_fmt(p.value)}"


def _eval_pred(p: Predicate, project: Mapping[str, Any]) -> bool | None:
    if p.attr not in project:
        return None
    v = project[p.attr]
    if isinstance(v, tuple):  # a value in several groups (an industry): any group may match
        certain = [x for x in v if not x.startswith(POSSIBLE)]
        possible = [x[len(POSSIBLE):] for x in v if x.startswith(POSSIBLE)]
        listed = p.value if p.op in ("in", "not_in") else (p.value,)
        hit = any(x in listed for x in certain)
        maybe = any(x in listed for x in possible)
        if p.op in ("eq", "in"):
            return True if hit else (None if maybe else False)
        return False if hit else (None if maybe else True)
    match p.op:
        case "eq":
            return v == p.value
        case "ne":
            return v != p.value
        case "in":
            return v in p.value
        case "not_in":
            return v not in p.value
        case "lt":
            return v < p.value
        case "le":
            return v <= p.value
        case "gt":
            return v > p.value
        case "ge":
            return v >= p.value
    raise RuleError(f"unknown operator {p.op}")  # pragma: no cover - schema prevents it


def _eval_all(conds: tuple[Condition, ...], project: Mapping[str, Any]) -> tuple[bool | None, list[str], list[str]]:
    """Three-valued AND. Returns (result, missing attributes, false predicates)."""
    missing: list[str] = []
    false: list[str] = []
    for c in conds:
        if isinstance(c, AnyOf):
            res_g = [_eval_all(g, project) for g in c.groups]
            if any(r is True for r, _, _ in res_g):
                continue
            if all(r is False for r, _, _ in res_g):
                false.append("none of (" + " | ".join(" & ".join(f) for _, _, f in res_g) + ")")
            else:
                for r, m, _ in res_g:
                    if r is None:
                        missing.extend(m)
            continue
        r = _eval_pred(c, project)
        if r is None:
            missing.append(c.attr)
        elif r is False:
            false.append(f"{_pred_str(c)} (is {_fmt(project[c.attr])})")
    missing = list(dict.fromkeys(missing))
    if false:
        return False, missing, false
    return (None if missing else True), missing, false


def evaluate_rule(rule: Rule, project: dict | None, on_date: date | None = None, *,
                  validated: bool = False) -> RuleVerdict:
    """Evaluate one rule for a project on a date (today when ``on_date`` is None).

    ``validated``: ``project`` is already what :func:`validate_project` gives (a place's
    rules are evaluated for one project: it is checked once, not once per rule).

    * not in force on the date → ``not_in_force``;
    * ``project is None`` → the rule's own effect, as it stands;
    * a condition false → ``not_applicable``;
    * no condition false but some attributes missing → ``unknown`` (``missing`` names them);
    * all true → the rule's effect, or an exception's effect when all of that exception's
      conditions hold; when an exception may hold (its attributes missing) the rule's effect
      is kept and the exception's attributes are listed in ``missing``.
    """
    day = on_date or date.today()
    if not rule.in_force.covers(day):
        until = rule.in_force.to.isoformat() if rule.in_force.to else "open-ended"
        return RuleVerdict(rule.id, "not_in_force", (), f"{rule.citation} is in force {rule.in_force.from_.isoformat()} to {until}, not on {day.isoformat()}")
    if project is None:
        return RuleVerdict(rule.id, rule.effect, (), f"{rule.citation}: {rule.effect} as it stands (no project given)")
    proj = project if validated else validate_project(project)
    res, missing, false = _eval_all(rule.conditions, proj)
    if res is False:
        return RuleVerdict(rule.id, "not_applicable", (), f"{rule.citation} does not apply: " + "; ".join(false))
    if res is None:
        return RuleVerdict(rule.id, "unknown", tuple(missing), f"{rule.citation} may apply ({rule.effect}); missing: " + ", ".join(missing))
    maybe: list[str] = []
    undecided = []  # the exceptions that may hold
    for i, x in enumerate(rule.exceptions):
        xr, xm, _ = _eval_all(x.conditions, proj)
        if xr is True:
            return RuleVerdict(rule.id, x.effect, (), f"{rule.citation}: exception {i + 1} applies ({x.effect}): {x.text}")
        if xr is None:
            maybe.extend(xm)
            undecided.append(x)
    base = f"{rule.citation}: {rule.effect}" + (": all conditions hold" if rule.conditions else "")
    if maybe:
        maybe = list(dict.fromkeys(maybe))
        changes = any(x.effect != rule.effect for x in undecided)
        if changes:  # an unknown proviso is not a "no": the outcome waits on it
            return RuleVerdict(rule.id, "unknown", tuple(maybe),
                               base + "; unless an exception applies, which depends on: " + ", ".join(maybe))
        return RuleVerdict(rule.id, rule.effect, tuple(maybe), base + "; an exception may apply, missing: " + ", ".join(maybe))
    return RuleVerdict(rule.id, rule.effect, (), base)


def rules_for_zone(rules: Iterable[Rule], kind: str, zone_class: str) -> list[Rule]:
    """The rules whose ``applies_to`` names ``zone_class`` of ``kind`` (in input order)."""
    if kind not in ZONE_KINDS:
        raise RuleError(f"unknown zone kind {kind!r}; known: {', '.join(ZONE_KINDS)}")
    if zone_class not in ZONE_KINDS[kind]:
        raise RuleError(f"unknown class {zone_class!r} for {kind}; allowed: {', '.join(ZONE_KINDS[kind])}")
    return [r for r in rules if any(s.kind == kind and zone_class in s.classes for s in r.applies_to)]
