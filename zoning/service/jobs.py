"""Batch checks by upload: jobs that run ``zoning check`` in background worker processes.

A job is a folder ``<data>/jobs/<id>/`` holding ``input/`` (the uploaded files, stored under their
names reduced to letters and digits (:func:`stored_name`): never a path, whatever a
client sends) and ``out/`` (``check.csv``, ``check.xlsx``, ``check.gpkg``, ``check.html``), and a
row of ``jobs.sqlite`` (owner, status, progress, parameters, files, summary, error). The
work is the command line's: :func:`zoning.check.build_context`,
:func:`zoning.check.iter_check` (the sites read and checked chunk by chunk) and
:class:`zoning.outputs.reports.ResultWriter` — so a job's report equals ``zoning check``'s
row for row. Jobs run in a process pool (``--job-workers``), so a check never holds up the
queries, and a client that disconnects does not stop its job.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoning.core import settings
from zoning.core.errors import InputFileError, UsageError
from zoning.service.audit import now_iso

JOBS_FILE = "jobs.sqlite"
#: the suffixes `zoning check` reads, and the only ones an upload may have
INPUT_SUFFIXES: tuple[str, ...] = (".csv", ".txt", ".xlsx", ".xls", ".geojson", ".json", ".gpkg", ".shp", ".shx",
                                   ".dbf", ".prj", ".cpg", ".zip", ".dat")


@dataclass
class JobParams:
    """The options of ``zoning check`` a job takes (form fields of ``POST /api/v1/checks``)."""

    crs: str | None = None
    order: str = "xy"
    date: str | None = None
    formats: list[str] = field(default_factory=lambda: ["csv", "xlsx"])
    fields: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)
    layer: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    chunksize: int | str = settings.DEFAULT_CHUNKSIZE  # an int once validated
    lang: str = "zh"

    def validate(self) -> JobParams:
        """The checks the command line's option callbacks make (UsageError / RuleError);
        ``formats`` (a list, each item maybe comma-separated) becomes the parsed list."""
        from zoning.core.coords import resolve_crs
        from zoning.core.rules import checked_project
        from zoning.inputs.sites import known_encoding, site_field_target
        from zoning.outputs.formats import parse_formats
        from zoning.outputs.reports import FORMATS as OUTPUT_FORMATS
        from zoning.service.answers import resolve_date

        if self.order not in ("xy", "survey"):
            raise UsageError(f"order={self.order!r}: expected xy or survey")
        if self.lang not in ("zh", "en"):
            raise UsageError(f"lang={self.lang!r}: expected zh or en")
        # the parser of zoning check --format; a job writes the tables, not the review reports
        self.formats = parse_formats(self.formats, OUTPUT_FORMATS, what="output format")
        if self.crs:
            resolve_crs(self.crs)
        if self.date:
            resolve_date(self.date)
        if self.encoding:
            known_encoding(self.encoding)
        low, high = settings.CHUNKSIZE_RANGE
        try:  # a form sends text
            self.chunksize = int(str(self.chunksize).strip())
        except ValueError:
            raise UsageError(f"chunksize={self.chunksize!r}: expected a whole number of rows, {low:,} to {high:,}") from None
        if not low <= self.chunksize <= high:  # (a number past 64 bits could not even be answered in JSON)
            raise UsageError(f"chunksize={self.chunksize}: expected {low:,} to {high:,} rows")
        for target, column in self.fields.items():
            site_field_target(target, column)
        checked_project(dict(self.attrs))
        return self


@dataclass
class Job:
    id: str
    user: str
    status: str
    created: str
    params: dict[str, Any]
    uploads: list[dict[str, Any]]
    done_sites: int = 0
    started: str | None = None
    finished: str | None = None
    files: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    server_pid: int = 0

    def to_dict(self, base: str = "/api/v1/checks") -> dict[str, Any]:
        return {
            "id": self.id, "user": self.user, "status": self.status, "progress": {"sites_done": self.done_sites},
            "created": self.created, "started": self.started, "finished": self.finished,
            "params": self.params, "uploads": self.uploads, "summary": self.summary, "error": self.error,
            "files": {name: f"{base}/{self.id}/files/{name}" for name in self.files},
        }


_COLS = ("id", "user", "status", "created", "params", "uploads", "done_sites", "started", "finished", "files",
         "summary", "error", "server_pid")
_JSON_COLS = {"params", "uploads", "files", "summary"}


class JobStore:
    """The job table (``jobs.sqlite`` under ``--data``), shared by every server and worker process."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.root = jobs_root(self.data_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, \"user\" TEXT, status TEXT, created TEXT, "
                        "params TEXT, uploads TEXT, done_sites INTEGER, started TEXT, finished TEXT, files TEXT, "
                        "summary TEXT, error TEXT, server_pid INTEGER)")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.data_dir / JOBS_FILE, timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        return con

    def job_dir(self, job_id: str) -> Path:
        return _job_dir(self.data_dir, job_id)

    def create(self, user: str, params: JobParams, uploads: list[dict[str, Any]]) -> Job:
        job = Job(id=uuid.uuid4().hex, user=user, status="queued", created=now_iso(), params=params.__dict__.copy(),
                  uploads=uploads, server_pid=os.getpid())
        self._insert(job)
        return job

    def _insert(self, job: Job) -> None:
        values = [json.dumps(getattr(job, c), ensure_ascii=False) if c in _JSON_COLS else getattr(job, c) for c in _COLS]
        with self._connect() as con:
            con.execute(f"INSERT INTO jobs VALUES ({', '.join('?' * len(_COLS))})", values)

    def update(self, job_id: str, **values: Any) -> None:
        sets = ", ".join(f'"{k}" = ?' for k in values)
        args = [json.dumps(v, ensure_ascii=False) if k in _JSON_COLS else v for k, v in values.items()]
        with self._connect() as con:
            con.execute(f"UPDATE jobs SET {sets} WHERE id = ?", [*args, job_id])

    def get(self, job_id: str) -> Job | None:
        rows = self._select("WHERE id = ?", [job_id])
        return rows[0] if rows else None

    def of_user(self, user: str | None, limit: int = 100) -> list[Job]:
        if user is None:
            return self._select("ORDER BY created DESC LIMIT ?", [limit])
        return self._select('WHERE "user" = ? ORDER BY created DESC LIMIT ?', [user, limit])

    def _select(self, clause: str, args: list[Any]) -> list[Job]:
        cols = ", ".join(f'"{c}"' for c in _COLS)
        con = self._connect()
        try:
            rows = con.execute(f"SELECT {cols} FROM jobs {clause}", args).fetchall()
        finally:
            con.close()
        out = []
        for r in rows:
            values = {c: (json.loads(v) if c in _JSON_COLS and v is not None else v) for c, v in zip(_COLS, r, strict=True)}
            out.append(Job(**values))
        return out

    def fail_orphans(self) -> int:
        """Jobs left queued or running by a server process that is gone are failed (its pool went with it)."""
        n = 0
        for job in self._select("WHERE status IN ('queued', 'running')", []):
            if not _alive(job.server_pid):
                self.update(job.id, status="failed", finished=now_iso(),
                            error="interrupted: the server stopped before the job finished; upload it again")
                n += 1
        return n


