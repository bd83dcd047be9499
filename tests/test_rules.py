"""Tests of the rules catalogue (layers/jincheng/rules) and of zoning.core.rules."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest

from zoning.core.errors import RuleError
from zoning.core.rules import (
    EFFECTS,
    PROJECT_ATTRIBUTES,
    STATUSES,
    Rule,
    RuleVerdict,
    clean_gazette_text,
    evaluate_rule,
    load_rules,
    rules_for_zone,
    validate_project,
)

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "layers" / "jincheng"
RULES_DIR = PACK / "rules"
SOURCES = PACK / "sources"

IN_FORCE = date(2025, 6, 1)


def _nows(s: str) -> str:
    return re.sub(r"\s+", "", s)


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules(RULES_DIR)


@pytest.fixture(scope="module")
def by_id(rules) -> dict[str, Rule]:
    return {r.id: r for r in rules}


@pytest.fixture(scope="module")
def source_lines():
    cache: dict[str, list[str]] = {}

    def get(name: str) -> list[str]:
        if name not in cache:
            cache[name] = (SOURCES / name).read_text(encoding="utf-8").split("\n")
        return cache[name]

    return get


CN = "一二三四五六七八九"


def cn_number(n: int) -> str:
    if n < 10:
        return CN[n - 1]
    tens, units = divmod(n, 10)
    return (CN[tens - 1] if tens > 1 else "") + "十" + (CN[units - 1] if units else "")


# ----------------------------------------------------------------------- catalogue ----


def test_catalogue_loads_and_is_sorted(rules):
    assert len(rules) > 41
    ids = [r.id for r in rules]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    for r in rules:
        assert r.effect in EFFECTS
        assert r.summary_en and r.text
        assert r.addressee in ("project", "authority")


def test_every_rules_file_is_loaded_one_document_per_file(rules):
    """No file of the catalogue is skipped, none mixes documents, no document is split."""
    by_file: dict[str, set[str]] = {}
    for r in rules:
        by_file.setdefault(Path(r.rules_file).name, set()).add(r.document)
    assert set(by_file) == {p.name for p in RULES_DIR.glob("*.toml")}
    assert all(len(docs) == 1 for docs in by_file.values()), by_file
    documents = [next(iter(docs)) for docs in by_file.values()]
    assert len(documents) == len(set(documents)), documents


def test_every_document_a_zone_layer_cites_has_rules(rules):
    """A zone of the pack never rests on a document whose articles the catalogue lacks."""
    from zoning.core.layers import open_pack
    from zoning.core.vocab import CLASSED_KINDS

    catalogue = {r.document for r in rules}
    cited = {
        (spec.name, doc)
        for spec in open_pack(PACK).layers
        if spec.kind in CLASSED_KINDS
        for doc in spec.provenance.get("documents", [])
    }
    assert cited, "the pack's zone layers cite no document"
    assert not [(layer, doc) for layer, doc in cited if doc not in catalogue]


def test_124_has_all_41_articles_in_force_five_years(rules):
    r124 = [r for r in rules if r.document == "晋市环发〔2023〕124号"]
    assert len(r124) == 41
    assert [r.article for r in r124] == [f"第{cn_number(n)}条" for n in range(1, 42)]
    assert [r.id for r in r124] == [f"JSH-2023-124-A{n:02d}" for n in range(1, 42)]
    for r in r124:
        assert r.in_force.from_ == date(2024, 1, 18)
        assert r.in_force.to == date(2029, 1, 17)
    # the classes the articles apply to, by the document's own grouping
    classes = [sorted(c for s in r.applies_to for c in s.classes) for r in r124]
    assert all(c == ["一级保护区"] for c in classes[0:3])
    assert all(c == ["二级保护区"] for c in classes[3:6])
    assert all(c == ["准保护区"] for c in classes[6:9])
    assert classes[9] == ["泉域重点保护区"]
    assert all(c == ["一级管控区"] for c in classes[10:25])
    assert all(c == ["二级管控区"] for c in classes[25:40])
    assert len(classes[40]) == 6


def test_124_article_labels_are_where_the_gazette_prints_them(rules, source_lines):
    for r in rules:
        if r.document != "晋市环发〔2023〕124号":
            continue
        first = source_lines(r.source_file)[r.source_lines[0] - 1]
        assert first.strip().startswith(r.article), (r.id, first)


def test_every_quote_is_verbatim_from_its_lines(rules, source_lines):
    """Fails if a quote is paraphrased, or cites the wrong lines."""
    for r in rules:
        lines = source_lines(r.source_file)
        a, b = r.source_lines
        assert 1 <= a <= b <= len(lines), r.id
        src = _nows(clean_gazette_text(lines[a - 1 : b]))
        assert _nows(r.text) in src, f"{r.id}: text not found verbatim in {r.source_file}:{a}-{b}"


def test_quotes_need_no_cleaning_beyond_joining(rules, source_lines):
    """Independent of clean_gazette_text: each quote is in the raw lines once they are
    joined and stripped of whitespace and page headers (no quote spans a doubled heading)."""
    header = re.compile(r"^\s*(晋城市人民政府公报|—+\s*\d+\s*—*\s*$|续\s*表\s*$)")
    for r in rules:
        a, b = r.source_lines
        raw = _nows("".join(l for l in source_lines(r.source_file)[a - 1 : b] if not header.match(l)))
        assert _nows(r.text) in raw, r.id


def test_every_exception_clause_is_verbatim_from_the_document(source_lines):
    for path in sorted(RULES_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        a, b = data["source_lines"]
        src = _nows(clean_gazette_text(source_lines(data["source_file"])[a - 1 : b]))
        assert _nows(data["document"]) in src, path.name
        for r in data["rules"]:
            for x in r.get("exceptions", []):
                assert _nows(x["text"]) in src, (path.name, r["id"])
            for v in r.get("values", []):
                if "quote" in v:
                    assert _nows(v["quote"]) in src, (path.name, r["id"], v)


def test_compensation_levels_and_revenue_split(by_id, source_lines):
    comp = by_id["JSF-2021-3-S05B"]
    assert [(v["level"], v["zone"], v["wan_yuan_per_mu"]) for v in comp.values] == [
        (1, "一级区", 22),
        (2, "二级区", 17),
        (3, "三级区", 15),
        (4, "四级区", 12),
        (5, "五级区", 9),
    ]
    split = by_id["JSF-2021-3-S15"]
    assert [v["share_percent"] for v in split.values] == [30, 70]
    src = _nows(clean_gazette_text(source_lines(comp.source_file)[comp.source_lines[0] - 1 : comp.source_lines[1]]))
    for v in comp.values:
        assert f"{v['zone']}征地补偿费加奖励金额达到{v['wan_yuan_per_mu']}万元／亩" in src
    src = _nows(clean_gazette_text(source_lines(split.source_file)[split.source_lines[0] - 1 : split.source_lines[1]]))
    for v in split.values:
        assert f"{v['area']}拨付比例为{v['share_percent']}％" in src


def test_other_documents_dates_and_counts(rules):
    count = {}
    for r in rules:
        count[r.document] = count.get(r.document, 0) + 1
    assert count == {
        "晋市环发〔2023〕124号": 41,
        "晋市环发〔2023〕123号": 4,
        "晋市政发〔2021〕3号": 25,
        "晋市审管发〔2025〕16号": 10,
        "晋市政办〔2021〕9号": 2,
        "晋市审管发〔2022〕13号": 9,
        "晋市政办〔2025〕5号": 7,
    }
    for r in rules:
        if r.document == "晋市审管发〔2025〕16号":
            assert (r.in_force.from_, r.in_force.to) == (date(2025, 5, 2), date(2030, 5, 1))
        if r.document == "晋市环发〔2023〕123号":
            assert (r.in_force.from_, r.in_force.to) == (date(2024, 1, 18), date(2029, 1, 17))


def test_rules_for_zone(rules):
    spring = rules_for_zone(rules, "groundwater_protection", "泉域重点保护区")
    assert {r.id for r in spring} >= {"JSH-2023-124-A10", "JSH-2023-124-A41", "JSH-2023-123-01"}
    assert "JSH-2023-124-A01" not in {r.id for r in spring}
    lvl1 = [
        r for r in rules_for_zone(rules, "groundwater_control", "一级管控区") if r.document == "晋市环发〔2023〕124号"
    ]
    assert [r.article for r in lvl1][:15] == [f"第{cn_number(n)}条" for n in range(11, 26)]
    assert rules_for_zone(rules, "planning_extent", "中心城区")
    with pytest.raises(RuleError, match="三级管控区"):
        rules_for_zone(rules, "groundwater_control", "三级管控区")


# ------------------------------------------------------------------- text cleaning ----


def test_clean_gazette_text_undoubles_and_drops_headers():
    lines = [
        "（（一一））完善完善““双承诺免评审双承诺免评审””机制机制",
        "",
        "对政府投资 5000万元以下（含 5000万元）的房",
        "晋城市人民政府公报２ / 2025• 市政府文件 •",
        "— 4 —",
        "续　　表",
        "屋建筑",
        "（（六六））统一地上建筑物和附着物补偿方式和补统一地上建筑物和附着物补偿方式和补",
        "偿标准偿标准。。一般地上建筑物",
        "1.环境监测环境监测",
        "1.出具规划审核意见。",
        "66、、保护类区域划定保护类区域划定",
        "22万元／亩；HJ 773",
    ]
    assert clean_gazette_text(lines) == (
        "（一）完善“双承诺免评审”机制对政府投资5000万元以下（含5000万元）的房屋建筑"
        "（六）统一地上建筑物和附着物补偿方式和补偿标准。一般地上建筑物"
        "1.环境监测1.出具规划审核意见。6、保护类区域划定22万元／亩；HJ 773"
    )


# ---------------------------------------------------------------------- evaluation ----


def test_statuses_are_what_evaluation_gives_and_are_labelled(rules):
    """The schema's effects are the vocabulary's; every status a rule can get is in STATUSES and
    has a Chinese and an English label (the reports print them)."""
    import json

    from zoning.core.vocab import STATUS_LABELS

    schema = json.loads((ROOT / "zoning" / "schemas" / "rules.schema.json").read_text(encoding="utf-8"))
    assert schema["$defs"]["effect"]["enum"] == list(EFFECTS)
    seen = set()
    projects = (
        None,
        {},
        {"construction": "新建", "water_supply_related": "否"},
        {"construction": "new", "water_supply_related": True},
    )
    for project in projects:
        for on in (IN_FORCE, date(2000, 1, 1)):
            seen |= {evaluate_rule(r, project, on).status for r in rules}
    assert seen <= set(STATUSES), seen - set(STATUSES)
    assert {"prohibited", "not_applicable", "unknown", "not_in_force"} <= seen
    for status in STATUSES:
        zh, en = STATUS_LABELS[status]
        assert zh and en and zh != en, status


def test_prohibited_and_not_applicable(by_id):
    a1 = by_id["JSH-2023-124-A01"]
    v = evaluate_rule(a1, {"construction": "新建", "water_supply_related": "否"}, IN_FORCE)
    assert isinstance(v, RuleVerdict)
    assert (v.rule_id, v.status, v.missing) == ("JSH-2023-124-A01", "prohibited", ())
    v = evaluate_rule(a1, {"construction": "new", "water_supply_related": True}, IN_FORCE)
    assert v.status == "not_applicable"
    assert "water_supply_related" in v.reason


def test_unknown_names_the_missing_attribute(by_id):
    v = evaluate_rule(by_id["JSH-2023-124-A04"], {"construction": "扩建"}, IN_FORCE)
    assert v.status == "unknown"
    assert v.missing == ("discharges_pollutants",)
    assert "discharges_pollutants" in v.reason
    # a false condition wins over a missing one
    v = evaluate_rule(by_id["JSH-2023-124-A04"], {"discharges_pollutants": False}, IN_FORCE)
    assert v.status == "not_applicable"


def test_conditional_obligation_information(by_id):
    assert evaluate_rule(by_id["JSH-2023-124-A05"], {"activity": "旅游"}, IN_FORCE).status == "conditional"
    assert evaluate_rule(by_id["JSH-2023-124-A11"], {"industry": "加油站"}, IN_FORCE).status == "not_applicable"
    assert evaluate_rule(by_id["JSH-2023-124-A11"], {"industry": "尾矿库"}, IN_FORCE).status == "obligation"
    assert evaluate_rule(by_id["JSH-2023-124-A41"], {}, IN_FORCE).status == "information"


def test_project_none_gives_the_effect_as_it_stands(by_id):
    v = evaluate_rule(by_id["JSH-2023-124-A10"], None, IN_FORCE)
    assert (v.status, v.missing) == ("prohibited", ())
    assert "as it stands" in v.reason


def test_spring_domain_exception_for_key_projects(by_id):
    a10 = by_id["JSH-2023-124-A10"]
    base = {"construction": "new", "water_supply_related": False, "industry": "other", "activity": "none"}
    # whether the proviso applies is not said: unknown, naming its conditions
    v = evaluate_rule(a10, base, IN_FORCE)
    assert v.status == "unknown" and {"key_project_level", "livelihood_project"} <= set(v.missing)
    # not a key project and not a livelihood project: the prohibition binds
    not_excepted = base | {"key_project_level": "none", "livelihood_project": False}
    assert evaluate_rule(a10, not_excepted, IN_FORCE).status == "prohibited"
    v = evaluate_rule(a10, base | {"key_project_level": "省重点", "provincial_water_approval": "是"}, IN_FORCE)
    assert v.status == "conditional"
    assert "省人民政府水行政主管部门" in v.reason
    # approval not given: the proviso may apply, so the outcome is unknown (需确认), never a
    # silent "prohibited" (第十条: "...由省人民政府水行政主管部门决定批准的除外")
    v = evaluate_rule(a10, base | {"key_project_level": "national"}, IN_FORCE)
    assert v.status == "unknown"
    assert "provincial_water_approval" in v.missing
    assert "exception" in v.reason
    # a municipal key project does not qualify
    v = evaluate_rule(
        a10,
        base | {"key_project_level": "市重点", "provincial_water_approval": True, "livelihood_project": False},
        IN_FORCE,
    )
    assert (v.status, v.missing) == ("prohibited", ())
    # coal mining is never excepted
    v = evaluate_rule(
        a10,
        base
        | {
            "industry": "coal",
            "key_project_level": "provincial",
            "provincial_water_approval": True,
            "livelihood_project": True,
        },
        IN_FORCE,
    )
    assert v.status == "prohibited"


def test_quasi_zone_rebuild_exception(by_id):
    a7 = by_id["JSH-2023-124-A07"]
    assert evaluate_rule(a7, {"construction": "new", "severe_water_pollution": True}, IN_FORCE).status == "prohibited"
    assert (
        evaluate_rule(a7, {"construction": "new", "severe_water_pollution": False}, IN_FORCE).status == "not_applicable"
    )
    v = evaluate_rule(a7, {"construction": "改建"}, IN_FORCE)
    assert v.status == "conditional" and "不得增加排污量" in v.reason


def test_any_of_and_thresholds(by_id):
    g = by_id["JSG-2025-16-06"]  # 双承诺免评审 ≤ 5000万元, buildings and municipal works
    day = date(2025, 6, 1)
    p = {"municipal_approval": True, "works_type": "房屋建筑"}
    assert evaluate_rule(g, p | {"government_investment_wan": 5000}, day).status == "obligation"
    assert evaluate_rule(g, p | {"government_investment_wan": "5000.01"}, day).status == "not_applicable"
    assert evaluate_rule(g, p | {"works_type": "it", "government_investment_wan": 100}, day).status == "not_applicable"
    review = by_id["JSG-2025-16-07"]
    assert evaluate_rule(review, p | {"government_investment_wan": 20000}, day).status == "obligation"
    assert evaluate_rule(review, p | {"government_investment_wan": 3000}, day).status == "not_applicable"
    assert (
        evaluate_rule(
            review, {"municipal_approval": True, "works_type": "it", "government_investment_wan": 3000}, day
        ).status
        == "obligation"
    )
    assert (
        evaluate_rule(
            by_id["JSG-2025-16-08"], {"municipal_approval": True, "government_investment_wan": 20001}, day
        ).status
        == "obligation"
    )
    proposal = by_id["JSG-2025-16-02"]
    assert evaluate_rule(proposal, {"municipal_approval": True, "in_annual_plan": True}, day).status == "information"
    v = evaluate_rule(proposal, {"municipal_approval": True, "in_annual_plan": False}, day)
    assert v.status == "unknown" and v.missing == ("total_investment_wan",)
    assert (
        evaluate_rule(
            proposal, {"municipal_approval": True, "in_annual_plan": False, "total_investment_wan": 60000}, day
        ).status
        == "not_applicable"
    )
    design = by_id["JSG-2025-16-03"]
    assert evaluate_rule(design, {"municipal_approval": True, "works_type": "设备购置"}, day).status == "information"


def test_expropriation_plan_conformity(by_id):
    r = by_id["JSF-2021-3-S02C"]
    d = date(2025, 1, 1)
    assert (
        evaluate_rule(
            r, {"involves_expropriation": True, "conforms_to_spatial_plan": True, "in_annual_land_plan": False}, d
        ).status
        == "prohibited"
    )
    assert (
        evaluate_rule(
            r, {"involves_expropriation": True, "conforms_to_spatial_plan": True, "in_annual_land_plan": True}, d
        ).status
        == "not_applicable"
    )
    v = evaluate_rule(r, {"involves_expropriation": True, "conforms_to_spatial_plan": True}, d)
    assert v.status == "unknown" and v.missing == ("in_annual_land_plan",)


def test_overload_area_abstraction_and_exceptions(by_id):
    r = by_id["JSZB-2021-9-01"]
    d = date(2021, 6, 1)  # the 2021 action plan is in force in 2021 only
    p = {"abstracts_groundwater": True, "in_water_overload_area": True}
    v = evaluate_rule(
        r, p | {"domestic_water_use": False, "poverty_alleviation_project": False, "water_rights_transfer": False}, d
    )
    assert (v.status, v.missing) == ("prohibited", ())
    assert evaluate_rule(r, p | {"water_rights_transfer": True}, d).status == "conditional"
    v = evaluate_rule(r, p, d)  # the exceptions not described: unknown, naming what to confirm
    assert v.status == "unknown"
    assert set(v.missing) == {"domestic_water_use", "poverty_alleviation_project", "water_rights_transfer"}


def test_not_in_force_before_and_after(by_id):
    a1 = by_id["JSH-2023-124-A01"]
    p = {"construction": "new", "water_supply_related": False}
    assert evaluate_rule(a1, p, date(2024, 1, 17)).status == "not_in_force"
    assert evaluate_rule(a1, p, date(2024, 1, 18)).status == "prohibited"
    assert evaluate_rule(a1, p, date(2029, 1, 17)).status == "prohibited"
    v = evaluate_rule(a1, p, date(2029, 1, 18))
    assert v.status == "not_in_force" and "2029-01-17" in v.reason
    assert evaluate_rule(a1, None, date(2030, 1, 1)).status == "not_in_force"
    assert evaluate_rule(by_id["JSG-2025-16-01"], None, date(2025, 5, 1)).status == "not_in_force"


# ---------------------------------------------------------------------- validation ----


def test_validate_project_coerces_chinese():
    p = validate_project(
        {
            "construction": "新建",
            "discharges_pollutants": "是",
            "water_supply_related": "否",
            "key_project_level": "省重点",
            "government_investment_wan": "5,000",
            "行业": "化工",
            "activity": None,
        }
    )
    assert p == {
        "construction": "new",
        "discharges_pollutants": True,
        "water_supply_related": False,
        "key_project_level": "provincial",
        "government_investment_wan": 5000.0,
        "industry": ("chemical",),  # the groups the articles name that the industry belongs to
    }


def test_validate_project_rejects_unknown_values_and_keys():
    with pytest.raises(RuleError) as e:
        validate_project({"construction": "拆除"})
    msg = str(e.value)
    assert "construction" in msg and "拆除" in msg and "new" in msg and "rebuild" in msg
    with pytest.raises(RuleError, match="government_investment_wan"):
        validate_project({"government_investment_wan": "五千万"})
    with pytest.raises(RuleError, match="colour"):
        validate_project({"colour": "red"})
    with pytest.raises(RuleError, match="discharges_pollutants"):
        validate_project({"discharges_pollutants": "maybe"})


def test_vocabulary_has_labels():
    for name, spec in PROJECT_ATTRIBUTES.items():
        assert spec.name == name and spec.zh and spec.en
        assert spec.type in ("enum", "bool", "number")
        if spec.type == "enum":
            assert spec.values and all(v.zh and v.en for v in spec.values)


GOOD = """
schema_version = 1
document = "晋市环发〔2023〕124号"
document_title = "测试"
source_file = "001_b15999e637248622.txt"
in_force = { from = 2024-01-18, to = 2029-01-17 }

