"""The 2025 land-supply quota of 中心城区 parsed from 晋市政发〔2025〕5号."""

from __future__ import annotations

import re

import pytest

from zoning.packbuild.projects import SOURCES_DIR, is_page_noise, undouble
from zoning.packbuild.quota import FILE, parse_quota_2025

SOURCE = SOURCES_DIR / FILE
pytestmark = pytest.mark.skipif(not SOURCE.exists(), reason="gazette source not present")


@pytest.fixture(scope="module")
def quota():
    return parse_quota_2025(SOURCE)


@pytest.fixture(scope="module")
def source_text():
    """The source without whitespace and page headers, doubled headings undone."""
    out = []
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        if is_page_noise(line):
            continue
        t = re.sub(r"\s+", "", line)
        out.append(undouble(t) if t.startswith("（（") else t)
    return "".join(out)


def test_identity(quota):
    assert quota["year"] == 2025
    assert quota["document"] == "晋市政发〔2025〕5号"
    assert quota["document_title"] == "晋城市2025年度国有建设用地供应计划"
    assert quota["area_name"] == "中心城区"
    assert quota["date"] == "2025-03-28"
    a, b = map(int, quota["source_lines"].split("-"))
    assert a == 883 and 970 < b <= 1010


def test_total(quota):
    assert quota["total_ha"] == 427.674
    assert quota["total_text"] == "427.674"


def test_classes(quota):
    classes = quota["classes"]
    assert len(classes) == 6
    assert [c["class_zh"] for c in classes] == [
        "商服用地",
        "工矿仓储用地",
        "住宅用地",
        "公共管理与公共服务用地",
        "交通运输用地",
        "特殊用地",
    ]
    assert all(c["class_en"] for c in classes)
    assert abs(sum(c["ha"] for c in classes) - quota["total_ha"]) < 0.001
    # as published, trailing zero included
    assert classes[-1]["ha_text"] == "5.6480"
    assert classes[2]["note"] == "均为普通商品房用地"


def test_numbers_are_in_the_source(quota, source_text):
    assert f"{quota['total_text']}公顷" in source_text
    for c in quota["classes"]:
        assert f"{c['class_zh']}{c['ha_text']}公顷" in source_text


def test_principles(quota, source_text):
    ps = quota["principles"]
    assert [p["no"] for p in ps] == ["（一）", "（二）", "（三）", "（四）", "（五）", "（六）"]
    for p in ps:
        assert p["text"]
        assert re.sub(r"\s+", "", p["text"]) in source_text
        a, b = map(int, p["source_lines"].split("-"))
        assert 883 <= a <= b <= 1010
    assert any("养老、教育、医疗、殡葬" in p["text"] and "随用随供" in p["text"] for p in ps)


def test_no_artefacts(quota):
    texts = [p["text"] for p in quota["principles"]] + [quota["document_title"]]
    for t in texts:
        assert "公报" not in t and "续" not in t and "—" not in t
        assert not re.search(r"\s", t)
