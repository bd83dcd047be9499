"""The review report (建设项目用地合规性审查报告): Word and PDF per site, a volume, a point.

Real documents: ``zoning check`` writes the CSV and the reports in one run; the tests open
each .docx with python-docx and compare its tables with the CSV row of the same site (to
the last digit the CSV shows), read each PDF with poppler (pdftotext, pdffonts, pdftoppm)
and check the quoted articles, the embedded fonts and the first page's accuracy statement.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pytest

docx = pytest.importorskip("docx")
pytest.importorskip("weasyprint")
pytest.importorskip("matplotlib")

from zoning.cli.main import main_group  # noqa: E402
from zoning.core import vocab  # noqa: E402
from zoning.core.context import load_context  # noqa: E402

POPPLER = all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdftoppm"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils missing: bash scripts/install_report_deps.sh")

#: three sites: a red line over a protection zone across the 城区/泽州县 line, a point in a
#: control zone, a red line in no zone; and a name that would be markup if not escaped
SITES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "项目编号": "R-1",
                "项目名称": "红线一 <b>&amp;</b>",
                "建设性质": "新建",
                "行业类别": "2614",
                "总投资(万元)": 12800,
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[112.88, 35.50], [112.887, 35.50], [112.887, 35.506], [112.88, 35.506], [112.88, 35.50]]
                ],
            },
        },
        {
            "type": "Feature",
            "properties": {"项目编号": "P-2", "项目名称": "点位二", "建设性质": "改建", "行业类别": "医药"},
            "geometry": {"type": "Point", "coordinates": [113.357138, 35.665727]},
        },
        {
            "type": "Feature",
            "properties": {"项目编号": "R-3", "项目名称": "红线三", "建设性质": "新建"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[112.60, 35.80], [112.604, 35.80], [112.604, 35.803], [112.60, 35.803], [112.60, 35.80]]
                ],
            },
        },
    ],
}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """One `zoning check` run writing the CSV and the Word and PDF report of every site."""
    from click.testing import CliRunner

    d = tmp_path_factory.mktemp("review")
    sites = d / "sites.geojson"
    sites.write_text(json.dumps(SITES, ensure_ascii=False), encoding="utf-8")
    res = CliRunner().invoke(
        main_group, ["check", str(sites), "--out", str(d / "out"), "--format", "csv,docx,pdf", "--no-progress"]
    )
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(d / "out" / "sites_check.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    folder = d / "out" / "sites_review"
    return csv, folder, res.output


def _docx_for(folder: Path, site_id: str) -> Path:
    (path,) = folder.glob(f"*_{site_id}.docx")
    return path


def _table_with(doc, first_header: str):
    for t in doc.tables:
        if t.rows and t.rows[0].cells[0].text.strip() == first_header:
            return t
    raise AssertionError(f"no table headed {first_header!r}")


def _pairs(doc) -> dict[str, str]:
    for t in doc.tables:
        if t.rows and t.rows[0].cells[0].text.strip() == "项目名称":
            return {r.cells[0].text.strip(): r.cells[1].text.strip() for r in t.rows}
    raise AssertionError("no project table")


def test_one_word_and_one_pdf_per_site(checked):
    csv, folder, output = checked
    assert len(csv) == 3
    assert sorted(p.suffix for p in folder.iterdir()) == [".docx"] * 3 + [".pdf"] * 3
    assert "审查报告: 6" in output


@pytest.mark.parametrize("site_id", ["R-1", "P-2", "R-3"])
def test_docx_sections_tables_and_figure_agree_with_the_csv(checked, site_id):
    csv, folder, _ = checked
    row = csv[csv["编号"] == site_id].iloc[0]
    doc = docx.Document(str(_docx_for(folder, site_id)))
    text = "\n".join(p.text for p in doc.paragraphs)
    for heading in (
        "一、项目概况",
        "二、项目位置图",
        "三、压占分析",
        "四、审查意见",
        "五、数据精度说明",
        "六、数据来源与可追溯信息",
        "七、审查签字",
    ):
        assert heading in text
    assert len(doc.inline_shapes) == 1  # the site map
    facts = _pairs(doc)
    assert facts["项目名称"] == row["项目名称"]
    assert facts["项目编号"] == site_id
    assert row["所在县(市、区)"] in facts["所在县(市、区)"]
    assert f"{row['来源文件']}, 第{row['行号']}行" == facts["输入文件及行号"]
    if row["用地面积(公顷)"]:
        assert f"{float(row['用地面积(公顷)']):.4f} 公顷 / {float(row['用地面积(亩)']):.2f} 亩" in facts["用地面积"]
    # the verdict, overall and per subject, as the CSV labels it
    assert f"审查结论: {row['结论']}" in text
    subjects = {r.cells[0].text: r.cells[1].text for r in _table_with(doc, "事项").rows[1:]}
    for s in vocab.SUBJECTS:
        assert subjects[vocab.SUBJECT_LABELS[s][0]] == row[f"结论-{vocab.SUBJECT_LABELS[s][0]}"]
    # planning extents: membership and share as in the CSV
    ext = {r.cells[0].text: (r.cells[1].text, r.cells[2].text) for r in _table_with(doc, "范围").rows[1:]}
    assert ext[vocab.PLANNING_AREA][0] == row[f"位于{vocab.PLANNING_AREA}"]
    assert ext[vocab.CENTRAL_AREA][0] == row[f"位于{vocab.CENTRAL_AREA}"]
    assert float(ext[vocab.PLANNING_AREA][1]) == float(row[f"{vocab.PLANNING_AREA}占比%"])
    # every zone of the CSV's zones cell, with the same figures
    zones_cell = row["涉及分区(类别 名称 [编号] 公顷/亩/占比)"]
    if not zones_cell:
        assert "不涉及地下水保护类或管控类区域" in text
        return
    table, zone_table = [t for t in doc.tables if t.rows and t.rows[0].cells[0].text == "分区类别"]
    zone_rows = [[c.text for c in r.cells] for r in zone_table.rows[1:]]
    for part in zones_cell.split("；"):
        m = re.match(r"(\S+) (.*) \[(\S+)\](?: ([\d.]+) ha / ([\d.]+) 亩 / ([\d.]+)%)?$", part)
        assert m, part
        cls, name, zid, h, mu, pct = m.groups()
        match = [r for r in zone_rows if r[2] == zid]
        assert match, (zid, zone_rows)
        assert match[0][0].startswith(cls) and match[0][1] == name.strip()
        if h is not None:
            assert match[0][3:6] == [h, mu, pct]
    if row["保护类区域重叠(公顷)"]:
        cls_rows = {r.cells[0].text: r.cells[1].text for r in table.rows[1:]}
        assert cls_rows[row["地下水保护类区域"]] == f"{float(row['保护类区域重叠(公顷)']):.4f}"


def test_red_line_across_a_county_line_lists_both_shares(checked):
    csv, folder, _ = checked
    row = csv[csv["编号"] == "R-1"].iloc[0]
    doc = docx.Document(str(_docx_for(folder, "R-1")))
    shares = {r.cells[0].text: r.cells[1].text for r in _table_with(doc, "县(市、区)").rows[1:]}
    expected = dict(part.rsplit(" ", 1) for part in row["跨县占比"].split("；"))
    assert {k: f"{v}" for k, v in shares.items()} == {k: v.rstrip("%") for k, v in expected.items()}


def test_articles_quoted_in_word_with_document_and_article(checked):
    csv, folder, _ = checked
    rules = {r.id: r for r in load_context(None).rules}
    row = csv[csv["编号"] == "R-1"].iloc[0]
    ids = [i.strip() for i in row["规则编号"].split(",") if i.strip()]
    assert ids
    doc = docx.Document(str(_docx_for(folder, "R-1")))
    text = "\n".join(p.text for p in doc.paragraphs)
    for rid in ids:
        r = rules[rid]
        assert f"{r.document} {r.article}" in text
        assert r.text in text
    # what must be confirmed, and why (the articles that need it)
    confirm = _table_with(doc, "项目信息")
    assert len(confirm.rows) - 1 == len(row["需补充的项目信息"].split("、"))


@needs_poppler
@pytest.mark.parametrize("site_id", ["R-1", "P-2"])
def test_pdf_quotes_the_articles_and_embeds_its_fonts(checked, site_id):
    csv, folder, _ = checked
    rules = {r.id: r for r in load_context(None).rules}
    row = csv[csv["编号"] == site_id].iloc[0]
    pdf = _docx_for(folder, site_id).with_suffix(".pdf")
    text = _squash(
        subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    )
    for rid in [i.strip() for i in row["规则编号"].split(",") if i.strip()]:
        assert _squash(rules[rid].text) in text, rid
        assert _squash(rules[rid].document + rules[rid].article) in text
    assert _squash(row["项目名称"]) in text  # user text shown as text, never as markup
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts
    for line in fonts:
        name, emb = line.split()[0], line.split()[-5]
        assert emb == "yes", line
        assert "CJK" in name, line  # every glyph from Noto CJK: no fallback font, no missing-glyph boxes


@needs_poppler
def test_demonstration_layers_said_on_the_first_page(checked):
    _, folder, _ = checked
    pdf = _docx_for(folder, "P-2").with_suffix(".pdf")
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "不能作为审批依据" in _squash(first)
    assert "演示数据" in first
    doc = docx.Document(str(_docx_for(folder, "P-2")))
    # in Word: the statement stands before the first section
    body = [p.text for p in doc.paragraphs]
    assert body.index("数据精度声明") < body.index("一、项目概况")
    box = doc.tables[0].rows[0].cells[0].text
    assert "不能作为审批依据" in box and "演示数据" in box


@needs_poppler
def test_a_page_renders_to_png(checked, tmp_path):
    _, folder, _ = checked
    pdf = _docx_for(folder, "R-1").with_suffix(".pdf")
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 2
    from PIL import Image

    img = Image.open(pages[1]).convert("L")
    dark = sum(img.histogram()[:128])
    assert dark > 0.01 * img.width * img.height  # the map and tables are on it, not a blank page


def test_site_map_has_no_missing_glyphs(checked):
    from zoning.check import build_context, check_sites
    from zoning.outputs.review import build_reviews, provenance
    from zoning.outputs.review.sitemap import render_site_map

    ctx = build_context(None)
    import geopandas as gpd

    gdf = gpd.GeoDataFrame.from_features(SITES["features"], crs="EPSG:4490")
    res = check_sites(gdf.rename(columns={"项目名称": "site_name"}), context=ctx)
    rv = build_reviews(ctx, res, provenance(ctx.context, on_date=ctx.on_date, input_text="t"))[0]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
        png = render_site_map(ctx.context, rv)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_volume_has_a_summary_first(tmp_path, runner):
    sites = tmp_path / "sites.geojson"
    sites.write_text(json.dumps(SITES, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(
        main_group,
        [
            "check",
            str(sites),
            "-o",
            str(tmp_path / "all.docx"),
            "-o",
            str(tmp_path / "all.csv"),
            "--report-volume",
            "--lang",
            "en",
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(tmp_path / "all.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    doc = docx.Document(str(tmp_path / "all.docx"))
    assert doc.paragraphs[0].text.startswith("Compliance reviews of construction-project sites (3 sites")
    summary = doc.tables[0]
    assert [c.text for c in summary.rows[0].cells][:3] == ["Row", "Id", "Project"]
    got = {r.cells[1].text: r.cells[5].text for r in summary.rows[1:]}
    assert got == dict(zip(csv["id"], csv["verdict"]))
    assert len(doc.inline_shapes) == 3
    assert sum(p.text == "Compliance review of a construction-project site" for p in doc.paragraphs) == 3


def test_query_writes_the_report_of_a_point(tmp_path, runner):
    out = tmp_path / "point.pdf"
    res = runner.invoke(
        main_group, ["query", "112.8850", "35.5052", "-a", "construction=新建", "--format", "pdf", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 10_000
    res = runner.invoke(main_group, ["query", "112.8850", "35.5052", "--format", "docx"])
    assert res.exit_code == 2 and "-o FILE.docx" in res.output
    res = runner.invoke(main_group, ["query", "112.8850", "35.5052", "--format", "pdf", "-o", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.output
    doc_path = tmp_path / "point.docx"
    res = runner.invoke(
        main_group, ["query", "112.8850", "35.5052", "--format", "docx", "-o", str(doc_path), "--lang", "en"]
    )
    assert res.exit_code == 0, res.output
    doc = docx.Document(str(doc_path))
    facts = {r.cells[0].text: r.cells[1].text for r in doc.tables[1].rows}
    assert facts["Input file and row"].startswith("query point 112.8850 35.5052")


def test_check_report_formats_need_a_folder(tmp_path, runner):
    sites = tmp_path / "sites.geojson"
    sites.write_text(json.dumps(SITES, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(main_group, ["check", str(sites), "-o", str(tmp_path / "a.csv"), "--format", "pdf"])
    assert res.exit_code == 2 and "--out DIR" in res.output
    res = runner.invoke(main_group, ["check", str(sites), "--out", str(tmp_path), "--report-volume"])
    assert res.exit_code == 2 and "--report-volume" in res.output


def test_a_site_without_geometry_gets_a_report_saying_so(tmp_path, runner):
    bad = {
        "type": "FeatureCollection",
        "features": [
            SITES["features"][2],
            {"type": "Feature", "properties": {"项目编号": "X-9", "项目名称": "无坐标"}, "geometry": None},
        ],
    }
    sites = tmp_path / "bad.geojson"
    sites.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(
        main_group, ["check", str(sites), "--out", str(tmp_path / "o"), "--format", "docx", "--no-progress"]
    )
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in (tmp_path / "o" / "bad_review").iterdir())
    assert len(files) == 2
    doc = docx.Document(str(tmp_path / "o" / "bad_review" / [f for f in files if "X-9" in f][0]))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "本项目未能审查" in text and len(doc.inline_shapes) == 0


def test_answer_id_is_stable_and_provenance_names_pack_and_input(checked, tmp_path):
    from zoning.check import build_context
    from zoning.outputs.review import provenance

    ctx = build_context(None)
    f = tmp_path / "in.txt"
    f.write_text("x", encoding="utf-8")
    prov = provenance(ctx.context, on_date=ctx.on_date, input_file=f)
    import hashlib

    assert prov["input_sha256"] == hashlib.sha256(b"x").hexdigest()
    from zoning.core.version import pack_version

    pv = pack_version(ctx.context.pack)  # the one provenance record every output carries
    assert prov["manifest_sha256"] == pv.manifest_sha256 and prov["pack_sha256"] == pv.content_sha256
    assert prov["as_of"] == ctx.on_date.isoformat() and prov["tool_version"].startswith("zoning ")
    csv, folder, _ = checked
    doc = docx.Document(str(_docx_for(folder, "R-1")))
    facts = {r.cells[0].text: r.cells[1].text for t in doc.tables for r in t.rows if len(r.cells) == 2}
    assert re.fullmatch(r"[0-9a-f]{16}", facts["答复编号"])
    assert facts["图层包内容哈希(SHA-256)"] == prov["pack_sha256"]
    assert facts["清单哈希(SHA-256)"] == prov["manifest_sha256"]
