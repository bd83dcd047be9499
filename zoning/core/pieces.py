"""压占图斑: the pieces of each site that overlap a zone or planning extent, and the
remainder of the site that conflicts with none (pure functions).

:func:`overlap_pieces`
    one row per (site, feature) with a polygonal overlap: the intersection of the site
    with the zone or extent, in the equal-area CRS of :mod:`zoning.core.settings` — the
    same intersection :mod:`zoning.core.hits` measures, so the pieces' areas are the
    overlap figures of ``zoning check``.
:func:`class_conflicts`
    for each class a site touches, whether its rules would prohibit or condition the
    described project: the rules of that class alone, evaluated for the project by
    :meth:`zoning.core.answer.Verdicts.evaluated` (the rules engine of every answer), and
    reduced by :func:`zoning.core.verdicts.overall_verdict`. A class whose verdict is
    prohibited, needs confirmation (a rule that could prohibit or condition depends on
    something not given: an unknown is never taken as "no") or conditional conflicts.
:func:`site_pieces`
    both, and the two remainders of every polygonal site: ``non_conflicting`` (the site
    outside every conflicting zone) and ``outside_groundwater`` (the site outside every
    groundwater zone, whatever its rules).

Planning extents take part through their drawn outlines; an indicative outline is
labelled as such in the pieces' ``accuracy``, and every remainder carries the least
accurate layer it was cut from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from zoning.core import vocab

if TYPE_CHECKING:
    from zoning.core.answer import Verdicts
    from zoning.core.context import PackContext

__all__ = [
    "CONFLICTING_VERDICTS",
    "NON_CONFLICTING",
    "OUTSIDE_GROUNDWATER",
    "PIECE_COLUMNS",
    "REMAINDER_COLUMNS",
    "REMAINDER_KINDS",
    "Pieces",
    "class_conflicts",
    "overlap_pieces",
    "site_pieces",
]

#: The verdicts of a class's own rules that make the class conflict with the project.
CONFLICTING_VERDICTS: tuple[str, ...] = (vocab.PROHIBITED, vocab.NEEDS_CONFIRMATION, vocab.CONDITIONAL)

NON_CONFLICTING = "non_conflicting"
OUTSIDE_GROUNDWATER = "outside_groundwater"
#: The two remainders of a site, with their labels.
REMAINDER_KINDS: dict[str, tuple[str, str]] = {
    NON_CONFLICTING: ("与分区规则无冲突的范围", "outside every zone that prohibits or conditions the project"),
    OUTSIDE_GROUNDWATER: ("地下水分区以外的范围", "outside every groundwater zone"),
}

#: Columns of :attr:`Pieces.pieces` (besides geometry, in the equal-area CRS).
PIECE_COLUMNS: tuple[str, ...] = ("site", "kind", "layer", "feature", "zone_class", "zone_id", "zone_name",
                                  "accuracy", "area_m2", "share", "class_verdict", "conflict")
#: Columns of :attr:`Pieces.remainder` (besides geometry, in the equal-area CRS).
REMAINDER_COLUMNS: tuple[str, ...] = ("site", "remainder", "site_m2", "area_m2", "share", "excluded", "accuracy")


@dataclass
class Pieces:
    """The overlap pieces and the remainders of a batch of sites (equal-area CRS)."""

    pieces: pd.DataFrame
    remainder: pd.DataFrame
    #: the site geometries in the equal-area CRS (None for absent or non-polygonal sites)
    sites_m: np.ndarray


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    present = ~shapely.is_missing(geoms)
    out = np.zeros(len(geoms), dtype=bool)
    out[present] = np.isin(shapely.get_type_id(geoms[present]), (3, 6)) & ~shapely.is_empty(geoms[present])
    return out


def _only_polygons(g: Any) -> Any:
    """The polygonal part of an intersection (a shared edge or corner is no piece)."""
    if g is None or g.is_empty:
        return None
    tid = shapely.get_type_id(g)
    if tid in (3, 6):
        return g
    parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else None


def overlap_pieces(ctx: PackContext, geoms: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The overlap of every polygonal site with every zone and extent it overlaps.

    Returns the pieces (:data:`PIECE_COLUMNS` without the verdict columns, geometry
    column ``geometry`` in the equal-area CRS) and the sites in that CRS."""
    from zoning.core.overlay import to_area_crs

    geoms = np.asarray(geoms, dtype=object)
    poly = _polygonal(geoms)
    sites_m = np.full(len(geoms), None, dtype=object)
    idx = np.flatnonzero(poly)
    if len(idx):
        sites_m[idx] = to_area_crs(geoms[idx])
    cols = [c for c in PIECE_COLUMNS if c not in ("class_verdict", "conflict")]
    if not len(idx):
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        empty["geometry"] = pd.Series(dtype=object)
        return empty, sites_m
    si, fi = ctx.features_tree_m.query(sites_m[idx], predicate="intersects")
    inter = shapely.intersection(sites_m[idx][si], ctx.features_m[fi])
    inter = np.array([_only_polygons(g) for g in inter], dtype=object)
    keep = np.array([g is not None for g in inter], dtype=bool)
    si, fi, inter = si[keep], fi[keep], inter[keep]
    area = shapely.area(inter) if len(inter) else np.empty(0)
    site = idx[si]
    site_area = shapely.area(sites_m[site]) if len(site) else np.empty(0)
    f = ctx.feature_arrays
    frame = pd.DataFrame({
        "site": site.astype(np.int64),
        "kind": pd.Series(f["kind"][fi], dtype=object),
        "layer": pd.Series(f["layer"][fi], dtype=object),
        "feature": fi.astype(np.int64),
        "zone_class": pd.Series(f["zone_class"][fi], dtype=object),
        "zone_id": pd.Series(f["zone_id"][fi], dtype=object),
        "zone_name": pd.Series(f["zone_name"][fi], dtype=object),
        "accuracy": pd.Series(f["accuracy"][fi], dtype=object),
        "area_m2": area,
        "share": np.where(site_area > 0, area / np.where(site_area > 0, site_area, 1.0), np.nan),
        "geometry": pd.Series(inter, dtype=object),
    })
    frame = frame.sort_values(["site", "feature"], kind="stable").reset_index(drop=True)
    return frame, sites_m


