"""The bureau's service: the same answers as the command line, over HTTP.

``zoning serve`` runs :func:`zoning.service.app.create_app` on uvicorn. Rooms:

- :mod:`~zoning.service.config`: :class:`ServiceConfig`, every setting of ``zoning serve``;
- :mod:`~zoning.service.users`: users, roles and hashed tokens (``zoning users``);
- :mod:`~zoning.service.auth`: who is asking (``--auth none|token|header``) and what they may do;
- :mod:`~zoning.service.audit`: the audit log (SQLite under ``--data``, or PostgreSQL), ``zoning audit``;
- :mod:`~zoning.service.answers`: ``/api/v1/query`` answered from :func:`zoning.query.query_point_answers`,
  the queries that arrive together classified in one vectorised pass;
- :mod:`~zoning.service.jobs`: batch checks by upload, run by :func:`zoning.check.check_sites` and
  written by :class:`zoning.outputs.reports.ResultWriter` in background worker processes;
- :mod:`~zoning.service.ogc`: the pack's layers as OGC API – Features (pygeoapi, mounted at ``/ogc``);
- :mod:`~zoning.service.page`: the map at ``/`` (``zoning.maps.build_map`` plus the service panel);
- :mod:`~zoning.service.app`: the FastAPI application; :mod:`~zoning.service.server`: uvicorn.
"""

from zoning.service.config import ServiceConfig

__all__ = ["ServiceConfig"]
