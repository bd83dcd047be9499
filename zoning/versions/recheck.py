"""Sites re-checked against two packs: before and after, whether each changed, and why.

:func:`recheck_sites` checks the sites against the new pack (the ordinary check), then
against the old pack only the sites a change can reach — every site when rules or the
as-of date differ or a changed rule applies everywhere, else the sites within
:data:`REACH_M` of an old or new outline of a feature that changed (a site farther from all
of them has the same hits in both packs, so its old answer is its new one) and the sites in
a zone or extent of a class a changed rule applies to — and compares the answers column by column
(:data:`COMPARED`). Each differing site gets ``changed`` (True) and ``change_cause``: the
layer feature (added, removed, outline moved, attributes), the rule (added, removed,
re-worded, period changed) or the quota figure behind each difference; a site whose land
use counts against a quota figure that changed is changed too. The answer before is kept
in ``verdict_before``, ``zone_ids_before`` and ``rule_ids_before``.

:func:`compare_results` compares two result tables without the packs (a previous result
file, or a watch list's last run), naming what differs per site.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.core import settings

if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.check import CheckContext
    from zoning.versions.diff import PackDiff

__all__ = ["CHANGE_COLUMNS", "CHANGE_LABELS", "COMPARED", "REACH_M", "compare_results", "recheck_sites"]

#: Columns compared between the two answers of a site.
COMPARED: tuple[str, ...] = (
    "status_code", "county_adcode", "in_planning_area", "in_central_city", "protection_class", "control_level",
    "zone_ids", "verdict", "verdict_groundwater", "verdict_land", "verdict_approval", "verdict_water", "rule_ids",
    "quota_class",
)
#: Overlap figures compared (a red line's share of a moved zone), to 0.0001 ha.
COMPARED_AREAS: tuple[str, ...] = ("protection_ha", "control_ha", "planning_area_pct", "central_city_pct")

#: Columns a re-check adds to the result.
CHANGE_COLUMNS: tuple[str, ...] = ("changed", "change_cause", "verdict_before", "zone_ids_before", "rule_ids_before")

#: Their zh/en headers (handed to the writers through the result's ``attrs["column_labels"]``).
CHANGE_LABELS: dict[str, tuple[str, str]] = {
    "changed": ("变化", "changed"),
    "change_cause": ("变化原因", "change_cause"),
    "verdict_before": ("原结论", "verdict before"),
    "zone_ids_before": ("原分区编号", "zone ids before"),
    "rule_ids_before": ("原规则编号", "rule ids before"),
}

#: Distance from a changed outline within which a site is checked against the old pack too
#: (m): above the county lines' stated accuracy (750 m) and the extents' tolerance.
REACH_M = 1_000.0


def _split(value: Any) -> set[str]:
    if value is None or (isinstance(value, float) and value != value):
        return set()
    return {p.strip() for p in str(value).replace("；", ",").replace(";", ",").split(",") if p.strip()}


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _rule_candidates(diff: PackDiff, old: CheckContext, new: CheckContext, after: pd.DataFrame) -> np.ndarray | None:
    """Positions of the sites a changed rule may bind: those in a zone or extent of a class
    the rule applies to (None: a changed rule applies everywhere, so every site)."""
    from zoning.core import vocab

    changed = {r.rule_id for r in diff.rules}
    selectors = [sel for rules in (old.context.rules, new.context.rules) for r in rules if r.id in changed
                 for sel in (r.applies_to or (None,))]
    if any(sel is None for sel in selectors):
        return None
    n = len(after)
    hit = np.zeros(n, dtype=bool)
    zone_classes = {(k, c) for sel in selectors if sel is not None and sel.kind != vocab.EXTENT
                    for k, c in ((sel.kind, c) for c in sel.classes)}
    if zone_classes and "zone_ids" in after.columns:
        f = new.context.features
        wanted = {str(z) for z, k, c in zip(f["zone_id"], f["kind"], f["zone_class"]) if (k, c) in zone_classes}
        hit |= np.array([bool(_split(v) & wanted) for v in after["zone_ids"].to_numpy(dtype=object)], dtype=bool)
    extent_classes = {c for sel in selectors if sel is not None and sel.kind == vocab.EXTENT for c in sel.classes}
    for cls, col in ((vocab.PLANNING_AREA, "in_planning_area"), (vocab.CENTRAL_AREA, "in_central_city")):
        if cls in extent_classes and col in after.columns:
            hit |= after[col].astype(str).to_numpy() != "no"
    return np.flatnonzero(hit)


def _candidates(sites: gpd.GeoDataFrame, diff: PackDiff, old: CheckContext, new: CheckContext,
                after: pd.DataFrame) -> np.ndarray:
    """Positions of the sites whose answer may differ between the packs."""
    import shapely

    n = len(sites)
    if old.on_date != new.on_date or old.defaults != new.defaults:
        return np.arange(n)
    by_rules = np.arange(0)
    if diff.rules:
        found = _rule_candidates(diff, old, new, after)
        if found is None:
            return np.arange(n)
        by_rules = found
    touched = diff.touched_geometries()
    if not touched:
        return by_rules
    reach = max(REACH_M, new.context.county_tolerance_m, old.context.county_tolerance_m)
    tree = shapely.STRtree(shapely.buffer(np.asarray(touched, dtype=object), reach, quad_segs=2))
    geoms = sites.geometry.to_crs(settings.area_crs).to_numpy() if len(sites) else np.array([], dtype=object)
    ok = ~shapely.is_missing(geoms)
    idx = np.flatnonzero(ok)
    hit = tree.query(geoms[idx], predicate="intersects")[0] if len(idx) else np.array([], dtype=int)
    return np.union1d(np.unique(idx[hit]), by_rules)


def _feature_causes(diff: PackDiff, ids: set[str], lang: str) -> list[str]:
    out: list[str] = []
    for fid in sorted(ids):
        for ld in diff.layers.values():
            c = diff.feature_change(ld.name, fid)
            if c is not None:
                out.append(c.describe(lang))
                break
    return out


def _layer_causes(diff: PackDiff, kinds: tuple[str, ...], lang: str) -> list[str]:
    out: list[str] = []
    for ld in diff.layers.values():
        if ld.kind in kinds:
            out.extend(c.describe(lang) for c in (*ld.added, *ld.removed, *ld.changed))
            out.extend(f"{ld.name}: {s}" for s in ld.spec)
    return out


def _causes(diff: PackDiff, before: dict[str, Any], after: dict[str, Any], quota_causes: list[str],
            lang: str) -> list[str]:
    from zoning.core import vocab

    zh = lang == "zh"
    causes: list[str] = []
    za, zb = _split(before.get("zone_ids")), _split(after.get("zone_ids"))
    causes += _feature_causes(diff, za ^ zb, lang)
    area_changed = any(not _same_number(before.get(c), after.get(c)) for c in COMPARED_AREAS)
    if area_changed:  # still in the zone, a different share of it: the zone's outline moved
        causes += [c for c in _feature_causes(diff, za & zb, lang) if c not in causes]
    if (before.get("in_planning_area"), before.get("in_central_city"), before.get("planning_area_pct"),
            before.get("central_city_pct")) != (after.get("in_planning_area"), after.get("in_central_city"),
                                                after.get("planning_area_pct"), after.get("central_city_pct")):
        causes += _layer_causes(diff, (vocab.EXTENT,), lang)
    if before.get("county_adcode") != after.get("county_adcode"):
        causes += _layer_causes(diff, (vocab.COUNTIES,), lang)
    ra, rb = _split(before.get("rule_ids")), _split(after.get("rule_ids"))
    # a rule is a cause where the site's zones do not already explain it: the zones are the
    # same, or the rule binds the site in both answers
    same_zones = za == zb and not area_changed
    for rid in sorted(ra | rb):
        rc = diff.rule_change(rid)
        if rc is not None and (same_zones or (rid in ra and rid in rb) or "added" in rc.kinds
                               or "removed" in rc.kinds):
            causes.append(rc.describe(lang))
    if not causes and diff.rules and any(_text(before.get(c)) != _text(after.get(c)) for c in COMPARED):
        causes += [r.describe(lang) for r in diff.rules]
    causes += quota_causes
    if not causes and any(_text(before.get(c)) != _text(after.get(c)) for c in COMPARED):
        causes.append("图层包内容不同 (未能定位到具体要素)" if zh else "the packs differ (no single feature or rule found)")
    seen: list[str] = []
    for c in causes:
        if c not in seen:
            seen.append(c)
    return seen


def _same_number(a: Any, b: Any) -> bool:
    fa = float(a) if a is not None and a == a else 0.0
    fb = float(b) if b is not None and b == b else 0.0
    return abs(fa - fb) < 1e-4


def recheck_sites(
    sites: gpd.GeoDataFrame,
    *,
    new: CheckContext,
    old: CheckContext,
    diff: PackDiff | None = None,
    new_results: gpd.GeoDataFrame | None = None,
    lang: str = "zh",
) -> gpd.GeoDataFrame:
    """The check of ``sites`` against ``new`` with :data:`CHANGE_COLUMNS` saying what the
    check against ``old`` answered and why each changed site changed."""
    from zoning.check import check_sites
    from zoning.versions.diff import diff_packs

    diff = diff or diff_packs(old.context.pack, new.context.pack)
    after = new_results if new_results is not None else check_sites(sites, context=new)
    pos = _candidates(sites, diff, old, new, after)
    before = after.copy()
    if len(pos):
        part = check_sites(sites.iloc[pos], context=old)
        for c in (*COMPARED, *COMPARED_AREAS):
            if c in part.columns and c in before.columns:
                col = before[c].astype(object).to_numpy().copy()
                col[pos] = part[c].astype(object).to_numpy()
                before[c] = col
    changed = np.zeros(len(after), dtype=bool)
    causes = np.full(len(after), None, dtype=object)
    # only the sites checked again, and those counted against a changed quota figure, can differ
    quota_cls = after["quota_class"].astype(object).to_numpy() if "quota_class" in after.columns else \
        np.full(len(after), None, dtype=object)
    items = {q.item for q in diff.quota}
    quota_rows = np.flatnonzero(pd.Series(quota_cls).notna().to_numpy() & (
        np.isin(quota_cls.astype(str), list(items)) | ("total" in items))) if items else np.arange(0)
    look = np.union1d(pos, quota_rows).astype(int)
    cols = [c for c in (*COMPARED, *COMPARED_AREAS) if c in after.columns]
    b_rows = before.iloc[look][cols].to_dict("records")
    a_rows = after.iloc[look][cols].to_dict("records")
    for i, b, a in zip(look, b_rows, a_rows):
        q = [qc.describe(lang) for qc in diff.quota
             if quota_cls[i] and (qc.item == quota_cls[i] or qc.item == "total")] if items else []
        differs = (any(_text(b.get(c)) != _text(a.get(c)) for c in COMPARED)
                   or any(not _same_number(b.get(c), a.get(c)) for c in COMPARED_AREAS))
        reworded = [r for r in _split(a.get("rule_ids")) | _split(b.get("rule_ids"))
                    if diff.rule_change(r) is not None]
        if differs or q or reworded:
            changed[i] = True
            causes[i] = "；".join(_causes(diff, b, a, q, lang))
    out = after.copy()
    out["changed"] = changed
    out["change_cause"] = causes
    out["verdict_before"] = before["verdict"].to_numpy()
    out["zone_ids_before"] = before["zone_ids"].to_numpy() if "zone_ids" in before.columns else None
    out["rule_ids_before"] = before["rule_ids"].to_numpy() if "rule_ids" in before.columns else None
    out.attrs = dict(after.attrs)
    out.attrs["column_labels"] = CHANGE_LABELS
    out.attrs["rechecked_against_old"] = len(pos)
    return out


def _aligned(before: pd.DataFrame, after: pd.DataFrame, key: str) -> tuple[np.ndarray, pd.DataFrame | None]:
    """Each site of ``after``: whether the earlier result has it (by ``key``), and the earlier
    rows in ``after``'s order (one reindex, not a lookup per site)."""
    keys = after[key].astype(str).to_numpy()
    if not len(before):
        return np.zeros(len(after), dtype=bool), None
    first = before.drop_duplicates(key)
    b = first.set_index(first[key].astype(str).to_numpy())
    return b.index.get_indexer(keys) >= 0, b.reindex(keys)  # hashed (np.isin on text is quadratic)


