"""Key-project lists of 晋市政办〔2024〕12号 and 晋市政办〔2025〕6号."""

from __future__ import annotations

import re

import pytest

from zoning.packbuild import projects as P
from zoning.packbuild.counties import COUNTIES

pytestmark = pytest.mark.skipif(not (P.SOURCES_DIR / P.FILE_2024).exists(), reason="gazette sources not present")


@pytest.fixture(scope="module")
def df24():
    return P.parse_key_projects_2024(P.SOURCES_DIR / P.FILE_2024)


@pytest.fixture(scope="module")
def df25():
    return P.parse_key_projects_2025(P.SOURCES_DIR / P.FILE_2025)


@pytest.fixture(scope="module")
def exp24():
    return P.expected_counts_2024(P.SOURCES_DIR / P.FILE_2024)


@pytest.fixture(scope="module")
def exp25():
    return P.expected_counts_2025(P.SOURCES_DIR / P.FILE_2025)


@pytest.fixture(scope="module")
def both():
    return P.key_projects(P.SOURCES_DIR)


# ------------------------------------------------------------------ helpers


def test_undouble():
    assert (
        P.undouble("（（一一））高端装备制造产业链高端装备制造产业链（（22个个））")
        == "（一）高端装备制造产业链（2个）"
    )
    assert P.undouble("（（十二十二））文旅康养文旅康养（（1111个个））") == "（十二）文旅康养（11个）"
    assert P.undouble("合合 计计（（198198 个个））") == "合计（198个）"
    assert P.undouble("普通文字") == "普通文字"


def test_split_places():
    assert P.split_places("城 区、泽州县") == ["城区", "泽州县"]
    assert P.split_places("泽州县 高平市\n阳城县 沁水县") == ["泽州县", "高平市", "阳城县", "沁水县"]
    assert P.split_places("晋城经济\n技术开发区") == ["晋城经济技术开发区"]
    assert P.split_places("各县（市、区）") == ["各县（市、区）"]
    with pytest.raises(ValueError):
        P.split_places("某某镇")


def test_page_noise():
    assert P.is_page_noise("晋城市人民政府公报２ / 2025• 市政府文件 •")
    assert P.is_page_noise("续　　表")
    assert P.is_page_noise(" — 4 —")
    assert P.is_page_noise("—— 44")
    assert not P.is_page_noise("陵川中药材文旅康养专业镇——绿之金二期中药精深加工")


# ------------------------------------------------------------------ stated counts


def test_stated_counts_2024(exp24):
    assert exp24["document"] == "晋市政办〔2024〕12号"
    assert exp24["total"] == 198
    assert sum(exp24["categories"].values()) == exp24["total"]
    assert len(exp24["categories"]) == 5
    for cat, subs in exp24["subcategories"].items():
        assert sum(subs.values()) == exp24["categories"][cat], cat
    assert exp24["levels"] is None


def test_stated_counts_2025(exp25):
    assert exp25["document"] == "晋市政办〔2025〕6号"
    assert exp25["total"] is None  # the list states no grand total
    assert exp25["levels"] is None
    assert len(exp25["categories"]) == 5
    for cat, subs in exp25["subcategories"].items():
        assert sum(subs.values()) == exp25["categories"][cat], cat
    assert any("no grand total" in n for n in exp25["notes"])


def test_2024_has_198(df24, exp24):
    assert len(df24) == 198 == exp24["total"]
    assert sorted(df24.seq) == list(range(1, 199))
    assert list(df24.seq) == list(range(1, 199))


@pytest.mark.parametrize("year", [2024, 2025])
def test_counts_match_document(year, df24, df25, exp24, exp25):
    df, exp = (df24, exp24) if year == 2024 else (df25, exp25)
    got = df.groupby("category", sort=False).size().to_dict()
    assert got == exp["categories"]
    assert list(got) == list(exp["categories"])  # published order
    for cat, subs in exp["subcategories"].items():
        g = df[df.category == cat].groupby("subcategory", sort=False).size().to_dict()
        assert g == subs, cat
    if exp["total"] is not None:
        assert len(df) == exp["total"]
    else:
        assert len(df) == sum(exp["categories"].values())


