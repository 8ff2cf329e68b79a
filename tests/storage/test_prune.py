"""
Retention on every backend: ``prune_polls`` keeps what reports inside the kept range read,
and ``storemon.retention.prune`` cuts polls from the newest poll and reports by the clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storemon.model import WEEK_US, HoursRow, PollRecord, from_epoch_us
from storemon.repository import Repository
from storemon.retention import poll_cut, prune
from storemon.service import build_csv_report
from storemon.storage import columns, open_repository

from .conftest import BACKENDS, DROP, at_us, hours, utc

HOUR_US = 3_600_000_000
BASE_US = at_us("2024-02-26T00:00")  # five weeks of history from here
STORES = ("1481966498820158979", "9222367421889482050", "a", "b", "c")
#: Before any poll: a snapshot from here holds every stored poll of a store.
FAR_PAST = utc("2000-01-01T00:00")
FAR_FUTURE = utc("2100-01-01T00:00")

histories = st.lists(
    st.tuples(
        st.sampled_from(STORES),
        # Five weeks, on a grid of minutes so rows collide now and then.
        st.integers(0, 5 * 7 * 24 * 60).map(lambda minute: BASE_US + minute * 60_000_000),
        st.booleans(),
    ),
    min_size=1,
    max_size=60,
)


def _backends() -> list[object]:
    return [
        pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else [])
        for name in sorted(BACKENDS)
    ]


async def _reports(repo: Repository, as_ofs: list[dt.datetime]) -> list[str]:
    return [(await build_csv_report(repo, as_of=as_of)).csv for as_of in as_ofs]


async def _every_poll(repo: Repository) -> dict[str, list[tuple[int, bool]]]:
    """
    Every stored poll, per store, read through ``snapshot`` from before any poll.
    """
    found = {}
    for store_id in STORES:
        snapshot = await repo.snapshot(store_id, since=FAR_PAST, as_of=FAR_FUTURE)
        if snapshot is not None:
            found[store_id] = list(zip(snapshot.poll_at_us, snapshot.poll_active, strict=True))
    return found


def _expected_after(
    polls: list[PollRecord], before_us: int
) -> tuple[dict[str, list[tuple[int, bool]]], int]:
    """
    The polls a prune at ``before_us`` keeps, computed from the rows as written (a later
    row for an instant wins), and how many it deletes.
    """
    latest: dict[str, dict[int, bool]] = {}
    for store_id, at, active in polls:
        latest.setdefault(store_id, {})[at] = active
    kept: dict[str, list[tuple[int, bool]]] = {}
    deleted = 0
    for store_id, by_at in latest.items():
        times = sorted(by_at)
        older = [at for at in times if at < before_us]
        deleted += max(len(older) - 1, 0)
        keep = older[-1:] + [at for at in times if at >= before_us]
        kept[store_id] = [(at, by_at[at]) for at in keep]
    return kept, deleted


async def _prune_round(
    url: str, polls: list[PollRecord], cut_us: int, report_offsets: list[int]
) -> None:
    async with open_repository(url) as repo:
        await repo.add_polls(polls)
        await repo.replace_hours(
            [("a", hours(0, "09:00", "17:00")), ("b", HoursRow(2, dt.time(22), dt.time(2)))]
        )
        await repo.replace_zones([("a", "America/New_York"), ("c", "Asia/Kolkata")])
        newest = max(at for _, at, _ in polls)
        # Reports whose week starts at or after the cut: as of the cut plus a week, plus
        # the drawn offsets, up to a day after the newest poll (carried forward).
        last_as_of = max(newest + 24 * HOUR_US, cut_us + WEEK_US)
        as_ofs = sorted(
            {from_epoch_us(min(cut_us + WEEK_US + offset, last_as_of)) for offset in report_offsets}
            | {from_epoch_us(cut_us + WEEK_US), from_epoch_us(max(newest, cut_us + WEEK_US))}
        )
        before_reports = await _reports(repo, as_ofs)
        before_stores = {
            store_id: await repo.snapshot(store_id, since=as_ofs[0] - dt.timedelta(weeks=1),
                                          as_of=as_ofs[-1])
            for store_id in STORES
        }  # fmt: skip

        kept, deleted = _expected_after(polls, cut_us)
        assert await repo.prune_polls(from_epoch_us(cut_us)) == deleted
        assert await _every_poll(repo) == kept
        assert await _reports(repo, as_ofs) == before_reports
        for store_id, snapshot in before_stores.items():
            after = await repo.snapshot(
                store_id, since=as_ofs[0] - dt.timedelta(weeks=1), as_of=as_ofs[-1]
            )
            assert after == snapshot
        assert await repo.prune_polls(from_epoch_us(cut_us)) == 0, "a second prune is a no-op"


@pytest.mark.parametrize("backend", _backends())
def test_prune_keeps_every_report_inside_the_kept_range_byte_for_byte(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over random histories and cuts: a prune deletes exactly the polls before the cut
    but each store's latest one before it, and every report whose week starts at or after
    the cut (and each store's own snapshot) is the same, byte for byte, before and after."""
    monkeypatch.setattr(columns, "PRUNE_STORES", 2)  # several ranges, one store alone
    folders = itertools.count()

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        polls=histories,
        cut_hours=st.integers(-24, 6 * 7 * 24),
        report_offsets=st.lists(st.integers(0, 5 * 7 * 24 * HOUR_US), max_size=3),
    )
    def check(polls: list[PollRecord], cut_hours: int, report_offsets: list[int]) -> None:
        folder = tmp_path / str(next(folders))
        folder.mkdir()
        url = BACKENDS[backend](folder)
        try:
            cut_us = BASE_US + cut_hours * HOUR_US + 17  # rarely on a poll's instant
            asyncio.run(_prune_round(url, polls, cut_us, report_offsets))
        finally:
            if backend in DROP:
                DROP[backend](url)

    check()


