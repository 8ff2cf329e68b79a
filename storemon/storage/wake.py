"""
The in-process half of ``ReportStore.wait_for_work``, written once for every backend.

A backend calls ``wake()`` when it has queued report work (a job created, shards planned,
a job or shard handed back); PostgreSQL also calls it when a notification from another
process arrives. Workers wait in ``wait(seconds)``.
"""

from __future__ import annotations

import asyncio


class WorkSignal:
    """
    A wake-up for idle workers: ``wake()`` releases every ``wait`` in progress, and the
    next one to start when nobody was waiting (a worker busy at the time of the wake
    looks again at once rather than missing it). A wake may thus be spurious; callers look
    at the queue whatever ``wait`` returns.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        """
        Wait at most ``seconds`` for a wake; return whether one came.
        """
        try:
            async with asyncio.timeout(max(seconds, 0)):
                await self._event.wait()
        except TimeoutError:
            return False
        self._event.clear()
        return True
