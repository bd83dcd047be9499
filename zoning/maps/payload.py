"""What the page script is given to answer "what applies here?" itself.

The page cannot call Python: it receives the vocabulary (:func:`zoning.core.vocab.for_script`),
the rules in a JSON form (:func:`rules_payload`) and the project attributes those rules
read (:func:`attributes_payload`), and computes county, zones, governing classes and the
verdict from them as :func:`zoning.query.query_point` does (parity tests hold it to that).
"""

from __future__ import annotations

import unicodedata
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
        "subject": rule.subject,
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


#: the attribute whose value is resolved through GB/T 4754-2017 (:func:`industries_payload`)
INDUSTRY_ATTRIBUTE = "industry"


def attributes_payload(rules: Iterable[Rule], lang: str) -> list[dict[str, Any]]:
    """The project attributes the rules read (conditions and exceptions) and those that
    settle a membership the layers leave uncertain (:data:`zoning.core.vocab.MEMBERSHIP_ATTRIBUTES`),
    in the order of :data:`zoning.core.rules.PROJECT_ATTRIBUTES`, with their labels, allowed
    values and the other words :func:`zoning.core.rules.validate_project` accepts for a value
    (``accept``: the Chinese label and the aliases, e.g. 打井). The industry is typed as text
    (``free_text``) and resolved through :func:`industries_payload`."""
    from zoning.core.rules import FALSE_WORDS, PROJECT_ATTRIBUTES, TRUE_WORDS

    used: set[str] = set(vocab.MEMBERSHIP_ATTRIBUTES.values())
    for r in rules:
        used.update(_attrs_of(r.conditions))
        for x in r.exceptions:
            used.update(_attrs_of(x.conditions))
    out = []
    for name, spec in PROJECT_ATTRIBUTES.items():
        if name not in used:
            continue
        free = name == INDUSTRY_ATTRIBUTE
        if spec.type == "bool":  # the words validate_project reads as yes and no
            accept: dict[str, Any] = {**dict.fromkeys(sorted(TRUE_WORDS), True), **dict.fromkeys(sorted(FALSE_WORDS), False)}
        else:
            accept = {} if free else {w: v.value for v in spec.values for w in (v.zh, *v.aliases)}
        out.append({
            "name": name,
            "type": spec.type,
            "label": spec.zh if lang == "zh" else spec.en,
            "unit": spec.unit,
            "values": [[v.value, v.zh if lang == "zh" else v.en] for v in spec.values],
            "accept": accept,
            "free_text": free,
        })
    return out


def industries_payload(lang: str) -> dict[str, Any]:
    """What the page needs to resolve a typed industry as :func:`zoning.core.rules.validate_project`
    does, precomputed here (the page cannot run :mod:`zoning.core.industries`).

    ``groups``: the distinct group tuples (a group prefixed :data:`zoning.core.rules.POSSIBLE`
    is only possible: a broad code whose narrower codes are in it); ``codes``: every GB/T
    4754-2017 code of the shipped table (门类 letters and 2–4 digit codes) → ``[tuple index,
    standard name]`` (the page also finds a code by its standard name, the finer code when a
    name is printed at two levels, and takes the nearest listed ancestor of an unlisted code);
    ``words``: every group word, label and id (NFKC, lower case) → tuple index;
    ``sections``: the 门类 letter of each 大类 (to check ``C2710``); ``suggest``: the group
    labels offered in the form's list beside the codes.
    """
    from zoning.core.industries import groups, standard
    from zoning.core.rules import validate_project

    tuples: list[tuple[str, ...]] = []
    index: dict[tuple[str, ...], int] = {}

    def of(value: str) -> int:
        t = tuple(validate_project({INDUSTRY_ATTRIBUTE: value})[INDUSTRY_ATTRIBUTE])
        if t not in index:
            index[t] = len(tuples)
            tuples.append(t)
        return index[t]

    codes = {code: [of(code), e.name] for code, e in standard().items()}
    words: dict[str, int] = {}
    for g in groups().values():
        for w in (g.id, g.zh, g.en, *g.words):
            key = unicodedata.normalize("NFKC", " ".join(w.split())).lower()
            if key and key not in words:
                words[key] = of(w)
    suggest = [g.zh if lang == "zh" else g.en for g in groups().values()]
    table = standard()
    sections = {code: e.parent for code, e in table.items() if e.level == "大类" and e.parent}
    return {"groups": [list(t) for t in tuples], "codes": codes, "words": words, "sections": sections,
            "suggest": suggest}


def answer_payload(lang: str) -> dict[str, Any]:
    """The vocabulary and the names the answer needs (no class is spelt in the script)."""
    from zoning.core.rules import POSSIBLE

    return {
        "vocab": vocab.for_script(lang),
        "extent_classes": {"planning": vocab.PLANNING_AREA, "central": vocab.CENTRAL_AREA},
        "county_kind": vocab.COUNTIES,
        "extent_kind": vocab.EXTENT,
        "quota_kind": vocab.QUOTA,
        # the codes overall_verdict and evaluate_rule work with, by role
        "codes": {
            "verdict": {"prohibited": vocab.PROHIBITED, "needs_confirmation": vocab.NEEDS_CONFIRMATION,
                        "conditional": vocab.CONDITIONAL, "obligations": vocab.OBLIGATIONS,
                        "clear": vocab.CLEAR},
            "effect": {e: e for e in vocab.EFFECTS},
            "status": {s: s for s in vocab.RULE_STATUSES},
            "official": vocab.OFFICIAL,
            "to_project": "project",
            # an industry group an industry may belong to (zoning.core.rules.POSSIBLE)
            "possible": POSSIBLE,
            "membership": {"yes": vocab.YES, "no": vocab.NO, "uncertain": vocab.UNCERTAIN},
        },
    }