[[rules]]
id = "TST-2023-1-A01"
article = "第一条"
source_lines = [6928, 6934]
text = "禁止"
effect = "prohibited"
summary_en = "test"
applies_to = { kind = "groundwater_protection", classes = ["一级保护区"] }
conditions = [ { attr = "construction", in = ["new"] } ]
"""


def _write(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / "bad.toml").write_text(text, encoding="utf-8")
    return d


def test_minimal_file_loads(tmp_path):
    [r] = load_rules(_write(tmp_path, GOOD))
    assert r.id == "TST-2023-1-A01" and r.applies_to[0].classes == ("一级保护区",)


@pytest.mark.parametrize(
    "old,new,field",
    [
        ('effect = "prohibited"', 'effect = "forbidden"', "effect"),
        ('in = ["new"]', 'in = ["demolish"]', "conditions[0].in"),
        ('attr = "construction"', 'attr = "colour"', "conditions[0].attr"),
        ('classes = ["一级保护区"]', 'classes = ["三级保护区"]', "applies_to"),
        ("source_lines = [6928, 6934]", "source_lines = [6934, 6928]", "source_lines"),
        ('article = "第一条"\n', "", "article"),
        ('in = ["new"]', "le = 5", "conditions[0].le"),
    ],
)
def test_malformed_file_names_file_rule_and_field(tmp_path, old, new, field):
    assert old in GOOD
    d = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(RuleError) as e:
        load_rules(d)
    msg = str(e.value)
    assert "bad.toml" in msg
    assert "TST-2023-1-A01" in msg
    assert field in msg


def test_duplicate_ids_and_bad_toml(tmp_path):
    d = _write(tmp_path, GOOD)
    (d / "again.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(RuleError, match="duplicate"):
        load_rules(d)
    (d / "again.toml").write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(RuleError, match="again.toml"):
        load_rules(d)
