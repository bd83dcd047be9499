"""The one vocabulary: classes, ranks, verdicts and labels live in zoning/core/vocab.py only."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from zoning.core import vocab
from zoning.core.verdicts import governing_classes

PKG = Path(__file__).resolve().parent.parent / "zoning"


def test_ranks_follow_the_overlap_principles():
    # 123号: the strictest protection class governs; 就高不就低 for control levels
    assert sorted(vocab.PROTECTION_RANK, key=vocab.PROTECTION_RANK.get, reverse=True) == [
        "一级保护区", "二级保护区", "准保护区", "泉域重点保护区"]
    assert vocab.CONTROL_RANK["一级管控区"] > vocab.CONTROL_RANK["二级管控区"]
    hits = [(vocab.PROTECTION, "泉域重点保护区"), (vocab.PROTECTION, "准保护区"), (vocab.CONTROL, "一级管控区")]
    assert governing_classes(hits) == [(vocab.PROTECTION, "准保护区")]


def test_every_verdict_has_both_labels_and_colours():
    for v in vocab.ALL_VERDICTS:
        zh, en = vocab.VERDICT_LABELS[v]
        assert zh and en and v in vocab.VERDICT_COLOURS and v in vocab.VERDICT_FILLS
    assert vocab.verdict_label(None) == "未判定"
    assert vocab.verdict_label(vocab.NEEDS_CONFIRMATION, "en") == "needs confirmation"
    for word, code in vocab.VERDICT_ALIASES.items():
        assert code in vocab.ALL_VERDICTS, word


def test_for_script_is_json_and_complete():
    cfg = json.loads(json.dumps(vocab.for_script("en")))
    assert set(cfg["classes"]) == set(vocab.ZONE_CLASSES_BY_NAME)
    assert cfg["classes"]["一级管控区"]["label"] == "一级管控区 (level-1 control zone)"
    assert cfg["verdicts"] == list(vocab.VERDICTS)


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def test_no_class_or_verdict_label_spelled_outside_the_vocabulary():
    """Zone class names and verdict labels appear as string literals only in vocab.py
    (the pack builders, which write the gazettes' tables, and the demonstration-data
    generators are data, not answers)."""
    words = set(vocab.ZONE_CLASSES_BY_NAME) | {zh for zh, _ in vocab.VERDICT_LABELS.values()}
    words |= {en for _, en in vocab.VERDICT_LABELS.values() if " " in en}
    found = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        if rel == "core/vocab.py" or rel.startswith(("packbuild/", "demo/")):
            continue
        for line, text in _string_constants(path):
            hit = [w for w in words if w in text]
            if hit:
                found.append(f"{rel}:{line}: {hit[0]!r} in {text[:60]!r}")
    js = (PKG / "maps" / "static" / "zoning_map.js").read_text(encoding="utf-8")
    found += [f"maps/static/zoning_map.js: {w!r}" for w in words if w in js]
    assert not found, "spelled outside vocab.py:\n" + "\n".join(found)
