"""
Memory and SQLite kept in step: the same random ingests applied to both give the same reports.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import tempfile
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from storemon.model import HoursRow
from storemon.service import build_report
from storemon.storage.memory import InMemoryRepository
from storemon.storage.sqlite import SQLiteRepository

from .conftest import at_us

BASE_US = at_us("2024-03-04T00:00")  # a Monday; Chicago springs forward on 2024-03-10
STORES = ("1481966498820158979", "9222367421889482050", "a", "b")
ZONES = ("America/Chicago", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")

poll_rows = st.lists(
    st.tuples(
        st.sampled_from(STORES),
        # A coarse grid of instants over ~9 days, so that rows collide and flip statuses.
        st.integers(0, 9 * 24 * 4).map(lambda quarter: BASE_US + quarter * 900_000_000),
        st.booleans(),
    ),
    max_size=30,
)
times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 30, 59]))
hours_rows = st.lists(
    st.tuples(
        st.sampled_from(STORES),
        st.builds(HoursRow, st.integers(0, 6), times, times, st.booleans()).map(
            lambda row: (
                HoursRow(row.day, row.start_local, dt.time(0), True) if row.end_is_midnight else row
            )
        ),
    ),
    max_size=8,
)
zone_rows = st.lists(st.tuples(st.sampled_from(STORES), st.sampled_from(ZONES)), max_size=5)


class SameReports(RuleBasedStateMachine):
    """
    Apply each ingest to the in-memory backend and to SQLite; compare after every step.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = tempfile.mkdtemp(prefix="storemon-stateful-")
        self.memory = InMemoryRepository()
        self.sqlite = SQLiteRepository(f"{self.folder}/state.db")
        self.run(self.sqlite.open())
        self.polls_added = False
        self.added: list[tuple[str, int, bool]] = []

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def both(self, method: str, *args: Any) -> tuple[Any, Any]:
        return (
            self.run(getattr(self.memory, method)(*args)),
            self.run(getattr(self.sqlite, method)(*args)),
        )

    @rule(rows=poll_rows)
    def add_polls(self, rows: list[tuple[str, int, bool]]) -> None:
        """Upserting the same polls counts the same rows on both."""
        memory_count, sqlite_count = self.both("add_polls", rows)
        assert memory_count == sqlite_count
        self.polls_added = self.polls_added or bool(rows)
        self.added.extend(rows)

    @precondition(lambda self: self.added)
    @rule(data=st.data())
    def add_polls_again(self, data: st.DataObject) -> None:
        """Stored polls again, some with their status changed, count the same on both."""
        picks = data.draw(st.lists(st.sampled_from(self.added), min_size=1, max_size=10))
        flips = data.draw(st.lists(st.booleans(), min_size=len(picks), max_size=len(picks)))
        rows = [
            (store, at, active ^ flip)
            for (store, at, active), flip in zip(picks, flips, strict=True)
        ]
        memory_count, sqlite_count = self.both("add_polls", rows)
        assert memory_count == sqlite_count
        self.added.extend(rows)

    @rule(rows=hours_rows)
    def replace_hours(self, rows: list[tuple[str, HoursRow]]) -> None:
        """Replacing hours counts the same new rows and leaves the same rows on both."""
        memory_count, sqlite_count = self.both("replace_hours", rows)
        assert memory_count == sqlite_count
        memory_rows, sqlite_rows = self.both("hours_rows")
        assert sorted(memory_rows) == sorted(sqlite_rows)

    @rule(rows=zone_rows)
    def replace_zones(self, rows: list[tuple[str, str]]) -> None:
        """Replacing zones counts the same changed rows and leaves the same zones on both."""
        memory_count, sqlite_count = self.both("replace_zones", rows)
        assert memory_count == sqlite_count
        memory_rows, sqlite_rows = self.both("zone_rows")
        assert sorted(memory_rows) == sorted(sqlite_rows)

    @rule(store=st.sampled_from(STORES), rows=hours_rows)
    def replace_store_hours(self, store: str, rows: list[tuple[str, HoursRow]]) -> None:
        """Replacing one store's hours (a push) counts the same and leaves the same rows."""
        week = [row for _, row in rows]
        memory_count, sqlite_count = self.both("replace_store_hours", store, week)
        assert memory_count == sqlite_count
        memory_rows, sqlite_rows = self.both("hours_rows")
        assert sorted(memory_rows) == sorted(sqlite_rows)

    @rule(store=st.sampled_from(STORES), zone=st.sampled_from(ZONES))
    def replace_store_zone(self, store: str, zone: str) -> None:
        """Setting one store's zone says the same on both and leaves the same zones."""
        memory_changed, sqlite_changed = self.both("replace_store_zone", store, zone)
        assert memory_changed == sqlite_changed
        memory_rows, sqlite_rows = self.both("zone_rows")
        assert sorted(memory_rows) == sorted(sqlite_rows)

    @precondition(lambda self: self.polls_added)
    @rule(hours_back=st.integers(-24, 10 * 24))
    def report_as_of(self, hours_back: int) -> None:
        """A report for an explicit as_of is equal on both backends."""
        as_of = dt.datetime(2024, 3, 13, tzinfo=dt.UTC) - dt.timedelta(hours=hours_back)
        assert self.run(build_report(self.memory, as_of=as_of)) == self.run(
            build_report(self.sqlite, as_of=as_of)
        )

    @invariant()
    def same_default_report(self) -> None:
        """The report as of the latest poll is equal on both backends."""
        if self.polls_added:
            memory_report = self.run(build_report(self.memory))
            assert memory_report == self.run(build_report(self.sqlite))

    def teardown(self) -> None:
        try:
            self.run(self.sqlite.close())
        finally:
            self.loop.close()
            shutil.rmtree(self.folder, ignore_errors=True)


SameReports.TestCase.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None, parent=settings.default
)
test_memory_and_sqlite_give_the_same_reports = SameReports.TestCase
