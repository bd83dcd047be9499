"""zoning.derive end to end on the demonstration inputs at 500 m, and the bad-input errors."""

import json
import shutil

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from click.testing import CliRunner

from zoning.core.errors import CRSMismatchError, InputFileError, ValidationError, ZoningError
from zoning.demo import groundwater as demo
from zoning.derive import derive, load_config
from zoning.derive.steps import NODATA

RES = 500.0


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo") / "inputs"
    demo.generate(d, resolution=RES, write_config=True)
    return d


@pytest.fixture(scope="module")
def demo_run(demo_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    return derive(demo_dir / "config.toml", out)


def _copy(demo_dir, tmp_path, edits=""):
    d = tmp_path / "in"
    shutil.copytree(demo_dir, d)
    cfg = d / "config.toml"
    if edits:
        cfg.write_text(
            cfg.read_text(encoding="utf-8").replace(*edits)
            if isinstance(edits, tuple)
            else cfg.read_text(encoding="utf-8") + edits,
            encoding="utf-8",
        )
    return d, cfg


def test_demo_table_matches_published_areas(demo_run):
    ca = demo_run.class_areas
    cell = RES * RES / 1e6
    checked = 0
    for m in ("abundance", "quality_grade", "function_value", "vulnerability", "cop_class", "load_class"):
        for name, pub in demo.PUBLISHED[m].items():
            row = ca[(ca["map"] == m) & (ca["class"] == name)]
            assert len(row) == 1, (m, name)
            area = float(row["area_km2"].iloc[0])
            # within 1 %; a class smaller than a few cells (COP 高, 2.69 km²) within two cells
            assert abs(area - pub) <= max(0.01 * pub, 2 * cell), (m, name, area, pub)
            checked += 1
    assert checked == 19
    # control zones have the report's structure: both levels, totals near the published
    lv = ca[ca["map"] == "levels"].set_index("class")["area_km2"]
    assert abs(lv["一级管控区"] + lv["二级管控区"] - 512.95) < 0.05 * 512.95
    assert 0 < lv["一级管控区"] < lv["二级管控区"]
    for c in ("一级保护区", "二级保护区", "准保护区", "泉域重点保护区"):
        assert lv[c] > 0


def _zone_totals(zone_table):
    zt = zone_table[zone_table["county"] == "合计"]
    return {c: int(n) for c, n in zip(zt["class"], zt["count"])}


def test_demo_zone_counts_reproduced_by_the_run(demo_run, demo_dir):
    # the generator counts its zones with the vectoriser; the run finds the same zones
    rec = json.loads((demo_dir / "demo.json").read_text(encoding="utf-8"))
    ctl = rec["control"]
    tot = _zone_totals(demo_run.zone_table)
    assert tot == {k: v for k, v in ctl["zones_exact"].items() if v}
    # control counts are calibrated on any grid; protection zones each lie in one county
    assert ctl["counts_met"] and tot["一级管控区"] == 54 and tot["二级管控区"] == 261
    for c in ("二级保护区", "准保护区", "泉域重点保护区"):
        assert tot[c] == demo.PUBLISHED_COUNTS[c], c
    assert rec["protection"]["zones"] == {c: demo.PUBLISHED_COUNTS[c] for c in demo.PUBLISHED["protection"]}
    assert 0 < ctl["texture_tau_shallow"] < demo.TAU_MAX and 0 <= ctl["texture_tau_deep"] < demo.TAU_MAX


def test_demo_counts_and_areas_at_100m(tmp_path_factory):
    # the README's claim: at 100 m every level has the published count and area (within 1 %)
    d = tmp_path_factory.mktemp("demo100") / "inputs"
    demo.generate(d, resolution=100.0, write_config=True)
    res = derive(d / "config.toml", d.parent / "out")
    assert _zone_totals(res.zone_table) == demo.PUBLISHED_COUNTS
    lv = res.class_areas[res.class_areas["map"] == "levels"].set_index("class")["area_km2"]
    zt = res.zone_table[res.zone_table["county"] == "合计"].set_index("class")["area_km2"]
    for c, pub in demo.PUBLISHED["levels"].items():
        assert abs(lv[c] - pub) <= 0.01 * pub, (c, lv[c], pub)
        assert abs(zt[c] - pub) <= 0.01 * pub, (c, zt[c], pub)
    for m in ("abundance", "quality_grade", "function_value", "vulnerability", "cop_class", "load_class"):
        ca = res.class_areas[res.class_areas["map"] == m].set_index("class")["area_km2"]
        for c, pub in demo.PUBLISHED[m].items():
            assert abs(ca[c] - pub) <= 0.003 * pub + 0.01, (m, c, ca[c], pub)


def test_demo_sources_match_published_counts(demo_run, demo_dir):
    src = gpd.read_file(demo_dir / "sources.gpkg")
    assert src["type"].value_counts().to_dict() == demo.SOURCE_COUNTS
    assert demo_run.provenance["sources_per_type"] == demo.SOURCE_COUNTS
    assert (src["accuracy"] == "demonstration").all()


def test_outputs_provenance_and_labels(demo_run, demo_dir):
    out = demo_run.out
    for n in (
        "abundance",
        "function_value",
        "vulnerability",
        "cop_class",
        "load_class",
        "protection",
        "control",
        "levels",
        "drastic_index",
        "cop_index",
        "load_index",
    ):
        with rasterio.open(out / f"{n}.tif") as src:
            assert src.profile["tiled"] and src.compression is not None
            assert src.tags()["accuracy"] == "demonstration"
            if not n.endswith("index"):
                assert src.colormap(1)
                names = json.loads(src.tags(1)["class_names"])
                assert names
    with rasterio.open(out / "levels.tif") as src:
        names = json.loads(src.tags(1)["class_names"])
        assert names["2"] == "一级管控区" and names["6"] == "一级保护区"
    assert set(pyogrio.list_layers(out / "zones.gpkg")[:, 0]) >= {"zones", "provenance"}
    z = gpd.read_file(out / "zones.gpkg", layer="zones")
    assert set(z["class"]) == {"一级保护区", "二级保护区", "准保护区", "泉域重点保护区", "一级管控区", "二级管控区"}
    assert z["county"].notna().all() and (z["accuracy"] == "demonstration").all()
    assert (z["area_km2"] >= 0.01 - 1e-9).all()
    prov = pyogrio.read_dataframe(out / "zones.gpkg", layer="provenance")
    keys = dict(zip(prov["key"], prov["value"]))
    assert json.loads(keys["config_sha256"]) == load_config(demo_dir / "config.toml").text_hash
    inputs = json.loads(keys["inputs"])
    assert len(inputs["abundance"]["sha256"]) == 64
    assert json.loads(keys["switches"])["cop_high_classes"] == ["较高", "高"]
    assert "run_date" in keys
    ca = (out / "class_areas.csv").read_bytes()
    assert ca.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    zt = demo_run.zone_table
    total = zt[(zt["class"] == "一级管控区") & (zt["county"] == "合计")]
    assert int(total["count"].iloc[0]) == (z["class"] == "一级管控区").sum()


def test_windowed_equals_whole(demo_dir, tmp_path):
    cfg = load_config(demo_dir / "config.toml")
    cfg.window_rows = 7
    a = derive(cfg, tmp_path / "win")
    cfg.window_rows = 100000
    b = derive(cfg, tmp_path / "whole")
    for n in ("function_value", "drastic_index", "cop_index", "load_index", "load_class", "protection", "levels"):
        with rasterio.open(a.out / f"{n}.tif") as x, rasterio.open(b.out / f"{n}.tif") as y:
            assert np.array_equal(x.read(1), y.read(1)), n
    assert a.zone_table.equals(b.zone_table)
    assert a.class_areas.equals(b.class_areas)


def test_cli_and_map(demo_dir, tmp_path):
    from zoning.cli.main import main_group

    out = tmp_path / "cli"
    r = CliRunner().invoke(main_group, ["derive", str(demo_dir / "config.toml"), "--out", str(out), "--map"])
    assert r.exit_code == 0, r.output
    assert "功能价值高" in r.output and "一级管控区" in r.output
    assert (out / "map.html").stat().st_size > 10_000
    # existing output is kept unless --overwrite
    r = CliRunner().invoke(main_group, ["derive", str(demo_dir / "config.toml"), "--out", str(out)])
    assert r.exit_code == 1 and "--overwrite" in r.output
    r = CliRunner().invoke(main_group, ["derive", str(demo_dir / "config.toml"), "--out", str(out), "--overwrite"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main_group, ["derive", str(tmp_path / "missing.toml")])
    assert r.exit_code == 1 and "missing.toml" in r.output


def _rewrite(path, fn, **prof_changes):
    with rasterio.open(path) as src:
        a = src.read(1)
        prof = src.profile
    a = fn(a)
    prof.update(prof_changes)
    path.unlink()
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(a, 1)


def _fails(cfg, tmp_path, exc, *words):
    out = tmp_path / "out"
    with pytest.raises(exc) as ei:
        derive(cfg, out)
    msg = str(ei.value)
    for w in words:
        assert w in msg, msg
    # nothing half-written: no output folder, no temporary folder left
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    return msg


def test_raster_without_crs(demo_dir, tmp_path):
    d, cfg = _copy(demo_dir, tmp_path)
    _rewrite(d / "quality.tif", lambda a: a, crs=None)
    _fails(cfg, tmp_path, CRSMismatchError, "quality.tif", "no CRS")
    # declaring the CRS in the config resolves it
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace("[inputs]\n", '[inputs]\ncrs = { quality = "EPSG:4547" }\n'),
        encoding="utf-8",
    )
    assert derive(cfg, tmp_path / "ok").out.exists()


def test_crs_mismatch_with_declared(demo_dir, tmp_path):
    d, cfg = _copy(demo_dir, tmp_path)
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace("[inputs]\n", '[inputs]\ncrs = { abundance = "EPSG:4526" }\n'),
        encoding="utf-8",
    )
    _fails(cfg, tmp_path, CRSMismatchError, "abundance.tif", "EPSG:4526")


