"""
Storage shaped for hourly appends and one-week reports (issue 11), on every backend:
weeks of history before the report's week change no report, refreshes store exactly the
new polls, a failed merge changes nothing, and staging holds no lock a request waits for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storemon.errors import StorageError
from storemon.ingest import ingest_source
from storemon.lines import CHUNK_BYTES
from storemon.model import WEEK_US, ReportStatus, from_epoch_us
from storemon.repository import Repository
from storemon.service import build_report
from storemon.sources import SourceKind
from storemon.storage import open_repository

from .conftest import BACKENDS, DROP, at_us, hours

HOUR_US = 3_600_000_000
#: Before every poll of these tests, and after: a store's snapshot between them holds
#: every poll it has.
EVER = (from_epoch_us(0), from_epoch_us(at_us("2100-01-01T00:00")))


@pytest.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else [])
        for name in sorted(BACKENDS)
    ]
)
def fresh_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """
    Make URLs of new, empty databases of each backend in turn (several per test).
    """
    made: list[str] = []

    def make() -> str:
        folder = tmp_path / f"db{len(made)}"
        folder.mkdir()
        made.append(BACKENDS[request.param](folder))
        return made[-1]

    yield make
    for url in made:
        if request.param in DROP:
            DROP[request.param](url)


# (a) The report on many weeks equals the report on its week plus each store's poll before.

STORES = ("1", "2", "b", "zz")
START_US = at_us("2024-03-01T00:00")

history = st.lists(
    st.tuples(
        st.sampled_from(STORES),
        # Five weeks on a 20-minute grid, so that instants repeat and statuses flip.
        st.integers(0, 5 * 7 * 24 * 3).map(lambda step: START_US + step * 1_200_000_000),
        st.booleans(),
    ),
    min_size=1,
    max_size=60,
)


def _week_and_the_poll_before(polls: list[tuple[str, int, bool]]) -> list[tuple[str, int, bool]]:
    """
    The polls a one-week report reads, found without any backend: the stored polls (a
    later row for an instant wins) from the week before the latest, and each store's
    latest poll before that week.
    """
    stored: dict[tuple[str, int], bool] = {}
    for store_id, at, active in polls:
        stored[store_id, at] = active
    since = max(at for _, at in stored) - WEEK_US
    kept = {key: active for key, active in stored.items() if key[1] >= since}
    for store_id in {store_id for store_id, _ in stored}:
        before = [at for s, at in stored if s == store_id and at < since]
        if before:
            kept[store_id, max(before)] = stored[store_id, max(before)]
    return [(store_id, at, active) for (store_id, at), active in kept.items()]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
@given(polls=history)
def test_history_before_the_week_changes_no_report(
    fresh_urls: Callable[[], str], polls: list[tuple[str, int, bool]]
) -> None:
    """A report over weeks of history equals one over its week and each store's poll before."""

    async def reports() -> tuple[Any, Any]:
        trimmed = _week_and_the_poll_before(polls)
        async with (
            open_repository(fresh_urls()) as everything,
            open_repository(fresh_urls()) as week,
        ):
            for repo, rows in ((everything, polls), (week, trimmed)):
                await repo.add_polls(rows)
                await repo.replace_hours([("1", hours(0, "09:00", "17:00"))])
                await repo.replace_zones([("2", "Asia/Kolkata")])
            assert await week.latest_poll_at() == await everything.latest_poll_at()
            return await build_report(everything), await build_report(week)

    full, trimmed = asyncio.run(reports())
    assert full == trimmed
    assert full.rows  # the stores are there to compare


# (b) Refreshes store exactly the new polls.


def _line(store_id: str, at: int, active: bool) -> str:
    stamp = from_epoch_us(at).strftime("%Y-%m-%d %H:%M:%S")
    return f"{store_id},{'active' if active else 'inactive'},{stamp} UTC\n"


def _polls(
    stores: int, first_us: int, hours_: int, rng: random.Random
) -> list[tuple[str, int, bool]]:
    return [
        (
            f"{store:04d}",
            first_us + hour * HOUR_US + rng.randrange(60) * 1_000_000,
            rng.random() < 0.9,
        )
        for store in range(stores)
        for hour in range(hours_)
    ]


