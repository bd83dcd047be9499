"""One pack context: a pack's layers and rules, read once and shared by query, check, the
engines, the maps and the reports.

:func:`load_context` reads the manifest's layers (counties, planning extents, the
land-supply quota, groundwater zones, key projects) and the rules catalogue, and keeps
them, cached per pack directory and manifest modification time. The zones and planning
extents are also gathered into one GeoDataFrame, :attr:`PackContext.features`, whose row
positions are the ``feature`` numbers of the hits table (:mod:`zoning.core.hits`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.core import settings, vocab
from zoning.core.layers import LayerSpec, Pack, open_pack, read_layer

if TYPE_CHECKING:
    import datetime as dt

    import geopandas as gpd

    from zoning.core.overlay import CountyIndex, ZoneIndex
    from zoning.core.rules import Rule
    from zoning.core.version import PackVersion

__all__ = ["FEATURE_COLUMNS", "LayerUse", "PackContext", "feature_ids", "freeze_loaded", "load_context", "source_of"]

#: Columns of :attr:`PackContext.features` (besides geometry).
FEATURE_COLUMNS: tuple[str, ...] = ("kind", "layer", "row", "zone_class", "zone_id", "zone_name", "level",
                                    "town", "county_name", "accuracy")


@dataclass(frozen=True)
class LayerUse:
    """A layer an answer rests on, with its accuracy."""

    name: str
    kind: str
    accuracy: str
    source: str
    #: stated positional accuracy (m), where the layer declares one (the county lines: 750)
    positional_accuracy_m: float | None = None


def source_of(provenance: dict[str, Any]) -> str:
    """One line naming where a layer comes from (documents, data set, method)."""
    parts = []
    if provenance.get("documents"):
        parts.append("、".join(provenance["documents"]))
    if provenance.get("dataset"):
        ds = str(provenance["dataset"])
        if provenance.get("version"):
            ds += f" {provenance['version']}"
        if provenance.get("data_source"):
            ds += f" ({provenance['data_source']})"
        parts.append(ds)
    if provenance.get("source"):
        parts.append(str(provenance["source"]))
    return "; ".join(parts) or str(provenance.get("method", ""))


def _text_column(gdf: pd.DataFrame, col: str | None, n: int, default: str | None = None) -> np.ndarray:
    if col and col in gdf.columns:
        values = gdf[col].to_numpy(dtype=object)
        return np.array([None if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else str(v)
                         for v in values], dtype=object)
    return np.full(n, default, dtype=object)


def feature_ids(spec: LayerSpec, gdf: pd.DataFrame) -> np.ndarray:
    """The id of every feature, as answers name it (``zone_ids``): the layer's id field, else a
    ``zone_id`` column, else ``#row``. A repeated id stays as it is (the pack diff tells repeats apart)."""
    n = len(gdf)
    ids = _text_column(gdf, spec.id_field if spec.id_field in gdf.columns else "zone_id", n)
    return np.where(pd.isna(ids), np.array([f"#{i}" for i in range(n)], dtype=object), ids)


