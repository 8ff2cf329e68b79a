"""
Unknown time and special days in the API, on the in-memory backend: a report's maximum
gap (``--max-gap``, ``?max_gap=``), stored with its job, and special days, in the CSV,
the JSON report and the store route.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from fractions import Fraction
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from storemon.csvformat import REPORT_HEADER, REPORT_HEADER_WITH_UNKNOWN, format_value
from storemon.model import DAY_US, HOUR_US, MINUTE_US, ReportJob, to_epoch_us
from storemon.service import build_report
from storemon.testing import InMemoryRepository
from storemon_server.openapi import OPENAPI
from storemon_server.worker import compute_in_thread
from tests.server.conftest import MakeClient
from tests.server.support import HOLE, holey_data

Client = TestClient[Any, Any]

UNITS = {"last_hour": MINUTE_US, "last_day": HOUR_US, "last_week": HOUR_US}
FORMS = "90m, 2h, 1h30m, 45s, 30d, 8w or 1w2d, or ISO 8601 PT2H, PT1H30M, PT45S, P30D or P8W"


async def holey_repository() -> InMemoryRepository:
    """The small data set with a ten-hour hole in half of its stores, and special days."""
    repository = InMemoryRepository()
    polls, hours_rows, zones, special = holey_data()
    await repository.add_polls(polls)
    await repository.replace_hours(hours_rows)
    await repository.replace_zones(zones)
    await repository.replace_special_hours(special)
    return repository


async def report_csv(client: Client, query: str = "") -> tuple[str, str]:
    """Trigger (with ``query``), wait for Complete; return the report id and its CSV."""
    response = await client.post(f"/api/trigger_report{query}")
    assert response.status == 200, await response.text()
    report_id: str = (await response.json())["report_id"]
    for _ in range(2000):
        response = await client.get("/api/get_report", params={"report_id": report_id})
        if response.headers.get("X-Report-Status") == "Complete":
            return report_id, await response.text()
        await asyncio.sleep(0.01)
    raise AssertionError("the report never finished")


async def library_csv(
    repository: InMemoryRepository, report_id: str, max_gap: dt.timedelta | None
) -> str:
    """The library's report of the repository at the job's as_of, with ``max_gap``."""
    job = await repository.get_report(report_id)
    return (await build_report(repository, as_of=job.as_of, max_gap=max_gap)).to_csv()


def header(csv: str) -> tuple[str, ...]:
    return tuple(csv.split("\n", 1)[0].split(","))


@pytest.mark.parametrize(
    ("query", "gap"),
    [
        ("?max_gap=2h", dt.timedelta(hours=2)),
        ("?max_gap=90m", dt.timedelta(minutes=90)),
        ("?max_gap=1h30m", dt.timedelta(minutes=90)),
        ("?max_gap=45s", dt.timedelta(seconds=45)),
        ("?max_gap=PT2H", dt.timedelta(hours=2)),
    ],
)
async def test_trigger_with_max_gap_gives_the_nine_column_report(
    make_client: MakeClient, query: str, gap: dt.timedelta
) -> None:
    """?max_gap= in every form: the job keeps it and the CSV is the library's nine columns."""
    repository = await holey_repository()
    client = await make_client(repository=repository)
    report_id, csv = await report_csv(client, query)
    assert (await repository.get_report(report_id)).max_gap == gap
    assert header(csv) == REPORT_HEADER_WITH_UNKNOWN
    assert csv == await library_csv(repository, report_id, gap)
    unknown_weeks = [line.split(",")[-1] for line in csv.splitlines()[1:]]
    assert any(value != "0.00" for value in unknown_weeks)


async def test_without_max_gap_the_report_is_the_six_columns(make_client: MakeClient) -> None:
    """No ?max_gap= and no default: six columns, byte for byte the library's report."""
    repository = await holey_repository()
    client = await make_client(repository=repository)
    report_id, csv = await report_csv(client)
    assert (await repository.get_report(report_id)).max_gap is None
    assert header(csv) == REPORT_HEADER
    assert csv == await library_csv(repository, report_id, None)


