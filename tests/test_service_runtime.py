"""How ``zoning serve`` runs: Nagle's algorithm off on every connection, the started heap
frozen out of the garbage collector.

``--workers N``: every connection has Nagle's algorithm off (uvicorn #3149).

uvicorn binds the listening socket of a multi-worker server with ``proto`` 0, and asyncio
then leaves ``TCP_NODELAY`` unset on accepted connections: each keep-alive answer after
the first waited ~40 ms for the client's delayed ACK (single-client p50 56 ms with two
workers, 12 ms with one). The test serves through the protocol ``zoning serve`` runs on
a listener bound the same way and reads the option on the accepted socket.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytest.importorskip("uvicorn")


async def _accepted_nodelay(protocol_class: type) -> int:
    import uvicorn
    from uvicorn.server import ServerState

    async def app(scope, receive, send):  # a bare ASGI app: the protocol is under test
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    config = uvicorn.Config(app, lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    made: list[asyncio.Protocol] = []
    loop = asyncio.get_running_loop()

    def factory() -> asyncio.Protocol:
        p = protocol_class(config=config, server_state=state, app_state={}, _loop=loop)
        made.append(p)
        return p

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn's bind_socket
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    server = await loop.create_server(factory, sock=listener)
    try:
        reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"ok")
        sock = made[0].transport.get_extra_info("socket")  # type: ignore[attr-defined]
        value = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        return int(value)
    finally:
        server.close()


def test_every_connection_of_a_pre_bound_listener_has_nodelay() -> None:
    from zoning.service.protocol import NoDelayHTTPProtocol

    assert asyncio.run(_accepted_nodelay(NoDelayHTTPProtocol)) != 0


def test_zoning_serve_runs_that_protocol(tmp_path, monkeypatch) -> None:
    import uvicorn

    from zoning.service.config import ServiceConfig
    from zoning.service.protocol import NoDelayHTTPProtocol
    from zoning.service.server import serve

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))  # what serve hands uvicorn
    serve(ServiceConfig(data_dir=str(tmp_path / "data"), workers=2))
    assert seen["http"] is NoDelayHTTPProtocol and seen["workers"] == 2


def test_the_started_service_is_out_of_the_collectors_reach(tmp_path) -> None:
    """Full collections walked the whole pack context (~70 ms each, a few a second under
    load: p95 105 ms at 32 clients); the lifespan freezes what the started process holds."""
    import gc

    from fastapi.testclient import TestClient

    from zoning.service.app import create_app
    from zoning.service.config import ServiceConfig

    gc.unfreeze()
    try:
        with TestClient(create_app(ServiceConfig(data_dir=str(tmp_path / "data")))) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_freeze_count() > 50_000  # the pack context's objects among them
    finally:
        gc.unfreeze()


def test_zoning_check_keeps_its_contexts_out_of_the_collectors_reach(tmp_path) -> None:
    """A 100,000-site check spent 0.18 s in six full collections walking the pack context
    (9 % of the run); the command freezes what it read before the sites stream through."""
    import gc

    from click.testing import CliRunner

    from zoning.cli.main import main_group

    gc.unfreeze()
    try:
        out = tmp_path / "out.csv"
        r = CliRunner().invoke(main_group, ["check", str(REPO / "examples" / "sites_demo.csv"), "-o", str(out),
                                            "--no-progress"])
        assert r.exit_code == 0, r.output
        assert out.stat().st_size > 0
        assert gc.get_freeze_count() > 50_000
    finally:
        gc.unfreeze()
