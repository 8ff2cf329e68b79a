"""
Progress on long work: drawn on standard error when it is a terminal (rows, rate, time
left), never when it is a pipe or a file, never with --quiet.
"""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from storemon.progress import TerminalProgress, count_text, progress_line, seconds_text

ERASE = "\x1b[K"


class Clock:
    """
    A clock the test moves by hand.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_first_report_draws_the_line_without_a_rate() -> None:
    """The first report of a source draws its name, share and rows, with no rate yet."""
    out = io.StringIO()
    progress = TerminalProgress(out, clock=Clock())
    progress("/data/store_status.csv", 1000, 100, 1)
    assert out.getvalue() == "\rreading store_status.csv: 10%, 0 rows" + ERASE


def test_later_reports_give_rate_and_time_left() -> None:
    """After the interval, the line shows rows per second and the time left at that pace."""
    out, clock = io.StringIO(), Clock()
    progress = TerminalProgress(out, clock=clock, interval=0.5)
    progress("s.csv", 1000, 100, 1)
    clock.now = 0.25
    progress("s.csv", 1000, 300, 2001)  # within the interval: not drawn
    clock.now = 2.0
    progress("s.csv", 1000, 600, 5001)
    lines = out.getvalue().split("\r")[1:]
    assert lines == [
        "reading s.csv: 10%, 0 rows" + ERASE,
        # 5000 rows in 2 s; 500 bytes in 2 s leaves 400 bytes, 1.6 s.
        "reading s.csv: 60%, 5.0k rows, 2.5k rows/s, 2 s left" + ERASE,
    ]


def test_clear_erases_only_a_drawn_line() -> None:
    """clear() erases the line once it was drawn, and writes nothing otherwise."""
    out = io.StringIO()
    progress = TerminalProgress(out, clock=Clock())
    progress.clear()
    assert out.getvalue() == ""
    progress("s.csv", None, 10, 3)
    progress.clear()
    assert out.getvalue() == "\rreading s.csv: 2 rows" + ERASE + "\r" + ERASE


def test_a_new_source_starts_its_own_rate() -> None:
    """A second source is drawn at once, its rate counted from its own start."""
    out, clock = io.StringIO(), Clock()
    progress = TerminalProgress(out, clock=clock)
    progress("a.csv", 100, 50, 11)
    clock.now = 0.01
    progress("b.csv", 100, 20, 3)
    assert out.getvalue().split("\r")[-1] == "reading b.csv: 20%, 2 rows" + ERASE


@pytest.mark.parametrize(("value", "text"), [(950, "950"), (12_345, "12.3k"), (1_840_000, "1.84M")])
def test_counts_are_short(value: int, text: str) -> None:
    """Counts are written for a glance: units, thousands, millions."""
    assert count_text(value) == text


@pytest.mark.parametrize(("seconds", "text"), [(7.4, "7 s"), (125, "2 min 05 s")])
def test_durations_are_short(seconds: float, text: str) -> None:
    """Durations are whole seconds, then minutes and seconds."""
    assert seconds_text(seconds) == text


def test_line_without_size_has_no_share() -> None:
    """A source of unknown size (a URL without a length) shows rows and rate only."""
    assert (
        progress_line("http://x/s.csv", None, 5, 1500, rows_per_s=300.0, eta=None)
        == "reading s.csv: 1.5k rows, 300 rows/s"
    )


@pytest.fixture(scope="module")
def big_status(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """
    A status file of about 12 MB (a dozen chunks, under the size parsed in two halves).
    """
    path = tmp_path_factory.mktemp("big") / "store_status.csv"
    with path.open("w") as handle:
        handle.write("store_id,status,timestamp_utc\n")
        for index in range(230_000):
            store = 10**18 + index % 500
            minute = index // 500
            handle.write(
                f"{store},active,2023-01-{18 + minute // 1440:02d} "
                f"{minute // 60 % 24:02d}:{minute % 60:02d}:07.25 UTC\n"
            )
    return path


def run_on_terminal(argv: list[str], cwd: Path) -> tuple[int, str, bytes]:
    """
    Run ``storemon`` with standard error on a pseudo-terminal; return the exit status,
    what the terminal showed and standard output (kept in a file, so neither blocks).
    """
    leader, follower = pty.openpty()
    out_path = cwd / "stdout.bin"
    with out_path.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "storemon", *argv], stdout=out, stderr=follower, cwd=cwd
        )
    os.close(follower)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal closed when the process ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    status = process.wait(timeout=120)
    return status, shown.decode(), out_path.read_bytes()


@pytest.mark.slow
def test_report_draws_progress_on_a_terminal(big_status: Path, tmp_path: Path) -> None:
    """report --status on a terminal shows the share, rows and rate, and erases the line."""
    status, shown, output = run_on_terminal(
        ["report", "--status", str(big_status), "--as-of", "2023-01-18T07:00"], tmp_path
    )
    assert status == 0
    assert output.startswith(b"store_id,uptime_last_hour,")
    assert "reading store_status.csv: " in shown
    assert "rows/s" in shown
    assert "% " not in shown.replace("%,", "")  # every share is followed by its rows
    # The last progress line is erased before the notes about defaults are written.
    before_notes = shown.split("storemon report: note:")[0]
    assert before_notes.endswith("\r" + ERASE)


@pytest.mark.slow
def test_ingest_draws_progress_on_a_terminal(big_status: Path, tmp_path: Path) -> None:
    """ingest on a terminal shows progress, then its summary on standard output."""
    status, shown, output = run_on_terminal(
        ["ingest", "--db", f"sqlite:///{tmp_path}/p.db", "--status", str(big_status)], tmp_path
    )
    assert status == 0
    assert "reading store_status.csv: " in shown
    assert "rows/s" in shown
    assert shown.endswith("\r" + ERASE)
    assert b"230000 rows read, 230000 stored" in output


@pytest.mark.slow
@pytest.mark.parametrize("quiet_on_terminal", [False, True])
def test_no_progress_off_a_terminal_or_when_quiet(
    big_status: Path, tmp_path: Path, quiet_on_terminal: bool
) -> None:
    """Off a terminal, or with --quiet on one, standard error gets no progress line."""
    argv = ["report", "--status", str(big_status), "--as-of", "2023-01-18T07:00"]
    if quiet_on_terminal:
        status, shown, _ = run_on_terminal([*argv, "--quiet"], tmp_path)
        assert (status, shown) == (0, "")
        return
    done = subprocess.run(
        [sys.executable, "-m", "storemon", *argv], capture_output=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 0
    assert b"\r" not in done.stderr
    assert b"reading" not in done.stderr
    assert done.stderr.decode().splitlines() == [
        "storemon report: note: no --business-hours, so every store is open 24 hours, 7 days",
        "storemon report: note: no --timezones, so every store's hours are in America/Chicago",
    ]
