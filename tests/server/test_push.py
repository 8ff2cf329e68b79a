"""
Pushed data: ``POST /api/polls`` (CSV and JSON lines), ``PUT /api/stores/{id}/hours`` and
``PUT /api/stores/{id}/timezone``: counts, rejects with the file reader's reasons, size
limits, the token, replays, the database's write lock, and pushed polls mixed with files.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storemon.ingest import ingest_source
from storemon.model import HoursRow, Rejected
from storemon.sources import SourceKind, read_rows
from storemon.storage.sqlite import SQLiteRepository
from storemon.testing import InMemoryRepository
from storemon_server.app import create_app
from storemon_server.config import Settings
from storemon_server.keys import REPOSITORY
from storemon_server.push import MAX_REJECTS_SHOWN
from tests.server.conftest import TOKEN, MakeClient
from tests.server.support import (
    LAST_POLL_AT,
    expected_csv,
    filled_repository,
    small_data,
    status_lines,
)

CSV = {"Content-Type": "text/csv"}
NDJSON = {"Content-Type": "application/x-ndjson"}
JSONL = {"Content-Type": "application/jsonl"}
JSON = {"Content-Type": "application/json"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}

STORE = "1481966498820158979"
OTHER = "8139926242460185114"


async def _polls(repository: InMemoryRepository, store_id: str) -> list[tuple[str, bool]]:
    """A store's polls as (ISO instant, active), in time order (every poll: as_of far ahead)."""
    snapshot = await repository.snapshot(
        store_id,
        since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        as_of=dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
    )
    if snapshot is None:
        return []
    return [
        (
            (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=at)).isoformat(),
            active,
        )
        for at, active in zip(snapshot.poll_at_us, snapshot.poll_active, strict=True)
    ]


# A CSV push: columns in another order than the file's, and one of each kind of bad row.
CSV_BODY = (
    "timestamp_utc,store_id,status\n"
    f"2023-01-25 10:00:00.5 UTC,{STORE},active\n"
    f"2023-01-25T11:00:00Z,{STORE},inactive\n"  # another spelling the file reader takes
    f"2023-01-25 12:00:00 UTC,{STORE},maybe\n"  # line 4: status
    "2023-01-25 12:00:00 UTC,=HYPERLINK(1),active\n"  # line 5: a formula store id
    f"2099-01-01 00:00:00 UTC,{STORE},active\n"  # line 6: in the future
    f"2023-01-25 13:00:00 UTC,{STORE}\n"  # line 7: a field missing
    "\n"  # blank: skipped
    f"2023-01-25 14:00:00 UTC,{OTHER},active"  # line 9, no final newline: still read
)


async def test_csv_push_stores_good_rows_and_rejects_bad_ones_as_files_do(
    make_client: MakeClient,
) -> None:
    """A CSV push stores its good rows and rejects the others with the file reader's
    line, column and reason (the same as reading the same bytes as a status file)."""
    repository = InMemoryRepository()
    client = await make_client(repository=repository)
    response = await client.post("/api/polls", data=CSV_BODY.encode(), headers=CSV)
    assert response.status == 200
    body = await response.json()
    assert (body["stored"], body["already_present"], body["rejected"]) == (3, 0, 4)
    assert [(item["line"], item["column"]) for item in body["rejects"]] == [
        (4, "status"),
        (5, "store_id"),
        (6, "timestamp_utc"),
        (7, None),
    ]
    assert "in the future" in body["rejects"][2]["reason"]
    assert body["rejects"][3]["reason"] == "expected 3 fields, found 2"
    assert body["rejects"][0]["text"] == f"2023-01-25 12:00:00 UTC,{STORE},maybe"
    # The very rejects of the status file reader, on the same lines (without a clock
    # limit, the future row is read there: it is the one difference).
    from_file = [
        item
        for item in read_rows(SourceKind.STATUS, CSV_BODY.encode().splitlines(True), "body")
        if isinstance(item, Rejected)
    ]
    expected = [(r.line, r.column, r.reason, r.text) for r in from_file]
    pushed = [(r["line"], r["column"], r["reason"], r["text"]) for r in body["rejects"]]
    assert [item for item in pushed if item[0] != 6] == expected
    assert await _polls(repository, STORE) == [
        ("2023-01-25T10:00:00.500000+00:00", True),
        ("2023-01-25T11:00:00+00:00", False),
    ]
    assert await _polls(repository, OTHER) == [("2023-01-25T14:00:00+00:00", True)]


