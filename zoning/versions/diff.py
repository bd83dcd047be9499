"""What changed between two packs: layers, rules, quota figures and key-project lists.

:func:`diff_packs` opens two packs (directories or ``postgresql://`` DSNs) and compares:

- **layers**, feature by feature, matched by the layer's ``id_field`` (a repeated id by its
  occurrence; a layer without one by row): features added, removed, and changed — in
  geometry (the area gained and lost, in km², and the gained / lost pieces as polygons,
  computed in the equal-area CRS of :mod:`zoning.core.settings`; a change under
  :data:`AREA_TOLERANCE_M2` is rounding, not a change) and in attributes (which fields); the
  layer's own declaration too (period in force, accuracy, documents, fields added or
  dropped). A key-project layer is compared list by list (per ``year``), by name
  (:mod:`zoning.versions.projects`), since a list published again renumbers its projects;
- **rules**, by id: added, removed, re-worded (the quoted text), period in force changed,
  or otherwise changed (effect, zones, conditions, exceptions);
- **quota figures**: the total and each class of every land-supply quota, by ``quota_id``.

The result, :class:`PackDiff`, renders as text, as JSON (:meth:`PackDiff.to_dict`), as a
GeoDataFrame of the changed areas (:meth:`PackDiff.changed_areas`) and, through
:mod:`zoning.versions.render`, as a GeoPackage and an HTML map. :meth:`PackDiff.feature_change`
tells the re-check (:mod:`zoning.versions.recheck`) what happened to a zone a site is in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.core import settings, vocab
from zoning.core.version import PackVersion, pack_version
from zoning.versions.projects import ProjectComparison, compare_projects

if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.core.manifest import LayerSpec, Pack
    from zoning.core.rules import Rule

__all__ = [
    "AREA_TOLERANCE_M2",
    "CHANGE_KINDS",
    "FeatureChange",
    "LayerDiff",
    "PackDiff",
    "QuotaChange",
    "RuleChange",
    "diff_packs",
]

#: Gained plus lost area below which two geometries of a feature are the same (m²): the
#: rounding of a round trip through another store, not a change of the zone.
AREA_TOLERANCE_M2 = 1.0

#: The kinds of a feature change, as the GeoPackage's ``change`` field spells them.
CHANGE_KINDS = ("added", "removed", "gained", "lost", "attributes")

_RULE_FIELDS = ("effect", "applies_to", "conditions", "exceptions", "subject", "addressee", "document", "article",
                "values")


@dataclass
class FeatureChange:
    """One feature that differs between the packs."""

    layer: str
    feature_id: str
    status: str  # added | removed | changed
    zone_class: str | None = None
    geometry_changed: bool = False
    fields: tuple[str, ...] = ()
    gained_km2: float = 0.0
    lost_km2: float = 0.0
    old_geometry: Any = None
    new_geometry: Any = None
    gained: Any = None
    lost: Any = None

    def describe(self, lang: str = "zh") -> str:
        zh = lang == "zh"
        head = f"{self.layer} {self.feature_id}" + (f" ({self.zone_class})" if self.zone_class else "")
        if self.status == "added":
            return f"{head} {'新增' if zh else 'added'}"
        if self.status == "removed":
            return f"{head} {'删除' if zh else 'removed'}"
        parts = []
        if self.geometry_changed:
            parts.append(f"范围变化 (增 {self.gained_km2:.4f} km², 减 {self.lost_km2:.4f} km²)" if zh else
                          f"outline changed (+{self.gained_km2:.4f} km², -{self.lost_km2:.4f} km²)")
        if self.fields:
            parts.append(("属性变化: " if zh else "attributes changed: ") + ", ".join(self.fields))
        return f"{head} " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.feature_id, "status": self.status, "zone_class": self.zone_class,
                "geometry": self.geometry_changed, "fields": list(self.fields),
                "gained_km2": round(self.gained_km2, 6), "lost_km2": round(self.lost_km2, 6)}


@dataclass
class LayerDiff:
    """One layer compared."""

    name: str
    kind: str
    #: same | changed | added (only in the new pack) | removed (only in the old)
    status: str
    added: list[FeatureChange] = field(default_factory=list)
    removed: list[FeatureChange] = field(default_factory=list)
    changed: list[FeatureChange] = field(default_factory=list)
    #: changes of the layer's declaration (period in force, accuracy, documents, fields)
    spec: list[str] = field(default_factory=list)
    n_old: int = 0
    n_new: int = 0
    #: key-project lists compared by year
    projects: dict[str, ProjectComparison] = field(default_factory=dict)

    @property
    def gained_km2(self) -> float:
        return sum(c.gained_km2 for c in self.added + self.changed)

    @property
    def lost_km2(self) -> float:
        return sum(c.lost_km2 for c in self.removed + self.changed)

    @property
    def is_same(self) -> bool:
        return not (self.added or self.removed or self.changed or self.spec) and self.status == "same"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "layer": self.status, "kind": self.kind, "features_old": self.n_old, "features_new": self.n_new,
            "added": len(self.added), "removed": len(self.removed), "changed": len(self.changed),
            "geometry_changed": sum(c.geometry_changed for c in self.changed),
            "attributes_changed": sum(bool(c.fields) for c in self.changed),
            "gained_km2": round(self.gained_km2, 6), "lost_km2": round(self.lost_km2, 6),
            "spec": list(self.spec),
            "features": {"added": [c.to_dict() for c in self.added], "removed": [c.to_dict() for c in self.removed],
                         "changed": [c.to_dict() for c in self.changed]},
        }
        if self.projects:
            out["lists"] = {year: comp.to_dict() for year, comp in self.projects.items()}
        return out


@dataclass(frozen=True)
class RuleChange:
    """One rule that differs: added, removed, reworded, period (in force) or changed."""

    rule_id: str
    kinds: tuple[str, ...]
    citation: str
    before: str | None = None
    after: str | None = None
    fields: tuple[str, ...] = ()

    def describe(self, lang: str = "zh") -> str:
        zh = lang == "zh"
        words = {"added": ("新增", "added"), "removed": ("删除", "removed"), "reworded": ("条文措辞变化", "re-worded"),
                 "period": ("有效期变化", "period in force changed"), "changed": ("内容变化", "changed")}
        what = "、".join(words[k][0 if zh else 1] for k in self.kinds)
        text = f"{'规则' if zh else 'rule'} {self.rule_id} {self.citation} {what}"
        if "period" in self.kinds:
            text += f" ({self.before} → {self.after})"
        if self.fields:
            text += f" [{', '.join(self.fields)}]"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.rule_id, "citation": self.citation, "kinds": list(self.kinds), "before": self.before,
                "after": self.after, "fields": list(self.fields)}


@dataclass(frozen=True)
class QuotaChange:
    """A quota figure that differs (hectares), or a quota added or removed."""

    quota_id: str
    item: str  # "total" or a land-use class
    before: float | None
    after: float | None

    def describe(self, lang: str = "zh") -> str:
        zh = lang == "zh"
        item = ("合计" if zh else "total") if self.item == "total" else self.item

        def fmt(v: float | None) -> str:
            return "—" if v is None else f"{v:.10g}"

        return (f"{'供地计划' if zh else 'quota'} {self.quota_id} {item}: {fmt(self.before)} → {fmt(self.after)} "
                f"{'公顷' if zh else 'ha'}")

    def to_dict(self) -> dict[str, Any]:
        return {"quota_id": self.quota_id, "item": self.item, "before": self.before, "after": self.after}


@dataclass
class PackDiff:
    """The difference between two packs (see the module docstring)."""

    old: PackVersion
    new: PackVersion
    old_path: str
    new_path: str
    layers: dict[str, LayerDiff]
    rules: list[RuleChange]
    quota: list[QuotaChange]

    # ----------------------------------------------------------------- queries
    @property
    def same(self) -> bool:
        return self.old.content_sha256 == self.new.content_sha256

    def rule_change(self, rule_id: str) -> RuleChange | None:
        return self._rule_index.get(rule_id)

    @cached_property
    def _rule_index(self) -> dict[str, RuleChange]:
        return {r.rule_id: r for r in self.rules}

    @cached_property
    def _feature_index(self) -> dict[tuple[str, str], FeatureChange]:
        """``(layer, id) -> change``: each change by its key, then by the id answers name it
        (a repeated id's later occurrences, ``ID#1``..., where no feature has that key)."""
        out: dict[tuple[str, str], FeatureChange] = {}
        changes = [(ld.name, c) for ld in self.layers.values() for c in (*ld.added, *ld.removed, *ld.changed)]
        for layer, c in changes:
            out.setdefault((layer, c.feature_id), c)
        for layer, c in changes:
            base, sep, _ = c.feature_id.rpartition("#")
            if sep and base:
                out.setdefault((layer, base), c)
        return out

    def feature_change(self, layer: str, feature_id: str) -> FeatureChange | None:
        """What happened to one feature (None: nothing); ``feature_id`` as answers name it, so a
        repeated id finds its later occurrences too (``ID#1``...)."""
        return self._feature_index.get((layer, feature_id))

    def feature_changes(self) -> list[FeatureChange]:
        return [c for ld in self.layers.values() for c in (*ld.added, *ld.removed, *ld.changed)]

    # ----------------------------------------------------------------- outputs
    def to_dict(self) -> dict[str, Any]:
        rules: dict[str, list[dict[str, Any]]] = {"added": [], "removed": [], "reworded": [], "period_changed": [],
                                                  "changed": []}
        key = {"added": "added", "removed": "removed", "reworded": "reworded", "period": "period_changed",
               "changed": "changed"}
        for r in self.rules:
            for k in r.kinds:
                rules[key[k]].append(r.to_dict())
        out: dict[str, Any] = {
            "old": {"path": self.old_path, **self.old.to_dict()},
            "new": {"path": self.new_path, **self.new.to_dict()},
            "same": self.same,
            "layers": {name: ld.to_dict() for name, ld in self.layers.items()},
            "rules": {**{k: len(v) for k, v in rules.items()}, "items": rules},
            "quota": [q.to_dict() for q in self.quota],
        }
        lists = {f"{name}:{year}": comp.counts() for name, ld in self.layers.items()
                 for year, comp in ld.projects.items()}
        if lists:
            out["key_projects"] = lists
        return out

    def to_text(self, lang: str = "zh", *, limit: int | None = 20) -> str:
        zh = lang == "zh"
        lines = [
            (f"旧: {self.old_path}  版本 {self.old.label}  内容 {self.old.short}" if zh else
             f"old: {self.old_path}  version {self.old.label}  content {self.old.short}"),
            (f"新: {self.new_path}  版本 {self.new.label}  内容 {self.new.short}" if zh else
             f"new: {self.new_path}  version {self.new.label}  content {self.new.short}"),
        ]
        if self.same:
            lines.append("两个图层包内容相同" if zh else "the two packs hold the same content")
            return "\n".join(lines)
        lines.append("图层:" if zh else "layers:")
        for name, ld in self.layers.items():
            if ld.is_same:
                lines.append(f"  {name}: {'无变化' if zh else 'unchanged'}")
                continue
            if ld.status in ("added", "removed"):
                word = {"added": ("新增图层", "layer added"), "removed": ("删除图层", "layer removed")}[ld.status]
                lines.append(f"  {name}: {word[0 if zh else 1]} ({ld.n_new or ld.n_old})")
                continue
            head = (f"  {name}: 新增 {len(ld.added)}, 删除 {len(ld.removed)}, 变化 {len(ld.changed)}" if zh else
                    f"  {name}: added {len(ld.added)}, removed {len(ld.removed)}, changed {len(ld.changed)}")
            if ld.gained_km2 or ld.lost_km2:
                head += (f"; 面积 增 {ld.gained_km2:.4f} km², 减 {ld.lost_km2:.4f} km²" if zh else
                         f"; area +{ld.gained_km2:.4f} km², -{ld.lost_km2:.4f} km²")
            lines.append(head)
            lines.extend(f"    {s}" for s in ld.spec)
            items = [*ld.added, *ld.removed, *ld.changed]
            shown = items if limit is None else items[:limit]
            lines.extend(f"    - {c.describe(lang)}" for c in shown)
            if len(shown) < len(items):
                lines.append(f"    … ({len(items) - len(shown)})")
            for comp in ld.projects.values():
                lines.extend("    " + ln for ln in comp.to_text(lang, limit=limit).splitlines())
        lines.append(("规则: " if zh else "rules: ") + (("无变化" if zh else "unchanged") if not self.rules else
                                                      str(len(self.rules))))
        lines.extend(f"  - {r.describe(lang)}" for r in self.rules)
        lines.append(("供地计划数字: " if zh else "quota figures: ") + (("无变化" if zh else "unchanged") if not self.quota
                                                                    else str(len(self.quota))))
        lines.extend(f"  - {q.describe(lang)}" for q in self.quota)
        return "\n".join(lines)

    def changed_areas(self) -> gpd.GeoDataFrame:
        """The changed areas as polygons (EPSG:4490): one row per added or removed feature,
        per gained and lost piece of a moved outline, and per feature whose attributes
        alone changed; fields ``layer``, ``feature_id``, ``zone_class``, ``change``
        (:data:`CHANGE_KINDS`), ``area_km2``, ``fields``."""
        import geopandas as gpd

        rows: list[dict[str, Any]] = []
        geoms: list[Any] = []

        def add(c: FeatureChange, change: str, geom: Any, area: float) -> None:
            if geom is None or geom.is_empty:
                return
            rows.append({"layer": c.layer, "feature_id": c.feature_id, "zone_class": c.zone_class, "change": change,
                         "area_km2": round(area, 6), "fields": ", ".join(c.fields) or None})
            geoms.append(geom)

        for c in self.feature_changes():
            if c.status == "added":
                add(c, "added", c.new_geometry, c.gained_km2)
            elif c.status == "removed":
                add(c, "removed", c.old_geometry, c.lost_km2)
            else:
                if c.geometry_changed:
                    add(c, "gained", c.gained, c.gained_km2)
                    add(c, "lost", c.lost, c.lost_km2)
                if c.fields and not c.geometry_changed:
                    add(c, "attributes", c.new_geometry, 0.0)
        cols = ["layer", "feature_id", "zone_class", "change", "area_km2", "fields"]
        if not rows:
            return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=settings.area_crs).to_crs("EPSG:4490")
        return gpd.GeoDataFrame(rows, geometry=geoms, crs=settings.area_crs).to_crs("EPSG:4490")

    def touched_geometries(self) -> list[Any]:
        """Every old and new outline of a feature that changed (equal-area CRS): a site
        outside all of them (and their tolerances) has the same hits in both packs."""
        out: list[Any] = []
        for c in self.feature_changes():
            out.extend(g for g in (c.old_geometry, c.new_geometry) if g is not None and not g.is_empty)
        return out


