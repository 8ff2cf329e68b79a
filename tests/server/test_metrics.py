"""
``GET /metrics``: the Prometheus text format, parsed with ``prometheus_client.parser``,
with exact values after a known sequence of requests; the token, ``--metrics-public``,
one registry per application, and the refresh's counts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from storemon.model import ReportJob, to_epoch_us
from storemon.testing import InMemoryRepository, ManualClock
from storemon_server import metrics
from storemon_server.ingest import PartialIngest
from storemon_server.keys import INGEST, JOBS
from tests.server.conftest import TOKEN, MakeClient
from tests.server.support import LAST_POLL_AT

AUTH = {"Authorization": f"Bearer {TOKEN}"}
CSV = {"Content-Type": "text/csv"}
REPORT_ID = "AAAAAAAAAAAAAAAAAAAAAA"  # shaped like a report id; no such report

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: TestClient[Any, Any], headers: dict[str, str] | None = None) -> Samples:
    """GET /metrics and parse it with the client library's own parser."""
    response = await client.get("/metrics", headers=AUTH if headers is None else headers)
    assert response.status == 200
    # The client library's text format, with the type it names for it (CONTENT_TYPE_LATEST).
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[name, frozenset(labels.items())]


def series(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: found for (sample, labels), found in samples.items() if sample == name}


def requests(samples: Samples) -> dict[tuple[str, str], float]:
    return {
        (dict(labels)["route"], dict(labels)["status"]): count
        for labels, count in series(samples, "storemon_http_requests_total").items()
    }


def ingested(samples: Samples, kind: str) -> tuple[float, float, float]:
    return (
        value(samples, "storemon_ingest_rows_total", kind=kind, outcome="stored"),
        value(samples, "storemon_ingest_rows_total", kind=kind, outcome="already_present"),
        value(samples, "storemon_ingest_rows_total", kind=kind, outcome="rejected"),
    )


PUSH = (
    b"store_id,status,timestamp_utc\n"
    b"1481966498820158979,active,2023-01-25 19:00:00 UTC\n"
    b"1481966498820158979,inactive,2023-01-25 19:30:00 UTC\n"
    b"=1,active,2023-01-25 19:00:00 UTC\n"
)


async def test_metrics_count_a_known_sequence_of_requests(make_client: MakeClient) -> None:
    """After a known sequence of requests every counter holds exactly what happened."""
    client = await make_client(api_token=TOKEN)
    before = await scrape(client)
    assert requests(before) == {}  # a scrape is counted once answered: in the next one
    assert value(before, "storemon_reports_total", status="complete") == 0
    assert value(before, "storemon_reports_total", status="failed") == 0
    assert ingested(before, "status") == (0, 0, 0)
    assert value(before, "storemon_newest_poll_timestamp_seconds") == LAST_POLL_AT.timestamp()
    assert value(before, "storemon_last_refresh_timestamp_seconds") == 0

    assert (await client.post("/api/polls", data=PUSH, headers=CSV)).status == 401
    for _ in range(2):  # the second is a replay: already present
        response = await client.post("/api/polls", data=PUSH, headers={**CSV, **AUTH})
        assert response.status == 200
    assert (await client.get("/no/such/page/12345", headers=AUTH)).status == 404
    assert (await client.get("/no/such/page/67890", headers=AUTH)).status == 404
    assert (await client.get("/api/trigger_report", headers=AUTH)).status == 405
    path = f"/api/reports/{REPORT_ID}/stores/1481966498820158979"
    assert (await client.get(path, headers=AUTH)).status == 404
    assert (await client.post("/api/trigger_report", headers=AUTH)).status == 200
    await client.server.app[JOBS].join()

    after = await scrape(client)
    assert requests(after) == {
        ("/metrics", "200"): 1,
        ("/api/polls", "401"): 1,
        ("/api/polls", "200"): 2,
        ("unmatched", "404"): 2,  # the raw paths never become labels
        ("unmatched", "405"): 1,  # nor a method the route does not take
        ("/api/reports/{report_id}/stores/{store_id}", "404"): 1,
        ("/api/trigger_report", "200"): 1,
    }
    assert ingested(after, "status") == (2, 2, 2)
    assert ingested(after, "business_hours") == (0, 0, 0)
    assert value(after, "storemon_reports_total", status="complete") == 1
    assert value(after, "storemon_reports_total", status="failed") == 0
    assert value(after, "storemon_report_shards_total") == 1
    assert value(after, "storemon_report_duration_seconds_count") == 1
    assert value(after, "storemon_report_duration_seconds_bucket", le="+Inf") == 1
    assert value(after, "storemon_report_duration_seconds_sum") > 0
    assert value(after, "storemon_report_queue_length") == 0
    newest = dt.datetime(2023, 1, 25, 19, 30, tzinfo=dt.UTC)
    assert value(after, "storemon_newest_poll_timestamp_seconds") == newest.timestamp()

    later = await scrape(client)
    assert requests(later)["/metrics", "200"] == 2


