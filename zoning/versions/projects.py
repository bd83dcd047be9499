"""Two key-project lists compared: continuing, new, dropped, and changed level or category.

Lists are published again each year (晋市政办〔2024〕12号, 晋市政办〔2025〕6号) and the same
project is often worded a little differently (``（前期）`` added, ``一期`` dropped, a number
rewritten). :func:`compare_projects` matches projects by name, tolerant of such changes:
first names equal after normalisation (brackets, spaces and punctuation removed,
full-width digits made ASCII), then names equal once the words every list puts around a
name are set aside (a leading 山西 / 晋城市 / county name, a trailing 项目 / 工程), then the
most similar remaining pair above :data:`MIN_SIMILARITY` (difflib's ratio of those cores),
one to one, best pairs first; two names whose figures differ (``60万吨`` and ``40万吨``,
``120MW`` and ``100MW``; years aside) are never paired by similarity. Every match is shown
with both names and its similarity, so a reader can judge it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MIN_SIMILARITY", "ProjectComparison", "ProjectMatch", "compare_projects", "normalise_name"]

#: Smallest similarity (0–1) at which two differently worded names are the same project.
MIN_SIMILARITY = 0.8

_BRACKETS = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")
_NOISE = re.compile(r"[\s\-—–_·•、，,。.；;：:“”\"'‘’/]+")


def normalise_name(name: Any) -> str:
    """A project name for matching: NFKC (full-width to ASCII), bracketed remarks such as
    ``（前期）`` and punctuation removed, lower case."""
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = _BRACKETS.sub("", text)
    return _NOISE.sub("", text).lower()


#: Words lists put around a name: a place before it, a kind of undertaking after it.
_PREFIXES = ("山西省", "山西", "晋城市", "晋城", "晋创谷晋城", "沁水县", "阳城县", "陵川县", "泽州县", "高平市",
             "沁水", "阳城", "陵川", "泽州", "高平")
_SUFFIXES = ("建设项目", "工程项目", "项目", "工程")
_FIGURES = re.compile(r"\d+(?:\.\d+)?")


def _core(key: str) -> str:
    """A normalised name without the place before it and the 项目 / 工程 after it."""
    changed = True
    while changed:
        changed = False
        for p in _PREFIXES:
            if key.startswith(p) and len(key) > len(p) + 2:
                key, changed = key[len(p):], True
        for sfx in _SUFFIXES:
            if key.endswith(sfx) and len(key) > len(sfx) + 2:
                key, changed = key[:-len(sfx)], True
    return key


def _figures(key: str) -> frozenset[str]:
    """The figures in a name, years (19xx, 20xx) aside."""
    return frozenset(f for f in _FIGURES.findall(key) if not (len(f) == 4 and f[:2] in ("19", "20")))


def _category(value: Any) -> str:
    """A category for comparison: 2025 writes ``产业转型类`` where 2024 wrote ``产业转型``."""
    text = str(value or "").strip()
    return text[:-1] if text.endswith("类") else text


@dataclass(frozen=True)
class ProjectMatch:
    """A project found in both lists."""

    old_id: str
    new_id: str
    old_name: str
    new_name: str
    similarity: float
    #: ``{field: (old, new)}`` for level and category where they differ
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return self.similarity >= 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_id": self.old_id, "new_id": self.new_id, "old_name": self.old_name, "new_name": self.new_name,
            "similarity": round(self.similarity, 3), "changes": {k: list(v) for k, v in self.changes.items()},
        }


@dataclass
class ProjectComparison:
    """The result of :func:`compare_projects`."""

    old_label: str
    new_label: str
    n_old: int
    n_new: int
    continuing: list[ProjectMatch]
    new: list[tuple[str, str]]
    dropped: list[tuple[str, str]]

    @property
    def changed(self) -> list[ProjectMatch]:
        return [m for m in self.continuing if m.changes]

    @property
    def reworded(self) -> list[ProjectMatch]:
        return [m for m in self.continuing if not m.exact]

    def counts(self) -> dict[str, int]:
        level = sum("level" in m.changes for m in self.continuing)
        category = sum("category" in m.changes for m in self.continuing)
        return {
            "old": self.n_old, "new_list": self.n_new, "continuing": len(self.continuing),
            "matched_exactly": sum(m.exact for m in self.continuing), "matched_reworded": len(self.reworded),
            "new": len(self.new), "dropped": len(self.dropped), "changed": len(self.changed),
            "level_changed": level, "category_changed": category,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old_label, "new": self.new_label, "counts": self.counts(),
            "continuing": [m.to_dict() for m in self.continuing],
            "new_projects": [{"id": i, "name": n} for i, n in self.new],
            "dropped_projects": [{"id": i, "name": n} for i, n in self.dropped],
        }

    def to_text(self, lang: str = "zh", *, limit: int | None = 20) -> str:
        zh = lang == "zh"
        c = self.counts()
        lines = [
            (f"重点项目 {self.old_label} → {self.new_label}: 原 {c['old']} 个, 新 {c['new_list']} 个; 延续 {c['continuing']} "
             f"(名称相同 {c['matched_exactly']}, 措辞有变 {c['matched_reworded']}), 新增 {c['new']}, 退出 {c['dropped']}, "
             f"级别变化 {c['level_changed']}, 类别变化 {c['category_changed']}") if zh else
            (f"key projects {self.old_label} → {self.new_label}: {c['old']} before, {c['new_list']} after; continuing "
             f"{c['continuing']} ({c['matched_exactly']} same name, {c['matched_reworded']} reworded), new {c['new']}, "
             f"dropped {c['dropped']}, level changed {c['level_changed']}, category changed {c['category_changed']}")
        ]

        def cut(items: list[Any]) -> list[Any]:
            return items if limit is None else items[:limit]

        def more(items: list[Any]) -> None:
            if limit is not None and len(items) > limit:
                lines.append(f"    … ({len(items) - limit} {'个未列出' if zh else 'more'})")

        if self.reworded:
            lines.append("  名称措辞有变的匹配 (相似度):" if zh else "  matched despite rewording (similarity):")
            for m in cut(self.reworded):
                lines.append(f"    {m.old_name} ≈ {m.new_name} ({m.similarity:.2f})")
            more(self.reworded)
        if self.changed:
            lines.append("  级别或类别变化:" if zh else "  level or category changed:")
            for m in cut(self.changed):
                what = "; ".join(f"{k} {a} → {b}" for k, (a, b) in m.changes.items())
                lines.append(f"    {m.new_name}: {what}")
            more(self.changed)
        for title, items in (("新增" if zh else "new", self.new), ("退出" if zh else "dropped", self.dropped)):
            if items:
                lines.append(f"  {title}:")
                lines.extend(f"    {name} [{pid}]" for pid, name in cut(items))
                more(items)
        return "\n".join(lines)


def compare_projects(old: pd.DataFrame, new: pd.DataFrame, *, old_label: str = "old", new_label: str = "new",
                     min_similarity: float = MIN_SIMILARITY) -> ProjectComparison:
    """Compare two project lists (frames with ``project_id``, ``name``, ``level``, ``category``)."""

    def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
        out = []
        for i, r in enumerate(df.to_dict("records")):
            key = normalise_name(r.get("name"))
            out.append({"id": str(r.get("project_id") or f"#{i}"), "name": str(r.get("name") or ""),
                        "key": key, "core": _core(key), "figures": _figures(key), "level": str(r.get("level") or ""),
                        "category": str(r.get("category") or "")})
        return out

    a, b = rows(old), rows(new)
    pairs: list[tuple[int, int, float]] = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    by_key: dict[str, list[int]] = {}
    for j, r in enumerate(b):
        by_key.setdefault(r["key"], []).append(j)
    for i, r in enumerate(a):  # equal names first
        for j in by_key.get(r["key"], []):
            if j not in used_b and r["key"]:
                pairs.append((i, j, 1.0))
                used_a.add(i)
                used_b.add(j)
                break
    by_core: dict[str, list[int]] = {}
    for j, r in enumerate(b):
        if j not in used_b:
            by_core.setdefault(r["core"], []).append(j)
    for i, r in enumerate(a):  # then equal cores
        if i in used_a or not r["core"]:
            continue
        for j in by_core.get(r["core"], []):
            if j not in used_b:
                ratio = difflib.SequenceMatcher(None, r["key"], b[j]["key"], autojunk=False).ratio()
                pairs.append((i, j, ratio))
                used_a.add(i)
                used_b.add(j)
                break
    rest_a = [i for i in range(len(a)) if i not in used_a]
    rest_b = [j for j in range(len(b)) if j not in used_b]
    candidates: list[tuple[float, int, int]] = []
    for i in rest_a:
        sm = difflib.SequenceMatcher(autojunk=False)
        sm.set_seq2(a[i]["core"])
        for j in rest_b:
            if a[i]["figures"] != b[j]["figures"]:
                continue
            sm.set_seq1(b[j]["core"])
            if sm.real_quick_ratio() < min_similarity or sm.quick_ratio() < min_similarity:
                continue
            ratio = sm.ratio()
            if ratio >= min_similarity:
                candidates.append((ratio, i, j))
    for ratio, i, j in sorted(candidates, key=lambda t: (-t[0], t[1], t[2])):
        if i in used_a or j in used_b:
            continue
        pairs.append((i, j, ratio))
        used_a.add(i)
        used_b.add(j)
    matches = []
    for i, j, ratio in sorted(pairs, key=lambda t: t[1]):
        ra, rb = a[i], b[j]
        changes = {}
        if ra["level"] != rb["level"]:
            changes["level"] = (ra["level"], rb["level"])
        if _category(ra["category"]) != _category(rb["category"]):
            changes["category"] = (ra["category"], rb["category"])
        matches.append(ProjectMatch(ra["id"], rb["id"], ra["name"], rb["name"], ratio, changes))
    return ProjectComparison(
        old_label=old_label, new_label=new_label, n_old=len(a), n_new=len(b), continuing=matches,
        new=[(b[j]["id"], b[j]["name"]) for j in range(len(b)) if j not in used_b],
        dropped=[(a[i]["id"], a[i]["name"]) for i in range(len(a)) if i not in used_a],
    )
