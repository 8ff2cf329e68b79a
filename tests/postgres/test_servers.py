"""
Two ``storemon serve`` processes on one PostgreSQL schema share the reports and the refresh.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.process import Server
from tests.server.test_e2e import library_csv, write_data

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

#: Seconds between two refreshes, over both servers together.
REFRESH_S = 2.0
#: Seconds a claimed job stays with a process that stops renewing its lease.
LEASE_S = 2.0
#: Seconds each report computation sleeps (``report_delay``), so that one can be killed mid-way.
DELAY_S = 1.5


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """
    Collects the servers a test starts, and stops every one of them afterwards.
    """
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _events(server: Server, event: str) -> list[str]:
    """
    The report ids (or empty strings) of one event in a server's log, in order.
    """
    pattern = re.compile(rf"event={re.escape(event)}(?: report_id=(\S+))?")
    return [match.group(1) or "" for match in pattern.finditer(server.log())]


def _wait_started(pair: list[Server], report_id: str, seconds: float = 15.0) -> Server:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for server in pair:
            if report_id in _events(server, "report.started"):
                return server
        time.sleep(0.05)
    raise AssertionError(f"report {report_id} did not start:\n{pair[0].log()}\n{pair[1].log()}")


def test_two_servers_share_reports_and_refresh(
    tmp_path: Path, pg_url: str, servers: list[Server]
) -> None:
    """Both servers answer; each report is computed once; a killed one's job is finished."""
    data = tmp_path / "data"
    write_data(data)
    env = {
        "STOREMON_DB": pg_url,
        "STOREMON_DATA_DIR": str(data),
        "STOREMON_REFRESH_INTERVAL": str(REFRESH_S),
        "STOREMON_REPORT_LEASE": str(LEASE_S),
        "STOREMON_WORKERS": "4",
    }
    started_at = time.monotonic()
    first = Server(tmp_path, env=env, report_delay=DELAY_S)
    servers.append(first)
    first.wait_ready()
    second = Server(tmp_path, env=env, report_delay=DELAY_S)
    servers.append(second)
    second.wait_ready()
    pair = [first, second]

    report_ids = [pair[number % 2].trigger() for number in range(20)]
    results = [pair[n % 2].wait_report(report_id) for n, report_id in enumerate(report_ids)]
    as_of = results[0][1]["as_of"]
    expected = library_csv(data, dt.datetime.fromisoformat(as_of))
    assert all(csv == expected for csv, _ in results)
    computed = Counter(rid for server in pair for rid in _events(server, "report.started"))
    assert computed == Counter(report_ids), "each report computed exactly once"
    assert all(_events(server, "report.started") for server in pair), "both servers computed"

    # Kill the server computing a report: the other takes the job over once the lease ends.
    report_id = first.trigger()
    holder = _wait_started(pair, report_id)
    survivor = second if holder is first else first
    holder.kill()
    csv, as_json = survivor.wait_report(report_id, seconds=20)
    assert csv == expected
    assert as_json["status"] == "Complete"
    assert report_id in _events(survivor, "report.started")

    # One refresh per interval over both servers: the start-up ingest of one, then one
    # per tick of whichever server's tick comes first.
    elapsed = time.monotonic() - started_at
    ingests = sum(len(_events(server, "ingest.started")) for server in pair)
    skipped = sum(len(_events(server, "ingest.skipped")) for server in pair)
    counts = f"{ingests} refreshes, {skipped} skipped ticks in {elapsed:.1f} s"
    assert skipped >= 1, counts
    assert 1 <= ingests <= elapsed / (REFRESH_S * 0.9) + 1, counts