def test_2025_sequences(df25):
    for cat, g in df25.groupby("category", sort=False):
        seqs = list(g.seq)
        assert seqs[0] == 1, cat
        for a, b in zip(seqs, seqs[1:]):
            if b == a:
                # a number printed twice: only where the document does so, and flagged
                assert "printed twice" in g[g.seq == b].remarks.iloc[0]
            else:
                assert b == a + 1, (cat, a, b)
    dup = df25[df25.remarks.str.contains("printed twice")]
    assert list(dup.seq) == [50, 50] and set(dup.category) == {"社会民生类"}


# ------------------------------------------------------------------ row content


def test_columns(both):
    for col in [
        "year",
        "document",
        "seq",
        "name",
        "level",
        "category",
        "subcategory",
        "places",
        "county_adcodes",
        "in_development_zone",
        "location_precision",
        "location_note",
        "source_lines",
    ]:
        assert col in both.columns
    assert set(both.year) == {2024, 2025}
    assert set(both.document) == {"晋市政办〔2024〕12号", "晋市政办〔2025〕6号"}
    assert len(both) == 198 + 208


def test_names_clean(both):
    for name in both.name:
        assert name and name.strip() == name
        assert "公报" not in name and "续" not in name and not re.search(r"—\s*\d+\s*—", name)
        assert "序号" not in name and "省重点" not in name and "市重点" not in name
        assert not re.search(r"\s", re.sub(r"[A-Za-z0-9] [A-Za-z0-9]", "", name))
    assert not both.duplicated(["year", "category", "name"]).any()


def test_levels(both):
    assert set(both.level) <= {"省重点", "市重点"}


def test_counties_are_the_six(both):
    valid = set(COUNTIES)
    for codes, names in zip(both.county_adcodes, both.counties):
        codes = [c for c in codes.split(",") if c]
        assert set(codes) <= valid
        assert [COUNTIES[c] for c in codes] == [n for n in names.split("、") if n]


def test_location_precision(both):
    county = both.county_adcodes != ""
    assert (both.location_precision[county] == "county").all()
    assert (both.location_precision[~county] == "city").all()
    assert (both.location_note[~county] != "").all()
    dz_only = both.in_development_zone & ~county
    assert dz_only.sum() > 0
    assert both.location_note[dz_only].str.contains("development zone").all()
    assert not both.places.str.contains(r"\s").any()


def test_source_lines(both):
    for f, span in zip(both.source_file, both.source_lines):
        a, b = map(int, span.split("-"))
        if f == P.FILE_2024:
            assert 4505 <= a <= b <= 6085
        else:
            assert 2677 <= a <= b <= 3450


def test_known_rows(df24, df25):
    r = df24[df24.seq == 1].iloc[0]
    assert r["name"] == "华耀视窗触控防护玻璃面板项目" and r.level == "市重点"
    assert r.in_development_zone and r.county_adcodes == "" and r.location_precision == "city"
    r = df24[df24.seq == 120].iloc[0]
    assert r["name"] == "张峰水库晋城调水工程"
    assert r.county_adcodes == "140502,140525,140522,140521"
    # cell split by a blank line in the extraction, rejoined
    r = df24[df24.seq == 138].iloc[0]
    assert r.places == "泽州县、高平市、阳城县、陵川县、沁水县" and "split" in r.remarks
    r = df24[df24.seq == 198].iloc[0]
    assert r["name"] == "农村黑臭水体治理试点工程" and r.places == "全市"
    # truncated place '水 县' → the only county ending in 水县, flagged
    r = df24[df24.seq == 83].iloc[0]
    assert r.county_adcodes == "140521" and "inferred" in r.location_note
    r = df25[(df25.category == "能源革命类") & (df25.seq == 16)].iloc[0]
    assert r["name"] == "科兴煤矿配采项目" and r.components.count("；") == 2
    r = df25[(df25.category == "产业转型类") & (df25.seq == 26)].iloc[0]
    assert r.places == "各县（市、区）" and r.county_adcodes == ""
    r = df25[(df25.category == "产业转型类") & (df25.seq == 12)].iloc[0]
    assert r["name"] == "兴高能源40万吨无烟煤配煤炼焦配套余热发电提效改造项目"


def test_components_2025():
    c = P.parse_key_project_components_2025(P.SOURCES_DIR / P.FILE_2025)
    assert len(c) == 22
    assert set(c.level) <= {"省重点", "市重点"}
    r = c[(c.seq == 46) & (c.component_no == 2)].iloc[0]
    assert r.places == "泽州县" and r.county_adcodes == "140525"
