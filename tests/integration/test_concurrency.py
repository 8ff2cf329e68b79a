"""
Concurrent ingests and reports on one SQLite file: no corruption, no "database is locked".
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from storemon.dataset import load_csv
from storemon.ingest import ingest
from storemon.service import build_report
from storemon.storage import open_repository

from .conftest import STATUS_HEADER, Inputs, cli, status_lines, write_inputs


def _split_status(inputs: Inputs, folder: Path) -> tuple[Path, Path]:
    lines = inputs.status.read_text().splitlines(keepends=True)[1:]
    first, second = folder / "first.csv", folder / "second.csv"
    first.write_text(STATUS_HEADER + "".join(lines[::2]))
    second.write_text(STATUS_HEADER + "".join(lines[1::2]))
    return first, second


async def test_two_ingests_and_reports_at_once(tmp_path: Path) -> None:
    """Two repositories ingest into one file at once while reports run; all succeed."""
    inputs = write_inputs(tmp_path / "in", stores=600, seed=5)
    first, second = _split_status(inputs, tmp_path)
    url = f"sqlite:///{tmp_path}/shared.db"
    async with open_repository(url) as one, open_repository(url) as two:
        await ingest(one, business_hours=inputs.hours, timezones=inputs.zones)

        async def reports() -> int:
            count = 0
            while not done.is_set():
                if await one.latest_poll_at() is not None:
                    await build_report(two)
                    count += 1
                await asyncio.sleep(0)
            return count

        done = asyncio.Event()
        reporter = asyncio.create_task(reports())
        results = await asyncio.gather(ingest(one, status=first), ingest(two, status=second))
        done.set()
        await reporter
        assert [summary.mode for (summary,) in results] == ["full", "full"]
        expected = load_csv(inputs.status, inputs.hours, inputs.zones).report()
        assert await build_report(one) == expected


async def test_report_during_an_ingest_sees_before_or_after_never_half(tmp_path: Path) -> None:
    """A report taken while an ingest writes equals the report before it or after it."""
    inputs = write_inputs(tmp_path / "in", stores=300, seed=6)
    more = tmp_path / "more.csv"
    more.write_text(STATUS_HEADER + "".join(status_lines(1500, seed=7, polls=20)))
    url = f"sqlite:///{tmp_path}/x.db"
    async with open_repository(url) as writer, open_repository(url) as reader:
        await ingest(writer, status=inputs.status, business_hours=inputs.hours)
        as_of = await reader.latest_poll_at()
        before = await build_report(reader, as_of=as_of)
        task = asyncio.create_task(ingest(writer, status=more))
        seen = []
        while not task.done():
            seen.append(await build_report(reader, as_of=as_of))
        await task
        after = await build_report(reader, as_of=as_of)
    assert before != after
    assert seen
    assert all(report in (before, after) for report in seen)


@pytest.mark.slow
def test_two_ingest_processes_and_a_report_process(tmp_path: Path) -> None:
    """Two ingest processes create, migrate and fill one new database beside a report process."""
    inputs = write_inputs(tmp_path / "in", stores=1500, seed=8)
    first, second = _split_status(inputs, tmp_path)
    url = f"sqlite:///{tmp_path}/procs.db"
    command = [sys.executable, "-m", "storemon"]
    jobs = [
        ["--status", str(first), "--business-hours", str(inputs.hours)],
        ["--status", str(second), "--timezones", str(inputs.zones)],
    ]
    processes = [
        subprocess.Popen(
            [*command, "ingest", "--db", url, *sources],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for sources in jobs
    ]
    reporter = subprocess.run(
        [*command, "report", "--db", url, "--as-of", "2023-01-25 00:00:00 UTC"],
        capture_output=True,
        text=True,
        check=False,
    )
    outcomes = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outcomes
    assert all("locked" not in err for _, err in outcomes)
    # The report only reads: started before an ingest created the database, it is
    # refused (nothing is created); once the tables exist it reports. Never a lock error.
    refused = ("no such database file", "not a storemon database")
    assert reporter.returncode == 0 or any(reason in reporter.stderr for reason in refused), (
        reporter.stderr
    )
    assert "locked" not in reporter.stderr
    final = cli("report", "--db", url)
    assert final.out == cli("report", *inputs.args()).out