async def test_prune_at_a_poll_instant_keeps_that_poll(repo: Repository) -> None:
    """The cut is exclusive: a poll exactly at it is kept, with the latest one before."""
    times = [at_us(f"2024-01-0{day}T12:00") for day in range(1, 6)]
    await repo.add_polls([("s", at, index % 2 == 0) for index, at in enumerate(times)])
    assert await repo.prune_polls(from_epoch_us(times[3])) == 2
    snapshot = await repo.snapshot("s", since=FAR_PAST, as_of=FAR_FUTURE)
    assert snapshot is not None
    assert list(snapshot.poll_at_us) == times[2:]
    assert list(snapshot.poll_active) == [True, False, True]


async def test_a_store_with_only_old_polls_keeps_its_latest(repo: Repository) -> None:
    """A store that stopped being polled keeps one poll: its status carried forward."""
    await repo.add_polls(
        [("gone", at_us("2024-01-01T00:00"), True), ("gone", at_us("2024-01-02T00:00"), False)]
    )
    await repo.add_polls([("live", at_us("2024-03-01T00:00"), True)])
    assert await repo.prune_polls(utc("2024-02-01T00:00")) == 1
    snapshot = await repo.snapshot("gone", since=FAR_PAST, as_of=FAR_FUTURE)
    assert snapshot is not None
    assert list(snapshot.poll_at_us) == [at_us("2024-01-02T00:00")]
    assert list(snapshot.poll_active) == [False]


async def test_retention_cuts_polls_from_the_newest_and_reports_by_the_clock(
    repo: Repository,
) -> None:
    """``prune`` cuts polls ``keep`` before the newest poll (not the clock) and deletes
    exactly the finished reports that finished more than ``keep_reports`` before now:
    never Pending or Running ones, however old."""
    week = dt.timedelta(weeks=1)
    newest = utc("2023-01-25T18:00")
    await repo.add_polls(
        [("s", at_us("2023-01-01T00:00"), True), ("s", at_us("2023-01-10T00:00"), True),
         ("s", at_us("2023-01-20T00:00"), False), ("s", at_us("2023-01-25T18:00"), True)]
    )  # fmt: skip
    now = utc("2026-12-01T12:00")
    old, recent = now - dt.timedelta(days=40), now - dt.timedelta(days=3)
    for index, name in enumerate(("complete-old", "failed-old", "complete-new", "run", "wait")):
        await repo.create_report(name, as_of=None, created_at=old + dt.timedelta(seconds=index))
    await repo.finish_report("complete-old", csv="store_id\n", finished_at=old)
    await repo.fail_report("failed-old", error="x", finished_at=old)
    await repo.finish_report("complete-new", csv="store_id\n", finished_at=recent)
    claimed = await repo.claim_report("w", lease=dt.timedelta(hours=1))
    assert claimed is not None
    assert claimed.report_id == "run"

    summary = await prune(repo, keep=week, keep_reports=dt.timedelta(days=30), now=now)
    assert summary.polls_before == newest - week
    assert summary.polls_deleted == 1  # 01-01 goes; 01-10 is the latest before the cut
    assert summary.reports_before == now - dt.timedelta(days=30)
    assert summary.reports_deleted == 2
    assert sorted(job.report_id for job in await repo.list_reports(10)) == [
        "complete-new", "run", "wait",
    ]  # fmt: skip
    assert summary.to_json()["polls_before"] == "2023-01-18T18:00:00+00:00"

    nothing = await prune(repo, keep=None, keep_reports=None, now=now)
    assert (nothing.polls_before, nothing.polls_deleted) == (None, 0)
    assert (nothing.reports_before, nothing.reports_deleted) == (None, 0)


async def test_retention_on_an_empty_database_deletes_nothing(repo: Repository) -> None:
    """No poll, no cut: nothing to measure the kept range from."""
    summary = await prune(repo, keep=dt.timedelta(hours=1), keep_reports=None, now=FAR_FUTURE)
    assert (summary.polls_before, summary.polls_deleted) == (None, 0)


def test_a_cut_before_the_first_instant_prunes_nothing() -> None:
    """A keep longer than the history back to year 1 gives no cut, not an overflow."""
    newest = utc("2024-01-01T00:00")
    assert poll_cut(newest, dt.timedelta(days=10)) == utc("2023-12-22T00:00")
    assert poll_cut(newest, dt.timedelta(days=5_000_000)) is None
    assert poll_cut(None, dt.timedelta(days=1)) is None


def test_store_ranges_cover_every_store_once() -> None:
    """The ranges a prune works through: consecutive runs, the last one shorter."""
    ids = [f"s{index}" for index in range(7)]
    assert columns.store_ranges(ids, 3) == [("s0", "s2"), ("s3", "s5"), ("s6", "s6")]
    assert columns.store_ranges(ids, 10) == [("s0", "s6")]
    assert columns.store_ranges([], 3) == []