def _write(path: Path, rows: list[tuple[str, int, bool]], *, append: bool = False) -> None:
    with path.open("a" if append else "w") as file:
        if not append:
            file.write("store_id,status,timestamp_utc\n")
        file.writelines(_line(*row) for row in rows)


async def _stored_polls(repo: Repository, stores: int) -> int:
    total = 0
    for store in range(stores):
        snapshot = await repo.snapshot(f"{store:04d}", since=EVER[0], as_of=EVER[1])
        total += 0 if snapshot is None else len(snapshot.poll_at_us)
    return total


async def test_append_and_reexport_store_exactly_the_new_polls(
    repo: Repository, tmp_path: Path
) -> None:
    """An appended hour and a whole re-export in a new order with one more hour store just it."""
    rng = random.Random(11)
    stores, first = 12, at_us("2023-01-18T00:00")
    week = _polls(stores, first, 7 * 24, rng)
    rng.shuffle(week)
    status = tmp_path / "status.csv"
    _write(status, week)
    summary = await ingest_source(repo, SourceKind.STATUS, status)
    assert (summary.mode, summary.stored, summary.present) == ("full", len(week), 0)

    appended = _polls(stores, first + 7 * 24 * HOUR_US, 1, rng)
    _write(status, appended, append=True)
    summary = await ingest_source(repo, SourceKind.STATUS, status)
    assert (summary.mode, summary.read, summary.stored) == (
        "appended",
        len(appended),
        len(appended),
    )
    assert await _stored_polls(repo, stores) == len(week) + len(appended)

    another_hour = _polls(stores, first + (7 * 24 + 1) * HOUR_US, 1, rng)
    exported = week + appended + another_hour
    rng.shuffle(exported)
    _write(status, exported)
    summary = await ingest_source(repo, SourceKind.STATUS, status)
    assert (summary.mode, summary.stored, summary.present) == (
        "full",
        len(another_hour),
        len(week) + len(appended),
    )
    assert await _stored_polls(repo, stores) == len(exported)


# (c) A failed merge changes nothing.


async def _everything(repo: Repository, stores: int, source: str) -> tuple[Any, ...]:
    polls = [
        await repo.snapshot(f"{store:04d}", since=EVER[0], as_of=EVER[1]) for store in range(stores)
    ]
    return (
        polls,
        await repo.rejects(),
        await repo.source_state(SourceKind.STATUS.label, source),
        await repo.latest_poll_at(),
    )