def _class_rules_verdict(verdicts: Verdicts, kind: str, cls: str, project: dict[str, Any]) -> str:
    """The verdict of the rules of one class for a project (the city-wide rules, which
    apply on every part of the site alike, are left out)."""
    from zoning.core.verdicts import overall_verdict

    evaluated = [e for e in verdicts.evaluated(((kind, cls),), project) if e.zone_kind is not None]
    return overall_verdict(evaluated)[0]


def class_conflicts(verdicts: Verdicts, classes: set[tuple[str, str]], project: dict[str, Any]) -> dict[tuple[str, str], str]:
    """The verdict of each class's own rules for ``project`` ((kind, class) → verdict)."""
    return {kc: _class_rules_verdict(verdicts, kc[0], kc[1], project) for kc in classes}


def _project_key(project: dict[str, Any]) -> tuple:
    return tuple(sorted((k, v if not isinstance(v, list) else tuple(v)) for k, v in project.items()))


def site_pieces(
    ctx: PackContext,
    geoms: np.ndarray,
    projects: list[dict[str, Any]] | dict[str, Any] | None = None,
    *,
    on_date: dt.date | None = None,
    verdicts: Verdicts | None = None,
) -> Pieces:
    """The overlap pieces and the two remainders of every polygonal site.

    Parameters
    ----------
    ctx
        The pack context.
    geoms
        Sites as CGCS2000 shapely geometries; points, lines and absent sites get no
        pieces and no remainder.
    projects
        The project of each site (a list, one per site), or one project for all (the
        validated attributes, as :func:`zoning.core.rules.validate_project` returns them).
    on_date
        The date the rules are read on (default today), unless ``verdicts`` is given.
    verdicts
        A :class:`zoning.core.answer.Verdicts` to reuse (its cache and its date).
    """
    from zoning.core.answer import Verdicts

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    judge = verdicts or Verdicts(ctx, on_date or dt.date.today())
    if projects is None or isinstance(projects, dict):
        per_site = [dict(projects or {})] * n
    else:
        per_site = [dict(p or {}) for p in projects]
    pieces, sites_m = overlap_pieces(ctx, geoms)
    verdict_of: dict[tuple, str] = {}
    class_verdict = np.full(len(pieces), None, dtype=object)
    for j, (s, kind, cls) in enumerate(zip(pieces["site"].to_numpy(), pieces["kind"].to_numpy(),
                                           pieces["zone_class"].to_numpy())):
        key = (kind, cls, _project_key(per_site[s]))
        if key not in verdict_of:
            verdict_of[key] = _class_rules_verdict(judge, kind, cls, per_site[s])
        class_verdict[j] = verdict_of[key]
    pieces.insert(len(pieces.columns) - 1, "class_verdict", pd.Series(class_verdict, dtype=object))
    pieces.insert(len(pieces.columns) - 1, "conflict", np.isin(class_verdict, CONFLICTING_VERDICTS))
    rows: list[dict[str, Any]] = []
    geometries: list[Any] = []
    site_arr = pieces["site"].to_numpy()
    groundwater = pieces["kind"].isin(vocab.ZONE_KINDS).to_numpy()
    conflict = pieces["conflict"].to_numpy(dtype=bool)
    geom_arr = pieces["geometry"].to_numpy(dtype=object)
    bounds = np.searchsorted(site_arr, np.arange(n + 1))
    acc_all = vocab.least_accurate(ctx.kind_accuracy.get(k) for k in vocab.CLASSED_KINDS)
    acc_gw = vocab.least_accurate(ctx.kind_accuracy.get(k) for k in vocab.ZONE_KINDS)
    for s in np.flatnonzero(_polygonal(geoms)):
        sel = np.arange(bounds[s], bounds[s + 1])
        site_m = sites_m[s]
        site_area = float(site_m.area)
        for kind, mask, acc in ((NON_CONFLICTING, conflict[sel], acc_all),
                                (OUTSIDE_GROUNDWATER, groundwater[sel], acc_gw)):
            cut = sel[mask]
            if len(cut):
                rest = shapely.difference(site_m, shapely.union_all(geom_arr[cut]))
                rest = _only_polygons(rest)
            else:
                rest = site_m
            area = 0.0 if rest is None else float(rest.area)
            excluded = list(dict.fromkeys(f"{pieces['zone_class'].iat[j]} [{pieces['zone_id'].iat[j]}]" for j in cut))
            rows.append({"site": int(s), "remainder": kind, "site_m2": site_area, "area_m2": area,
                         "share": area / site_area if site_area > 0 else np.nan,
                         "excluded": "；".join(excluded) or None, "accuracy": acc})
            geometries.append(rest)
    remainder = pd.DataFrame(rows, columns=list(REMAINDER_COLUMNS))
    remainder["geometry"] = pd.Series(geometries, dtype=object)
    return Pieces(pieces=pieces, remainder=remainder, sites_m=sites_m)
