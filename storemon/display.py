"""
A report as HTML for a notebook: a summary line and its first rows.

Pure: a ``Report`` in, HTML text out (``Report._repr_html_`` calls it, so Jupyter shows it).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from storemon.csvformat import REPORT_HEADER, format_value

if TYPE_CHECKING:
    from storemon.model import Report

#: Rows a report shows in a notebook; ``to_pandas()`` or ``to_csv()`` give them all.
SHOWN_ROWS = 10


def report_summary(report: Report) -> str:
    """
    Return one sentence about a report: its time, its stores, how many were down; and
    one more when stores were left out because their stored rows cannot be read.
    """
    stores = len(report.rows)
    down = [
        sum(1 for row in report.rows if getattr(row, f"downtime_{window}") > 0)
        for window in ("last_hour", "last_day", "last_week")
    ]
    skipped = len(report.skipped)
    left_out = (
        f" {skipped:,} {'store' if skipped == 1 else 'stores'} left out: stored rows "
        "that cannot be read (report.skipped)."
        if skipped
        else ""
    )
    return (
        f"Report as of {report.as_of:%Y-%m-%d %H:%M:%S} UTC: {stores:,} "
        f"{'store' if stores == 1 else 'stores'}; down within business hours in the last "
        f"hour: {down[0]:,}, day: {down[1]:,}, week: {down[2]:,}.{left_out}"
    )


def report_html(report: Report, *, rows: int = SHOWN_ROWS) -> str:
    """
    Return the summary and the first ``rows`` rows as an HTML table, values as the CSV
    writes them.
    """
    head = "".join(f"<th>{escape(name)}</th>" for name in REPORT_HEADER)
    body = "".join(
        f"<tr><td>{escape(row.store_id)}</td>"
        + "".join(f"<td>{format_value(getattr(row, name))}</td>" for name in REPORT_HEADER[1:])
        + "</tr>"
        for row in report.rows[:rows]
    )
    more = len(report.rows) - rows
    note = (
        f"<p>… and {more:,} more rows: <code>report.to_pandas()</code> or "
        "<code>report.to_csv()</code> hold them all.</p>"
        if more > 0
        else ""
    )
    return (
        f'<div class="storemon-report"><p>{escape(report_summary(report))}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}</div>"
    )
