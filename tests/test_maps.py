"""zoning.maps and ``zoning map``: the rendered HTML, without a browser."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

folium = pytest.importorskip("folium")

import zoning.maps  # noqa: E402
from zoning.core import vocab  # noqa: E402
from zoning.core.errors import CRSMismatchError, InputFileError, LayerNotFoundError, ZoningError  # noqa: E402
from zoning.maps import (  # noqa: E402
    add_sites,
    build_map,
    default_map_layers,
    json_for_script,
    leaflet_inline_assets,
    normalise_verdict,
)

TODAY = dt.date(2025, 6, 1)
MAX_BYTES = 3_000_000


def _html(m) -> str:
    return m.get_root().render()


@pytest.fixture(scope="module")
def offline_map(pack):
    return build_map(pack, offline=True, today=TODAY)


@pytest.fixture(scope="module")
def offline_html(offline_map):
    return _html(offline_map)


def _layer(m, key):
    for layer in m._zoning_app.config["layers"]:
        if layer["key"] == key:
            return layer
    raise KeyError(key)


def test_build_map_returns_an_unsaved_map_of_every_layer(pack, offline_map, offline_html, tmp_path, monkeypatch):
    # what a user checks: a map they save themselves, titled with the pack and the date,
    # carrying every vector layer of the pack and the page script that answers clicks
    assert isinstance(offline_map, folium.Map)
    assert re.search(r"<title>[^<]*jincheng[^<]*生成于 2025-06-01[^<]*</title>", offline_html)
    assert offline_map._zoning_meta["layers"] == default_map_layers(pack)
    assert [s.name for s in pack.layers if s.kind != "raster"] == default_map_layers(pack)
    assert offline_html.count("ZoningMap.init(") == 1
    monkeypatch.chdir(tmp_path)
    build_map(pack, layers=["counties"], today=TODAY)
    assert list(tmp_path.iterdir()) == []  # nothing written: saving is the caller's business


def test_every_layer_is_a_switchable_overlay(offline_html):
    for name in ("县级行政区［官方 official］", "中心城市规划区［示意 indicative］",
                 "中心城区 · 2025年度供地计划［示意 indicative］",
                 "地下水保护类区域［演示数据 demonstration］", "地下水管控类区域［演示数据 demonstration］",
                 "重点工程项目［按县计数，位置未公布］"):
        assert json.dumps(name) in offline_html or name in offline_html
    assert "L.control.layers(" in offline_html


def test_offline_html_loads_nothing_from_the_network(offline_html):
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']?(https?:)?//""", offline_html)
    assert "cdn.jsdelivr" not in offline_html and "jquery" not in offline_html.lower()
    assert 'L.version="1.9.3"' in offline_html or "t.version=\"1.9.3\"" in offline_html
    assert "url(images/" not in offline_html  # leaflet.css images are data URIs


def test_online_html_links_only_leaflet(pack):
    page = _html(build_map(pack, layers=["counties"], today=TODAY))
    assert "leaflet@1.9.3/dist/leaflet.js" in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()


def test_whole_city_map_is_small(offline_html):
    assert len(offline_html.encode("utf-8")) < MAX_BYTES


def test_coordinates_rounded_to_five_decimals(offline_map):
    def walk(a):
        if isinstance(a, (int, float)):
            yield a
        else:
            for x in a:
                yield from walk(x)

    for layer in offline_map._zoning_app.config["layers"]:
        for f in layer.get("data", {}).get("features", []):
            for c in walk(f["geometry"]["coordinates"]):
                assert round(c, 5) == c


def test_display_geometries_keep_topology_and_area(pack, offline_map):
    from zoning.core.layers import read_layer

    counties = read_layer(pack, "counties").to_crs("EPSG:4326")
    shown = gpd.GeoDataFrame.from_features(_layer(offline_map, "counties")["data"]["features"], crs="EPSG:4326")
    assert len(shown) == len(counties)
    assert shown.is_valid.all()
    assert abs(shown.to_crs(3857).area.sum() / counties.to_crs(3857).area.sum() - 1) < 0.01
    # a coverage stays a coverage: no overlaps between neighbours beyond rounding
    geoms = list(shown.to_crs(3857).geometry)
    overlap = sum(a.intersection(b).area for i, a in enumerate(geoms) for b in geoms[i + 1:])
    assert overlap < 1e5  # m², i.e. < 0.1 km² over the whole city


