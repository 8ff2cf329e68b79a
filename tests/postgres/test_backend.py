"""
The PostgreSQL backend beyond the contract: the CLI against SQLite, migrations, errors,
the report's snapshot, and the shared job queue and refresh.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("asyncpg", reason="the [postgres] extra is not installed")

import asyncpg

from storemon.errors import StorageError
from storemon.model import SpecialHoursRow, from_epoch_us
from storemon.service import build_csv_report
from storemon.storage import columns, polldays
from storemon.storage import postgres as backend
from storemon.storage.memory import InMemoryRepository
from storemon.storage.postgres import PostgresRepository
from tests.integration.conftest import STATUS_HEADER, cli, write_inputs
from tests.server.process import free_port
from tests.storage.conftest import upsert

from .support import base_url, drop_schema, new_schema, require_postgres, schema_url

pytestmark = pytest.mark.postgres

BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _ingest_json(db: str, *args: str, expect: int = 0) -> dict[str, dict[str, object]]:
    run = cli("ingest", "--db", db, "--json", *args)
    assert run.status == expect, run.err
    return {item["kind"]: item for item in json.loads(run.out)["sources"]}


def test_cli_ingest_and_report_equal_sqlite(tmp_path: Path, pg_url: str) -> None:
    """storemon ingest and report give PostgreSQL the same outcome as SQLite, step by step."""
    inputs = write_inputs(tmp_path / "in", stores=30)
    with inputs.status.open("a") as status:
        status.write("123,sleeping,2023-01-25 10:00:00 UTC\n")  # one rejected row
    sqlite_url = f"sqlite:///{tmp_path}/x.db"
    args = [*inputs.args(), "--rejects"]
    runs = {
        url: _ingest_json(url, *args, str(tmp_path / f"rejects-{i}.csv"), expect=3)
        for i, url in enumerate((sqlite_url, pg_url))
    }
    assert (tmp_path / "rejects-0.csv").read_text() == (tmp_path / "rejects-1.csv").read_text()
    strip = ("seconds",)
    first = [{k: v for k, v in s.items() if k not in strip} for s in runs[sqlite_url].values()]
    assert first == [{k: v for k, v in s.items() if k not in strip} for s in runs[pg_url].values()]

    def report(url: str) -> str:
        run = cli("report", "--db", url)
        assert run.status == 0, run.err
        return run.out

    assert report(pg_url) == report(sqlite_url)
    # Again: unchanged. Grown: only the new rows are read.
    again = _ingest_json(pg_url, *inputs.args(), expect=0)
    assert {item["mode"] for item in again.values()} == {"unchanged"}
    with inputs.status.open("a") as status:
        status.write(f"{10**18},inactive,2023-01-25 18:13:00 UTC\n")
    for url in (sqlite_url, pg_url):
        grown = _ingest_json(url, "--status", str(inputs.status))
        assert (grown["status"]["mode"], grown["status"]["read"]) == ("appended", 1)
    assert report(pg_url) == report(sqlite_url)


def test_header_only_status_then_bad_file(tmp_path: Path, pg_url: str) -> None:
    """A refused source exits 1 and stores nothing of itself, as on SQLite."""
    good = tmp_path / "status.csv"
    good.write_text(STATUS_HEADER + "1,active,2023-01-25 10:00:00 UTC\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("no,header,here\n1,active,2023-01-25 11:00:00 UTC\n")
    _ingest_json(pg_url, "--status", str(good))
    run = cli("ingest", "--db", pg_url, "--status", str(bad))
    assert run.status == 1
    assert cli("report", "--db", pg_url).out.count("\n") == 2  # header and store 1


async def _run_script(url: str, script: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(script)
    finally:
        await connection.close()


async def test_version_1_schema_is_upgraded_in_place() -> None:
    """A schema at version 1 with data is upgraded on open; its data and jobs are kept."""
    require_postgres()
    schema = new_schema()
    url = schema_url(schema)
    version_1 = backend.SQL.migrations[0].script
    old_job = "INSERT INTO reports VALUES ('old', 'Running', 1, 1, NULL, NULL, NULL);"
    done = "INSERT INTO reports VALUES ('done', 'Complete', 1, 0, 2, E'h\\na\\nb\\n', NULL);"
    try:
        await _run_script(
            base_url(),
            f"CREATE SCHEMA {schema}; SET search_path = {schema};"
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now());"
            "INSERT INTO schema_migrations VALUES (1, '0001_initial.sql');"
            f"{version_1} INSERT INTO polls VALUES ('s', 5, true); {old_job} {done}",
        )
        async with PostgresRepository(url) as repo:
            assert await repo.latest_poll_at() is not None
            # Version 3 counted the rows of the stored report.
            assert [(job.report_id, job.rows) for job in await repo.list_reports(5)] == [
                ("old", None),
                ("done", 2),
            ]
            # A job Running before leases existed is taken over at once.
            job = await repo.claim_report("w", lease=dt.timedelta(seconds=5))
            assert job is not None
            assert job.report_id == "old"
            # Version 4: jobs from before it have no maximum gap; special hours are stored.
            assert job.max_gap is None
            closed = ("s", SpecialHoursRow(dt.date(2024, 12, 25)))
            assert await repo.replace_special_hours([closed]) == 1
            assert await repo.special_hours_rows() == [closed]
            # Version 5 listed the stores with polls, which shards are planned from.
            assert await repo.plan_shards("old", max_stores=1) == 1
        connection = await asyncpg.connect(base_url())
        try:
            versions = await connection.fetch(f"SELECT version FROM {schema}.schema_migrations")
        finally:
            await connection.close()
        assert sorted(row[0] for row in versions) == [
            migration.version for migration in backend.SQL.migrations
        ]
    finally:
        drop_schema(url)


async def test_polls_of_a_version_5_schema_become_days() -> None:
    """
    Migration 6 turns polls stored in no order (1969 included) into the day rows an ingest
    writes, with the snapshots of the memory backend; the stores table stays as it was.
    """
    require_postgres()
    schema = new_schema()
    url = schema_url(schema)
    hour, day = 3_600_000_000, polldays.DAY_US
    start = backend.to_epoch_us(BASE)
    polls = [
        (store, start + ((h * 7919) % 200) * hour + 17 * h, (h * 31 + len(store)) % 3 != 0)
        for store in ("s1", "s2:x", "s3")
        for h in range(200)
    ]
    polls += [("old", -day - 5, True), ("old", -5, False), ("old", 3, True), ("old", -day, False)]
    try:
        connection = await asyncpg.connect(base_url())
        try:
            await connection.execute(
                f"CREATE SCHEMA {schema}; SET search_path = {schema};"
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now());"
            )
            for migration in backend.SQL.migrations[:5]:
                await connection.execute(migration.script)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            await connection.copy_records_to_table(
                "polls", records=polls, columns=["store_id", "at_us", "active"], schema_name=schema
            )
            await connection.execute("INSERT INTO stores SELECT DISTINCT store_id FROM polls")
        finally:
            await connection.close()
        memory = InMemoryRepository()
        await memory.add_polls(polls)
        since, as_of = start + 30 * hour, start + 200 * hour
        async with PostgresRepository(url) as repo:
            assert await repo.latest_poll_at() == await memory.latest_poll_at()
            for store_id in ("s1", "s2:x", "s3", "old"):
                for first, last in ((since, as_of), (-2 * day, day), (-day, -1)):
                    window = {"since": from_epoch_us(first), "as_of": from_epoch_us(last)}
                    got = await repo.snapshot(store_id, **window)
                    want = await memory.snapshot(store_id, **window)
                    assert (got is None) == (want is None)
                    if got is not None and want is not None:
                        assert list(got.poll_at_us) == list(want.poll_at_us)
                        assert list(got.poll_active) == list(want.poll_active)
            # The same rows again change nothing: the days hold exactly the polls.
            assert await repo.add_polls(polls) == 0
            async with repo._acquire() as connection:
                stored = await connection.fetch(
                    "SELECT store_id, day, times, statuses, last_us FROM poll_days"
                    " ORDER BY store_id, day"
                )
                polls_table = await connection.fetchval("SELECT to_regclass('polls')")
                stores = await connection.fetch("SELECT store_id FROM stores ORDER BY store_id")
        buffer = polldays.PollBuffer()
        buffer.take(iter(polls), len(polls))
        assert [tuple(row) for row in stored] == [day[:5] for day in buffer.drain()]
        assert polls_table is None
        assert [row[0] for row in stores] == ["old", "s1", "s2:x", "s3"]
    finally:
        drop_schema(url)


async def test_pieces_merge_as_a_row_per_poll(
    pg: PostgresRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Polls staged in many pieces (a flush every five rows) and merged in small batches (two
    store rows, five day rows a fetch) store every poll and count as a row-per-poll upsert
    does: duplicates in and across batches, 1969 instants, midnights, days new, appended
    to, and rewritten.
    """
    monkeypatch.setattr(backend, "BATCH_ROWS", 5)
    monkeypatch.setattr(backend, "DAY_BATCH_ROWS", 5)
    monkeypatch.setattr(backend, "STORE_BATCH_ROWS", 2)  # a store's pieces span fetches
    monkeypatch.setattr(backend, "STAGE_FLUSH_POLLS", 5)
    day = polldays.DAY_US
    pick = random.Random(6)
    instants = [
        *range(-2 * day, 2 * day, day // 5),
        -1,
        0,
        day,
        day - 1,
        *(d * day for d in (-1, 1)),
    ]
    model: dict[tuple[str, int], bool] = {}
    for _ in range(6):
        batch = [
            (pick.choice(["a", "b", "c:1"]), pick.choice(instants), pick.random() < 0.5)
            for _ in range(pick.randrange(1, 40))
        ]
        assert await pg.add_polls(batch) == upsert(model, batch)
        async with pg._acquire() as connection:
            rows = await connection.fetch("SELECT store_id, day, times, statuses FROM poll_days")
        stored = {
            (store_id, at_us): flag == 1 for store_id, at_us, flag in polldays.each_poll(rows)
        }
        assert stored == model


async def test_an_hourly_append_straight_from_the_buffer_leaves_unreadable_rows_to_python(
    pg: PostgresRepository,
) -> None:
    """
    An append whose every store brings polls once and of one day is one statement
    (``upsert_poll_appends``), new stores listed; a stored row it must not lengthen (one
    that cannot be read, or a poll not after its last) undoes it, and the stage's way
    replaces the unreadable row: what is stored and counted is a row per poll's.
    """
    hour = 3_600_000_000
    start = backend.to_epoch_us(dt.datetime(2024, 3, 4, 0, 10, tzinfo=dt.UTC))
    model: dict[tuple[str, int], bool] = {}

    async def stored() -> tuple[dict[tuple[str, int], bool], list[str]]:
        async with pg._acquire() as connection:
            rows = await connection.fetch("SELECT store_id, day, times, statuses FROM poll_days")
            lasts = await connection.fetch("SELECT times, last_us FROM poll_days")
            stores = await connection.fetch("SELECT store_id FROM stores ORDER BY store_id")
        for times, last_us in lasts:  # each row's instants in order, the last one noted
            instants = list(polldays.decode_times(times)[0])
            assert instants == sorted(set(instants))
            assert instants[-1] == last_us
        polls = {(store, at): flag == 1 for store, at, flag in polldays.each_poll(rows)}
        return polls, [row[0] for row in stores]

    first = [(store, start + h * hour, h % 3 != 0) for store in "abfm" for h in range(5)]
    assert await pg.add_polls(first) == upsert(model, first)
    later = start + 6 * hour
    clean = [("a", later, True), ("b", later, False), ("c", later, True)]  # c: a new store
    assert await pg.add_polls(clean) == upsert(model, clean)
    assert await stored() == (model, ["a", "b", "c", "f", "m"])
    for store, damage, batch in (
        # A status that is not 0 or 1; three digits more; none (a poll before a's last).
        (
            "f",
            "statuses = '2' || substr(statuses, 2)",
            [("a", later + 1, True), ("f", later, False)],
        ),
        ("m", "times = times || 'abc'", [("b", later + 1, True), ("m", later, True)]),
        (None, None, [("a", later - hour, False), ("b", later + hour, True)]),
    ):
        if store is not None:
            async with pg._acquire() as connection:
                await connection.execute(
                    f"UPDATE poll_days SET {damage} WHERE store_id = $1", store
                )
            model = {key: active for key, active in model.items() if key[0] != store}
        assert await pg.add_polls(batch) == upsert(model, batch)
        assert (await stored())[0] == model


async def test_a_day_row_no_version_writes_fails_no_report(pg: PostgresRepository) -> None:
    """
    A day row that cannot be read (not hexadecimal, or lengths that do not match) leaves
    its store out of a report with the reason; a prune passes it by, and new polls for
    that day replace it (as on SQLite).
    """
    hour, day = 3_600_000_000, polldays.DAY_US
    start = backend.to_epoch_us(dt.datetime(2024, 3, 4, tzinfo=dt.UTC))
    polls = [(store, start + h * hour, h % 4 != 0) for store in "abc" for h in range(72)]
    await pg.add_polls(polls)
    bad_day = (start + 30 * hour) // day
    async with pg._acquire() as connection:
        await connection.execute(
            "UPDATE poll_days SET times = 'zz' || substr(times, 3)"
            " WHERE store_id = 'a' AND day = $1",
            bad_day,
        )
        await connection.execute(
            "UPDATE poll_days SET statuses = statuses || '1' WHERE store_id = 'b' AND day = $1",
            bad_day,
        )
    as_of = from_epoch_us(start + 71 * hour)
    report = await build_csv_report(pg, as_of=as_of)
    assert [line.split(",")[0] for line in report.csv.splitlines()[1:]] == ["c"]
    assert [item.store_id for item in report.skipped] == ["a", "b"]
    assert all("cannot be read" in item.reason for item in report.skipped)
    snapshot = await pg.snapshot("a", since=from_epoch_us(start), as_of=as_of)
    assert snapshot is not None
    assert snapshot.problem is not None
    # A cut inside the bad rows' day: c is pruned, the bad rows fail nothing.
    assert await pg.prune_polls(from_epoch_us(start + 30 * hour)) >= 29
    report = await build_csv_report(pg, as_of=as_of)
    assert [item.store_id for item in report.skipped] == ["a", "b"]
    # The day's polls again: the unreadable rows are replaced, every row counted new.
    again = [poll for poll in polls if poll[0] in "ab" and poll[1] // day == bad_day]
    assert await pg.add_polls(again) == len(again)
    report = await build_csv_report(pg, as_of=as_of)
    assert [line.split(",")[0] for line in report.csv.splitlines()[1:]] == ["a", "b", "c"]
    assert report.skipped == ()


async def test_newer_schema_is_refused(pg_url: str) -> None:
    """A schema newer than the code is refused and left as it is."""
    async with PostgresRepository(pg_url):
        pass
    schema = pg_url.rsplit("=", 1)[1]
    await _run_script(base_url(), f"INSERT INTO {schema}.schema_migrations VALUES (99, 'x.sql')")
    with pytest.raises(StorageError, match="newer than this storemon"):
        async with PostgresRepository(pg_url):
            pass


async def test_concurrent_opens_migrate_once(pg_url: str) -> None:
    """Processes opening a new schema at once all succeed; each migration runs once."""
    repos = [PostgresRepository(pg_url, pool_max_size=1) for _ in range(4)]
    await asyncio.gather(*(repo.open() for repo in repos))
    try:
        assert await repos[0].latest_poll_at() is None
    finally:
        await asyncio.gather(*(repo.close() for repo in repos))


async def test_unreachable_server_and_bad_role_fail_in_one_line() -> None:
    """A server that is down or refuses the role gives a one-line StorageError."""
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    with pytest.raises(StorageError, match="unreachable") as caught:
        async with PostgresRepository(down):
            pass
    assert "\n" not in str(caught.value)
    with pytest.raises(StorageError, match="no_such_role") as caught:
        async with PostgresRepository("postgresql://no_such_role@127.0.0.1:5432/test"):
            pass
    assert "\n" not in str(caught.value)


def test_serve_exits_1_in_one_line_when_the_server_is_down(tmp_path: Path) -> None:
    """storemon serve on a database server that is down exits 1 with one line."""
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    run = subprocess.run(
        [sys.executable, "-m", "storemon", "serve", "--db", url, "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stderr
    assert "unreachable" in run.stderr
    assert "Traceback" not in run.stderr


def test_cli_exits_1_in_one_line_when_the_server_is_down() -> None:
    """storemon report on a server that is down exits 1 with one line, no traceback."""
    run = cli("report", "--db", f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    assert run.status == 1
    assert run.err.count("\n") == 1, run.err
    assert "unreachable" in run.err


async def test_report_reads_one_snapshot_while_data_changes(pg_url: str) -> None:
    """Stores streamed for a report come from the data as it was when the stream began."""
    at_us = 1_700_000_000_000_000
    async with PostgresRepository(pg_url) as reader, PostgresRepository(pg_url) as writer:
        await writer.add_polls([(f"s{i}", at_us, True) for i in range(5)])
        as_of = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        stream = reader.snapshots(since=as_of - dt.timedelta(days=400), as_of=as_of)
        first = await anext(stream)
        await writer.add_polls([(f"s{i}", at_us, False) for i in range(5)])
        await writer.add_polls([("new", at_us, True)])
        rest = [item async for item in stream]
        seen = [first, *rest]
        assert sorted(item.store_id for item in seen) == [f"s{i}" for i in range(5)]
        assert all(list(item.poll_active) == [True] for item in seen)


async def test_each_job_is_claimed_once_across_processes(pg_url: str) -> None:
    """Twenty jobs claimed by six workers over two pools go to exactly one worker each."""
    async with PostgresRepository(pg_url) as one, PostgresRepository(pg_url) as two:
        for number in range(20):
            await one.create_report(
                f"r{number:02d}", as_of=BASE, created_at=BASE + dt.timedelta(seconds=number)
            )
        claimed: list[str] = []

        async def worker(repo: PostgresRepository, name: str) -> None:
            while job := await repo.claim_report(name, lease=dt.timedelta(seconds=60)):
                claimed.append(job.report_id)
                await asyncio.sleep(0)

        await asyncio.gather(*(worker((one, two)[n % 2], f"w{n}") for n in range(6)))
        assert sorted(claimed) == [f"r{number:02d}" for number in range(20)]
        assert await one.queued_reports() == 0


async def test_refresh_is_claimed_once_per_interval(pg_url: str) -> None:
    """Of many processes asking at once, one refreshes; nobody again within the interval."""
    async with PostgresRepository(pg_url) as one, PostgresRepository(pg_url) as two:
        hour = dt.timedelta(hours=1)
        answers = await asyncio.gather(*(r.claim_refresh(hour) for r in (one, two) * 4))
        assert answers.count(True) == 1
        assert not await two.claim_refresh(hour)
        await asyncio.sleep(0.25)
        assert await one.claim_refresh(dt.timedelta(seconds=0.2))


def test_schema_names_are_checked() -> None:
    """The schema comes from the URL, else the environment, else storemon; odd names fail."""
    dsn, schema = backend.parse_url("postgresql://u@h/db?schema=abc&sslmode=disable", {})
    assert (dsn, schema) == ("postgresql://u@h/db?sslmode=disable", "abc")
    assert backend.parse_url("postgresql://u@h/db", {"STOREMON_PG_SCHEMA": "x1"})[1] == "x1"
    assert backend.parse_url("postgresql://u@h/db", {})[1] == "storemon"
    assert backend.redacted("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"


def _polls_read(plan: dict[str, Any]) -> int:
    """
    Rows the index and table scans of ``poll_days`` returned or filtered out, over every
    loop of every node of an ``EXPLAIN (ANALYZE, FORMAT JSON)`` plan.
    """
    read = 0
    if plan.get("Relation Name") == "poll_days":
        rows = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        read += rows * plan.get("Actual Loops", 1)
    return read + sum(_polls_read(child) for child in plan.get("Plans", []))


@pytest.mark.parametrize("name", ["snapshots", "store_snapshot"])
async def test_snapshot_reads_never_touch_polls_before_the_week(
    pg: PostgresRepository, name: str
) -> None:
    """
    Eleven more weeks of polls before the week make the report's queries read no more day
    rows (one store's week is eight of them, and one seek for its last day before).
    """
    hour, week = 3_600_000_000, 7 * 24 * 3_600_000_000
    since = backend.to_epoch_us(BASE)
    stores = [f"s{store:02d}" for store in range(20)]
    days = list(columns.special_days_around(since, since + week))
    arguments = [since // polldays.DAY_US, (since + week) // polldays.DAY_US]
    arguments += (["s07"] if name == "store_snapshot" else []) + days
    if name == "snapshots":
        arguments += ["", None]  # every store (a shard's range of stores otherwise)
    await pg.add_polls([(s, since + h * hour, h % 5 != 0) for s in stores for h in range(-1, 168)])

    async def rows_read() -> int:
        async with pg._acquire() as connection:
            await connection.execute("ANALYZE poll_days")
            [[plan]] = await connection.fetch(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + backend.SQL.queries[name], *arguments
            )
        return _polls_read(json.loads(plan)[0]["Plan"])

    one_week = await rows_read()
    # Per store: one seek for its last day before the week, the range from that day
    # through the week (eight rows), and for a report the skip scan's seek (and one past
    # the last store).
    assert one_week == (len(stores) * 10 + 1 if name == "snapshots" else 9)
    await pg.add_polls(
        [(s, since - h * hour, h % 3 != 0) for s in stores for h in range(2, 11 * 168)]
    )
    assert await rows_read() == one_week