@pytest.mark.parametrize("headers", [NDJSON, JSONL], ids=["x-ndjson", "jsonl"])
async def test_json_lines_push_reads_objects_with_the_same_rules(
    make_client: MakeClient, headers: dict[str, str]
) -> None:
    """JSON lines: one object per line, checked by the status reader's parsers; bad JSON,
    a missing key, a number as store id and a bad instant are rejected one by one."""
    repository = InMemoryRepository()
    client = await make_client(repository=repository)
    lines = [
        {"store_id": STORE, "status": "active", "timestamp_utc": "2023-01-25 10:00:00 UTC"},
        {"Store_ID": STORE, "status": "inactive", "timestamp": "2023-01-25 11:00:00 UTC"},
        "{not json",
        {"store_id": STORE, "status": "active"},
        {"store_id": 1481966498820158979, "status": "active", "timestamp_utc": "2023-01-25"},
        {"store_id": STORE, "status": "active", "timestamp_utc": "2023-02-30 00:00:00 UTC"},
        ["a", "list"],
        {"store_id": OTHER, "status": "inactive", "timestamp_utc": "2023-01-25 12:00:00 UTC"},
    ]
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    response = await client.post("/api/polls", data=(text + "\n\n").encode(), headers=headers)
    assert response.status == 200
    body = await response.json()
    assert (body["stored"], body["already_present"], body["rejected"]) == (3, 0, 5)
    assert [(item["line"], item["column"]) for item in body["rejects"]] == [
        (3, None),
        (4, "timestamp_utc"),
        (5, "store_id"),
        (6, "timestamp_utc"),
        (7, None),
    ]
    reasons = [item["reason"] for item in body["rejects"]]
    assert reasons[0].startswith("not a JSON line")
    assert reasons[1] == "missing from the object"
    assert reasons[2] == "must be a JSON string, found a number"
    assert reasons[4].startswith("expected a JSON object")
    # The date is refused with the status reader's own reason for it.
    from_file = list(
        read_rows(
            SourceKind.STATUS,
            [
                b"store_id,status,timestamp_utc\n",
                f"{STORE},active,2023-02-30 00:00:00 UTC\n".encode(),
            ],
            "f",
        )
    )
    assert isinstance(from_file[0], Rejected)
    assert reasons[3] == from_file[0].reason
    assert await _polls(repository, STORE) == [
        ("2023-01-25T10:00:00+00:00", True),
        ("2023-01-25T11:00:00+00:00", False),
    ]
    assert await _polls(repository, OTHER) == [("2023-01-25T12:00:00+00:00", False)]


async def test_a_replayed_push_is_already_present_and_a_later_row_wins(
    make_client: MakeClient,
) -> None:
    """The same push twice stores once (already_present the second time); a later row for
    the same instant replaces its status, within a push and across pushes."""
    repository = InMemoryRepository()
    client = await make_client(repository=repository)
    push = (
        "store_id,status,timestamp_utc\n"
        f"{STORE},active,2023-01-25 10:00:00 UTC\n"
        f"{STORE},active,2023-01-25 11:00:00 UTC\n"
    ).encode()
    first = await (await client.post("/api/polls", data=push, headers=CSV)).json()
    again = await (await client.post("/api/polls", data=push, headers=CSV)).json()
    assert (first["stored"], first["already_present"]) == (2, 0)
    assert (again["stored"], again["already_present"], again["rejected"]) == (0, 2, 0)
    flip = "".join(
        json.dumps({"store_id": STORE, "status": status, "timestamp_utc": at}) + "\n"
        for status, at in (
            ("inactive", "2023-01-25 11:00:00 UTC"),
            ("active", "2023-01-25 12:00:00 UTC"),
            ("inactive", "2023-01-25 12:00:00 UTC"),
        )
    )
    flipped = await (await client.post("/api/polls", data=flip.encode(), headers=NDJSON)).json()
    assert (flipped["stored"], flipped["already_present"]) == (3, 0)
    assert await _polls(repository, STORE) == [
        ("2023-01-25T10:00:00+00:00", True),
        ("2023-01-25T11:00:00+00:00", False),
        ("2023-01-25T12:00:00+00:00", False),
    ]