def test_demonstration_and_indicative_layers_are_dashed_and_labelled(offline_map):
    control = _layer(offline_map, "groundwater_control")
    assert control["accuracy"] == "demonstration"
    assert control["honesty"].startswith("演示数据 demonstration") and "not an official outline" in control["honesty"]
    for cls in ("一级管控区", "二级管控区"):
        st = control["styles"][cls]
        assert st["dashArray"] and st["fillColor"].startswith("url(#zm-hatch-")
    assert control["styles"]["一级管控区"]["weight"] > control["styles"]["二级管控区"]["weight"]
    extent = _layer(offline_map, "planning_extents:中心城区")
    assert extent["accuracy"] == "indicative" and extent["styles"]["中心城区"]["dashArray"]
    counties = _layer(offline_map, "counties")
    assert counties["honesty"] == "" and "dashArray" not in counties["base_style"]


def test_zone_popups_cite_rules_from_the_catalogue(offline_map, pack):
    from zoning.core.rules import load_rules, rules_for_zone

    control = _layer(offline_map, "groundwater_control")
    ids = control["rules_by_class"]["一级管控区"]
    expected = {r.id for r in rules_for_zone(load_rules(pack.rules_dir), "groundwater_control", "一级管控区")}
    assert set(ids) == expected
    config = offline_map._zoning_app.config
    rules = {r["id"]: r for r in config["rules"]}
    # the page labels an effect from the vocabulary it is given, not from its own words
    cites = [f"{rules[i]['cite']}（{config['vocab']['effects'][rules[i]['effect']]}）" for i in ids]
    assert "晋市环发〔2023〕124号 第二十四条（禁止）" in cites
    assert rules[ids[0]]["effect"] == "prohibited"  # strictest first


def test_page_receives_the_vocabulary_rules_and_attributes(offline_map, pack):
    from zoning.core.rules import PROJECT_ATTRIBUTES, load_rules

    config = offline_map._zoning_app.config
    assert config["vocab"] == json.loads(json.dumps(vocab.for_script("zh"), ensure_ascii=False))
    assert config["extent_classes"] == {"planning": vocab.PLANNING_AREA, "central": vocab.CENTRAL_AREA}
    assert config["codes"]["verdict"]["needs_confirmation"] == vocab.NEEDS_CONFIRMATION
    assert set(config["codes"]["verdict"].values()) == set(vocab.VERDICTS)
    catalogue = load_rules(pack.rules_dir)
    assert [r["id"] for r in config["rules"]] == [r.id for r in catalogue]  # the order applicable_rules walks
    by_id = {r["id"]: r for r in config["rules"]}
    a24 = by_id["JSH-2023-124-A24"]
    assert a24["applies_to"] == [{"kind": "groundwater_control", "classes": ["一级管控区"]}]
    assert a24["addressee"] == "project" and a24["in_force"] == {"from": "2024-01-18", "to": "2029-01-17"}
    assert a24["conditions"][0]["any_of"][0][0] == {"attr": "construction", "op": "in",
                                                   "value": ["new", "rebuild", "expansion"]}
    with_exceptions = [r for r in config["rules"] if r["exceptions"]]
    assert with_exceptions and all(x["effect"] and x["conditions"] for r in with_exceptions for x in r["exceptions"])
    # the form offers exactly the attributes the rules read, with the allowed values
    attrs = {a["name"]: a for a in config["attributes"]}

    def read(conds):
        for c in conds:
            if "any_of" in c:
                for g in c["any_of"]:
                    yield from read(g)
            else:
                yield c["attr"]

    used = {a for r in config["rules"] for a in read(r["conditions"])}
    used |= {a for r in config["rules"] for x in r["exceptions"] for a in read(x["conditions"])}
    # ...and those that settle a membership the indicative extents leave uncertain
    assert set(attrs) == used | set(vocab.MEMBERSHIP_ATTRIBUTES.values())
    assert attrs["construction"]["values"][0] == ["new", "新建"]
    for name, a in attrs.items():
        assert [v for v, _label in a["values"]] == list(PROJECT_ATTRIBUTES[name].allowed)
        assert a["label"] == PROJECT_ATTRIBUTES[name].zh
    assert attrs["activity"]["accept"]["打井"] == "well_drilling"  # the words validate_project accepts
    assert attrs["industry"]["free_text"] and not attrs["construction"]["free_text"]
    # every rule says what it answers, so the page gives a verdict per subject
    assert {r["subject"] for r in config["rules"]} <= set(vocab.SUBJECTS)
    assert set(config["vocab"]["subjects"]) == set(vocab.SUBJECTS)


