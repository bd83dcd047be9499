"""What the page script is given to answer "what applies here?" itself.

The page cannot call Python: it receives the vocabulary (:func:`zoning.core.vocab.for_script`),
the rules in a JSON form (:func:`rules_payload`) and the project attributes those rules
read (:func:`attributes_payload`), and computes county, zones, governing classes and the
verdict from them as :func:`zoning.query.query_point` does (parity tests hold it to that).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from zoning.core import vocab

if TYPE_CHECKING:
    from zoning.core.rules import AnyOf, Predicate, Rule


def conditions_json(conds: Iterable[Predicate | AnyOf]) -> list[dict[str, Any]]:
    """Conditions as JSON: ``{"attr", "op", "value"}`` or ``{"any_of": [[...], ...]}``."""
    from zoning.core.rules import AnyOf

    out: list[dict[str, Any]] = []
    for c in conds:
        if isinstance(c, AnyOf):
            out.append({"any_of": [conditions_json(g) for g in c.groups]})
        else:
            value = list(c.value) if isinstance(c.value, tuple) else c.value
            out.append({"attr": c.attr, "op": c.op, "value": value})
    return out


def rule_json(rule: Rule, lang: str) -> dict[str, Any]:
    """One rule as the page evaluates and shows it."""
    inf = rule.in_force
    return {
        "id": rule.id,
        "citation": rule.citation,
        "cite": f"{rule.document} {rule.article}".strip(),
        "effect": rule.effect,
        "addressee": rule.addressee,
        "applies_to": [{"kind": s.kind, "classes": list(s.classes)} for s in rule.applies_to],
        "conditions": conditions_json(rule.conditions),
        "exceptions": [{"conditions": conditions_json(x.conditions), "effect": x.effect,
                        "text": x.text, "summary": x.summary_en} for x in rule.exceptions],
        "in_force": {"from": inf.from_.isoformat(), "to": inf.to.isoformat() if inf.to else None},
        "heading": rule.heading or "",
        "text": rule.text,
        "summary": rule.summary_en if lang == "en" else "",
    }


def rules_payload(rules: Iterable[Rule], lang: str) -> list[dict[str, Any]]:
    """Every rule, in catalogue order (the order :func:`applicable_rules` walks)."""
    return [rule_json(r, lang) for r in rules]


def _attrs_of(conds: Iterable[Predicate | AnyOf]) -> list[str]:
    from zoning.core.rules import AnyOf

    out: list[str] = []
    for c in conds:
        if isinstance(c, AnyOf):
            for g in c.groups:
                out.extend(_attrs_of(g))
        else:
            out.append(c.attr)
    return out


def attributes_payload(rules: Iterable[Rule], lang: str) -> list[dict[str, Any]]:
    """The project attributes the rules read (conditions and exceptions), in the order of
    :data:`zoning.core.rules.PROJECT_ATTRIBUTES`, with their labels and allowed values."""
    from zoning.core.rules import PROJECT_ATTRIBUTES

    used: set[str] = set()
    for r in rules:
        used.update(_attrs_of(r.conditions))
        for x in r.exceptions:
            used.update(_attrs_of(x.conditions))
    out = []
    for name, spec in PROJECT_ATTRIBUTES.items():
        if name not in used:
            continue
        out.append({
            "name": name,
            "type": spec.type,
            "label": spec.zh if lang == "zh" else spec.en,
            "unit": spec.unit,
            "values": [[v.value, v.zh if lang == "zh" else v.en] for v in spec.values],
        })
    return out


def answer_payload(lang: str) -> dict[str, Any]:
    """The vocabulary and the names the answer needs (no class is spelt in the script)."""
    return {
        "vocab": vocab.for_script(lang),
        "extent_classes": {"planning": vocab.PLANNING_AREA, "central": vocab.CENTRAL_AREA},
        "county_kind": vocab.COUNTIES,
        "extent_kind": vocab.EXTENT,
        # the codes overall_verdict and evaluate_rule work with, by role
        "codes": {
            "verdict": {"prohibited": vocab.PROHIBITED, "needs_confirmation": vocab.NEEDS_CONFIRMATION,
                        "conditional": vocab.CONDITIONAL, "obligations": vocab.OBLIGATIONS,
                        "clear": vocab.CLEAR},
            "effect": {e: e for e in vocab.EFFECTS},
            "status": {s: s for s in vocab.RULE_STATUSES},
            "official": vocab.OFFICIAL,
            "to_project": "project",
        },
    }