async def test_serve_max_gap_is_the_default_and_a_trigger_overrides_it(
    make_client: MakeClient,
) -> None:
    """With --max-gap 2h a plain trigger uses 2 h; ?max_gap=45m uses 45 min instead."""
    repository = await holey_repository()
    client = await make_client(repository=repository, max_gap=dt.timedelta(hours=2))
    report_id, csv = await report_csv(client)
    assert (await repository.get_report(report_id)).max_gap == dt.timedelta(hours=2)
    assert csv == await library_csv(repository, report_id, dt.timedelta(hours=2))
    other_id, other = await report_csv(client, "?max_gap=45m")
    assert (await repository.get_report(other_id)).max_gap == dt.timedelta(minutes=45)
    assert other == await library_csv(repository, other_id, dt.timedelta(minutes=45))
    assert other != csv


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?max_gap=2%20hours", f"max_gap: cannot read '2 hours' as a duration (write {FORMS})"),
        ("?max_gap=", f"max_gap: cannot read '' as a duration (write {FORMS})"),
        ("?max_gap=0h", f"max_gap: a duration must be positive, got '0h' (write {FORMS})"),
        ("?max_gap=-2h", f"max_gap: a duration must be positive, got '-2h' (write {FORMS})"),
        ("?max_gap=1.5h", f"max_gap: cannot read '1.5h' as a duration (write {FORMS})"),
        ("?max_gap=240001h", "max_gap: a maximum gap is at most 10000 days, got '240001h'"),
        ("?max_gap=2h&max_gap=3h", "give max_gap once, not 2 times"),
    ],
)
async def test_bad_max_gap_is_400_naming_the_forms(
    make_client: MakeClient, data_repository: InMemoryRepository, query: str, message: str
) -> None:
    """A bad duration is 400 with a message that names the accepted forms; nothing is queued."""
    client = await make_client()
    response = await client.post(f"/api/trigger_report{query}")
    assert response.status == 400
    assert await response.json() == {"error": message}
    assert await data_repository.queued_reports() == 0
    assert (await data_repository.list_reports(10)) == []


async def test_a_job_keeps_its_max_gap_across_a_restart(make_client: MakeClient) -> None:
    """A job triggered with 90m and handed back at shutdown is computed with 90m by the next
    server, whatever that server's own default."""
    repository = await holey_repository()
    never = asyncio.Event()

    async def stuck(job: ReportJob) -> str:
        await never.wait()
        return await compute_in_thread(repository, job)

    first = await make_client(repository=repository, compute=stuck)
    response = await first.post("/api/trigger_report?max_gap=90m")
    report_id = (await response.json())["report_id"]
    for _ in range(500):
        if (await repository.get_report(report_id)).status == "Running":
            break
        await asyncio.sleep(0.01)
    await first.close()  # the job goes back to Pending
    assert (await repository.get_report(report_id)).status == "Pending"

    second = await make_client(repository=repository, max_gap=dt.timedelta(hours=5))
    for _ in range(2000):
        response = await second.get("/api/get_report", params={"report_id": report_id})
        if response.headers.get("X-Report-Status") == "Complete":
            break
        await asyncio.sleep(0.01)
    csv = await response.text()
    assert csv == await library_csv(repository, report_id, dt.timedelta(minutes=90))
    assert csv != await library_csv(repository, report_id, dt.timedelta(hours=5))


async def test_json_report_says_its_max_gap_and_has_the_unknown_columns(
    make_client: MakeClient,
) -> None:
    """format=json: max_gap in ISO 8601 and the CSV's nine values per row; null and six
    values without a gap."""
    repository = await holey_repository()
    client = await make_client(repository=repository)
    for query, gap, columns in (
        ("?max_gap=1h30m", "PT1H30M", REPORT_HEADER_WITH_UNKNOWN),
        ("", None, REPORT_HEADER),
    ):
        report_id, csv = await report_csv(client, query)
        response = await client.get(
            "/api/get_report", params={"report_id": report_id, "format": "json"}
        )
        body = await response.json()
        assert body["max_gap"] == gap
        lines = [line.split(",") for line in csv.splitlines()[1:]]
        assert body["rows"] == [dict(zip(columns, line, strict=True)) for line in lines]


def measured(spans: list[dict[str, Any]], business: list[dict[str, Any]], lo: int, hi: int) -> int:
    """Microseconds of ``spans`` inside business time and [lo, hi)."""
    total = 0
    for open_ in business:
        start_b, end_b = max(open_["start"]["us"], lo), min(open_["end"]["us"], hi)
        for span in spans:
            start, end = max(span["start"]["us"], start_b), min(span["end"]["us"], end_b)
            total += max(0, end - start)
    return total


async def test_store_route_has_unknown_stretches_that_add_up(make_client: MakeClient) -> None:
    """The store route of a report with a gap: its row has the unknown values of the CSV; the
    unknown stretches cover the hole and, with the status where known, add up to the row."""
    repository = await holey_repository()
    client = await make_client(repository=repository)
    report_id, csv = await report_csv(client, "?max_gap=2h")
    rows = {
        line.split(",")[0]: dict(zip(REPORT_HEADER_WITH_UNKNOWN, line.split(","), strict=True))
        for line in csv.splitlines()[1:]
    }
    polls, *_ = holey_data()
    holed = polls[0][0]  # the first store has the hole
    hole_lo, hole_hi = (to_epoch_us(at) for at in HOLE)
    for store_id, row in rows.items():
        response = await client.get(f"/api/reports/{report_id}/stores/{store_id}")
        body = await response.json()
        assert body["max_gap"] == "PT2H"
        assert body["row"] == row
        assert body["report_row"] == row
        for window, unit in UNITS.items():
            lo, hi = body["windows"][window]["us"], body["as_of"]["us"]
            up = measured([s for s in body["status"] if s["active"]], body["business"], lo, hi)
            down = measured(
                [s for s in body["status"] if not s["active"]], body["business"], lo, hi
            )
            unknown = measured(body["unknown"], body["business"], lo, hi)
            assert format_value(Fraction(up, unit)) == row[f"uptime_{window}"]
            assert format_value(Fraction(down, unit)) == row[f"downtime_{window}"]
            assert format_value(Fraction(unknown, unit)) == row[f"unknown_{window}"]
        # Status and unknown never overlap.
        known = [(s["start"]["us"], s["end"]["us"]) for s in body["status"]]
        for stretch in body["unknown"]:
            assert all(
                end <= stretch["start"]["us"] or start >= stretch["end"]["us"]
                for start, end in known
            )
        if store_id == holed:
            # The hole's polls are further apart than 2 h: all but an hour at each side
            # of the hole (the nearest polls lie within an hour of its edges) is unknown.
            inside = [
                s
                for s in body["unknown"]
                if s["start"]["us"] < hole_hi and s["end"]["us"] > hole_lo
            ]
            assert len(inside) == 1
            assert hole_lo < inside[0]["start"]["us"] < hole_lo + 2 * HOUR_US
            assert hole_hi - 2 * HOUR_US < inside[0]["end"]["us"] < hole_hi


