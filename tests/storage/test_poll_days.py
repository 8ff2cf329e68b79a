"""
Polls a day per row (``storemon.storage.polldays``, SQLite's ``poll_days``): the buffer,
the merge, the report's window and the prune, each against a row-per-poll model written
here, and the migration from a row per poll.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storemon.model import from_epoch_us
from storemon.service import build_csv_report
from storemon.storage import polldays, sqlite
from storemon.storage.memory import InMemoryRepository
from storemon.storage.sqlite import SQL, SQLiteRepository

from .conftest import at_us, upsert

DAY = polldays.DAY_US
HOUR = 3_600_000_000

#: Instants on a few days around 1970 (negative ones included) and in 2024, some equal.
instants = st.one_of(
    st.integers(-3 * DAY, 3 * DAY),
    st.integers(-3, 3).map(lambda day: day * DAY),  # midnights: the edges of day rows
    st.integers(at_us("2024-03-01T00:00"), at_us("2024-03-05T00:00")),
)
rows = st.lists(st.tuples(st.sampled_from(["a", "b", "c:1"]), instants, st.booleans()))


def stage_and_merge(
    days: dict[tuple[str, int], tuple[str, str, int]],
    batch: list[tuple[str, int, bool]],
    flush_after: list[int],
) -> int:
    """
    What the SQLite stage does with ``batch``, in Python: gather, drain into pieces after
    the given numbers of rows, merge each day's pieces in order into ``days``.
    """
    buffer = polldays.PollBuffer()
    pieces: dict[tuple[str, int], list[tuple[str, str, bool]]] = {}
    remaining = iter(batch)
    for size in [*flush_after, len(batch)]:
        buffer.take(remaining, size)
        for store_id, day, times, statuses, last_us, distinct in buffer.drain():
            assert last_us == polldays.decode_times(times)[0][-1]
            pieces.setdefault((store_id, day), []).append((times, statuses, distinct))
    changed = 0
    for key in sorted(pieces):
        count, row = polldays.merge_day(days.get(key), pieces[key])
        changed += count
        if row is not None:
            days[key] = row
        else:
            assert count == 0
    return changed


def stage_and_merge_stores(
    days: dict[tuple[str, int], tuple[str, str, int]],
    batch: list[tuple[str, int, bool]],
    flush_after: list[int],
) -> int:
    """
    What the SQLite stage does with ``batch``: gather, drain a row per store after the
    given numbers of rows, merge each store's pieces in order into its stored ``days``.
    """
    buffer = polldays.PollBuffer()
    pieces: dict[str, list[tuple[str, str, bool]]] = {}
    remaining = iter(batch)
    for size in [*flush_after, len(batch)]:
        buffer.take(remaining, size)
        for store_id, times, statuses, distinct in buffer.drain_stores():
            pieces.setdefault(store_id, []).append((times, statuses, distinct))
    changed = 0
    for store_id in sorted(pieces):
        stored = {day: row for (store, day), row in days.items() if store == store_id}
        count, written = polldays.merge_store(stored, pieces[store_id])
        changed += count
        for day, times, statuses, last_us in written:
            days[(store_id, day)] = (times, statuses, last_us)
    return changed


def as_polls(days: dict[tuple[str, int], tuple[str, str, int]]) -> dict[tuple[str, int], bool]:
    polls: dict[tuple[str, int], bool] = {}
    for (store_id, day), (times, statuses, last_us) in days.items():
        decoded = list(polldays.decode_times(times)[0])
        assert decoded == sorted(set(decoded)), "a day's instants are increasing, each once"
        assert all(at // DAY == day for at in decoded), "every instant is of its row's day"
        assert last_us == decoded[-1]
        assert len(statuses) == len(decoded)
        polls.update(
            {(store_id, at): flag == "1" for at, flag in zip(decoded, statuses, strict=True)}
        )
    return polls


@settings(max_examples=300)
@given(
    batches=st.lists(rows, min_size=1, max_size=4),
    flushes=st.lists(st.integers(0, 30), max_size=3),
)
def test_days_keep_the_rule_of_a_row_per_poll(
    batches: list[list[tuple[str, int, bool]]], flushes: list[int]
) -> None:
    """Batches staged in pieces and merged store every poll and count as a row per poll does."""
    model: dict[tuple[str, int], bool] = {}
    days: dict[tuple[str, int], tuple[str, str, int]] = {}
    for batch in batches:
        assert stage_and_merge(days, batch, sorted(flushes)) == upsert(model, batch)
        assert as_polls(days) == model


@settings(max_examples=300)
@given(
    batches=st.lists(rows, min_size=1, max_size=4),
    flushes=st.lists(st.integers(0, 30), max_size=3),
)
def test_store_rows_keep_the_rule_of_a_row_per_poll(
    batches: list[list[tuple[str, int, bool]]], flushes: list[int]
) -> None:
    """A row per store and flush, merged into the stored days, as a row per poll does."""
    model: dict[tuple[str, int], bool] = {}
    days: dict[tuple[str, int], tuple[str, str, int]] = {}
    for batch in batches:
        assert stage_and_merge_stores(days, batch, sorted(flushes)) == upsert(model, batch)
        assert as_polls(days) == model


@settings(max_examples=300)
@given(
    polls=rows,
    later=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(1, 2 * DAY), st.booleans())),
    changed=st.integers(-1, 40),
    seed=st.randoms(use_true_random=False),
)
def test_a_whole_re_export_with_more_polls_keeps_the_rule_of_a_row_per_poll(
    polls: list[tuple[str, int, bool]],
    later: list[tuple[str, int, bool]],
    changed: int,
    seed: random.Random,
) -> None:
    """
    A file re-exported whole in a new order, with later polls (the merge's shortcut for a
    store whose stored polls all come back as stored), and maybe one status changed, is
    stored and counted as a row per poll does.
    """
    model: dict[tuple[str, int], bool] = {}
    days: dict[tuple[str, int], tuple[str, str, int]] = {}
    assert stage_and_merge_stores(days, polls, []) == upsert(model, polls)
    newest = max((at for _store, at in model), default=0)
    again = [(store, at, active) for (store, at), active in model.items()]
    if 0 <= changed < len(again):
        store, at, active = again[changed]
        again[changed] = (store, at, not active)
    again += [(store, newest + step, active) for store, step, active in later]
    seed.shuffle(again)
    assert stage_and_merge_stores(days, again, []) == upsert(model, again)
    assert as_polls(days) == model


@settings(max_examples=300)
@given(polls=rows, cuts=st.lists(st.integers(0, 30), max_size=4))
def test_polls_later_than_the_stored_ones_keep_the_rule_of_a_row_per_poll(
    polls: list[tuple[str, int, bool]], cuts: list[int]
) -> None:
    """
    Batches each at or after every instant of the ones before (hourly appends, the merge's
    shortcut for them included: across midnight, on an instant stored already, a store's
    first day) are stored and counted as a row per poll does.
    """
    ordered = sorted(polls, key=lambda row: row[1])
    bounds = [0, *sorted(cuts), len(ordered)]
    model: dict[tuple[str, int], bool] = {}
    days: dict[tuple[str, int], tuple[str, str, int]] = {}
    for start, end in itertools.pairwise(bounds):
        batch = ordered[start:end]
        assert stage_and_merge_stores(days, batch, []) == upsert(model, batch)
        assert as_polls(days) == model


def test_an_hour_appended_to_a_day_is_added_at_its_end() -> None:
    """Polls after every stored one of their day are appended to the row as they are."""
    days: dict[tuple[str, int], tuple[str, str, int]] = {}
    start = at_us("2024-03-01T00:10")
    stage_and_merge(days, [("a", start + h * HOUR, h % 2 == 0) for h in range(5)], [])
    before = days[("a", start // DAY)]
    assert stage_and_merge(days, [("a", start + 5 * HOUR, True)], []) == 1
    after = days[("a", start // DAY)]
    assert after[0].startswith(before[0])
    assert after[1] == before[1] + "1"
    assert after[2] == start + 5 * HOUR
    assert stage_and_merge(days, [("a", start + 5 * HOUR, True)], []) == 0  # a replay


@given(
    polls=st.dictionaries(instants, st.booleans(), min_size=1),
    since=instants,
    length=st.integers(0, 4 * DAY),
)
def test_the_window_is_the_week_and_the_latest_poll_before_it(
    polls: dict[int, bool], since: int, length: int
) -> None:
    """window() keeps the polls in [since, as_of] and the latest one before since."""
    as_of = since + length
    ordered = sorted(polls)
    times = polldays.encode_times(polldays.array.array("q", ordered))
    statuses = "".join("1" if polls[at] else "0" for at in ordered)
    got, packed, flags = polldays.window(times, statuses, since, as_of)
    before = [at for at in ordered if at < since][-1:]
    expected = before + [at for at in ordered if since <= at <= as_of]
    assert list(got) == expected
    assert flags == "".join("1" if polls[at] else "0" for at in expected)
    assert packed == b"".join(at.to_bytes(8, "big", signed=True) for at in expected)


@given(polls=st.dictionaries(instants, st.booleans(), min_size=1), cut=instants)
def test_a_prune_keeps_the_latest_poll_before_the_cut(polls: dict[int, bool], cut: int) -> None:
    """pruned() removes the polls before the cut but the latest, and nothing else."""
    days: dict[tuple[str, int], tuple[str, str, int]] = {}
    stage_and_merge(days, [("a", at, active) for at, active in polls.items()], [])
    mine = sorted((day, times, statuses) for (_, day), (times, statuses, _) in days.items())
    upto = [row for row in mine if row[0] <= cut // DAY]
    removed, deleted, rewritten = polldays.pruned(upto, cut)
    for day in deleted:
        del days[("a", day)]
    for day, times, statuses, last_us in rewritten:
        days[("a", day)] = (times, statuses, last_us)
    older = sorted(at for at in polls if at < cut)
    latest_before = older[-1:]
    kept = {at: active for at, active in polls.items() if at >= cut or at in latest_before}
    assert removed == max(len(older) - 1, 0)
    assert as_polls(days) == {("a", at): active for at, active in kept.items()}


def test_times_that_are_not_sixteen_hex_digits_are_refused() -> None:
    for times in ["000000000000000g", "00000000 0000000", "0" * 15]:
        try:
            polldays.decode_times(times)
        except ValueError:
            continue
        raise AssertionError(f"{times!r} was read")


async def test_polls_of_a_version_5_database_become_days(tmp_path: Path) -> None:
    """The migration turns polls stored in no order (1969 included) into days, same report."""
    path = tmp_path / "v5.db"
    connection = sqlite3.connect(path)
    for migration in SQL.migrations[:5]:
        for statement in sqlite.split_statements(migration.script):
            connection.execute(statement)
    start = at_us("2024-03-01T00:00")
    polls = [
        (store, start + ((h * 7919) % 200) * HOUR + 17 * h, (h * 31 + len(store)) % 3 != 0)
        for store in ("s1", "s2:x", "s3")
        for h in range(200)
    ]
    polls += [("old", -DAY - 5, True), ("old", -5, False), ("old", 3, True)]
    with connection:
        connection.executemany("INSERT INTO polls VALUES (?, ?, ?)", polls)
        connection.execute("PRAGMA user_version = 5")
    connection.close()
    memory = InMemoryRepository()
    await memory.add_polls(polls)
    as_of = from_epoch_us(start + 200 * HOUR)
    since = from_epoch_us(start + 30 * HOUR)
    async with SQLiteRepository(str(path)) as repo:
        assert await repo.latest_poll_at() == await memory.latest_poll_at()
        for store_id in ("s1", "s2:x", "s3", "old"):
            for window in ((since, as_of), (from_epoch_us(-2 * DAY), from_epoch_us(DAY))):
                got = await repo.snapshot(store_id, since=window[0], as_of=window[1])
                want = await memory.snapshot(store_id, since=window[0], as_of=window[1])
                assert (got is None) == (want is None)
                if got is not None and want is not None:
                    assert list(got.poll_at_us) == list(want.poll_at_us)
                    assert list(got.poll_active) == list(want.poll_active)
        # The same rows again change nothing: the days hold exactly the polls.
        assert await repo.add_polls(polls) == 0
    check = sqlite3.connect(path)
    try:
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master")}
        day_rows = check.execute("SELECT count(*) FROM poll_days").fetchone()[0]
    finally:
        check.close()
    assert "polls" not in tables
    assert "poll_days" in tables
    assert day_rows == len({(store, at // DAY) for store, at, _ in polls})


async def test_a_day_row_no_version_writes_fails_no_report(tmp_path: Path) -> None:
    """
    A day row that cannot be read (not hexadecimal, or lengths that do not match) leaves
    its store out of a report with the reason; a prune passes it by, and new polls for
    that day replace it.
    """
    start = at_us("2024-03-04T00:00")
    polls = [(store, start + h * HOUR, h % 4 != 0) for store in "abc" for h in range(72)]
    path = tmp_path / "bad.db"
    async with SQLiteRepository(str(path)) as repo:
        await repo.add_polls(polls)
    day = (start + 30 * HOUR) // DAY
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "UPDATE poll_days SET times = 'zz' || substr(times, 3)"
            " WHERE store_id = 'a' AND day = ?",
            (day,),
        )
        connection.execute(
            "UPDATE poll_days SET statuses = statuses || '1' WHERE store_id = 'b' AND day = ?",
            (day,),
        )
    connection.close()
    as_of = from_epoch_us(start + 71 * HOUR)
    async with SQLiteRepository(str(path)) as repo:
        report = await build_csv_report(repo, as_of=as_of)
        assert [line.split(",")[0] for line in report.csv.splitlines()[1:]] == ["c"]
        assert [item.store_id for item in report.skipped] == ["a", "b"]
        assert all("cannot be read" in item.reason for item in report.skipped)
        snapshot = await repo.snapshot("a", since=from_epoch_us(start), as_of=as_of)
        assert snapshot is not None
        assert snapshot.problem is not None
        # A cut inside the bad rows' day: c is pruned, the bad rows fail nothing.
        assert await repo.prune_polls(from_epoch_us(start + 30 * HOUR)) >= 29
        report = await build_csv_report(repo, as_of=as_of)
        assert [item.store_id for item in report.skipped] == ["a", "b"]
        # The day's polls again: the unreadable rows are replaced, every row counted new.
        again = [poll for poll in polls if poll[0] in "ab" and poll[1] // DAY == day]
        assert await repo.add_polls(again) == len(again)
        report = await build_csv_report(repo, as_of=as_of)
        assert [line.split(",")[0] for line in report.csv.splitlines()[1:]] == ["a", "b", "c"]
        assert report.skipped == ()


def stored_polls(path: Path) -> dict[tuple[str, int], bool]:
    """Every poll of a SQLite file's day rows, checked as ``as_polls`` checks them."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT store_id, day, times, statuses, last_us FROM poll_days")
        return as_polls(
            {(store, day): (times, flags, last) for store, day, times, flags, last in rows}
        )
    finally:
        connection.close()


