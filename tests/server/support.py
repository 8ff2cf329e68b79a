"""
Helpers for the server tests: a small deterministic data set, as records and as CSV files.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from storemon.model import (
    HoursRecord,
    HoursRow,
    PollRecord,
    SpecialHoursRecord,
    SpecialHoursRow,
    ZoneRecord,
    to_epoch_us,
)
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


#: The hole cut into the polls of every other store by ``holey_data``: ten hours with no
#: poll, which a maximum gap of 2 h shows as about eight hours unknown.
HOLE = (dt.datetime(2023, 1, 22, 6, 0, tzinfo=UTC), dt.datetime(2023, 1, 22, 16, 0, tzinfo=UTC))


def special_rows(store_ids: list[str]) -> list[SpecialHoursRecord]:
    """
    Special days for the first stores of ``small_data``: a closed date, an overnight
    special row, a day with two rows, and special hours on a store without weekly rows.
    """
    t = dt.time
    return [
        (store_ids[0], SpecialHoursRow(dt.date(2023, 1, 23))),
        (store_ids[1], SpecialHoursRow(dt.date(2023, 1, 24), t(10, 0), t(2, 0))),
        (store_ids[2], SpecialHoursRow(dt.date(2023, 1, 21), t(8, 0), t(11, 0))),
        (store_ids[2], SpecialHoursRow(dt.date(2023, 1, 21), t(15, 0), t(18, 30))),
        (store_ids[3], SpecialHoursRow(dt.date(2023, 1, 25), t(9, 0), t(17, 0))),
        (store_ids[5], SpecialHoursRow(dt.date(2023, 1, 20))),
    ]


def holey_data(
    stores: int = 12, *, seed: int = 7
) -> tuple[list[PollRecord], list[HoursRecord], list[ZoneRecord], list[SpecialHoursRecord]]:
    """
    Return ``small_data`` with no poll inside ``HOLE`` for every other store, and
    ``special_rows`` for its stores.
    """
    polls, hours_rows, zones = small_data(stores, seed=seed)
    store_ids = list(dict.fromkeys(store_id for store_id, _, _ in polls))
    holed = set(store_ids[::2])
    lo, hi = (to_epoch_us(at) for at in HOLE)
    polls = [poll for poll in polls if not (poll[0] in holed and lo <= poll[1] < hi)]
    return polls, hours_rows, zones, special_rows(store_ids)


def _time(at: dt.time | None) -> str:
    return "" if at is None else f"{at:%H:%M:%S}"


def write_holey_data_dir(folder: Path, stores: int = 12, *, seed: int = 7) -> None:
    """
    Write ``holey_data`` as the four CSV files of a data dir (special_hours.csv too).
    """
    polls, _, _, special = holey_data(stores, seed=seed)
    write_data_dir(folder, stores, seed=seed)
    (folder / "store_status.csv").write_text(
        "store_id,status,timestamp_utc\n" + status_lines(polls), encoding="utf-8"
    )
    (folder / "special_hours.csv").write_text(
        "store_id,date,start_time_local,end_time_local\n"
        + "".join(
            f"{store_id},{row.date},{_time(row.start_local)},{_time(row.end_local)}\n"
            for store_id, row in special
        ),
        encoding="utf-8",
    )