async def test_store_route_without_max_gap_has_no_unknown(make_client: MakeClient) -> None:
    """Without a gap the route's row has six values and nothing is unknown."""
    repository = await holey_repository()
    client = await make_client(repository=repository)
    report_id, csv = await report_csv(client)
    store_id = csv.splitlines()[1].split(",")[0]
    body = await (await client.get(f"/api/reports/{report_id}/stores/{store_id}")).json()
    assert body["max_gap"] is None
    assert body["unknown"] == []
    assert tuple(body["row"]) == REPORT_HEADER


async def test_store_route_lists_the_weeks_special_days(make_client: MakeClient) -> None:
    """Each special date in the week, with its local midnights and its hours or closed."""
    repository = await holey_repository()
    client = await make_client(repository=repository)
    report_id, _ = await report_csv(client)
    polls, _, zones, _ = holey_data()
    store_ids = list(dict.fromkeys(store_id for store_id, _, _ in polls))
    zone_of = dict(zones)
    expected = {
        store_ids[0]: [("2023-01-23", True, [])],
        store_ids[1]: [("2023-01-24", False, [{"start": "10:00:00", "end": "02:00:00"}])],
        store_ids[2]: [
            (
                "2023-01-21",
                False,
                [
                    {"start": "08:00:00", "end": "11:00:00"},
                    {"start": "15:00:00", "end": "18:30:00"},
                ],
            )
        ],
        store_ids[3]: [("2023-01-25", False, [{"start": "09:00:00", "end": "17:00:00"}])],
        store_ids[4]: [],
    }
    for store_id, days in expected.items():
        body = await (await client.get(f"/api/reports/{report_id}/stores/{store_id}")).json()
        assert body["zone_key"] == zone_of.get(store_id, "America/Chicago")
        shown = [(day["date"], day["closed"], day["hours"]) for day in body["special_days"]]
        assert shown == days
        for day in body["special_days"]:
            assert day["start"]["local"].startswith(day["date"] + "T00:00:00")
            next_date = dt.date.fromisoformat(day["date"]) + dt.timedelta(days=1)
            assert day["end"]["local"].startswith(f"{next_date}T00:00:00")
            assert day["end"]["us"] - day["start"]["us"] == DAY_US  # no DST in January
    # The closed date has no business time on it (the store's weekly rows would have some
    # on a Monday, 2023-01-23, but that date is special).
    body = await (await client.get(f"/api/reports/{report_id}/stores/{store_ids[0]}")).json()
    [closed] = body["special_days"]
    lo, hi = closed["start"]["us"], closed["end"]["us"]
    weekly_overnight = [b for b in body["business"] if b["start"]["us"] < lo]
    for span in body["business"]:
        if span in weekly_overnight:
            continue  # an interval started the day before may still run into it
        assert span["end"]["us"] <= lo or span["start"]["us"] >= hi


async def test_openapi_describes_max_gap_and_the_store_routes_keys(
    make_client: MakeClient,
) -> None:
    """OpenAPI names the trigger's max_gap, the JSON report's max_gap, and exactly the keys
    the store route sends (all of its required ones among them)."""
    trigger = OPENAPI["paths"]["/api/trigger_report"]["post"]
    assert [p["name"] for p in trigger["parameters"]] == ["max_gap"]
    assert "400" in trigger["responses"]
    report = OPENAPI["paths"]["/api/get_report"]["get"]["responses"]["200"]
    assert "max_gap" in report["content"]["application/json"]["schema"]["properties"]
    schema = OPENAPI["components"]["schemas"]["StoreTimeline"]
    repository = await holey_repository()
    client = await make_client(repository=repository)
    report_id, csv = await report_csv(client, "?max_gap=2h")
    store_id = csv.splitlines()[1].split(",")[0]
    body = await (await client.get(f"/api/reports/{report_id}/stores/{store_id}")).json()
    assert set(body) == set(schema["properties"])
    assert set(schema["required"]) <= set(body)
    row_schema = OPENAPI["components"]["schemas"]["ReportRow"]
    assert set(body["row"]) == set(row_schema["properties"])
