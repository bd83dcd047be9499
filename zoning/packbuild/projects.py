"""Key-project lists (省市重点工程项目名单) parsed from the municipal gazette.

Two lists are parsed from the plain-text extractions in ``layers/jincheng/sources``:

* 晋市政办〔2025〕6号, 晋城市2025年省市重点工程项目名单 (``000_*.txt``): one table per
  category (一、产业转型类 … 五、社会民生类), sequence numbers restart in each, rows mostly
  intact ("seq name level place") but with names and places wrapped over several lines,
  and grouped rows (one sequence number, a group name in a narrow cell, several
  sub-projects each with its own level and place).
* 晋市政办〔2024〕12号, 晋城市2024年省市重点工程项目名单 (``001_*.txt``): 198 projects
  numbered 1–198, but the extraction wrote each printed page column by column (all the
  sequence numbers with the sub-category headings, then all the names, then the levels,
  then the places), so rows are reassembled page by page and checked by count.

The counts each document states (headings such as ``（九）现代农业（6项）``, ``合计（198个）``)
are parsed by :func:`expected_counts_2025` / :func:`expected_counts_2024`, never typed in.

Locations: the lists give only the place of construction as a county name, the
development zone (晋城经济技术开发区), or the city as a whole (市区, 全市, 各县（市、区）).
A county adcode is recorded only when a county is named; the development zone is not a
county (``in_development_zone``), and no coordinate is ever invented.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import pandas as pd

from zoning.packbuild.counties import COUNTIES

SOURCES_DIR = Path(__file__).resolve().parents[2] / "layers" / "jincheng" / "sources"
FILE_2025 = "000_e47b12ca708fa945.txt"
FILE_2024 = "001_b15999e637248622.txt"
DOC_2025 = "晋市政办〔2025〕6号"
DOC_2024 = "晋市政办〔2024〕12号"

COLUMNS = [
    "year", "document", "seq", "name", "level", "category", "subcategory", "components",
    "stage", "places", "county_adcodes", "counties", "in_development_zone",
    "location_precision", "location_note", "remarks", "source_file", "source_lines",
]

LEVELS = ("省重点", "市重点")
DEV_ZONE = "晋城经济技术开发区"
_NAME_TO_ADCODE = {name: code for code, name in COUNTIES.items()}
# City-level places: they name no county.
_CITY_PLACES = {
    "市区": "市区 (the city proper) names no county",
    "全市": "全市 (the whole city) names no county",
    "各县（市、区）": "各县（市、区） (every county) names no single county",
}
_PLACE_VOCAB = sorted(
    [*COUNTIES.values(), DEV_ZONE, *_CITY_PLACES], key=len, reverse=True
)


# --------------------------------------------------------------------------- text helpers

_PAGE_NOISE = [
    re.compile(r"人民政府公报"),                       # 晋城市人民政府公报２ / 2025• 市政府文件 •
    re.compile(r"^续\s*表$"),                          # 续　　表
    re.compile(r"^—+\s*\d+\s*—*$"),                    # — 4 —, —— 44
    re.compile(r"^序\s*号\s*项\s*目\s*名\s*称"),        # repeated table header
]


def read_lines(path: str | Path) -> list[str]:
    """The file's lines, 1-based through index ``i - 1``, with trailing whitespace cut."""
    return Path(path).read_text(encoding="utf-8").splitlines()


def clean(s: str) -> str:
    """Strip and collapse whitespace; drop the blanks PDF extraction puts between CJK
    characters and between CJK and Latin/digits (``城 区``, ``年产 800 万片``), keeping a
    blank only between two ASCII letters/digits."""
    s = s.replace("\u3000", " ").strip()
    s = re.sub(r"\s+", " ", s)
    return re.sub(r" (?![A-Za-z0-9])|(?<![A-Za-z0-9]) ", "", s)


def is_page_noise(line: str) -> bool:
    """Page headers/footers and repeated table headers inserted by pagination."""
    s = line.replace("\u3000", " ").strip()
    return any(p.search(s) for p in _PAGE_NOISE)


