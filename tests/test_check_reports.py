"""zoning check end to end: CSV/xlsx/gpkg/html written atomically, read back field by field."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from zoning.check import build_context, check_sites
from zoning.cli.check import check
from zoning.cli.main import ZoningGroup
from zoning.core import vocab
from zoning.core.errors import InputFileError
from zoning.outputs.reports import COLUMN_LABELS, ResultWriter, verdict_label, write_results

CSV_TEXT = """序号,项目名称,经度,纬度,建设性质,是否排放污染物,用地面积(亩),用地类别
1,示例项目1,112.85,35.50,新建,是,30,住宅用地
2,示例项目2,35.5,112.8,改建,否,10,
3,示例项目3,abc,35.5,,,,
4,示例项目4,116.4,39.9,,,,
5,示例项目5,,,,,,
6,示例项目6,112.5,35.7,扩建,否,x,工业用地
"""


@pytest.fixture
def cli():
    return ZoningGroup(commands={"check": check})


@pytest.fixture
def sites_csv(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_bytes(CSV_TEXT.encode("gbk"))
    return path


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)) or (not isinstance(a, str) and pd.isna(a)):
        return b is None or b == "" or (isinstance(b, float) and math.isnan(b))
    if isinstance(a, (bool,)) or str(type(a)).endswith("bool_'>"):
        return b in (a, int(a), "是" if a else "否")
    if isinstance(a, (int, float)):
        return b is not None and float(b) == pytest.approx(float(a))
    if a in vocab.MEMBERSHIP_LABELS:  # yes / no / uncertain, shown in the report's language
        return b in (a, *vocab.MEMBERSHIP_LABELS[a])
    return str(a) == str(b)


def test_cli_all_formats_read_back(cli, runner, sites_csv, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    pyogrio = pytest.importorskip("pyogrio")
    out = tmp_path / "out"
    result = runner.invoke(cli, ["check", str(sites_csv), "--out", str(out), "--format", "csv,xlsx,gpkg,html",
                                 "--date", "2025-06-01", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "6 个项目" in result.output
    expected = check_sites(sites_csv, on_date=pd.Timestamp("2025-06-01").date())

    # CSV: UTF-8 with BOM, Chinese headers, six rows in input order
    raw = (out / "sites_check.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    csv_df = pd.read_csv(out / "sites_check.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(csv_df) == 6
    assert csv_df["行号"].tolist() == ["2", "3", "4", "5", "6", "7"]
    assert csv_df["结论"].iloc[0] == verdict_label(expected["verdict"].iloc[0], "zh")
    assert "look swapped" in csv_df["问题说明"].iloc[1]
    assert csv_df["结论"].iloc[4] == "未判定"

    # Excel: results sheet read back field by field
    wb = openpyxl.load_workbook(out / "sites_check.xlsx")
    assert wb.sheetnames == ["结果", "按县汇总", "供地计划", "说明"]
    ws = wb["结果"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    labels = {v[0]: k for k, v in COLUMN_LABELS.items()}
    for r, row in enumerate(ws.iter_rows(min_row=2, values_only=True)):
        for h, v in zip(header, row):
            col = labels.get(h)
            if col is None or col not in expected.columns:
                continue
            e = expected[col].iloc[r]
            if col == "verdict" or col.startswith("verdict_"):
                e = verdict_label(e, "zh")
            if col in ("status_code", "basis_accuracy"):
                continue
            assert _same(e, v), (r, col, e, v)
    verdict_cell = ws.cell(row=2, column=header.index("结论") + 1)
    assert verdict_cell.fill.fgColor.rgb.endswith(("F4B6B6", "FFE08A", "FFD1A6", "CFE2F3", "C9EBC9"))
    about = [c.value for c in wb["说明"]["A"]]
    assert any("演示数据" in str(v) for v in about)
    quota = list(wb["供地计划"].iter_rows(values_only=True))
    assert quota[0][0] == "用地类别" and quota[-1][0] == "合计"

    # GeoPackage: every result field, English names
    gdf = pyogrio.read_dataframe(out / "sites_check.gpkg", layer="sites")
    assert len(gdf) == 6
    for col in ("row", "site_name", "verdict", "status", "county", "zones", "articles", "demonstration_basis"):
        for r in range(6):
            assert _same(expected[col].iloc[r], gdf[col].iloc[r]), (col, r, expected[col].iloc[r], gdf[col].iloc[r])
    assert gdf.geometry.iloc[0] is not None and gdf.geometry.iloc[1] is None
    assert gdf["verdict_label"].iloc[4] == "未判定"

    # HTML report: header carries the demonstration warning
    text = (out / "sites_check.html").read_text(encoding="utf-8")
    assert "演示数据" in text and "按县汇总" in text
    # nothing temporary left behind
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_cli_fail_on_exit_code(cli, runner, tmp_path, pack):
    from zoning.core.layers import read_layer

    prot = read_layer(pack, "groundwater_protection")
    p = prot[prot["zone_class"] == "一级保护区"].geometry.iloc[0].representative_point()
    path = tmp_path / "p.csv"
    path.write_text(f"项目名称,经度,纬度,建设性质\n示例,{p.x},{p.y},新建\n", encoding="utf-8")
    ok = runner.invoke(cli, ["check", str(path), "-o", str(tmp_path / "r.csv"), "--no-progress"])
    assert ok.exit_code == 0, ok.output
    res = runner.invoke(cli, ["check", str(path), "-o", str(tmp_path / "r.csv"), "--overwrite", "--fail-on", "prohibited",
                              "--set", "water_supply_related=否", "--no-progress"])
    assert res.exit_code == 3, res.output


def test_cli_never_overwrites_input(cli, runner, sites_csv):
    before = sites_csv.read_bytes()
    res = runner.invoke(cli, ["check", str(sites_csv), "-o", str(sites_csv), "--no-progress"])
    assert res.exit_code == 1
    assert "is an input file" in res.output
    assert sites_csv.read_bytes() == before


def test_cli_usage_errors(cli, runner, sites_csv, tmp_path):
    res = runner.invoke(cli, ["check", str(sites_csv), "--crs", "EPSG:999999", "-o", str(tmp_path / "a.csv")])
    assert res.exit_code == 2
    res = runner.invoke(cli, ["check", str(sites_csv), "--format", "odt", "--out", str(tmp_path)])  # pdf is a report now
    assert res.exit_code == 2
    res = runner.invoke(cli, ["check", str(sites_csv), "--set", "construction=拆迁", "-o", str(tmp_path / "a.csv")])
    assert res.exit_code == 2 and "construction" in res.output  # a bad value on the command line


def test_cli_jzd_folder_and_english(cli, runner, tmp_path):
    from test_jzd import BAD, GOOD, HEADER

    folder = tmp_path / "jzd"
    folder.mkdir()
    (folder / "a.txt").write_bytes((HEADER + GOOD + BAD).encode("gbk"))
    res = runner.invoke(cli, ["check", str(folder), "-o", str(tmp_path / "j.csv"), "--lang", "en", "--no-progress"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(tmp_path / "j.csv", encoding="utf-8-sig")
    assert len(df) == 2 and "verdict" in df.columns and "problem" in df.columns
    assert "stated area" in df["problem"].iloc[1]


@pytest.mark.parametrize("engine", ["xlsxwriter", "openpyxl"])
def test_xlsx_engines(tmp_path, engine, pack):
    if engine == "xlsxwriter":
        pytest.importorskip("xlsxwriter")
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "s.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    ctx = build_context(pack)
    res = check_sites(path, context=ctx)
    out = write_results(res, {"xlsx": tmp_path / f"{engine}.xlsx"}, context=ctx, xlsx_engine=engine)
    ws = openpyxl.load_workbook(out["xlsx"])["结果"]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 7 and rows[1][3] == "示例项目1"


def test_writer_rejects_unknown_format(tmp_path):
    with pytest.raises(InputFileError, match="unknown output format"):
        ResultWriter({"pdf": tmp_path / "x.pdf"})


def test_geopackage_of_many_chunks_is_one_layer_indexed_once(tmp_path, pack):
    """The GeoPackage's sites are streamed to GDAL chunk by chunk (outputs.reports.GpkgFeed):
    every row of every chunk in one layer, in order, with its spatial index, as one write."""
    import sqlite3

    import geopandas as gpd
    import numpy as np

    ctx = build_context(pack)
    rng = np.random.default_rng(7)
    n = 2_500
    lon, lat = rng.uniform(112.6, 113.0, n), rng.uniform(35.4, 35.8, n)
    sites = tmp_path / "sites.csv"
    pd.DataFrame({"编号": [f"S{i}" for i in range(n)], "经度": lon.round(6), "纬度": lat.round(6),
                  "建设性质": "新建"}).to_csv(sites, index=False, encoding="utf-8-sig")
    out = tmp_path / "out.gpkg"
    w = ResultWriter({"gpkg": out}, context=ctx, inputs=[sites])
    from zoning.inputs.sites import iter_sites

    chunks = 0
    for chunk in iter_sites(sites, chunksize=1_000):  # three chunks
        w.write(check_sites(chunk, context=ctx))
        chunks += 1
    w.close()
    assert chunks == 3
    got = gpd.read_file(out, layer="sites")
    assert len(got) == n and got["site_id"].tolist() == [f"S{i}" for i in range(n)]
    assert np.allclose(got.geometry.x, lon.round(6)) and np.allclose(got.geometry.y, lat.round(6))
    with sqlite3.connect(out) as con:
        (indexed,) = con.execute("SELECT count(*) FROM rtree_sites_geom").fetchone()
    assert indexed == n


def test_geopackage_stream_stops_on_a_chunk_that_does_not_fit(tmp_path):
    """A later chunk whose fields cannot take the first one's types is refused at once (its
    error raised where the chunk is handed over), and the writer's thread ends."""
    import pyarrow as pa
    import shapely

    from zoning.outputs.reports import GpkgFeed

    wkb = pa.array(shapely.to_wkb(shapely.points([112.8], [35.5])), type=pa.binary())
    first = pa.table({"n": pa.array([1.5]), "geometry": wkb})
    feed = GpkgFeed(tmp_path / "x.gpkg", first.schema, "Point")
    feed.put(first)
    with pytest.raises((pa.ArrowInvalid, ValueError)):
        feed.put(pa.table({"n": pa.array(["not a number"]), "geometry": wkb}))
    feed.abort()
    assert not feed._thread.is_alive()


