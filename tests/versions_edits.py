"""A second pack built from the shipped one with known edits, for the tests of zoning.versions.

:func:`edited_pack` copies ``layers/jincheng`` and makes exactly these edits:

- ``MOVED``: the 二级管控区 GW-C2-001 (陵川县) shifted 0.02° east (about 1.8 km);
- ``REMOVED``: the 一级保护区 GW-P1-005 deleted;
- ``ADDED``: a new 二级管控区 GW-C2-900, a 0.01° square in 沁水县 away from every zone;
- ``RULE``: JSH-2023-124-A37 (第三十七条, 二级管控区) in force until 2025-06-30 instead of 2029-01-17;
- ``QUOTA``: the 2025 quota's 住宅用地 161.9766 ha → 150.0 ha;

and records the rules catalogue and the version ``2026.2``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pyogrio
import shapely
from shapely.affinity import translate
from shapely.geometry import box

from zoning.core.manifest import rehash_rules

SHIPPED = Path(__file__).resolve().parent.parent / "layers" / "jincheng"
MOVED = "GW-C2-001"
REMOVED = "GW-P1-005"
ADDED = "GW-C2-900"
RULE = "JSH-2023-124-A37"
QUOTA_CLASS = "住宅用地"
QUOTA_BEFORE, QUOTA_AFTER = 161.9766, 150.0
SHIFT = 0.02
ADDED_BOX = (112.15, 35.75, 112.16, 35.76)  # 沁水县, over 3 km from every demonstration zone


def copy_pack(target: Path) -> Path:
    shutil.copytree(SHIPPED, target, ignore=shutil.ignore_patterns(".zoning.lock", "derive_demo", "sources"))
    return target


def edited_pack(target: Path) -> Path:
    pack = copy_pack(target)
    gpkg = pack / "jincheng.gpkg"
    frames = {name: pyogrio.read_dataframe(gpkg, layer=name) for name, _ in pyogrio.list_layers(gpkg)}
    ctl = frames["groundwater_control"]
    i = ctl.index[ctl["zone_id"] == MOVED][0]
    ctl.loc[i, "geometry"] = translate(ctl.loc[i, "geometry"], xoff=SHIFT)
    new = ctl.loc[[i]].copy()
    new["zone_id"] = ADDED
    new["name"] = "示范二级管控区 900"
    new["county"] = "140521"
    new["geometry"] = [shapely.MultiPolygon([box(*ADDED_BOX)]) if ctl.geom_type.iloc[0] == "MultiPolygon"
                       else box(*ADDED_BOX)]
    frames["groundwater_control"] = ctl.__class__(
        __import__("pandas").concat([ctl, new], ignore_index=True), geometry="geometry", crs=ctl.crs)
    prot = frames["groundwater_protection"]
    frames["groundwater_protection"] = prot[prot["zone_id"] != REMOVED].reset_index(drop=True)
    quota = frames["land_supply_quota"]
    quota[f"ha_{QUOTA_CLASS}"] = QUOTA_AFTER
    gpkg.unlink()
    for name, gdf in frames.items():
        pyogrio.write_dataframe(gdf, gpkg, layer=name, driver="GPKG", append=gpkg.exists())
    rules = pack / "rules" / "jsh_2023_124.toml"
    text = rules.read_text(encoding="utf-8")
    text, n = re.subn(rf'(id = "{RULE}"\n)', r'\1in_force = { from = 2024-01-18, to = 2025-06-30 }\n', text)
    assert n == 1
    rules.write_text(text, encoding="utf-8")
    rehash_rules(pack)
    manifest = pack / "manifest.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('version = "2026.1"', 'version = "2026.2"'),
                        encoding="utf-8")
    return pack
