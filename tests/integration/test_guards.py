"""
``storemon ingest`` and ``storemon report`` against the files an adversary sends: a NUL in
an id, empty snapshots, a poll dated 9999, a 50 MiB header, a 200 MiB line, and kills.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storemon.ingest import ingest
from storemon.storage import open_repository
from storemon.testing import ManualClock
from tests.server.process import free_port

from .conftest import HOURS_HEADER, STATUS_HEADER, ZONES_HEADER, Inputs, cli, dump

# --- a NUL in a store id -----------------------------------------------------------------


def test_a_nul_id_is_rejected_and_every_later_report_runs(tmp_path: Path, db_url: str) -> None:
    """The NUL row is rejected (exit 3) and report --db works before and after more data."""
    path = tmp_path / "status.csv"
    path.write_bytes(
        STATUS_HEADER.encode()
        + b"adv\x00nul,active,2023-01-25 17:00:00 UTC\n"
        + b"good,active,2023-01-25 17:00:00 UTC\n"
    )
    run = cli("ingest", "--db", db_url, "--status", str(path))
    assert run.status == 3
    assert f"rejected: {path}:2: column store_id: " in run.err
    report = cli("report", "--db", db_url)
    assert (report.status, report.err) == (0, "")
    assert report.out.splitlines()[1:] == ["good,60.00,24.00,168.00,0.00,0.00,0.00"]


def test_a_formula_id_never_reaches_the_report(tmp_path: Path, db_url: str) -> None:
    """An id a spreadsheet would run as a formula is rejected at read time."""
    path = tmp_path / "status.csv"
    path.write_text(
        STATUS_HEADER
        + "=cmd|' /C calc'!A1,active,2023-01-25 17:00:00 UTC\n"
        + "good,active,2023-01-25 17:00:00 UTC\n"
    )
    assert cli("ingest", "--db", db_url, "--status", str(path)).status == 3
    report = cli("report", "--db", db_url)
    assert "=cmd" not in report.out
    direct = cli("report", "--status", str(path))
    assert (direct.status, "=cmd" in direct.out) == (3, False)


def test_report_db_names_a_store_whose_stored_zone_cannot_be_read(
    inputs: Inputs, db_url: str
) -> None:
    """A zone put in by hand leaves its store out: listed on stderr, exit 3, the rest reported."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    before = cli("report", "--db", db_url)
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    with connection:
        [(store_id,)] = connection.execute("SELECT min(store_id) FROM zones").fetchall()
        connection.execute(
            "UPDATE zones SET zone_key = 'localtime' WHERE store_id = ?", (store_id,)
        )
    connection.close()
    run = cli("report", "--db", db_url)
    assert run.status == 3
    assert f"skipped: store '{store_id}' left out of the report: time zone 'localtime'" in run.err
    assert "1 stores left out of the report" in run.err
    assert run.out.splitlines() == [
        line for line in before.out.splitlines() if not line.startswith(f"{store_id},")
    ]


def test_report_json_and_explain_name_a_store_whose_stored_hours_cannot_be_read(
    inputs: Inputs, db_url: str
) -> None:
    """A day 9 put in by hand: the JSON lists the store left out; explain refuses it in a line."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    with connection:
        [(store_id,)] = connection.execute("SELECT min(store_id) FROM hours").fetchall()
        connection.execute("INSERT INTO hours VALUES (?, 9, 0, 3600000000)", (store_id,))
    connection.close()
    run = cli("report", "--db", db_url, "--format", "json")
    assert run.status == 3
    document = json.loads(run.out)
    [skipped] = document["skipped"]
    assert skipped["store_id"] == store_id
    assert "day" in skipped["reason"]
    assert store_id not in [row["store_id"] for row in document["rows"]]
    explained = cli("explain", store_id, "--db", db_url)
    assert explained.status == 1
    assert explained.out == ""
    assert explained.err == (
        f"storemon explain: error: store {store_id!r} cannot be explained: {skipped['reason']}\n"
    )


# --- empty snapshots ---------------------------------------------------------------------

SNAPSHOTS = {
    "business-hours": (HOURS_HEADER, "hours", "1,9,09:00,17:00\n2,x,09:00,17:00\n"),
    "timezones": (ZONES_HEADER, "zones", "1,Mars/Olympus\n2,localtime\n"),
}


@pytest.mark.parametrize("option", sorted(SNAPSHOTS))
@pytest.mark.parametrize("content", ["header only", "every row rejected"])
def test_a_snapshot_that_would_wipe_the_stored_one_is_refused(
    inputs: Inputs, tmp_path: Path, db_url: str, option: str, content: str
) -> None:
    """Exit 1, a message saying how many rows would go, and nothing changed at all."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    before = dump(db_url)
    header, table, bad_rows = SNAPSHOTS[option]
    path = tmp_path / "export.csv"
    path.write_text(header + (bad_rows if content == "every row rejected" else ""))
    run = cli("ingest", "--db", db_url, f"--{option}", str(path))
    stored = len(before[table])
    assert run.status == 1
    assert f"refused: it would leave 0 of the {stored} stored" in run.err
    assert f"({stored} would go, more than half)" in run.err
    assert "--allow-shrink" in run.err
    assert dump(db_url) == before
    allowed = cli("ingest", "--db", db_url, f"--{option}", str(path), "--allow-shrink")
    assert allowed.status == (3 if content == "every row rejected" else 0)
    assert dump(db_url)[table] == []