async def test_failed_reports_and_hours_and_zones_are_counted(make_client: MakeClient) -> None:
    """A report whose computation fails counts as failed (no shard); pushed hours and zones
    count under their kinds."""

    async def failing(job: ReportJob) -> str:
        raise RuntimeError("boom")

    client = await make_client(compute=failing)
    assert (await client.post("/api/trigger_report")).status == 200
    await client.server.app[JOBS].join()
    week = b'[{"day_of_week": 0, "start_time_local": "09:00", "end_time_local": "17:00"}]'
    zone = b'{"timezone_str": "Asia/Tokyo"}'
    json_type = {"Content-Type": "application/json"}
    for _ in range(2):
        await client.put("/api/stores/1/hours", data=week, headers=json_type)
        await client.put("/api/stores/1/timezone", data=zone, headers=json_type)
    await client.put(
        "/api/stores/1/timezone", data=b'{"timezone_str": "Nowhere"}', headers=json_type
    )
    samples = await scrape(client, headers={})
    assert value(samples, "storemon_reports_total", status="failed") == 1
    assert value(samples, "storemon_reports_total", status="complete") == 0
    assert value(samples, "storemon_report_shards_total") == 0
    assert value(samples, "storemon_report_duration_seconds_count") == 1
    assert ingested(samples, "business_hours") == (1, 1, 0)
    assert ingested(samples, "timezones") == (1, 1, 1)


async def test_metrics_need_the_token_unless_public(make_client: MakeClient) -> None:
    """With a token /metrics is 401 without it; --metrics-public serves it without one,
    and only it: the other routes still need the token."""
    private = await make_client(api_token=TOKEN)
    assert (await private.get("/metrics")).status == 401
    public = await make_client(api_token=TOKEN, metrics_public=True)
    samples = await scrape(public, headers={})
    assert value(samples, "storemon_report_queue_length") == 0
    assert (await public.get("/api/reports")).status == 401
    assert (await public.post("/api/polls", data=PUSH, headers=CSV)).status == 401


async def test_each_app_counts_in_its_own_registry(make_client: MakeClient) -> None:
    """Two apps in one process keep apart counts (no global registry)."""
    one = await make_client(repository=InMemoryRepository())
    two = await make_client(repository=InMemoryRepository())
    assert (await one.post("/api/polls", data=PUSH, headers=CSV)).status == 200
    assert ingested(await scrape(one, headers={}), "status") == (2, 0, 1)
    two_samples = await scrape(two, headers={})
    assert ingested(two_samples, "status") == (0, 0, 0)
    assert value(two_samples, "storemon_newest_poll_timestamp_seconds") == 0


async def _forever(_seconds: float) -> None:
    await asyncio.Event().wait()


async def test_refreshes_count_their_rows_and_time(make_client: MakeClient) -> None:
    """A refresh counts each source's rows; the last refresh is the clock at its end, and
    only when every source was read."""
    clock = ManualClock(dt.datetime(2024, 3, 10, 7, 0, tzinfo=dt.UTC))

    async def ingest() -> dict[str, Any]:
        clock.advance(dt.timedelta(seconds=90))
        return {
            "status": {"mode": "appended", "stored": 5, "present": 2, "rejected": 1},
            "timezones": {"mode": "unchanged", "stored": 0, "present": 0, "rejected": 0},
        }

    client = await make_client(clock=clock, ingest_sources=ingest, sleep=_forever)
    await asyncio.wait_for(client.server.app[INGEST].ready.wait(), 5)
    samples = await scrape(client, headers={})
    assert ingested(samples, "status") == (5, 2, 1)
    assert ingested(samples, "timezones") == (0, 0, 0)
    finished = dt.datetime(2024, 3, 10, 7, 1, 30, tzinfo=dt.UTC).timestamp()
    assert value(samples, "storemon_last_refresh_timestamp_seconds") == finished

    async def partial() -> dict[str, Any]:
        summary = {
            "status": {"mode": "full", "stored": 3, "present": 0, "rejected": 4},
            "business_hours": {"mode": "failed", "stored": 0, "present": 0, "rejected": 0},
        }
        raise PartialIngest("business_hours.csv: cannot open", summary)

    # Its own database: on the first one, the refresh of this interval is claimed.
    failing = await make_client(
        repository=InMemoryRepository(), clock=clock, ingest_sources=partial, sleep=_forever
    )
    await asyncio.wait_for(failing.server.app[INGEST].ready.wait(), 5)
    samples = await scrape(failing, headers={})
    assert ingested(samples, "status") == (3, 0, 4)
    assert value(samples, "storemon_last_refresh_timestamp_seconds") == 0


async def test_the_newest_poll_is_read_at_most_once_a_minute(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polls another process stores show at the first scrape a minute after the last read
    (a read scans the polls on SQLite); polls this process stores show at once."""
    repository = InMemoryRepository()
    client = await make_client(repository=repository)
    assert value(await scrape(client, headers={}), "storemon_newest_poll_timestamp_seconds") == 0
    elsewhere = dt.datetime(2023, 1, 25, 10, tzinfo=dt.UTC)
    await repository.add_polls([("7", to_epoch_us(elsewhere), True)])  # another process
    assert value(await scrape(client, headers={}), "storemon_newest_poll_timestamp_seconds") == 0
    assert (await client.post("/api/polls", data=PUSH, headers=CSV)).status == 200
    pushed = dt.datetime(2023, 1, 25, 19, 30, tzinfo=dt.UTC).timestamp()
    assert value(await scrape(client, headers={}), "storemon_newest_poll_timestamp_seconds") == (
        pushed
    )
    later = dt.datetime(2023, 1, 26, tzinfo=dt.UTC)
    await repository.add_polls([("7", to_epoch_us(later), True)])
    monkeypatch.setattr(metrics, "NEWEST_POLL_EVERY_S", 0.0)  # as if a minute had passed
    samples = await scrape(client, headers={})
    assert value(samples, "storemon_newest_poll_timestamp_seconds") == later.timestamp()
