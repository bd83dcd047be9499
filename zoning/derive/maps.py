"""``derive --map``: one HTML file (folium) with every class map as a toggleable overlay.

Each class GeoTIFF of the run is warped to Web Mercator at a coarse display resolution
(at most ``max_px`` wide), coloured with its colour table and embedded as a PNG overlay;
a legend lists the classes of every overlay. The zones are a GeoJSON layer with popups.
No base tiles are loaded unless ``tiles`` is given, so the file opens offline.
"""

from __future__ import annotations

import json
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import rasterio
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

from zoning.derive import steps
from zoning.derive.classes import CLASS_MAPS, PALETTES, TITLES, rgba

OVERLAYS = [
    "abundance",
    "quality_grade",
    "function_value",
    "vulnerability",
    "cop_class",
    "load_class",
    "protection",
    "control",
    "levels",
]


def _overlay_rgba(path: Path, name: str, max_px: int):
    with rasterio.open(path) as src:
        dst_crs = "EPSG:3857"
        tr, w, h = calculate_default_transform(src.crs, dst_crs, src.width, src.height, *src.bounds)
        f = max(1.0, w / max_px)
        w2, h2 = int(w / f), int(h / f)
        tr2 = tr @ tr.scale(w / w2, h / h2)
        arr = np.full((h2, w2), steps.NODATA, np.uint8)
        reproject(
            rasterio.band(src, 1),
            arr,
            dst_transform=tr2,
            dst_crs=dst_crs,
            resampling=Resampling.mode,
            dst_nodata=steps.NODATA,
        )
        west, south, east, north = transform_bounds(
            dst_crs, "EPSG:4326", tr2.c, tr2.f + h2 * tr2.e, tr2.c + w2 * tr2.a, tr2.f
        )
    lut = np.zeros((256, 4), np.uint8)
    for k, col in PALETTES[name].items():
        lut[k] = rgba(col)
    lut[steps.NODATA] = (0, 0, 0, 0)
    return lut[arr], [[south, west], [north, east]]


def write_map(
    folder: str | Path,
    html: str | Path,
    zones: gpd.GeoDataFrame | None = None,
    label: str = "",
    max_px: int = 900,
    tiles: str | None = None,
) -> Path:
    folder = Path(folder)
    m = folium.Map(tiles=tiles, control_scale=True)
    bounds = None
    legend = [f"<b>地下水污染防治重点区 ({label})</b>"]
    for name in OVERLAYS:
        p = folder / f"{name}.tif"
        if not p.exists():
            continue
        img, b = _overlay_rgba(p, name, max_px)
        bounds = b
        folium.raster_layers.ImageOverlay(
            img, bounds=b, name=TITLES[name], opacity=0.75, mercator_project=False, show=(name == "levels")
        ).add_to(m)
        items = "".join(
            f'<div><span style="display:inline-block;width:12px;height:12px;background:{PALETTES[name][k][:7]};'
            f'margin-right:4px"></span>{v}</div>'
            for k, v in CLASS_MAPS[name].items()
            if k in PALETTES[name]
        )
        legend.append(
            f"<details{' open' if name == 'levels' else ''}><summary>{TITLES[name]}</summary>{items}</details>"
        )
    if zones is not None and len(zones):
        z = zones.to_crs("EPSG:4326").copy()
        z["area_km2"] = z["area_km2"].round(3)
        z["geometry"] = z.geometry.simplify(0.0005)
        fields = [c for c in ("zone_id", "class", "county", "town", "area_km2", "accuracy") if c in z.columns]
        folium.GeoJson(
            json.loads(z[fields + ["geometry"]].to_json()),
            name="重点区 (zones)",
            show=False,
            style_function=lambda f: {"color": "#333", "weight": 1, "fillOpacity": 0},
            popup=folium.GeoJsonPopup(fields=fields),
        ).add_to(m)
    if bounds:
        m.fit_bounds(bounds)
    folium.LayerControl(collapsed=False).add_to(m)
    box = (
        '<div style="position:fixed;bottom:20px;left:10px;z-index:9999;background:white;padding:6px;'
        'font-size:12px;max-height:60%;overflow:auto;border:1px solid #999">' + "".join(legend) + "</div>"
    )
    m.get_root().html.add_child(folium.Element(box))  # type: ignore[attr-defined]  # a Figure's html
    m.save(str(html))
    return Path(html)