def test_page_resolves_industries_from_a_table_made_by_validate_project(offline_map):
    """Every code, name and word a planner may type maps to what validate_project gives."""
    from zoning.core.industries import groups, standard
    from zoning.core.rules import validate_project

    table = offline_map._zoning_app.config["industries"]
    assert len(table["codes"]) == len(standard()) == 237
    assert len(table["words"]) >= len(groups()) * 3
    for code, (t, name) in table["codes"].items():
        assert table["groups"][t] == list(validate_project({"industry": code})["industry"])
        assert name == standard()[code].name
    for word, t in table["words"].items():
        assert table["groups"][t] == list(validate_project({"industry": word})["industry"]), word
    assert table["groups"][table["codes"]["C"][0]][0].startswith("?")  # a 门类: groups only possible
    assert table["sections"]["26"] == "C"
    assert len(json_for_script(table).encode("utf-8")) < 20_000


def test_layers_carry_their_accuracy_in_words_and_their_period(offline_map):
    counties = _layer(offline_map, "counties")
    assert counties["acc_text"] == vocab.layer_accuracy_label("official", "zh", 750.0)
    assert "750" in counties["acc_text"] and "概化" in counties["acc_text"]
    quota = _layer(offline_map, "land_supply_quota")
    assert (quota["valid_from"], quota["valid_to"]) == ("2025-01-01", "2025-12-31")


def test_layers_name_their_source_as_the_answers_do_then_their_method(offline_map, pack):
    """The map's layer panel and every answer's layers_used name a layer's source the same way
    (core.context.source_of: the county layer's data source too); the method follows it."""
    from zoning.core.context import source_of

    entries = offline_map._zoning_app.config["layers"]
    assert {e["name"] for e in entries} == {s.name for s in pack.layers}
    for layer in entries:
        spec = pack.layer(layer["name"])
        prov = spec.provenance or {}
        assert layer["source"].startswith(source_of(prov)), layer["key"]
        if prov.get("method"):
            assert layer["source"].endswith(str(prov["method"])), layer["key"]
    assert "(tianditu)" in _layer(offline_map, "counties")["source"]


def test_page_script_spells_no_class_verdict_or_label():
    js = (Path(zoning.maps.__file__).parent / "static" / "zoning_map.js").read_text(encoding="utf-8")
    assert not re.search(r"[\u4e00-\u9fff]", js), "the script holds Chinese text of its own"
    literals = set(re.findall(r'"((?:[^"\\\n]|\\.)*)"', js)) | set(re.findall(r"'((?:[^'\\\n]|\\.)*)'", js))
    spelt = {c.name for c in vocab.ZONE_CLASS_LIST} | {c.en for c in vocab.ZONE_CLASS_LIST}
    spelt |= set(vocab.ALL_VERDICTS) | set(vocab.VERDICT_ALIASES)
    for labels in (vocab.VERDICT_LABELS, vocab.EFFECT_LABELS, vocab.STATUS_LABELS, vocab.ACCURACY_LABELS):
        spelt |= {x for pair in labels.values() for x in pair}
    spelt |= set(vocab.EFFECTS) | set(vocab.RULE_STATUSES) | set(vocab.ACCURACIES)
    assert not literals & spelt, sorted(literals & spelt)


def test_display_geometry_is_precise_enough_for_the_query(pack, offline_map):
    """The page answers on what it draws: zones within ~3 m of the full outline, counties exact."""
    from zoning.core import settings
    from zoning.core.layers import read_layer

    for key in ("groundwater_protection", "groundwater_control", "counties"):
        full = read_layer(pack, key).to_crs(settings.area_crs)
        shown = gpd.GeoDataFrame.from_features(_layer(offline_map, key)["data"]["features"],
                                               crs="EPSG:4326").to_crs(settings.area_crs)
        assert len(shown) == len(full)
        worst = max(a.hausdorff_distance(b) for a, b in zip(full.geometry, shown.geometry))
        assert worst < (1.0 if key == "counties" else 3.5), (key, worst)


