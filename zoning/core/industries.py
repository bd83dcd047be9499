"""Industries: GB/T 4754-2017 国民经济行业分类 and the groups the articles name.

The articles name industries in words (化工, 采煤, 开山采石…); planners' tables and project
codes name them by the national classification GB/T 4754-2017 (门类 A–T, 大类 2 digits,
中类 3, 小类 4). This module reads both as data (``zoning/data/gbt4754_2017.csv`` and
``zoning/data/industry_groups.toml``) and resolves what a planner writes into an
:class:`Industry`: the code, its standard name and level, and every group whose codes cover
it (a group code covers itself and all its descendants; a code is never given the groups
of its descendants: 10 非金属矿采选业 is mining, not quarrying; 101 土砂石开采 is both).

Pure functions; the data are read once (cached). Errors are
:class:`zoning.core.errors.RuleError` with a one-line message.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType

from zoning.core.errors import RuleError

__all__ = ["LEVELS", "Group", "Industry", "StandardEntry", "descendant_groups", "groups", "industry_label",
           "resolve_industry", "standard"]

#: levels of the standard, broadest first, and the level of a group that has no single code
LEVELS: tuple[str, ...] = ("门类", "大类", "中类", "小类")
GROUP_LEVEL = "group"

_LEVEL_EN = {"门类": "section", "大类": "division", "中类": "group", "小类": "class"}
_CODE_RE = re.compile(r"^(?:[A-T]|\d{2,4})$")
#: "C2614", "C 26" — a 门类 letter written before a numeric code
_LETTER_CODE_RE = re.compile(r"^([A-T])\s*(\d{2,4})$")
#: "2710 化学药品原料药制造", "2710化学药品原料药制造", "化学药品原料药制造（2710）", "C26 化学…"
_CODE_NAME_RE = re.compile(r"^(?:[A-T]\s*)?(\d{2,4}|[A-T])(?=[^\dA-Za-z])[\s:：、.．-]*(.+)$")
_NAME_CODE_RE = re.compile(r"^(.+?)\s*[（(]\s*(?:[A-T]\s*)?(\d{2,4}|[A-T])\s*[）)]$")


@dataclass(frozen=True)
class StandardEntry:
    """One row of the GB/T 4754-2017 table."""

    level: str
    code: str
    name: str
    parent: str | None


@dataclass(frozen=True)
class Group:
    """An industry group the articles name (an ``industry`` value)."""

    id: str
    zh: str
    en: str
    words: tuple[str, ...]
    codes: tuple[str, ...]
    named_in: tuple[str, ...]
    reading: str | None = None
    word_codes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False, compare=False)


@dataclass(frozen=True)
class Industry:
    """What a planner's value resolves to.

    ``code`` is None for a group without a single code (工业聚集区, 尾矿库, or a word that
    names a group of several codes); ``level`` is then ``"group"`` and ``name`` the group's
    Chinese label. ``detail`` keeps a code more specific than the shipped table (``2614``)
    when the value resolved to its nearest listed ancestor (``26``).
    """

    code: str | None
    name: str
    level: str
    groups: tuple[str, ...]
    detail: str | None = None


# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------


def _data_text(name: str) -> str:
    return resources.files("zoning").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def standard() -> Mapping[str, StandardEntry]:
    """The shipped GB/T 4754-2017 table, by code (门类 letters, 2–4 digit codes)."""
    out: dict[str, StandardEntry] = {}
    for row in csv.DictReader(io.StringIO(_data_text("gbt4754_2017.csv"))):
        level, code, name, parent = row["level"], row["code"].strip(), row["name"].strip(), row["parent"].strip()
        if level not in LEVELS:
            raise RuleError(f"gbt4754_2017.csv: code {code}: unknown level {level!r}")
        if code in out:
            raise RuleError(f"gbt4754_2017.csv: code {code} listed twice")
        out[code] = StandardEntry(level, code, name, parent or None)
    return MappingProxyType(out)


@lru_cache(maxsize=1)
def groups() -> Mapping[str, Group]:
    """The industry groups, by id (the values of the ``industry`` attribute)."""
    data = tomllib.loads(_data_text("industry_groups.toml"))
    out: dict[str, Group] = {}
    for gid, g in data["groups"].items():
        out[gid] = Group(
            id=gid,
            zh=g["zh"],
            en=g["en"],
            words=tuple(g.get("words", ())),
            codes=tuple(g.get("codes", ())),
            named_in=tuple(g.get("named_in", ())),
            reading=g.get("reading"),
            word_codes=MappingProxyType(dict(g.get("word_codes", {}))),
        )
    return MappingProxyType(out)


@cache
def descendant_groups(code: str) -> frozenset[str]:
    """The groups a code narrower than ``code`` belongs to (C 制造业: 化工 and others may
    apply); computed once per code."""
    table = standard()
    return frozenset(g.id for g in groups().values()
                     if any(c != code and c in table and code in _ancestors(c) for c in g.codes))


def _ancestors(code: str) -> list[str]:
    """The code and its ancestors in the shipped table, most specific first."""
    table = standard()
    chain = []
    c: str | None = code
    while c is not None:
        chain.append(c)
        c = table[c].parent
    return chain


@cache
def _groups_of(code: str) -> tuple[str, ...]:
    chain = set(_ancestors(code))
    return tuple(sorted(gid for gid, g in groups().items() if chain.intersection(g.codes)))


@lru_cache(maxsize=1)
def _names() -> Mapping[str, str]:
    """Standard name → code; a name printed at two levels (061/0610) gives the finer code."""
    out: dict[str, str] = {}
    for code, e in standard().items():
        prev = out.get(e.name)
        if prev is None or LEVELS.index(e.level) > LEVELS.index(standard()[prev].level):
            out[e.name] = code
    return MappingProxyType(out)


@lru_cache(maxsize=1)
def _words() -> Mapping[str, tuple[str, ...]]:
    """Short word (and group id, English label) → the group ids it names."""
    out: dict[str, list[str]] = {}
    for gid, g in groups().items():
        for w in (gid, g.zh, g.en, *g.words):
            key = _norm(w).lower()
            if gid not in out.setdefault(key, []):
                out[key].append(gid)
    return MappingProxyType({k: tuple(v) for k, v in out.items()})


# ---------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------


def _norm(value: str) -> str:
    """NFKC (full-width digits and letters to ASCII), trimmed, inner runs of spaces to one."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()


