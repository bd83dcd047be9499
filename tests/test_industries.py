"""GB/T 4754-2017 as data, the industry groups the articles name, and resolve_industry."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from zoning.core.errors import RuleError
from zoning.core.industries import (
    LEVELS,
    Group,
    Industry,
    groups,
    industry_label,
    resolve_industry,
    standard,
)
from zoning.core.rules import PROJECT_ATTRIBUTES

#: the project's shared copy of the standard's 门类/大类 table, beside the repository
SHARED_DIVISIONS = Path(__file__).resolve().parents[2] / "shared" / "data" / "gbt4754_2017_divisions.csv"
PKG_CSV = Path(__file__).resolve().parent.parent / "zoning" / "data" / "gbt4754_2017.csv"


# ------------------------------------------------------------------ the table itself ----


def test_table_has_all_20_sections_and_97_divisions():
    table = standard()
    sections = [e for e in table.values() if e.level == "门类"]
    divisions = [e for e in table.values() if e.level == "大类"]
    assert [e.code for e in sections] == list("ABCDEFGHIJKLMNOPQRST")
    assert len(divisions) == 97
    assert [e.code for e in divisions] == [f"{n:02d}" for n in range(1, 98)]


@pytest.mark.skipif(not SHARED_DIVISIONS.exists(), reason="shared copy of the divisions not on this machine")
def test_every_division_of_the_shared_csv_is_present_with_its_name():
    table = standard()
    for row in csv.DictReader(SHARED_DIVISIONS.open(encoding="utf-8")):
        assert table[row["门类"]].name == row["门类名称"]
        e = table[row["大类"]]
        assert (e.level, e.name, e.parent) == ("大类", row["大类名称"], row["门类"])


def test_table_is_a_consistent_tree():
    table = standard()
    for code, e in table.items():
        assert e.level in LEVELS
        assert len(code) == {"门类": 1, "大类": 2, "中类": 3, "小类": 4}[e.level]
        if e.level == "门类":
            assert e.parent is None and code.isalpha()
        else:
            assert code.isdigit()
            parent = table[e.parent]
            assert LEVELS.index(parent.level) == LEVELS.index(e.level) - 1
            if e.level != "大类":
                assert code[:-1] == e.parent
    # the file is plain UTF-8 with the four documented columns
    with PKG_CSV.open(encoding="utf-8") as fh:
        assert fh.readline().strip() == "level,code,name,parent"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("0610", "烟煤和无烟煤开采洗选"),
        ("0620", "褐煤开采洗选"),
        ("101", "土砂石开采"),
        ("251", "精炼石油产品制造"),
        ("252", "煤炭加工"),
        ("2521", "炼焦"),
        ("2710", "化学药品原料药制造"),
        ("1713", "棉印染精加工"),
        ("1723", "毛染整精加工"),
        ("1752", "化纤织物染整精加工"),
        ("1910", "皮革鞣制加工"),
        ("221", "纸浆制造"),
        ("222", "造纸"),
        ("3360", "金属表面处理及热处理加工"),
        ("5265", "机动车燃油零售"),
        ("7724", "危险废物治理"),
        ("7820", "环境卫生管理"),
    ],
)
def test_the_codes_domain_names_are_there(code, name):
    assert standard()[code].name == name


# ------------------------------------------------------------------------- groups ----


def test_group_ids_are_the_industry_vocabulary():
    assert set(groups()) == set(PROJECT_ATTRIBUTES["industry"].allowed)
    assert all(isinstance(g, Group) for g in groups().values())


def test_every_group_code_exists_in_the_table():
    table = standard()
    for g in groups().values():
        for c in g.codes:
            assert c in table, (g.id, c)
        for w, c in g.word_codes.items():
            assert w in g.words and c in g.codes, (g.id, w, c)


def test_groups_keep_the_words_planners_already_use():
    """Every zh label and alias of the current `industry` vocabulary is a word of its group."""
    for ev in PROJECT_ATTRIBUTES["industry"].values:
        g = groups()[ev.value]
        for w in (ev.zh, *ev.aliases):
            assert w in g.words or w == g.zh, (ev.value, w)


def test_groups_without_codes_say_why():
    for g in groups().values():
        if not g.codes:
            assert g.reading, g.id
        assert g.zh and g.en


def test_readings_where_the_mapping_is_ours():
    gs = groups()
    assert "place" in gs["industrial_park"].reading
    assert "facility" in gs["tailings"].reading
    assert gs["petroleum_refining"].codes == ("251",) and "not the whole of 25" in gs["petroleum_refining"].reading
    assert gs["quarrying"].codes == ("101",)
    assert gs["mining"].codes == ("06", "07", "08", "09", "10")


# ----------------------------------------------------------------------- resolving ----


@pytest.mark.parametrize(
    ("value", "code", "level", "groups_"),
    [
        ("C", "C", "门类", ()),
        ("B", "B", "门类", ()),
        ("26", "26", "大类", ("chemical",)),
        ("261", "261", "中类", ("chemical",)),
        ("2710", "2710", "小类", ("pharmaceutical", "pharmaceutical_api")),
        ("271", "271", "中类", ("pharmaceutical", "pharmaceutical_api")),
        ("27", "27", "大类", ("pharmaceutical",)),
        ("06", "06", "大类", ("coal", "mining")),
        ("0610", "0610", "小类", ("coal", "mining")),
        ("10", "10", "大类", ("mining",)),
        ("101", "101", "中类", ("mining", "quarrying")),
        ("1011", "1011", "小类", ("mining", "quarrying")),
        ("102", "102", "中类", ("mining",)),
        ("2521", "2521", "小类", ("coking",)),
        ("252", "252", "中类", ()),
        ("2511", "2511", "小类", ("petroleum_refining",)),
        ("1752", "1752", "小类", ("printing_dyeing",)),
        ("175", "175", "中类", ()),
        ("5265", "5265", "小类", ("petrol_station",)),
        ("7724", "7724", "小类", ("hazardous_waste",)),
        ("7820", "7820", "小类", ("landfill",)),
        ("3360", "3360", "小类", ("electroplating",)),
        ("32", "32", "大类", ("nonferrous",)),
        ("44", "44", "大类", ("energy",)),
        ("70", "70", "大类", ()),
    ],
)
def test_codes_at_every_level(value, code, level, groups_):
    ind = resolve_industry(value)
    assert isinstance(ind, Industry)
    assert (ind.code, ind.level, ind.groups) == (code, level, groups_)
    assert ind.name == standard()[code].name and ind.detail is None


def test_groups_are_sorted_and_never_from_descendants():
    assert resolve_industry("B").groups == ()  # mining covers 06–10, not all of B
    assert resolve_industry("17").groups == ()  # dyeing is six 小类 of 17, not 17
    assert resolve_industry("25").groups == ()  # coking and refining are parts of 25
    for code in standard():
        gs = resolve_industry(code).groups
        assert list(gs) == sorted(gs)


def test_standard_names_and_names_with_codes():
    assert resolve_industry("化学原料和化学制品制造业").code == "26"
    assert resolve_industry("制造业").code == "C"
    assert resolve_industry("烟煤和无烟煤开采洗选").code == "0610"  # printed at 中类 and 小类: the finer
    assert resolve_industry("造纸").code == "222"
    for v in (
        "2710 化学药品原料药制造",
        "2710化学药品原料药制造",
        "化学药品原料药制造（2710）",
        "化学药品原料药制造(2710)",
        "C2710",
        "C 2710",
        "２７１０",
        " 2710 ",
    ):
        assert resolve_industry(v).code == "2710", v


def test_short_words_and_group_ids():
    assert resolve_industry("化工") == resolve_industry("chemical") == resolve_industry("26")
    coal = resolve_industry("采煤")
    assert (coal.code, coal.groups) == ("06", ("coal", "mining"))
    assert resolve_industry("coal") == coal == resolve_industry("煤矿")
    assert resolve_industry("原料药").groups == ("pharmaceutical", "pharmaceutical_api")
    assert resolve_industry("开山采石").groups == ("mining", "quarrying")
    assert resolve_industry("焦化").code == "2521"
    assert resolve_industry("畜禽养殖").code == "03"
    assert resolve_industry("农业").code == "01"
    park = resolve_industry("工业聚集区")
    assert (park.code, park.level, park.groups) == (None, "group", ("industrial_park",))
    mining = resolve_industry("矿山")
    assert (mining.code, mining.name, mining.groups) == (None, "矿山开采", ("mining",))
    assert resolve_industry("Coal Mining").groups == ("coal", "mining")


def test_every_word_resolves_to_its_group():
    for g in groups().values():
        for w in (g.id, g.zh, *g.words):
            assert g.id in resolve_industry(w).groups, (g.id, w)


def test_one_industry_in_several_groups():
    assert resolve_industry("0620").groups == ("coal", "mining")
    assert resolve_industry("2710").groups == ("pharmaceutical", "pharmaceutical_api")
    assert resolve_industry("101").groups == ("mining", "quarrying")


def test_codes_finer_than_the_table_resolve_to_their_listed_ancestor():
    ind = resolve_industry("2614")
    assert (ind.code, ind.detail, ind.groups) == ("261", "2614", ("chemical",))
    ind = resolve_industry("1731")  # listed: spinning of 173, a sibling of the dyeing 1733, is no group
    assert ind.code == "1731" and ind.groups == ()
    assert resolve_industry("3110").code == "31" and resolve_industry("3110").groups == ("metallurgy",)


@pytest.mark.parametrize("value", ["化学", "xyz", "9999", "C06", "26 化工", "", "U", "2710 炼焦"])
def test_unknown_values_raise_one_line_rule_errors(value):
    with pytest.raises(RuleError) as e:
        resolve_industry(value)
    msg = str(e.value)
    assert "\n" not in msg and repr(value) in msg


def test_errors_suggest_close_matches():
    with pytest.raises(RuleError, match="did you mean: .*化学"):
        resolve_industry("化学")
    with pytest.raises(RuleError, match="not in 门类 C"):
        resolve_industry("C06")
    with pytest.raises(RuleError, match="not a string|as text"):
        resolve_industry(26)  # type: ignore[arg-type]


def test_labels():
    assert industry_label("coal") == "采煤"
    assert industry_label("coal", "en") == "coal mining"
    assert industry_label("2710") == "2710 化学药品原料药制造"
    assert industry_label("2710", "en") == "GB/T 4754-2017 class 2710 化学药品原料药制造"
    assert industry_label("化工") == "26 化学原料和化学制品制造业"
    assert industry_label("工业聚集区", "en") == "industrial cluster"
    assert industry_label("2614") == "261 基础化学原料制造（2614）"
    with pytest.raises(RuleError):
        industry_label("coal", "fr")


def test_loading_is_cached():
    assert standard() is standard() and groups() is groups()
