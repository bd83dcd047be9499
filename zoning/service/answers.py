"""``/api/v1/query``: the answer of ``zoning query --format json``, plus an ``answer_id``.

Queries are answered by :func:`zoning.query.query_point_answers`, the same assembly as
:func:`zoning.query.query_point`; the queries that reach one server process within
``batch_window_ms`` are classified together in one vectorised pass (one hits table), then
each answer is assembled alone. Under load that is what lets two cores give a thousand
answers a second; alone, a query waits at most the window.

Every answer is audited with its inputs (the date resolved, so it can be reproduced), the
pack version and hash, and a summary; ``/api/v1/answers/{id}`` answers again from them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from zoning.core.layers import Pack
from zoning.query import PointQuery, QueryResult, query_point_answers


@dataclass(frozen=True)
class PackIdentity:
    """Which pack answered: its name, version label and content hash
    (:func:`zoning.core.version.pack_version`, the hash ``zoning layers diff`` compares),
    with the hash of its rules and of each layer, so a reproduction can say which changed."""

    name: str
    version: str
    hash: str
    rules: str
    layers: dict[str, str]

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "hash": self.hash}

    def parts(self) -> dict[str, Any]:
        return {"rules": self.rules, "layers": dict(self.layers)}

    def changed_since(self, parts: dict[str, Any]) -> list[str]:
        """What differs from the parts recorded with an answer: ``rules`` and layer names."""
        out = ["rules"] if parts.get("rules") not in (None, self.rules) else []
        old = parts.get("layers") or {}
        out += [f"layer {n}" for n in sorted(set(old) | set(self.layers)) if old.get(n) != self.layers.get(n)]
        return out


def pack_identity(pack: Pack) -> PackIdentity:
    from zoning.core.version import pack_version

    v = pack_version(pack)
    return PackIdentity(v.name, v.label, v.content_sha256, v.rules_sha256, dict(v.layers))


def new_answer_id() -> str:
    return uuid.uuid4().hex


def summary_of(answer: dict[str, Any]) -> dict[str, Any]:
    """What the audit keeps of an answer: enough to say whether a reproduction differs."""
    return {
        "county": answer["county"]["adcode"],
        "in_planning_area": answer["extents"]["in_planning_area"],
        "in_central_area": answer["extents"]["in_central_area"],
        "zones": [z["zone_id"] or z["zone_class"] for z in answer["zones"]],
        "governing": [g["zone_class"] for g in answer["governing"]],
        "verdict": answer["verdict"],
        "verdict_rules": answer["verdict_rules"],
        "rules": [r["id"] for r in answer["rules"]],
    }


class QueryBatcher:
    """Collects the queries of one process and answers them together in a worker thread."""

    MAX_BATCH = 512

    def __init__(self, context: Any, window_ms: float = 1.0) -> None:
        self.context = context
        self.window = max(window_ms, 0.0) / 1000
        self._pending: list[tuple[PointQuery, asyncio.Future[dict[str, Any] | Exception]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def answer(self, q: PointQuery) -> dict[str, Any] | Exception:
        """The JSON answer of ``zoning query --format json`` (or the exception); ``q.with_nearest``
        and ``q.near_m`` as ``zoning query`` sets them."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())
        fut: asyncio.Future[dict[str, Any] | Exception] = loop.create_future()
        self._pending.append((q, fut))
        assert self._wake is not None
        self._wake.set()
        return await fut

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.window:
                await asyncio.sleep(self.window)
            while self._pending:
                batch, self._pending = self._pending[: self.MAX_BATCH], self._pending[self.MAX_BATCH:]
                live = [(q, f) for q, f in batch if not f.cancelled()]
                if not live:
                    continue
                try:
                    results = await loop.run_in_executor(None, self._answer_all, [q for q, _ in live])
                except Exception as exc:  # one failure never sinks the others' futures
                    results = [exc] * len(live)
                for (_, fut), res in zip(live, results, strict=True):
                    if not fut.done():
                        fut.set_result(res)

    def _answer_all(self, queries: list[PointQuery]) -> list[dict[str, Any] | Exception]:
        """The answers as JSON-ready dicts (built here, off the event loop)."""
        return [r.to_dict() if isinstance(r, QueryResult) else r for r in query_point_answers(queries, self.context)]


def resolve_date(value: str | None) -> dt.date:
    """The date a query reads the rules on: ``YYYY-MM-DD``, or today."""
    from zoning.core.errors import UsageError

    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"date={value!r}: expected YYYY-MM-DD") from None
