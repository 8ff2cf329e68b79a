"""
``storemon serve`` whose every report computation first sleeps, for the end-to-end tests
that must see a report Running, or stop a server in the middle of one.

    python tests/server/slow_serve.py SECONDS [storemon serve options]

The delay is injected here, around ``create_app``, and never reaches production settings.
Reports are computed as the server computes them for a database in a file or a server (a
child process per report, ``compute_in_child``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import Any

import storemon_server.__main__ as serve
from storemon.model import ReportJob, ReportShard, ShardResult
from storemon_server import app
from storemon_server.config import Settings
from storemon_server.worker import compute_in_child, compute_shard_in_child


def main(argv: Sequence[str]) -> int:
    """
    Run the server with reports delayed by ``argv[0]`` seconds; the rest are its options.
    With ``--shards SECONDS`` first, reports are sharded as usual and each shard's
    computation is delayed instead.
    """
    if argv[0] == "--shards":
        return _slow_shards(float(argv[1]), argv[2:])
    delay = float(argv[0])
    create_app = app.create_app

    def slow_create_app(settings: Settings, **kwargs: Any) -> Any:
        async def compute(job: ReportJob) -> str:
            await asyncio.sleep(delay)
            return await compute_in_child(settings.db_url, job)

        return create_app(settings, compute=compute, **kwargs)

    app.create_app = slow_create_app  # ``serve.main`` imports it when it runs
    return serve.main(argv[1:])


def _slow_shards(delay: float, argv: Sequence[str]) -> int:
    async def slow_shard(url: str, shard: ReportShard) -> ShardResult:
        await asyncio.sleep(delay)
        return await compute_shard_in_child(url, shard)

    app.compute_shard_in_child = slow_shard  # type: ignore[assignment]  # read at each app
    return serve.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