def undouble(s: str) -> str:
    """Undo the doubled bold headings of the extraction.

    ``（（一一））高端装备制造产业链高端装备制造产业链（（22个个））`` → ``（一）高端装备制造产业链（2个）``:
    the text is a sequence of runs each written twice; take the shortest run that repeats at
    each position. Return ``s`` unchanged when it is not entirely made of doubled runs.
    """
    t = re.sub(r"\s+", "", s)
    out, i = [], 0
    while i < len(t):
        for k in range(1, (len(t) - i) // 2 + 1):
            if t[i:i + k] == t[i + k:i + 2 * k]:
                out.append(t[i:i + k])
                i += 2 * k
                break
        else:
            return s
    return "".join(out)


def split_places(text: str) -> list[str]:
    """Segment a place cell (``城 区、泽州县``, ``泽州县 高平市阳城县 沁水县``, ``晋城经济技术开发区``)
    into known places. Raises ``ValueError`` on anything else."""
    t = re.sub(r"\s+", "", text)
    out, i = [], 0
    while i < len(t):
        if t[i] in "、，,":
            i += 1
            continue
        for tok in _PLACE_VOCAB:
            if t.startswith(tok, i):
                out.append(tok)
                i += len(tok)
                break
        else:
            raise ValueError(f"unknown place in {text!r} at {t[i:]!r}")
    return out


def _garbled_county(token: str) -> str | None:
    """A place printed with its first character lost (``水 县``, ``城 县``): the county whose
    name ends with it, when exactly one does."""
    hits = [n for n in COUNTIES.values() if n.endswith(token) and n != token]
    return hits[0] if len(hits) == 1 else None


def split_places_lenient(text: str) -> tuple[list[str], list[str]]:
    """Like :func:`split_places`, but a cell that is a truncated county name (``水县``)
    is returned as printed in the second list."""
    t = re.sub(r"\s+", "", text)
    try:
        return split_places(t), []
    except ValueError:
        if _garbled_county(t):
            return [], [t]
        raise


def locate(places: list[str], garbled: Sequence[str] = ()) -> dict:
    """County adcodes, development-zone flag, precision and note for a list of places."""
    names: list[str] = []
    notes: list[str] = []
    for p in places:
        if p in _NAME_TO_ADCODE and p not in names:
            names.append(p)
    for g in garbled:
        county = _garbled_county(g)
        if county is None:
            msg = f"place '{g}' is no truncated county name (see split_places_lenient)"
            raise ValueError(msg)
        if county not in names:
            names.append(county)
        notes.append(
            f"place printed as '{g}' (first character lost in the extraction); "
            f"{county} is the only county whose name ends in '{g}': adcode inferred"
        )
    dz = DEV_ZONE in places
    if dz and not names:
        notes.append(f"{DEV_ZONE} is a development zone, not a county: no county adcode")
    elif dz:
        notes.append(f"also in {DEV_ZONE}")
    for p in places:
        if p in _CITY_PLACES:
            notes.append(_CITY_PLACES[p] + ": no county adcode")
    return {
        "counties": "、".join(names),
        "county_adcodes": ",".join(_NAME_TO_ADCODE[n] for n in names),
        "in_development_zone": dz,
        "location_precision": "county" if names else "city",
        "location_note": "; ".join(notes),
    }


def _stage(name: str) -> str:
    return "前期" if "（前期）" in name else ""


def _span(lines: list[int]) -> str:
    return f"{min(lines)}-{max(lines)}"


def find_line(lines: list[str], pattern: str, start: int = 0) -> int:
    rx = re.compile(pattern)
    for i in range(start, len(lines)):
        if rx.search(re.sub(r"\s+", "", lines[i])):
            return i
    raise ValueError(f"pattern {pattern!r} not found")


# --------------------------------------------------------------------------- headings

_CAT_RX = re.compile(r"^([一二三四五六七八九十]+)、(.+?)（(\d+)(?:项|个)）$")
_SUB_RX = re.compile(r"^（([一二三四五六七八九十]+)）(.+?)（(\d+)(?:项|个)）$")
_TOTAL_RX = re.compile(r"^合计（(\d+)(?:项|个)）$")


def _heading(line: str) -> tuple[str, str, int] | None:
    """('total'|'category'|'subcategory', name, stated count) for a heading line."""
    t = re.sub(r"\s+", "", line)
    for cand in (t, undouble(t)):
        if m := _TOTAL_RX.match(cand):
            return "total", "合计", int(m.group(1))
        if m := _CAT_RX.match(cand):
            return "category", m.group(2), int(m.group(3))
        if m := _SUB_RX.match(cand):
            return "subcategory", m.group(2), int(m.group(3))
    return None


@dataclass
class _Stated:
    document: str
    total: int | None = None
    categories: dict[str, int] = field(default_factory=dict)
    subcategories: dict[str, dict[str, int]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, name: str, n: int, lineno: int, category: str | None) -> None:
        if kind == "total":
            self.total = n
            self.lines["合计"] = lineno
        elif kind == "category":
            self.categories[name] = n
            self.subcategories.setdefault(name, {})
            self.lines[name] = lineno
        else:
            if category is None:
                msg = f"line {lineno}: subcategory {name!r} before any category"
                raise ValueError(msg)
            self.subcategories.setdefault(category, {})[name] = n
            self.lines[f"{category}/{name}"] = lineno

    def as_dict(self, notes: list[str]) -> dict:
        return {
            "document": self.document,
            "total": self.total,
            "categories": dict(self.categories),
            "subcategories": {k: dict(v) for k, v in self.subcategories.items()},
            "levels": None,
            "heading_lines": dict(self.lines),
            "notes": notes,
        }


# --------------------------------------------------------------------------- 2025


def _region_2025(lines: list[str]) -> tuple[int, int]:
    doc = find_line(lines, r"^晋市政办〔2025〕6号$")
    start = find_line(lines, r"^晋城市2025年省市重点工程项目名单$", doc)
    end = find_line(lines, r"^抄送：", start)
    return start + 1, end


def _split_level(text: str) -> tuple[str, str, str] | None:
    m = re.search(r"(?:^|\s)(省重点|市重点)(?:\s|$)", text)
    if not m:
        return None
    return text[: m.start()].strip(), m.group(1), text[m.end():].strip()


def _parse_2025(path: str | Path) -> tuple[pd.DataFrame, _Stated]:
    path = Path(path)
    lines = read_lines(path)
    a, b = _region_2025(lines)
    stated = _Stated(DOC_2025)
    category = subcategory = None
    records: list[dict] = []
    cur: dict | None = None

    def close():
        nonlocal cur
        if cur is not None:
            records.append(cur)
        cur = None

    for i in range(a, b):
        raw = lines[i]
        lineno = i + 1
        if not raw.strip() or is_page_noise(raw):
            continue
        h = _heading(raw)
        if h:
            close()
            kind, name, n = h
            stated.add(kind, name, n, lineno, category)
            if kind == "category":
                category, subcategory = name, None
            elif kind == "subcategory":
                subcategory = name
            continue
        s = raw.replace("\u3000", " ").strip()
        m = re.match(r"^(\d+)(?:\s+(.*))?$", s)
        prev = records[-1]["seq"] if records and records[-1]["category"] == category else 0
        if cur is not None and cur["category"] == category:
            prev = cur["seq"]
        if m and int(m.group(1)) in (prev + 1, prev):
            close()
            cur = {"seq": int(m.group(1)), "category": category,
                   "subcategory": subcategory, "lines": []}
            if m.group(2):
                cur["lines"].append((lineno, m.group(2)))
            cur["seq_line"] = lineno
            continue
        if cur is None:
            raise ValueError(f"{path.name}:{lineno}: text outside a row: {s!r}")
        cur["lines"].append((lineno, s))
    close()

    rows = []
    for r in records:
        rows.append(_row_2025(r, path))
    df = pd.DataFrame(rows)
    # A sequence number printed twice within a category: keep it, say so.
    dup = df.duplicated(["category", "seq"], keep=False)
    for idx in df.index[dup]:
        other = df[(df.category == df.at[idx, "category"]) & (df.seq == df.at[idx, "seq"])]
        subs = "、".join(other.subcategory)
        note = (f"sequence number {df.at[idx, 'seq']} is printed twice in this category "
                f"({subs}); kept as printed")
        df.at[idx, "remarks"] = "; ".join(x for x in (df.at[idx, "remarks"], note) if x)
    return df, stated


class _Component(TypedDict):
    """A sub-project of a grouped row: its name, level, places and source lines."""

    name: str
    level: str
    places: list[str]
    lines: list[int]


def _row_2025(r: dict, path: Path) -> dict:
    body = r["lines"]
    linenos = [r["seq_line"]] + [n for n, _ in body]
    where = f"{path.name}:{r['seq_line']}"
    splits = [(k, sp) for k, (_, t) in enumerate(body) if (sp := _split_level(t))]
    if not splits:
        raise ValueError(f"{where}: row without a level")
    level_idx = [k for k, _ in splits]
    remarks = ""
    parts: list[_Component]
    if len(splits) == 1:
        k, (before, level, after) = splits[0]
        name = clean("".join(t for _, t in body[:k]) + before)
        place_text = " ".join([after] + [t for _, t in body[k + 1:]])
        levels = [level]
        places = split_places(place_text)
        components = ""
        parts = []
    else:
        # Grouped row: a group name in the narrow first cell (short lines before the first
        # sub-project), then sub-projects "name level place" (names may wrap).
        k0 = 0
        while k0 < level_idx[0] and len(clean(body[k0][1])) <= 4:
            k0 += 1
        name = clean("".join(t for _, t in body[:k0]))
        if not name:
            raise ValueError(f"{where}: grouped row without a group name")
        comps: list[_Component] = []
        levels, places, acc = [], [], []
        for k in range(k0, len(body)):
            lineno, t = body[k]
            sp = _split_level(t)
            if sp:
                before, level, after = sp
                acc.append((lineno, before))
                cplaces = split_places(after)
                comps.append({"name": clean("".join(x for _, x in acc)), "level": level,
                              "places": cplaces, "lines": [n for n, _ in acc]})
                levels.append(level)
                places.extend(p for p in cplaces if p not in places)
                acc = []
            elif level_idx[-1] < k:        # a place wrapped below the last sub-project
                extra = split_places(t)
                comps[-1]["places"].extend(extra)
                comps[-1]["lines"].append(lineno)
                places.extend(p for p in extra if p not in places)
            else:
                acc.append((lineno, t))
        parts = comps
        components = "；".join(c["name"] for c in comps)
        remarks = f"grouped row of {len(comps)} sub-projects (see components)"
    if not name:
        raise ValueError(f"{where}: empty name")
    lv = list(dict.fromkeys(levels))
    loc = locate(places)
    return {
        "year": 2025, "document": DOC_2025, "seq": r["seq"], "name": name,
        "level": "、".join(lv), "category": r["category"], "subcategory": r["subcategory"],
        "components": components, "stage": _stage(name + components),
        "places": "、".join(places), **loc, "remarks": remarks,
        "source_file": path.name, "source_lines": _span(linenos),
        "_parts": parts,
    }


def parse_key_projects_2025(path: str | Path = SOURCES_DIR / FILE_2025) -> pd.DataFrame:
    """One row per numbered project of 晋市政办〔2025〕6号 (grouped rows keep their
    sub-projects in ``components``; :func:`parse_key_project_components_2025` lists them
    with their own level and place)."""
    return _parse_2025(path)[0][COLUMNS]


def parse_key_project_components_2025(
    path: str | Path = SOURCES_DIR / FILE_2025,
) -> pd.DataFrame:
    """The sub-projects of the grouped rows of 晋市政办〔2025〕6号 (e.g. 能源革命类 16
    科兴煤矿配采项目: three mines), one row each with its own level and place."""
    df = _parse_2025(path)[0]
    rows = []
    for _, r in df.iterrows():
        for k, c in enumerate(r["_parts"], start=1):
            rows.append({
                "year": 2025, "document": DOC_2025, "category": r["category"],
                "subcategory": r["subcategory"], "seq": r["seq"], "group_name": r["name"],
                "component_no": k, "name": c["name"], "level": c["level"],
                "places": "、".join(c["places"]), **locate(c["places"]),
                "source_file": r["source_file"], "source_lines": _span(c["lines"]),
            })
    return pd.DataFrame(rows)


def expected_counts_2025(path: str | Path = SOURCES_DIR / FILE_2025) -> dict:
    """The counts 晋市政办〔2025〕6号 states in its headings: per category (``一、产业转型类
    （62 项）``) and per sub-category (``（一）特钢材料产业链（1 项）``). The list states no
    grand total and no count by level: ``total`` and ``levels`` are ``None``."""
    stated = _parse_2025(path)[1]
    notes = [
        "the document states no grand total (no 合计 line): total is None; the sum of the "
        f"stated category counts is {sum(stated.categories.values())}",
        "the document states no count by level (省重点/市重点): levels is None",
    ]
    return stated.as_dict(notes)


# --------------------------------------------------------------------------- 2024


def _region_2024(lines: list[str]) -> tuple[int, int]:
    doc = find_line(lines, r"^晋市政办〔2024〕12号$")
    start = find_line(lines, r"^晋城市2024年省市重点工程项目名单$", doc)
    nxt = find_line(lines, r"〔20\d\d〕\d+号$", start)          # the next document
    end = max(i for i in range(start, nxt)
              if re.match(r"^序\s*号\s*项\s*目", lines[i].strip()))
    return start + 1, end + 1


def _items(lines: list[str], a: int, b: int) -> list[tuple[list[int], str]]:
    """Blocks of consecutive non-blank lines (one printed cell each, in the extraction's
    layout), as (line numbers, text joined)."""
    out, cur = [], []
    for i in range(a, b):
        raw = lines[i]
        if raw.strip() and not is_page_noise(raw):
            cur.append(i + 1)
        else:
            if cur:
                out.append(cur)
            cur = []
            if raw.strip() and is_page_noise(raw):
                out.append([-(i + 1)])               # page break marker
    if cur:
        out.append(cur)
    res = []
    for block in out:
        if block[0] < 0:
            res.append((block, "<PAGE>"))
        else:
            res.append((block, "\n".join(lines[n - 1].strip() for n in block)))
    return res


def _classify(text: str) -> str:
    if text == "<PAGE>":
        return "page"
    first = text.split("\n")
    if all(re.fullmatch(r"\d+", t.strip()) or _heading(t) for t in first):
        return "seqs"
    if all(t.strip() in LEVELS for t in first):
        return "levels"
    try:
        split_places_lenient(text)
        return "place"
    except ValueError:
        return "name"


def _parse_2024(path: str | Path) -> tuple[pd.DataFrame, _Stated, list[str]]:
    path = Path(path)
    lines = read_lines(path)
    a, b = _region_2024(lines)
    stated = _Stated(DOC_2024)
    category = subcategory = None
    pages: list[dict] = []
    page = None
    notes: list[str] = []

    def new_page():
        return {"seqs": [], "names": [], "levels": [], "places": []}

    page = new_page()
    for block, text in _items(lines, a, b):
        kind = _classify(text)
        if kind == "page":
            if any(page.values()):
                pages.append(page)
            page = new_page()
        elif kind == "seqs":
            for n in block:
                t = lines[n - 1].strip()
                h = _heading(t)
                if h:
                    k, name, cnt = h
                    stated.add(k, name, cnt, n, category)
                    if k == "category":
                        category, subcategory = name, None
                    elif k == "subcategory":
                        subcategory = name
                else:
                    page["seqs"].append((int(t), n, category, subcategory))
        elif kind == "levels":
            page["levels"].extend((lines[n - 1].strip(), n) for n in block)
        elif kind == "place":
            page["places"].append((text, block, ""))
        else:
            page["names"].append((text, block))
    if any(page.values()):
        pages.append(page)

    rows = []
    for pg in pages:
        n = len(pg["seqs"])
        if not n:
            if any(pg.values()):
                raise ValueError(f"{path.name}: page with cells but no sequence numbers")
            continue
        first = pg["seqs"][0][1]
        places = _reconcile_places(pg["places"], n, path.name, first, notes)
        if not (len(pg["names"]) == len(pg["levels"]) == len(places) == n):
            raise ValueError(
                f"{path.name}:{first}: page has {n} sequence numbers, "
                f"{len(pg['names'])} names, {len(pg['levels'])} levels, "
                f"{len(places)} places"
            )
        for (seq, sl, cat, sub), (name, nl), (level, ll), (ptxt, pl, premark) in zip(
            pg["seqs"], pg["names"], pg["levels"], places
        ):
            name = clean(name.replace("\n", ""))
            plist, garbled = split_places_lenient(ptxt)
            loc = locate(plist, garbled)
            rows.append({
                "year": 2024, "document": DOC_2024, "seq": seq, "name": name,
                "level": level, "category": cat, "subcategory": sub, "components": "",
                "stage": _stage(name),
                "places": "、".join(plist + garbled), **loc,
                "remarks": premark,
                "source_file": path.name,
                "source_lines": _span([sl, *nl, ll, *pl]),
            })
    df = pd.DataFrame(rows)[COLUMNS]
    return df, stated, notes


def _n_places(text: str) -> int:
    try:
        return len(split_places(text))
    except ValueError:
        return 0


def _reconcile_places(places, n, fname, first_line, notes):
    """A multi-line place cell is sometimes split by a blank line (e.g. ``泽州县 高平市 /
    阳城县 陵川县 // 沁水县``), giving more place cells than rows on the page. Merge a
    single-place cell into the cell before it when that cell is a multi-line cell of
    full two-place rows — and only when exactly as many such candidates exist as surplus
    cells; otherwise leave it to the count check to fail."""
    surplus = len(places) - n
    if surplus <= 0:
        return places
    cands = []
    for k in range(1, len(places)):
        prev_text = places[k - 1][0]
        text = places[k][0]
        prev_rows = prev_text.split("\n")
        full = len(prev_rows) >= 2 and all(_n_places(r) == 2 for r in prev_rows)
        if full and "\n" not in text and _n_places(text) == 1:
            cands.append(k)
    if len(cands) != surplus:
        return places
    out = list(places)
    for k in reversed(cands):
        (pt, pb, _), (t, b, _) = out[k - 1], out[k]
        remark = (f"place cell split by a blank line in the extraction: line {b[0]} "
                  f"('{clean(t)}') joined to lines {pb[0]}-{pb[-1]}")
        notes.append(f"{fname}: {remark}")
        out[k - 1] = (pt + "\n" + t, pb + b, remark)
        del out[k]
    return out


def parse_key_projects_2024(path: str | Path = SOURCES_DIR / FILE_2024) -> pd.DataFrame:
    """The 198 projects of 晋市政办〔2024〕12号, rows reassembled from the columns."""
    return _parse_2024(path)[0]


def expected_counts_2024(path: str | Path = SOURCES_DIR / FILE_2024) -> dict:
    """The counts 晋市政办〔2024〕12号 states: ``合计（198个）``, each category
    (``一、产业转型（66 个）``) and each sub-category (``（一）高端装备制造产业链（2个）``).
    No count by level is stated: ``levels`` is ``None``."""
    _, stated, notes = _parse_2024(path)
    return stated.as_dict(
        ["the document states no count by level (省重点/市重点): levels is None", *notes]
    )


# --------------------------------------------------------------------------- both


def key_projects(sources_dir: str | Path = SOURCES_DIR) -> pd.DataFrame:
    """Both lists, 2024 then 2025, with the columns of :data:`COLUMNS`."""
    d = Path(sources_dir)
    df = pd.concat(
        [parse_key_projects_2024(d / FILE_2024), parse_key_projects_2025(d / FILE_2025)],
        ignore_index=True,
    )
    df["year"] = df["year"].astype(int)
    df["seq"] = df["seq"].astype(int)
    return df