def _features_of(spec: LayerSpec, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The pack layer as rows of :attr:`PackContext.features`."""
    import geopandas as gpd

    n = len(gdf)
    cls_field = "extent_class" if spec.kind == vocab.EXTENT and "extent_class" in gdf.columns else (
        "zone_class" if "zone_class" in gdf.columns else (spec.class_fields[0] if spec.class_fields else "zone_class"))
    ids = feature_ids(spec, gdf)
    level = gdf["level"].to_numpy() if "level" in gdf.columns else np.full(n, None, dtype=object)
    return gpd.GeoDataFrame(
        {
            "kind": spec.kind,
            "layer": spec.name,
            "row": np.arange(n),
            "zone_class": gdf[cls_field].astype(str).to_numpy(),
            "zone_id": ids,
            "zone_name": _text_column(gdf, "name", n),
            "level": pd.array([None if v is None or v != v else int(v) for v in level], dtype="Int64"),
            "town": _text_column(gdf, "town", n),
            "county_name": _text_column(gdf, "county_name", n) if "county_name" in gdf.columns
            else _text_column(gdf, "county", n),
            "accuracy": spec.accuracy,
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    ).to_crs("EPSG:4490")


@dataclass
class PackContext:
    """The layers and rules of a pack, read once and kept for every answer."""

    pack: Pack
    rules: list[Rule]
    counties: gpd.GeoDataFrame
    county_spec: LayerSpec
    #: groundwater zones and planning extents, one row per feature (EPSG:4490)
    features: gpd.GeoDataFrame
    #: the zone and extent layers as read, by name
    layers: dict[str, tuple[LayerSpec, gpd.GeoDataFrame]]
    extents_spec: LayerSpec | None = None
    quota: gpd.GeoDataFrame | None = None
    quota_spec: LayerSpec | None = None
    projects: gpd.GeoDataFrame | None = None
    projects_spec: LayerSpec | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ derived facts

    @property
    def county_tolerance_m(self) -> float:
        """The county layer's stated positional accuracy: a site within it of a line is near it."""
        return float(self.county_spec.positional_accuracy_m or 0.0)

    @property
    def zones(self) -> list[tuple[LayerSpec, gpd.GeoDataFrame]]:
        """The groundwater zone layers (protection, then control) as read."""
        return [(spec, gdf) for kind in vocab.ZONE_KINDS for spec, gdf in self.layers.values() if spec.kind == kind]

    @property
    def extents(self) -> gpd.GeoDataFrame | None:
        if self.extents_spec is None:
            return None
        return self.layers[self.extents_spec.name][1]

    @cached_property
    def kind_accuracy(self) -> dict[str, str]:
        """The least accurate layer of each classed kind."""
        out: dict[str, str] = {}
        for spec, _ in self.layers.values():
            out[spec.kind] = vocab.least_accurate([out.get(spec.kind, vocab.OFFICIAL), spec.accuracy])
        return out

    @cached_property
    def kind_layers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for spec, _ in self.layers.values():
            out.setdefault(spec.kind, []).append(spec.name)
        return out

    @cached_property
    def layers_used(self) -> list[LayerUse]:
        """Every layer an answer may rest on, with its accuracy and source."""
        specs = [self.county_spec, *(s for s, _ in self.layers.values() if s.kind == vocab.EXTENT)]
        specs += [s for s in (self.quota_spec,) if s is not None]
        specs += [s for s, _ in self.zones]
        specs += [s for s in (self.projects_spec,) if s is not None]
        return [LayerUse(s.name, s.kind, s.accuracy, source_of(s.provenance),
                         float(s.positional_accuracy_m) if s.positional_accuracy_m else None) for s in specs]

    @property
    def demonstration_layers(self) -> list[str]:
        return [u.name for u in self.layers_used if u.accuracy == vocab.DEMONSTRATION]

    def quota_period(self, day: dt.date) -> tuple[str | None, str | None, bool]:
        """The quota layer's period (ISO dates, None where open) and whether it is in force on ``day``."""
        spec = self.quota_spec
        vf, vt = (spec.valid_from, spec.valid_to) if spec is not None else (None, None)
        in_force = (vf is None or vf <= day) and (vt is None or day <= vt)
        return (vf.isoformat() if vf else None), (vt.isoformat() if vt else None), in_force

    @cached_property
    def quota_info(self) -> dict[str, Any] | None:
        """The land-supply quota as figures: year, document, area name, total and per class (ha)."""
        if self.quota is None or not len(self.quota) or self.quota_spec is None:
            return None
        q = self.quota
        row = q.iloc[0]
        return {
            "layer": self.quota_spec.name,
            "year": int(row["year"]) if "year" in q.columns else None,
            "document": str(row.get("document", "")),
            "area_name": str(row.get("area_name", "")),
            "total_ha": float(row["total_ha"]),
            "classes": {c[3:]: float(row[c]) for c in q.columns if c.startswith("ha_") and pd.notna(row[c])},
            "principles": [p for p in str(row.get("principles", "") or "").split("\n") if p],
        }

    @cached_property
    def county_names_en(self) -> dict[str, str]:
        col = "name_en" if "name_en" in self.counties.columns else "name"
        return dict(zip(self.counties["adcode"], self.counties[col].astype(str)))

    @cached_property
    def version(self) -> PackVersion:
        """The version and content hashes of the pack this context read (taken once: an answer's
        provenance names it without a stat of every layer file)."""
        from zoning.core.version import pack_version

        return pack_version(self.pack)

    # ------------------------------------------------------------------ indexes

    @cached_property
    def feature_arrays(self) -> dict[str, np.ndarray]:
        """Every column of :attr:`features` (:data:`FEATURE_COLUMNS`) as an array, taken once:
        ``row`` as integers, the others as objects (what hits, nearest zones and pieces copy)."""
        f = self.features
        return {c: (f[c].to_numpy() if c == "row" else f[c].to_numpy(dtype=object)) for c in FEATURE_COLUMNS}

    @cached_property
    def county_index(self) -> CountyIndex:
        from zoning.core.overlay import CountyIndex

        return CountyIndex(self.counties, self.county_tolerance_m)

    @cached_property
    def feature_index(self) -> ZoneIndex:
        """Prepared feature polygons (CGCS2000) for point containment."""
        from zoning.core.overlay import ZoneIndex

        return ZoneIndex(self.features)

    @cached_property
    def quota_index(self) -> ZoneIndex | None:
        from zoning.core.overlay import ZoneIndex

        return ZoneIndex(self.quota) if self.quota is not None and len(self.quota) else None

    @cached_property
    def features_m(self) -> np.ndarray:
        """Feature geometries in the equal-area CRS (for overlap areas), prepared."""
        import shapely

        geoms = np.asarray(self.features.to_crs(settings.area_crs).geometry.values)
        shapely.prepare(geoms)
        return geoms

    @cached_property
    def features_tree_m(self) -> Any:
        from shapely import STRtree

        return STRtree(self.features_m)

    @cached_property
    def counties_m(self) -> np.ndarray:
        import shapely

        geoms = np.asarray(self.counties.to_crs(settings.area_crs).geometry.values)
        shapely.prepare(geoms)
        return geoms

    @cached_property
    def counties_tree_m(self) -> Any:
        from shapely import STRtree

        return STRtree(self.counties_m)

    @cached_property
    def extent_edges_m(self) -> dict[str, Any]:
        """The outline of each planning-extent class, as lines in the equal-area CRS (for the
        distance of a site to an indicative edge)."""
        import shapely

        f = self.features
        out = {}
        for cls in (vocab.PLANNING_AREA, vocab.CENTRAL_AREA):
            sel = (f["kind"].to_numpy() == vocab.EXTENT) & (f["zone_class"].to_numpy() == cls)
            if sel.any():
                out[cls] = shapely.boundary(shapely.union_all(self.features_m[sel]))
                shapely.prepare(out[cls])
        return out

    @property
    def extent_tolerance_m(self) -> float:
        """Within this distance of an indicative extent's drawn edge, membership is uncertain
        (the extents layer's ``positional_accuracy_m``)."""
        spec = self.extents_spec
        if spec is None or spec.accuracy == vocab.OFFICIAL:
            return 0.0
        return float(spec.positional_accuracy_m or 0.0)

    def warm(self) -> PackContext:
        """Build every index now (before forking workers or timing a benchmark)."""
        for name in ("county_index", "feature_index", "quota_index", "features_tree_m", "counties_tree_m"):
            getattr(self, name)
        return self

    def __getstate__(self) -> dict[str, Any]:
        # indexes hold prepared geometries: rebuild them where the context is unpickled
        state = {k: v for k, v in self.__dict__.items() if k in self.__dataclass_fields__}
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def freeze_loaded() -> None:
    """For a process that keeps its pack context to the end (a command, the service, a job
    worker): move every object alive now (the context's layers, rules and indexes among them)
    out of the garbage collector's reach. A full collection otherwise walks all of them: in a
    100,000-site check that was 0.18 s of six pauses, in the service 70 ms pauses under load.

    Not for a library caller's process (a notebook): whatever it holds stays until it ends."""
    import gc

    gc.collect()
    gc.freeze()


def load_context(pack: Pack | PackContext | str | Path | None = None) -> PackContext:
    """The context of ``pack`` (default: the shipped pack), read once per manifest version;
    a context is returned as it is."""
    if isinstance(pack, PackContext):
        return pack
    if not isinstance(pack, Pack):
        pack = open_pack(pack or settings.default_pack)
    manifest = pack.path / "manifest.toml"
    stamp = manifest.stat().st_mtime_ns if manifest.exists() else 0
    key = (pack.path, stamp)
    found = _CONTEXTS.get(key)
    if found is None:  # built from the pack opened (and its rules checked) above, not opened again
        if len(_CONTEXTS) >= 4:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
        found = _CONTEXTS[key] = _build(pack)
    return found


#: Contexts by (pack path, manifest modification time): a pack is read once per state.
_CONTEXTS: dict[tuple[Path, int], PackContext] = {}


def _build(pack: Pack) -> PackContext:
    import geopandas as gpd

    from zoning.core.manifest import verify_rules
    from zoning.core.rules import load_rules

    verify_rules(pack, required=True)  # no answer without the whole rules catalogue the manifest lists
    county_spec = pack.first_of_kind(vocab.COUNTIES)
    counties = read_layer(pack, county_spec.name).to_crs("EPSG:4490")
    counties = counties.assign(adcode=counties["adcode"].astype(str)).reset_index(drop=True)

    def first(kind: str) -> tuple[gpd.GeoDataFrame | None, LayerSpec | None]:
        specs = pack.by_kind(kind)
        return (read_layer(pack, specs[0].name), specs[0]) if specs else (None, None)

    layers: dict[str, tuple[LayerSpec, gpd.GeoDataFrame]] = {}
    for kind in (vocab.EXTENT, *vocab.ZONE_KINDS):
        for spec in pack.by_kind(kind):
            layers[spec.name] = (spec, read_layer(pack, spec.name))
    frames = [_features_of(spec, gdf) for spec, gdf in layers.values()]
    if frames:
        features = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4490")
    else:
        features = gpd.GeoDataFrame({c: [] for c in FEATURE_COLUMNS}, geometry=[], crs="EPSG:4490")
    extents_specs = pack.by_kind(vocab.EXTENT)
    quota, quota_spec = first(vocab.QUOTA)
    projects, projects_spec = first(vocab.KEY_PROJECTS)
    rules = load_rules(pack.rules_dir, check_schema=False) if pack.rules_dir and pack.rules_dir.is_dir() else []
    return PackContext(
        pack=pack, rules=rules, counties=counties, county_spec=county_spec, features=features, layers=layers,
        extents_spec=extents_specs[0] if extents_specs else None, quota=quota, quota_spec=quota_spec,
        projects=projects, projects_spec=projects_spec,
    )
