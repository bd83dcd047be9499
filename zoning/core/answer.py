"""From hits to answers: the classes a site lies in, those that govern, and the verdict.

Pure functions over the tables of :mod:`zoning.core.hits`; ``zoning query``, ``zoning
check``, the engines and the reports all assemble their answers from these, so one place
gets one answer whichever way it is asked.

:func:`places`
    one row per site: the planning extents (flag and share of the site), the strictest
    protection class and the highest control level it touches (and their overlaps), and
    the **governing** classes after the overlap principles of 晋市环发〔2023〕123号
    (:func:`zoning.core.verdicts.governing_classes`), as a tuple and an integer code.
:class:`Verdicts`
    the verdict of each (governing classes, project) combination, evaluated once and
    cached: the verdict, the articles and rules that produced it, the attributes to
    confirm and the accuracy of the layers it rests on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from zoning.core import vocab
from zoning.core.hits import object_frame
from zoning.core.verdicts import evaluate_place, overall_verdict

if TYPE_CHECKING:
    from zoning.core.context import PackContext
    from zoning.core.hits import Hits

__all__ = ["PLACE_COLUMNS", "VERDICT_COLUMNS", "Ruling", "Verdicts", "describe", "governing_key", "places", "rule_place"]

#: Columns of :func:`places`.
PLACE_COLUMNS: tuple[str, ...] = (
    "in_planning_area", "planning_share", "planning_membership", "in_central_area", "central_share",
    "central_membership", "in_quota_area",
    "protection_class", "protection_m2", "protection_share", "control_class", "control_m2", "control_share",
    "governing_code", "governing", "classes_code", "classes", "uncertain",
)
#: What :meth:`Verdicts.of` returns for a place and a project (and the verdict of each subject).
VERDICT_COLUMNS: tuple[str, ...] = ("verdict", *(f"verdict_{s}" for s in vocab.SUBJECTS), "articles",
                                    "missing_attributes", "rule_ids", "basis_accuracy", "demonstration_basis",
                                    "basis_layers")

_PROT_BITS = 3  # protection ranks 0..4 take 3 bits of the governing code
_CODE_PLANNING, _CODE_CENTRAL = 1, 2


def governing_key(code: int) -> tuple[tuple[str, str], ...]:
    """The governing (kind, class) pairs of a governing code (see :func:`places`)."""
    key: list[tuple[str, str]] = []
    if code & _CODE_PLANNING:
        key.append((vocab.EXTENT, vocab.PLANNING_AREA))
    if code & _CODE_CENTRAL:
        key.append((vocab.EXTENT, vocab.CENTRAL_AREA))
    prot = (code >> 2) & ((1 << _PROT_BITS) - 1)
    ctrl = code >> (2 + _PROT_BITS)
    if prot:
        key.append((vocab.PROTECTION, _class_of_rank(vocab.PROTECTION, prot, code)))
    elif ctrl:
        key.append((vocab.CONTROL, _class_of_rank(vocab.CONTROL, ctrl, code)))
    return tuple(key)


def _class_of_rank(kind: str, rank: int, code: int) -> str:
    """The class of a rank packed into a governing code (:func:`places` packs only ranks of classes)."""
    cls = vocab.class_by_rank(kind, rank)
    if cls is None:
        msg = f"governing code {code} holds {kind} rank {rank}, which no class has"
        raise ValueError(msg)
    return cls


def _lookup(values: np.ndarray, table: dict[str, int], default: int) -> np.ndarray:
    """``table[v]`` for every value, looked up once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([table.get(u, default) for u in uniques] + [default], dtype=np.int64)
    return mapped[codes]