def _alive(pid: int) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stored_name(filename: str | None, n: int, suffix: str, taken: set[str]) -> str:
    """The name an upload is stored under: its stem reduced to letters, digits (any script),
    ``-`` and ``_`` — no separator or dot can survive, so it is never a path — and its
    checked suffix; ``upload-<n>`` when nothing is left. The report's source column shows it."""
    stem = "".join(c for c in Path(filename or "").stem if c.isalnum() or c in "-_")[:80] or f"upload-{n}"
    name = f"{stem}{suffix}"
    k = 1
    while name in taken:
        k += 1
        name = f"{stem}-{k}{suffix}"
    taken.add(name)
    return name


def safe_suffix(filename: str | None) -> str:
    """The suffix of an uploaded file's name, if it is one check reads (the name itself is never used)."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise UsageError(f"upload {filename!r}: expected a file `zoning check` reads ({', '.join(INPUT_SUFFIXES)})")
    return suffix


def unpack_zip(path: Path, dest: Path, *, max_bytes: int) -> None:
    """Extract a zip's files (not folders) into ``dest`` under safe names: only a member's
    suffix is kept, its stem is sanitised, and the total is bounded (zip bombs)."""
    total = 0
    try:
        with zipfile.ZipFile(path) as zf:
            for k, info in enumerate(m for m in zf.infolist() if not m.is_dir()):
                name = Path(info.filename).name
                suffix = Path(name).suffix.lower()
                if suffix not in INPUT_SUFFIXES or suffix == ".zip":
                    continue
                total += info.file_size
                if total > max_bytes:
                    raise UsageError(f"the zip file unpacks to more than {max_bytes // 1_000_000} MB")
                stem = "".join(c for c in Path(name).stem if c.isalnum() or c in "-_")[:40] or f"member{k}"
                with zf.open(info) as src, (dest / f"{stem}{suffix}").open("wb") as out:
                    shutil.copyfileobj(src, out)
    except zipfile.BadZipFile as exc:
        raise InputFileError(f"the uploaded zip file cannot be read ({exc})") from None
    path.unlink()


#: the points of a finished job, for drawing it on the map and finding its sites by id
SITES_FILE = "sites.json"
SITE_POINT_COLUMNS: tuple[str, ...] = ("row", "site_id", "site_name", "lon", "lat", "verdict")


def _write_points(path: Path, frames: list[Any]) -> None:
    import pandas as pd

    if not frames:
        path.write_text("[]", encoding="utf-8")
        return
    df = pd.concat(frames, ignore_index=True)
    records = []
    for r in df.itertuples(index=False):
        d = r._asdict()
        if d.get("lon") is None or d.get("lat") is None or d["lon"] != d["lon"] or d["lat"] != d["lat"]:
            continue
        records.append({k: (None if v is None or (isinstance(v, float) and v != v) else
                            (v if isinstance(v, (int, float)) else str(v))) for k, v in d.items()})
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")


def jobs_root(data_dir: str | Path) -> Path:
    """The folder of every job's folder (``--data``/jobs)."""
    return Path(data_dir) / "jobs"


