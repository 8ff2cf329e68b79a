"""
What makes a backend an async context manager, written once for every backend.
"""

from __future__ import annotations

from typing import Self


class Lifecycle:
    """
    ``async with backend:`` opens the backend and closes it, whatever happens inside.
    """

    async def open(self) -> None:
        """
        Connect and prepare; the backend is usable once this returns.
        """
        raise NotImplementedError

    async def close(self) -> None:
        """
        Release what ``open`` took; safe to call twice.
        """
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
