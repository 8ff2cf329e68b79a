"""
The list of reports (``GET /api/reports``): its page cursor and its JSON.

A page ends at a place in the list, ``ReportPosition`` (creation time, then report id),
which is exact even for reports created at the same instant. The client gets that place
as ``next``, an opaque cursor, and sends it back as ``before`` for the next page. The
cursor is URL-safe base64 (no padding) of ``<microseconds since the epoch>:<report id>``:
opaque, so that clients never build one, and read back strictly (only the exact text
this module writes is accepted), so that a damaged cursor is refused, never a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Any

from storemon.model import ReportPosition, ReportSummary, from_epoch_us, to_epoch_us
from storemon_server.errors import BadRequest
from storemon_server.render import PUBLIC_STATUS

#: Reports per page unless the client asks for another number, and the most it may ask.
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

#: A cursor as ``encode_cursor`` writes it; long enough for any report id the API takes.
_CURSOR = re.compile(r"[A-Za-z0-9_-]{4,240}")
_CREATED_US = re.compile(r"[0-9]{1,17}")


def encode_cursor(position: ReportPosition) -> str:
    """
    Return the opaque cursor of a place in the list of reports.
    """
    text = f"{to_epoch_us(position.created_at)}:{position.report_id}"
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> ReportPosition:
    """
    Return the place a cursor from ``encode_cursor`` stands for.

    Raises:
        BadRequest: the text is not a cursor this server wrote.
    """
    refused = BadRequest("before is not a cursor from this API: pass the 'next' of a page")
    if not _CURSOR.fullmatch(cursor):
        raise refused
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise refused from None
    created_us, _, report_id = text.partition(":")
    if not _CREATED_US.fullmatch(created_us) or not report_id:
        raise refused
    position = ReportPosition(from_epoch_us(int(created_us)), report_id)
    if encode_cursor(position) != cursor:
        raise refused
    return position


def parse_limit(text: str) -> int:
    """
    Return the page size a client asked for.

    Raises:
        BadRequest: it is not a whole number from 1 to ``MAX_LIMIT``.
    """
    if not re.fullmatch(r"[0-9]{1,3}", text) or not 1 <= int(text) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {text[:20]!r}")
    return int(text)


def summary_fields(summary: ReportSummary) -> dict[str, Any]:
    """
    Return one report of the list as JSON: its id, status, times and number of stores.
    """
    return {
        "report_id": summary.report_id,
        "status": PUBLIC_STATUS[summary.status],
        "state": summary.status,
        "as_of": None if summary.as_of is None else summary.as_of.isoformat(),
        "created_at": summary.created_at.isoformat(),
        "finished_at": None if summary.finished_at is None else summary.finished_at.isoformat(),
        "stores": summary.rows,
    }


def page_body(found: Sequence[ReportSummary], limit: int) -> dict[str, Any]:
    """
    Return a page of the list from up to ``limit + 1`` reports, newest first: the first
    ``limit`` of them, and the cursor of the next page when there is one more.
    """
    page = found[:limit]
    more = len(found) > limit
    return {
        "reports": [summary_fields(summary) for summary in page],
        "next": encode_cursor(page[-1].position) if more else None,
    }