@pytest.mark.parametrize("failing", ["clear_rejects", "add_rejects", "save_source_state"])
async def test_a_failed_merge_changes_nothing(
    repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A failure after the polls are merged, in the merge's transaction, undoes all of it."""
    rng = random.Random(3)
    stores, first = 6, at_us("2023-01-18T00:00")
    old = _polls(stores, first, 48, rng)
    status = tmp_path / "status.csv"
    _write(status, old)
    with status.open("a") as file:
        file.write("0001,active,not a time\n")
    await ingest_source(repo, SourceKind.STATUS, status)
    source = str(status)
    before = await _everything(repo, stores, source)

    flipped = [(store_id, at, not active) for store_id, at, active in old[::5]]
    new = _polls(stores, first + 48 * HOUR_US, 24, rng)
    _write(status, new + flipped + old)
    with status.open("a") as file:
        file.write("0002,maybe,2023-01-19 00:00:00 UTC\n")

    async def fail(*args: Any, **kwargs: Any) -> None:
        raise StorageError("injected failure")

    monkeypatch.setattr(repo, failing, fail)
    with pytest.raises(StorageError, match="injected failure"):
        await ingest_source(repo, SourceKind.STATUS, status)
    assert await _everything(repo, stores, source) == before

    monkeypatch.undo()
    summary = await ingest_source(repo, SourceKind.STATUS, status)
    # The flipped rows change what is stored, and the old rows after them change it back.
    assert summary.stored == len(new) + 2 * len(flipped)
    assert summary.rejected == 1
    assert await _stored_polls(repo, stores) == len(old) + len(new)


# (d) Staging holds no lock a request's write waits for.


async def test_a_request_write_is_not_blocked_while_an_ingest_stages(
    backend_url: str, tmp_path: Path
) -> None:
    """While a long ingest reads and stages its rows, new report jobs are stored at once."""
    rng = random.Random(7)
    rows = _polls(400, at_us("2023-01-18T00:00"), 300, rng)
    status = tmp_path / "status.csv"
    _write(status, rows)
    assert status.stat().st_size > 3 * CHUNK_BYTES
    staging, resume = threading.Event(), threading.Event()

    def progress(name: str, size: int | None, offset: int, lines: int) -> None:
        # Past the first batch of rows (staged by now), pause the reading thread.
        if offset >= 3 * CHUNK_BYTES and not staging.is_set():
            staging.set()
            resume.wait(30)

    created = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    async with open_repository(backend_url) as repo:
        ingesting = asyncio.create_task(
            ingest_source(repo, SourceKind.STATUS, status, progress=progress)
        )
        try:
            assert await asyncio.to_thread(staging.wait, 30)
            async with asyncio.timeout(1):
                await repo.create_report("same-process", as_of=None, created_at=created)
            assert not ingesting.done()  # still staging
            if not backend_url.startswith("memory:"):
                # Another process's connection, as a server beside a command-line ingest.
                async with open_repository(backend_url) as other, asyncio.timeout(1):
                    await other.create_report("other-process", as_of=None, created_at=created)
        finally:
            resume.set()
        summary = await ingesting
        assert summary.stored == len(rows)
        assert (await repo.get_report("same-process")).status == ReportStatus.PENDING
        assert await _stored_polls(repo, 400) == len(rows)


# The stage itself.


async def test_stages_store_nothing_until_merged_and_never_mix(repo: Repository) -> None:
    """Two stages open at once keep their rows apart; one merged stores its own, in order."""
    a1, a2 = at_us("2024-01-01T00:00"), at_us("2024-01-01T01:00")
    async with repo.stage_polls() as first, repo.stage_polls() as second:
        assert await first.add([("a", a2, True), ("a", a1, True)]) == 2
        assert await second.add([("b", a1, True)]) == 1
        assert await first.add([("a", a2, False), ("a", a2, False)]) == 2
        assert await repo.latest_poll_at() is None  # nothing visible before the merge
        # a2 inserted, a1 inserted, a2 changed; the same row again is not counted.
        assert await first.merge() == 3
        assert await first.merge() == 0  # the stage is empty after its merge
    snapshot = await repo.snapshot("a", since=EVER[0], as_of=EVER[1])
    assert snapshot is not None
    assert (list(snapshot.poll_at_us), list(snapshot.poll_active)) == ([a1, a2], [True, False])
    assert await repo.snapshot("b", since=EVER[0], as_of=EVER[1]) is None  # never merged
    async with repo.stage_polls() as again:  # a new stage starts empty
        assert await again.merge() == 0


async def test_an_ingest_that_another_overtook_while_it_staged_reads_again(
    repo: Repository, tmp_path: Path
) -> None:
    """Two ingests of one appended file at once store the rows and their rejects once."""
    rng = random.Random(5)
    stores, first = 8, at_us("2023-01-18T00:00")
    status = tmp_path / "status.csv"
    _write(status, _polls(stores, first, 24, rng))
    await ingest_source(repo, SourceKind.STATUS, status)
    appended = _polls(stores, first + 24 * HOUR_US, 2, rng)
    _write(status, appended, append=True)
    with status.open("a") as file:
        file.write("0003,active,yesterday\n")
    staging, resume = threading.Event(), threading.Event()

    def progress(name: str, size: int | None, offset: int, lines: int) -> None:
        if not staging.is_set():
            staging.set()
            resume.wait(30)

    first_ingest = asyncio.create_task(
        ingest_source(repo, SourceKind.STATUS, status, progress=progress)
    )
    try:
        assert await asyncio.to_thread(staging.wait, 30)
        overtaking = await ingest_source(repo, SourceKind.STATUS, status)
    finally:
        resume.set()
    late = await first_ingest
    assert (overtaking.mode, overtaking.stored, overtaking.rejected) == (
        "appended",
        len(appended),
        1,
    )
    assert late.mode == "unchanged"  # planned again after the other's merge
    assert len(await repo.rejects()) == 1
    assert await _stored_polls(repo, stores) == stores * 24 + len(appended)
