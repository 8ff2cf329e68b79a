"""
The HTTP endpoints: parse the request, call the job runner or repository, render.

Handlers never catch: errors are the middleware's (``storemon_server.middleware``).
"""

from __future__ import annotations

import re

from aiohttp import web

from storemon_server import render
from storemon_server.errors import BadRequest, NotReady
from storemon_server.keys import INGEST, JOBS, REPOSITORY
from storemon_server.openapi import OPENAPI

#: A report id as ``secrets.token_urlsafe(16)`` writes it: 22 URL-safe base64 characters,
#: the last carrying only the 2 remaining bits of the 128 (so one of A, Q, g, w).
REPORT_ID = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]")

FORMATS = ("csv", "json")


def _one(request: web.Request, name: str, *, default: str | None = None) -> str:
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise BadRequest(f"give {name} once, not {len(values)} times")
    if not values:
        if default is None:
            raise BadRequest(f"the query parameter {name} is required")
        return default
    return values[0]


def parse_report_id(request: web.Request) -> str:
    """
    Return the request's ``report_id``.

    Raises:
        BadRequest: it is missing, repeated or not shaped like a report id.
    """
    report_id = _one(request, "report_id")
    if not REPORT_ID.fullmatch(report_id):
        raise BadRequest("report_id is malformed: expected the id that trigger_report returned")
    return report_id


def parse_format(request: web.Request) -> str:
    """
    Return the requested format, ``csv`` by default.

    Raises:
        BadRequest: it is not ``csv`` or ``json``.
    """
    value = _one(request, "format", default="csv")
    if value not in FORMATS:
        raise BadRequest(f"format must be csv or json, got {value[:20]!r}")
    return value


async def trigger_report(request: web.Request) -> web.Response:
    """
    ``POST /api/trigger_report``: queue a report of the data stored now.
    """
    if not request.app[INGEST].ready.is_set():
        raise NotReady()
    job = await request.app[JOBS].trigger()
    return render.triggered_response(job)


async def get_report(request: web.Request) -> web.Response:
    """
    ``GET /api/get_report?report_id=ID[&format=json]``: the state, or the report.
    """
    report_id = parse_report_id(request)
    as_json = parse_format(request) == "json"
    job = await request.app[REPOSITORY].get_report(report_id)
    return render.report_response(job, as_json=as_json)


async def health(request: web.Request) -> web.Response:
    """
    ``GET /api/health``: up, ready, and the outcome of the latest ingest.
    """
    ingest, jobs = request.app[INGEST], request.app[JOBS]
    return web.json_response(
        {
            "status": "ok",
            "ready": ingest.ready.is_set(),
            "last_ingest": ingest.last,
            "reports": {"running": jobs.running, "queued": jobs.queued},
        }
    )


async def openapi(request: web.Request) -> web.Response:
    """
    ``GET /api/openapi.json``: the OpenAPI 3 description of these routes.
    """
    return web.json_response(OPENAPI)


def add_routes(app: web.Application) -> None:
    """
    Register every route (``openapi.OPENAPI`` describes the same set).
    """
    app.router.add_post("/api/trigger_report", trigger_report)
    app.router.add_get("/api/get_report", get_report, allow_head=False)
    app.router.add_get("/api/health", health, allow_head=False)
    app.router.add_get("/api/openapi.json", openapi, allow_head=False)