def _sum_by_site(site: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per site: the sum of ``values`` (NaN ignored) and whether any value was a number."""
    ok = ~np.isnan(values)
    total = np.bincount(site[ok], weights=values[ok], minlength=n)
    return total, np.bincount(site[ok], minlength=n) > 0


def _top(cols: dict[str, np.ndarray], kind: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per site: the rank of the strictest class of ``kind`` it touches, that class's
    summed overlap (m²) and share."""
    rank = np.zeros(n, dtype=np.int64)
    m2 = np.full(n, np.nan)
    share = np.full(n, np.nan)
    sel = cols["kind"] == kind
    if not sel.any():
        return rank, m2, share
    ranks = vocab.RANKS[kind]
    r = _lookup(cols["zone_class"][sel], ranks, 0)
    site = cols["site"][sel]
    np.maximum.at(rank, site, r)
    top = r == rank[site]
    total, has = _sum_by_site(site[top], cols["overlap_m2"][sel][top], n)
    m2[has] = total[has]
    s_total, s_has = _sum_by_site(site[top], cols["share"][sel][top], n)
    share[s_has] = np.minimum(s_total[s_has], 1.0)
    return rank, m2, share


def _memberships(ctx: PackContext, hits: Hits, planning: np.ndarray, central: np.ndarray,
                 located: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """yes / no / uncertain membership of 中心城市规划区 and 中心城区.

    With an official extents layer, the drawn outlines decide. With an indicative one
    (晋市政发〔2021〕3号 describes them in words): within the layer's positional accuracy of
    the drawn 规划区 edge, membership of 规划区 is uncertain; the drawn 中心城区 is a lower
    bound inside 规划区 ("中心城区包括中心城市规划区范围内的城区、开发区、泽州县部分区域"), so a site
    possibly in 规划区 but outside the drawn 中心城区 may lie in 中心城区."""
    pm = np.full(len(planning), vocab.NO, dtype=object)
    pm[planning] = vocab.YES
    cm = np.full(len(central), vocab.NO, dtype=object)
    cm[central] = vocab.YES
    spec = ctx.extents_spec
    if spec is None or spec.accuracy == vocab.OFFICIAL or not located.any():
        return pm, cm
    tol = ctx.extent_tolerance_m
    edge = ctx.extent_edges_m.get(vocab.PLANNING_AREA)
    if edge is not None and tol > 0:
        from zoning.core.overlay import project_points

        lon = hits.sites["lon"].to_numpy(dtype=float)
        lat = hits.sites["lat"].to_numpy(dtype=float)
        idx = np.flatnonzero(located & ~central)
        if len(idx):
            minx, miny, maxx, maxy = edge.bounds
            pts = project_points(lon[idx], lat[idx])
            x, y = shapely.get_x(pts), shapely.get_y(pts)
            near_box = (x >= minx - tol) & (x <= maxx + tol) & (y >= miny - tol) & (y <= maxy + tol)
            near = np.zeros(len(idx), dtype=bool)
            if near_box.any():
                near[near_box] = shapely.dwithin(pts[near_box], edge, tol)
            pm[idx[near]] = vocab.UNCERTAIN
    possibly = (pm != vocab.NO) & ~central
    cm[possibly & located] = vocab.UNCERTAIN
    return pm, cm


def places(ctx: PackContext, hits: Hits) -> pd.DataFrame:
    """One row per site: extents, the strictest classes touched, the governing classes.

    Sites not located in the city (:data:`zoning.core.hits.SITE_COLUMNS` ``located``) get
    no classes. A point's shares are 1 (contained) or 0.
    """
    n = len(hits.sites)
    located = hits.sites["located"].to_numpy(dtype=bool)
    t = hits.table
    keep = located[t["site"].to_numpy()] if len(t) else np.zeros(0, dtype=bool)
    cols = {c: t[c].to_numpy()[keep] for c in ("site", "kind", "zone_class")}
    cols.update({c: t[c].to_numpy(dtype=float)[keep] for c in ("overlap_m2", "share")})
    flags = {}
    for cls in (vocab.PLANNING_AREA, vocab.CENTRAL_AREA):
        sel = (cols["kind"] == vocab.EXTENT) & (cols["zone_class"] == cls)
        flag = np.zeros(n, dtype=bool)
        flag[cols["site"][sel]] = True
        share = np.minimum(np.bincount(cols["site"][sel], weights=cols["share"][sel], minlength=n), 1.0)
        share[~located] = np.nan
        flags[cls] = (flag, share)
    prot, prot_m2, prot_share = _top(cols, vocab.PROTECTION, n)
    ctrl, ctrl_m2, ctrl_share = _top(cols, vocab.CONTROL, n)
    planning, central = flags[vocab.PLANNING_AREA][0], flags[vocab.CENTRAL_AREA][0]
    pm, cm = _memberships(ctx, hits, planning, central, located)
    classes_code, class_keys, uncertain_keys = _class_keys(cols, n, pm, cm)
    gov_ctrl = np.where(prot > 0, 0, ctrl)  # control class excludes protection class
    code = (planning * _CODE_PLANNING + central * _CODE_CENTRAL + (prot << 2) + (gov_ctrl << (2 + _PROT_BITS)))
    uniq, inverse = np.unique(code, return_inverse=True)
    keys = np.empty(len(uniq), dtype=object)
    for k, c in enumerate(uniq):
        keys[k] = governing_key(int(c))
    in_quota = np.zeros(n, dtype=bool)
    if ctx.quota_index is not None and located.any():
        lon = hits.sites["lon"].to_numpy(dtype=float)
        lat = hits.sites["lat"].to_numpy(dtype=float)
        idx = np.flatnonzero(located)
        pi, _ = ctx.quota_index.hits(lon[idx], lat[idx])
        in_quota[idx[pi]] = True
    prot_names = np.array([vocab.class_by_rank(vocab.PROTECTION, r) for r in range(max(vocab.PROTECTION_RANK.values()) + 1)],
                          dtype=object)
    ctrl_names = np.array([vocab.class_by_rank(vocab.CONTROL, r) for r in range(max(vocab.CONTROL_RANK.values()) + 1)],
                          dtype=object)
    return object_frame({
        "in_planning_area": planning,
        "planning_share": flags[vocab.PLANNING_AREA][1],
        "planning_membership": np.asarray(pm, dtype=object),
        "in_central_area": central,
        "central_share": flags[vocab.CENTRAL_AREA][1],
        "central_membership": np.asarray(cm, dtype=object),
        "in_quota_area": in_quota,
        "protection_class": prot_names[prot],
        "protection_m2": prot_m2,
        "protection_share": prot_share,
        "control_class": ctrl_names[ctrl],
        "control_m2": ctrl_m2,
        "control_share": ctrl_share,
        "governing_code": code.astype(np.int64),
        "governing": keys[inverse.reshape(-1)],
        "classes_code": classes_code,
        "classes": np.asarray(class_keys, dtype=object),
        "uncertain": np.asarray(uncertain_keys, dtype=object),
    })


_CLASS_BIT = {(c.kind, c.name): 1 << i for i, c in enumerate(vocab.ZONE_CLASS_LIST)}
_UNCERTAIN_SHIFT = len(vocab.ZONE_CLASS_LIST)


def _class_keys(cols: dict[str, np.ndarray], n: int, pm: np.ndarray, cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per site: a code of every class it lies in (and of the extents it may lie in), the
    classes as (kind, class) tuples, and the uncertain ones. The extents follow their
    membership (a site touching the drawn outline near its edge is uncertain, not in)."""
    code = np.zeros(n, dtype=np.int64)
    sel = np.isin(cols["kind"], vocab.ZONE_KINDS)
    if sel.any():
        by_class = {c: b for (_k, c), b in _CLASS_BIT.items()}  # class names are unique across kinds
        bits = _lookup(cols["zone_class"][sel], by_class, 0)
        np.bitwise_or.at(code, cols["site"][sel], bits)
    for cls, m in ((vocab.PLANNING_AREA, pm), (vocab.CENTRAL_AREA, cm)):
        bit = _CLASS_BIT[(vocab.EXTENT, cls)]
        code[m == vocab.YES] |= bit
        code[m == vocab.UNCERTAIN] |= bit << _UNCERTAIN_SHIFT
    uniq, inverse = np.unique(code, return_inverse=True)
    certain = np.empty(len(uniq), dtype=object)
    maybe = np.empty(len(uniq), dtype=object)
    for k, c in enumerate(uniq):
        certain[k] = tuple(kc for kc, b in _CLASS_BIT.items() if c & b)
        maybe[k] = tuple(kc for kc, b in _CLASS_BIT.items() if c & (b << _UNCERTAIN_SHIFT))
    inv = inverse.reshape(-1)
    return code, certain[inv], maybe[inv]


@dataclass(frozen=True, eq=False)
class Ruling:
    """Every rule that applies at a place, evaluated for a project on a date, and the
    verdicts they give: the one ruling behind a query's answer and a check's columns.
    (Compared and hashed by identity: the one of a place is kept, see :func:`rule_place`.)"""

    #: every applicable rule, evaluated (zoning.core.verdicts.Evaluated)
    evaluated: tuple[Any, ...]
    #: the overall verdict (None without a project: the rules as they stand)
    verdict: str | None
    #: the rules that produced it
    producing: tuple[Any, ...]
    #: the project attributes to confirm behind it, in order
    missing: tuple[str, ...]
    #: the verdict of each subject (groundwater, land, approval, water)
    subjects: dict[str, str | None]


def rule_place(ctx: PackContext, classes: Any, project: dict[str, Any] | None, on_date: dt.date | None,
               uncertain: Any = ()) -> Ruling:
    """The :class:`Ruling` at a place lying in ``classes`` (and perhaps in ``uncertain``).

    A pure function of its arguments and the context's rules, so it is computed once per
    (classes, uncertain classes, project, date) and kept with the context (at most
    :data:`RULINGS_KEPT`): a batch, and a served pack, meet the same places again and again."""
    key = (tuple(classes), tuple(uncertain), None if project is None else repr(sorted(project.items())), on_date)
    kept = ctx._cache.setdefault("answer.rulings", {})
    found = kept.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    evaluated = tuple(evaluate_place(ctx.rules, classes, project, on_date, uncertain=uncertain))
    if project is None:
        found = Ruling(evaluated, None, (), (), dict.fromkeys(vocab.SUBJECTS))
    else:
        verdict, producing = overall_verdict(evaluated)
        found = Ruling(evaluated, verdict, tuple(producing),
                       tuple(dict.fromkeys(m for e in producing for m in e.verdict.missing)),
                       {s: overall_verdict(evaluated, s)[0] for s in vocab.SUBJECTS})
    if len(kept) >= RULINGS_KEPT:
        kept.clear()
    kept[key] = found
    return found


#: Rulings kept with a context (each holds its evaluated rules: a few tens of KB).
RULINGS_KEPT = 512


@dataclass
class Verdicts:
    """The verdict of a place for a project, evaluated once per (governing classes, project)."""

    ctx: PackContext
    on_date: dt.date
    _cache: dict[Any, dict[str, Any]] = field(default_factory=dict, repr=False)

    def evaluated(self, classes: tuple, project: dict[str, Any] | None, uncertain: tuple = ()) -> list:
        """Every applicable rule, evaluated: the rules of every class the place lies in,
        those of the classes it may lie in (as possibly applying), and the city-wide ones
        (the kept ruling of :func:`rule_place`)."""
        return list(rule_place(self.ctx, tuple(classes), project, self.on_date, tuple(uncertain)).evaluated)

    def of(self, classes: tuple, project: dict[str, Any], uncertain: tuple = ()) -> dict[str, Any]:
        """:data:`VERDICT_COLUMNS` for one place and project (cached), with the verdict of
        each subject (``verdict_groundwater``...)."""
        key = (tuple(classes), tuple(uncertain), tuple(sorted(project.items())))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        r = rule_place(self.ctx, tuple(classes), project, self.on_date, tuple(uncertain))
        out = {**describe(r), **self.basis()}
        for subject, verdict in r.subjects.items():
            out[f"verdict_{subject}"] = verdict
        self._cache[key] = out
        return out

    def basis(self, kinds: set[str] | None = None) -> dict[str, Any]:
        """The accuracy of the layers an answer rests on: every zone and extent layer the
        place was checked against — that no zone applies rests on them as much as that
        one does."""
        kinds = set(self.ctx.kind_accuracy) if kinds is None else kinds
        acc = vocab.least_accurate(self.ctx.kind_accuracy[k] for k in kinds if k in self.ctx.kind_accuracy)
        layers = [name for k in vocab.CLASSED_KINDS if k in kinds for name in self.ctx.kind_layers.get(k, [])]
        return {"basis_accuracy": acc, "demonstration_basis": acc == vocab.DEMONSTRATION,
                "basis_layers": ", ".join(layers) or None}


def describe(ruling: Ruling) -> dict[str, Any]:
    """The articles, rule ids and attributes to confirm behind a ruling's verdict (the
    check's columns)."""
    from zoning.core.rules import PROJECT_ATTRIBUTES

    producing, missing = ruling.producing, list(ruling.missing)
    return {
        "verdict": ruling.verdict,
        "articles": "；".join(dict.fromkeys(e.rule.citation for e in producing)) or None,
        "missing_attributes": "、".join(
            f"{m} ({PROJECT_ATTRIBUTES[m].zh})" if m in PROJECT_ATTRIBUTES else m for m in missing) or None,
        "missing": missing,
        "rule_ids": ", ".join(dict.fromkeys(e.rule.id for e in producing)) or None,
    }
