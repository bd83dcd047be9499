"""The FastAPI application of ``zoning serve`` (:func:`create_app`)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import multiprocessing
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response  # at module level: the routes' annotations name it (OpenAPI)

from zoning.core.context import freeze_loaded
from zoning.core.errors import CoordinateError, RuleError, UsageError, ZoningError, scrub_secrets
from zoning.core.rules import checked_project, parse_pairs
from zoning.service.answers import PackIdentity, QueryBatcher, new_answer_id, pack_identity, resolve_date, summary_of
from zoning.service.audit import AuditLog, Entry, now_iso
from zoning.service.auth import AuthMiddleware, UploadLimitMiddleware
from zoning.service.config import ServiceConfig
from zoning.service.jobs import JobParams, JobStore, read_points, run_job, safe_suffix, stored_name, unpack_zip
from zoning.service.users import User, UserStore

log = logging.getLogger(__name__)

API = "/api/v1"


def http_error(status: int, message: str) -> Exception:
    """An HTTP error with a one-line message (answered as ``{"error": ..., "status": ...}``)."""
    from starlette.exceptions import HTTPException

    return HTTPException(status, message)


def _status_of(exc: ZoningError) -> int:
    """The CLI's exit code 2 (a bad value given) is 400; its 1 (data) is 422."""
    return 400 if isinstance(exc, (CoordinateError, UsageError, RuleError)) else 422


def _message(exc: Exception) -> str:
    return scrub_secrets(" ".join(str(exc).split()) or type(exc).__name__)


class Service:
    """The state of one server process: pack, context, users, audit, jobs, batcher."""

    def __init__(self, config: ServiceConfig) -> None:
        from zoning.core import settings
        from zoning.core.context import load_context
        from zoning.core.layers import open_pack

        self.config = config.validate()
        self.data = config.data
        self.data.mkdir(parents=True, exist_ok=True)
        self.pack = open_pack(config.pack or settings.default_pack)
        self.context = load_context(self.pack)
        self.identity: PackIdentity = pack_identity(self.pack)
        self.users = UserStore(self.data)
        self.audit = AuditLog(config.audit_url, self.data)
        self.jobs = JobStore(self.data)
        self.jobs.fail_orphans()
        self.batcher = QueryBatcher(self.context, config.batch_window_ms)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    @property
    def pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            from zoning.service.jobs import init_worker

            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.config.job_workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker, initargs=(self.config.pack,))
        return self._pool

    def warm(self) -> None:
        """Start the job workers (and read the pack in them) before the first upload."""
        self.pool.submit(os.getpid)

    def close(self) -> None:
        self.audit.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=False)

    def audit_entry(self, user: User, entry_id: str, kind: str, inputs: dict[str, Any], summary: dict[str, Any]) -> None:
        i = self.identity
        self.audit.record(Entry(id=entry_id, kind=kind, time=now_iso(), user=user.name, role=user.role, inputs=inputs,
                                pack=i.name, pack_version=i.version, pack_hash=i.hash, summary=summary))


