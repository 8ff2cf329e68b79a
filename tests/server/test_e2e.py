"""
End to end: ``storemon serve`` as a real process on SQLite, against the library's report.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storemon import load_csv
from storemon.model import to_epoch_us
from tests.server.process import Server
from tests.server.support import status_lines, write_data_dir

pytestmark = pytest.mark.slow


def write_data(folder: Path) -> None:
    """
    Write a small data set: the sample generator's when it exists, else our own.
    """
    try:
        from storemon.sample import write_sample
    except ImportError:
        write_data_dir(folder, stores=20)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        write_sample(folder, stores=40, seed=3)


def library_csv(folder: Path, as_of: dt.datetime) -> str:
    dataset = load_csv(
        folder / "store_status.csv", folder / "business_hours.csv", folder / "timezones.csv"
    )
    return dataset.report(as_of).to_csv()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    """
    Collects the servers a test starts, and stops every one of them afterwards.
    """
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def test_report_matches_library_and_refresh_moves_as_of(
    tmp_path: Path, servers: list[Server]
) -> None:
    """The served CSV equals the library's; appended polls arrive by refresh and move as_of."""
    data = tmp_path / "data"
    write_data(data)
    server = Server(
        tmp_path,
        "--db",
        f"sqlite:///{tmp_path / 'store.db'}",
        "--data-dir",
        str(data),
        "--refresh-interval",
        "1",
    )
    servers.append(server)
    health = server.wait_ready()
    assert health["last_ingest"]["ok"] is True

    csv, as_json = server.wait_report(server.trigger())
    as_of = dt.datetime.fromisoformat(as_json["as_of"])
    assert csv == library_csv(data, as_of)
    assert len(as_json["rows"]) == csv.count("\n") - 1

    latest = load_csv(data / "store_status.csv").latest_poll_at()
    assert as_of == latest
    later = as_of + dt.timedelta(minutes=30)
    store_ids = [row["store_id"] for row in as_json["rows"][:3]]
    later_us = to_epoch_us(later)
    appended = [(store_id, later_us, False) for store_id in store_ids]
    with (data / "store_status.csv").open("a", encoding="utf-8") as handle:
        handle.write(status_lines(appended))

    deadline = time.monotonic() + 30
    while True:
        csv, as_json = server.wait_report(server.trigger())
        if dt.datetime.fromisoformat(as_json["as_of"]) == later:
            break
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.3)
    assert csv == library_csv(data, later)
    modes = {server.json("GET", "/api/health")[1]["last_ingest"]["sources"]["status"]["mode"]}
    assert modes <= {"appended", "unchanged"}
    assert server.stop() == 0
    assert "event=server.closing_db" in server.log()


def test_report_survives_kill_9_sigterm_and_restart(tmp_path: Path, servers: list[Server]) -> None:
    """A report cut off by kill -9 is taken over once its lease ends; cut off by SIGTERM, it
    is handed back and completes after the next start."""
    data = tmp_path / "data"
    write_data(data)
    args = ("--db", f"sqlite:///{tmp_path / 'store.db'}", "--data-dir", str(data))
    lease_env = {"STOREMON_REPORT_LEASE": "2"}  # a killed server's job is free after 2 s

    def wait_running(server: Server) -> None:
        deadline = time.monotonic() + 10
        while server.json("GET", "/api/health")[1]["reports"]["running"] != 1:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)

    first = Server(tmp_path, *args, env=lease_env, report_delay=30)
    servers.append(first)
    first.wait_ready()
    report_id = first.trigger()
    wait_running(first)
    status, body = first.json("GET", f"/api/get_report?report_id={report_id}")
    assert (status, body["status"], body["state"]) == (200, "Running", "Running")
    first.kill()

    second = Server(tmp_path, *args, env=lease_env, report_delay=30)
    servers.append(second)
    second.wait_ready()
    wait_running(second)  # taken over: the killed server's lease has run out
    started = time.monotonic()
    assert second.stop() == 0
    assert time.monotonic() - started < 10  # the 30 s computation was not waited for
    assert f"event=report.handed_back report_id={report_id}" in second.log()

    third = Server(tmp_path, *args)
    servers.append(third)
    third.wait_ready()
    csv, as_json = third.wait_report(report_id)
    assert csv == library_csv(data, dt.datetime.fromisoformat(as_json["as_of"]))
    assert f"event=report.started report_id={report_id}" in third.log()


def _readme_session() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The server", 1)[1]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "the README's server section has no shell block"
    return str(blocks[0])


def test_readme_curl_session_works(tmp_path: Path, servers: list[Server]) -> None:
    """The README's curl session, run as written against a server, downloads the report."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    data = tmp_path / "data"
    write_data(data)
    server = Server(tmp_path, "--db", f"sqlite:///{tmp_path / 'store.db'}", "--data-dir", str(data))
    servers.append(server)
    script = _readme_session()
    assert "BASE=${BASE:-http://127.0.0.1:5000}\n" in script  # the README's default
    result = subprocess.run(
        ["bash", "-eu", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "BASE": server.base},
    )
    assert result.returncode == 0, result.stderr + server.log()
    report = (tmp_path / "report.csv").read_text(encoding="utf-8")
    latest = load_csv(data / "store_status.csv").latest_poll_at()
    assert latest is not None
    assert report == library_csv(data, latest)
    assert result.stdout.splitlines() == report.splitlines()[:3]