def test_centre_district_carries_the_2025_quota(offline_map):
    extent = _layer(offline_map, "planning_extents:中心城区")
    quota = extent["data"]["features"][0]["properties"]["_quota"]
    assert ["供应总量（公顷）", 427.674] in quota
    assert any(row[0] == "住宅用地（公顷）" for row in quota)
    # the quota polygon is still queried on click, but not drawn twice
    q = _layer(offline_map, "land_supply_quota")
    assert q["query"] and not q["draw"]


def test_key_projects_are_counts_per_county_never_pins(offline_map, pack):
    from zoning.core.layers import read_layer

    kp = _layer(offline_map, "key_projects")
    assert "data" not in kp  # no feature geometries at all
    projects = read_layer(pack, "key_projects")
    per_county = projects["county_adcodes"].fillna("").str.split(",").explode().str.strip()
    assert sum(len(g["items"]) for g in kp["groups"]) == int((per_county != "").sum())
    assert len(kp["city_items"]) == int((projects["county_adcodes"].fillna("") == "").sum())
    assert "位置未公布" in kp["legend_note"]


def test_lang_en(pack):
    m = build_map(pack, layers=["counties", "groundwater_control"], lang="en", today=TODAY)
    control = _layer(m, "groundwater_control")
    assert control["title"] == "groundwater control zones"
    assert control["honesty"] == "demonstration — not an official outline"
    assert m._zoning_app.config["ui"]["query_title"] == "What applies here"
    ids = control["rules_by_class"]["一级管控区"]
    rules = {r["id"]: r for r in m._zoning_app.config["rules"]}
    assert rules[ids[0]]["summary"]  # English summaries
    assert m._zoning_app.config["vocab"]["classes"]["一级管控区"]["label"] == "一级管控区 (level-1 control zone)"
    assert m._zoning_app.config["attributes"][0]["label"] == "type of construction"


def test_layer_selection(pack):
    m = build_map(pack, layers=["counties"], today=TODAY)
    assert [layer["key"] for layer in m._zoning_app.config["layers"]] == ["counties"]
    with pytest.raises(LayerNotFoundError, match="nope"):
        build_map(pack, layers=["nope"])
    assert default_map_layers(pack)[0] == "counties"


def test_json_for_script_cannot_close_the_script():
    text = json_for_script({"a": "</script><!-- x ]]> & \u2028"})
    assert "</" not in text and "<!--" not in text and "]]>" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- x ]]> & \u2028"}


def test_leaflet_assets_are_inlined_safely():
    js, css = leaflet_inline_assets()
    assert "</script" not in js.lower() and "sourceMappingURL" not in js
    assert "data:image/png;base64," in css


def _sites():
    return gpd.GeoDataFrame(
        {"name": ["<script>alert(1)</script>", "红线 B"], "verdict": ["禁止", "obligations"],
         "note": ['"><img src=x onerror=alert(2)>', ""]},
        geometry=[Point(112.8, 35.6), Polygon([(112.6, 35.5), (112.61, 35.5), (112.61, 35.51)])],
        crs="EPSG:4490",
    )


def test_site_strings_never_reach_html_unescaped(pack):
    page = _html(build_map(pack, layers=["counties"], sites=_sites(), today=TODAY))
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page


def test_sites_coloured_by_verdict(pack):
    m = build_map(pack, layers=["counties"], sites=_sites(), today=TODAY)
    sites = _layer(m, "sites")
    verdicts = [f["properties"]["_verdict"] for f in sites["data"]["features"]]
    assert verdicts == ["prohibited", "obligations"]
    assert [e["label"] for e in sites["legend"]] == [vocab.verdict_label("prohibited"), vocab.verdict_label("obligations")]
    assert [e["style"]["color"] for e in sites["legend"]] == [vocab.VERDICT_COLOURS["prohibited"],
                                                             vocab.VERDICT_COLOURS["obligations"]]