@pytest.mark.parametrize(
    ("data", "headers", "message"),
    [
        (b"", CSV, "empty"),
        (b"id,state,when\n1,active,2023-01-25 10:00:00 UTC\n", CSV, "column store_id: missing"),
        (b"store_id,status,timestamp_utc\n", CSV, "no row"),
        (b"store_id,status,timestamp_utc\n1,up,2023-01-25 10:00:00 UTC\n", CSV, "no row"),
        (b"", NDJSON, "no row"),
        (b'{"store_id": "1"}\n[]\n', NDJSON, "no row"),
    ],
    ids=["empty", "bad-header", "header-only", "all-rejected", "empty-json", "json-rejected"],
)
async def test_nothing_readable_is_400_and_stores_nothing(
    make_client: MakeClient, data: bytes, headers: dict[str, str], message: str
) -> None:
    """A body without a valid header or without a readable row is 400 and stores nothing."""
    repository = InMemoryRepository()
    client = await make_client(repository=repository)
    response = await client.post("/api/polls", data=data, headers=headers)
    assert response.status == 400
    body = await response.json()
    assert message in body["error"]
    assert await repository.latest_poll_at() is None


async def test_a_400_lists_the_rejects_that_made_it(make_client: MakeClient) -> None:
    """When every row is rejected the 400 carries the count and the reasons."""
    client = await make_client(repository=InMemoryRepository())
    data = b"store_id,status,timestamp_utc\n1,up,2023-01-25 10:00:00 UTC\n=2,active,x\n"
    body = await (await client.post("/api/polls", data=data, headers=CSV)).json()
    assert body["rejected"] == 2
    assert [(item["line"], item["column"]) for item in body["rejects"]] == [
        (2, "status"),
        (3, "store_id"),
    ]


async def test_rejects_listed_are_bounded_and_counted_in_full(make_client: MakeClient) -> None:
    """Past MAX_REJECTS_SHOWN rejects only the first are listed; rejected counts them all."""
    client = await make_client(repository=InMemoryRepository())
    bad = "".join(f"{STORE},up,2023-01-25 10:00:00 UTC\n" for _ in range(MAX_REJECTS_SHOWN + 50))
    data = f"store_id,status,timestamp_utc\n{STORE},active,2023-01-25 09:00:00 UTC\n{bad}"
    body = await (await client.post("/api/polls", data=data.encode(), headers=CSV)).json()
    assert (body["stored"], body["rejected"]) == (1, MAX_REJECTS_SHOWN + 50)
    assert len(body["rejects"]) == MAX_REJECTS_SHOWN
    assert body["rejects"][-1]["line"] == MAX_REJECTS_SHOWN + 2


async def test_other_content_types_are_415(make_client: MakeClient) -> None:
    """A body neither CSV nor JSON lines is refused with 415, and nothing is stored."""
    repository = InMemoryRepository()
    client = await make_client(repository=repository)
    data = f"store_id,status,timestamp_utc\n{STORE},active,2023-01-25 10:00:00 UTC\n".encode()
    for headers in (JSON, {"Content-Type": "text/plain"}):
        response = await client.post("/api/polls", data=data, headers=headers)
        assert response.status == 415
        assert "text/csv" in (await response.json())["error"]
    assert await repository.latest_poll_at() is None


