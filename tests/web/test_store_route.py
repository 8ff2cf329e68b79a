"""
``GET /api/reports/{report_id}/stores/{store_id}``: a store's week, equal to its report row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import zoneinfo
from fractions import Fraction
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from storemon.csvformat import format_value
from storemon.model import HOUR_US, MINUTE_US, HoursRow, ReportJob, to_epoch_us
from storemon.testing import InMemoryRepository
from storemon_server.jobs import new_report_id
from storemon_server.worker import compute_in_thread
from tests.server.conftest import TOKEN, MakeClient
from tests.server.support import filled_repository, small_data
from tests.web.support import measure

Client = TestClient[Any, Any]

UNITS = {"last_hour": MINUTE_US, "last_day": HOUR_US, "last_week": HOUR_US}


async def complete_report(client: Client, **headers: str) -> tuple[str, dict[str, dict[str, str]]]:
    """Trigger a report, wait for it, and return its id and its CSV rows by store id."""
    response = await client.post("/api/trigger_report", headers=headers)
    assert response.status == 200, await response.text()
    report_id: str = (await response.json())["report_id"]
    for _ in range(1000):
        response = await client.get(
            "/api/get_report", params={"report_id": report_id}, headers=headers
        )
        if response.headers.get("X-Report-Status") == "Complete":
            lines = (await response.text()).splitlines()
            header = lines[0].split(",")
            rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
            return report_id, {row["store_id"]: row for row in rows}
        await asyncio.sleep(0.01)
    raise AssertionError("the report never finished")


def assert_adds_up(body: dict[str, Any]) -> None:
    """The spans of the body, intersected and summed exactly, round to the row's numbers."""
    for window, unit in UNITS.items():
        up, down = measure(body, body["windows"][window]["us"], body["as_of"]["us"])
        assert format_value(Fraction(up, unit)) == body["row"][f"uptime_{window}"], window
        assert format_value(Fraction(down, unit)) == body["row"][f"downtime_{window}"], window


def assert_local_times(body: dict[str, Any]) -> None:
    """Every instant's local text is the same instant on the store's wall clock."""
    zone = zoneinfo.ZoneInfo(body["zone_key"])
    instants = [body["as_of"], *body["windows"].values(), *body["days"]]
    instants += [
        span[end] for span in body["business"] + body["status"] for end in ("start", "end")
    ]
    instants += [poll["at"] for poll in body["polls"]]
    instants += [change["at"] for change in body["offset_changes"]]
    for instant in instants:
        at = dt.datetime.fromisoformat(instant["utc"])
        local = dt.datetime.fromisoformat(instant["local"])
        assert to_epoch_us(at) == instant["us"]
        assert local == at.replace(microsecond=0)
        assert local.utcoffset() == at.astimezone(zone).utcoffset()


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_numbers_equal_the_report_for_random_stores(
    make_client: MakeClient, seed: int
) -> None:
    """For random stores the route's row equals the report's CSV row, and its spans add up to it."""
    repository = await filled_repository(stores=30, seed=seed)
    client = await make_client(repository=repository)
    report_id, rows = await complete_report(client)
    for store_id in random.Random(seed).sample(sorted(rows), 8):
        response = await client.get(f"/api/reports/{report_id}/stores/{store_id}")
        assert response.status == 200, await response.text()
        body = await response.json()
        assert body["store_id"] == store_id
        assert body["row"] == rows[store_id]
        assert body["report_row"] == rows[store_id]
        assert body["matches_report"] is True
        assert_adds_up(body)
        assert_local_times(body)


