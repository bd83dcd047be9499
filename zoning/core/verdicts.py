"""Which rules apply where, and the verdict they add up to (pure functions).

A place is described by the zones it lies in: ``(kind, zone_class)`` pairs such as
``("groundwater_control", "一级管控区")`` or ``("planning_extent", "中心城区")``.
:func:`governing_classes` applies the overlap principles of 晋市环发〔2023〕123号 (the
strictest protection class governs; control levels 就高不就低; protection class is taken
out of control class); :func:`applicable_rules` picks the rules of the governing zones
plus the city-wide rules; :func:`evaluate_place` evaluates them for a project and
:func:`overall_verdict` reduces the verdicts to one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from zoning.core.rules import Rule, RuleVerdict, evaluate_rule
from zoning.core.vocab import (
    CLEAR, CONDITIONAL, CONTROL, CONTROL_RANK, NEEDS_CONFIRMATION, OBLIGATIONS, PROHIBITED, PROTECTION,
    PROTECTION_RANK, STATUS_LABELS, VERDICT_LABELS, VERDICTS,
)

__all__ = ["CONTROL_RANK", "PROTECTION_RANK", "STATUS_LABELS", "VERDICTS", "VERDICT_LABELS", "Evaluated",
           "applicable_rules", "evaluate_place", "governing_classes", "overall_verdict"]

@dataclass(frozen=True)
class Evaluated:
    """A rule with its verdict at a place."""

    rule: Rule
    verdict: RuleVerdict
    zone_kind: str | None
    zone_class: str | None


def governing_classes(hits: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The zones whose rules govern, from all the zones a place lies in.

    Protection: only the strictest class. Control: only the highest level, and none at
    all where a protection class applies (control class excludes protection class).
    Planning extents all apply (中心城区 lies within 中心城市规划区).
    """
    hits = list(dict.fromkeys(hits))
    prot = [c for k, c in hits if k == PROTECTION and c in PROTECTION_RANK]
    ctrl = [c for k, c in hits if k == CONTROL and c in CONTROL_RANK]
    out = [(k, c) for k, c in hits if k not in (PROTECTION, CONTROL)]
    if prot:
        out.append((PROTECTION, max(prot, key=PROTECTION_RANK.__getitem__)))
    elif ctrl:
        out.append((CONTROL, max(ctrl, key=CONTROL_RANK.__getitem__)))
    return out


def applicable_rules(rules: Iterable[Rule], governing: Iterable[tuple[str, str]]) -> list[tuple[Rule, str | None, str | None]]:
    """Rules of the governing zones, then city-wide rules (those with no zone selector)."""
    governing = list(governing)
    out: list[tuple[Rule, str | None, str | None]] = []
    citywide: list[tuple[Rule, str | None, str | None]] = []
    for rule in rules:
        if not rule.applies_to:
            citywide.append((rule, None, None))
            continue
        for kind, cls in governing:
            if any(sel.kind == kind and cls in sel.classes for sel in rule.applies_to):
                out.append((rule, kind, cls))
                break
    return out + citywide


def evaluate_place(
    rules: Iterable[Rule],
    hits: Iterable[tuple[str, str]],
    project: dict | None,
    on_date: dt.date | None = None,
) -> list[Evaluated]:
    """Evaluate every applicable rule at a place for a project (None: as they stand)."""
    governing = governing_classes(hits)
    return [
        Evaluated(rule, evaluate_rule(rule, project, on_date), kind, cls)
        for rule, kind, cls in applicable_rules(rules, governing)
    ]


def overall_verdict(evaluated: Iterable[Evaluated]) -> tuple[str, list[Evaluated]]:
    """One verdict and the rules that produced it.

    Only rules addressed to the project count (duties of the authorities and
    information do not). ``needs confirmation`` means a rule that could prohibit or
    condition the project depends on an attribute that was not given: an unknown is
    never taken as "no".
    """
    counted = [e for e in evaluated if e.rule.addressee == "project"]

    def with_status(*statuses: str, effects: tuple[str, ...] | None = None) -> list[Evaluated]:
        return [e for e in counted if e.verdict.status in statuses and (effects is None or e.rule.effect in effects)]

    if found := with_status("prohibited"):
        return PROHIBITED, found
    if found := with_status("unknown", effects=("prohibited", "conditional")):
        return NEEDS_CONFIRMATION, found
    if found := with_status("conditional"):
        return CONDITIONAL, found
    if found := with_status("obligation") + with_status("unknown", effects=("obligation",)):
        return OBLIGATIONS, found
    return CLEAR, []
