"""
A pinned history for the browser tests: 27 reports written straight into a SQLite
database, two of which (``EARLIER`` and ``LATER``) hold crafted weeks for comparing.

The comparison's cases: drops and rises, no change, a tie of two equal drops, a drop of
exactly -1.25 points (rounds away from zero to -1.3), drops and rises too small to show
(-0.0, +0.0), weeks closed in one report or both, stores in only one report, and an id
beyond 2**53.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from storemon.csvformat import REPORT_HEADER
from storemon.storage import open_repository

BASE = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)

#: Weekly (uptime, downtime) in hours per store, in the earlier and the later report
#: (``None``: the store is not in that report).
WEEKS: dict[str, tuple[tuple[str, str] | None, tuple[str, str] | None]] = {
    "1000000000000000001": (("100.00", "0.00"), ("90.00", "10.00")),  # -10.0
    "1000000000000000002": (("50.00", "50.00"), ("25.00", "75.00")),  # -25.0
    "1000000000000000003": (("60.00", "40.00"), ("80.00", "20.00")),  # +20.0
    "1000000000000000004": (("70.00", "30.00"), ("70.00", "30.00")),  # 0.0
    "1000000000000000005": (("0.00", "0.00"), ("40.00", "10.00")),  # closed, then open
    "1000000000000000006": (("33.33", "66.67"), ("0.00", "0.00")),  # open, then closed
    "1000000000000000007": (("12.00", "3.00"), None),  # only in the earlier
    "1000000000000000008": (None, ("7.50", "2.50")),  # only in the later
    "1000000000000000009": (("80.00", "20.00"), ("40.00", "60.00")),  # -40.0, a tie
    "1000000000000000010": (("8.00", "2.00"), ("4.00", "6.00")),  # -40.0, a tie
    "1000000000000000011": (("50.00", "50.00"), ("39.00", "41.00")),  # -1.25 -> -1.3
    "1000000000000000012": (("168.00", "0.00"), ("167.99", "0.01")),  # -0.0
    "1000000000000000013": (("167.99", "0.01"), ("168.00", "0.00")),  # +0.0
    "9222367421889482050": (("10.00", "90.00"), ("12.00", "88.00")),  # +2.0
    "1000000000000000015": (("0.00", "0.00"), ("0.00", "0.00")),  # closed in both
    # 20%: the float quotient 0.02 / (0.02 + 0.08) reads 19.9% when cut to a tenth.
    "1000000000000000016": (("0.02", "0.08"), ("0.02", "0.08")),  # 0.0
}


@attrs.frozen
class PinnedReport:
    """
    One report of the pinned history as it is stored.
    """

    report_id: str
    status: str  # Complete, Failed or Running
    created_at: dt.datetime
    as_of: dt.datetime
    csv: str | None


def report_id(name: str) -> str:
    """
    A report id shaped as the server makes them (22 URL-safe characters ending in A).
    """
    return name.ljust(21, "x") + "A"


def week_csv(side: int) -> str:
    """
    The CSV of the earlier (0) or later (1) report: the weeks above, with fixed hour and
    day values.
    """
    lines = [",".join(REPORT_HEADER)]
    for store_id, weeks in sorted(WEEKS.items()):
        week = weeks[side]
        if week is not None:
            up, down = week
            lines.append(f"{store_id},30.00,5.00,{up},30.00,1.00,{down}")
    return "\n".join(lines) + "\n"


SMALL_CSV = ",".join(REPORT_HEADER) + "\n1,60.00,24.00,168.00,0.00,0.00,0.00\n"

EARLIER = report_id("earlierWeek")
LATER = report_id("laterWeek")
RUNNING = report_id("stillRunning")
FAILED = report_id("failedOne")


def pinned_reports() -> list[PinnedReport]:
    """
    Every report of the pinned history. Four are created at one instant (so that a page
    boundary falls between them); ``LATER`` is the newest, ``EARLIER`` is on the second
    page of ten, ``RUNNING`` on the third.
    """
    reports = [
        PinnedReport(
            LATER,
            "Complete",
            BASE + dt.timedelta(days=30),
            BASE + dt.timedelta(days=7),
            week_csv(1),
        ),
        PinnedReport(FAILED, "Failed", BASE + dt.timedelta(days=29), BASE, None),
    ]
    for number in range(22):
        # Reports 6 to 9 share an instant: the pages of ten split them 2 + 2.
        hours = 600 - (6 if 6 <= number <= 9 else number) * 10
        created_at = BASE + dt.timedelta(hours=hours)
        name = report_id(f"filler{number:02d}")
        reports.append(PinnedReport(name, "Complete", created_at, created_at, SMALL_CSV))
    earlier_at = BASE + dt.timedelta(hours=445)
    reports.append(PinnedReport(EARLIER, "Complete", earlier_at, BASE, week_csv(0)))
    reports.append(PinnedReport(RUNNING, "Running", BASE + dt.timedelta(hours=1), BASE, None))
    reports.append(
        PinnedReport(report_id("oldest"), "Complete", BASE, BASE - dt.timedelta(days=1), SMALL_CSV)
    )
    return reports


def newest_first(reports: list[PinnedReport]) -> list[str]:
    """
    The report ids as the list shows them: newest first, ties by id, greatest first.
    """
    ordered = sorted(reports, key=lambda report: (report.created_at, report.report_id))
    return [report.report_id for report in reversed(ordered)]


async def _write(url: str, reports: list[PinnedReport]) -> None:
    async with open_repository(url) as repository:
        running = next(report for report in reports if report.status == "Running")
        await repository.create_report(
            running.report_id, as_of=running.as_of, created_at=running.created_at
        )
        # Held by another server for an hour: this one's workers leave it alone.
        claimed = await repository.claim_report("elsewhere", lease=dt.timedelta(hours=1))
        assert claimed is not None
        for report in reports:
            if report is running:
                continue
            await repository.create_report(
                report.report_id, as_of=report.as_of, created_at=report.created_at
            )
            finished_at = report.created_at + dt.timedelta(seconds=3)
            if report.csv is None:
                await repository.fail_report(
                    report.report_id, error="disk full", finished_at=finished_at
                )
            else:
                await repository.finish_report(
                    report.report_id, csv=report.csv, finished_at=finished_at
                )


def write_history(database: Path) -> list[PinnedReport]:
    """
    Write the pinned history into a new SQLite database; return its reports.
    """
    reports = pinned_reports()
    # In a thread of its own: Playwright's synchronous API runs an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _write(f"sqlite:///{database}", reports)).result()
    return reports