def test_metres_labelled_degrees_and_no_overlap(demo_dir, tmp_path):
    d, cfg = _copy(demo_dir, tmp_path)
    _rewrite(d / "quality.tif", lambda a: a, crs="EPSG:4490")
    _fails(cfg, tmp_path, CRSMismatchError, "quality.tif", "metres")
    d2 = tmp_path / "b"
    d2.mkdir()
    d, cfg = _copy(demo_dir, d2)
    with rasterio.open(d / "abundance.tif") as s:
        t = s.transform
    from affine import Affine

    _rewrite(d / "abundance.tif", lambda a: a, transform=Affine(t.a, 0, t.c + 500_000, 0, t.e, t.f))
    _fails(cfg, d2, InputFileError, "abundance.tif", "does not overlap")


def test_nodata_everywhere(demo_dir, tmp_path):
    d, cfg = _copy(demo_dir, tmp_path)
    _rewrite(d / "drastic_R.tif", lambda a: np.full_like(a, NODATA))
    _fails(cfg, tmp_path, InputFileError, "drastic_R.tif", "nodata everywhere")


def test_unknown_class_codes(demo_dir, tmp_path):
    d, cfg = _copy(demo_dir, tmp_path)

    def bad(a):
        a = a.copy()
        a[a == 2] = 7
        return a

    _rewrite(d / "abundance.tif", bad)
    msg = _fails(cfg, tmp_path, ValidationError, "abundance.tif", "unknown class codes")
    assert "[7]" in msg


