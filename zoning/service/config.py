"""Every setting of ``zoning serve``, in one dataclass that travels to each worker as JSON."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from zoning.core.errors import UsageError
from zoning.core.manifest import is_dsn

AuthMode = Literal["none", "token", "header"]
AUTH_MODES: tuple[str, ...] = ("none", "token", "header")
ROLES: tuple[str, ...] = ("viewer", "checker", "admin")

#: the environment variable that hands the configuration to uvicorn's worker processes
CONFIG_ENV = "ZONING_SERVICE_CONFIG"


@dataclass
class ServiceConfig:
    """The settings of one service (all workers share them).

    Attributes
    ----------
    pack : the layer pack (directory or ``postgresql://`` DSN); None: the shipped pack
    data_dir : everything the service writes lives here (users, audit, jobs, OGC exports)
    auth : ``none`` (every request is the local admin), ``token`` (``Authorization: Bearer``
        or the ``zoning_token`` cookie set by ``/?token=``), ``header`` (a user header trusted
        only from ``trusted_proxies``)
    audit_url : ``postgresql://...`` for an audit log in PostgreSQL; None: SQLite under data_dir
    max_upload_mb, max_rows : a larger upload is refused with 413; a job of more sites fails
    request_timeout_s : a query that takes longer answers 503
    job_workers : background worker processes per server process for check jobs
    batch_window_ms : queries arriving within this window are classified together
    public_url : the address users reach (links of the OGC API); default http://host:port
    """

    pack: str | None = None
    data_dir: str = "zoning-data"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    auth: str = "none"
    user_header: str = "X-Remote-User"
    trusted_proxies: list[str] = field(default_factory=lambda: ["127.0.0.1", "::1"])
    header_default_role: str = "viewer"
    audit_url: str | None = None
    insecure: bool = False
    max_upload_mb: float = 200.0
    max_rows: int = 1_000_000
    request_timeout_s: float = 30.0
    job_workers: int = 1
    batch_window_ms: float = 1.0
    public_url: str | None = None
    lang: str = "zh"

    @property
    def data(self) -> Path:
        return Path(self.data_dir).resolve()

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def validate(self) -> ServiceConfig:
        """Refuse settings that cannot work or are unsafe (UsageError, exit 2)."""
        if self.auth not in AUTH_MODES:
            raise UsageError(f"--auth was {self.auth!r} but is expected to be one of {', '.join(AUTH_MODES)}")
        if self.header_default_role not in ROLES:
            raise UsageError(f"the default role {self.header_default_role!r} is not one of {', '.join(ROLES)}")
        if self.auth == "none" and not is_loopback(self.host) and not self.insecure:
            raise UsageError(
                f"--host {self.host} is not a loopback address and --auth none lets anyone who reaches it "
                "query, upload and read the audit log; use --auth token or --auth header, or pass --insecure"
            )
        if self.audit_url and not is_dsn(self.audit_url):
            raise UsageError(f"--audit {self.audit_url!r}: expected a postgresql://... URL (default: SQLite under --data)")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise UsageError(f"--trusted-proxy {proxy!r} is not an IP address or network") from None
        if self.workers < 1 or self.job_workers < 1:
            raise UsageError("--workers and --job-workers must be at least 1")
        return self

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServiceConfig:
        return cls(**json.loads(text))

    @classmethod
    def from_env(cls) -> ServiceConfig:
        text = os.environ.get(CONFIG_ENV)
        if not text:
            raise UsageError(f"${CONFIG_ENV} is not set: start the service with `zoning serve`")
        return cls.from_json(text)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
