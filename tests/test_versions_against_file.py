"""zoning check SITES --against an earlier result file: which sites changed, and why."""

from __future__ import annotations

import csv
import io

import pytest

from zoning.cli.main import main_group


def _rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.mark.parametrize(("earlier", "engine"), [("csv", []), ("gpkg", []), ("csv", ["--engine", "dask", "--workers", "1"])])
def test_against_an_earlier_result_names_the_changed_sites(tmp_path, runner, earlier, engine):
    """The same with --engine dask: its results were written without the comparison, and the
    run said every site unchanged."""
    if engine:
        pytest.importorskip("dask.distributed")
    src = tmp_path / "s.csv"
    src.write_text("项目名称,经度,纬度,建设性质\n甲,112.85,35.49,新建\n乙,113.18,35.64,新建\n", encoding="utf-8")
    first = runner.invoke(main_group, ["check", str(src), "--out", str(tmp_path / "o1"), "--format", "csv,gpkg",
                                       "--no-progress", "--date", "2025-06-01"])
    assert first.exit_code == 0, first.output
    # the site 甲 moves into the 泽州县 part of 中心城市规划区; 乙 stays
    src.write_text("项目名称,经度,纬度,建设性质\n甲,112.9064,35.5129,新建\n乙,113.18,35.64,新建\n", encoding="utf-8")
    again = runner.invoke(main_group, ["check", str(src), "--out", str(tmp_path / "o2"), "--format", "csv",
                                       "--no-progress", "--date", "2025-06-01", *engine,
                                       "--against", str(tmp_path / "o1" / f"s_check.{earlier}")])
    assert again.exit_code == 0, again.output
    assert "变化 1 个, 未变化 1 个" in again.output
    rows = _rows(tmp_path / "o2" / "s_check.csv")
    by = {r["项目名称"]: r for r in rows}
    assert by["甲"]["变化"] == "是" and "county_adcode: 140502 → 140525" in by["甲"]["变化原因"]
    assert by["乙"]["变化"] == "否" and not by["乙"]["变化原因"]


def test_against_a_file_that_is_no_result(tmp_path, runner):
    src = tmp_path / "s.csv"
    src.write_text("项目名称,经度,纬度\n甲,112.85,35.49\n", encoding="utf-8")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    res = runner.invoke(main_group, ["check", str(src), "--out", str(tmp_path / "o"), "--format", "csv",
                                     "--no-progress", "--against", str(other)])
    assert res.exit_code == 1 and "not the result of zoning check" in res.output
