"""``zoning serve``: the bureau's service (query API, batch checks, OGC API – Features, the map)."""

from __future__ import annotations

import click

from zoning.cli import options


def _data_folder(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``--data`` is (or can become) a folder: a file there is refused before any work, as
    ``check --out`` refuses one (it failed later with a bare 'File exists')."""
    options.writable_dir(value, "--data", probe=False)
    return value


data_opt = click.option("--data", "data_dir", default="zoning-data", show_default=True, metavar="DIR",
                        callback=_data_folder,
                        help="Folder for everything the service writes: users, audit log, jobs, OGC exports.")


@click.command(short_help="Serve the query API, batch checks, OGC API - Features and the map.")
@click.option("--pack", default=None, metavar="DIR",
              help="Layer pack: a directory or postgresql://... DSN (default: the shipped pack, or $ZONING_PACK).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Server processes (each reads the pack once; about one per core).")
@click.option("--auth", type=click.Choice(["none", "token", "header"]), default="none", show_default=True,
              help="none (loopback only), token (zoning users add), header (a trusted reverse proxy names the user).")
@click.option("--audit", "audit_url", default=None, metavar="URL",
              help="postgresql://... for the audit log (default: SQLite under --data).")
@data_opt
@click.option("--user-header", default="X-Remote-User", show_default=True, help="--auth header: the user header.")
@click.option("--trusted-proxy", "trusted", multiple=True, metavar="ADDRESS",
              help="--auth header: a proxy address or network trusted to set the header (default 127.0.0.1, ::1).")
@click.option("--max-upload-mb", type=click.FloatRange(min=0.001), default=200.0, show_default=True)
@click.option("--max-rows", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Most sites in one check job.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds a query may take before it answers 503.")
@click.option("--job-workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Background processes per server process that run check jobs.")
@click.option("--public-url", default=None, metavar="URL",
              help="The address users reach behind a proxy, e.g. https://zoning.bureau.example (OGC links).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the map.")
@click.option("--insecure", is_flag=True, help="Allow --auth none on a non-loopback address.")
def serve(pack, host, port, workers, auth, audit_url, data_dir, user_header, trusted, max_upload_mb, max_rows,
          timeout_s, job_workers, public_url, lang, insecure) -> None:
    """Serve the answers of `zoning query` and `zoning check` over HTTP, with the map at /.

    \b
    GET  /api/v1/query?lon=&lat=&crs=&order=&date=&lang=&a=NAME=VALUE
    GET  /api/v1/answers/ID           the answer again, from the audited inputs
    POST /api/v1/checks               multipart upload (file=..., the options of zoning check)
    GET  /api/v1/checks[/ID[/files/NAME]]
    GET  /ogc                         OGC API - Features over the pack's layers (QGIS)
    GET  /healthz

    \b
    Examples:
      zoning serve                                   # http://127.0.0.1:8000, no sign-in
      zoning users add wang --role checker --data /srv/zoning
      zoning serve --auth token --host 0.0.0.0 --workers 2 --data /srv/zoning
    """
    options.require_extra("serve")
    from zoning.service.config import ServiceConfig
    from zoning.service.server import serve as run

    config = ServiceConfig(pack=pack, data_dir=data_dir, host=host, port=port, workers=workers, auth=auth,
                           audit_url=audit_url, user_header=user_header,
                           trusted_proxies=list(trusted) or ["127.0.0.1", "::1"], max_upload_mb=max_upload_mb,
                           max_rows=max_rows, request_timeout_s=timeout_s, job_workers=job_workers,
                           public_url=public_url, lang=lang, insecure=insecure).validate()
    from zoning.core import settings
    from zoning.core.layers import open_pack

    open_pack(pack or settings.default_pack)  # a missing or broken pack: one line, exit 1, before listening
    click.echo(f"zoning serve: http://{host}:{port}/ (auth {auth}, data {config.data})", err=True)
    run(config)
