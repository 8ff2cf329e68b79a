"""
End to end, unknown time and special days: ``storemon serve`` as a real process on
SQLite (reports computed in a child process) with a data dir holding
``special_hours.csv``, against ``storemon report --db`` on the same database and the
library on the same files.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storemon import load_csv
from storemon.csvformat import REPORT_HEADER, REPORT_HEADER_WITH_UNKNOWN
from tests.server.process import Server
from tests.server.support import write_holey_data_dir

pytestmark = pytest.mark.slow


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """
    Collects the servers a test starts, and stops every one of them afterwards.
    """
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def cli_report(database: Path, *options: str) -> str:
    """``storemon report --db sqlite:///DATABASE OPTIONS``: its standard output."""
    result = subprocess.run(
        [sys.executable, "-m", "storemon", "report", "--db", f"sqlite:///{database}", *options],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def trigger(server: Server, query: str) -> str:
    status, body = server.json("POST", f"/api/trigger_report{query}")
    assert status == 200, body
    report_id: str = body["report_id"]
    return report_id


def header(csv: str) -> tuple[str, ...]:
    return tuple(csv.split("\n", 1)[0].split(","))


def test_served_reports_equal_the_cli_and_special_hours_are_picked_up(
    tmp_path: Path, servers: list[Server]
) -> None:
    """With special_hours.csv in the data dir: ?max_gap=2h is the nine columns of `storemon
    report --db --max-gap 2h`, a plain trigger the six of `storemon report --db`, both
    with the special days (they change the report)."""
    data = tmp_path / "data"
    write_holey_data_dir(data)
    database = tmp_path / "store.db"
    server = Server(tmp_path, "--db", f"sqlite:///{database}", "--data-dir", str(data))
    servers.append(server)
    health = server.wait_ready()
    special = health["last_ingest"]["sources"]["special_hours"]
    assert special["mode"] != "failed", special

    with_gap, as_json = server.wait_report(trigger(server, "?max_gap=2h"))
    assert header(with_gap) == REPORT_HEADER_WITH_UNKNOWN
    assert as_json["max_gap"] == "PT2H"
    assert with_gap == cli_report(database, "--max-gap", "2h")
    assert any(line.split(",")[-1] != "0.00" for line in with_gap.splitlines()[1:])

    plain, as_json = server.wait_report(trigger(server, ""))
    assert header(plain) == REPORT_HEADER
    assert as_json["max_gap"] is None
    assert plain == cli_report(database)

    # The files through the library: equal with the special days, different without.
    as_of = dt.datetime.fromisoformat(as_json["as_of"])
    files = [data / name for name in ("store_status.csv", "business_hours.csv", "timezones.csv")]
    with_special = load_csv(*files, special_hours=data / "special_hours.csv")
    assert plain == with_special.report(as_of).to_csv()
    assert with_gap == with_special.report(as_of, max_gap=dt.timedelta(hours=2)).to_csv()
    assert plain != load_csv(*files).report(as_of).to_csv()


def test_a_job_keeps_its_max_gap_when_another_server_computes_it(
    tmp_path: Path, servers: list[Server]
) -> None:
    """A job triggered with ?max_gap=90m, handed back at SIGTERM, is computed by the next
    server (started with --max-gap 5h) with 90m."""
    data = tmp_path / "data"
    write_holey_data_dir(data)
    database = tmp_path / "store.db"
    args = ("--db", f"sqlite:///{database}", "--data-dir", str(data))
    first = Server(tmp_path, *args, report_delay=30)
    servers.append(first)
    first.wait_ready()
    report_id = trigger(first, "?max_gap=90m")
    deadline = time.monotonic() + 10
    while first.json("GET", "/api/health")[1]["reports"]["running"] != 1:
        assert time.monotonic() < deadline, first.log()
        time.sleep(0.05)
    assert first.stop() == 0
    assert f"event=report.handed_back report_id={report_id}" in first.log()

    second = Server(tmp_path, *args, "--max-gap", "5h")
    servers.append(second)
    second.wait_ready()
    csv, as_json = second.wait_report(report_id)
    assert as_json["max_gap"] == "PT1H30M"
    assert csv == cli_report(database, "--max-gap", "90m")
    assert csv != cli_report(database, "--max-gap", "5h")
    # A plain trigger on the second server takes its own default.
    other, as_json = second.wait_report(trigger(second, ""))
    assert as_json["max_gap"] == "PT5H"
    assert other == cli_report(database, "--max-gap", "5h")


def test_a_changed_special_hours_file_is_read_at_the_next_refresh(
    tmp_path: Path, servers: list[Server]
) -> None:
    """special_hours.csv rewritten while the server runs is ingested at the next refresh
    (like the other sources): the next report has the new special day."""
    data = tmp_path / "data"
    write_holey_data_dir(data)
    database = tmp_path / "store.db"
    server = Server(
        tmp_path,
        *("--db", f"sqlite:///{database}", "--data-dir", str(data)),
        *("--refresh-interval", "1"),
    )
    servers.append(server)
    server.wait_ready()
    before, as_json = server.wait_report(trigger(server, ""))
    as_of = dt.datetime.fromisoformat(as_json["as_of"])
    # Every store closed on 2023-01-24, its local date.
    store_ids = [line.split(",")[0] for line in before.splitlines()[1:]]
    special = data / "special_hours.csv"
    special.write_text(
        special.read_text(encoding="utf-8")
        + "".join(f"{store_id},2023-01-24,,\n" for store_id in store_ids),
        encoding="utf-8",
    )
    files = [data / name for name in ("store_status.csv", "business_hours.csv", "timezones.csv")]
    expected = load_csv(*files, special_hours=special).report(as_of).to_csv()
    assert expected != before
    deadline = time.monotonic() + 30
    while True:
        after, _ = server.wait_report(trigger(server, ""))
        if after != before:
            break
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.3)
    assert after == expected