def test_a_snapshot_that_keeps_half_is_stored(inputs: Inputs, tmp_path: Path, db_url: str) -> None:
    """Losing up to half of the stored rows is a normal change, stored without a flag."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    rows = inputs.zones.read_text().splitlines(keepends=True)[1:]
    kept = rows[: (len(rows) + 1) // 2]
    path = tmp_path / "zones.csv"
    path.write_text(ZONES_HEADER + "".join(kept))
    assert cli("ingest", "--db", db_url, "--timezones", str(path)).status == 0
    assert len(dump(db_url)["zones"]) == len(kept)


# --- polls from the future ---------------------------------------------------------------


def test_a_poll_dated_9999_cannot_become_now(tmp_path: Path, db_url: str) -> None:
    """The 9999 poll is rejected with its reason; the report's now is the believable poll."""
    path = tmp_path / "status.csv"
    path.write_text(
        STATUS_HEADER
        + "a,active,2023-01-25 17:00:00 UTC\n"
        + "b,inactive,9999-12-31 00:00:00 UTC\n"
    )
    run = cli("ingest", "--db", db_url, "--status", str(path))
    assert run.status == 3
    assert "column timestamp_utc: 9999-12-31 00:00:00 UTC is in the future" in run.err
    assert [row[0] for row in dump(db_url)["polls"]] == ["a"]
    report = cli("report", "--db", db_url)
    assert report.out.splitlines()[1:] == ["a,60.00,24.00,168.00,0.00,0.00,0.00"]


async def test_the_tolerance_is_measured_from_the_injected_clock(tmp_path: Path) -> None:
    """With the clock at 12:00 and a 1 h tolerance, 13:00 is kept and 13:00:01 rejected."""
    path = tmp_path / "status.csv"
    path.write_text(
        STATUS_HEADER
        + "on_time,active,2023-01-25 13:00:00 UTC\n"
        + "late,active,2023-01-25 13:00:01 UTC\n"
    )
    clock = ManualClock(dt.datetime(2023, 1, 25, 12, tzinfo=dt.UTC))
    async with open_repository("memory://") as repository:
        [summary] = await ingest(repository, status=str(path), clock=clock)
        assert [(item.line, item.column) for item in summary.rejects] == [(3, "timestamp_utc")]
        assert await repository.latest_poll_at() == dt.datetime(2023, 1, 25, 13, tzinfo=dt.UTC)
        clock.advance(dt.timedelta(hours=5))
        path.write_text(path.read_text() + "\n")  # changed: read in full again
        [summary] = await ingest(
            repository, status=str(path), clock=clock, future_tolerance=dt.timedelta(0)
        )
        assert summary.rejects == ()


