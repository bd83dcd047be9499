"""The 2025 land-supply quota of 中心城区 (晋市政发〔2025〕5号).

晋城市人民政府关于印发晋城市2025年度国有建设用地供应计划的通知 (``000_*.txt``) fixes the
2025 supply of state-owned construction land in 中心城区: a total (“适当控制在427.674公顷以内”)
and six land-use classes in hectares, plus the principles the plan follows. Every number
is read from the text (never typed in) and kept as printed (``ha_text``: ``5.6480``).
"""

from __future__ import annotations

import re
from pathlib import Path

from zoning.packbuild.projects import SOURCES_DIR, find_line, is_page_noise, read_lines, undouble

FILE = "000_e47b12ca708fa945.txt"

# English labels of the land-use classes (GB/T 21010 and the 国土空间 classification).
CLASS_EN = {
    "商服用地": "Commercial and business services land",
    "工矿仓储用地": "Industrial, mining and warehousing land",
    "住宅用地": "Residential land",
    "公共管理与公共服务用地": "Public administration and public services land",
    "交通运输用地": "Transport land",
    "特殊用地": "Special-use land",
}

_CN = "一二三四五六七八九十"


class _Text:
    """The body of a document as one string without line breaks, blanks or page headers,
    with the source line of each character."""

    def __init__(self, lines: list[str], a: int, b: int):
        chars, where = [], []
        for i in range(a, b):
            raw = lines[i]
            if not raw.strip() or is_page_noise(raw):
                continue
            t = raw.replace("\u3000", " ").strip()
            if t.startswith("（（"):
                t = undouble(t)          # （（一一））总量总量 → （一）总量
            for ch in t:
                if ch.isspace():
                    continue
                chars.append(ch)
                where.append(i + 1)
        self.s = "".join(chars)
        self.where = where

    def lines_of(self, start: int, end: int) -> str:
        return f"{self.where[start]}-{self.where[end - 1]}"


def parse_quota_2025(path: str | Path = SOURCES_DIR / FILE) -> dict:
    """The quota as published: total, the six classes in published order, the principles.

    Returns ``{"year", "document", "document_title", "date", "area_name", "total_ha",
    "total_text", "total_limit", "classes": [{"class_zh", "class_en", "ha", "ha_text",
    "note", "source_lines"}], "principles": [{"no", "text", "source_lines"}],
    "source_file", "source_lines"}``.
    """
    path = Path(path)
    lines = read_lines(path)
    doc_i = find_line(lines, r"^晋市政发〔2025〕5号$")
    m = re.search(r"(晋市政发〔\d{4}〕)\s*(\d+)\s*号", lines[doc_i])
    if not m:
        raise ValueError(f"{path.name}: document number not found")
    document = f"{m.group(1)}{m.group(2)}号"
    end_i = find_line(lines, r"^咨询单位", doc_i)
    body = _Text(lines, doc_i + 1, end_i)
    s = body.s

    title_m = re.search(r"现将《(.+?)》印发", s)
    if not title_m:
        raise ValueError(f"{path.name}: title not found")
    title = title_m.group(1)
    date_m = re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", s)
    if not date_m:
        raise ValueError(f"{path.name}: date not found")
    date = f"{date_m.group(1)}-{int(date_m.group(2)):02d}-{int(date_m.group(3)):02d}"

    # （一）国有建设用地供应总量: “中心城区2025年国有建设用地供应总量适当控制在427.674公顷以内。”
    tm = re.search(
        r"(?P<area>中心城区)(?P<year>\d{4})年(?:度)?国有建设用地供应总量"
        r"(?P<limit>适当控制在)(?P<ha>\d+(?:\.\d+)?)公顷以内", s)
    if not tm:
        raise ValueError(f"{path.name}: total not found")
    total_text = tm.group("ha")

    # （二）国有建设用地供应结构: “中心城区2025年度国有建设用地供应总量中，商服用地55.6958公顷，…。”
    sm = re.search(r"中心城区\d{4}年度?国有建设用地供应总量中，(?P<body>.+?。)", s)
    if not sm:
        raise ValueError(f"{path.name}: structure sentence not found")
    classes = []
    for cm in re.finditer(
        r"(?P<cls>[\u4e00-\u9fff]+?用地)(?P<ha>\d+(?:\.\d+)?)公顷(?:（(?P<note>[^）]*)）)?",
        sm.group("body"),
    ):
        a0, a1 = sm.start("body") + cm.start(), sm.start("body") + cm.end()
        classes.append({
            "class_zh": cm.group("cls"),
            "class_en": CLASS_EN.get(cm.group("cls"), ""),
            "ha": float(cm.group("ha")),
            "ha_text": cm.group("ha"),
            "note": cm.group("note") or "",
            "source_lines": body.lines_of(a0, a1),
        })

    # 坚持以下原则：（一）…；（二）…；…（六）…。 — ends at 二、计划指标
    pm = re.search(r"坚持以下原则：(?P<body>.+?)二、计划指标", s)
    principles = []
    if pm:
        pb, off = pm.group("body"), pm.start("body")
        marks = list(re.finditer(rf"（([{_CN}]+)）", pb))
        # Only the item markers in sequence (一, 二, …), not parentheses inside the text.
        items, want = [], 1
        for mk in marks:
            if mk.group(1) == _cn(want):
                items.append(mk)
                want += 1
        for k, mk in enumerate(items):
            stop = items[k + 1].start() if k + 1 < len(items) else len(pb)
            text = pb[mk.end():stop]
            principles.append({
                "no": mk.group(0),
                "text": text,
                "source_lines": body.lines_of(off + mk.start(), off + stop),
            })

    if len(principles) == 0 or len(classes) == 0:
        raise ValueError(f"{path.name}: principles or classes not found")
    # The document runs from its 文号 to the last line before the 咨询单位 footer.
    last = max(i + 1 for i in range(doc_i, end_i) if lines[i].strip())
    return {
        "year": int(tm.group("year")),
        "document": document,
        "document_title": title,
        "date": date,
        "area_name": tm.group("area"),
        "total_ha": float(total_text),
        "total_text": total_text,
        "total_limit": f"{tm.group('limit')}{total_text}公顷以内",
        "total_source_lines": body.lines_of(tm.start(), tm.end()),
        "classes": classes,
        "principles": principles,
        "source_file": path.name,
        "source_lines": f"{doc_i + 1}-{last}",  # the whole document
    }


def _cn(n: int) -> str:
    if n <= 10:
        return "十" if n == 10 else _CN[n - 1]
    return "十" + _CN[n - 11] if n < 20 else str(n)