async def test_an_hourly_append_straight_from_the_buffer_leaves_unreadable_rows_to_python(
    tmp_path: Path,
) -> None:
    """
    An append whose every store brings polls once and of one day is written by one
    statement per store (``upsert_poll_append``); a stored row it must not lengthen (one
    that cannot be read, or a poll not after its last) sends the whole append the stage's
    way, which replaces the unreadable row: what is stored and counted is what a row per
    poll stores and counts.
    """
    start = at_us("2024-03-04T00:10")
    first = [(store, start + h * HOUR, h % 3 != 0) for store in "abfmn" for h in range(5)]
    path = tmp_path / "append.db"
    model: dict[tuple[str, int], bool] = {}
    async with SQLiteRepository(str(path)) as repo:
        assert await repo.add_polls(first) == upsert(model, first)
    hour = start + 5 * HOUR
    clean = [("a", hour, True), ("b", hour, False), ("c", hour, True), ("a", hour + HOUR, False)]
    async with SQLiteRepository(str(path)) as repo:  # each store once and of one day
        assert await repo.add_polls(clean[:3]) == upsert(model, clean[:3])
        assert await repo.add_polls(clean[3:]) == upsert(model, clean[3:])
    assert stored_polls(path) == model
    later = hour + 2 * HOUR
    for store, damage, batch in (
        # A status that is not 0 or 1; three digits more; four characters more, after a
        # NUL; none (a poll before a's last one).
        ("f", "statuses = '2' || substr(statuses, 2)", [("a", later, True), ("f", later, False)]),
        ("m", "times = times || 'abc'", [("a", later + 1, True), ("m", later, True)]),
        ("n", "times = times || char(0) || 'abc'", [("b", later, True), ("n", later, True)]),
        (None, None, [("a", later - HOUR, False), ("b", later + HOUR, True)]),
    ):
        if store is not None:
            connection = sqlite3.connect(path)
            with connection:  # the row cannot be read: the new polls replace it
                connection.execute(f"UPDATE poll_days SET {damage} WHERE store_id = ?", (store,))
            connection.close()
            model = {key: active for key, active in model.items() if key[0] != store}
        async with SQLiteRepository(str(path)) as repo:
            assert await repo.add_polls(batch) == upsert(model, batch)
        assert stored_polls(path) == model


