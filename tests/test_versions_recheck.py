"""Re-checking sites against the shipped pack and a copy with known edits flags exactly the
sites the edits touch, with the right cause (API, `zoning check --against`, `zoning watch`)."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from versions_edits import ADDED, ADDED_BOX, MOVED, QUOTA_CLASS, REMOVED, RULE, SHIFT, SHIPPED, edited_pack
from zoning.check import build_context
from zoning.cli.main import main_group
from zoning.versions.recheck import recheck_sites

ON = dt.date(2025, 10, 1)  # after the edited rule's new end (2025-06-30), before the original one


@pytest.fixture(scope="module")
def new_pack(tmp_path_factory):
    return edited_pack(tmp_path_factory.mktemp("packs") / "jincheng-2026.2")


def _inside(layer: str, zone_id: str) -> Point:
    gdf = pyogrio.read_dataframe(SHIPPED / "jincheng.gpkg", layer=layer)
    return gdf.loc[gdf["zone_id"] == zone_id, "geometry"].iloc[0].representative_point()


@pytest.fixture(scope="module")
def sites():
    moved = _inside("groundwater_control", MOVED)
    rows = [  # name, point, the cause expected (None: unchanged)
        ("moved-away", moved, f"{MOVED} (二级管控区) outline changed"),
        ("moved-onto", Point(moved.x + SHIFT, moved.y), f"{MOVED} (二级管控区) outline changed"),
        ("removed", _inside("groundwater_protection", REMOVED), f"{REMOVED} (一级保护区) removed"),
        ("added", Point((ADDED_BOX[0] + ADDED_BOX[2]) / 2, (ADDED_BOX[1] + ADDED_BOX[3]) / 2), f"{ADDED} (二级管控区) added"),
        ("rule", _inside("groundwater_control", "GW-C2-050"), f"rule {RULE}"),
        ("quota", Point(112.86, 35.50), f"{QUOTA_CLASS}: 161.9766 → 150 ha"),
        ("level-1", _inside("groundwater_control", "GW-C1-003"), None),
        ("no-zone", Point(112.30, 35.60), None),
        ("city-centre", Point(112.85, 35.49), None),
    ]
    return gpd.GeoDataFrame(
        {"site_name": [r[0] for r in rows], "expected": [r[2] for r in rows],
         "land_use": [QUOTA_CLASS if r[0] == "quota" else None for r in rows],
         "area_ha_stated": [2.0 if r[0] == "quota" else None for r in rows]},
        geometry=[r[1] for r in rows], crs="EPSG:4490")


def test_exactly_the_touched_sites_change_with_their_cause(new_pack, sites):
    new = build_context(new_pack, on_date=ON, project_defaults={"construction": "new"})
    old = build_context(SHIPPED, on_date=ON, project_defaults={"construction": "new"})
    res = recheck_sites(sites[["site_name", "land_use", "area_ha_stated", "geometry"]], new=new, old=old, lang="en")
    for name, expected, changed, cause in zip(sites["site_name"], sites["expected"], res["changed"],
                                              res["change_cause"]):
        if pd.isna(expected):
            assert not changed and pd.isna(cause), (name, cause)
        else:
            assert changed, name
            assert expected in cause, (name, cause)
            assert cause.count("；") == 0, (name, cause)  # one edit touches each site: one cause
    by = dict(zip(res["site_name"], res.index))
    assert res.loc[by["moved-away"], "zone_ids_before"] == MOVED and pd.isna(res.loc[by["moved-away"], "zone_ids"])
    assert res.loc[by["added"], "zone_ids"] == ADDED and pd.isna(res.loc[by["added"], "zone_ids_before"])
    assert RULE in res.loc[by["rule"], "rule_ids_before"] and RULE not in (res.loc[by["rule"], "rule_ids"] or "")


def test_same_pack_changes_nothing(sites):
    ctx = build_context(SHIPPED, on_date=ON)
    res = recheck_sites(sites[["site_name", "geometry"]], new=ctx, old=ctx)
    assert not res["changed"].any() and res.attrs["rechecked_against_old"] == 0


def test_check_against_writes_the_columns_and_the_provenance(new_pack, sites, tmp_path):
    src = tmp_path / "sites.csv"
    pd.DataFrame({"项目名称": sites["site_name"], "经度": sites.geometry.x, "纬度": sites.geometry.y,
                  "用地类别": sites["land_use"], "用地面积(公顷)": sites["area_ha_stated"]}).to_csv(src, index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(main_group, ["check", str(src), "--pack", str(new_pack), "--against", str(SHIPPED),
                                          "--date", ON.isoformat(), "--set", "construction=new", "--out", str(out),
                                          "--format", "csv,gpkg"])
    assert res.exit_code == 0, res.output
    assert "变化 6 个, 未变化 3 个" in res.output
    table = pd.read_csv(out / "sites_check.csv", encoding="utf-8-sig")
    assert list(table["变化"]) == ["否" if pd.isna(e) else "是" for e in sites["expected"]]
    assert f"{REMOVED} (一级保护区) 删除" in table["变化原因"][2]
    prov = json.loads((out / "sites_check.csv.provenance.json").read_text(encoding="utf-8"))["provenance"]
    assert prov["pack_version"] == "2026.2" and prov["as_of"] == ON.isoformat() and len(prov["input_sha256"]) == 64
    gp = pyogrio.read_dataframe(out / "sites_check.gpkg", layer="provenance")
    assert dict(zip(gp["key"], gp["value"]))["pack_sha256"] == prov["pack_sha256"]
    en = CliRunner().invoke(main_group, ["check", str(src), "--pack", str(new_pack), "--against", str(SHIPPED),
                                         "--date", ON.isoformat(), "-o", str(tmp_path / "en.csv"), "--lang", "en"])
    assert en.exit_code == 0, en.output
    t = pd.read_csv(tmp_path / "en.csv", encoding="utf-8-sig")
    assert set(t["changed"]) == {"yes", "no"} and "change_cause" in t.columns


def test_a_rerun_of_the_same_check_gives_the_same_file(tmp_path, sites):
    src = tmp_path / "sites.csv"
    pd.DataFrame({"经度": sites.geometry.x, "纬度": sites.geometry.y}).to_csv(src, index=False)
    outs = []
    for i in range(2):
        target = tmp_path / f"run{i}.csv"
        res = CliRunner().invoke(main_group, ["check", str(src), "--date", ON.isoformat(), "-o", str(target)])
        assert res.exit_code == 0, res.output
        outs.append(target)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    from zoning.core.provenance import compare_provenance, read_provenance_file

    assert compare_provenance(read_provenance_file(outs[0]), read_provenance_file(outs[1])) == []


def test_watch_reports_only_changes_since_the_last_run(new_pack, sites, tmp_path):
    import shutil

    src = tmp_path / "sites.csv"
    pd.DataFrame({"项目名称": sites["site_name"], "经度": sites.geometry.x, "纬度": sites.geometry.y}).to_csv(
        src, index=False)
    pack = tmp_path / "pack"
    shutil.copytree(SHIPPED, pack, ignore=shutil.ignore_patterns("derive_demo", "sources", ".zoning.lock"))
    store = tmp_path / "watch"
    runner = CliRunner()

    def run(*args):
        r = runner.invoke(main_group, [*args, "--store", str(store)])
        assert r.exit_code == 0, r.output
        return r.output

    run("watch", "add", "sites", str(src), "--pack", str(pack), "--set", "construction=new")
    assert "首次运行" in run("watch", "run", "--date", ON.isoformat())
    assert "变化 0 个" in run("watch", "run", "--date", ON.isoformat())
    shutil.rmtree(pack)  # the bureau publishes the new pack where the old one was
    shutil.copytree(new_pack, pack)
    out = run("watch", "run", "--date", ON.isoformat(), "--lang", "en")
    assert "5 changed since the last run" in out  # the quota site's row does not change: no land use here
    assert "pack version: 2026.1 → 2026.2" in out and f"+{ADDED}" in out and f"-{REMOVED}" in out
    assert "0 changed" in run("watch", "run", "--date", ON.isoformat(), "--lang", "en")
    assert "last run" in run("watch", "list")


def test_a_repeated_feature_id_still_names_the_cause(tmp_path):
    """Two outlines share one zone id (as imported data can): when the second one moves, the
    re-check names that feature as the cause, not 'the packs differ'. The site's zone ids are the
    context's; the diff pairs repeated ids by occurrence; the cause lookup joins the two."""
    from versions_edits import copy_pack

    def with_ids(target, shift_second):
        pack = copy_pack(target)
        gpkg = pack / "jincheng.gpkg"
        ctl = pyogrio.read_dataframe(gpkg, layer="groundwater_control")
        ctl.loc[ctl["zone_id"].isin(["GW-C2-050", "GW-C2-051"]), "zone_id"] = "GW-DUP"
        if shift_second:
            from shapely.affinity import translate

            j = ctl.index[ctl["zone_id"] == "GW-DUP"][1]
            ctl.loc[j, "geometry"] = translate(ctl.loc[j, "geometry"], xoff=SHIFT)
        pyogrio.write_dataframe(ctl, gpkg, layer="groundwater_control")
        return pack, ctl

    old_pack, old_ctl = with_ids(tmp_path / "a", False)
    new_pack, _ = with_ids(tmp_path / "b", True)
    second = old_ctl.loc[old_ctl["zone_id"] == "GW-DUP", "geometry"].iloc[1].representative_point()
    site = gpd.GeoDataFrame({"site_name": ["on-the-second"]}, geometry=[second], crs="EPSG:4490")
    new = build_context(new_pack, on_date=ON, project_defaults={"construction": "new"})
    old = build_context(old_pack, on_date=ON, project_defaults={"construction": "new"})
    res = recheck_sites(site, new=new, old=old, lang="en")
    assert bool(res["changed"].iloc[0]) and res["zone_ids_before"].iloc[0] == "GW-DUP"
    cause = res["change_cause"].iloc[0]
    assert "GW-DUP" in cause and "outline changed" in cause and "differ" not in cause, cause