# --------------------------------------------------------------------------- layers


def _ids(gdf: pd.DataFrame, spec: LayerSpec) -> list[str]:
    """A key per feature: its id as answers name it (:func:`zoning.core.context.feature_ids`),
    a repeated id told apart by occurrence (``ID``, ``ID#1``, ...)."""
    from zoning.core.context import feature_ids

    seen: dict[str, int] = {}
    out = []
    for k in feature_ids(spec, gdf):
        n = seen.get(k, 0)
        seen[k] = n + 1
        out.append(k if n == 0 else f"{k}#{n}")
    return out


def _class_of(gdf: pd.DataFrame, spec: LayerSpec) -> np.ndarray:
    for c in ("zone_class", "extent_class", *spec.class_fields):
        if c in gdf.columns:
            return gdf[c].astype(object).where(gdf[c].notna(), None).to_numpy()
    return np.full(len(gdf), None, dtype=object)


def _values(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Attribute values as comparable text (floats to 10 significant digits, missing as '')."""
    out = np.empty((len(df), len(cols)), dtype=object)
    for j, c in enumerate(cols):
        col = df[c]
        if pd.api.types.is_float_dtype(col):
            out[:, j] = [("" if v != v else f"{v:.10g}") for v in col.to_numpy()]
        else:
            out[:, j] = ["" if v is None or (isinstance(v, float) and v != v) else str(v)
                         for v in col.astype(object).to_numpy()]
    return out


def _spec_changes(a: LayerSpec, b: LayerSpec, cols_a: list[str], cols_b: list[str], lang: str = "en") -> list[str]:
    out: list[str] = []
    if (a.valid_from, a.valid_to) != (b.valid_from, b.valid_to):
        out.append(f"period in force {a.valid_from or '—'}–{a.valid_to or '—'} → {b.valid_from or '—'}–{b.valid_to or '—'}")
    if a.accuracy != b.accuracy:
        out.append(f"accuracy {a.accuracy} → {b.accuracy}")
    if a.kind != b.kind:
        out.append(f"kind {a.kind} → {b.kind}")
    da, db = list(a.provenance.get("documents") or []), list(b.provenance.get("documents") or [])
    if da != db:
        out.append(f"documents {'、'.join(da) or '—'} → {'、'.join(db) or '—'}")
    for key in ("dataset", "version", "method", "source"):
        if a.provenance.get(key) != b.provenance.get(key):
            out.append(f"provenance {key} changed")
    if a.positional_accuracy_m != b.positional_accuracy_m:
        out.append(f"positional accuracy {a.positional_accuracy_m} → {b.positional_accuracy_m} m")
    added = [c for c in cols_b if c not in cols_a]
    dropped = [c for c in cols_a if c not in cols_b]
    if added:
        out.append("fields added: " + ", ".join(added))
    if dropped:
        out.append("fields dropped: " + ", ".join(dropped))
    return out


def _area_km2(geoms: Any) -> np.ndarray:
    import shapely

    return np.asarray(shapely.area(geoms), dtype=float) / 1e6


def diff_layer(name: str, old: tuple[LayerSpec, gpd.GeoDataFrame] | None,
               new: tuple[LayerSpec, gpd.GeoDataFrame] | None) -> LayerDiff:
    """Compare one layer of two packs (either may be missing)."""
    import shapely

    if old is None and new is None:
        msg = f"layer {name!r} is in neither pack"
        raise ValueError(msg)
    if old is None or new is None:
        spec, gdf = (new or old)  # type: ignore[misc]
        status = "added" if old is None else "removed"
        ld = LayerDiff(name, spec.kind, status, n_old=0 if old is None else len(gdf),
                       n_new=len(gdf) if old is None else 0)
        g = np.asarray(gdf.to_crs(settings.area_crs).geometry.values)
        classes = _class_of(gdf, spec)
        for i, fid in enumerate(_ids(gdf, spec)):
            area = float(_area_km2(g[i:i + 1])[0]) if g[i] is not None else 0.0
            c = FeatureChange(name, fid, status, classes[i], gained_km2=area if status == "added" else 0.0,
                              lost_km2=area if status == "removed" else 0.0,
                              new_geometry=g[i] if status == "added" else None,
                              old_geometry=g[i] if status == "removed" else None)
            (ld.added if status == "added" else ld.removed).append(c)
        return ld
    spec_a, gdf_a = old
    spec_b, gdf_b = new
    geom_a, geom_b = gdf_a.geometry.name, gdf_b.geometry.name
    cols_a = [c for c in gdf_a.columns if c != geom_a]
    cols_b = [c for c in gdf_b.columns if c != geom_b]
    ld = LayerDiff(name, spec_b.kind, "same", n_old=len(gdf_a), n_new=len(gdf_b),
                   spec=_spec_changes(spec_a, spec_b, cols_a, cols_b))
    if spec_b.kind == vocab.KEY_PROJECTS and "name" in gdf_a.columns and "name" in gdf_b.columns:
        _diff_project_lists(ld, gdf_a, gdf_b)
        if ld.projects or ld.spec:
            ld.status = "changed" if (ld.spec or any(_list_changed(c) for c in ld.projects.values())) else "same"
        return ld
    ids_a, ids_b = _ids(gdf_a, spec_a), _ids(gdf_b, spec_b)
    pos_a = {k: i for i, k in enumerate(ids_a)}
    pos_b = {k: i for i, k in enumerate(ids_b)}
    ga = np.asarray(gdf_a.to_crs(settings.area_crs).geometry.values)
    gb = np.asarray(gdf_b.to_crs(settings.area_crs).geometry.values)
    cls_a, cls_b = _class_of(gdf_a, spec_a), _class_of(gdf_b, spec_b)
    for k in ids_b:
        if k not in pos_a:
            j = pos_b[k]
            ld.added.append(FeatureChange(name, k, "added", cls_b[j], gained_km2=float(_area_km2(gb[j:j + 1])[0]),
                                          new_geometry=gb[j]))
    for k in ids_a:
        if k not in pos_b:
            i = pos_a[k]
            ld.removed.append(FeatureChange(name, k, "removed", cls_a[i], lost_km2=float(_area_km2(ga[i:i + 1])[0]),
                                            old_geometry=ga[i]))
    both = [k for k in ids_b if k in pos_a]
    if both:
        ia = np.array([pos_a[k] for k in both])
        ib = np.array([pos_b[k] for k in both])
        same_geom = np.asarray(shapely.equals_exact(ga[ia], gb[ib], tolerance=1e-6))
        shared = [c for c in cols_b if c in cols_a]
        va = _values(gdf_a.iloc[ia], shared)
        vb = _values(gdf_b.iloc[ib], shared)
        diff_attr = va != vb
        for n, k in enumerate(both):
            fields = tuple(shared[j] for j in np.flatnonzero(diff_attr[n]))
            geom_changed = False
            gained = lost = None
            g_km2 = l_km2 = 0.0
            if not same_geom[n]:
                a, b = ga[ia[n]], gb[ib[n]]
                if a is None or b is None:
                    geom_changed = (a is None) != (b is None)
                else:
                    gained = shapely.difference(b, a)
                    lost = shapely.difference(a, b)
                    g_km2 = float(shapely.area(gained)) / 1e6
                    l_km2 = float(shapely.area(lost)) / 1e6
                    geom_changed = (g_km2 + l_km2) * 1e6 >= AREA_TOLERANCE_M2 or (
                        shapely.get_type_id(a) == 0 and float(shapely.distance(a, b)) >= 0.01)
            if geom_changed or fields:
                ld.changed.append(FeatureChange(
                    name, k, "changed", cls_b[ib[n]], geometry_changed=geom_changed, fields=fields,
                    gained_km2=g_km2 if geom_changed else 0.0, lost_km2=l_km2 if geom_changed else 0.0,
                    old_geometry=ga[ia[n]], new_geometry=gb[ib[n]],
                    gained=gained if geom_changed else None, lost=lost if geom_changed else None))
    if ld.added or ld.removed or ld.changed or ld.spec:
        ld.status = "changed"
    return ld


def _list_changed(c: ProjectComparison) -> bool:
    return bool(c.new or c.dropped or c.changed or c.reworded)


def _diff_project_lists(ld: LayerDiff, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> None:
    """Key projects: each year's list compared by name; the counts go to added/removed/changed."""
    ya = old["year"].astype(str) if "year" in old.columns else pd.Series("", index=old.index)
    yb = new["year"].astype(str) if "year" in new.columns else pd.Series("", index=new.index)
    for year in sorted(set(ya) | set(yb)):
        comp = compare_projects(old[ya == year], new[yb == year], old_label=f"{year} (old)", new_label=f"{year} (new)")
        if _list_changed(comp):
            ld.projects[year] = comp
        ld.added += [FeatureChange(ld.name, pid, "added", year) for pid, _ in comp.new]
        ld.removed += [FeatureChange(ld.name, pid, "removed", year) for pid, _ in comp.dropped]
        for m in comp.continuing:
            if m.changes or not m.exact:
                ld.changed.append(FeatureChange(ld.name, m.new_id, "changed", year,
                                                fields=tuple(m.changes) or ("name",)))


# --------------------------------------------------------------------------- rules and quota


def _rule_signature(r: Rule, name: str) -> str:
    return repr(getattr(r, name, None))


def diff_rules(old: list[Rule], new: list[Rule]) -> list[RuleChange]:
    """Rules added, removed, re-worded, with a changed period, or otherwise changed (by id)."""
    a = {r.id: r for r in old}
    b = {r.id: r for r in new}
    out: list[RuleChange] = []
    for rid in sorted(set(a) | set(b)):
        ra, rb = a.get(rid), b.get(rid)
        if ra is None and rb is not None:
            out.append(RuleChange(rid, ("added",), rb.citation))
            continue
        if rb is None and ra is not None:
            out.append(RuleChange(rid, ("removed",), ra.citation))
            continue
        assert ra is not None and rb is not None
        kinds: list[str] = []
        before = after = None
        if " ".join(ra.text.split()) != " ".join(rb.text.split()):
            kinds.append("reworded")
        pa = (ra.in_force.from_, ra.in_force.to)
        pb = (rb.in_force.from_, rb.in_force.to)
        if pa != pb:
            kinds.append("period")
            before = f"{pa[0]}–{pa[1] or '—'}"
            after = f"{pb[0]}–{pb[1] or '—'}"
        fields = tuple(f for f in _RULE_FIELDS if _rule_signature(ra, f) != _rule_signature(rb, f))
        if fields:
            kinds.append("changed")
        if kinds:
            out.append(RuleChange(rid, tuple(kinds), rb.citation, before, after, fields))
    return out


def _quota_figures(gdf: pd.DataFrame | None, spec: LayerSpec | None) -> dict[str, dict[str, float]]:
    if gdf is None or spec is None:
        return {}
    ids = _ids(gdf, spec)
    out: dict[str, dict[str, float]] = {}
    for k, (_, row) in zip(ids, gdf.iterrows()):
        figs = {}
        if "total_ha" in gdf.columns and pd.notna(row["total_ha"]):
            figs["total"] = float(row["total_ha"])
        for c in gdf.columns:
            if str(c).startswith("ha_") and pd.notna(row[c]):
                figs[str(c)[3:]] = float(row[c])
        out[k] = figs
    return out


def diff_quota(old: dict[str, dict[str, float]], new: dict[str, dict[str, float]]) -> list[QuotaChange]:
    out = []
    for qid in sorted(set(old) | set(new)):
        a, b = old.get(qid, {}), new.get(qid, {})
        for item in [*a, *(k for k in b if k not in a)]:
            va, vb = a.get(item), b.get(item)
            if va is None and vb is None:
                continue
            if va is None or vb is None or not math.isclose(va, vb, rel_tol=0, abs_tol=1e-9):
                out.append(QuotaChange(qid, item, va, vb))
    return out


# --------------------------------------------------------------------------- packs


def _read(pack: Pack) -> tuple[dict[str, tuple[LayerSpec, gpd.GeoDataFrame]], list[Rule]]:
    from zoning.core.layers import read_layer
    from zoning.core.rules import load_rules

    layers = {s.name: (s, read_layer(pack, s.name)) for s in pack.layers if s.kind != "raster"}
    rules = load_rules(pack.rules_dir, check_schema=False) if pack.rules_dir and pack.rules_dir.is_dir() else []
    return layers, rules


def _open(p: Pack | str | Path) -> Pack:
    from zoning.core.layers import Pack as PackType
    from zoning.core.layers import open_pack

    return p if isinstance(p, PackType) else open_pack(p)


def diff_packs(old: Pack | str | Path, new: Pack | str | Path) -> PackDiff:
    """Compare two packs (directories, ``postgresql://`` DSNs or opened packs).

    Raises
    ------
    ManifestError
        If either is not a pack, or its rules catalogue is not whole.
    """
    pa, pb = _open(old), _open(new)
    va, vb = pack_version(pa), pack_version(pb)
    from zoning.core.errors import scrub_secrets

    old_path = scrub_secrets(str(pa.dsn or pa.path))
    new_path = scrub_secrets(str(pb.dsn or pb.path))
    if va.content_sha256 == vb.content_sha256:
        return PackDiff(va, vb, old_path, new_path, {s.name: LayerDiff(s.name, s.kind, "same") for s in pb.layers},
                        [], [])
    layers_a, rules_a = _read(pa)
    layers_b, rules_b = _read(pb)
    names = [*layers_a, *(n for n in layers_b if n not in layers_a)]
    layer_diffs = {}
    for n in names:
        if n in layers_a and n in layers_b and va.layers.get(n) == vb.layers.get(n):
            sa, sb = layers_a[n][0], layers_b[n][0]
            spec = _spec_changes(sa, sb, [], [])
            layer_diffs[n] = LayerDiff(n, sb.kind, "changed" if spec else "same", spec=spec,
                                       n_old=len(layers_a[n][1]), n_new=len(layers_b[n][1]))
            continue
        layer_diffs[n] = diff_layer(n, layers_a.get(n), layers_b.get(n))
    qa = next(((s, g) for s, g in layers_a.values() if s.kind == vocab.QUOTA), (None, None))
    qb = next(((s, g) for s, g in layers_b.values() if s.kind == vocab.QUOTA), (None, None))
    quota = diff_quota(_quota_figures(qa[1], qa[0]), _quota_figures(qb[1], qb[0]))
    rules = diff_rules(rules_a, rules_b) if va.rules_sha256 != vb.rules_sha256 else []
    return PackDiff(va, vb, old_path, new_path, layer_diffs, rules, quota)
