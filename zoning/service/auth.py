"""Who is asking: ``--auth none|token|header``, as a pure ASGI middleware over the whole
application (the API, the map, and the OGC API mounted from pygeoapi alike).

- ``none``: every request is ``local`` with the admin role (loopback only, unless ``--insecure``);
- ``token``: ``Authorization: Bearer TOKEN``, or the ``zoning_token`` cookie the page sets
  from ``/?token=TOKEN`` (HttpOnly, SameSite=Strict); tokens are looked up by their SHA-256;
- ``header``: the user named in ``--user-header`` (default ``X-Remote-User``), trusted only
  when the request comes from a ``--trusted-proxy`` address; the role is the user's in
  ``zoning users`` if there, else the configured default (viewer).

Missing or wrong credentials: 401; a role that does not allow the path: 403 (one-line JSON).
"""

from __future__ import annotations

import ipaddress
import json
from http.cookies import SimpleCookie
from typing import Any

from zoning.service.config import ServiceConfig
from zoning.service.users import User, UserStore

COOKIE = "zoning_token"
OPEN_PATHS = ("/healthz",)


def required_role(path: str) -> str:
    """The least role a request needs: checks need checker, the audit log admin, the rest viewer."""
    if path.startswith("/api/v1/audit"):
        return "admin"
    if path.startswith("/api/v1/checks"):
        return "checker"
    return "viewer"


async def send_error(send: Any, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": message, "status": status}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class AuthMiddleware:
    """Sets ``scope["state"]["user"]`` or answers 401/403."""

    def __init__(self, app: Any, config: ServiceConfig, users: UserStore) -> None:
        self.app, self.config, self.users = app, config, users
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in config.trusted_proxies]
        self.header = config.user_header.lower().encode("latin-1")

    def identify(self, scope: dict[str, Any]) -> User | None:
        mode = self.config.auth
        if mode == "none":
            return User("local", "admin")
        headers = dict(scope.get("headers") or [])
        if mode == "header":
            client = (scope.get("client") or ("", 0))[0]
            try:
                trusted = any(ipaddress.ip_address(client) in net for net in self.proxies)
            except ValueError:
                trusted = False
            name = headers.get(self.header, b"").decode("utf-8", "replace").strip()
            if not trusted or not name:
                return None
            return User(name, self.users.role_of(name) or self.config.header_default_role)
        token = ""
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        elif b"cookie" in headers:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(headers[b"cookie"].decode("latin-1"))
            except Exception:
                jar = SimpleCookie()
            if COOKIE in jar:
                token = jar[COOKIE].value
        if not token and scope.get("path") == "/":
            from urllib.parse import parse_qs

            token = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token") or [""])[0]
        return self.users.by_token(token) if token else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        user = self.identify(scope)
        if user is None:
            what = {"token": "a valid token (Authorization: Bearer TOKEN)",
                    "header": f"the {self.config.user_header} header from a trusted proxy"}[self.config.auth]
            await send_error(send, 401, f"not signed in: this service needs {what}",
                             [(b"www-authenticate", b"Bearer")] if self.config.auth == "token" else None)
            return
        need = required_role(scope["path"])
        if not user.may(need):
            await send_error(send, 403, f"user {user.name} ({user.role}) may not do this: it needs the {need} role")
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)


class UploadLimitMiddleware:
    """413 for a request body over the limit: by Content-Length at once, or while it streams."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        msg = f"the upload is larger than {limit / 1e6:g} MB, the limit of this service (zoning serve --max-upload-mb)"
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await send_error(send, 413, msg)
            return
        seen = 0
        started = False
        state = scope.setdefault("state", {})

        async def counted() -> Any:
            nonlocal seen
            if state.get("too_large"):
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # the reader sees a disconnect; the endpoint answers 413
                    state["too_large"] = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted, tracking_send)
        if state.get("too_large") and not started:
            await send_error(send, 413, msg)