def test_report_headers_state_each_layers_accuracy_as_the_map_does(tmp_path, pack, sites_csv):
    """The workbook's and the HTML report's list of layers gives each one's accuracy in words,
    as the map and the review say it (the county lines: official, generalised, ~750 m), not
    the bare label; the demonstration warning is the HTML report's box, once."""
    import openpyxl

    ctx = build_context(pack)
    res = check_sites(sites_csv, context=ctx)
    out = write_results(res, {"xlsx": tmp_path / "r.xlsx", "html": tmp_path / "r.html"}, context=ctx)
    county = next(u for u in ctx.layers_used if u.kind == vocab.COUNTIES)
    words = vocab.layer_accuracy_label(county.accuracy, "zh", county.positional_accuracy_m)
    assert "750" in words
    page = out["html"].read_text(encoding="utf-8")
    assert f"{county.name} [{words}]" in page
    assert page.count("不能作为审批依据") == 1
    notes = openpyxl.load_workbook(out["xlsx"])["说明"]
    assert any(f"{county.name} [{words}]" in str(c.value) for row in notes.iter_rows() for c in row)


def test_geopackage_writes_skip_sqlite_syncs_only_while_writing(tmp_path, pack, sites_csv, monkeypatch):
    """A report's GeoPackage is a temporary file moved into place, as the CSV is: GDAL's
    SQLite commits skip their fsync while a report is written (each forced the 100 MB just
    written to disk: 60 ms per 100,000 sites), the option is GDAL's own and process-wide, so
    it is put back when the last writer ends, and a value the user set is never touched."""
    import pyogrio

    from zoning.outputs.reports import unsynced_sqlite

    name = "OGR_SQLITE_SYNCHRONOUS"
    monkeypatch.delenv(name, raising=False)
    assert pyogrio.get_gdal_config_option(name) is None
    with unsynced_sqlite():
        assert pyogrio.get_gdal_config_option(name) is False  # OFF, as pyogrio reads it
        with unsynced_sqlite():  # a second report at once (the service's jobs)
            pass
        assert pyogrio.get_gdal_config_option(name) is False  # still writing: not put back yet
    assert pyogrio.get_gdal_config_option(name) is None
    ctx = build_context(pack)
    out = write_results(check_sites(sites_csv, context=ctx), {"gpkg": tmp_path / "r.gpkg"}, context=ctx)
    assert pyogrio.read_info(out["gpkg"], layer="sites")["features"] > 0
    assert pyogrio.get_gdal_config_option(name) is None  # nothing left behind
    monkeypatch.setenv(name, "FULL")  # the user's choice
    with unsynced_sqlite():
        assert pyogrio.get_gdal_config_option(name) == "FULL"
    assert pyogrio.get_gdal_config_option(name) == "FULL"
