"""
A synthetic data set shaped like the real (v1, January 2023) store-monitoring data.

``write_sample`` writes ``store_status.csv``, ``business_hours.csv`` and ``timezones.csv``
with the shapes measured in the real files (``docs/sample.md`` explains each choice): 15-19
digit ids, BigQuery-style timestamps with trimmed fractions, about one poll per store per
hour clustered early in the hour, the global polling holes (including the 35-hour gap),
rows in no order (a whole-file shuffle in bounded memory), outages lasting several polls,
split-at-midnight and all-day business hours, missing days, and stores without a zone or
hours. The output depends only on the arguments (``stores``, ``seed``, ``exotic``,
``order``, ``weeks``): the same arguments always give the same bytes.

The status file is generated one chunk of stores at a time and shuffled through temporary
bucket files, so memory stays small at full size (14,092 stores, about 1.84M rows) and with
weeks of history.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO, TypeAlias

import attrs

STATUS_FILE = "store_status.csv"
HOURS_FILE = "business_hours.csv"
ZONES_FILE = "timezones.csv"

STATUS_HEADER = "store_id,status,timestamp_utc"
HOURS_HEADER = "store_id,day,start_time_local,end_time_local"
ZONES_HEADER = "store_id,timezone_str"

#: The first polled hour of the real data.
FIRST_HOUR = dt.datetime(2023, 1, 18, tzinfo=dt.UTC)
#: The latest poll of the real data; the sample's latest poll is exactly this instant.
LAST_POLL_AT = dt.datetime(2023, 1, 25, 18, 13, 22, 479220, tzinfo=dt.UTC)

#: UTC hours with no polls for any store, as half-open ranges: the 56 empty hours of
#: PROFILE.md ("Polling gaps"), including the 35 hours 2023-01-22 18:00 -> 2023-01-24 05:00.
#: The hours between these ranges inside a gap hold only stray polls (``_PARTIAL_HOURS``).
POLLING_HOLES: tuple[tuple[dt.datetime, dt.datetime], ...] = tuple(
    (dt.datetime(*start, tzinfo=dt.UTC), dt.datetime(*end, tzinfo=dt.UTC))
    for start, end in (
        ((2023, 1, 19, 21), (2023, 1, 19, 23)),
        ((2023, 1, 20, 0), (2023, 1, 20, 3)),
        ((2023, 1, 20, 4), (2023, 1, 20, 5)),
        ((2023, 1, 21, 13), (2023, 1, 21, 15)),
        ((2023, 1, 21, 18), (2023, 1, 21, 19)),
        ((2023, 1, 21, 20), (2023, 1, 21, 23)),
        ((2023, 1, 22, 0), (2023, 1, 22, 3)),
        ((2023, 1, 22, 4), (2023, 1, 22, 5)),
        ((2023, 1, 22, 8), (2023, 1, 22, 10)),
        ((2023, 1, 22, 11), (2023, 1, 22, 12)),
        ((2023, 1, 22, 15), (2023, 1, 22, 17)),
        ((2023, 1, 22, 18), (2023, 1, 24, 5)),
    )
)

_HOUR_US = 3_600_000_000
_MINUTE_US = 60_000_000
_SECOND_US = 1_000_000

#: Hours that are partly polled: (coverage, first offset, last offset) in the hour. In the
#: real data 2023-01-19 19:xx was polled in one burst at 19:39:50-19:43:50 (about half the
#: usual rows), 20:xx only at 20:10-20:11, and four hours inside the gaps hold a stray poll
#: a few seconds after the hour (one row each in the 1.35% of rows that survive).
_PARTIAL_HOURS: dict[dt.datetime, tuple[float, int, int]] = {
    dt.datetime(2023, 1, 19, 19, tzinfo=dt.UTC): (
        0.55,
        39 * _MINUTE_US + 50 * _SECOND_US,
        43 * _MINUTE_US + 50 * _SECOND_US,
    ),
    dt.datetime(2023, 1, 19, 20, tzinfo=dt.UTC): (0.06, 10 * _MINUTE_US, 12 * _MINUTE_US),
    dt.datetime(2023, 1, 19, 23, tzinfo=dt.UTC): (0.005, 2 * _SECOND_US, 6 * _SECOND_US),
    dt.datetime(2023, 1, 20, 3, tzinfo=dt.UTC): (0.005, 2 * _SECOND_US, 6 * _SECOND_US),
    dt.datetime(2023, 1, 22, 14, tzinfo=dt.UTC): (0.005, 2 * _SECOND_US, 6 * _SECOND_US),
    dt.datetime(2023, 1, 22, 17, tzinfo=dt.UTC): (0.005, 2 * _SECOND_US, 6 * _SECOND_US),
}

#: Polls per minute of the hour in the real sample (14,031 rows): 84% in :00-:14, peak :01-:03.
MINUTE_WEIGHTS: tuple[int, ...] = (
    1002, 1405, 1253, 1285, 1139, 1022, 901, 861, 695, 608, 564, 420, 328, 207, 155,
    137, 109, 81, 96, 82, 101, 66, 76, 63, 64, 53, 52, 77, 59, 65,
    64, 52, 51, 48, 32, 31, 21, 30, 23, 22, 39, 36, 39, 38, 29,
    33, 28, 27, 24, 18, 30, 35, 14, 39, 45, 34, 40, 26, 29, 28,
)  # fmt: skip

#: Time zones of the real zones file, with their row counts (13,559 rows).
ZONE_WEIGHTS: dict[str, int] = {
    "America/New_York": 8191,
    "America/Los_Angeles": 3224,
    "America/Chicago": 1517,
    "America/Phoenix": 418,
    "America/Denver": 127,
    "America/Detroit": 62,
    "America/Indiana/Indianapolis": 15,
    "America/Edmonton": 2,
    "Asia/Beirut": 1,
    "America/Boise": 1,
    "Pacific/Honolulu": 1,
}

#: Lengths of real ids: 19 digits 12,592, 18: 1,368, 17: 129, 16: 10, 15: 2. A uniform
#: non-negative int64 of at least 15 digits gives these shares.
_MIN_ID = 10**14
_TABLE_SIZE = 10_000


def _minute_table() -> tuple[int, ...]:
    total = sum(MINUTE_WEIGHTS)
    table: list[int] = []
    running = 0
    for minute, weight in enumerate(MINUTE_WEIGHTS):
        running += weight
        table.extend([minute] * (round(running * _TABLE_SIZE / total) - len(table)))
    return tuple(table)


_MINUTE_OF = _minute_table()
_MMSS = tuple(f"{second // 60:02d}:{second % 60:02d}" for second in range(3600))


def random_store_id(rng: random.Random) -> str:
    """
    Return a store id like the real ones: a uniform non-negative int64 of 15-19 digits.
    """
    while True:
        value = rng.getrandbits(63)
        if value >= _MIN_ID:
            return str(value)


def format_timestamp(at: dt.datetime) -> str:
    """
    Spell a UTC instant as the real status file does: ``2023-01-25 18:13:22.47922 UTC``.
    """
    fraction = f".{at.microsecond:06d}".rstrip("0") if at.microsecond else ""
    return f"{at:%Y-%m-%d %H:%M:%S}{fraction} UTC"


@attrs.frozen
class PlannedHour:
    """
    One UTC hour that has polls: who is polled (``coverage``) and when (offsets in µs).
    """

    start: dt.datetime
    #: Share of stores polled in this hour (before per-store misses).
    coverage: float
    #: Offsets are drawn between ``first_us`` and ``last_us``, or from ``MINUTE_WEIGHTS``
    #: when ``spread`` is true.
    spread: bool
    first_us: int
    last_us: int

    @property
    def prefix(self) -> str:
        """
        The timestamp text up to the minutes, e.g. ``2023-01-18 05:``.
        """
        return f"{self.start:%Y-%m-%d %H}:"


def polling_plan() -> tuple[PlannedHour, ...]:
    """
    Return the UTC hours that have polls, from 2023-01-18 00:00 to the latest poll.
    """
    plan: list[PlannedHour] = []
    hour = FIRST_HOUR
    last_hour = LAST_POLL_AT.replace(minute=0, second=0, microsecond=0)
    while hour <= last_hour:
        partial = _PARTIAL_HOURS.get(hour)
        if partial is not None:
            coverage, first_us, last_us = partial
            plan.append(PlannedHour(hour, coverage, False, first_us, last_us))
        elif not any(start <= hour < end for start, end in POLLING_HOLES):
            last_us = _HOUR_US - 1
            if hour == last_hour:
                last_us = int((LAST_POLL_AT - hour) / dt.timedelta(microseconds=1))
            plan.append(PlannedHour(hour, 1.0, True, 0, last_us))
        hour += dt.timedelta(hours=1)
    return tuple(plan)


@attrs.frozen
class _Behaviour:
    """
    How one store is polled and how its status evolves (a two-state Markov chain per poll).
    """

    p_down: float
    p_up: float
    p_miss: float
    p_extra: float

    def starts_active(self, rng: random.Random) -> bool:
        return rng.random() * (self.p_down + self.p_up) < self.p_up


#: Kinds of stores by how their status evolves: P(active -> inactive) and P(inactive ->
#: active) per poll; an outage lasts 1 / p_up polls on average.
_BEHAVIOUR_WEIGHTS = {"steady": 0.80, "stable": 0.13, "flaky": 0.06, "mostly_down": 0.01}


def _behaviour(kind: str, rng: random.Random) -> _Behaviour:
    p_miss = rng.uniform(0.005, 0.025)
    p_extra = rng.uniform(0.03, 0.08)
    if kind == "steady":
        return _Behaviour(rng.uniform(0.015, 0.035), 1 / rng.uniform(2.5, 4.5), p_miss, p_extra)
    if kind == "stable":
        return _Behaviour(0.002, 0.5, p_miss, p_extra)
    if kind == "flaky":
        return _Behaviour(rng.uniform(0.06, 0.1), 1 / rng.uniform(2.0, 4.0), p_miss, p_extra)
    return _Behaviour(rng.uniform(0.3, 0.6), rng.uniform(0.02, 0.05), p_miss, p_extra)


def _allocate(
    rng: random.Random, count: int, weights: Mapping[str, float], *, each: bool = False
) -> list[str]:
    """
    Return ``count`` labels in random order, in the proportions of ``weights``.

    Counts are rounded by largest remainder; with ``each``, every label gets at least one
    when ``count`` allows, so small samples still show every shape.
    """
    total = sum(weights.values())
    quotas = {label: count * weight / total for label, weight in weights.items()}
    counts = {label: int(quota) for label, quota in quotas.items()}
    if each and count >= len(weights):
        for label in counts:
            counts[label] = max(counts[label], 1)
    order = sorted(quotas, key=lambda label: (-(quotas[label] - int(quotas[label])), label))
    index = 0
    while sum(counts.values()) < count:
        counts[order[index % len(order)]] += 1
        index += 1
    while sum(counts.values()) > count:  # only after ``each`` raised small labels
        largest = max(counts, key=lambda label: (counts[label], label))
        counts[largest] -= 1
    labels = [label for label in weights for _ in range(counts[label])]
    rng.shuffle(labels)
    return labels


# ----------------------------------------------------------------------------- status


def _fraction(micros: int) -> str:
    return f".{micros:06d}".rstrip("0") if micros else ""


def _store_polls(
    rng: random.Random,
    store_id: str,
    behaviour: _Behaviour,
    plan: Sequence[PlannedHour],
    prefixes: Sequence[str],
    *,
    whole_second_at: int,
    is_last: bool,
    out: list[str],
) -> None:
    """
    Append the status lines of one store, in time order, to ``out``.
    """
    rnd = rng.random
    heads = (f"{store_id},inactive,", f"{store_id},active,")
    active = behaviour.starts_active(rng)
    p_down, p_up = behaviour.p_down, behaviour.p_up
    p_miss, p_extra = behaviour.p_miss, behaviour.p_extra
    table, mmss = _MINUTE_OF, _MMSS
    final = len(plan) - 1
    for index, hour in enumerate(plan):
        forced_last = is_last and index == final
        if not forced_last:
            if hour.coverage < 1.0 and rnd() >= hour.coverage:
                continue
            if rnd() < p_miss:
                continue
        if forced_last:
            offset = hour.last_us
        elif hour.spread:
            offset = table[int(rnd() * _TABLE_SIZE)] * _MINUTE_US + int(rnd() * _MINUTE_US)
            if offset > hour.last_us:
                continue  # the last hour: this store was not polled yet
        else:
            offset = hour.first_us + int(rnd() * (hour.last_us - hour.first_us))
        if index >= whole_second_at and not forced_last:
            offset -= offset % _SECOND_US
            whole_second_at = len(plan)
        active = (rnd() >= p_down) if active else (rnd() < p_up)
        prefix = prefixes[index]
        out.append(
            f"{heads[active]}{prefix}{mmss[offset // _SECOND_US]}"
            f"{_fraction(offset % _SECOND_US)} UTC\n"
        )
        if not hour.spread or forced_last or rnd() >= p_extra:
            continue
        # A second poll in the same hour: mostly minutes later, sometimes seconds after.
        if rnd() < 0.15:
            extra = offset + 150_000 + int(rnd() * 30 * _SECOND_US)
        else:
            extra = offset + _MINUTE_US + table[int(rnd() * _TABLE_SIZE)] * _MINUTE_US
            active = (rnd() >= p_down) if active else (rnd() < p_up)
        if extra > hour.last_us:
            continue
        out.append(
            f"{heads[active]}{prefix}{mmss[extra // _SECOND_US]}"
            f"{_fraction(extra % _SECOND_US)} UTC\n"
        )


#: Stores generated together (and, in the ``grouped`` order, shuffled together); bounds memory.
_CHUNK_STORES = 400

#: The orders ``write_status`` can write rows in. ``unordered``: the whole file shuffled,
#: as the real export is; ``grouped``: shuffled within each chunk of 400 stores (the
#: generator's order before it wrote unordered rows); ``store``: each store's rows
#: together and in time order, stores in generated order.
ORDERS = ("unordered", "grouped", "store")

#: At most about this many rows are held in memory at once by the ``unordered`` order
#: (one bucket), whatever the size of the file: about 10 MB of text.
BUCKET_ROWS = 150_000

_WEEK = dt.timedelta(weeks=1)


def bucket_count(expected_rows: int, bucket_rows: int = BUCKET_ROWS) -> int:
    """
    Return how many buckets ``write_shuffled`` scatters ``expected_rows`` rows into, so that
    each bucket holds about ``bucket_rows`` rows or fewer (at least one bucket).
    """
    if bucket_rows < 1:
        raise ValueError(f"bucket_rows must be at least 1, got {bucket_rows}")
    return max(1, -(-expected_rows // bucket_rows))


def write_shuffled(
    handle: TextIO,
    chunks: Iterable[Sequence[str]],
    rng: random.Random,
    *,
    expected_rows: int,
    scratch: Path,
    bucket_rows: int = BUCKET_ROWS,
) -> tuple[int, int]:
    """
    Write the lines of ``chunks`` to ``handle`` in a uniformly random order, in bounded memory.

    Each line goes to one of ``bucket_count(expected_rows, bucket_rows)`` temporary files
    in ``scratch`` (a folder the caller owns) chosen at random; then each bucket in turn is
    read, shuffled in memory and written. A random bucket per line followed by a uniform
    shuffle of each bucket is a uniform shuffle of the whole (the scatter shuffle), and
    only one bucket is in memory at a time: about ``bucket_rows`` lines when
    ``expected_rows`` is about right. The same ``rng`` state and lines give the same order.

    Returns:
        The lines written, and the most lines held in memory at once (the largest bucket).
    """
    count = bucket_count(expected_rows, bucket_rows)
    paths = [scratch / f"bucket-{index:05d}.txt" for index in range(count)]
    rows = 0
    with ExitStack() as stack:
        buckets = [
            stack.enter_context(path.open("w", encoding="utf-8", newline="", buffering=1 << 16))
            for path in paths
        ]
        pick = rng.randrange
        for chunk in chunks:
            for line in chunk:
                buckets[pick(count)].write(line)
            rows += len(chunk)
    largest = 0
    for path in paths:
        with path.open(encoding="utf-8", newline="") as bucket:
            lines = bucket.readlines()
        path.unlink()
        largest = max(largest, len(lines))
        rng.shuffle(lines)
        handle.writelines(lines)
    return rows, largest


#: The generated week runs from ``FIRST_HOUR`` to ``LAST_POLL_AT``, 7 days and 18 hours:
#: a copy one week earlier keeps only its polls before this day, so that copies do not
#: overlap each other or the generated week.
_COPY_BEFORE_DAY = (FIRST_HOUR + dt.timedelta(weeks=1)).date().isoformat()


def _shift_weeks(lines: Sequence[str], weeks: int, cache: dict[str, str]) -> list[str]:
    """
    Return copies of status ``lines`` ``weeks`` weeks earlier (same statuses and offsets),
    but for those of the generated week's last day and after (``_COPY_BEFORE_DAY``),
    which would fall on the first day of the week after the copy.
    """
    shifted: list[str] = []
    for line in lines:
        head, stamp = line.rsplit(",", 1)
        day = stamp[:10]
        if day >= _COPY_BEFORE_DAY:
            continue
        earlier = cache.get(day)
        if earlier is None:
            earlier = (dt.date.fromisoformat(day) - weeks * _WEEK).isoformat()
            cache[day] = earlier
        shifted.append(f"{head},{earlier}{stamp[10:]}")
    return shifted


def _status_chunks(
    rng: random.Random,
    store_ids: Sequence[str],
    whole_second_stores: int,
    weeks: int,
) -> Iterator[list[str]]:
    """
    Yield the status lines of each chunk of stores, each store's rows together and in
    time order (its earliest week first). The rows depend only on the arguments, never on
    the order they are written in.
    """
    plan = polling_plan()
    prefixes = [hour.prefix for hour in plan]
    kinds = _allocate(rng, len(store_ids), _BEHAVIOUR_WEIGHTS, each=True)
    # The store that holds the latest poll, and the stores with one whole-second timestamp
    # (the real file has about 2 such rows in 1.84M; a parser must not need a fraction).
    last_store = rng.randrange(len(store_ids))
    whole = set(rng.sample(range(len(store_ids)), min(whole_second_stores, len(store_ids))))
    shift_caches: list[dict[str, str]] = [{} for _ in range(weeks)]
    for chunk_start in range(0, len(store_ids), _CHUNK_STORES):
        lines: list[str] = []
        for index in range(chunk_start, min(chunk_start + _CHUNK_STORES, len(store_ids))):
            week: list[str] = []
            _store_polls(
                rng,
                store_ids[index],
                _behaviour(kinds[index], rng),
                plan,
                prefixes,
                whole_second_at=rng.randrange(len(plan)) if index in whole else len(plan),
                is_last=index == last_store,
                out=week,
            )
            for earlier in range(weeks - 1, 0, -1):
                lines.extend(_shift_weeks(week, earlier, shift_caches[earlier]))
            lines.extend(week)
        yield lines


def _write_status(
    path: Path,
    rng: random.Random,
    store_ids: Sequence[str],
    whole_second_stores: int,
    *,
    order: str,
    order_rng: random.Random,
    weeks: int,
) -> int:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    chunks = _status_chunks(rng, store_ids, whole_second_stores, weeks)
    rows = 0
    with path.open("w", encoding="utf-8", newline="", buffering=1 << 20) as handle:
        handle.write(STATUS_HEADER + "\n")
        if order == "unordered":
            # About 1.05 rows per store and planned hour (extra polls, few misses).
            expected = len(store_ids) * len(polling_plan()) * weeks * 21 // 20
            with tempfile.TemporaryDirectory(prefix=".shuffle-", dir=path.parent) as scratch:
                rows, _ = write_shuffled(
                    handle, chunks, order_rng, expected_rows=expected, scratch=Path(scratch)
                )
            return rows
        for lines in chunks:
            if order == "grouped":
                order_rng.shuffle(lines)
            handle.writelines(lines)
            rows += len(lines)
    return rows


# ------------------------------------------------------------------------ business hours

Row: TypeAlias = tuple[int, str, str]

#: Shapes of a store's hours, in the real proportions of the 11,116 stores with hours.
_SHAPE_WEIGHTS = {
    "all_day": 0.128,  # 00:00:00-23:59:00 or 00:00:00-23:59:59 every day
    "same": 0.36,  # one interval every day
    "varied": 0.31,  # weekday, weekend and Sunday intervals differ
    "split": 0.17,  # 00:00-x past midnight plus y-23:59:59 on the same day
    "meals": 0.02,  # lunch and dinner: 2 rows per day
    "three_meals": 0.003,  # breakfast too on some days: 3 rows per day
    "late": 0.002,  # closes at 23:55:00
}
#: Shapes the contract defines but the real files lack; only with ``exotic=True``.
_EXOTIC_WEIGHTS = {"overnight": 0.03, "round_the_clock": 0.01}

#: Days covered per store among real stores with hours.
_DAYS_WEIGHTS = {"7": 9050, "6": 1446, "5": 391, "4": 44, "3": 31, "2": 4, "1": 150}

#: The most common single intervals of the real file (stores using it on every row).
_COMMON_INTERVALS: tuple[tuple[str, str, int], ...] = (
    ("11:00", "23:00", 331),
    ("11:00", "21:00", 237),
    ("11:00", "22:00", 157),
    ("06:00", "23:59", 150),
    ("11:00", "20:00", 109),
    ("06:00", "22:00", 104),
    ("11:00", "20:30", 91),
    ("11:00", "21:30", 81),
    ("06:00", "19:00", 78),
    ("10:00", "19:00", 77),
    ("10:00", "23:59", 64),
    ("06:00", "23:59:59", 61),
    ("07:00", "22:00", 48),
    ("11:00", "22:30", 47),
    ("08:00", "22:00", 44),
    ("10:00", "21:00", 43),
    ("10:00", "22:00", 40),
    ("07:00", "21:30", 38),
    ("07:00", "23:59", 37),
    ("12:00", "21:00", 36),
    ("07:00", "21:00", 36),
    ("10:30", "23:59", 36),
    ("10:00", "20:45", 33),
    ("08:00", "14:00", 31),
    ("06:00", "23:00", 30),
    ("10:00", "20:00", 29),
    ("06:00", "21:00", 29),
    ("11:00", "23:45", 29),
)
_OPENS = ("06:00", "06:30", "07:00", "08:00", "09:00", "10:00", "10:30", "11:00", "12:00")
_CLOSES = ("19:00", "20:00", "20:30", "21:00", "21:30", "22:00", "22:30", "23:00", "23:30")
_TAILS = ("01:00",) * 5 + ("00:10", "00:29", "00:30", "00:30", "00:45", "02:00", "03:00")


def _t(text: str) -> str:
    return text if text.count(":") == 2 else text + ":00"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")[:2]
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _later(close: str, by: int) -> str:
    value = _minutes(close) + by
    return "23:59" if value >= 23 * 60 + 59 else _hhmm(value)


def _interval(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.7:
        start, end, _ = rng.choices(_COMMON_INTERVALS, [w for *_, w in _COMMON_INTERVALS])[0]
        return start, end
    return rng.choice(_OPENS), rng.choice(_CLOSES)


def _week(start: str, end: str) -> list[Row]:
    return [(day, _t(start), _t(end)) for day in range(7)]


def _shape_rows(shape: str, rng: random.Random) -> list[Row]:
    """
    Return one store's rows (day, start, end) for a full week of the given shape.
    """
    if shape == "all_day":
        return _week("00:00", rng.choice(("23:59:00", "23:59:00", "23:59:59")))
    if shape == "same":
        return _week(*_interval(rng))
    if shape == "late":
        return _week(rng.choice(_OPENS), "23:55")
    if shape == "varied":
        start, end = _interval(rng)
        rows = [(day, _t(start), _t(end)) for day in range(5)]
        weekend_end = _later(end, rng.choice((0, 30, 60))) if end < "23:59" else end
        rows.append((5, _t(start), _t(weekend_end)))
        sunday_start = _hhmm(min(_minutes(start) + rng.choice((0, 60, 120)), 13 * 60))
        rows.append((6, _t(sunday_start), _t(rng.choice((end, "21:00", "20:00")))))
        return rows
    if shape == "split":
        opens = rng.choice(("10:00", "10:30", "11:00", "11:00", "11:00", "16:00", "08:00"))
        ends = rng.choice(("23:59:59", "23:59:59", "23:59:00"))
        tail = rng.choice(_TAILS)
        rows = []
        for day in range(7):
            if rng.random() < 0.75:
                rows.append((day, "00:00:00", _t(tail)))
            rows.append((day, _t(opens), ends))
        return rows
    if shape in ("meals", "three_meals"):
        lunch = (rng.choice(("11:00", "11:30")), rng.choice(("14:00", "14:30", "15:00")))
        dinner = (rng.choice(("17:00", "17:30")), rng.choice(("21:00", "21:30", "22:00")))
        breakfasts = rng.randint(2, 5) if shape == "three_meals" else 0
        breakfast_days = set(rng.sample(range(6), breakfasts))
        rows = []
        for day in range(7):
            if day == 6 and rng.random() < 0.5:
                rows.append((day, "12:00:00", "21:30:00"))
                continue
            if day in breakfast_days:
                rows.append((day, "07:00:00", "10:00:00"))
            rows.append((day, _t(lunch[0]), _t(lunch[1])))
            rows.append((day, _t(dinner[0]), _t(dinner[1])))
        return rows
    if shape == "overnight":
        # Past midnight as one row, start > end (e.g. Friday 18:00 -> Saturday 02:00).
        start, end = _interval(rng)
        late = rng.choice(("01:00", "02:00", "03:00"))
        return [(day, _t(start), _t(late if day >= 4 else end)) for day in range(7)]
    # round_the_clock: start == end, 24 hours from the opening time.
    opens = rng.choice(("00:00", "06:00", "09:00"))
    return [(day, _t(opens), _t(opens if day in (4, 5) else "22:00")) for day in range(7)]


#: Missing days: Monday is missing most often in the real file, Saturday least.
_DAY_ROWS = (11712, 12161, 12388, 12486, 12599, 12797, 12055)


def _drop_days(rows: list[Row], keep: int, rng: random.Random) -> list[Row]:
    days = list(range(7))
    weights = [13000 - count for count in _DAY_ROWS]  # fewer rows, more often missing
    dropped: list[int] = []
    while len(days) > keep:
        day = rng.choices(days, [weights[d] for d in days])[0]
        days.remove(day)
        dropped.append(day)
    return [row for row in rows if row[0] not in dropped]


def _hours_rows(rng: random.Random, store_ids: Sequence[str], exotic: bool) -> list[str]:
    weights = dict(_SHAPE_WEIGHTS)
    if exotic:
        weights.update(_EXOTIC_WEIGHTS)
    shapes = _allocate(rng, len(store_ids), weights, each=True)
    days = _allocate(rng, len(store_ids), _DAYS_WEIGHTS)
    lines: list[str] = []
    for store_id, shape, keep in zip(store_ids, shapes, days, strict=True):
        rows = _shape_rows(shape, rng)
        if shape not in ("all_day", "late", "three_meals"):
            rows = _drop_days(rows, int(keep), rng)
        rng.shuffle(rows)  # the real file lists a store's days in no particular order
        lines.extend(f"{store_id},{day},{start},{end}\n" for day, start, end in rows)
    return lines


# ------------------------------------------------------------------------------ the set


def write_status(
    path: Path,
    store_ids: Sequence[str],
    *,
    seed: int,
    order: str = "unordered",
    weeks: int = 1,
) -> int:
    """
    Write a status file of polls shaped like the real ones for the given stores.

    For pairing generated polls with hours and zones from elsewhere, such as the real
    files (the benchmark does): the polls follow the same plan and behaviours as
    ``write_sample``'s. ``order`` is one of ``ORDERS`` (rows in no order by default, as
    the real export); ``weeks`` above 1 adds that many weeks of history in all, the earlier
    weeks as copies of the generated week shifted back by whole weeks. The same arguments
    always give the same bytes, and every ``order`` gives the same rows.

    Returns:
        The number of rows written (the header not counted).

    Raises:
        ValueError: ``store_ids`` is empty, ``order`` is unknown or ``weeks`` below 1.
    """
    if not store_ids:
        raise ValueError("store_ids is empty")
    rng = random.Random(seed)
    order_rng = random.Random(rng.getrandbits(64))
    return _write_status(path, rng, store_ids, 5, order=order, order_rng=order_rng, weeks=weeks)


def _write_lines(path: Path, header: str, lines: Sequence[str]) -> int:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(header + "\n")
        handle.writelines(lines)
    return len(lines)


def write_sample(
    output_dir: Path,
    *,
    stores: int,
    seed: int,
    exotic: bool = False,
    order: str = "unordered",
    weeks: int = 1,
) -> dict[str, int]:
    """
    Write a synthetic data set for ``stores`` polled stores into ``output_dir``.

    Among the polled stores about 80% have a zone and hours, 16% a zone only and 4% neither
    (they fall back to America/Chicago and 24x7). A few more stores have hours but no
    polls, with or without a zone. With ``exotic``, some hours rows run past midnight
    (start > end) or last 24 hours (start == end), which the real files never do.
    ``order`` and ``weeks`` shape the status file as in ``write_status``.

    Returns:
        Rows written per file name (headers not counted).

    Raises:
        ValueError: ``stores`` is less than 1, ``order`` is unknown or ``weeks`` below 1.
    """
    if stores < 1:
        raise ValueError(f"stores must be at least 1, got {stores}")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    output_dir.mkdir(parents=True, exist_ok=True)
    master = random.Random(seed)
    ids_rng = random.Random(master.getrandbits(64))
    status_rng = random.Random(master.getrandbits(64))
    hours_rng = random.Random(master.getrandbits(64))
    zones_rng = random.Random(master.getrandbits(64))
    order_rng = random.Random(master.getrandbits(64))

    unpolled_both = max(1, stores // 2000)  # zone and hours, never polled
    unpolled_hours = max(1, stores // 5000)  # hours without a zone, never polled
    seen: set[str] = set()
    all_ids: list[str] = []
    while len(all_ids) < stores + unpolled_both + unpolled_hours:
        store_id = random_store_id(ids_rng)
        if store_id not in seen:
            seen.add(store_id)
            all_ids.append(store_id)
    polled = all_ids[:stores]
    roles = _allocate(ids_rng, stores, {"both": 0.80, "zone": 0.16, "none": 0.04}, each=True)
    with_zone = [sid for sid, role in zip(polled, roles, strict=True) if role != "none"]
    with_hours = [sid for sid, role in zip(polled, roles, strict=True) if role == "both"]
    with_zone += all_ids[stores : stores + unpolled_both]
    with_hours += all_ids[stores:]

    counts = {
        STATUS_FILE: _write_status(
            output_dir / STATUS_FILE,
            status_rng,
            polled,
            5,
            order=order,
            order_rng=order_rng,
            weeks=weeks,
        )
    }
    hours_order = list(with_hours)
    hours_rng.shuffle(hours_order)
    counts[HOURS_FILE] = _write_lines(
        output_dir / HOURS_FILE, HOURS_HEADER, _hours_rows(hours_rng, hours_order, exotic)
    )
    zone_order = list(with_zone)
    zones_rng.shuffle(zone_order)
    zones = _allocate(zones_rng, len(zone_order), ZONE_WEIGHTS)
    counts[ZONES_FILE] = _write_lines(
        output_dir / ZONES_FILE,
        ZONES_HEADER,
        [f"{sid},{zone}\n" for sid, zone in zip(zone_order, zones, strict=True)],
    )
    return counts
