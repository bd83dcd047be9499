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

from zoning.core.rules import Rule, RuleVerdict, evaluate_rule, validate_project
from zoning.core.vocab import (
    CLEAR,
    CONDITIONAL,
    CONTROL,
    CONTROL_RANK,
    MEMBERSHIP_ATTRIBUTES,
    NEEDS_CONFIRMATION,
    OBLIGATIONS,
    PROHIBITED,
    PROTECTION,
    PROTECTION_RANK,
    STATUS_LABELS,
    VERDICT_LABELS,
    VERDICTS,
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


def _strictest_first(classes: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Classes ordered protection (strictest first), control (highest first), then the rest."""
    order = {PROTECTION: 0, CONTROL: 1}
    ranks = {PROTECTION: PROTECTION_RANK, CONTROL: CONTROL_RANK}
    return sorted(dict.fromkeys(classes), key=lambda kc: (order.get(kc[0], 2), -ranks.get(kc[0], {}).get(kc[1], 0)))


def applicable_rules(rules: Iterable[Rule], classes: Iterable[tuple[str, str]]) -> list[tuple[Rule, str | None, str | None]]:
    """The rules of every class the place lies in (each rule once, with the strictest of
    its classes there), then the city-wide rules (those with no zone selector).

    "以最严格的保护级别确定" (123号) is read as the strictest *outcome* for the project: where
    layers overlap (a 准保护区 inside a 泉域重点保护区, say), the rules of both classes are
    evaluated and :func:`overall_verdict` keeps the strictest; the governing class
    (:func:`governing_classes`) is for display."""
    ordered = _strictest_first(classes)
    out: list[tuple[Rule, str | None, str | None]] = []
    citywide: list[tuple[Rule, str | None, str | None]] = []
    for rule in rules:
        if not rule.applies_to:
            citywide.append((rule, None, None))
            continue
        for kind, cls in ordered:
            if any(sel.kind == kind and cls in sel.classes for sel in rule.applies_to):
                out.append((rule, kind, cls))
                break
    return out + citywide


def _membership(
    project: dict | None, uncertain: Iterable[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Split the classes a place may lie in into those the project settles (its own
    statement, e.g. ``in_central_area=true``) and those still uncertain."""
    settled_in: list[tuple[str, str]] = []
    still: list[tuple[str, str]] = []
    for kind, cls in dict.fromkeys(uncertain):
        attr = MEMBERSHIP_ATTRIBUTES.get(cls)
        stated = (project or {}).get(attr) if attr else None
        if stated is True:
            settled_in.append((kind, cls))
        elif stated is None:
            still.append((kind, cls))
    return settled_in, still


def _possibly(verdict: RuleVerdict, rule: Rule, cls: str) -> RuleVerdict:
    """The verdict of a rule that binds only if the place lies in ``cls``, which it may."""
    attr = MEMBERSHIP_ATTRIBUTES.get(cls, cls)
    if verdict.status in ("not_applicable", "not_in_force", "information"):
        return verdict
    return RuleVerdict(rule.id, "unknown", tuple(dict.fromkeys((*verdict.missing, attr))),
                       f"{rule.citation} binds only in {cls}; whether the site lies in it is uncertain "
                       f"(indicative outline): confirm {attr}; as it stands: {verdict.reason}")


def evaluate_place(
    rules: Iterable[Rule],
    hits: Iterable[tuple[str, str]],
    project: dict | None,
    on_date: dt.date | None = None,
    *,
    uncertain: Iterable[tuple[str, str]] = (),
) -> list[Evaluated]:
    """Evaluate every applicable rule at a place for a project (None: as they stand).

    ``hits``: every (kind, class) the place lies in; ``uncertain``: those it may lie in
    (an indicative extent). A rule that binds only through an uncertain class is
    *possibly applying*: where it would bind, its status is ``unknown`` and the class's
    membership attribute (``in_central_area``...) is named to confirm — never dropped.
    A project's own statement of membership settles it either way."""
    rules = list(rules)
    proj = validate_project(project) if project else project
    certain = [h for h in dict.fromkeys(hits)]
    for hit in list(certain):  # a stated "not in" settles an outline the layer draws
        attr = MEMBERSHIP_ATTRIBUTES.get(hit[1])
        if attr and (proj or {}).get(attr) is False:
            certain.remove(hit)
    settled, maybe = _membership(proj, [u for u in uncertain if u not in certain])
    certain += settled
    out = [Evaluated(rule, evaluate_rule(rule, proj, on_date, validated=True), kind, cls)
           for rule, kind, cls in applicable_rules(rules, certain)]
    seen = {e.rule.id for e in out}
    for rule, kind, cls in applicable_rules(rules, maybe):
        if rule.id in seen or kind is None or cls is None:  # city-wide rules: (rule, None, None)
            continue
        seen.add(rule.id)
        out.append(Evaluated(rule, _possibly(evaluate_rule(rule, proj, on_date, validated=True), rule, cls), kind, cls))
    return out


def overall_verdict(evaluated: Iterable[Evaluated], subject: str | None = None) -> tuple[str, list[Evaluated]]:
    """One verdict and the rules that produced it (of one subject, or of all).

    Only rules addressed to the project count (duties of the authorities and
    information do not). ``needs confirmation`` means a rule that could prohibit or
    condition the project depends on an attribute (or a proviso, or a membership) that
    was not given: an unknown is never taken as "no".
    """
    counted = [e for e in evaluated if e.rule.addressee == "project" and (subject is None or e.rule.subject == subject)]

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
