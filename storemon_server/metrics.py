"""
The server's Prometheus metrics, ``GET /metrics`` (docs/operations.md, "Metrics").

Written with the official client library, ``prometheus_client``, into one
``CollectorRegistry`` per application (never the library's global one), so that several
applications in one process (the tests) count apart. Counters and the histogram are
this process's; the two gauges read from the database (the queue's length and the newest
poll) are read at each scrape, so that every process sharing a database reports them.

The request counter's ``route`` label is the router's canonical path (``/api/reports/
{report_id}/stores/{store_id}``), never the URL asked for, and ``unmatched`` for a path
no route has (or a method its route does not take): its values are bounded by the
routes, whatever clients send.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from storemon.errors import StorageError
from storemon.model import ReportJob, ReportShard, ShardResult
from storemon.sources import SourceKind
from storemon_server.jobs import Clock, Compute, ComputeShard, Ingest, ServerRepository

#: ``storemon_reports_total`` statuses.
COMPLETE, FAILED = "complete", "failed"
#: ``storemon_ingest_rows_total`` outcomes.
STORED, ALREADY_PRESENT, REJECTED = "stored", "already_present", "rejected"
#: The ``route`` of a request no route matched.
UNMATCHED = "unmatched"
#: Buckets of ``storemon_report_duration_seconds``: from a small test set (well under a
#: second) to the 10x fleet (about 13 s) and beyond.
REPORT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
#: Seconds between two reads of the newest poll from the database. On SQLite it is a scan
#: of every poll (the table is keyed by store first), and an alert on polls that stopped
#: arriving looks at hours: a scrape every few seconds must not scan the table each time.
#: Polls this process stores (pushes) move the gauge at once, and a refresh makes the
#: next scrape read it again.
NEWEST_POLL_EVERY_S = 60.0
#: The kinds of ``storemon_ingest_rows_total`` (``SourceKind.label``), counted from zero.
INGEST_KINDS = (SourceKind.STATUS.label, SourceKind.HOURS.label, SourceKind.ZONES.label)


class Metrics:
    """
    One application's metrics, in its own registry.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.reports = Counter(
            "storemon_reports",
            "Reports this process computed, by outcome (complete or failed).",
            ["status"],
            registry=registry,
        )
        self.report_duration = Histogram(
            "storemon_report_duration_seconds",
            "Seconds from a worker's start on a report to its CSV (or its failure).",
            buckets=REPORT_BUCKETS,
            registry=registry,
        )
        self.queue_length = Gauge(
            "storemon_report_queue_length",
            "Reports waiting for a worker (Pending), over every process on the database, "
            "read at the scrape.",
            registry=registry,
        )
        self.shards = Counter(
            "storemon_report_shards",
            "Report shards this process computed (a report is split into shards of at "
            "most --report-shard-stores stores, computed by every server's workers).",
            registry=registry,
        )
        self.ingest_rows = Counter(
            "storemon_ingest_rows",
            "Rows read by refreshes of the sources and by pushes, by kind (status, "
            "business_hours, timezones) and outcome (stored, already_present, rejected).",
            ["kind", "outcome"],
            registry=registry,
        )
        self.last_refresh = Gauge(
            "storemon_last_refresh_timestamp_seconds",
            "When this process last finished a refresh that read every source (Unix "
            "time); 0 before the first.",
            registry=registry,
        )
        self.newest_poll = Gauge(
            "storemon_newest_poll_timestamp_seconds",
            "The newest stored poll (Unix time), read at the scrape; 0 while there is none.",
            registry=registry,
        )
        self.http_requests = Counter(
            "storemon_http_requests",
            "HTTP requests answered, by route (the router's path pattern) and status.",
            ["route", "status"],
            registry=registry,
        )
        #: When the newest poll was last read from the database (``time.monotonic``), and
        #: the value of its gauge (Unix time).
        self._newest_read_at: float | None = None
        self._newest_s = 0.0
        # Series an alert divides or takes a rate of exist from the start, at zero.
        for status in (COMPLETE, FAILED):
            self.reports.labels(status)
        for kind in INGEST_KINDS:
            for outcome in (STORED, ALREADY_PRESENT, REJECTED):
                self.ingest_rows.labels(kind, outcome)

    def report_finished(self, *, ok: bool, seconds: float) -> None:
        """
        Count a report whose job this process held, and its duration.
        """
        self.reports.labels(COMPLETE if ok else FAILED).inc()
        self.report_duration.observe(seconds)

    def measured_shard(self, compute_shard: ComputeShard) -> ComputeShard:
        """
        Return ``compute_shard`` counting each shard it computes.
        """

        async def measured(shard: ReportShard) -> ShardResult:
            result = await compute_shard(shard)
            self.shards.inc()
            return result

        return measured

    def rows_ingested(self, kind: str, *, stored: int, present: int, rejected: int) -> None:
        """
        Count the rows of one source read (a file at a refresh, or a push).
        """
        self.ingest_rows.labels(kind, STORED).inc(stored)
        self.ingest_rows.labels(kind, ALREADY_PRESENT).inc(present)
        self.ingest_rows.labels(kind, REJECTED).inc(rejected)

    def refresh_finished(self, summary: Mapping[str, Any] | None, *, ok: bool, at: float) -> None:
        """
        Count the rows of a refresh's summary (``storemon_server.ingest.summarise``); when
        every source was read (``ok``), record ``at`` as the last refresh.
        """
        for kind, source in (summary or {}).items():
            self.rows_ingested(
                kind,
                stored=int(source.get("stored") or 0),
                present=int(source.get("present") or 0),
                rejected=int(source.get("rejected") or 0),
            )
        if ok:
            self.last_refresh.set(at)
        self._newest_read_at = None  # new polls may be stored: read it at the next scrape

    def polls_pushed(self, newest_us: int) -> None:
        """
        Move the newest poll to ``newest_us`` (microseconds) if that is later: this
        process has just stored it.
        """
        self._set_newest(max(self._newest_s, newest_us / 1_000_000))

    def _set_newest(self, seconds: float) -> None:
        self._newest_s = seconds
        self.newest_poll.set(seconds)

    def request(self, route: str, status: int) -> None:
        """
        Count an answered request.
        """
        self.http_requests.labels(route, str(status)).inc()

    async def exposition(self, repository: ServerRepository) -> bytes:
        """
        Read the gauges the database holds (the newest poll at most every
        ``NEWEST_POLL_EVERY_S``), then return every metric in the text format.

        While the database does not answer, those two keep their last values; the
        counters are served all the same.
        """
        with contextlib.suppress(StorageError):
            self.queue_length.set(await repository.queued_reports())
            now = time.monotonic()
            last = self._newest_read_at
            if last is None or now - last >= NEWEST_POLL_EVERY_S:
                newest = await repository.latest_poll_at()
                self._set_newest(0 if newest is None else newest.timestamp())
                self._newest_read_at = now
        return generate_latest(self.registry)

    def measured_compute(self, compute: Compute) -> Compute:
        """
        Return ``compute`` counting each report it computes, and its duration.
        """

        async def measured(job: ReportJob) -> str:
            started = time.perf_counter()
            try:
                csv = await compute(job)
            except asyncio.CancelledError:
                raise  # handed back, not computed: another worker computes it
            except Exception:
                self.report_finished(ok=False, seconds=time.perf_counter() - started)
                raise
            self.report_finished(ok=True, seconds=time.perf_counter() - started)
            return csv

        return measured

    def measured_ingest(self, ingest: Ingest, clock: Clock) -> Ingest:
        """
        Return ``ingest`` counting the rows of each refresh and the time of the last whole one.
        """

        async def measured() -> dict[str, Any]:
            try:
                summary = await ingest()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.refresh_finished(getattr(error, "summary", None), ok=False, at=0)
                raise
            self.refresh_finished(summary, ok=True, at=clock().timestamp())
            return summary

        return measured


def route_of(request: web.Request) -> str:
    """
    Return the canonical path of the route that took ``request`` (``unmatched`` for none:
    no route has its path, or none of them takes its method).
    """
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical


def metrics_middleware(metrics: Metrics) -> Middleware:
    """
    Count every answered request by route and status (outermost: it sees the final status,
    errors and refusals included).
    """

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = route_of(request)
        try:
            response = await handler(request)
        except web.HTTPException as error:
            metrics.request(route, error.status)
            raise
        except asyncio.CancelledError:
            raise  # the client went away: nothing was answered
        except BaseException:
            metrics.request(route, 500)
            raise
        metrics.request(route, response.status)
        return response

    return count
