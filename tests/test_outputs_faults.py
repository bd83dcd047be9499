"""Nothing lost, nothing wrong in the outputs: fixed columns, neutral CSV cells, workbook
limits said aloud, input columns that share an output's name kept, bad sites as rows."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from zoning.check import INPUT_PREFIX, check_sites
from zoning.cli.main import main_group
from zoning.core import vocab
from zoning.inputs.sites import iter_sites
from zoning.outputs import reports
from zoning.outputs.reports import ResultWriter, neutralise_formulas

HEADER = "项目名称,经度,纬度,建设性质,建设地点"


def _rows(path):
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_optional_column_empty_in_first_chunk_does_not_shift(tmp_path, runner):
    # 建设地点 empty throughout the first chunk (100 rows), filled later
    lines = [HEADER] + [f"a{i},112.85,35.49,新建," for i in range(100)] + [f"b{i},112.86,35.50,改建,某镇{i}" for i in range(3)]
    src = tmp_path / "s.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(main_group, ["check", str(src), "--out", str(out), "--format", "csv,xlsx,gpkg",
                                     "--chunksize", "100", "--no-progress"])
    assert res.exit_code == 0, res.output
    rows = _rows(out / "s_check.csv")
    h = rows[0]
    assert all(len(r) == len(h) for r in rows)
    i_nature, i_place = h.index("建设性质"), h.index("建设地点")
    assert [r[i_nature] for r in rows[1:]] == ["新建"] * 100 + ["改建"] * 3
    assert [r[i_place] for r in rows[1:]] == [""] * 100 + ["某镇0", "某镇1", "某镇2"]
    ws = openpyxl.load_workbook(out / "s_check.xlsx", read_only=True).worksheets[0]
    xrows = list(ws.iter_rows(values_only=True))
    assert [r[xrows[0].index("建设性质")] for r in xrows[1:]] == ["新建"] * 100 + ["改建"] * 3
    import pyogrio

    gp = pyogrio.read_dataframe(out / "s_check.gpkg")
    assert pyogrio.read_info(out / "s_check.gpkg")["dtypes"][list(gp.columns).index("location")] == "object"
    assert gp["location"].isna().sum() == 100 and gp["location"].tolist()[100:] == ["某镇0", "某镇1", "某镇2"]


def test_input_columns_named_like_outputs_are_kept_with_a_prefix(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text("项目名称,经度,纬度,状态,结论,行号,verdict\n甲,112.85,35.49,在建,可行,7,clear\n", encoding="utf-8")
    res = check_sites(src)
    assert res["verdict"].iloc[0] in vocab.VERDICTS  # ours, not the file's
    for c, v in (("状态", "在建"), ("结论", "可行"), ("行号", "7"), ("verdict", "clear")):
        assert res[INPUT_PREFIX + c].iloc[0] == v
    w = ResultWriter({"csv": tmp_path / "o.csv"})
    w.write(res)
    w.close()
    h = _rows(tmp_path / "o.csv")[0]
    assert len(h) == len(set(h)), "duplicate headers"


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "@SUM(1+1)", "+1+cmd",
                                  "-2+cmd", "\tx", "\rx"])
def test_formulas_neutralised(cell):
    import pandas as pd

    out = neutralise_formulas(pd.Series([cell, "-12.5", "+3", "普通文字", None], dtype=object))
    assert out.iloc[0] == "'" + cell
    assert out.iloc[1:4].tolist() == ["-12.5", "+3", "普通文字"] and pd.isna(out.iloc[4])


def test_workbook_rows_past_the_limit_continue_on_a_new_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(reports, "XLSX_MAX_ROWS", 4)  # 3 data rows a sheet
    src = tmp_path / "s.csv"
    src.write_text(HEADER + "\n" + "\n".join(f"p{i},112.85,35.49,新建," for i in range(8)) + "\n", encoding="utf-8")
    for engine in ("xlsxwriter", "openpyxl"):
        w = ResultWriter({"xlsx": tmp_path / f"o_{engine}.xlsx"}, xlsx_engine=engine)
        for chunk in iter_sites(src, chunksize=5):
            w.write(check_sites(chunk))
        w.close()
        wb = openpyxl.load_workbook(tmp_path / f"o_{engine}.xlsx", read_only=True)
        names = wb.sheetnames
        assert names[:3] == ["结果", "结果 (2)", "结果 (3)"], names
        head = list(wb[names[0]].iter_rows(values_only=True))[0]
        data = [r for s in names[:3] for r in list(wb[s].iter_rows(values_only=True))[1:]]
        assert [r[head.index("项目名称")] for r in data] == [f"p{i}" for i in range(8)]
        notes = [r[0] for r in wb["说明"].iter_rows(values_only=True)]
        assert any("结果 (3)" in str(n) for n in notes)


def test_workbook_long_cell_is_cut_with_a_marker_and_a_note(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text(HEADER + "\n" + "名" * 40_000 + ",112.85,35.49,新建,\n", encoding="utf-8")
    w = ResultWriter({"xlsx": tmp_path / "o.xlsx", "csv": tmp_path / "o.csv"})
    w.write(check_sites(src))
    w.close()
    wb = openpyxl.load_workbook(tmp_path / "o.xlsx", read_only=True)
    head, row = list(wb["结果"].iter_rows(values_only=True))[:2]
    name = row[head.index("项目名称")]
    assert len(name) <= reports.XLSX_MAX_CELL and name.endswith("全文见CSV/GeoPackage]")
    assert any("截断" in str(r[0]) for r in wb["说明"].iter_rows(values_only=True))
    rows = _rows(tmp_path / "o.csv")
    assert len(rows[1][rows[0].index("项目名称")]) == 40_000  # the CSV keeps it whole


def test_one_bad_geometry_never_sinks_the_batch(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text("项目名称,WKT\n"
                   "a,POINT(nan nan)\n"
                   'b,"CURVEPOLYGON(CIRCULARSTRING(112.85 35.49, 112.86 35.49, 112.85 35.49))"\n'
                   'c,"POLYGON((1e300 1e300, 1e301 1e300, 1e301 1e301, 1e300 1e300))"\n'
                   "d,POINT(112.85 35.49)\n", encoding="utf-8")
    res = check_sites(src)
    assert res["site_name"].tolist() == ["a", "b", "c", "d"]
    assert res["status_code"].tolist() == ["error", "error", "error", "ok"]
    assert "not finite" in res["status"].iloc[0]
    assert "curved geometries" in res["status"].iloc[1]
    assert res["verdict"].iloc[3] in vocab.VERDICTS


def test_html_report_never_reaches_for_a_cdn(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text(HEADER + "\n甲,112.85,35.49,新建,\n", encoding="utf-8")
    w = ResultWriter({"html": tmp_path / "o.html"})
    w.write(check_sites(src))
    w.close()
    page = (tmp_path / "o.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