def _job_dir(data_dir: str | Path, job_id: str) -> Path:
    """The folder of a job (``--data``/jobs/ID); an id that is not one is refused."""
    if not (len(job_id) == 32 and all(c in "0123456789abcdef" for c in job_id)):
        raise UsageError(f"job id {job_id!r} is not a job id")
    return jobs_root(data_dir) / job_id


def read_points(data_dir: str | Path, job_id: str) -> list[dict[str, Any]]:
    """The points of a finished job ([] if it has none); reads the file, not the job table."""
    path = _job_dir(data_dir, job_id) / SITES_FILE
    if not path.is_file():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")))


# ----------------------------------------------------------------------------------------
# The work, in a worker process
# ----------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def init_worker(pack: str | None) -> None:
    """Pool initializer: read the pack once per worker process."""
    from zoning.core.context import freeze_loaded, load_context

    _WORKER["pack"] = pack
    try:
        load_context(pack)
    except Exception:  # the job reports it
        pass
    freeze_loaded()


class _Progress:
    """What check_sites calls ``update`` on after each batch: the job's count, written at most
    twice a second, and the row limit of a job on this service (``zoning serve --max-rows``),
    refused before a batch over it is counted or written."""

    def __init__(self, store: JobStore, job_id: str, max_rows: int) -> None:
        self.store, self.job_id, self.max_rows, self.n, self._last = store, job_id, max_rows, 0, 0.0

    def update(self, n: int) -> None:
        import time

        if self.n + n > self.max_rows:
            raise UsageError(f"the upload has more than {self.max_rows} sites, the limit of a job on this "
                             "service; split it, or ask the administrator (zoning serve --max-rows)")
        self.n += n
        now = time.monotonic()
        if now - self._last > 0.5:
            self._last = now
            self.store.update(self.job_id, done_sites=self.n)


def run_job(data_dir: str, job_id: str, pack: str | None, max_rows: int, audit_url: str | None,
            pack_info: dict[str, str]) -> None:
    """Run one check job to the end; every outcome is written to its row and to the audit log."""
    from zoning.check import build_context, iter_check
    from zoning.outputs.reports import ResultWriter
    from zoning.service.audit import Entry, open_audit

    store = JobStore(data_dir)
    job = store.get(job_id)
    if job is None:
        return
    store.update(job_id, status="running", started=now_iso())
    p = JobParams(**job.params)
    folder = store.job_dir(job_id)
    inputs = folder / "input"
    out = folder / "out"
    out.mkdir(exist_ok=True)
    found = sorted(inputs.iterdir())
    # the report's source column names the upload as the planner named it, not a server path
    if len(found) == 1:
        os.chdir(inputs)
        sites_path = Path(found[0].name)
    else:
        os.chdir(folder)
        sites_path = Path("input")
    progress = _Progress(store, job_id, max_rows)
    summary: dict[str, Any] = {}
    error = None
    points: list[Any] = []
    try:
        ctx = build_context(pack, project_defaults=p.attrs,
                            on_date=dt.date.fromisoformat(p.date) if p.date else None)
        outputs = {f: out / f"check.{f}" for f in p.formats}
        writer = ResultWriter(outputs, lang=p.lang, context=ctx, inputs=[sites_path])
        try:
            for res in iter_check(sites_path, context=ctx, progress=progress, crs=p.crs, order=p.order,
                                  fields=p.fields or {}, layer=p.layer, sheet=p.sheet, encoding=p.encoding,
                                  chunksize=p.chunksize):  # the progress refuses a job over --max-rows
                writer.write(res)
                points.append(res[[c for c in SITE_POINT_COLUMNS if c in res.columns]])
            written = writer.close()
        except BaseException:
            writer.abort()
            raise
        summary = {"n_sites": writer.n_sites, "verdict_counts": dict(writer.verdict_counts),
                   "demonstration_layers": list(ctx.demonstration_layers)}
        _write_points(folder / SITES_FILE, points)
        store.update(job_id, status="done", finished=now_iso(), done_sites=writer.n_sites,
                     files=[Path(v).name for v in written.values()], summary=summary)
    except Exception as exc:
        from zoning.core.errors import ZoningError, scrub_secrets

        error = scrub_secrets(" ".join(str(exc).split()) if isinstance(exc, (ZoningError, OSError))
                              else f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        store.update(job_id, status="failed", finished=now_iso(), error=error, done_sites=progress.n)
    audit = open_audit(audit_url, data_dir)
    audit.record(Entry(id=f"{job_id}/result", kind="check_result", time=now_iso(), user=job.user, role="",
                       inputs={"job": job_id}, pack=pack_info["name"], pack_version=pack_info["version"],
                       pack_hash=pack_info["hash"],
                       summary={"status": "failed" if error else "done", "error": error, **summary}))
    audit.close()