async def test_an_hourly_append_merged_in_sql_keeps_the_rule_of_a_row_per_poll(
    tmp_path: Path,
) -> None:
    """
    One stage beside stored days: the stores whose polls lengthen their day or start a
    new one (a new store, a new day, days before 1970) are merged in SQL, the others (a
    poll before or on the last stored one, polls across midnight, an instant twice, an
    unreadable stored row) by Python; what is stored and counted is what a row per poll
    stores and counts.
    """
    start = at_us("2024-03-04T00:10")
    first = [(store, start + h * HOUR, h % 3 != 0) for store in "abcefghn" for h in range(5)]
    first += [("old", -DAY + h * HOUR, h % 2 == 0) for h in range(3)]
    path = tmp_path / "append.db"
    model: dict[tuple[str, int], bool] = {}
    async with SQLiteRepository(str(path)) as repo:
        assert await repo.add_polls(first) == upsert(model, first)
    connection = sqlite3.connect(path)
    with connection:  # f's and n's rows cannot be read: the new polls replace them
        connection.execute(
            "UPDATE poll_days SET statuses = '2' || substr(statuses, 2) WHERE store_id = 'f'"
        )
        # Four characters more, after a NUL: SQLite's length() would not count them.
        connection.execute(
            "UPDATE poll_days SET times = times || char(0) || 'abc' WHERE store_id = 'n'"
        )
    connection.close()
    model = {key: active for key, active in model.items() if key[0] not in "fn"}
    hour = start + 5 * HOUR
    batches = [
        [
            ("a", hour, True),  # after the day's last poll: appended in SQL
            ("b", start + 2 * HOUR + 1, False),  # before it
            ("c", start + 4 * HOUR, True),  # on it, another status
            ("d", hour, True),  # a new store: written in SQL
            ("e", start + DAY, True),  # a new day: written in SQL
            ("f", hour, False),  # after an unreadable row
            ("n", hour, True),  # after a row with a NUL in its times
            ("g", hour, True),  # an instant twice, the later row wins
            ("g", hour, False),
            ("h", start + 23 * HOUR, True),  # across midnight
            ("h", start + 24 * HOUR, True),
            ("old", -DAY + 5 * HOUR, True),  # a day before 1970, appended in SQL
        ],
        [("a", hour + HOUR, False), ("b", hour + HOUR, True), ("old", -DAY + 6 * HOUR, False)],
        [("a", hour + HOUR, False)],  # a replay: nothing new, nothing appended
    ]
    for batch in batches:
        async with SQLiteRepository(str(path)) as repo:
            assert await repo.add_polls(batch) == upsert(model, batch)
        assert stored_polls(path) == model