def test_the_tolerance_is_an_option(tmp_path: Path, db_url: str) -> None:
    """--future-tolerance takes a duration; a bad one is a usage error."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=90)
    path = tmp_path / "status.csv"
    path.write_text(STATUS_HEADER + f"a,active,{soon:%Y-%m-%d %H:%M:%S} UTC\n")
    assert cli("ingest", "--db", db_url, "--status", str(path)).status == 3
    run = cli("ingest", "--db", db_url, "--status", str(path), "--future-tolerance", "2h")
    assert run.status == 0
    assert (
        cli("ingest", "--db", db_url, "--status", str(path), "--future-tolerance", "x").status == 2
    )


# --- absurd lines ------------------------------------------------------------------------


def test_a_50_mib_header_is_refused_in_a_short_message(tmp_path: Path, db_url: str) -> None:
    """The header is not echoed: the message and the JSON summary stay a few hundred bytes."""
    path = tmp_path / "status.csv"
    with path.open("wb") as handle:
        handle.write(b"store_id,status,")
        handle.write(b"h" * (50 << 20))
        handle.write(b"\n1,active,2023-01-25 17:00:00 UTC\n")
    run = cli("ingest", "--db", db_url, "--status", str(path), "--json")
    assert run.status == 1
    assert "the header line is 52428817 bytes long, over the limit of 1048576 bytes" in run.err
    assert len(run.err) < 2000
    assert len(json.loads(run.out)["sources"][0]["error"]) <= 500


def _processes() -> dict[int, tuple[int, str, str]]:
    """
    Every process: its parent, its state and its command line.
    """
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        found[int(entry.name)] = (int(parent), state, command)
    return found


def _descendants(root: int) -> dict[int, str]:
    """
    The processes below ``root`` (children, their children, ...) and their commands.
    """
    processes = _processes()
    tree, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _, command) in processes.items():
            if ppid == parent and pid not in tree:
                tree[pid] = command
                frontier.append(pid)
    return tree


def _still_running(pids: dict[int, str]) -> list[str]:
    processes = _processes()
    return [
        f"{pid} {command}"
        for pid, command in pids.items()
        if pid in processes and processes[pid][1] != "Z"
    ]


def _large_status_file(path: Path, rows: int) -> None:
    with path.open("w") as handle:
        handle.write(STATUS_HEADER)
        for index in range(rows):
            handle.write(
                f"{10**18 + index % 5000},active,2023-01-2{index % 5} 1{index % 10}:00:00 UTC\n"
            )


def _well_into_the_parse(process: subprocess.Popen[bytes], started: int) -> dict[int, str]:
    """
    Wait until ``process`` has ``started`` descendants (the last its parsing process),
    then a moment more; return its descendants.
    """
    deadline = time.monotonic() + 60
    while len(_descendants(process.pid)) < started:
        assert process.poll() is None, "it ended before its parsing process started"
        assert time.monotonic() < deadline, "the parsing process never started"
        time.sleep(0.05)
    time.sleep(0.3)  # well into the parse
    return _descendants(process.pid)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["ingest", "serve"])
@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "term"])
def test_killing_an_ingest_mid_parse_leaves_no_process(
    tmp_path: Path, db_url: str, command: str, kill: signal.Signals
) -> None:
    """Killed while a second process parses, an ingest (or a server ingesting) leaves nothing."""
    path = tmp_path / "status.csv"
    _large_status_file(path, 1_000_000)  # about 45 MB: parsed in a second process
    argv = [sys.executable, "-m", "storemon", command, "--db", db_url, "--status", str(path)]
    if command == "serve":
        argv += ["--port", str(free_port())]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # The parsing process: the ingest's child, or the child of the server's worker.
        run = _well_into_the_parse(process, 1 if command == "ingest" else 2)
        os.kill(process.pid, kill)
        process.wait(20)
        time.sleep(2)
        assert _still_running(run) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["ingest", "report"])
def test_a_ctrl_c_mid_parse_says_interrupted_and_no_traceback(
    tmp_path: Path, db_url: str, command: str
) -> None:
    """A Ctrl-C at the terminal (SIGINT to the foreground process group) while a second
    process parses: one line, exit 130, no traceback of the child, no process left."""
    path = tmp_path / "status.csv"
    _large_status_file(path, 1_000_000)  # about 45 MB: parsed in a second process
    source = ["--db", db_url] if command == "ingest" else ["--output", str(tmp_path / "r.csv")]
    argv = [sys.executable, "-m", "storemon", command, *source, "--status", str(path)]
    # A session of its own, as a shell runs a command: its group is the foreground one.
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        run = _well_into_the_parse(process, 1)
        os.killpg(process.pid, signal.SIGINT)
        _out, err = process.communicate(timeout=20)
        assert (process.returncode, err.decode()) == (130, f"storemon {command}: interrupted\n")
        time.sleep(1)
        assert _still_running(run) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


_PEAK_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_rss_kib(*argv: str) -> int:
    """
    The largest resident set of any process of the command, in KiB.
    """
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, sys.executable, "-m", "storemon", *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


@pytest.mark.slow
def test_a_200_mib_line_costs_no_more_memory_than_a_normal_ingest(tmp_path: Path) -> None:
    """Rejected as over the limit, the line never sits in memory: the peak stays within 50 MB."""
    normal = tmp_path / "normal.csv"
    _large_status_file(normal, 20_000)
    absurd = tmp_path / "absurd.csv"
    with absurd.open("wb") as out, normal.open("rb") as rows:
        out.write(rows.readline())
        out.write(b"x," + b"y" * (200 << 20) + b"\n")
        out.write(rows.read())
    normal_kib = _peak_rss_kib(
        "ingest", "--db", f"sqlite:///{tmp_path}/a.db", "--status", str(normal)
    )
    url = f"sqlite:///{tmp_path}/b.db"
    absurd_kib = _peak_rss_kib("ingest", "--db", url, "--status", str(absurd), "--json")
    assert absurd_kib - normal_kib < 50 * 1024, (normal_kib, absurd_kib)
    [kept] = dump(url)["rejects"]
    assert kept[1] == 2
    assert len(kept[4].encode()) <= 1024
    assert len(dump(url)["polls"]) == len(dump(f"sqlite:///{tmp_path}/a.db")["polls"])