def compare_results(before: pd.DataFrame, after: pd.DataFrame, *, key: str = "row",
                    lang: str = "zh") -> pd.DataFrame:
    """Compare two result tables of the same sites (matched by ``key``): one row per site
    with ``changed`` and ``change_cause`` naming each compared column that differs
    (``zone_ids: +GW-C2-900 -GW-P1-005``, ``verdict: clear → prohibited``)."""
    zh = lang == "zh"
    found, old = _aligned(before, after, key)
    n = len(after)
    why: dict[int, list[str]] = {}
    for c in COMPARED:
        if c not in after.columns:
            continue
        vb = [_text(v) for v in after[c].to_numpy(dtype=object)]
        va = [_text(v) for v in old[c].to_numpy(dtype=object)] if old is not None and c in old.columns else [""] * n
        for i in np.flatnonzero(found & np.fromiter((x != y for x, y in zip(va, vb, strict=True)), bool, n)):
            if c in ("zone_ids", "rule_ids"):
                sa, sb = _split(va[i]), _split(vb[i])
                parts = [f"+{x}" for x in sorted(sb - sa)] + [f"-{x}" for x in sorted(sa - sb)]
                why.setdefault(int(i), []).append(f"{c}: {' '.join(parts)}")
            else:
                why.setdefault(int(i), []).append(f"{c}: {va[i] or '—'} → {vb[i] or '—'}")
    new_site = "新增的项目" if zh else "a site not in the earlier run"
    changed = [True if not found[i] else i in why for i in range(n)]
    cause = [new_site if not found[i] else ("；".join(why[i]) if i in why else None) for i in range(n)]
    return pd.DataFrame({key: after[key].to_numpy(dtype=object), "changed": changed, "change_cause": cause},
                        columns=[key, "changed", "change_cause"])


