"""
Load: many concurrent triggers and reads, every report correct.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from storemon.testing import InMemoryRepository
from storemon_server.keys import JOBS
from tests.server.conftest import Gate, MakeClient
from tests.server.support import LAST_POLL_AT, expected_csv


async def test_50_triggers_and_500_reads_at_once(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """50 concurrent triggers and 500 concurrent get_report calls all succeed, reports exact."""
    client = await make_client(workers=2, max_queue=100)

    async def trigger() -> str:
        response = await client.post("/api/trigger_report")
        assert response.status == 200, await response.text()
        report_id: str = (await response.json())["report_id"]
        return report_id

    ids = await asyncio.gather(*(trigger() for _ in range(50)))
    assert len(set(ids)) == 50

    async def read(report_id: str) -> tuple[int, str | None]:
        response = await client.get("/api/get_report", params={"report_id": report_id})
        complete = response.headers.get("X-Report-Status") == "Complete"
        body = await response.text()
        return response.status, body if complete else None

    # Reads race the workers: each answer is Running or the complete report.
    first = await asyncio.gather(*(read(ids[number % 50]) for number in range(500)))
    assert {status for status, _ in first} == {200}
    await client.app[JOBS].join()
    second = await asyncio.gather(*(read(ids[number % 50]) for number in range(500)))
    expected = await expected_csv(data_repository, LAST_POLL_AT)
    assert all(status == 200 and body == expected for status, body in second)
    assert all(body in (None, expected) for _, body in first)


async def test_reports_differ_when_data_changes_between_triggers(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """Concurrent reports triggered around an ingest each match the data at their as_of."""
    client = await make_client(workers=2)
    before = (await (await client.post("/api/trigger_report")).json())["report_id"]
    later = LAST_POLL_AT + dt.timedelta(minutes=20)
    store_id = "1481966498820158979"
    await data_repository.add_polls([(store_id, int(later.timestamp()) * 1_000_000, False)])
    after = (await (await client.post("/api/trigger_report")).json())["report_id"]
    await client.app[JOBS].join()
    for report_id, as_of in ((before, LAST_POLL_AT), (after, later)):
        response = await client.get("/api/get_report", params={"report_id": report_id})
        assert await response.text() == await expected_csv(data_repository, as_of)


async def test_concurrent_triggers_never_overfill_the_queue(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """20 triggers at once against max_queue=5 admit at most 5 waiting plus 1 running."""
    gate = Gate(data_repository)
    client = await make_client(compute=gate, workers=1, max_queue=5)
    responses = await asyncio.gather(*(client.post("/api/trigger_report") for _ in range(20)))
    statuses = [response.status for response in responses]
    assert set(statuses) == {200, 503}
    assert statuses.count(200) in (5, 6)
    assert client.app[JOBS].queued <= 5
    gate.open()
    await client.app[JOBS].join()
    assert len(gate.calls) == statuses.count(200)
