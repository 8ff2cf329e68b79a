"""
``GET /api/reports``: the reports newest first, a page at a time, with an exact cursor.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st

from storemon.model import ReportPosition
from storemon.testing import InMemoryRepository
from storemon_server.errors import BadRequest
from storemon_server.history import decode_cursor, encode_cursor
from tests.server.conftest import TOKEN, Gate, MakeClient

Client = TestClient[Any, Any]

BASE = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
AS_OF = dt.datetime(2024, 3, 1, 11, 0, tzinfo=dt.UTC)
CSV = "store_id,uptime_last_hour\n1,60.00\n2,0.00\n3,1.00\n"

#: (report id, minutes after BASE it was created); three share one instant.
REPORTS = [
    ("aaaaaaaaaaaaaaaaaaaaaA", 0),
    ("Tie0aaaaaaaaaaaaaaaaaA", 5),
    ("tie1aaaaaaaaaaaaaaaaaA", 5),
    ("-tie2aaaaaaaaaaaaaaaaA", 5),
    ("failedaaaaaaaaaaaaaaaA", 7),
    ("runningaaaaaaaaaaaaaaA", 9),
    ("newestaaaaaaaaaaaaaaaA", 12),
]
#: Newest first: by creation time, then by id in code point order, greatest first.
NEWEST_FIRST = [
    "newestaaaaaaaaaaaaaaaA",
    "runningaaaaaaaaaaaaaaA",
    "failedaaaaaaaaaaaaaaaA",
    "tie1aaaaaaaaaaaaaaaaaA",
    "Tie0aaaaaaaaaaaaaaaaaA",
    "-tie2aaaaaaaaaaaaaaaaA",
    "aaaaaaaaaaaaaaaaaaaaaA",
]


def minutes(count: int) -> dt.datetime:
    return BASE + dt.timedelta(minutes=count)


@pytest.fixture
async def history_repository() -> InMemoryRepository:
    """
    Seven reports: complete ones (three created at one instant), a failed one, and one
    running, held by another worker for an hour.
    """
    repository = InMemoryRepository()
    for report_id, created in REPORTS:
        await repository.create_report(report_id, as_of=AS_OF, created_at=minutes(created))
    claimed = await repository.claim_report("elsewhere", lease=dt.timedelta(hours=1))
    assert claimed is not None
    assert claimed.report_id == "aaaaaaaaaaaaaaaaaaaaaA"  # the oldest: now finish it
    for report_id, created in REPORTS:
        if report_id.startswith("failed"):
            await repository.fail_report(report_id, error="boom", finished_at=minutes(created + 1))
        elif not report_id.startswith("running"):
            await repository.finish_report(report_id, csv=CSV, finished_at=minutes(created + 1))
    assert (await repository.claim_report("elsewhere", lease=dt.timedelta(hours=1))) is not None
    return repository


async def history_client(
    make_client: MakeClient, repository: InMemoryRepository, **settings: Any
) -> Client:
    # A compute that never runs: the list is read while nothing changes it.
    return await make_client(repository=repository, compute=Gate(repository), **settings)


async def get_page(client: Client, **params: str) -> tuple[int, Any]:
    response = await client.get("/api/reports", params=params)
    return response.status, await response.json()


async def test_reports_are_listed_newest_first_with_their_fields(
    make_client: MakeClient, history_repository: InMemoryRepository
) -> None:
    """A page lists id, status, state, times and store count, newest first, and a next cursor."""
    client = await history_client(make_client, history_repository)
    status, body = await get_page(client, limit="3")
    assert status == 200
    assert body["reports"] == [
        {
            "report_id": "newestaaaaaaaaaaaaaaaA",
            "status": "Complete",
            "state": "Complete",
            "as_of": "2024-03-01T11:00:00+00:00",
            "created_at": "2024-03-01T12:12:00+00:00",
            "finished_at": "2024-03-01T12:13:00+00:00",
            "stores": 3,
        },
        {
            "report_id": "runningaaaaaaaaaaaaaaA",
            "status": "Running",
            "state": "Running",
            "as_of": "2024-03-01T11:00:00+00:00",
            "created_at": "2024-03-01T12:09:00+00:00",
            "finished_at": None,
            "stores": None,
        },
        {
            "report_id": "failedaaaaaaaaaaaaaaaA",
            "status": "Failed",
            "state": "Failed",
            "as_of": "2024-03-01T11:00:00+00:00",
            "created_at": "2024-03-01T12:07:00+00:00",
            "finished_at": "2024-03-01T12:08:00+00:00",
            "stores": None,
        },
    ]
    assert isinstance(body["next"], str)


@pytest.mark.parametrize("limit", [1, 2, 3, 6])
async def test_following_next_lists_every_report_once(
    limit: int, make_client: MakeClient, history_repository: InMemoryRepository
) -> None:
    """Following next page by page lists every report once, ties included; the last has none."""
    client = await history_client(make_client, history_repository)
    seen: list[str] = []
    params = {"limit": str(limit)}
    for _ in range(len(REPORTS) + 1):
        status, body = await get_page(client, **params)
        assert status == 200
        assert 1 <= len(body["reports"]) <= limit
        seen += [report["report_id"] for report in body["reports"]]
        if body["next"] is None:
            break
        params["before"] = body["next"]
    assert seen == NEWEST_FIRST
    assert len(body["reports"]) == len(REPORTS) - (len(REPORTS) - 1) // limit * limit


async def test_a_cursor_holds_its_place_while_new_reports_arrive(
    make_client: MakeClient, history_repository: InMemoryRepository
) -> None:
    """Reports added after a page was read land in their place: before it, or in the next page."""
    client = await history_client(make_client, history_repository)
    _, first = await get_page(client, limit="4")
    assert [report["report_id"] for report in first["reports"]][-1] == "tie1aaaaaaaaaaaaaaaaaA"
    # Newer than the page's end (a later instant, or its instant with a greater id), and
    # older (its instant with a lesser id).
    added = [
        ("laterAaaaaaaaaaaaaaaaA", 13),
        ("tie9aaaaaaaaaaaaaaaaaA", 5),
        ("tie0xaaaaaaaaaaaaaaaaA", 5),
    ]
    for report_id, created in added:
        await history_repository.create_report(report_id, as_of=AS_OF, created_at=minutes(created))
        await history_repository.fail_report(report_id, error="x", finished_at=minutes(created))
    _, second = await get_page(client, limit="4", before=first["next"])
    assert [report["report_id"] for report in second["reports"]] == [
        "tie0xaaaaaaaaaaaaaaaaA",
        *NEWEST_FIRST[4:],
    ]
    assert second["next"] is None


async def test_the_default_page_holds_twenty(make_client: MakeClient) -> None:
    """Without a limit a page holds 20 reports; limit=100 is allowed; an empty list is empty."""
    repository = InMemoryRepository()
    client = await history_client(make_client, repository)
    assert await get_page(client) == (200, {"reports": [], "next": None})
    for number in range(25):
        report_id = f"r{number:02d}".ljust(21, "a") + "A"
        await repository.create_report(report_id, as_of=AS_OF, created_at=minutes(number))
        await repository.fail_report(report_id, error="x", finished_at=minutes(number))
    status, body = await get_page(client)
    assert status == 200
    assert len(body["reports"]) == 20
    assert body["reports"][0]["report_id"].startswith("r24")
    status, body = await get_page(client, limit="100")
    assert status == 200
    assert len(body["reports"]) == 25
    assert body["next"] is None


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_LIMITS = ["0", "101", "1000", "-1", "1.5", "ten", "", " 5", "0x10"]
BAD_CURSORS = [
    "not a cursor",
    "abc",
    _b64("1709294700000000"),  # no id
    _b64("1709294700000000:"),  # an empty id
    _b64("-5:abc"),  # a negative time
    _b64("17092947e8:abc"),  # not digits
    _b64("99999999999999999999:abc"),  # beyond any date
    _b64("1709294700000000:abc") + "==",  # padded: not as the server writes it
    base64.b64encode(b"1709294700000000:a~~~?").decode(),  # not URL-safe: + and /
    "\u00e9" * 8,
]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        *[("limit", limit, "limit must be a whole number from 1 to 100") for limit in BAD_LIMITS],
        *[
            ("before", cursor, "before is not a cursor from this API: pass the 'next' of a page")
            for cursor in BAD_CURSORS
        ],
    ],
)
async def test_a_bad_limit_or_cursor_is_refused(
    name: str,
    value: str,
    message: str,
    make_client: MakeClient,
    history_repository: InMemoryRepository,
) -> None:
    """A limit outside 1 to 100, or a before this API did not write, answers 400 saying so."""
    client = await history_client(make_client, history_repository)
    status, body = await get_page(client, **{name: value})
    assert status == 400
    assert body["error"].startswith(message)


async def test_parameters_given_twice_are_refused(
    make_client: MakeClient, history_repository: InMemoryRepository
) -> None:
    """limit or before given twice answers 400."""
    client = await history_client(make_client, history_repository)
    _, first = await get_page(client, limit="2")
    for query in ("limit=2&limit=3", f"before={first['next']}&before={first['next']}"):
        response = await client.get(f"/api/reports?{query}")
        assert response.status == 400
        assert "once" in (await response.json())["error"]


async def test_the_list_needs_the_token(
    make_client: MakeClient, history_repository: InMemoryRepository
) -> None:
    """With an API token the list answers 401 without it or with another, 200 with it."""
    client = await history_client(make_client, history_repository, api_token=TOKEN)
    assert (await client.get("/api/reports")).status == 401
    wrong = await client.get("/api/reports", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    right = await client.get("/api/reports", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status == 200
    assert [report["report_id"] for report in (await right.json())["reports"]] == NEWEST_FIRST


@given(
    created_us=st.integers(min_value=0, max_value=10**17 - 1),
    report_id=st.text(min_size=1, max_size=60),
)
def test_a_cursor_stands_for_exactly_its_place(created_us: int, report_id: str) -> None:
    """Any place reads back from its cursor as itself, and the cursor is URL-safe."""
    position = ReportPosition(
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=created_us), report_id
    )
    cursor = encode_cursor(position)
    assert cursor.isascii()
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    if len(cursor) <= 240:
        assert decode_cursor(cursor) == position
    else:
        with pytest.raises(BadRequest):
            decode_cursor(cursor)
