"""
The HTTP API on the in-memory backend: every status and error case.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from storemon.errors import StorageError
from storemon.model import ReportStatus
from storemon.testing import InMemoryRepository, ManualClock
from storemon_server.handlers import REPORT_ID
from storemon_server.jobs import new_report_id
from storemon_server.keys import INGEST, JOBS
from tests.server.conftest import TOKEN, Gate, MakeClient, wait_for
from tests.server.support import LAST_POLL_AT, expected_csv, small_data

Client = TestClient[Any, Any]


async def trigger(client: Client, **headers: str) -> str:
    response = await client.post("/api/trigger_report", headers=headers)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["status"] == "Running"
    assert body["message"] == "Success"
    report_id: str = body["report_id"]
    return report_id


async def finished(client: Client, report_id: str, **params: str) -> Any:
    for _ in range(1000):
        response = await client.get("/api/get_report", params={"report_id": report_id, **params})
        if response.status != 200 or response.headers.get("X-Report-Status") == "Complete":
            return response
        assert (await response.json())["status"] == "Running"
        await asyncio.sleep(0.01)
    raise AssertionError("the report never finished")


async def test_trigger_answers_running_with_a_fresh_128_bit_id(make_client: MakeClient) -> None:
    """A trigger answers 200 Running/Success with a new 22-character URL-safe id each time."""
    client = await make_client()
    ids = {await trigger(client) for _ in range(5)}
    assert len(ids) == 5
    assert all(REPORT_ID.fullmatch(report_id) for report_id in ids)


async def test_report_is_running_then_complete_with_the_library_csv(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """A report reads Running while it computes, then Complete with the library's CSV."""
    gate = Gate(data_repository)
    client = await make_client(compute=gate)
    report_id = await trigger(client)
    await asyncio.wait_for(gate.entered.wait(), 5)

    response = await client.get("/api/get_report", params={"report_id": report_id})
    assert response.status == 200
    assert response.content_type == "application/json"
    assert response.headers["X-Report-Status"] == "Running"
    assert await response.json() == {
        "report_id": report_id,
        "status": "Running",
        "state": "Running",
    }

    gate.open()
    response = await finished(client, report_id)
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.headers["X-Report-Status"] == "Complete"
    assert (
        response.headers["Content-Disposition"] == f'attachment; filename="report-{report_id}.csv"'
    )
    assert await response.text() == await expected_csv(data_repository, LAST_POLL_AT)


