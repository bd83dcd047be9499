"""The pack report: per layer, counts and areas by class and county beside the
figures the gazettes publish (``published`` in the manifest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from zoning.core import settings
from zoning.core.layers import ACCURACY_LABELS, KIND_LABELS, Pack, read_layer

if TYPE_CHECKING:
    import geopandas as gpd


def layer_statistics(gdf: gpd.GeoDataFrame, class_field: str | None) -> pd.DataFrame:
    """Count and area (km², computed in the equal-area CRS) per class."""
    has_geom = gdf.geometry.notna() & ~gdf.geometry.is_empty
    area = pd.Series(0.0, index=gdf.index)
    if has_geom.any():
        area[has_geom] = gdf[has_geom].to_crs(settings.area_crs).area / 1e6
    key = gdf[class_field].astype(str) if class_field and class_field in gdf.columns else pd.Series("(all)", index=gdf.index)
    out = pd.DataFrame({"class": key, "area_km2": area}).groupby("class", sort=False).agg(
        count=("area_km2", "size"), area_km2=("area_km2", "sum")
    )
    return out.reset_index()


def compare_with_published(stats: pd.DataFrame, published: dict) -> pd.DataFrame:
    """Join layer statistics with the published figures; differences in percent."""
    rows = []
    for _, r in stats.iterrows():
        pub = published.get(r["class"], {})
        pc, pa = pub.get("count"), pub.get("area_km2")
        rows.append({
            "class": r["class"], "count": int(r["count"]), "published_count": None if pc is None else int(pc),
            "area_km2": round(float(r["area_km2"]), 3), "published_area_km2": pa,
            "area_diff_pct": None if not pa else round(100 * (r["area_km2"] - pa) / pa, 2) + 0.0,
            "source": pub.get("source", ""),
        })
    return pd.DataFrame(rows)


def pack_summary(pack: Pack, *, lang: str = "zh") -> str:
    """A text report of every vector layer of the pack."""
    zh = lang == "zh"
    lines = [f"{pack.title} — {pack.path}"]
    counties = None
    for spec in pack.by_kind("counties")[:1]:
        counties = read_layer(pack, spec.name)
    names = {} if counties is None else dict(zip(counties["adcode"].astype(str), counties["name"]))
    for spec in pack.layers:
        if spec.kind == "raster":
            continue
        gdf = read_layer(pack, spec.name)
        kind = KIND_LABELS[spec.kind][0 if zh else 1]
        acc = ACCURACY_LABELS[spec.accuracy][0 if zh else 1]
        lines.append("")
        lines.append(f"[{spec.name}] {kind} · {acc} · {len(gdf)} {'个要素' if zh else 'features'}")
        class_field = spec.class_fields[0] if spec.class_fields else None
        stats = compare_with_published(layer_statistics(gdf, class_field), spec.published)
        spatial = bool((gdf.geometry.notna() & ~gdf.geometry.is_empty).any())
        header = ["类别", "数量", "公布数量", "面积km²", "公布面积km²", "差%"] if zh else [
            "class", "count", "published", "area km²", "published km²", "diff %"]
        lines.append("  " + " | ".join(header if spatial else header[:3]))
        for _, r in stats.iterrows():
            cells = [r["class"], r["count"], _fmt(r["published_count"]), f"{r['area_km2']:.3f}",
                     _fmt(r["published_area_km2"]), _fmt(r["area_diff_pct"])]
            lines.append("  " + " | ".join(str(c) for c in (cells if spatial else cells[:3])))
        if spec.kind == "land_supply_quota":
            lines.extend(_quota_lines(gdf, zh))
        if spec.county_field and spec.county_field in gdf.columns and spec.kind != "counties":
            codes = gdf[spec.county_field].fillna("").astype(str).str.split(",").explode()
            per = codes.replace("", "—").value_counts().sort_index()
            city = "全市/开发区(未定县)" if zh else "city-wide / development zone (no county)"
            txt = "、".join(f"{names.get(c, city if c == '—' else c)} {n}" for c, n in per.items())
            lines.append(("  按县: " if zh else "  by county: ") + txt)
    return "\n".join(lines)


def _quota_lines(gdf: gpd.GeoDataFrame, zh: bool) -> list[str]:
    out = []
    for _, row in gdf.iterrows():
        out.append(f"  {row['year']} {row['area_name']} {'合计' if zh else 'total'} {row['total_ha']} ha ({row['document']})")
        for col in gdf.columns:
            if col.startswith("ha_"):
                out.append(f"    {col[3:]}: {row[col]} ha")
    return out


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return str(int(value))
    return str(value)