async def test_a_body_over_the_limit_is_413_announced_or_not(make_client: MakeClient) -> None:
    """Past --max-push-bytes the answer is 413, whether Content-Length announces the size
    or the body streams in chunks; at the limit it is read."""
    repository = InMemoryRepository()
    client = await make_client(repository=repository, max_push_bytes=1000)
    row = f"{STORE},active,2023-01-25 10:00:00 UTC\n"
    header = "store_id,status,timestamp_utc\n"
    fits = (header + row * 40)[:1000]
    fits = fits[: fits.rindex("\n") + 1].encode()
    response = await client.post("/api/polls", data=fits, headers=CSV)
    assert response.status == 200
    over = (header + row * 40).encode()
    assert len(over) > 1000
    response = await client.post("/api/polls", data=over, headers=CSV)
    assert response.status == 413
    assert "1000 bytes" in (await response.json())["error"]

    async def chunks() -> AsyncIterator[bytes]:
        yield header.encode()
        for _ in range(100):
            yield row.encode()

    response = await client.post("/api/polls", data=chunks(), headers=CSV)
    assert response.status == 413
    # Other routes keep their own, smaller limit.
    response = await client.put(
        f"/api/stores/{STORE}/hours", data=b"[" + b" " * 70_000 + b"]", headers=JSON
    )
    assert response.status == 413


async def test_pushes_need_the_token(make_client: MakeClient) -> None:
    """Without the token every push route answers 401 and stores nothing."""
    repository = InMemoryRepository()
    client = await make_client(repository=repository, api_token=TOKEN)
    data = f"store_id,status,timestamp_utc\n{STORE},active,2023-01-25 10:00:00 UTC\n".encode()
    assert (await client.post("/api/polls", data=data, headers=CSV)).status == 401
    hours = json.dumps([{"day_of_week": 0, "start_time_local": "9:00", "end_time_local": "17:00"}])
    assert (await client.put(f"/api/stores/{STORE}/hours", data=hours, headers=JSON)).status == 401
    zone = json.dumps({"timezone_str": "Asia/Tokyo"})
    assert (
        await client.put(f"/api/stores/{STORE}/timezone", data=zone, headers=JSON)
    ).status == 401
    assert await repository.latest_poll_at() is None
    assert await repository.hours_rows() == []
    assert await repository.zone_rows() == []
    response = await client.post("/api/polls", data=data, headers={**CSV, **AUTH})
    assert response.status == 200


async def test_a_push_while_another_writer_holds_the_lock_is_503(
    make_client: MakeClient,
) -> None:
    """A push that cannot have the write lock within the request wait answers 503 with
    Retry-After (an ingest elsewhere holds it), and is stored once it is free."""
    repository = InMemoryRepository()
    client = await make_client(repository=repository)
    holding, release = asyncio.Event(), asyncio.Event()

    async def ingest_elsewhere() -> None:
        async with repository.transaction():
            holding.set()
            await release.wait()

    holder = asyncio.create_task(ingest_elsewhere())
    await holding.wait()
    data = f"store_id,status,timestamp_utc\n{STORE},active,2023-01-25 10:00:00 UTC\n".encode()
    response = await client.post("/api/polls", data=data, headers=CSV)
    assert response.status == 503
    assert response.headers["Retry-After"] == "2"
    zone = await client.put(
        f"/api/stores/{STORE}/timezone", data=json.dumps({"timezone_str": "UTC"}), headers=JSON
    )
    assert zone.status == 503
    release.set()
    await holder
    assert await repository.latest_poll_at() is None
    response = await client.post("/api/polls", data=data, headers=CSV)
    assert (await response.json())["stored"] == 1


