"""
Memory and PostgreSQL kept in step: the storage suite's state machine, with PostgreSQL.
"""

from __future__ import annotations

import asyncio
import tempfile

import pytest

pytest.importorskip("asyncpg", reason="the [postgres] extra is not installed")
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine

from storemon.storage.postgres import PostgresRepository
from storemon.testing import InMemoryRepository
from tests.storage.test_stateful import SameReports

from .support import drop_schema, fresh_url

pytestmark = pytest.mark.postgres


class SameReportsOnPostgres(SameReports):
    """
    The same rules and invariants; the second backend is a new PostgreSQL schema per run.
    """

    def __init__(self) -> None:
        RuleBasedStateMachine.__init__(self)
        self.url = fresh_url()  # first: it skips without a server
        self.loop = asyncio.new_event_loop()
        self.folder = tempfile.mkdtemp(prefix="storemon-stateful-pg-")
        self.memory = InMemoryRepository()
        self.sqlite = PostgresRepository(self.url, pool_max_size=2)  # type: ignore[assignment]
        self.run(self.sqlite.open())
        self.polls_added = False
        self.added: list[tuple[str, int, bool]] = []

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            drop_schema(self.url)


SameReportsOnPostgres.TestCase.settings = settings(
    max_examples=10, stateful_step_count=10, deadline=None, parent=settings.default
)
test_memory_and_postgres_give_the_same_reports = SameReportsOnPostgres.TestCase