def _entry(code: str, detail: str | None = None) -> Industry:
    e = standard()[code]
    return Industry(e.code, e.name, e.level, _groups_of(code), detail)


def _from_code(code: str, original: str) -> Industry:
    """A well-formed code: the table's entry, or its nearest listed ancestor."""
    table = standard()
    if code in table:
        return _entry(code)
    for n in range(len(code) - 1, 1, -1):
        if code[:n] in table:
            return _entry(code[:n], detail=code)
    raise RuleError(
        f"industry {original!r}: {code} is not a GB/T 4754-2017 code (no 大类 {code[:2]}); "
        "give a code such as 26, 2710 or C, a standard name, or a group word such as 化工"
    )


def _suggest(value: str) -> str:
    pool = list(_names()) + [w for w in _words() if not w.isascii()] + list(groups())
    close = difflib.get_close_matches(value, pool, n=5, cutoff=0.4)
    if not close:
        close = [n for n in pool if value and (value in n or n in value)][:5]
    return ("; did you mean: " + ", ".join(close)) if close else ""


def resolve_industry(value: str) -> Industry:
    """Resolve what a planner writes for a project's industry.

    Accepts a GB/T 4754-2017 code at any level (``"C"``, ``"26"``, ``"261"``, ``"2710"``,
    also ``"C2710"``), a standard name (``"化学原料和化学制品制造业"``), a code with its name
    (``"2710 化学药品原料药制造"``, ``"化学药品原料药制造（2710）"``), or a short word or group
    id (``"化工"``, ``"采煤"``, ``"coal"``). Full-width digits and letters are accepted.

    The groups are every group whose codes cover the code (the code and its ancestors,
    never its descendants). A word names its group(s); when the word means a single code
    (the group has exactly one code, or the word is one of its ``word_codes``) the result
    is that code, with all the groups covering it (采煤 → 06 → coal and mining).

    Raises :class:`RuleError` (one line, naming the value and close matches) when the
    value is none of these, or when a code and a name disagree.
    """
    if not isinstance(value, str):
        raise RuleError(f"industry {value!r}: give a GB/T 4754-2017 code, a standard name or a group word as text")
    v = _norm(value)
    if not v:
        raise RuleError("industry '': empty; give a GB/T 4754-2017 code, a standard name or a group word")
    table, names = standard(), _names()

    up = v.upper()
    if _CODE_RE.match(up) and (up.isdigit() or len(up) == 1):
        return _from_code(up, value)
    if m := _LETTER_CODE_RE.match(up):
        letter, code = m.groups()
        ind = _from_code(code, value)
        if _ancestors(str(ind.code))[-1] != letter:
            raise RuleError(
                f"industry {value!r}: {code} is not in 门类 {letter} ({table[letter].name if letter in table else '?'})"
            )
        return ind
    if v in names:
        return _entry(names[v])
    key = v.lower()
    if key in _words():
        return _from_word(key, v)

    m = _CODE_NAME_RE.match(v) or None
    code, name = (m.group(1), m.group(2).strip()) if m else (None, None)
    if not m and (m2 := _NAME_CODE_RE.match(v)):
        name, code = m2.group(1).strip(), m2.group(2)
    if code is not None and name:
        ind = _from_code(code.upper(), value)
        if ind.detail is None and name != ind.name:
            raise RuleError(f"industry {value!r}: code {ind.code} is {ind.name}, not {name}")
        if ind.detail is not None and name in names:
            # a name we know for an unlisted code: the name must belong to an ancestor
            if names[name] not in _ancestors(str(ind.code)):
                raise RuleError(f"industry {value!r}: {name} is code {names[name]}, not {code}")
        return ind
    raise RuleError(f"industry {value!r}: not a GB/T 4754-2017 code, standard name or group word{_suggest(v)}")


