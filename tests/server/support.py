"""
Helpers for the server tests: a small deterministic data set, as records and as CSV files.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from storemon.model import HoursRecord, HoursRow, PollRecord, ZoneRecord, to_epoch_us
from storemon.service import build_report
from storemon.testing import InMemoryRepository

UTC = dt.UTC
#: The latest poll of the small data set.
LAST_POLL_AT = dt.datetime(2023, 1, 25, 18, 13, 22, tzinfo=UTC)
ZONES = ("America/Chicago", "America/New_York", "Asia/Kolkata", "Europe/Berlin")


def small_data(
    stores: int = 12, *, seed: int = 7, hours: int = 8 * 24
) -> tuple[list[PollRecord], list[HoursRecord], list[ZoneRecord]]:
    """
    Return polls (about one an hour per store), business hours and zones for a few stores.
    """
    rng = random.Random(seed)
    last_us = to_epoch_us(LAST_POLL_AT)
    polls: list[PollRecord] = []
    hours_rows: list[HoursRecord] = []
    zones: list[ZoneRecord] = []
    for number in range(stores):
        store_id = str(1_481_966_498_820_158_979 + number * 7_919_113_127)
        for hour in range(hours):
            at_us = last_us - hour * 3_600_000_000 - rng.randrange(0, 3_000_000_000)
            polls.append((store_id, at_us, rng.random() < 0.85))
        if number % 4 != 3:  # every fourth store has no hours: open 24x7
            for day in range(7):
                if day == number % 7:
                    continue
                start = dt.time(rng.randrange(0, 12), rng.choice((0, 30)))
                end = dt.time(rng.randrange(13, 24), rng.choice((0, 15, 59)))
                hours_rows.append((store_id, HoursRow(day, start, end)))
        if number % 5 != 4:  # every fifth store has no zone: America/Chicago
            zones.append((store_id, ZONES[number % len(ZONES)]))
    polls[-1] = (polls[-1][0], last_us, polls[-1][2])
    return polls, hours_rows, zones


async def filled_repository(stores: int = 12, *, seed: int = 7) -> InMemoryRepository:
    """
    Return an in-memory repository holding ``small_data``.
    """
    repository = InMemoryRepository()
    polls, hours_rows, zones = small_data(stores, seed=seed)
    await repository.add_polls(polls)
    await repository.replace_hours(hours_rows)
    await repository.replace_zones(zones)
    return repository


async def expected_csv(repository: InMemoryRepository, as_of: dt.datetime) -> str:
    """
    Return the library's report CSV of ``repository`` at ``as_of``.
    """
    return (await build_report(repository, as_of=as_of)).to_csv()


def _timestamp(at_us: int) -> str:
    at = dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=at_us)
    return at.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def status_lines(polls: list[PollRecord]) -> str:
    """
    Return status CSV rows (no header) for ``polls``.
    """
    return "".join(
        f"{store_id},{'active' if active else 'inactive'},{_timestamp(at_us)}\n"
        for store_id, at_us, active in polls
    )


def write_data_dir(folder: Path, stores: int = 12, *, seed: int = 7) -> None:
    """
    Write ``small_data`` as the three CSV files of a data dir.
    """
    polls, hours_rows, zones = small_data(stores, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "store_status.csv").write_text(
        "store_id,status,timestamp_utc\n" + status_lines(polls), encoding="utf-8"
    )
    (folder / "business_hours.csv").write_text(
        "store_id,day,start_time_local,end_time_local\n"
        + "".join(
            f"{store_id},{row.day},{row.start_local:%H:%M:%S},{row.end_local:%H:%M:%S}\n"
            for store_id, row in hours_rows
        ),
        encoding="utf-8",
    )
    (folder / "timezones.csv").write_text(
        "store_id,timezone_str\n" + "".join(f"{s},{z}\n" for s, z in zones), encoding="utf-8"
    )
