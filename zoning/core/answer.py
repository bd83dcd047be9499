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

from zoning.core import vocab
from zoning.core.verdicts import evaluate_place, overall_verdict

if TYPE_CHECKING:
    from zoning.core.context import PackContext
    from zoning.core.hits import Hits

__all__ = ["PLACE_COLUMNS", "VERDICT_COLUMNS", "Verdicts", "governing_key", "places"]

#: Columns of :func:`places`.
PLACE_COLUMNS: tuple[str, ...] = (
    "in_planning_area", "planning_share", "in_central_area", "central_share", "in_quota_area",
    "protection_class", "protection_m2", "protection_share", "control_class", "control_m2", "control_share",
    "governing_code", "governing",
)
#: What :meth:`Verdicts.of` returns for a place and a project.
VERDICT_COLUMNS: tuple[str, ...] = ("verdict", "articles", "missing_attributes", "rule_ids", "basis_accuracy",
                                    "demonstration_basis", "basis_layers")

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
        key.append((vocab.PROTECTION, vocab.class_by_rank(vocab.PROTECTION, prot)))  # type: ignore[arg-type]
    elif ctrl:
        key.append((vocab.CONTROL, vocab.class_by_rank(vocab.CONTROL, ctrl)))  # type: ignore[arg-type]
    return tuple(key)


def _top(table: pd.DataFrame, kind: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per site: the rank of the strictest class of ``kind`` it touches, that class's
    summed overlap (m²) and share."""
    rank = np.zeros(n, dtype=np.int64)
    m2 = np.full(n, np.nan)
    share = np.full(n, np.nan)
    sel = table[table["kind"].to_numpy() == kind]
    if not len(sel):
        return rank, m2, share
    ranks = vocab.RANKS[kind]
    r = np.fromiter((ranks.get(c, 0) for c in sel["zone_class"].to_numpy()), dtype=np.int64, count=len(sel))
    site = sel["site"].to_numpy()
    np.maximum.at(rank, site, r)
    top = r == rank[site]
    g = pd.DataFrame({"site": site[top], "m2": sel["overlap_m2"].to_numpy()[top],
                      "share": sel["share"].to_numpy()[top]}).groupby("site").sum(min_count=1)
    m2[g.index.to_numpy()] = g["m2"].to_numpy()
    share[g.index.to_numpy()] = np.minimum(g["share"].to_numpy(), 1.0)
    return rank, m2, share


def places(ctx: PackContext, hits: Hits) -> pd.DataFrame:
    """One row per site: extents, the strictest classes touched, the governing classes.

    Sites not located in the city (:data:`zoning.core.hits.SITE_COLUMNS` ``located``) get
    no classes. A point's shares are 1 (contained) or 0.
    """
    n = len(hits.sites)
    located = hits.sites["located"].to_numpy(dtype=bool)
    table = hits.table[located[hits.table["site"].to_numpy()]] if len(hits.table) else hits.table
    ext = table[table["kind"].to_numpy() == vocab.EXTENT]
    flags = {}
    for cls in (vocab.PLANNING_AREA, vocab.CENTRAL_AREA):
        sel = ext[ext["zone_class"].to_numpy() == cls]
        flag = np.zeros(n, dtype=bool)
        share = np.zeros(n)
        flag[sel["site"].to_numpy()] = True
        g = sel.groupby("site")["share"].sum()
        share[g.index.to_numpy()] = np.minimum(g.to_numpy(), 1.0)
        share[~located] = np.nan
        flags[cls] = (flag, share)
    prot, prot_m2, prot_share = _top(table, vocab.PROTECTION, n)
    ctrl, ctrl_m2, ctrl_share = _top(table, vocab.CONTROL, n)
    planning, central = flags[vocab.PLANNING_AREA][0], flags[vocab.CENTRAL_AREA][0]
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
    return pd.DataFrame({
        "in_planning_area": planning,
        "planning_share": flags[vocab.PLANNING_AREA][1],
        "in_central_area": central,
        "central_share": flags[vocab.CENTRAL_AREA][1],
        "in_quota_area": in_quota,
        "protection_class": pd.Series(prot_names[prot], dtype=object),
        "protection_m2": prot_m2,
        "protection_share": prot_share,
        "control_class": pd.Series(ctrl_names[ctrl], dtype=object),
        "control_m2": ctrl_m2,
        "control_share": ctrl_share,
        "governing_code": code.astype(np.int64),
        "governing": pd.Series(keys[inverse.reshape(-1)], dtype=object),
    })


@dataclass
class Verdicts:
    """The verdict of a place for a project, evaluated once per (governing classes, project)."""

    ctx: PackContext
    on_date: dt.date
    _cache: dict[Any, dict[str, Any]] = field(default_factory=dict, repr=False)

    def evaluated(self, governing: tuple, project: dict[str, Any] | None) -> list:
        return evaluate_place(self.ctx.rules, governing, project, self.on_date)

    def of(self, governing: tuple, project: dict[str, Any]) -> dict[str, Any]:
        """:data:`VERDICT_COLUMNS` for one place and project (cached)."""
        from zoning.core.rules import PROJECT_ATTRIBUTES

        key = (tuple(governing), tuple(sorted(project.items())))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        verdict, producing = overall_verdict(self.evaluated(tuple(governing), project))
        missing = list(dict.fromkeys(m for e in producing for m in e.verdict.missing))
        out = {
            "verdict": verdict,
            "articles": "；".join(dict.fromkeys(e.rule.citation for e in producing)) or None,
            "missing_attributes": "、".join(
                f"{m} ({PROJECT_ATTRIBUTES[m].zh})" if m in PROJECT_ATTRIBUTES else m for m in missing) or None,
            "missing": missing,
            "rule_ids": ", ".join(dict.fromkeys(e.rule.id for e in producing)) or None,
            **self.basis(verdict, {e.zone_kind for e in producing if e.zone_kind}),
        }
        self._cache[key] = out
        return out

    def basis(self, verdict: str, kinds: set[str]) -> dict[str, Any]:
        """The accuracy of the layers a verdict rests on. A clear verdict, or one produced
        by city-wide rules only, rests on every zone layer (that no zone applies is as
        uncertain as the layers that say so)."""
        if verdict == vocab.CLEAR or not kinds:
            kinds = set(self.ctx.kind_accuracy)
        acc = vocab.least_accurate(self.ctx.kind_accuracy[k] for k in kinds if k in self.ctx.kind_accuracy)
        layers = [name for k in vocab.CLASSED_KINDS if k in kinds for name in self.ctx.kind_layers.get(k, [])]
        return {"basis_accuracy": acc, "demonstration_basis": acc == vocab.DEMONSTRATION,
                "basis_layers": ", ".join(layers) or None}
