"""
Data pushed over HTTP by services that monitor stores themselves (docs/api.md): polls
(``POST /api/polls``), one store's weekly hours (``PUT /api/stores/{id}/hours``) and its
zone (``PUT /api/stores/{id}/timezone``).

Bodies are read with the file readers' own code (``storemon.sources``): the same header
rules, store-id guard, instant spellings, future limit, statuses, days, times and zones,
and the same reasons for a rejected row; JSON values go through the same parsers
(``sources.ObjectReader``). Polls are stored as a file's are (``add_polls``: the same
poll twice is stored once, a later row for an instant wins), so pushed polls and polls
from files make one history. Every write waits at most ``REQUEST_WAIT`` for the
database's write lock, then the answer is 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
from collections.abc import Iterable
from typing import Any

import attrs
from aiohttp import web

from storemon.errors import DataError, SourceError
from storemon.lines import LineBuffer
from storemon.model import HoursRow, PollRecord, Rejected, to_epoch_us
from storemon.parsing import parse_store_id
from storemon.repository import REQUEST_WAIT
from storemon.sources import (
    Batch,
    ObjectReader,
    SourceKind,
    read_batches,
    read_json_lines,
)
from storemon_server.errors import BadRequest, UnsupportedMediaType
from storemon_server.keys import JOBS, METRICS, REPOSITORY, SETTINGS
from storemon_server.logs import kv
from storemon_server.middleware import BODY

logger = logging.getLogger(__name__)

CSV = "text/csv"
JSON = "application/json"
#: The media types of JSON lines (one JSON object per line); both are in use.
JSON_LINES = ("application/x-ndjson", "application/jsonl")
#: How a rejected row of a body names its source.
SOURCE = "body"
#: Rejected rows listed in an answer (the count covers them all).
MAX_REJECTS_SHOWN = 100


@attrs.frozen
class Read:
    """
    The good records of a body, and its rejected rows.
    """

    records: list[Any]
    rejects: list[Rejected]


def _collect(batches: Iterable[Batch]) -> Read:
    records: list[Any] = []
    rejects: list[Rejected] = []
    for batch in batches:
        records.extend(batch.records)
        rejects.extend(batch.rejected)
    return Read(records, rejects)


def _lines(body: bytes, max_line: int) -> LineBuffer:
    return LineBuffer(io.BytesIO(body).read, max_line=max_line)


def read_polls(body: bytes, media_type: str, *, latest_at_us: int, max_line: int) -> Read:
    """
    Read pushed polls: CSV with the status file's header, or JSON lines.

    Raises:
        SourceError: a CSV body's header is missing or lacks a column.
    """
    lines = _lines(body, max_line)
    if media_type == CSV:
        if not body.strip():
            raise SourceError(
                f"{SOURCE}: empty; expected a header line naming the columns "
                f"{','.join(SourceKind.STATUS.columns)}"
            )
        batches = read_batches(SourceKind.STATUS, lines, SOURCE, latest_at_us=latest_at_us)
    else:
        batches = read_json_lines(SourceKind.STATUS, lines, SOURCE, latest_at_us=latest_at_us)
    return _collect(batches)


def _json_value(body: bytes) -> Any:
    """
    Decode a JSON body.

    Raises:
        BadRequest: it is not JSON.
    """
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"the body is not JSON: {error.msg} (line {error.lineno}, character {error.colno})"
        ) from None
    except (UnicodeDecodeError, RecursionError):
        raise BadRequest("the body is not JSON text") from None


def read_store_hours(body: bytes, media_type: str, *, max_line: int) -> Read:
    """
    Read one store's weekly rows: a JSON list of objects, or CSV with a header, both
    with the columns ``day_of_week`` (or ``day``), ``start_time_local``,
    ``end_time_local``. A JSON row's "line" is its place in the list, from 1.

    Raises:
        BadRequest: the body is not a JSON list.
        SourceError: a CSV body's header is missing or lacks a column.
    """
    if media_type == CSV:
        return _collect(read_batches(SourceKind.STORE_HOURS, _lines(body, max_line), SOURCE))
    items = _json_value(body)
    if not isinstance(items, list):
        raise BadRequest(
            "the body must be a JSON list of weekly rows, each "
            '{"day_of_week", "start_time_local", "end_time_local"} ([] for no rows)'
        )
    reader = ObjectReader(SourceKind.STORE_HOURS, SOURCE)
    records: list[HoursRow] = []
    rejects: list[Rejected] = []
    for number, item in enumerate(items, 1):
        read = reader.read(item, number, json.dumps(item))
        (rejects if isinstance(read, Rejected) else records).append(read)
    return Read(records, rejects)


def rejects_json(rejects: list[Rejected]) -> list[dict[str, Any]]:
    """
    The first ``MAX_REJECTS_SHOWN`` rejected rows as JSON: line, column, reason, text.
    """
    return [
        {"line": item.line, "column": item.column, "reason": item.reason, "text": item.text}
        for item in rejects[:MAX_REJECTS_SHOWN]
    ]


def _refused(message: str, rejects: list[Rejected]) -> web.Response:
    body = {"error": message, "rejected": len(rejects), "rejects": rejects_json(rejects)}
    return web.json_response(body, status=400)


def _media_type(request: web.Request, accepted: tuple[str, ...]) -> str:
    """
    Return the request's media type when it is one of ``accepted``.

    Raises:
        UnsupportedMediaType: it is not.
    """
    if request.content_type not in accepted:
        raise UnsupportedMediaType(
            f"Content-Type {request.content_type[:60]!r} is not one of {', '.join(accepted)}"
        )
    return request.content_type


def _store_id(request: web.Request) -> str:
    """
    Return the store id of the URL, checked as a file's store ids are.

    Raises:
        BadRequest: the file reader would refuse it.
    """
    try:
        return parse_store_id(request.match_info["store_id"])
    except DataError as error:
        raise BadRequest(f"store id: {error}") from None


async def push_polls(request: web.Request) -> web.Response:
    """
    ``POST /api/polls``: store pushed polls (CSV or JSON lines); say how many were
    stored, already present and rejected, with the first rejects.
    """
    media_type = _media_type(request, (CSV, *JSON_LINES))
    settings, metrics = request.app[SETTINGS], request.app[METRICS]
    now = request.app[JOBS].clock()
    latest_at_us = to_epoch_us(now + dt.timedelta(seconds=settings.future_tolerance))
    try:
        read = await asyncio.to_thread(
            read_polls,
            request[BODY],
            media_type,
            latest_at_us=latest_at_us,
            max_line=settings.max_line_bytes,
        )
    except SourceError as error:
        raise BadRequest(str(error)) from None
    polls: list[PollRecord] = read.records
    rejected = len(read.rejects)
    if not polls:
        metrics.rows_ingested(SourceKind.STATUS.label, stored=0, present=0, rejected=rejected)
        return _refused("no row of the body could be read as a poll", read.rejects)
    repository = request.app[REPOSITORY]
    async with repository.transaction(wait=REQUEST_WAIT):
        stored = await repository.add_polls(polls)
    present = len(polls) - stored
    metrics.rows_ingested(
        SourceKind.STATUS.label, stored=stored, present=present, rejected=rejected
    )
    metrics.polls_pushed(max(at_us for _, at_us, _ in polls))
    logger.info(kv("polls.pushed", stored=stored, already_present=present, rejected=rejected))
    return web.json_response(
        {
            "stored": stored,
            "already_present": present,
            "rejected": rejected,
            "rejects": rejects_json(read.rejects),
        }
    )


def hours_json(row: HoursRow) -> dict[str, Any]:
    """
    A weekly row as the hours route answers it (``24:00:00`` for an end at midnight).
    """
    end = "24:00:00" if row.end_is_midnight else row.end_local.isoformat()
    return {
        "day_of_week": row.day,
        "start_time_local": row.start_local.isoformat(),
        "end_time_local": end,
    }


async def put_store_hours(request: web.Request) -> web.Response:
    """
    ``PUT /api/stores/{store_id}/hours``: replace the store's weekly rows (none: open
    24x7); any bad row refuses them all (400), since half a week would be wrong.
    """
    store_id = _store_id(request)
    media_type = _media_type(request, (JSON, CSV))
    settings, metrics = request.app[SETTINGS], request.app[METRICS]
    try:
        read = read_store_hours(request[BODY], media_type, max_line=settings.max_line_bytes)
    except SourceError as error:
        raise BadRequest(str(error)) from None
    kind = SourceKind.HOURS.label
    if read.rejects:
        metrics.rows_ingested(kind, stored=0, present=0, rejected=len(read.rejects))
        return _refused("rows were rejected; nothing was stored", read.rejects)
    rows: list[HoursRow] = list(dict.fromkeys(read.records))  # identical rows once
    repository = request.app[REPOSITORY]
    async with repository.transaction(wait=REQUEST_WAIT):
        stored = await repository.replace_store_hours(store_id, rows)
    metrics.rows_ingested(kind, stored=stored, present=len(rows) - stored, rejected=0)
    logger.info(kv("hours.pushed", store_id=store_id, rows=len(rows), stored=stored))
    return web.json_response(
        {
            "store_id": store_id,
            "hours": [hours_json(row) for row in rows],
            "open_24x7": not rows,
            "stored": stored,
            "already_present": len(rows) - stored,
        }
    )


async def put_store_zone(request: web.Request) -> web.Response:
    """
    ``PUT /api/stores/{store_id}/timezone``: set the store's zone, ``{"timezone_str":
    "America/New_York"}``, a name of the bundled tzdata as in the zones file.
    """
    store_id = _store_id(request)
    _media_type(request, (JSON,))
    value = _json_value(request[BODY])
    if not isinstance(value, dict):
        raise BadRequest('the body must be a JSON object {"timezone_str": "America/New_York"}')
    metrics = request.app[METRICS]
    # The zones file's own row reader: the same zone names, the same reasons.
    text = json.dumps(value)
    read = ObjectReader(SourceKind.ZONES, SOURCE).read({**value, "store_id": store_id}, 1, text)
    kind = SourceKind.ZONES.label
    if isinstance(read, Rejected):
        metrics.rows_ingested(kind, stored=0, present=0, rejected=1)
        return _refused(f"{read.column or 'the body'}: {read.reason}", [read])
    _, zone_key = read
    repository = request.app[REPOSITORY]
    async with repository.transaction(wait=REQUEST_WAIT):
        changed = await repository.replace_store_zone(store_id, zone_key)
    metrics.rows_ingested(kind, stored=int(changed), present=int(not changed), rejected=0)
    logger.info(kv("zone.pushed", store_id=store_id, timezone=zone_key, changed=changed))
    return web.json_response({"store_id": store_id, "timezone_str": zone_key, "changed": changed})
