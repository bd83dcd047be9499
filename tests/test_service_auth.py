"""Users, roles and limits of the service on a real loopback server: tokens (401 without
or with a wrong one, 403 for a role that may not), the trusted-proxy header, the upload
size limit (413), the row limit per job, file names that never become paths, and user
strings escaped in the page."""

from __future__ import annotations

import subprocess

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("pygeoapi")

from service_server import REPO, ZONING, Server, wait_job  # noqa: E402

Q = {"lon": "112.85", "lat": "35.49"}


def _add(data, name, role):
    r = subprocess.run([*ZONING, "users", "add", name, "--role", role, "--data", str(data)], cwd=REPO,
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("auth") / "data"
    tokens = {role: _add(data, f"u_{role}", role) for role in ("viewer", "checker", "admin")}
    s = Server(data, "--auth", "token", "--max-upload-mb", "0.05", "--max-rows", "5")
    s.tokens = tokens
    yield s
    s.stop()


def test_tokens_are_stored_hashed(token_server):
    import sqlite3

    con = sqlite3.connect(token_server.data / "users.sqlite")
    stored = " ".join(str(v) for row in con.execute("SELECT * FROM users") for v in row)
    con.close()
    assert all(t not in stored for t in token_server.tokens.values())


def test_a_user_name_twice_is_refused(token_server):
    r = subprocess.run([*ZONING, "users", "add", "u_viewer", "--role", "viewer", "--data", str(token_server.data)],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 2 and "exists" in r.stderr


@pytest.mark.parametrize("path", ["/api/v1/query?lon=112.85&lat=35.49", "/", "/ogc/collections", "/api/v1/checks",
                                  "/api/v1/audit"])
def test_no_token_or_a_wrong_one_is_401(token_server, path):
    with token_server.client() as c:
        r = c.get(path)
        assert r.status_code == 401 and "not signed in" in r.json()["error"]
    with token_server.client("not-a-token") as c:
        assert c.get(path).status_code == 401
    with token_server.client() as c:
        assert c.get("/healthz").status_code == 200  # the health check needs no token


def test_roles(token_server):
    t = token_server.tokens
    with token_server.client(t["viewer"]) as c:
        assert c.get("/api/v1/query", params=Q).status_code == 200
        assert c.get("/ogc/collections", params={"f": "json"}).status_code == 200
        assert c.get("/").status_code == 200
        r = c.post("/api/v1/checks", files={"file": ("a.csv", b"lon,lat\n112.85,35.49\n")})
        assert r.status_code == 403 and "checker" in r.json()["error"]
        assert c.get("/api/v1/audit").status_code == 403
    with token_server.client(t["checker"]) as c:
        r = c.post("/api/v1/checks", files={"file": ("a.csv", b"lon,lat\n112.85,35.49\n")})
        assert r.status_code == 202
        assert wait_job(c, r.json()["id"])["status"] == "done"
        assert c.get("/api/v1/audit").status_code == 403
    with token_server.client(t["admin"]) as c:
        entries = c.get("/api/v1/audit", params={"limit": 1000}).json()["entries"]
        users = {e["user"] for e in entries}
        assert {"u_viewer", "u_checker"} <= users
        assert {e["kind"] for e in entries} >= {"answer", "check"}


def test_a_job_is_seen_by_its_owner_and_the_admin_only(token_server):
    t = token_server.tokens
    with token_server.client(t["checker"]) as c:
        job = c.post("/api/v1/checks", files={"file": ("a.csv", b"lon,lat\n112.85,35.49\n")}).json()["id"]
        wait_job(c, job)
    with token_server.client(t["viewer"]) as c:
        assert c.get(f"/api/v1/checks/{job}").status_code == 403  # viewers cannot see checks at all
    _add(token_server.data, "other_checker", "checker")
    with token_server.client(t["admin"]) as c:
        assert c.get(f"/api/v1/checks/{job}").status_code == 200


def test_the_page_sets_a_cookie_from_the_token(token_server):
    import httpx

    with httpx.Client(base_url=token_server.url, follow_redirects=False) as c:
        r = c.get("/", params={"token": token_server.tokens["viewer"]})
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert c.get("/api/v1/query", params=Q).status_code == 200  # the cookie signs the page's calls in


def test_upload_over_the_limit_is_413(token_server):
    with token_server.client(token_server.tokens["checker"]) as c:
        big = b"lon,lat\n" + b"112.85,35.49\n" * 10_000
        r = c.post("/api/v1/checks", files={"file": ("big.csv", big)})
        assert r.status_code == 413 and "larger than 0.05 MB" in r.json()["error"]


def test_a_job_over_the_row_limit_fails_with_the_reason(token_server):
    with token_server.client(token_server.tokens["checker"]) as c:
        rows = b"lon,lat\n" + b"112.85,35.49\n" * 6
        job = wait_job(c, c.post("/api/v1/checks", files={"file": ("six.csv", rows)}).json()["id"])
        assert job["status"] == "failed" and "more than 5 sites" in job["error"]


@pytest.mark.parametrize("name", ["../../../etc/evil.csv", "..\\..\\evil.csv", "/var/evil.csv", "a/../../b.csv"])
def test_upload_names_never_become_paths(token_server, name):
    with token_server.client(token_server.tokens["checker"]) as c:
        r = c.post("/api/v1/checks", files={"file": (name, b"lon,lat\n112.85,35.49\n")})
        assert r.status_code == 202
        job = wait_job(c, r.json()["id"])
        assert job["status"] == "done" and job["uploads"][0]["name"] == name
        inputs = list((token_server.data / "jobs" / job["id"] / "input").iterdir())
        assert len(inputs) == 1 and ".." not in inputs[0].name and "/" not in inputs[0].name
    assert not (REPO.parent / "evil.csv").exists() and not (token_server.data.parent / "evil.csv").exists()


def test_a_file_kind_check_cannot_read_is_refused(token_server):
    with token_server.client(token_server.tokens["checker"]) as c:
        r = c.post("/api/v1/checks", files={"file": ("x.exe", b"MZ")})
        assert r.status_code == 400 and "x.exe" in r.json()["error"]
        r = c.post("/api/v1/checks", files={"file": ("a.csv", b"lon,lat\n1,2\n")}, data={"format": "pdfx"})
        assert r.status_code == 400 and "pdfx" in r.json()["error"]
        job = c.post("/api/v1/checks", files={"file": ("a.csv", b"lon,lat\n1,2\n")}).json()["id"]
        files = c.get(f"/api/v1/checks/{job}/files/..%2F..%2Fusers.sqlite")
        assert files.status_code == 404


def test_user_strings_are_escaped_in_the_page(token_server):
    evil = "<script>alert(1)</script>"
    data = token_server.data
    subprocess.run([*ZONING, "users", "add", "x", "--role", "viewer", "--data", str(data)], cwd=REPO, check=True,
                   capture_output=True)
    with token_server.client(token_server.tokens["viewer"]) as c:
        page = c.get("/").text
        assert evil not in page
        r = c.get("/api/v1/search", params={"q": evil})
        assert r.status_code == 200 and r.json()["results"] == []


@pytest.fixture(scope="module")
def header_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("hdr") / "data"
    _add(data, "chief", "admin")
    trusted = Server(data, "--auth", "header")
    untrusted = Server(tmp_path_factory.mktemp("hdr2") / "data", "--auth", "header", "--trusted-proxy", "10.9.9.9")
    yield trusted, untrusted
    trusted.stop()
    untrusted.stop()


def test_header_auth_trusts_only_the_proxy(header_server):
    trusted, untrusted = header_server
    with trusted.client(headers={"X-Remote-User": "chief"}) as c:
        assert c.get("/api/v1/audit").status_code == 200  # a known user: its role
    with trusted.client(headers={"X-Remote-User": "someone"}) as c:
        assert c.get("/api/v1/query", params=Q).status_code == 200  # unknown: the default role, viewer
        assert c.get("/api/v1/audit").status_code == 403
    with trusted.client() as c:
        assert c.get("/api/v1/query", params=Q).status_code == 401
    with untrusted.client(headers={"X-Remote-User": "chief"}) as c:  # 127.0.0.1 is not the proxy
        assert c.get("/api/v1/query", params=Q).status_code == 401


def test_a_streamed_upload_over_the_limit_is_413(token_server):
    """No Content-Length (chunked): the limit is counted while the body arrives."""

    def body():
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\nlon,lat\n"
        for _ in range(2000):
            yield b"112.85,35.49\n" * 10
        yield b"\r\n--b--\r\n"

    with token_server.client(token_server.tokens["checker"]) as c:
        r = c.post("/api/v1/checks", content=body(), headers={"content-type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413 and "larger than" in r.json()["error"]
