"""A plain CSV is read by Arrow's reader (inputs.sites._csv_frames_arrow), anything else by
pandas' as before: the two must give the same frames, and the plain path must step aside for
every file pandas reads its own way (blank lines, ragged rows, repeated names...)."""

from __future__ import annotations

import pandas as pd
import pytest

from zoning.inputs import sites as S

HEADER = "编号,项目名称,经度,纬度,建设性质,备注"
ROWS = [
    '007,"示例, 项目一",112.85,35.49,新建,NA',
    "008,项目二 ,112.9,35.5,扩建,null",
    '009,"含""引号""的名称",112.7,35.7,,nan',
    "010,=cmd|' /C calc'!A0,112.81,35.51,新建,   ",
]


def _write(path, text, encoding="utf-8-sig", newline="\n"):
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def _pandas(path, enc, sep=","):
    return pd.concat(list(S._csv_frames_pandas(path, enc, sep, 0, 2)), ignore_index=True)


@pytest.mark.parametrize(("encoding", "newline", "sep", "suffix"), [
    ("utf-8-sig", "\n", ",", ".csv"), ("utf-8", "\r\n", ",", ".csv"), ("gbk", "\n", ",", ".csv"),
    ("gb18030", "\r\n", ",", ".csv"), ("utf-8-sig", "\n", "\t", ".tsv"),
])
def test_a_plain_file_reads_the_same_through_arrow(tmp_path, encoding, newline, sep, suffix):
    text = "\n".join([HEADER, *ROWS]) + "\n"
    if sep == "\t":
        text = "\n".join(line.replace('"示例, 项目一"', "示例 项目一").replace(",", "\t") for line in text.splitlines()) + "\n"
    path = _write(tmp_path / f"s{suffix}", text, encoding, newline)
    frames = S._csv_frames_arrow(path, encoding, sep, 2)
    assert frames is not None and [len(f) for f in frames] == [2, 2]
    got = pd.concat(frames, ignore_index=True)
    pd.testing.assert_frame_equal(got, _pandas(path, encoding, sep))
    assert got["编号"].tolist()[0] == "007" and got["备注"].tolist()[:3] == ["NA", "null", "nan"]


def test_a_line_break_inside_a_quoted_cell_reads_the_same(tmp_path):
    path = _write(tmp_path / "nl.csv", "\n".join([HEADER, '012,"两行\n的名称",112.8,35.5,新建,', ROWS[1]]) + "\n")
    frames = S._csv_frames_arrow(path, "utf-8-sig", ",", 100)
    assert frames is not None
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), _pandas(path, "utf-8-sig"))
    assert frames[0]["项目名称"].iloc[0] == "两行\n的名称"


@pytest.mark.parametrize("text", [
    "\n".join([HEADER, ROWS[0], "011,短行,112.8"]) + "\n",                  # a row shorter than the header
    "\n".join([HEADER, ROWS[0], ROWS[1] + ",多余"]) + "\n",                 # a row longer than the header
    "\n".join(["编号,编号,经度,纬度", "1,2,112.8,35.5"]) + "\n",            # a repeated column name
    "\n".join(["编号,,经度,纬度", "1,2,112.8,35.5"]) + "\n",                # a blank column name
    HEADER + "\n",                                                         # a header and no rows
])
def test_anything_else_is_left_to_pandas(tmp_path, text):
    path = _write(tmp_path / "odd.csv", text)
    assert S._csv_frames_arrow(path, "utf-8-sig", ",", 100) is None


@pytest.mark.parametrize("blank_lines", [(), (5, 6, 200)])
def test_sites_and_their_row_numbers_are_the_same_either_way(tmp_path, monkeypatch, blank_lines):
    """Blank lines are read by Arrow as empty rows and by pandas as missing ones: both are
    dropped with their line numbers kept, so every site keeps the row number of its line."""
    lines = [HEADER] + [f"{i:03d},项目{i},{112.6 + i / 1000:.6f},{35.4 + i / 1000:.6f},新建," for i in range(1, 400)]
    for k in blank_lines:
        lines[k] = ""
    path = _write(tmp_path / "many.csv", "\n".join(lines) + "\n")
    assert S._csv_frames_arrow(path, "utf-8-sig", ",", 150) is not None
    fast = pd.concat(list(S.iter_sites(path, chunksize=150)), ignore_index=True)
    monkeypatch.setattr(S, "_csv_frames_arrow", lambda *a, **k: None)  # pandas only, as before
    slow = pd.concat(list(S.iter_sites(path, chunksize=150)), ignore_index=True)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["row"].tolist() == [r for r in range(2, 401) if r - 1 not in blank_lines]


@pytest.mark.parametrize("cells", [[" 项目一 ", "", "   ", None, "B"], ["", None, "  "]])
def test_site_text_read_by_arrow_stays_arrow_and_says_the_same(cells):
    """Text columns read by Arrow reach the sites frame as Arrow strings (not Python objects
    made Arrow again), stripped, blanks missing: the cells :func:`_text` gives; a column with
    no text left is all None, as before."""
    arrow = S._text_column(pd.Series(cells, dtype="str"))
    plain = S._text(pd.Series(cells, dtype=object)).tolist()
    assert [None if pd.isna(v) else v for v in arrow] == plain
    if any(plain):
        assert isinstance(arrow, pd.api.extensions.ExtensionArray) and arrow.dtype == "str"
    else:
        assert arrow.dtype == object and list(arrow) == [None] * len(cells)


def test_the_header_keys_are_computed_once():
    """Finding the header row scores 20 rows against every field's aliases: the keys are made
    once per process, not once per row (54 ms per file before)."""
    S._header_score(["经度", "纬度", "x"])
    before = S._site_header_keys.cache_info()
    assert S._find_header([["经度", "纬度"], ["112.8", "35.5"]] * 10) == 0
    after = S._site_header_keys.cache_info()
    assert after.misses == before.misses and after.hits > before.hits


def test_a_frame_with_nullable_dtypes_never_writes_na_as_text(tmp_path):
    """A frame given through the API with pandas' nullable dtypes (``convert_dtypes``:
    ``string``, ``Int64``): a missing cell stays missing in every output, never the text
    '<NA>' (the Arrow path of the reader had kept those dtypes as they were)."""
    import pyogrio

    from zoning.check import check_sites
    from zoning.outputs.reports import write_results

    df = pd.DataFrame({"项目名称": ["甲", None], "经度": [112.85, 112.86], "纬度": [35.49, 35.5],
                       "批次": [1, None]}).convert_dtypes()
    res = check_sites(S.sites_from_frame(df))
    assert res["site_name"].isna().tolist() == [False, True]
    out = write_results(res, {"gpkg": tmp_path / "r.gpkg", "csv": tmp_path / "r.csv"})
    back = pyogrio.read_dataframe(out["gpkg"], layer="sites")
    assert "<NA>" not in back.astype(str).to_numpy().ravel().tolist()
    assert "<NA>" not in out["csv"].read_text(encoding="utf-8-sig")