async def test_pushed_polls_and_file_polls_make_one_history(
    make_client: MakeClient, tmp_path: Path
) -> None:
    """Polls from a file, then pushed, then appended to the file and refreshed (read as
    appended, from where it stopped), give the report of one file holding them all."""
    polls, hours_rows, zones = small_data(6)
    polls.sort(key=lambda poll: poll[1])
    thirds = len(polls) // 3
    from_file, pushed, appended = polls[:thirds], polls[thirds : 2 * thirds], polls[2 * thirds :]
    # Some pushed polls repeat file polls: already present, as a replay would be.
    pushed = from_file[-5:] + pushed
    header = "store_id,status,timestamp_utc\n"
    status = tmp_path / "store_status.csv"
    status.write_text(header + status_lines(from_file), encoding="utf-8")

    repository = InMemoryRepository()
    await repository.replace_hours(hours_rows)
    await repository.replace_zones(zones)
    first = await ingest_source(repository, SourceKind.STATUS, status)
    assert (first.mode, first.stored) == ("full", len(from_file))
    client = await make_client(repository=repository)
    response = await client.post(
        "/api/polls", data=(header + status_lines(pushed)).encode(), headers=CSV
    )
    body = await response.json()
    assert (body["stored"], body["already_present"]) == (len(pushed) - 5, 5)
    with status.open("a", encoding="utf-8") as file:
        file.write(status_lines(appended))
    later = await ingest_source(repository, SourceKind.STATUS, status)
    assert (later.mode, later.stored, later.present) == ("appended", len(appended), 0)

    whole = InMemoryRepository()
    await whole.replace_hours(hours_rows)
    await whole.replace_zones(zones)
    every = tmp_path / "every.csv"
    every.write_text(header + status_lines(polls), encoding="utf-8")
    await ingest_source(whole, SourceKind.STATUS, every)
    as_of = await whole.latest_poll_at()
    assert as_of is not None
    assert await repository.latest_poll_at() == as_of
    assert await expected_csv(repository, as_of) == await expected_csv(whole, as_of)


# PUT /api/stores/{id}/hours and /timezone