def read_results(path: str | Path) -> pd.DataFrame:
    """The result rows of an earlier ``zoning check`` as the check writes them: its
    GeoPackage (layer ``sites``, raw values) or its CSV (headers and values in Chinese or
    English: both are read back to the result columns and codes)."""
    from zoning.check import RESULT_LABELS
    from zoning.core import vocab
    from zoning.core.errors import InputFileError

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".gpkg":
        import pyogrio

        df = pyogrio.read_dataframe(p, layer="sites", read_geometry=False)
        return pd.DataFrame(df)
    if suffix != ".csv":
        msg = f"{p}: an earlier result is read from the check's .csv or .gpkg, not {suffix or 'a file without suffix'}"
        raise InputFileError(msg)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        msg = f"{p}: cannot read the earlier result ({exc})"
        raise InputFileError(msg) from exc
    names = {label: key for key, pair in RESULT_LABELS.items() for label in pair}
    df = df.rename(columns={c: names.get(c, c) for c in df.columns}).replace({"": None})
    if "row" not in df.columns or "verdict" not in df.columns:
        msg = f"{p}: not the result of zoning check (no row or verdict column)"
        raise InputFileError(msg)
    codes = {label: code for code, pair in vocab.VERDICT_LABELS.items() for label in pair}
    member = {label: code for code, pair in vocab.MEMBERSHIP_LABELS.items() for label in pair}
    status = {label: code for code, pair in vocab.STATUS_CODES.items() for label in pair}
    for c in ("verdict", *(f"verdict_{s}" for s in vocab.SUBJECTS)):
        if c in df.columns:
            df[c] = df[c].map(lambda v: codes.get(v, v) if v is not None else None)
    for c in ("in_planning_area", "in_central_city"):
        if c in df.columns:
            df[c] = df[c].map(lambda v: member.get(v, v) if v is not None else None)
    if "status_code" in df.columns:
        df["status_code"] = df["status_code"].map(lambda v: status.get(v, v) if v is not None else None)
    return df


def against_results(before: pd.DataFrame, after: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """``after`` with the change columns, comparing each site (by its row) with the earlier
    result ``before`` (the previous answer's verdict, zones and rules beside the new)."""
    key = "row"
    cmp = compare_results(before, after, key=key, lang=lang)
    out = after.copy()
    out["changed"] = cmp["changed"].to_numpy(dtype=object)
    out["change_cause"] = cmp["change_cause"].to_numpy(dtype=object)
    found, old = _aligned(before, after, key)
    for c in ("verdict", "zone_ids", "rule_ids"):
        values = np.full(len(after), None, dtype=object)
        if old is not None and c in old.columns:
            values[found] = old[c].to_numpy(dtype=object)[found]
        out[f"{c}_before"] = values
    out.attrs = {**after.attrs, "column_labels": {**after.attrs.get("column_labels", {}), **CHANGE_LABELS}}
    return out