@pytest.mark.parametrize(("value", "key"), [
    ("prohibited", "prohibited"), ("Needs confirmation", "needs confirmation"), ("需确认", "needs confirmation"),
    ("needs_confirmation", "needs confirmation"), ("obligation", "obligations"), ("clear", "clear"),
    ("有条件准入", "conditional"), (None, "not checked"), ("whatever", "not checked"),
])
def test_verdict_normalisation(value, key):
    assert normalise_verdict(value) == key
    assert key in vocab.ALL_VERDICTS


def test_add_sites_on_a_plain_folium_map():
    m = folium.Map(location=[35.5, 112.8], tiles=None)
    add_sites(m, _sites(), "en")
    folium.LayerControl().add_to(m)
    add_sites(m, _sites().iloc[:1], "en", name="second batch")
    page = _html(m)
    assert page.index("ZoningMap.init(") < page.index("L.control.layers(")
    assert "second batch" in page


def test_add_sites_errors():
    m = folium.Map(tiles=None)
    with pytest.raises(InputFileError, match="name"):
        add_sites(m, gpd.GeoDataFrame({"x": [1]}, geometry=[Point(112.8, 35.5)], crs="EPSG:4490"))
    with pytest.raises(CRSMismatchError):
        add_sites(m, gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(3.9e6, 3.9e6)]))


def test_sites_from_a_file(pack, tmp_path):
    path = tmp_path / "sites.geojson"
    _sites().to_file(path, driver="GeoJSON")
    m = build_map(pack, layers=["counties"], sites=path, today=TODAY)
    assert len(_layer(m, "sites")["data"]["features"]) == 2


