"""
Report jobs and errors as HTTP responses: CSV, JSON, and the JSON error body.

JSON reports keep the CSV's values exactly: ``store_id`` is a string (real ids exceed
2**53, which a JSON number would corrupt) and every measure is the CSV's two-decimal
string (``"12.50"``), so the JSON and CSV forms of a report never disagree by a rounding.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import web

from storemon.model import ReportJob, ReportStatus

#: The statuses of the assignment's API: a job waiting for a worker is reported Running.
PUBLIC_STATUS = {
    ReportStatus.PENDING: "Running",
    ReportStatus.RUNNING: "Running",
    ReportStatus.COMPLETE: "Complete",
    ReportStatus.FAILED: "Failed",
}


def error_response(
    status: int, message: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    """
    Return ``{"error": message}`` with ``status``.
    """
    return web.json_response({"error": message}, status=status, headers=headers)


def triggered_response(job: ReportJob) -> web.Response:
    """
    Answer a trigger: the new job's id, ``Running`` and ``Success``.
    """
    return web.json_response(
        {"report_id": job.report_id, "status": "Running", "message": "Success"}
    )


def csv_rows(text: str) -> list[dict[str, str]]:
    """
    Parse a report CSV into one dict per row, values as written (strings).
    """
    return list(csv.DictReader(io.StringIO(text)))


def report_response(job: ReportJob, *, as_json: bool = False) -> web.Response:
    """
    Answer ``get_report`` for a job in any state.
    """
    status = PUBLIC_STATUS[job.status]
    if status == "Running":
        return web.json_response(
            {"report_id": job.report_id, "status": "Running", "state": job.status},
            headers={"X-Report-Status": "Running"},
        )
    if status == "Failed":
        return web.json_response(
            {"report_id": job.report_id, "status": "Failed", "error": job.error or "unknown"},
            status=500,
            headers={"X-Report-Status": "Failed"},
        )
    text = job.csv or ""
    if as_json:
        body: dict[str, Any] = {
            "report_id": job.report_id,
            "status": "Complete",
            "as_of": None if job.as_of is None else job.as_of.isoformat(),
            "rows": csv_rows(text),
        }
        return web.json_response(body, headers={"X-Report-Status": "Complete"})
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={
            "X-Report-Status": "Complete",
            "Content-Disposition": f'attachment; filename="report-{job.report_id}.csv"',
        },
    )