def create_app(config: ServiceConfig) -> Any:
    """The ASGI application: the API, the map, the OGC API, behind auth and the upload limit."""
    from fastapi import FastAPI

    from zoning.service.ogc import mount_app

    svc = Service(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        svc.warm()
        freeze_loaded()  # the pack context, read in Service(): out of the collector's reach
        yield
        svc.close()

    app = FastAPI(title="zoning", version="1", lifespan=lifespan, docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.state.service = svc
    _error_answers(app)
    _page_routes(app, svc, config)
    _answer_routes(app, svc, config)
    _job_routes(app, svc, config)
    _audit_routes(app, svc)
    app.mount("/ogc", mount_app(svc.pack, svc.data, config.base_url, svc.identity.hash))
    return UploadLimitMiddleware(AuthMiddleware(app, config, svc.users), int(config.max_upload_mb * 1e6))


def _err(status: int, message: str) -> Any:
    """An error answer: ``{"error": message, "status": status}``."""
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": message, "status": status}, status_code=status)


def _user_of(request: Request) -> User:
    return request.scope["state"]["user"]  # type: ignore[no-any-return]


def _json(obj: Any, status: int = 200) -> Any:
    """A JSON answer; orjson: UTF-8 as written (no \\u escapes), ~5x faster than json on an ~80 KB answer."""
    return Response(orjson.dumps(obj), status_code=status, media_type="application/json; charset=utf-8")


def _error_answers(app: Any) -> None:
    """Every error in one shape, with the status the command line's exit code maps to."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(ZoningError)
    async def _zoning_error(request: Request, exc: ZoningError) -> JSONResponse:
        return _err(_status_of(exc), _message(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
        return _err(400, f"{where}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _err(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return _err(500, f"{type(exc).__name__}: {_message(exc)}")


def _page_routes(app: Any, svc: Service, config: ServiceConfig) -> None:
    """The health check, the map page and who the user is."""
    from fastapi.responses import HTMLResponse, RedirectResponse

    @app.get("/healthz")
    async def healthz() -> Response:
        return _json({"status": "ok", "pack": svc.identity.to_dict()})

    @app.get("/", response_class=HTMLResponse)
    async def page(request: Request, lang: str = "") -> Response:
        from zoning.service.page import render_page

        user = _user_of(request)
        if "token" in request.query_params:  # the token becomes a cookie and leaves the address bar
            from zoning.service.auth import COOKIE

            resp = RedirectResponse("/" + (f"?lang={lang}" if lang else ""), status_code=303)
            resp.set_cookie(COOKIE, request.query_params["token"], httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
            return resp
        lang = lang if lang in ("zh", "en") else config.lang
        html = await asyncio.get_running_loop().run_in_executor(
            None, render_page, svc.pack, lang, user.name, user.role, svc.identity.to_dict())
        return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'self' 'unsafe-inline' data:; "
                                           "connect-src 'self'; img-src 'self' data:"})

    @app.get(f"{API}/me")
    async def me(request: Request) -> Response:
        u = _user_of(request)
        return _json({"user": u.name, "role": u.role, "auth": config.auth, "pack": svc.identity.to_dict()})


def _answer_routes(app: Any, svc: Service, config: ServiceConfig) -> None:
    """Answers: a query, an answer asked again (and what changed since), the search."""
    from zoning.query import PointQuery

    async def answer(user: User, inputs: dict[str, Any], answer_id: str | None = None) -> dict[str, Any]:
        q = PointQuery(x=inputs["x"], y=inputs["y"], crs=inputs["crs"], order=inputs["order"],
                       project=checked_project(inputs["attrs"]), on_date=resolve_date(inputs["date"]),
                       radius_m=inputs["radius_km"] * 1000, lang=inputs["lang"],
                       with_nearest=True, near_m=inputs.get("near_m"))  # the nearest zones, as zoning query adds them
        try:
            res = await asyncio.wait_for(svc.batcher.answer(q), config.request_timeout_s)
        except TimeoutError:
            raise http_error(503, f"the answer took longer than {config.request_timeout_s:g} s; try again") from None
        if isinstance(res, Exception):
            raise res
        res["answer_id"] = answer_id or new_answer_id()
        return res

    @app.get(f"{API}/query")
    async def query(request: Request, lon: str, lat: str, crs: str | None = None, order: str = "xy",
                    date: str | None = None, lang: str = "zh", radius: float = 5.0,
                    near: float | None = None) -> Response:
        user = _user_of(request)
        if radius > 100:  # the service's own bound on the work of one answer (the rest: PointQuery)
            raise UsageError(f"radius={radius:g}: expected 0 to 100 km")
        attrs = parse_pairs(request.query_params.getlist("a"), "NAME=VALUE", "construction=new")
        inputs = {"x": lon, "y": lat, "crs": crs or None, "order": order, "date": resolve_date(date).isoformat(),
                  "lang": lang, "attrs": attrs, "radius_km": radius, "near_m": near}
        res = await answer(user, inputs)
        svc.audit_entry(user, res["answer_id"], "answer", inputs, {**summary_of(res), "pack_parts": svc.identity.parts()})
        return _json(res)

    @app.get(f"{API}/answers/{{answer_id}}")
    async def answer_again(request: Request, answer_id: str) -> Response:
        user = _user_of(request)
        entry = await asyncio.get_running_loop().run_in_executor(None, svc.audit.get, answer_id)
        if entry is None or entry.kind != "answer":
            raise http_error(404, f"no answer {answer_id!r} in the audit log")
        res = await answer(user, entry.inputs, answer_id)
        now = summary_of(res)
        changed = [k for k in now if now.get(k) != entry.summary.get(k)]
        pack_changes = svc.identity.changed_since(entry.summary.get("pack_parts") or {})
        stored_pack = {"name": entry.pack, "version": entry.pack_version, "hash": entry.pack_hash}
        return _json({
            "answer_id": answer_id, "asked": {"time": entry.time, "user": entry.user}, "inputs": entry.inputs,
            "pack": {"stored": stored_pack, "current": svc.identity.to_dict()},
            "pack_changed": entry.pack_hash != svc.identity.hash, "pack_changes": pack_changes,
            "answer_changed": bool(changed), "changed": changed,
            "answer": res,
        })

    @app.get(f"{API}/search")
    async def search(request: Request, q: str, lang: str = "zh") -> Response:
        from zoning.service.search import search_places

        user = _user_of(request)
        jobs = [] if not user.may("checker") else [j.id for j in svc.jobs.of_user(user.name) if j.status == "done"]
        found = await asyncio.get_running_loop().run_in_executor(
            None, lambda: search_places(svc.context, q[:200], jobs, svc.data))
        return _json({"q": q, "results": found})


def _job_routes(app: Any, svc: Service, config: ServiceConfig) -> None:
    """Check jobs: upload, list, status, files, the sites as GeoJSON."""
    @app.post(f"{API}/checks", status_code=202)
    async def submit_check(request: Request) -> Response:
        user = _user_of(request)
        from starlette.requests import ClientDisconnect

        try:
            form = await request.form(max_files=50, max_fields=200)
        except ClientDisconnect:
            if not request.scope.get("state", {}).get("too_large"):
                raise
            raise http_error(413, f"the upload is larger than {config.max_upload_mb:g} MB, the limit of this "
                                    "service (zoning serve --max-upload-mb)") from None
        from starlette.datastructures import UploadFile

        uploads = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
        if not uploads:
            raise UsageError("no file: send the sites as multipart field 'file' (repeatable)")
        text = {k: [str(v) for v in form.getlist(k) if isinstance(v, str)] for k in form.keys() if k != "file"}

        def one(name: str) -> str | None:
            vals = text.get(name) or []
            return vals[-1] if vals and vals[-1] != "" else None

        # format: parsed by validate(), as zoning check's --format is (zoning.outputs.formats)
        params = JobParams(crs=one("crs"), order=one("order") or "xy", date=one("date"),
                           formats=[one("format") or "csv,xlsx"],
                           fields=parse_pairs(text.get("field", []), "TARGET=COLUMN", "lon=东经"),
                           attrs=parse_pairs(text.get("set", []), "NAME=VALUE", "construction=新建"), layer=one("layer"),
                           sheet=one("sheet"), encoding=one("encoding"),
                           chunksize=one("chunksize") or JobParams.chunksize, lang=one("lang") or "zh").validate()
        suffixes = [safe_suffix(f.filename) for f in uploads]
        meta = [{"name": (f.filename or "")[:200], "size": f.size} for f in uploads]
        job = svc.jobs.create(user.name, params, meta)
        inputs = svc.jobs.job_dir(job.id) / "input"
        inputs.mkdir(parents=True)
        max_bytes = int(config.max_upload_mb * 1e6)
        taken: set[str] = set()
        for n, (f, suffix) in enumerate(zip(uploads, suffixes, strict=True)):
            target = inputs / stored_name(f.filename, n, suffix, taken)
            with target.open("wb") as out:
                while chunk := await f.read(1 << 20):
                    out.write(chunk)
            if suffix == ".zip":  # up to 4x the upload limit unpacked: off the loop that answers queries
                await asyncio.get_running_loop().run_in_executor(
                    None, functools.partial(unpack_zip, target, inputs, max_bytes=max_bytes * 4))
        svc.audit_entry(user, job.id, "check", {"params": params.__dict__, "uploads": meta}, {"status": "queued"})
        svc.pool.submit(run_job, str(svc.data), job.id, config.pack, config.max_rows, config.audit_url,
                        svc.identity.to_dict())
        body = job.to_dict(f"{API}/checks")
        return _json(body, status=202)

    def own_job(user: User, job_id: str) -> Any:
        job = svc.jobs.get(job_id) if len(job_id) == 32 else None
        if job is None or (job.user != user.name and not user.may("admin")):
            raise http_error(404, f"no check job {job_id!r} of user {user.name}")
        return job

    # the job endpoints read SQLite and job files: plain functions, which FastAPI runs in its
    # thread pool, off the event loop that answers queries
    @app.get(f"{API}/checks")
    def list_checks(request: Request, all: bool = False) -> Response:  # noqa: A002
        user = _user_of(request)
        jobs = svc.jobs.of_user(None if (all and user.may("admin")) else user.name)
        return _json({"jobs": [j.to_dict(f"{API}/checks") for j in jobs]})

    @app.get(f"{API}/checks/{{job_id}}")
    def check_status(request: Request, job_id: str) -> Response:
        return _json(own_job(_user_of(request), job_id).to_dict(f"{API}/checks"))

    @app.get(f"{API}/checks/{{job_id}}/files/{{name}}")
    def check_file(request: Request, job_id: str, name: str) -> Response:
        from fastapi.responses import FileResponse

        job = own_job(_user_of(request), job_id)
        if name not in job.files:  # only the names the job wrote; the name is never a path
            raise http_error(404, f"job {job_id} has no file {name!r}; it has {', '.join(job.files) or 'none yet'}")
        path = svc.jobs.job_dir(job.id) / "out" / name
        media = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "gpkg": "application/geopackage+sqlite3"}.get(Path(name).suffix.lstrip("."), "application/octet-stream")
        return FileResponse(path, media_type=media, filename=name)

    @app.get(f"{API}/checks/{{job_id}}/sites")
    def check_sites_geojson(request: Request, job_id: str, limit: int = 20_000) -> Response:
        job = own_job(_user_of(request), job_id)
        pts = read_points(svc.data, job.id)
        feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                  "properties": {k: v for k, v in p.items() if k not in ("lon", "lat")}} for p in pts[:limit]]
        return _json({"type": "FeatureCollection", "features": feats, "truncated": len(pts) > limit})


def _audit_routes(app: Any, svc: Service) -> None:
    """The audit log (admin)."""
    @app.get(f"{API}/audit")
    async def audit(request: Request, kind: str | None = None, user: str | None = None, since: str | None = None,
                    until: str | None = None, limit: int = 100) -> Response:
        entries = await asyncio.get_running_loop().run_in_executor(
            None, lambda: svc.audit.entries(kind=kind, user=user, since=since, until=until, limit=min(limit, 10_000)))
        return _json({"entries": [e.to_dict() for e in entries]})


def create_app_from_env() -> Any:
    """The factory uvicorn's workers call (the configuration comes in ``$ZONING_SERVICE_CONFIG``)."""
    return create_app(ServiceConfig.from_env())