def test_basemaps(pack, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(ZoningError, match="TIANDITU_KEY"):
        build_map(pack, layers=["counties"], basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    page = _html(build_map(pack, layers=["counties"], basemap="tianditu"))
    assert "tianditu.gov.cn/vec_w/wmts" in page and "tk=abc123" in page
    page = _html(build_map(pack, layers=["counties"], basemap="osm"))
    assert "tile.openstreetmap.org" in page
    with pytest.raises(ZoningError, match="basemap"):
        build_map(pack, layers=["counties"], basemap="amap")  # GCJ-02 tiles are not offered
    with pytest.warns(UserWarning, match="network"):
        build_map(pack, layers=["counties"], basemap="osm", offline=True)


# ---------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------


@pytest.fixture
def cli():
    from zoning.cli.main import main_group

    return main_group  # ``map`` must be registered by the CLI itself, not by this test


def test_cli_writes_map_and_refuses_to_overwrite(cli, runner, tmp_path):
    out = tmp_path / "m.html"
    result = runner.invoke(cli, ["map", "--offline", "--layers", "counties,groundwater_control", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "wrote" in result.output
    result = runner.invoke(cli, ["map", "-o", str(out)])
    assert result.exit_code == 2 and "--overwrite" in result.output
    result = runner.invoke(cli, ["map", "-o", str(out), "--overwrite", "--lang", "en", "--layers", "counties"])
    assert result.exit_code == 0, result.output


def test_cli_errors_are_one_line(cli, runner, tmp_path, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    result = runner.invoke(cli, ["map", "--basemap", "tianditu", "-o", str(tmp_path / "a.html")])
    assert result.exit_code == 1 and "TIANDITU_KEY" in result.output and "Traceback" not in result.output
    result = runner.invoke(cli, ["map", "--layers", "nope", "-o", str(tmp_path / "b.html")])
    assert result.exit_code == 1 and "nope" in result.output


def test_the_quota_is_titled_with_its_own_year(tmp_path):
    """The land-supply plan's title on the map comes from the quota layer's year: a later pack's
    plan was still called 2025年度 (the words were written into the page's labels)."""
    import sys

    import pyogrio

    sys.path.insert(0, str(Path(__file__).parent))
    from versions_edits import copy_pack
    from zoning.core.layers import open_pack

    pack_dir = copy_pack(tmp_path / "pack")
    gpkg = pack_dir / "jincheng.gpkg"
    frames = {name: pyogrio.read_dataframe(gpkg, layer=name) for name, _ in pyogrio.list_layers(gpkg)}
    frames["land_supply_quota"]["year"] = 2026
    gpkg.unlink()
    for name, gdf in frames.items():
        pyogrio.write_dataframe(gdf, gpkg, layer=name, driver="GPKG", append=gpkg.exists())
    m = build_map(open_pack(pack_dir), offline=True, today=TODAY)
    titles = [layer["title"] for layer in m._zoning_app.config["layers"]]
    assert m._zoning_app.config["ui"]["quota"] == "2026年度国有建设用地供应计划"
    assert any("2026年度供地计划" in t for t in titles) and not any("2025" in t for t in titles)


@pytest.mark.parametrize("fmt", ["gpkg", "csv"])
def test_the_map_draws_the_check_results_coloured_by_their_verdicts(pack, tmp_path, runner, fmt):
    """zoning map --sites reads sites as zoning check does, the check's own results too: its
    GeoPackage (sites beside the provenance table: the only layer with geometries is taken)
    and its CSV (the verdict under its header 结论), each site in the colour of the verdict the
    check gave it. The map refused the GeoPackage (several layers, and an option it does not
    have) and any file whose names are 项目名称 rather than 'name'."""
    from zoning.cli.main import main_group

    src = Path(__file__).resolve().parent.parent / "examples" / "sites_demo.csv"
    out = tmp_path / "out"
    checked = runner.invoke(main_group, ["check", str(src), "--out", str(out), "--format", fmt, "--no-progress",
                                         "--date", TODAY.isoformat()])
    assert checked.exit_code == 0, checked.output
    result = out / f"sites_demo_check.{fmt}"
    page = tmp_path / "m.html"
    drawn = runner.invoke(main_group, ["map", "--pack", str(pack.path), "--layers", "counties", "--sites", str(result),
                                       "-o", str(page)])
    assert drawn.exit_code == 0, drawn.output
    from zoning.check import check_sites
    from zoning.inputs.sites import read_sites

    expected = check_sites(read_sites(src), on_date=TODAY)
    m = build_map(pack, layers=["counties"], sites=zoning.maps.read_sites(result), today=TODAY)
    feats = _layer(m, "sites")["data"]["features"]
    got = {f["properties"]["name"]: f["properties"]["_verdict"] for f in feats}
    assert got == dict(zip(expected["site_name"], expected["verdict"]))
    assert len(set(got.values())) > 1  # not one colour for all
    named = tmp_path / "红线.geojson"  # a planner's own file: 项目名称, no 'name'
    gpd.GeoDataFrame({"项目名称": ["甲"]}, geometry=[Point(112.85, 35.49)], crs="EPSG:4490").to_file(named)
    m = build_map(pack, layers=["counties"], sites=named, today=TODAY)
    assert [f["properties"]["name"] for f in _layer(m, "sites")["data"]["features"]] == ["甲"]


def test_the_map_says_why_a_site_is_not_drawn_and_takes_crs(pack, tmp_path, runner):
    """A site the check's reader cannot place is left out with the reason the check gives it
    (outside the city, metres given as degrees), not 'no geometry'; when none can be drawn the
    file is named; --crs / --order read a table of Gauss–Krüger coordinates as zoning check does."""
    from zoning.cli.main import main_group

    far = tmp_path / "far.geojson"
    gpd.GeoDataFrame({"项目名称": ["京", "晋"]}, geometry=[Point(116.4, 39.9), Point(112.85, 35.49)],
                     crs="EPSG:4490").to_file(far)
    out = runner.invoke(main_group, ["map", "--pack", str(pack.path), "--layers", "counties", "--sites", str(far),
                                     "-o", str(tmp_path / "a.html")])
    assert out.exit_code == 0, out.output
    assert "1 site(s) are not drawn: row 1: feature at lon=116.400000" in " ".join(out.output.split())
    gk = tmp_path / "gk.csv"
    gk.write_text("项目名称,X,Y\n甲,3930663.07,38396566.25\n", encoding="utf-8")
    bad = runner.invoke(main_group, ["map", "--pack", str(pack.path), "--sites", str(gk), "-o", str(tmp_path / "b.html")])
    assert bad.exit_code == 1 and f"{gk}: none can be drawn: row 2:" in " ".join(bad.output.split())
    good = runner.invoke(main_group, ["map", "--pack", str(pack.path), "--layers", "counties", "--sites", str(gk),
                                      "--crs", "gk3", "--order", "survey", "-o", str(tmp_path / "c.html")])
    assert good.exit_code == 0, good.output
