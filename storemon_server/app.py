"""
The composition root: ``create_app(settings)`` wires settings, repository, jobs and routes.

On start-up (``cleanup_ctx``) it opens the repository, starts the report workers (they
claim jobs from the database, those an earlier run left too) and the refresh loop; on
shutdown it stops both (running jobs go back to Pending) and closes the repository.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from storemon.model import ReportShard, ShardResult
from storemon.retention import prune
from storemon.storage import open_repository
from storemon_server import handlers
from storemon_server.compression import compression_middleware
from storemon_server.config import CLIENT_MAX_SIZE, Settings
from storemon_server.ingest import Guards, Sources, ingest, resolve_sources
from storemon_server.jobs import (
    Clock,
    Compute,
    ComputeShard,
    Ingest,
    IngestLoop,
    JobRunner,
    Prune,
    ServerRepository,
    Sleep,
    utc_now,
)
from storemon_server.keys import INGEST, JOBS, METRICS, REPOSITORY, SETTINGS
from storemon_server.logs import kv, redact_url
from storemon_server.metrics import Metrics, metrics_middleware
from storemon_server.middleware import auth_middleware, error_middleware, limits_middleware
from storemon_server.worker import compute_shard_in_child, compute_shard_in_thread, ingest_in_child

logger = logging.getLogger(__name__)

__all__ = ["INGEST", "JOBS", "METRICS", "REPOSITORY", "SETTINGS", "create_app"]


def create_app(
    settings: Settings,
    *,
    repository: ServerRepository | None = None,
    clock: Clock | None = None,
    compute: Compute | None = None,
    ingest_sources: Ingest | None = None,
    sleep: Sleep | None = None,
) -> web.Application:
    """
    Build the application.

    Args:
        settings: The validated settings.
        repository: Use this (open) repository instead of opening ``settings.db_url``;
            reports are then computed in this process, in a thread.
        clock: The current instant (``ManualClock`` in tests).
        compute: Compute one job's CSV instead of the default (tests gate it).
        ingest_sources: Ingest instead of the default ingestion of the configured sources.
        sleep: How the refresh loop waits (tests drive it).

    Raises:
        ConfigError: the data dir or its files are missing.
    """
    sources = resolve_sources(settings)
    metrics = Metrics()
    app = web.Application(
        client_max_size=CLIENT_MAX_SIZE,
        middlewares=[
            metrics_middleware(metrics),
            compression_middleware,
            error_middleware,
            auth_middleware(settings.api_token, ["/metrics"] if settings.metrics_public else []),
            limits_middleware(
                settings.body_timeout, {handlers.PUSH_POLLS: settings.max_push_bytes}
            ),
        ],
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    handlers.add_routes(app)
    app.cleanup_ctx.append(
        functools.partial(
            _lifecycle,
            settings=settings,
            sources=sources,
            repository=repository,
            clock=clock or utc_now,
            compute=compute,
            ingest_sources=ingest_sources,
            sleep=sleep,
            metrics=metrics,
        )
    )
    return app


def _default_compute_shard(settings: Settings, repository: Any, in_process: bool) -> ComputeShard:
    if in_process:

        async def compute(shard: ReportShard) -> ShardResult:
            return await compute_shard_in_thread(repository, shard)

    else:

        async def compute(shard: ReportShard) -> ShardResult:
            return await compute_shard_in_child(settings.db_url, shard)

    return compute


def _default_ingest(
    settings: Settings, repository: Any, sources: Sources, in_process: bool
) -> Ingest | None:
    if not sources:
        return None
    if in_process:

        async def run() -> dict[str, Any]:
            return await ingest(repository, sources, Guards.of(settings))

    else:

        async def run() -> dict[str, Any]:
            return await ingest_in_child(settings.db_url, sources, Guards.of(settings))

    return run


def _default_prune(settings: Settings, repository: ServerRepository, clock: Clock) -> Prune:
    keep = None if settings.retention is None else dt.timedelta(seconds=settings.retention)
    keep_reports = dt.timedelta(seconds=settings.keep_reports)

    async def run() -> dict[str, Any]:
        # In this process even when reports and ingests run in a child: the deletes are
        # short transactions that never hold a database lock for long (``prune_polls``).
        summary = await prune(repository, keep=keep, keep_reports=keep_reports, now=clock())
        return summary.to_json()

    return run


async def _lifecycle(
    app: web.Application,
    *,
    settings: Settings,
    sources: Sources,
    repository: ServerRepository | None,
    clock: Clock,
    compute: Compute | None,
    ingest_sources: Ingest | None,
    sleep: Sleep | None,
    metrics: Metrics,
) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        in_process = repository is not None or settings.in_memory
        if repository is None:
            repository = await stack.enter_async_context(open_repository(settings.db_url))
        assert repository is not None
        stack.callback(lambda: logger.info(kv("server.closing_db", db=redact_url(settings.db_url))))
        ingest_now = ingest_sources or _default_ingest(settings, repository, sources, in_process)
        runner = JobRunner(
            repository,
            compute,
            workers=settings.workers,
            max_queue=settings.max_queue,
            compute_shard=metrics.measured_shard(
                _default_compute_shard(settings, repository, in_process)
            ),
            shard_stores=settings.report_shard_stores,
            clock=clock,
            lease=dt.timedelta(seconds=settings.report_lease),
        )
        # Count each report this process's workers compute as the holder of its job.
        runner.compute = metrics.measured_compute(runner.compute)
        refresh = IngestLoop(
            None if ingest_now is None else metrics.measured_ingest(ingest_now, clock),
            claim=repository.claim_refresh,
            every=dt.timedelta(seconds=settings.refresh_interval),
            clock=clock,
            prune=_default_prune(settings, repository, clock),
            **({} if sleep is None else {"sleep": sleep}),
        )
        app[REPOSITORY] = repository
        app[JOBS] = runner
        app[INGEST] = refresh
        await runner.start()
        stack.push_async_callback(runner.stop)
        refresh.start()
        stack.push_async_callback(refresh.stop)
        logger.info(
            kv(
                "server.started",
                page=f"http://{settings.host}:{settings.port}/",
                db=redact_url(settings.db_url),
                workers=settings.workers,
                max_queue=settings.max_queue,
                refresh_interval=settings.refresh_interval,
                retention=settings.retention,
                keep_reports=settings.keep_reports,
                auth=settings.api_token is not None,
                reports_in="thread" if in_process else "process",
            )
        )
        yield
