"""
Fixtures for the server tests: an app on the in-memory backend, and a gated compute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from storemon.model import ReportJob
from storemon.testing import InMemoryRepository
from storemon_server.app import create_app
from storemon_server.config import MAX_FIELD_SIZE, MAX_LINE_SIZE, Settings
from storemon_server.worker import compute_in_thread
from tests.server.support import filled_repository

TOKEN = "s3cret-token-for-tests-0123456789"

MakeClient = Callable[..., Awaitable[TestClient[Any, Any]]]


class Gate:
    """
    A compute function that waits for ``open()`` before computing, and counts its calls.
    """

    def __init__(self, repository: InMemoryRepository) -> None:
        self.repository = repository
        self.opened = asyncio.Event()
        self.entered = asyncio.Event()
        self.calls: list[str] = []
        self.error: BaseException | None = None

    def open(self) -> None:
        self.opened.set()

    async def __call__(self, job: ReportJob) -> str:
        self.calls.append(job.report_id)
        self.entered.set()
        await self.opened.wait()
        if self.error is not None:
            raise self.error
        return await compute_in_thread(self.repository, job)


@pytest.fixture
async def data_repository() -> InMemoryRepository:
    """
    An in-memory repository holding the small data set.
    """
    return await filled_repository()


@pytest.fixture
def make_client(aiohttp_client: Any, data_repository: InMemoryRepository) -> MakeClient:
    """
    Build an app on ``data_repository`` (or another) and return a test client for it.
    """

    async def make(
        *, repository: InMemoryRepository | None = None, **kwargs: Any
    ) -> TestClient[Any, Any]:
        settings_kwargs = {
            key: kwargs.pop(key)
            for key in (
                "workers",
                "max_queue",
                "api_token",
                "refresh_interval",
                "retention",
                "keep_reports",
                "max_push_bytes",
                "metrics_public",
                "future_tolerance",
                "max_gap",
            )
            if key in kwargs
        }
        settings = Settings(db_url="memory://", **settings_kwargs)
        app = create_app(settings, repository=repository or data_repository, **kwargs)
        client: TestClient[Any, Any] = await aiohttp_client(
            app,
            server_kwargs={"max_line_size": MAX_LINE_SIZE, "max_field_size": MAX_FIELD_SIZE},
        )
        return client

    return make


async def wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    """
    Wait until ``predicate()`` is true, polling the loop.
    """
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.01)
