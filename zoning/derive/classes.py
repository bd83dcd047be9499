"""Names, colours and titles of the maps the derivation writes.

The pipeline (:mod:`zoning.derive.pipeline`) writes them into the GeoTIFFs (colour tables,
class-name tags, band descriptions); ``derive --map`` (:mod:`zoning.derive.maps`) draws its
legend from them. Both import this module; neither imports the other.
"""

from __future__ import annotations

from zoning.derive import steps

__all__ = ["CLASS_MAPS", "INDEX_MAPS", "PALETTES", "TITLES", "rgba"]

PALETTES: dict[str, dict[int, str]] = {
    "abundance": {1: "#08519c", 2: "#6baed6", 3: "#deebf7"},
    "quality": {1: "#1a9850", 2: "#66bd63", 3: "#a6d96a", 4: "#fdae61", 5: "#d73027"},
    "quality_grade": {1: "#1a9850", 2: "#fdae61", 3: "#d73027"},
    "function_value": {1: "#f7fbff", 2: "#6baed6", 3: "#08306b"},
    "vulnerability": {1: "#fee8c8", 2: "#fdbb84", 3: "#d7301f"},
    "cop_class": {0: "#ffffff00", 1: "#f2f0f7", 2: "#cbc9e2", 3: "#9e9ac8", 4: "#756bb1", 5: "#54278f"},
    "load_class": {0: "#ffffff00", 1: "#ffffb2", 2: "#fd8d3c", 3: "#bd0026"},
    "protection": {0: "#ffffff00", 1: "#a1d99b", 2: "#74c476", 3: "#31a354", 4: "#006d2c"},
    "control": {0: "#ffffff00", 1: "#fc9272", 2: "#de2d26"},
    "levels": {0: "#f0f0f0", 1: "#fc9272", 2: "#de2d26", 3: "#a1d99b", 4: "#74c476", 5: "#31a354", 6: "#006d2c"},
}

CLASS_MAPS: dict[str, dict[int, str]] = {
    "abundance": steps.ABUNDANCE_NAMES,
    "quality": steps.QUALITY_NAMES,
    "quality_grade": steps.QUALITY_GRADE_NAMES,
    "function_value": steps.FV_NAMES,
    "vulnerability": steps.VULN_NAMES,
    "cop_class": steps.COP_NAMES,
    "load_class": steps.LOAD_NAMES,
    "protection": steps.PROTECTION_NAMES,
    "control": steps.CONTROL_NAMES,
    "levels": steps.LEVEL_NAMES,
}
TITLES = {
    "abundance": "富水性",
    "quality": "地下水水质 (GB/T 14848)",
    "quality_grade": "水质等级",
    "function_value": "功能价值",
    "drastic_index": "DRASTIC 指数",
    "vulnerability": "浅层脆弱性 (DRASTIC)",
    "cop_index": "COP 指数",
    "cop_class": "深层岩溶脆弱性 (COP)",
    "load_index": "污染源荷载指数",
    "load_class": "污染源荷载",
    "protection": "保护类区域",
    "control": "管控类区域",
    "levels": "重点区划分",
}
INDEX_MAPS = ("drastic_index", "cop_index", "load_index")


def rgba(h: str) -> tuple[int, int, int, int]:
    h = h.lstrip("#")
    a = int(h[6:8], 16) if len(h) == 8 else 255
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), a
