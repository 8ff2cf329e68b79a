"""
Integration fixtures: small synthetic CSV inputs shaped like the real ones, and CLI helpers.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import sqlite3
from pathlib import Path

import attrs
import pytest

from storemon.cli import main
from storemon.storage import polldays

STATUS_HEADER = "store_id,status,timestamp_utc\n"
HOURS_HEADER = "store_id,day,start_time_local,end_time_local\n"
ZONES_HEADER = "store_id,timezone_str\n"
ZONES = ("America/New_York", "America/Los_Angeles", "America/Chicago", "Asia/Beirut")
END = dt.datetime(2023, 1, 25, 18, 13, 22, 479220, tzinfo=dt.UTC)


def stamp(at: dt.datetime, style: int) -> str:
    """
    A UTC timestamp in one of the spellings the inputs use.
    """
    if style == 0:  # the real data's: fraction with trailing zeros trimmed
        text = at.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".")
        return text + " UTC"
    if style == 1:
        return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return at.isoformat()


def status_lines(stores: int, *, seed: int = 0, polls: int = 30) -> list[str]:
    """
    Data lines of a status file: unsorted, mixed statuses and spellings, ids as strings.
    """
    rng = random.Random(seed)
    lines = []
    for index in range(stores):
        store_id = str(10**18 + index * 7919)
        for _ in range(rng.randint(1, polls)):
            at = END - dt.timedelta(microseconds=rng.randint(0, 8 * 86_400_000_000))
            status = rng.choice(["active", "active", "inactive", "Active"])
            lines.append(f"{store_id},{status},{stamp(at, rng.randrange(3))}\n")
    rng.shuffle(lines)
    return lines


def hours_lines(stores: int, *, seed: int = 0) -> list[str]:
    """
    Data lines of a business-hours file: some stores without rows, split and overnight rows.
    """
    rng = random.Random(seed)
    lines = []
    for index in range(stores):
        if index % 5 == 4:
            continue  # no hours: open all the time
        store_id = str(10**18 + index * 7919)
        for day in range(7):
            if rng.random() < 0.1:
                continue
            shape = rng.randrange(4)
            if shape == 0:
                lines.append(f"{store_id},{day},00:00:00,23:59:59\n")
            elif shape == 1:
                lines.append(f"{store_id},{day},00:00:00,01:00:00\n")
                lines.append(f"{store_id},{day},11:00:00,23:59:00\n")
            elif shape == 2:
                lines.append(f"{store_id},{day},22:00:00,02:30:00\n")
            else:
                lines.append(f"{store_id},{day},{rng.randint(6, 11):02d}:00:00,21:15:00\n")
    return lines


def zone_lines(stores: int, *, seed: int = 0) -> list[str]:
    """
    Data lines of a time-zone file: some stores without a zone.
    """
    rng = random.Random(seed)
    return [
        f"{10**18 + index * 7919},{rng.choice(ZONES)}\n"
        for index in range(stores)
        if index % 7 != 3
    ]


@attrs.frozen
class Inputs:
    """
    Paths of the three input files.
    """

    status: Path
    hours: Path
    zones: Path

    def args(self) -> list[str]:
        """
        The CLI options naming the three files.
        """
        return [
            "--status",
            str(self.status),
            "--business-hours",
            str(self.hours),
            "--timezones",
            str(self.zones),
        ]


def write_inputs(folder: Path, stores: int = 40, *, seed: int = 0) -> Inputs:
    """
    Write the three CSV inputs into ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    inputs = Inputs(folder / "status.csv", folder / "hours.csv", folder / "zones.csv")
    inputs.status.write_text(STATUS_HEADER + "".join(status_lines(stores, seed=seed)))
    inputs.hours.write_text(HOURS_HEADER + "".join(hours_lines(stores, seed=seed)))
    inputs.zones.write_text(ZONES_HEADER + "".join(zone_lines(stores, seed=seed)))
    return inputs


@pytest.fixture
def inputs(tmp_path: Path) -> Inputs:
    """
    Three small CSV inputs in a temporary folder.
    """
    return write_inputs(tmp_path / "in")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """
    The URL of a fresh SQLite database file.
    """
    return f"sqlite:///{tmp_path}/storemon.db"


@attrs.frozen
class Run:
    """
    The outcome of one CLI run.
    """

    status: int
    out: str
    err: str


def cli(*argv: str) -> Run:
    """
    Run the storemon command line in this process.
    """
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out=out, err=err)
    return Run(status, out.getvalue(), err.getvalue())


def dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    """
    Every data table of a SQLite database, sorted, to compare states.
    """
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        days = connection.execute("SELECT store_id, day, times, statuses FROM poll_days")
        return {
            "polls": sorted(polldays.each_poll(days)),
            **{
                table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall())
                for table in ("hours", "zones", "rejects", "source_state")
            },
        }
    finally:
        connection.close()
