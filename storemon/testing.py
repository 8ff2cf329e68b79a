"""
Helpers for tests (yours too) and notebooks: a manual clock, and the in-memory backend.

``InMemoryRepository`` lives in ``storemon.storage.memory`` (it is the ``memory://``
backend) and is re-exported here for tests.
"""

from __future__ import annotations

import datetime as dt

import attrs

from storemon.storage.memory import InMemoryRepository

__all__ = ["InMemoryRepository", "ManualClock"]


@attrs.define
class ManualClock:
    """
    A clock that moves only when told, for tests of scheduling code.
    """

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, by: dt.timedelta) -> None:
        """
        Move the clock forward.
        """
        self.now += by