async def test_queued_report_reads_running_with_state_pending(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """A report waiting for a worker answers Running, with state Pending."""
    gate = Gate(data_repository)
    client = await make_client(compute=gate, workers=1)
    first = await trigger(client)
    await asyncio.wait_for(gate.entered.wait(), 5)
    second = await trigger(client)
    body = await (await client.get("/api/get_report", params={"report_id": second})).json()
    assert body == {"report_id": second, "status": "Running", "state": "Pending"}
    gate.open()
    for report_id in (first, second):
        assert (await finished(client, report_id)).status == 200


async def test_json_format_keeps_ids_as_strings_and_values_as_csv_text(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """format=json gives as_of and one row per store with string ids and two-decimal strings."""
    client = await make_client()
    report_id = await trigger(client)
    response = await finished(client, report_id, format="json")
    assert response.status == 200
    body = await response.json()
    assert body["report_id"] == report_id
    assert body["status"] == "Complete"
    assert dt.datetime.fromisoformat(body["as_of"]) == LAST_POLL_AT
    lines = (await expected_csv(data_repository, LAST_POLL_AT)).splitlines()
    header = lines[0].split(",")
    assert body["rows"] == [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    assert all(isinstance(row["store_id"], str) for row in body["rows"])
    assert body["rows"][0]["uptime_last_week"].count(".") == 1


async def test_as_of_is_fixed_when_the_report_is_triggered(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """Polls stored after the trigger do not move the report's as_of."""
    gate = Gate(data_repository)
    client = await make_client(compute=gate)
    report_id = await trigger(client)
    later = LAST_POLL_AT + dt.timedelta(hours=2)
    store_id = small_data()[0][0][0]
    await data_repository.add_polls([(store_id, int(later.timestamp() * 1_000_000), False)])
    gate.open()
    body = await (await finished(client, report_id, format="json")).json()
    assert dt.datetime.fromisoformat(body["as_of"]) == LAST_POLL_AT
    csv = await (await finished(client, report_id)).text()
    assert csv == await expected_csv(data_repository, LAST_POLL_AT)


async def test_failed_report_answers_500_with_the_reason(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """A report whose computation raises a storemon error answers 500 Failed with its message."""
    gate = Gate(data_repository)
    gate.error = StorageError("the disk is on fire")
    gate.open()
    client = await make_client(compute=gate)
    report_id = await trigger(client)
    response = await finished(client, report_id)
    assert response.status == 500
    assert response.headers["X-Report-Status"] == "Failed"
    assert await response.json() == {
        "report_id": report_id,
        "status": "Failed",
        "error": "the disk is on fire",
    }


async def test_unexpected_failure_does_not_leak_internals(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """A report failing with a non-storemon exception reports its type only, not its text."""
    gate = Gate(data_repository)
    gate.error = RuntimeError("/secret/path leaked")
    gate.open()
    client = await make_client(compute=gate)
    report_id = await trigger(client)
    body = await (await finished(client, report_id)).json()
    assert body["status"] == "Failed"
    assert "RuntimeError" in body["error"]
    assert "secret" not in body["error"]


async def test_unknown_id_is_404(make_client: MakeClient) -> None:
    """A well-formed id that no report has answers 404 with a JSON error."""
    client = await make_client()
    response = await client.get("/api/get_report", params={"report_id": new_report_id()})
    assert response.status == 404
    assert "error" in await response.json()


async def test_missing_id_is_400(make_client: MakeClient) -> None:
    """get_report without report_id answers 400 naming the parameter."""
    client = await make_client()
    response = await client.get("/api/get_report")
    assert response.status == 400
    assert "report_id" in (await response.json())["error"]


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "abc",
        "x" * 21,
        "x" * 23,
        "A" * 21 + "B",  # the last character carries 2 bits only: A, Q, g or w
        "A" * 20 + "+/",
        "A" * 21 + "=",
        "../../../../etc/passwd",
        "1' OR '1'='1",
        "é" * 22,
        "A" * 21 + "A\n",
        "%00" * 22,
    ],
)
async def test_garbage_ids_are_400(make_client: MakeClient, garbage: str) -> None:
    """Ids not shaped like token_urlsafe(16) answer 400 before touching the repository."""
    client = await make_client()
    response = await client.get("/api/get_report", params={"report_id": garbage})
    assert response.status == 400
    assert "malformed" in (await response.json())["error"]


async def test_repeated_id_and_unknown_format_are_400(make_client: MakeClient) -> None:
    """A repeated report_id or a format other than csv/json answers 400."""
    client = await make_client()
    report_id = new_report_id()
    response = await client.get(f"/api/get_report?report_id={report_id}&report_id={report_id}")
    assert response.status == 400
    response = await client.get("/api/get_report", params={"report_id": report_id, "format": "xml"})
    assert response.status == 400
    assert "format" in (await response.json())["error"]


async def test_long_query_string_is_400_json(make_client: MakeClient) -> None:
    """A query string longer than any valid request answers 400 with a JSON error."""
    client = await make_client()
    response = await client.get("/api/get_report?report_id=" + "A" * 4000)
    assert response.status == 400
    assert "longer" in (await response.json())["error"]


async def test_huge_request_line_is_refused_by_the_parser(make_client: MakeClient) -> None:
    """A request line beyond the parser's limit is refused with 400 before any handler."""
    client = await make_client()
    response = await client.get("/api/get_report?report_id=" + "A" * 20_000)
    assert response.status == 400


async def test_huge_body_is_413(make_client: MakeClient) -> None:
    """A body beyond client_max_size on the one POST route answers 413 JSON."""
    client = await make_client()
    response = await client.post("/api/trigger_report", data=b"x" * (200 * 1024))
    assert response.status == 413
    assert "error" in await response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/trigger_report"),
        ("PUT", "/api/trigger_report"),
        ("POST", "/api/get_report"),
        ("DELETE", "/api/get_report"),
        ("POST", "/api/health"),
    ],
)
async def test_wrong_method_is_405_json(make_client: MakeClient, method: str, path: str) -> None:
    """A route called with the wrong method answers 405 JSON with an Allow header."""
    client = await make_client()
    response = await client.request(method, path)
    assert response.status == 405
    assert "Allow" in response.headers
    assert "error" in await response.json()


async def test_unknown_route_is_404_json(make_client: MakeClient) -> None:
    """A path that is no route answers 404 with a JSON error."""
    client = await make_client()
    response = await client.get("/api/nothing")
    assert response.status == 404
    assert "error" in await response.json()


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token-0123456789", f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
)
async def test_token_is_required_except_for_health(
    make_client: MakeClient, authorization: str | None
) -> None:
    """With an API token, a missing or wrong Authorization answers 401; health stays open."""
    client = await make_client(api_token=TOKEN)
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in (
        ("POST", "/api/trigger_report"),
        ("GET", f"/api/get_report?report_id={new_report_id()}"),
        ("GET", "/api/openapi.json"),
        ("GET", "/api/nothing"),
    ):
        response = await client.request(method, path, headers=headers)
        assert response.status == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in await response.json()
    assert (await client.get("/api/health", headers=headers)).status == 200


async def test_right_token_is_accepted(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """With the right bearer token every route works."""
    client = await make_client(api_token=TOKEN)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    report_id = await trigger(client, **headers)
    for _ in range(500):
        response = await client.get(
            "/api/get_report", params={"report_id": report_id}, headers=headers
        )
        if response.headers.get("X-Report-Status") == "Complete":
            break
        await asyncio.sleep(0.01)
    assert await response.text() == await expected_csv(data_repository, LAST_POLL_AT)


async def test_trigger_before_the_first_ingest_is_503(make_client: MakeClient) -> None:
    """Until the start-up ingest finishes, health says not ready and a trigger answers 503."""
    release = asyncio.Event()

    async def slow_ingest() -> dict[str, Any]:
        await release.wait()
        return {"status": {"rows": 3}}

    client = await make_client(ingest_sources=slow_ingest)
    health = await (await client.get("/api/health")).json()
    assert health["ready"] is False
    assert health["last_ingest"] is None
    response = await client.post("/api/trigger_report")
    assert response.status == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "error" in await response.json()

    release.set()
    await wait_for(lambda: client.app[INGEST].ready.is_set())
    health = await (await client.get("/api/health")).json()
    assert health["ready"] is True
    assert health["last_ingest"]["ok"] is True
    assert health["last_ingest"]["sources"] == {"status": {"rows": 3}}
    assert (await client.post("/api/trigger_report")).status == 200


async def test_full_queue_answers_503(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """Past max_queue waiting reports a trigger answers 503 with Retry-After; order is kept."""
    gate = Gate(data_repository)
    client = await make_client(compute=gate, workers=1, max_queue=2)
    first = await trigger(client)
    await asyncio.wait_for(gate.entered.wait(), 5)
    waiting = [await trigger(client), await trigger(client)]
    response = await client.post("/api/trigger_report")
    assert response.status == 503
    assert int(response.headers["Retry-After"]) > 0
    assert client.app[JOBS].queued == 2
    gate.open()
    for report_id in [first, *waiting]:
        assert (await finished(client, report_id)).status == 200
    assert gate.calls == [first, *waiting]


async def test_trigger_without_polls_is_409(make_client: MakeClient) -> None:
    """With no polls stored a trigger answers 409: a report would have no 'now'."""
    client = await make_client(repository=InMemoryRepository())
    response = await client.post("/api/trigger_report")
    assert response.status == 409
    assert "no polls" in (await response.json())["error"]


async def test_storage_errors_are_503(make_client: MakeClient) -> None:
    """A repository failure while answering becomes 503 JSON."""

    class Broken(InMemoryRepository):
        async def get_report(self, report_id: str) -> Any:
            raise StorageError("database is down")

    client = await make_client(repository=Broken())
    response = await client.get("/api/get_report", params={"report_id": new_report_id()})
    assert response.status == 503
    assert await response.json() == {"error": "database is down"}


async def test_unexpected_handler_errors_are_500_without_details(make_client: MakeClient) -> None:
    """A non-storemon exception in a handler answers 500 with a generic JSON error."""

    class Broken(InMemoryRepository):
        async def get_report(self, report_id: str) -> Any:
            raise RuntimeError("/secret/path")

    client = await make_client(repository=Broken())
    response = await client.get("/api/get_report", params={"report_id": new_report_id()})
    assert response.status == 500
    assert await response.json() == {"error": "internal server error"}


async def test_health_reports_jobs(make_client: MakeClient) -> None:
    """Health answers ok, ready, the last ingest (none without sources) and job counts."""
    client = await make_client()
    response = await client.get("/api/health")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "ready": True,
        "last_ingest": None,
        "reports": {"running": 0, "queued": 0},
        "database": "up",
    }


async def test_unfinished_jobs_are_resumed_at_start(
    data_repository: InMemoryRepository, make_client: MakeClient
) -> None:
    """Jobs an earlier process left are computed: Pending at once, Running once its lease ends."""
    created = LAST_POLL_AT + dt.timedelta(minutes=1)
    running = await data_repository.create_report(
        new_report_id(), as_of=LAST_POLL_AT - dt.timedelta(hours=5), created_at=created
    )
    claimed = await data_repository.claim_report("died", lease=dt.timedelta(seconds=1.5))
    assert claimed is not None
    pending = await data_repository.create_report(
        new_report_id(), as_of=LAST_POLL_AT, created_at=created + dt.timedelta(seconds=1)
    )
    client = await make_client()
    await client.app[JOBS].join()
    assert (await data_repository.get_report(pending.report_id)).status == ReportStatus.COMPLETE
    assert (await data_repository.get_report(running.report_id)).status == ReportStatus.RUNNING
    for _ in range(500):  # the lease runs out, then a worker's next look takes the job
        if (await data_repository.get_report(running.report_id)).status != ReportStatus.RUNNING:
            break
        await asyncio.sleep(0.01)
    for job in (pending, running):
        done = await data_repository.get_report(job.report_id)
        assert done.status == ReportStatus.COMPLETE
        assert done.csv == await expected_csv(data_repository, job.as_of)  # type: ignore[arg-type]


async def test_shutdown_hands_running_jobs_back(
    data_repository: InMemoryRepository, make_client: MakeClient
) -> None:
    """A job running at shutdown goes back to Pending, and the next start completes it."""
    gate = Gate(data_repository)
    client = await make_client(compute=gate)
    report_id = await trigger(client)
    await asyncio.wait_for(gate.entered.wait(), 5)
    await client.close()
    job = await data_repository.get_report(report_id)
    assert job.status == ReportStatus.PENDING

    client = await make_client()
    await client.app[JOBS].join()
    job = await data_repository.get_report(report_id)
    assert job.status == ReportStatus.COMPLETE
    assert job.csv == await expected_csv(data_repository, LAST_POLL_AT)


async def test_job_times_come_from_the_injected_clock(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """A job's created and finished times are read from the app's clock."""
    clock = ManualClock(dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    client = await make_client(clock=clock)
    report_id = await trigger(client)
    await client.app[JOBS].join()
    job = await data_repository.get_report(report_id)
    assert job.created_at == clock.now
    assert job.finished_at == clock.now
    assert job.as_of == LAST_POLL_AT
