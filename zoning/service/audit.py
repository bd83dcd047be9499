"""The audit log: every answer and every check job — who, when, inputs, pack version and
hash, answer id, result summary.

SQLite (``audit.sqlite`` under ``--data``) by default, PostgreSQL when ``--audit`` is a
``postgresql://`` URL (psycopg, the ``scale`` extra). Entries are written by one thread per
server process in small transactions (every ~50 ms), so a thousand answers a second cost a
few commits; :meth:`AuditLog.flush` writes what is pending at once (``/api/v1/answers/{id}``
calls it before it looks an answer up). ``zoning audit list|export`` reads the same tables.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AUDIT_FILE = "audit.sqlite"
COLUMNS: tuple[str, ...] = ("id", "kind", "time", "user", "role", "inputs", "pack", "pack_version", "pack_hash",
                            "summary")

_SCHEMA = ("CREATE TABLE IF NOT EXISTS zoning_audit (id TEXT PRIMARY KEY, kind TEXT NOT NULL, time TEXT NOT NULL, "
           "\"user\" TEXT NOT NULL, role TEXT NOT NULL, inputs TEXT NOT NULL, pack TEXT NOT NULL, "
           "pack_version TEXT NOT NULL, pack_hash TEXT NOT NULL, summary TEXT NOT NULL)")
_INDEX = "CREATE INDEX IF NOT EXISTS zoning_audit_time ON zoning_audit (time)"


@dataclass
class Entry:
    """One audit entry (``inputs`` and ``summary`` are JSON objects)."""

    id: str
    kind: str
    time: str
    user: str
    role: str
    inputs: dict[str, Any]
    pack: str
    pack_version: str
    pack_hash: str
    summary: dict[str, Any]

    def row(self) -> tuple[Any, ...]:
        return (self.id, self.kind, self.time, self.user, self.role, json.dumps(self.inputs, ensure_ascii=False),
                self.pack, self.pack_version, self.pack_hash, json.dumps(self.summary, ensure_ascii=False))

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Entry:
        values = dict(zip(COLUMNS, row, strict=True))
        values["inputs"] = json.loads(values["inputs"])
        values["summary"] = json.loads(values["summary"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in COLUMNS}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class _Store:
    """SQL over SQLite or PostgreSQL (placeholders differ: ? or %s)."""

    def __init__(self, url: str | None, data_dir: str | Path | None) -> None:
        self.url = url
        self.path = None if url else Path(data_dir or ".") / AUDIT_FILE
        self.mark = "%s" if url else "?"
        con = self.connect()
        try:
            cur = con.cursor()
            cur.execute(_SCHEMA)
            cur.execute(_INDEX)
            con.commit()
        finally:
            con.close()

    def connect(self) -> Any:
        if self.url:
            import psycopg

            return psycopg.connect(self.url)
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        return con


class AuditLog:
    """Append entries (in the background), read them back."""

    FLUSH_S = 0.05

    def __init__(self, url: str | None = None, data_dir: str | Path | None = None, *, background: bool = True) -> None:
        self._store = _Store(url, data_dir)
        self._queue: queue.Queue[Entry | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="zoning-audit", daemon=True)
            self._thread.start()

    # ------------------------------------------------------------------ writing
    def record(self, entry: Entry) -> None:
        """Queue an entry (written within ~50 ms; at once without the background thread)."""
        self._queue.put(entry)
        if self._thread is None:
            self.flush()

    def flush(self) -> None:
        """Write every pending entry now."""
        with self._lock:
            batch: list[Entry] = []
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    batch.append(item)
            if batch:
                self._write(batch)

    def _write(self, batch: list[Entry]) -> None:
        con = self._store.connect()
        try:
            m = self._store.mark
            cur = con.cursor()
            cur.executemany(f"INSERT INTO zoning_audit VALUES ({', '.join([m] * len(COLUMNS))})",
                            [e.row() for e in batch])
            con.commit()
        finally:
            con.close()

    def _run(self) -> None:
        import time

        while True:
            time.sleep(self.FLUSH_S)
            try:
                self.flush()
            except Exception:  # a database that is briefly away must not end the log
                import logging

                logging.getLogger(__name__).exception("audit log: writing failed; retrying")

    def close(self) -> None:
        self.flush()

    # ------------------------------------------------------------------ reading
    def get(self, entry_id: str) -> Entry | None:
        self.flush()
        rows = self._select(f"WHERE id = {self._store.mark}", [entry_id], limit=1)
        return rows[0] if rows else None

    def entries(self, *, kind: str | None = None, user: str | None = None, since: str | None = None,
                until: str | None = None, limit: int | None = 1000, newest_first: bool = True) -> list[Entry]:
        """Entries filtered by kind (answer/check), user and ISO time range."""
        self.flush()
        where, args = [], []
        m = self._store.mark
        for col, value, op in (("kind", kind, "="), ('"user"', user, "="), ("time", since, ">="), ("time", until, "<")):
            if value is not None:
                where.append(f"{col} {op} {m}")
                args.append(value)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return self._select(clause, args, limit=limit, newest_first=newest_first)

    def _select(self, clause: str, args: list[Any], *, limit: int | None, newest_first: bool = True) -> list[Entry]:
        cols = ", ".join(f'"{c}"' if c == "user" else c for c in COLUMNS)
        sql = f"SELECT {cols} FROM zoning_audit {clause} ORDER BY time {'DESC' if newest_first else 'ASC'}, id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        con = self._store.connect()
        try:
            cur = con.cursor()
            cur.execute(sql, args)
            return [Entry.from_row(tuple(r)) for r in cur.fetchall()]
        finally:
            con.close()


def open_audit(url: str | None, data_dir: str | Path | None, *, background: bool = False) -> AuditLog:
    """The audit log of a service: PostgreSQL at ``url``, else SQLite under ``data_dir``."""
    return AuditLog(url, data_dir, background=background)
