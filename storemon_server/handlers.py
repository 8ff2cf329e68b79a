"""
The HTTP endpoints: parse the request, call the job runner or repository, render.

The web page's routes (``GET /`` and ``/static/``) are in ``storemon_server.page``.

Handlers never catch: errors are the middleware's (``storemon_server.middleware``).
"""

from __future__ import annotations

import datetime as dt
import re

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from storemon.errors import DataError, ReportNotFound, StorageError
from storemon.explain import explain_store
from storemon.report import window_start
from storemon_server import history, page, push, render
from storemon_server.config import max_gap
from storemon_server.errors import BadRequest, NotReady, StoreNotFound
from storemon_server.keys import INGEST, JOBS, METRICS, REPOSITORY, SETTINGS
from storemon_server.middleware import bearer_matches
from storemon_server.openapi import OPENAPI

#: A report id as ``secrets.token_urlsafe(16)`` writes it: 22 URL-safe base64 characters,
#: the last carrying only the 2 remaining bits of the 128 (so one of A, Q, g, w).
REPORT_ID = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]")

FORMATS = ("csv", "json")

#: Longest store id accepted in a path: real ids are 19 digits or 36-character UUIDs.
MAX_STORE_ID_LENGTH = 128

#: The route of pushed polls, whose body may be larger (``--max-push-bytes``).
PUSH_POLLS = "/api/polls"


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


def parse_max_gap(request: web.Request) -> dt.timedelta | None:
    """
    Return the trigger's maximum gap: its ``max_gap`` parameter, else the server's default.

    Raises:
        BadRequest: it is repeated or not a duration (the message names the forms).
    """
    values = request.query.getall("max_gap", [])
    if not values:
        return request.app[SETTINGS].max_gap
    text = _one(request, "max_gap")
    try:
        return max_gap(text)
    except DataError as error:
        raise BadRequest(f"max_gap: {error}") from None


async def trigger_report(request: web.Request) -> web.Response:
    """
    ``POST /api/trigger_report[?max_gap=DURATION]``: queue a report of the data stored now.
    """
    gap = parse_max_gap(request)
    if not request.app[INGEST].ready.is_set():
        raise NotReady()
    job = await request.app[JOBS].trigger(max_gap=gap)
    return render.triggered_response(job)


async def get_report(request: web.Request) -> web.Response:
    """
    ``GET /api/get_report?report_id=ID[&format=json]``: the state, or the report.
    """
    report_id = parse_report_id(request)
    as_json = parse_format(request) == "json"
    job = await request.app[REPOSITORY].get_report(report_id)
    return render.report_response(job, as_json=as_json)


async def store_timeline(request: web.Request) -> web.Response:
    """
    ``GET /api/reports/{report_id}/stores/{store_id}``: why the store's row is what it is.

    Computed by ``storemon.explain.explain_store`` (the report's own code path) from the
    store's polls at the report's fixed "now".
    """
    report_id, store_id = request.match_info["report_id"], request.match_info["store_id"]
    if not REPORT_ID.fullmatch(report_id):
        raise ReportNotFound(f"no report has id {report_id[:40]!r}")
    if len(store_id) > MAX_STORE_ID_LENGTH:
        raise BadRequest(f"a store id has at most {MAX_STORE_ID_LENGTH} characters")
    repository = request.app[REPOSITORY]
    job = await repository.get_report(report_id)
    if job.as_of is None:
        raise StoreNotFound()
    snapshot = await repository.snapshot(store_id, since=window_start(job.as_of), as_of=job.as_of)
    timeline = (
        None if snapshot is None else explain_store(snapshot, as_of=job.as_of, max_gap=job.max_gap)
    )
    if timeline is None:
        raise StoreNotFound(f"report {report_id} has no row for store {store_id[:40]!r}")
    stored_row = render.report_row(job, store_id)
    return web.json_response(
        render.timeline_body(timeline, report_id=report_id, stored_row=stored_row)
    )


async def list_reports(request: web.Request) -> web.Response:
    """
    ``GET /api/reports[?limit=N][&before=CURSOR]``: the reports, newest first, a page at a
    time (``storemon_server.history``).
    """
    limit = history.parse_limit(_one(request, "limit", default=str(history.DEFAULT_LIMIT)))
    cursor = _one(request, "before", default="")
    before = history.decode_cursor(cursor) if cursor else None
    # One more than the page: whether it exists says whether there is a next page.
    found = await request.app[REPOSITORY].list_reports(limit + 1, before=before)
    return web.json_response(history.page_body(found, limit))


async def health(request: web.Request) -> web.Response:
    """
    ``GET /api/health``: up, ready, the database, and the outcome of the latest ingest.

    Without the API token (when the server has one) it says only ``{"ready": ...}``: the
    sources, their errors and the counts are for the operator. The database is asked
    whether it answers: ``"database": "down"`` while it does not, ``"up"`` again as soon
    as it does.
    """
    ingest, jobs = request.app[INGEST], request.app[JOBS]
    token = request.app[SETTINGS].api_token
    if token is not None and not bearer_matches(request, token):
        return web.json_response({"ready": ingest.ready.is_set()})
    body = {
        "status": "ok",
        "ready": ingest.ready.is_set(),
        "last_ingest": ingest.last,
        "reports": {"running": jobs.running, "queued": jobs.queued},
    }
    try:
        await request.app[REPOSITORY].ping()
    except StorageError:
        body["database"] = "down"
    else:
        body["database"] = "up"
    return web.json_response(body)


async def session(request: web.Request) -> web.Response:
    """
    ``GET /api/session``: 204, the token is right (the middleware answers 401 otherwise).
    """
    return web.Response(status=204)


async def openapi(request: web.Request) -> web.Response:
    """
    ``GET /api/openapi.json``: the OpenAPI 3 description of these routes.
    """
    return web.json_response(OPENAPI)


async def metrics(request: web.Request) -> web.Response:
    """
    ``GET /metrics``: the Prometheus metrics (``storemon_server.metrics``), in the text
    format.
    """
    body = await request.app[METRICS].exposition(request.app[REPOSITORY])
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def add_routes(app: web.Application) -> None:
    """
    Register every route (``openapi.OPENAPI`` describes the same set).
    """
    app.router.add_get("/", page.index, allow_head=False)
    app.router.add_get("/static/{name}", page.asset, allow_head=False)
    app.router.add_post("/api/trigger_report", trigger_report)
    app.router.add_get("/api/get_report", get_report, allow_head=False)
    app.router.add_get(
        "/api/reports/{report_id}/stores/{store_id}", store_timeline, allow_head=False
    )
    app.router.add_get("/api/reports", list_reports, allow_head=False)
    app.router.add_get("/api/health", health, allow_head=False)
    app.router.add_get("/api/session", session, allow_head=False)
    app.router.add_get("/api/openapi.json", openapi, allow_head=False)
    app.router.add_post(PUSH_POLLS, push.push_polls)
    app.router.add_put("/api/stores/{store_id}/hours", push.put_store_hours)
    app.router.add_put("/api/stores/{store_id}/timezone", push.put_store_zone)
    app.router.add_get("/metrics", metrics, allow_head=False)