async def test_week_across_a_dst_change_is_marked_and_local(make_client: MakeClient) -> None:
    """A Chicago week over 2024-03-10 has one offset change, -06:00 to -05:00, and local days."""
    repository = InMemoryRepository()
    as_of = dt.datetime(2024, 3, 12, 15, 0, tzinfo=dt.UTC)
    polls = [
        ("dst-store", to_epoch_us(as_of - dt.timedelta(minutes=37 * k)), k % 7 != 3)
        for k in range(0, 8 * 24 * 60 // 37)
    ]
    await repository.add_polls(polls)
    await repository.replace_zones([("dst-store", "America/Chicago")])
    await repository.replace_hours(
        [("dst-store", HoursRow(day, dt.time(1, 30), dt.time(3, 30))) for day in range(7)]
    )
    client = await make_client(repository=repository)
    report_id, rows = await complete_report(client)
    body = await (await client.get(f"/api/reports/{report_id}/stores/dst-store")).json()
    assert body["zone_key"] == "America/Chicago"
    [change] = body["offset_changes"]
    assert (change["offset_before"], change["offset_after"]) == ("-06:00", "-05:00")
    assert change["at"]["utc"].startswith("2024-03-10T08:00:00")
    assert change["at"]["local"] == "2024-03-10T03:00:00-05:00"
    assert [day["local"][:10] for day in body["days"]] == [f"2024-03-{d:02d}" for d in range(6, 13)]
    assert all(day["local"].endswith("T00:00:00" + day["local"][-6:]) for day in body["days"])
    assert body["row"] == rows["dst-store"]
    assert_adds_up(body)
    assert_local_times(body)


async def test_route_works_while_the_report_runs(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """Before the report completes the store's week is there, without a stored row to compare."""
    release = asyncio.Event()

    async def gated(job: ReportJob) -> str:
        await release.wait()
        return await compute_in_thread(data_repository, job)

    client = await make_client(compute=gated)
    response = await client.post("/api/trigger_report")
    report_id = (await response.json())["report_id"]
    store_id = small_data()[0][0][0]
    body = await (await client.get(f"/api/reports/{report_id}/stores/{store_id}")).json()
    assert body["report_row"] is None
    assert body["matches_report"] is None
    assert_adds_up(body)
    release.set()


async def test_late_polls_make_the_row_differ_from_the_stored_report(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """Polls before as_of stored after the report was computed show up as a mismatch."""
    client = await make_client()
    report_id, rows = await complete_report(client)
    store_id = sorted(rows)[0]
    job = await data_repository.get_report(report_id)
    assert job.as_of is not None
    late = [
        (store_id, to_epoch_us(job.as_of - dt.timedelta(minutes=m)), False) for m in range(1, 60)
    ]
    await data_repository.add_polls(late)
    body = await (await client.get(f"/api/reports/{report_id}/stores/{store_id}")).json()
    assert body["report_row"] == rows[store_id]
    assert body["row"] != rows[store_id]
    assert body["matches_report"] is False


async def test_unknown_report_or_store_is_404(make_client: MakeClient) -> None:
    """An unknown or malformed report id, or a store without a row, answers 404 (JSON)."""
    client = await make_client()
    report_id, rows = await complete_report(client)
    store_id = sorted(rows)[0]
    for path in (
        f"/api/reports/{new_report_id()}/stores/{store_id}",
        f"/api/reports/not-a-report/stores/{store_id}",
        f"/api/reports/{report_id}/stores/no-such-store",
    ):
        response = await client.get(path)
        assert response.status == 404, path
        assert "error" in await response.json()
    response = await client.get(f"/api/reports/{report_id}/stores/{'9' * 200}")
    assert response.status == 400


async def test_store_polled_only_after_as_of_is_404(
    make_client: MakeClient, data_repository: InMemoryRepository
) -> None:
    """A store whose first poll comes after the report's as_of has no row, so no week: 404."""
    client = await make_client()
    report_id, _ = await complete_report(client)
    job = await data_repository.get_report(report_id)
    assert job.as_of is not None
    await data_repository.add_polls([("newcomer", to_epoch_us(job.as_of) + 1, True)])
    response = await client.get(f"/api/reports/{report_id}/stores/newcomer")
    assert response.status == 404


async def test_route_needs_the_token(make_client: MakeClient) -> None:
    """With an API token the route answers 401 without it and 200 with it."""
    client = await make_client(api_token=TOKEN)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    report_id, rows = await complete_report(client, **headers)
    path = f"/api/reports/{report_id}/stores/{sorted(rows)[0]}"
    response = await client.get(path)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (
        await client.get(path, headers={"Authorization": "Bearer wrong-token-0123456"})
    ).status == 401
    assert (await client.get(path, headers=headers)).status == 200