def test_take_batches_gathers_columns_as_rows() -> None:
    """
    Batches of columns (statuses as bytes, as the parsing process sends them) and of
    tuples gather the same polls; an empty batch does not end the taking, and each call
    stops at the first batch that reaches the limit.
    """
    import array

    from storemon.model import PollColumns

    rows = [("b", 5, True), ("a", 3, False), ("b", 1, False), ("a", 3, True), ("c", -7, True)]
    columns = PollColumns(
        [r[0] for r in rows], array.array("q", [r[1] for r in rows]), bytes(r[2] for r in rows)
    )
    by_tuples, by_columns = polldays.PollBuffer(), polldays.PollBuffer()
    by_tuples.take(iter(rows), len(rows))
    batches = iter([[], columns[:2], [], columns[2:], []])
    assert by_columns.take_batches(batches, 1) == 2
    assert by_columns.take_batches(batches, 100) == 3
    assert by_columns.take_batches(batches, 100) == 0
    assert by_columns.size == by_tuples.size == len(rows)
    assert list(by_columns.drain_stores()) == list(by_tuples.drain_stores())
    whole = polldays.PollBuffer()  # the columns themselves, not sliced into tuples
    assert whole.take_batches(iter([columns]), 1) == len(rows)
    again = polldays.PollBuffer()
    again.take(iter(rows), len(rows))
    assert list(whole.drain_stores()) == list(again.drain_stores())


