"""Run the service on uvicorn (``zoning serve``)."""

from __future__ import annotations

import os

from zoning.service.config import CONFIG_ENV, ServiceConfig


def serve(config: ServiceConfig, *, log_level: str = "info") -> None:
    """Validate the configuration, then run uvicorn with ``config.workers`` processes.

    The configuration reaches every worker in ``$ZONING_SERVICE_CONFIG``; each builds the
    application with :func:`zoning.service.app.create_app_from_env`.
    """
    import uvicorn

    from zoning.service.protocol import NoDelayHTTPProtocol

    config.validate()
    config.data.mkdir(parents=True, exist_ok=True)
    os.environ[CONFIG_ENV] = config.to_json()
    uvicorn.run(
        "zoning.service.app:create_app_from_env",
        factory=True,
        http=NoDelayHTTPProtocol,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level=log_level,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
        limit_concurrency=2048,
        proxy_headers=config.auth == "header",
        forwarded_allow_ips=",".join(config.trusted_proxies),
        server_header=False,
    )
