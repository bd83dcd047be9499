"""The fault corpus: bad inputs and faults across query, check, map, layers and derive.

Every case is generated here (nothing downloaded) and run through the command line as a
user would run it. For every case: no traceback, the exit code the README documents
(0 done, 1 a problem in data or files, 2 a bad value on the command line, 3 --fail-on),
and for a batch check of N sites, N result rows, each with a status. The corpus only
grows: every fault found becomes a case here.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from zoning.cli.main import main_group

LON, LAT = 112.85, 35.49  # 城区
HEADER = "项目名称,经度,纬度,建设性质"


@dataclass
class Case:
    name: str
    args: list[str]
    exit_codes: tuple[int, ...]
    files: dict[str, bytes] = field(default_factory=dict)
    rows: int | None = None  # a check case: result rows expected in the CSV
    output_has: str | None = None


def _csv(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def _check(name: str, content: bytes, rows: int | None, suffix: str = ".csv", extra: list[str] | None = None,
           exit_codes: tuple[int, ...] = (0,)) -> Case:
    fname = f"sites{suffix}"
    return Case(name, ["check", "{tmp}/" + fname, "--out", "{tmp}/out", "--format", "csv", "--no-progress",
                       *(extra or [])], exit_codes, {fname: content}, rows)


def check_cases() -> list[Case]:
    ok = f"示例,{LON},{LAT},新建"
    cases = [
        _check("plain", _csv(HEADER, ok), 1),
        _check("empty file", b"", None, exit_codes=(1,)),
        _check("header only", _csv(HEADER), 0, exit_codes=(0, 1)),
        _check("bom only", b"\xef\xbb\xbf", None, exit_codes=(1,)),
        _check("blank lines", b"\n\n\n", None, exit_codes=(1,)),
        _check("no coordinate columns", _csv("项目名称,备注", "a,b"), None, exit_codes=(1,)),
        _check("gbk", _csv(HEADER, ok, encoding="gbk"), 1),
        _check("swapped lon lat", _csv(HEADER, f"a,{LAT},{LON},新建"), 1),
        _check("metres as degrees", _csv(HEADER, "a,396566.25,3930663.07,新建"), 1),
        _check("nan coordinates", _csv(HEADER, "a,nan,nan,新建", ok), 2),
        _check("inf coordinates", _csv(HEADER, "a,inf,-inf,新建", ok), 2),
        _check("huge coordinates", _csv(HEADER, "a,1e300,1e300,新建", ok), 2),
        _check("text coordinates", _csv(HEADER, "a,东经112度,北纬35度,新建", ok), 2),
        _check("outside the city", _csv(HEADER, "a,116.4,39.9,新建", ok), 2),
        _check("one empty coordinate", _csv(HEADER, f"a,{LON},,新建", ok), 2),
        _check("bad construction value", _csv(HEADER, f"a,{LON},{LAT},拆了重建", ok), 2),
        _check("formula in name", _csv(HEADER, f"=cmd|' /C calc'!A0,{LON},{LAT},新建"), 1),
        _check("hyperlink formula", _csv(HEADER, f'"=HYPERLINK(""http://x"",""y"")",{LON},{LAT},新建'), 1),
        _check("at formula", _csv(HEADER, f"@SUM(1+1)*cmd,{LON},{LAT},新建"), 1),
        _check("plus minus formula", _csv(HEADER, f"+1+cmd,{LON},{LAT},新建", f"-2+cmd,{LON},{LAT},新建"), 2),
        _check("html in name", _csv(HEADER, f"<script>alert(1)</script>,{LON},{LAT},新建"), 1,
               extra=["--format", "csv,html"]),
        _check("column named 状态", _csv(HEADER + ",状态", ok + ",在建"), 1),
        _check("column named 结论", _csv(HEADER + ",结论", ok + ",可行"), 1),
        _check("column named 行号", _csv(HEADER + ",行号", ok + ",7"), 1),
        _check("column named verdict", _csv(HEADER + ",verdict", ok + ",clear"), 1),
        _check("duplicate headers", _csv("项目名称,经度,纬度,经度", f"a,{LON},{LAT},{LON}"), None, exit_codes=(0, 1)),
        _check("ragged rows", _csv(HEADER, ok + ",extra,cells", f"b,{LON}"), None, exit_codes=(0, 1)),
        _check("wkt nan point", _csv("项目名称,WKT", "a,POINT(nan nan)", f"b,POINT({LON} {LAT})"), 2),
        _check("wkt empty polygon", _csv("项目名称,WKT", "a,POLYGON EMPTY", f"b,POINT({LON} {LAT})"), 2),
        _check("wkt curvepolygon", _csv("项目名称,WKT", f'a,"CURVEPOLYGON(CIRCULARSTRING({LON} {LAT}, {LON + 0.01} {LAT}, '
                                       f'{LON} {LAT}))"', f"b,POINT({LON} {LAT})"), 2),
        _check("wkt garbage", _csv("项目名称,WKT", "a,POLYGON((1 2, 3", f"b,POINT({LON} {LAT})"), 2),
        _check("wkt self-intersecting", _csv("项目名称,WKT", f'a,"POLYGON(({LON} {LAT}, {LON + 0.01} {LAT + 0.01}, '
                                            f'{LON + 0.01} {LAT}, {LON} {LAT + 0.01}, {LON} {LAT}))"'), 1),
        _check("wkt huge polygon", _csv("项目名称,WKT", 'a,"POLYGON((1e300 1e300, 1e301 1e300, 1e301 1e301, 1e300 1e300))"',
                                       f"b,POINT({LON} {LAT})"), 2),
        _check("wkt linestring", _csv("项目名称,WKT", f'a,"LINESTRING({LON} {LAT}, {LON + 0.01} {LAT})"'), 1),
        _check("wkt geometrycollection", _csv("项目名称,WKT", f'a,"GEOMETRYCOLLECTION(POINT({LON} {LAT}))"'), 1),
        _check("unknown crs column", _csv(HEADER + ",坐标系", ok + ",EPSG:999999"), 1),
        _check("unknown --crs", _csv(HEADER, ok), None, extra=["--crs", "EPSG:999999"], exit_codes=(2,)),
        _check("bad --set", _csv(HEADER, ok), None, extra=["--set", "nonsense"], exit_codes=(2,)),
        _check("unknown --set attribute", _csv(HEADER, ok), None, extra=["--set", "colour=red"], exit_codes=(2,)),
        _check("bad --set value", _csv(HEADER, ok), None, extra=["--set", "construction=maybe"], exit_codes=(2,)),
        _check("bad --field", _csv(HEADER, ok), None, extra=["--field", "lon"], exit_codes=(2,)),
        _check("--field names no column", _csv(HEADER, ok), None, extra=["--field", "lon=东经"], exit_codes=(1, 2)),
        _check("bad --format", _csv(HEADER, ok), None, extra=["--format", "pdfx"], exit_codes=(2,)),
        _check("bad --encoding", _csv(HEADER, ok), None, extra=["--encoding", "klingon"], exit_codes=(1, 2)),
        _check("latin1 bytes", b"\xff\xfe\xfa,\xe9\n\x81\x82,\xff\n", None, exit_codes=(0, 1)),
        _check("binary junk", bytes(range(256)) * 8, None, exit_codes=(1,)),
        _check("very long name", _csv(HEADER, "名" * 40_000 + f",{LON},{LAT},新建"), 1),
        _check("many columns", _csv(HEADER + "," + ",".join(f"c{i}" for i in range(300)),
                                    ok + "," + ",".join(str(i) for i in range(300))), 1),
        _check("empty geojson", b'{"type":"FeatureCollection","features":[]}', None, suffix=".geojson",
               exit_codes=(0, 1)),
        _check("broken geojson", b'{"type":"FeatureCollection","features":[', None, suffix=".geojson", exit_codes=(1,)),
        _check("geojson null geometry", json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"项目名称": "a"}, "geometry": None},
            {"type": "Feature", "properties": {"项目名称": "b"}, "geometry": {"type": "Point", "coordinates": [LON, LAT]}},
        ]}).encode(), 2, suffix=".geojson"),
        _check("geojson nan coordinate", b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
               b'{"name":"a"},"geometry":{"type":"Point","coordinates":[NaN,NaN]}}]}', None, suffix=".geojson",
               exit_codes=(0, 1)),
        _check("jzd non-numeric coordinate", _jzd(bad="abc"), 1, suffix=".txt"),
        _check("jzd open ring", _jzd(close=False), 1, suffix=".txt"),
        _check("jzd wrong point count", _jzd(count=9), 1, suffix=".txt"),
        _check("jzd no parcels", "[属性描述]\n坐标系=2000国家大地坐标系\n[地块坐标]\n".encode("gbk"), None, suffix=".txt",
               exit_codes=(0, 1)),
        _check("xlsx that is not a workbook", b"PK\x03\x04 not really a zip", None, suffix=".xlsx", exit_codes=(1,)),
        _check("shapefile alone without dbf", b"\x00\x00\x27\x0a" + b"\x00" * 96, None, suffix=".shp", exit_codes=(1,)),
        _check("unknown suffix", b"hello", None, suffix=".docx", exit_codes=(1,)),
        _check("fail-on prohibited", _csv(HEADER, ok), 1, extra=["--fail-on", "prohibited"], exit_codes=(0, 3)),
    ]
    # a batch with one of every bad row in the middle of good ones: N rows in, N out
    bad_rows = ["a,nan,nan,新建", "b,1e300,1e300,新建", f"c,{LAT},{LON},新建", "d,,,新建", "e,116.4,39.9,新建",
                f"f,{LON},{LAT},乱填", "g,abc,def,新建"]
    mixed = [HEADER] + [r for b in bad_rows for r in (ok, b)] + [ok]
    cases.append(_check("mixed bad rows", _csv(*mixed), len(mixed) - 1))
    return cases


def _jzd(*, bad: str | None = None, close: bool = True, count: int | None = None) -> bytes:
    pts = [(3928409.180, 38396465.710), (3928409.180, 38396565.710), (3928309.180, 38396565.710),
           (3928309.180, 38396465.710)]
    ring = pts + ([pts[0]] if close else [])
    lines = ["[属性描述]", "坐标系=2000国家大地坐标系", "几度分带=3", "带号=38", "[地块坐标]",
             f"{count or len(ring)},1.0000,001,测试地块,面,,工业用地,,@"]
    for i, (x, y) in enumerate(ring, 1):
        xs = bad if (bad and i == 2) else f"{x:.3f}"
        lines.append(f"J{i},1,{xs},{y:.3f}")
    return ("\n".join(lines) + "\n").encode("gbk")


def query_cases() -> list[Case]:
    q = lambda *a, codes=(2,): Case("query " + " ".join(a), ["query", *a], codes)  # noqa: E731
    return [
        q("112.85", "35.49", codes=(0,)),
        q("35.49", "112.85"),
        q("396566.25", "3930663.07"),
        q("abc", "35.49"),
        q("nan", "nan"),
        q("inf", "35.49"),
        q("1e300", "1e300"),
        q("112.85"),
        q("116.4", "39.9", codes=(0, 2)),
        q("112.85", "35.49", "--crs", "EPSG:999999"),
        q("112.85", "35.49", "--crs", "klingon"),
        q("38396566.25", "3930663.07", "--crs", "gk3", codes=(0,)),
        q("39396566.25", "3930663.07", "--crs", "gk3"),
        q("3930663.07", "38396566.25", "--crs", "gk3", codes=(2,)),
        q("112.85", "35.49", "-a", "nonsense"),
        q("112.85", "35.49", "-a", "colour=red"),
        q("112.85", "35.49", "-a", "construction=maybe"),
        q("112.85", "35.49", "--date", "2025-13-45"),
        q("112.85", "35.49", "--lang", "fr"),
        q("112.85", "35.49", "--format", "yaml"),
        q("112.85", "35.49", "--order", "zyx"),
        q("112.85", "35.49", "--pack", "/nonexistent/pack", codes=(1, 2)),
        q("112.85", "35.49", "--date", "1900-01-01", codes=(0,)),
        q("112.85", "35.49", "-a", "total_investment_wan=-5", codes=(0, 2)),
        q("112.85", "35.49", "-a", "total_investment_wan=lots"),
    ]


def layers_cases() -> list[Case]:
    return [
        Case("validate missing pack", ["layers", "validate", "/nonexistent/pack"], (1, 2)),
        Case("validate empty dir", ["layers", "validate", "{tmp}/emptypack"], (1,), {"emptypack/.keep": b""}),
        Case("validate corrupt manifest", ["layers", "validate", "{tmp}/bad"], (1,),
             {"bad/manifest.toml": b"[pack\nname = "}),
        Case("validate manifest without layers", ["layers", "validate", "{tmp}/nolayers"], (1,),
             {"nolayers/manifest.toml": b'[pack]\nname = "x"\ntitle = "x"\ncrs = "EPSG:4490"\n'}),
        Case("show missing pack", ["layers", "show", "/nonexistent/pack"], (1, 2)),
        Case("import missing file", ["layers", "import", "{tmp}/none.shp", "--pack", "{tmp}/p", "--kind",
                                     "groundwater_control", "--name", "x"], (1, 2)),
        Case("import bad kind", ["layers", "import", "{tmp}/a.geojson", "--kind", "spaceship", "--name", "x"], (1, 2),
             {"a.geojson": b'{"type":"FeatureCollection","features":[]}'}),
        Case("import empty geojson", ["layers", "import", "{tmp}/a.geojson", "--pack", "{tmp}/p", "--kind",
                                      "groundwater_control", "--name", "x"], (1,),
             {"a.geojson": b'{"type":"FeatureCollection","features":[]}', "p/.keep": b""}),
        Case("import name with path separator", ["layers", "import", "{tmp}/a.geojson", "--pack", "{tmp}/p", "--kind",
                                                 "groundwater_control", "--name", "../escape"], (1, 2),
             {"a.geojson": b'{"type":"FeatureCollection","features":[]}', "p/.keep": b""}),
        Case("push bad dsn", ["layers", "push", "layers/jincheng", "postgresql://u:secret@127.0.0.1:1/db"], (1,)),
    ]


def map_cases() -> list[Case]:
    return [
        Case("map bad basemap", ["map", "--basemap", "google", "-o", "{tmp}/m.html"], (2,)),
        Case("map missing pack", ["map", "--pack", "/nonexistent", "-o", "{tmp}/m.html"], (1, 2)),
        Case("map into a directory", ["map", "-o", "{tmp}"], (1, 2)),
        Case("map unknown layer", ["map", "--layers", "nonexistent", "-o", "{tmp}/m.html"], (1, 2)),
        Case("map bad lang", ["map", "--lang", "fr", "-o", "{tmp}/m.html"], (2,)),
    ]


def derive_cases() -> list[Case]:
    return [
        Case("derive missing config", ["derive", "{tmp}/none.toml", "--out", "{tmp}/o"], (1, 2)),
        Case("derive corrupt toml", ["derive", "{tmp}/c.toml", "--out", "{tmp}/o"], (1,), {"c.toml": b"[grid\nres ="}),
        Case("derive empty toml", ["derive", "{tmp}/c.toml", "--out", "{tmp}/o"], (1,), {"c.toml": b""}),
        Case("derive config of the wrong shape", ["derive", "{tmp}/c.toml", "--out", "{tmp}/o"], (1,),
             {"c.toml": b'grid = "no"\n'}),
        Case("derive input missing", ["derive", "{tmp}/c.toml", "--out", "{tmp}/o"], (1,),
             {"c.toml": b'[grid]\ncrs = "EPSG:4547"\nresolution = 100\n[inputs]\naquifer = "missing.tif"\n'}),
    ]


CASES = check_cases() + query_cases() + layers_cases() + map_cases() + derive_cases()


def test_corpus_is_large():
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault(case: Case, runner, tmp_path: Path):
    run_case(case, runner, tmp_path)


def run_case(case: Case, runner, tmp_path: Path) -> None:
    """Run one case through the CLI and check what every case must hold."""
    for rel, content in case.files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]
    result = runner.invoke(main_group, args, catch_exceptions=True)
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), f"traceback: {exc!r}\n{result.output}"
    assert "Traceback" not in result.output
    assert result.exit_code in case.exit_codes, f"exit {result.exit_code}, expected {case.exit_codes}:\n{result.output}"
    if result.exit_code not in (0, 3):
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert lines and lines[-1].startswith(("Error", "Usage", "Try")) or "Error" in result.output, result.output
    if case.rows is not None and result.exit_code in (0, 3):
        out = tmp_path / "out" / "sites_check.csv"
        text = out.read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        header, body = rows[0], rows[1:]
        assert len(body) == case.rows, f"{len(body)} rows for {case.rows} sites"
        assert all(len(r) == len(header) for r in body), "a row's cells shifted"
        status = header.index("状态") if "状态" in header else header.index("status")
        assert all(r[status] for r in body)
        for r in body:  # no cell Excel would run as a formula
            for cell in r:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    try:
                        float(cell)
                    except ValueError:
                        pytest.fail(f"formula reaches the CSV: {cell[:40]!r}")
                    assert math.isfinite(float(cell)) or True