def test_source_with_missing_type(demo_dir, tmp_path):
    d, cfg = _copy(demo_dir, tmp_path)
    s = gpd.read_file(d / "sources.gpkg")
    s.loc[3, "type"] = None
    s.to_file(d / "sources.gpkg", driver="GPKG")
    _fails(cfg, tmp_path, ValidationError, "sources.gpkg", "missing type", "rows [3]")


def test_bad_config(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(
        '[grid]\ncrs = "EPSG:4490"\nresolution = -1\n[classes]\ndrastic_breaks = [150, 100]\n', encoding="utf-8"
    )
    with pytest.raises(ValidationError) as ei:
        load_config(p)
    probs = " ".join(ei.value.problems)
    assert "geographic" in probs and "resolution" in probs and "drastic_breaks" in probs and "abundance" in probs
    p.write_text("not toml [", encoding="utf-8")
    with pytest.raises(ZoningError):
        load_config(p)


def test_generated_inputs_come_from_the_demo_package_not_the_pipeline(tmp_path):
    """A config with [demo] generate = true runs through zoning.demo.derive_demo (as `zoning derive`
    does); the pipeline alone says so in one line instead of generating data itself."""
    from zoning.demo import derive_demo

    cfg = tmp_path / "config.toml"
    cfg.write_text(demo.demo_config_text(resolution=RES, generate=True), encoding="utf-8")
    with pytest.raises(ZoningError, match="generate = true") as ei:
        derive(cfg, tmp_path / "out")
    assert "\n" not in str(ei.value) and "derive_demo" in str(ei.value)
    res = derive_demo(cfg, tmp_path / "out")
    assert (res.out / "demo_inputs" / "demo.json").exists()
    assert res.provenance["demo"]["seed"] == demo.DEFAULT_SEED
    assert (res.zones["accuracy"] == "demonstration").all()


def test_no_county_layer_is_one_line(tmp_path, monkeypatch):
    """Without a county layer in the config or the pack, the generator says so in one line."""
    from zoning.core import settings
    from zoning.core.errors import NoCountyLayerError
    from zoning.derive.counties import pack_counties

    empty = tmp_path / "pack"
    empty.mkdir()
    (empty / "manifest.toml").write_text('[pack]\nname = "empty"\n', encoding="utf-8")
    monkeypatch.setattr(settings, "default_pack", empty)
    with pytest.raises(NoCountyLayerError) as ei:
        demo.generate(tmp_path / "inputs", resolution=RES)
    msg = str(ei.value)
    assert "\n" not in msg and "no layer of kind 'counties'" in msg and "[inputs] counties" in msg
    with pytest.raises(NoCountyLayerError, match="cannot be opened"):
        pack_counties(tmp_path / "nowhere")
    assert not (tmp_path / "inputs").exists()


def test_the_default_county_pack_is_opened_once(demo_dir, tmp_path, monkeypatch):
    """A config without its own county layer takes the pack's, and records that pack's
    provenance: from one opening of the pack (it was opened twice, once for each)."""
    from zoning.core import layers

    d, cfg = _copy(demo_dir, tmp_path, ('counties = "counties.gpkg"\n', ""))
    opened: list[object] = []
    real = layers.open_pack
    monkeypatch.setattr(layers, "open_pack", lambda path: opened.append(path) or real(path))
    res = derive(cfg, tmp_path / "out")
    assert len(opened) == 1
    assert "jincheng" in str(res.provenance["pack"])