def _from_word(key: str, shown: str) -> Industry:
    gids = _words()[key]
    gs = [groups()[g] for g in gids]
    codes = {c for g in gs for c in ([g.word_codes[w] for w in g.word_codes if _norm(w).lower() == key] or g.codes)}
    if len(codes) == 1:
        code = next(iter(codes))
        ind = _entry(code)
        return Industry(ind.code, ind.name, ind.level, tuple(sorted(set(ind.groups) | set(gids))))
    if len(gs) == 1:
        return Industry(None, gs[0].zh, GROUP_LEVEL, (gs[0].id,))
    return Industry(None, shown, GROUP_LEVEL, tuple(sorted(gids)))


def industry_label(code_or_group: str, lang: str = "zh") -> str:
    """A label for a group id or for anything :func:`resolve_industry` accepts.

    Group ids give the group's label (``coal`` → ``采煤`` / ``coal mining``); codes give the
    code and its standard name (``2710 化学药品原料药制造``; in English ``GB/T 4754-2017
    class 2710 化学药品原料药制造`` — the standard has no official English names).
    """
    if lang not in ("zh", "en"):
        raise RuleError(f"industry_label: unknown language {lang!r}; use zh or en")
    g = groups().get(code_or_group)
    if g is not None:
        return g.zh if lang == "zh" else g.en
    ind = resolve_industry(code_or_group)
    if ind.code is None:
        if len(ind.groups) == 1:
            g = groups()[ind.groups[0]]
            return g.zh if lang == "zh" else g.en
        return ind.name if lang == "zh" else ", ".join(groups()[x].en for x in ind.groups)
    suffix = f"（{ind.detail}）" if ind.detail else ""
    if lang == "zh":
        return f"{ind.code} {ind.name}{suffix}"
    return f"GB/T 4754-2017 {_LEVEL_EN[ind.level]} {ind.code} {ind.name}{suffix}"
