"""The HTTP protocol ``zoning serve`` runs: uvicorn's own (httptools when installed, else
h11), with Nagle's algorithm turned off on every connection.

With ``--workers N`` uvicorn binds the listening socket itself with ``proto`` 0; accepted
sockets inherit it, and asyncio only sets ``TCP_NODELAY`` on sockets whose ``proto`` is
``IPPROTO_TCP``. Nagle then holds the last segment of each answer until the client's
delayed ACK, about 40 ms on Linux, on every keep-alive request after the first
(uvicorn issue #3149, open). Setting the option on each accepted connection is the
documented cure and costs one system call per connection.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol

__all__ = ["NoDelayHTTPProtocol", "set_nodelay"]


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on the TCP socket of ``transport`` (no-op for other sockets)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # a connection already closed by the peer
            pass


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol, with ``TCP_NODELAY`` set as each connection is made."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