@given(batches=st.lists(rows, max_size=4), as_columns=st.lists(st.booleans(), min_size=4))
def test_the_day_span_is_of_every_poll_gathered_since_the_last_drain(
    batches: list[list[tuple[str, int, bool]]], as_columns: list[bool]
) -> None:
    """Kept as batches come, as tuples or as columns; forgotten when the buffer drains."""
    import array

    from storemon.model import PollColumns

    buffer = polldays.PollBuffer()
    for batch, columns in zip(batches, as_columns, strict=False):
        if columns:
            ids, times, actives = zip(*batch, strict=True) if batch else ((), (), ())
            buffer.take_batches(
                iter([PollColumns(list(ids), array.array("q", times), bytes(actives))]), 1
            )
        else:
            buffer.take(iter(batch), len(batch))
    polls = [at for batch in batches for _, at, _ in batch]
    expected = (min(polls) // DAY, max(polls) // DAY) if polls else None
    assert buffer.day_span() == expected
    list(buffer.drain_stores())
    assert buffer.day_span() is None
    buffer.take(iter([("a", 5 * DAY + 1, True)]), 1)
    assert buffer.day_span() == (5, 5)


def test_a_store_with_one_poll_drains_as_one_with_more() -> None:
    # An hourly append brings one poll a store, which skips the sort: it must come out as
    # the same row the general path makes (instant, status text, each instant once).
    one = polldays.PollBuffer()
    one.take(iter([("b", 7, False), ("a", -3, True)]), 2)
    assert list(one.drain_stores()) == [
        ("a", "fffffffffffffffd", "1", True),
        ("b", "0000000000000007", "0", True),
    ]
    two = polldays.PollBuffer()
    two.take(iter([("a", 9, False), ("a", 7, True), ("a", 7, False)]), 3)
    assert list(two.drain_stores()) == [
        ("a", "000000000000000700000000000000070000000000000009", "100", False)
    ]
    assert one.size == two.size == 0


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(rows, min_size=1, max_size=4), path=st.sampled_from(["buffer", "stage"]))
def test_sqlite_merges_from_its_buffer_or_its_stage_as_a_row_per_poll(
    tmp_path_factory: pytest.TempPathFactory,
    batches: list[list[tuple[str, int, bool]]],
    path: str,
) -> None:
    """
    A stage never flushed is merged straight from the buffer when it holds more than an
    append's polls a store, else from the stage table (where an append is merged in SQL):
    either way what is stored and counted is what a row per poll stores and counts.
    """
    import asyncio

    database = tmp_path_factory.mktemp("merge") / "merge.db"
    model: dict[tuple[str, int], bool] = {}
    threshold = -1 if path == "buffer" else 10**9

    async def run() -> None:
        for batch in batches:
            async with SQLiteRepository(str(database)) as repo:
                assert await repo.add_polls(batch) == upsert(model, batch)
            assert stored_polls(database) == model

    original = polldays.APPEND_POLLS_PER_STORE
    polldays.APPEND_POLLS_PER_STORE = threshold
    try:
        asyncio.run(run())
    finally:
        polldays.APPEND_POLLS_PER_STORE = original
