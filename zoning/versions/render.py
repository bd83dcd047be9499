"""The changed areas of a :class:`~zoning.versions.diff.PackDiff` as files: a GeoPackage
(layer ``changes``: one polygon per added, removed, gained or lost piece, or feature whose
attributes changed) and an offline HTML map of them (Leaflet inlined, every text escaped)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import folium

    from zoning.versions.diff import PackDiff

__all__ = ["CHANGE_COLOURS", "build_diff_map", "write_changes_gpkg"]

#: Fill colour per kind of change (gained / added green, lost / removed red, attributes amber).
CHANGE_COLOURS = {"added": "#1a9641", "gained": "#1a9641", "removed": "#d7191c", "lost": "#d7191c",
                  "attributes": "#fdae61"}

_CHANGE_LABELS = {"added": ("新增", "added"), "gained": ("扩大部分", "area gained"), "removed": ("删除", "removed"),
                  "lost": ("缩小部分", "area lost"), "attributes": ("属性变化", "attributes changed")}


def write_changes_gpkg(diff: PackDiff, path: str | Path) -> Path:
    """Write the changed areas to ``path`` (layer ``changes``, EPSG:4490) and the two
    packs' versions to a ``packs`` table; returns the path."""
    import pandas as pd
    import pyogrio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    try:
        gdf = diff.changed_areas()
        pyogrio.write_dataframe(gdf, tmp, layer="changes", driver="GPKG", geometry_type="Unknown")
        packs = pd.DataFrame([
            {"which": "old", "path": diff.old_path, "version": diff.old.version, "released":
             diff.old.released.isoformat() if diff.old.released else None, "content_sha256": diff.old.content_sha256},
            {"which": "new", "path": diff.new_path, "version": diff.new.version, "released":
             diff.new.released.isoformat() if diff.new.released else None, "content_sha256": diff.new.content_sha256},
        ])
        pyogrio.write_dataframe(packs, tmp, layer="packs", driver="GPKG", append=True)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def build_diff_map(diff: PackDiff, lang: str = "zh", *, offline: bool = True) -> folium.Map:
    """A folium map of the changed areas, with a legend and a popup per piece (offline:
    Leaflet inlined, so it opens with no network)."""
    import folium

    from zoning.maps.page import set_assets

    zh = lang == "zh"
    i = 0 if zh else 1
    gdf = diff.changed_areas()
    m = folium.Map(location=[35.65, 112.75], zoom_start=9, tiles=None, control_scale=True)
    set_assets(m, offline)
    if len(gdf):
        minx, miny, maxx, maxy = gdf.total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    for change, group in gdf.groupby("change", sort=False):
        colour = CHANGE_COLOURS.get(str(change), "#555555")
        label = _CHANGE_LABELS.get(str(change), (str(change),) * 2)[i]
        fg = folium.FeatureGroup(name=html.escape(f"{label} ({len(group)})"))
        for row in group.itertuples():
            lines = [f"{row.layer} {row.feature_id}", str(row.zone_class or ""), label,
                     f"{row.area_km2:.4f} km²" if row.area_km2 else "", str(row.fields or "")]
            popup = "<br>".join(html.escape(x) for x in lines if x)
            folium.GeoJson(
                json.loads(json.dumps(row.geometry.__geo_interface__)),
                style_function=lambda _f, c=colour: {"color": c, "fillColor": c, "weight": 2, "fillOpacity": 0.45},
                tooltip=folium.Tooltip(popup, sticky=True),  # a Tooltip needs no jQuery (a Popup does)
            ).add_to(fg)
        fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    title = (f"图层包变化: {diff.old.label} → {diff.new.label}" if zh else
             f"Pack changes: {diff.old.label} → {diff.new.label}")
    legend = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;background:{c};margin-right:4px"></span>'
        f"{html.escape(_CHANGE_LABELS[k][i])}</div>" for k, c in CHANGE_COLOURS.items())
    summary = "".join(
        f"<div>{html.escape(name)}: +{len(ld.added)} −{len(ld.removed)} ~{len(ld.changed)}</div>"
        for name, ld in diff.layers.items() if not ld.is_same)
    box = (f'<div id="diff-legend" style="position:absolute;top:10px;left:50px;z-index:1000;background:#fff;'
           f'padding:6px 10px;border:1px solid #888;font:13px sans-serif;max-width:360px">'
           f"<b>{html.escape(title)}</b>{legend}<hr style='margin:4px 0'>{summary}"
           f"<div style='color:#666'>{html.escape(diff.old.short)} → {html.escape(diff.new.short)}</div></div>")
    m.get_root().html.add_child(folium.Element(box))  # type: ignore[attr-defined]
    return m
