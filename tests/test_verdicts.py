"""Overlap principles of 晋市环发〔2023〕123号 and the reduction of rule verdicts to one."""

from __future__ import annotations

import datetime as dt

import pytest

from zoning.core.rules import load_rules
from zoning.core.verdicts import applicable_rules, evaluate_place, governing_classes, overall_verdict

P, C, E = "groundwater_protection", "groundwater_control", "planning_extent"


@pytest.fixture(scope="module")
def rules(pack):
    return load_rules(pack.rules_dir)


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        ([(P, "二级保护区"), (P, "一级保护区")], [(P, "一级保护区")]),
        ([(P, "泉域重点保护区"), (P, "准保护区")], [(P, "准保护区")]),
        ([(C, "二级管控区"), (C, "一级管控区")], [(C, "一级管控区")]),  # 就高不就低
        ([(C, "一级管控区"), (P, "泉域重点保护区")], [(P, "泉域重点保护区")]),  # control excludes protection
        ([(E, "中心城市规划区"), (E, "中心城区"), (C, "二级管控区")],
         [(E, "中心城市规划区"), (E, "中心城区"), (C, "二级管控区")]),
        ([], []),
    ],
)
def test_governing_classes(hits, expected):
    assert governing_classes(hits) == expected


def test_rules_follow_the_governing_zone_only(rules):
    picked = applicable_rules(rules, governing_classes([(C, "二级管控区"), (C, "一级管控区")]))
    zoned = {r.id for r, kind, cls in picked if cls}
    assert "JSH-2023-124-A11" in zoned  # 第十一条, 一级管控区
    assert not any(cls == "二级管控区" for _, _, cls in picked)
    citywide = [r for r, _, cls in picked if cls is None]
    assert citywide and all(not r.applies_to for r in citywide)


def test_unknown_attribute_is_never_no(rules):
    evaluated = evaluate_place(rules, [(P, "一级保护区")], {}, dt.date(2025, 1, 1))
    verdict, producing = overall_verdict(evaluated)
    assert verdict == "needs confirmation"
    first = next(e for e in producing if e.rule.id == "JSH-2023-124-A01")
    assert first.verdict.status == "unknown" and "construction" in first.verdict.missing


def test_prohibited_beats_everything(rules):
    project = {"construction": "new", "water_supply_related": False}
    verdict, producing = overall_verdict(evaluate_place(rules, [(P, "一级保护区")], project, dt.date(2025, 1, 1)))
    assert verdict == "prohibited"
    assert [e.rule.article for e in producing] == ["第一条"]


def test_not_in_force_counts_for_nothing(rules):
    project = {"construction": "new", "water_supply_related": False}
    evaluated = evaluate_place(rules, [(P, "一级保护区")], project, dt.date(2023, 12, 31))
    first = next(e for e in evaluated if e.rule.id == "JSH-2023-124-A01")
    assert first.verdict.status == "not_in_force"
    assert overall_verdict(evaluated)[0] != "prohibited"