async def test_put_hours_replaces_one_stores_week(make_client: MakeClient) -> None:
    """A JSON list replaces the store's weekly rows (others' stay); the answer is what was
    stored, identical rows once; an empty list leaves it open 24x7."""
    repository = InMemoryRepository()
    await repository.replace_hours([(STORE, HoursRow(3, dt.time(8), dt.time(9)))])
    await repository.replace_hours(
        [
            (STORE, HoursRow(3, dt.time(8), dt.time(9))),
            (OTHER, HoursRow(1, dt.time(10), dt.time(11))),
        ]
    )
    client = await make_client(repository=repository)
    rows = [
        {"day_of_week": 0, "start_time_local": "09:00", "end_time_local": "17:30:00"},
        {"day_of_week": "6", "start_time_local": "22:00:00", "end_time_local": "24:00:00"},
        {"dayOfWeek": "3", "start_time_local": "08:00:00", "end_time_local": "09:00:00"},
        {"day_of_week": 0, "start_time_local": "09:00", "end_time_local": "17:30:00"},
    ]
    response = await client.put(f"/api/stores/{STORE}/hours", data=json.dumps(rows), headers=JSON)
    assert response.status == 200
    assert await response.json() == {
        "store_id": STORE,
        "hours": [
            {"day_of_week": 0, "start_time_local": "09:00:00", "end_time_local": "17:30:00"},
            {"day_of_week": 6, "start_time_local": "22:00:00", "end_time_local": "24:00:00"},
            {"day_of_week": 3, "start_time_local": "08:00:00", "end_time_local": "09:00:00"},
        ],
        "open_24x7": False,
        "stored": 2,
        "already_present": 1,
    }
    stored = sorted((s, r.day, r.start_us, r.end_us) for s, r in await repository.hours_rows())
    hour = 3_600_000_000
    assert stored == [
        (STORE, 0, 9 * hour, 17 * hour + hour // 2),
        (STORE, 3, 8 * hour, 9 * hour),
        (STORE, 6, 22 * hour, 24 * hour),
        (OTHER, 1, 10 * hour, 11 * hour),
    ]
    response = await client.put(f"/api/stores/{STORE}/hours", data="[]", headers=JSON)
    body = await response.json()
    assert (body["hours"], body["open_24x7"], body["stored"]) == ([], True, 0)
    assert [s for s, _ in await repository.hours_rows()] == [OTHER]


async def test_put_hours_takes_csv(make_client: MakeClient) -> None:
    """The same rows as CSV with a header, columns in any order, day or day_of_week."""
    repository = InMemoryRepository()
    client = await make_client(repository=repository)
    data = (
        b"end_time_local,day_of_week,start_time_local\r\n"
        b"17:00:00,1,09:00:00\r\n23:59:00,2,10:00\r\n"
    )
    response = await client.put(f"/api/stores/{STORE}/hours", data=data, headers=CSV)
    assert response.status == 200
    assert (await response.json())["hours"] == [
        {"day_of_week": 1, "start_time_local": "09:00:00", "end_time_local": "17:00:00"},
        {"day_of_week": 2, "start_time_local": "10:00:00", "end_time_local": "23:59:00"},
    ]
    assert len(await repository.hours_rows()) == 2


@pytest.mark.parametrize(
    ("path", "data", "headers", "expected"),
    [
        (
            f"/api/stores/{STORE}/hours",
            json.dumps(
                [
                    {"day_of_week": 0, "start_time_local": "09:00", "end_time_local": "17:00"},
                    {"day_of_week": 7, "start_time_local": "09:00", "end_time_local": "17:00"},
                    {"day_of_week": 1, "start_time_local": "9am", "end_time_local": "17:00"},
                    {"day_of_week": 2, "start_time_local": "09:00"},
                    {"day_of_week": True, "start_time_local": "09:00", "end_time_local": "1"},
                ]
            ),
            JSON,
            [(2, "day"), (3, "start_time_local"), (4, "end_time_local"), (5, "day")],
        ),
        (
            f"/api/stores/{STORE}/hours",
            b"day,start_time_local,end_time_local\n0,09:00,17:00\n0,25:00,26:00\n",
            CSV,
            [(3, "start_time_local")],
        ),
        (f"/api/stores/{STORE}/hours", b'{"day_of_week": 0}', JSON, "JSON list"),
        (f"/api/stores/{STORE}/hours", b"[1,", JSON, "not JSON"),
        (f"/api/stores/{STORE}/hours", b"day,start\n0,09:00\n", CSV, "column"),
        ("/api/stores/=SUM(A1)/hours", b"[]", JSON, "store id"),
        (f"/api/stores/{STORE}/timezone", b'{"timezone_str": "Mars/Olympus"}', JSON, "zone"),
        (f"/api/stores/{STORE}/timezone", b'{"timezone_str": "posixrules"}', JSON, "zone"),
        (f"/api/stores/{STORE}/timezone", b'{"zone": "UTC"}', JSON, "timezone_str: missing"),
        (f"/api/stores/{STORE}/timezone", b'{"timezone_str": 5}', JSON, "JSON string"),
        (f"/api/stores/{STORE}/timezone", b'"UTC"', JSON, "JSON object"),
        ("/api/stores/%20%20/timezone", b'{"timezone_str": "UTC"}', JSON, "store id"),
    ],
)
async def test_bad_hours_or_zone_is_400_and_changes_nothing(
    make_client: MakeClient, path: str, data: Any, headers: dict[str, str], expected: Any
) -> None:
    """A bad store id, body or row is 400 with its reasons; nothing is stored."""
    repository = InMemoryRepository()
    await repository.replace_hours([(STORE, HoursRow(4, dt.time(6), dt.time(7)))])
    await repository.replace_zones([(STORE, "Asia/Tokyo")])
    client = await make_client(repository=repository)
    response = await client.put(path, data=data, headers=headers)
    assert response.status == 400
    body = await response.json()
    if isinstance(expected, list):
        assert [(item["line"], item["column"]) for item in body["rejects"]] == expected
        assert body["rejected"] == len(expected)
    else:
        assert expected in body["error"]
    assert await repository.hours_rows() == [(STORE, HoursRow(4, dt.time(6), dt.time(7)))]
    assert await repository.zone_rows() == [(STORE, "Asia/Tokyo")]


async def test_put_timezone_sets_the_stores_zone(make_client: MakeClient) -> None:
    """A bundled IANA name is stored; changed says whether it differs from before."""
    repository = InMemoryRepository()
    await repository.replace_zones([(OTHER, "Asia/Kolkata")])
    client = await make_client(repository=repository)
    path = f"/api/stores/{STORE}/timezone"
    zone = json.dumps({"timezone_str": "America/New_York"})
    first = await client.put(path, data=zone, headers=JSON)
    assert first.status == 200
    assert await first.json() == {
        "store_id": STORE,
        "timezone_str": "America/New_York",
        "changed": True,
    }
    again = await (await client.put(path, data=zone, headers=JSON)).json()
    assert again["changed"] is False
    assert sorted(await repository.zone_rows()) == [
        (STORE, "America/New_York"),
        (OTHER, "Asia/Kolkata"),
    ]


async def test_pushed_hours_and_zone_change_the_report(make_client: MakeClient) -> None:
    """The report reads pushed hours and zones: it equals the report of a repository
    given the same hours and zone directly."""
    client = await make_client()
    week = [
        {"day_of_week": day, "start_time_local": "06:00", "end_time_local": "14:00"}
        for day in range(7)
    ]
    zone = {"timezone_str": "Asia/Tokyo"}
    path = f"/api/stores/{STORE}"
    assert (await client.put(f"{path}/hours", data=json.dumps(week), headers=JSON)).status == 200
    assert (await client.put(f"{path}/timezone", data=json.dumps(zone), headers=JSON)).status == 200

    polls, hours_rows, zones = small_data()
    direct = InMemoryRepository()
    await direct.add_polls(polls)
    await direct.replace_hours(
        [item for item in hours_rows if item[0] != STORE]
        + [(STORE, HoursRow(day, dt.time(6), dt.time(14))) for day in range(7)]
    )
    await direct.replace_zones(
        [item for item in zones if item[0] != STORE] + [(STORE, "Asia/Tokyo")]
    )
    pushed = await expected_csv(client.server.app[REPOSITORY], LAST_POLL_AT)
    assert pushed == await expected_csv(direct, LAST_POLL_AT)
    before = await expected_csv(await filled_repository(), LAST_POLL_AT)
    assert pushed != before  # the pushed week and zone changed the store's row


async def test_a_push_while_another_process_holds_sqlites_write_lock_is_503(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """On SQLite, a push while another process holds the write lock answers 503 with
    Retry-After within about a second, stores nothing, and is stored once it is free."""
    path = tmp_path / "store.db"
    async with SQLiteRepository(str(path)) as repository:
        client = await aiohttp_client(
            create_app(Settings(db_url=f"sqlite:///{path}"), repository=repository)
        )
        data = f"store_id,status,timestamp_utc\n{STORE},active,2023-01-25 10:00:00 UTC\n"
        hours = b'[{"day_of_week": 0, "start_time_local": "9:00", "end_time_local": "17:00"}]'
        outside = sqlite3.connect(path, isolation_level=None)
        outside.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            async with asyncio.timeout(5):
                pushed = await client.post("/api/polls", data=data.encode(), headers=CSV)
                put = await client.put(f"/api/stores/{STORE}/hours", data=hours, headers=JSON)
            seconds = time.monotonic() - started
        finally:
            outside.execute("ROLLBACK")
            outside.close()
        assert seconds < 2.5  # two requests, each at most half a second for the lock
        for response in (pushed, put):
            assert response.status == 503
            assert response.headers["Retry-After"] == "2"
            assert "locked by another process" in (await response.json())["error"]
        assert await repository.latest_poll_at() is None
        assert await repository.hours_rows() == []
        again = await client.post("/api/polls", data=data.encode(), headers=CSV)
        assert (await again.json())["stored"] == 1
