"""
What the server shows, logs and waits for under attack: health without the token, secrets
in source URLs, control characters and malformed requests in the log, bodies that never
come, triggers while another process holds the database, snapshots that would wipe the
stored ones, and stores whose stored rows cannot be read.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from storemon.storage.sqlite import SQLiteRepository
from storemon.testing import InMemoryRepository
from storemon_server.app import create_app
from storemon_server.config import MAX_FIELD_SIZE, MAX_LINE_SIZE, Settings
from storemon_server.keys import INGEST, JOBS, REPOSITORY
from storemon_server.middleware import AccessLogger, ProtocolLogger
from storemon_server.worker import compute_in_child
from tests.server.conftest import TOKEN, Gate, MakeClient, wait_for
from tests.server.support import filled_repository, small_data, write_data_dir

AUTH = {"Authorization": f"Bearer {TOKEN}"}


# --- health ------------------------------------------------------------------------------


async def test_health_without_the_token_says_only_whether_it_is_ready(
    make_client: MakeClient,
) -> None:
    """Without the token (or with a wrong one) health is {ready}; with it, everything."""
    client = await make_client(api_token=TOKEN)
    await wait_for(lambda: client.app[INGEST].ready.is_set())
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
        response = await client.get("/api/health", headers=headers)
        assert (response.status, await response.json()) == (200, {"ready": True})
    full = await (await client.get("/api/health", headers=AUTH)).json()
    assert set(full) == {"status", "ready", "last_ingest", "reports", "database"}


async def test_sources_are_shown_and_logged_without_secrets(
    aiohttp_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A URL's user info and query string never reach health, its errors or the log."""
    url = "http://reader:hunter2@127.0.0.1:1/status.csv?X-Signature=SIGNED-SECRET"
    settings = Settings(db_url="memory://", status_source=url, api_token=TOKEN)
    caplog.set_level(logging.DEBUG)
    client = await aiohttp_client(create_app(settings, repository=InMemoryRepository()))
    await wait_for(lambda: client.app[INGEST].ready.is_set())
    last = (await (await client.get("/api/health", headers=AUTH)).json())["last_ingest"]
    assert last["ok"] is False
    assert last["sources"]["status"]["source"] == "http://127.0.0.1:1/status.csv"
    assert last["error"].startswith("http://127.0.0.1:1/status.csv: cannot fetch")
    shown = str(last) + caplog.text
    assert "hunter2" not in shown
    assert "reader" not in shown
    assert "SIGNED-SECRET" not in shown


async def test_a_long_error_is_bounded_in_health(aiohttp_client: Any, tmp_path: Path) -> None:
    """A source refused for a 5 MiB header answers health in a few hundred bytes."""
    write_data_dir(tmp_path)
    (tmp_path / "business_hours.csv").write_bytes(b"x" * (5 << 20) + b"\n")
    settings = Settings(db_url="memory://", data_dir=tmp_path, api_token=TOKEN)
    client = await aiohttp_client(create_app(settings, repository=InMemoryRepository()))
    await wait_for(lambda: client.app[INGEST].ready.is_set())
    response = await client.get("/api/health", headers=AUTH)
    body = await response.read()
    assert len(body) < 4000
    assert b"over the limit of 1048576 bytes" in body


# --- snapshots that would wipe the stored ones ---------------------------------------------


async def test_a_refused_snapshot_keeps_the_old_one_and_shows_in_health(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """A header-only hours file at a refresh is refused; the stored hours stay; health says so."""
    write_data_dir(tmp_path)
    repository = InMemoryRepository()
    settings = Settings(
        db_url="memory://", data_dir=tmp_path, api_token=TOKEN, refresh_interval=0.05
    )
    client = await aiohttp_client(create_app(settings, repository=repository))
    await wait_for(lambda: client.app[INGEST].ready.is_set())
    stored = await repository.hours_rows()
    assert stored
    (tmp_path / "business_hours.csv").write_text("store_id,day,start_time_local,end_time_local\n")
    loop = client.app[INGEST]
    await wait_for(lambda: loop.last is not None and loop.last["ok"] is False)
    last = (await (await client.get("/api/health", headers=AUTH)).json())["last_ingest"]
    assert last["ok"] is False
    assert last["sources"]["business_hours"]["mode"] == "failed"
    assert f"would leave 0 of the {len(stored)} stored" in last["error"]
    assert await repository.hours_rows() == stored


async def test_allow_shrink_lets_a_refresh_empty_a_snapshot(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """serve --allow-shrink: the same header-only file is stored at the refresh."""
    write_data_dir(tmp_path)
    repository = InMemoryRepository()
    settings = Settings(
        db_url="memory://", data_dir=tmp_path, allow_shrink=True, refresh_interval=0.05
    )
    client = await aiohttp_client(create_app(settings, repository=repository))
    await wait_for(lambda: client.app[INGEST].ready.is_set())
    assert await repository.hours_rows()
    (tmp_path / "business_hours.csv").write_text("store_id,day,start_time_local,end_time_local\n")
    async with asyncio.timeout(10):
        while await repository.hours_rows():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    assert client.app[INGEST].last["ok"] is True  # type: ignore[index]


async def test_a_refresh_in_a_child_passes_the_guards_on(tmp_path: Path) -> None:
    """The worker process refuses the same file, and stores it with --allow-shrink."""
    from storemon_server.ingest import Guards, PartialIngest, Sources
    from storemon_server.worker import ingest_in_child

    write_data_dir(tmp_path)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    sources = Sources(
        str(tmp_path / "store_status.csv"), str(tmp_path / "business_hours.csv"), None
    )
    await ingest_in_child(url, sources)
    (tmp_path / "business_hours.csv").write_text("store_id,day,start_time_local,end_time_local\n")
    with pytest.raises(PartialIngest, match="would leave 0 of the"):
        await ingest_in_child(url, sources)
    summary = await ingest_in_child(url, sources, Guards(allow_shrink=True))
    assert summary["business_hours"]["mode"] == "full"


# --- the log -----------------------------------------------------------------------------


async def _logged_client(aiohttp_client: Any, **settings: Any) -> Any:
    """
    A client of a server with the loggers and limits ``storemon serve`` gives it.
    """
    app = create_app(Settings(db_url="memory://", **settings), repository=InMemoryRepository())
    server = TestServer(app)
    # The handler's options go to start_server (TestServer's own kwargs are dropped).
    await server.start_server(
        max_line_size=MAX_LINE_SIZE,
        max_field_size=MAX_FIELD_SIZE,
        access_log_class=AccessLogger,
        access_log=logging.getLogger("storemon_server.access"),
        logger=ProtocolLogger(logging.getLogger("storemon_server.protocol")),
    )
    return await aiohttp_client(server)


async def test_control_characters_of_a_path_are_escaped_in_the_access_log(
    aiohttp_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """An escape sequence or a line feed in a path cannot colour or forge a log line."""
    caplog.set_level(logging.INFO, logger="storemon_server.access")
    client = await _logged_client(aiohttp_client)
    response = await client.get("/%1b[31mred%0aevent=forged%00")
    assert response.status == 404
    [line] = [r.getMessage() for r in caplog.records if r.name == "storemon_server.access"]
    assert "\x1b" not in line
    assert "\n" not in line
    assert "\x00" not in line
    assert 'path="/\\x1b[31mred\\nevent=forged\\x00"' in line


async def test_a_malformed_request_is_one_warning_without_its_query(
    aiohttp_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A request the HTTP parser refuses logs one WARNING: no traceback, no query string."""
    caplog.set_level(logging.DEBUG)
    client = await _logged_client(aiohttp_client)
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
    writer.write(b"GET /?token=SECRET-QUERY HTTP/1.1\r\nBad Header: y\r\n\r\n")
    await writer.drain()
    answers = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert b" 400 " in answers
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]
    malformed = [r for r in caplog.records if "http.malformed" in r.getMessage()]
    assert [r.levelno for r in malformed] == [logging.WARNING]
    assert "SECRET-QUERY" not in caplog.text


# --- bodies ------------------------------------------------------------------------------


async def _raw_post(client: Any, head: bytes) -> tuple[bytes, float]:
    """
    Send a request head and no body; return everything answered until the server
    closes the connection, and how long that took.
    """
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(head)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer, time.monotonic() - started


async def test_a_body_announced_too_large_is_refused_and_closed_at_once(
    aiohttp_client: Any,
) -> None:
    """A POST announcing 50 MB and sending nothing is answered 413 and closed at once."""
    client = await _logged_client(aiohttp_client)
    head = b"POST /api/trigger_report HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n"
    answer, seconds = await _raw_post(client, head)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert seconds < 1


async def test_a_body_that_never_comes_times_out(aiohttp_client: Any) -> None:
    """A POST announcing a small body and sending nothing is answered 408 after the timeout."""
    client = await _logged_client(aiohttp_client, body_timeout=0.5)
    head = b"POST /api/trigger_report HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    answer, seconds = await _raw_post(client, head)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert 0.5 <= seconds < 2


# --- the database held by another process --------------------------------------------------


async def test_a_trigger_while_another_process_holds_the_write_lock_answers_in_a_second(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """An outside write lock (an ingest) makes a trigger answer 503 with Retry-After, fast."""
    path = tmp_path / "store.db"
    async with SQLiteRepository(str(path)) as repository:
        polls, _, _ = small_data(12, seed=7)
        await repository.add_polls(polls)
        settings = Settings(db_url=f"sqlite:///{path}")
        client = await aiohttp_client(create_app(settings, repository=repository))
        outside = sqlite3.connect(path, isolation_level=None)
        outside.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            async with asyncio.timeout(5):
                response = await client.post("/api/trigger_report")
            seconds = time.monotonic() - started
        finally:
            outside.execute("ROLLBACK")
            outside.close()
        assert seconds < 1
        assert response.status == 503
        assert response.headers["Retry-After"] == "2"
        assert "locked by another process" in (await response.json())["error"]
        assert (await client.post("/api/trigger_report")).status == 200
        await client.app[JOBS].join()


async def test_queued_triggers_behind_a_held_lock_all_answer_in_a_second(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """Ten triggers at once while another process writes: each is answered within a second."""
    path = tmp_path / "store.db"
    async with SQLiteRepository(str(path)) as repository:
        await repository.add_polls([("s", 1_674_666_000_000_000, True)])
        settings = Settings(db_url=f"sqlite:///{path}")
        client = await aiohttp_client(create_app(settings, repository=repository))
        outside = sqlite3.connect(path, isolation_level=None)
        outside.execute("BEGIN IMMEDIATE")

        async def trigger() -> tuple[int, float]:
            started = time.monotonic()
            response = await client.post("/api/trigger_report")
            return response.status, time.monotonic() - started

        try:
            async with asyncio.timeout(10):
                answers = await asyncio.gather(*(trigger() for _ in range(10)))
        finally:
            outside.execute("ROLLBACK")
            outside.close()
        assert {status for status, _ in answers} == {503}
        assert max(seconds for _, seconds in answers) < 1.2


# --- the queue ---------------------------------------------------------------------------


async def test_queue_full_says_how_many_wait(make_client: MakeClient, data_repository: Any) -> None:
    """With 100 waiting (triggered at once), the 503 says 100 reports are waiting."""
    gate = Gate(data_repository)
    client = await make_client(compute=gate, workers=1, max_queue=100)
    answers = await asyncio.gather(*(client.post("/api/trigger_report") for _ in range(102)))
    statuses = sorted(response.status for response in answers)
    assert statuses.count(200) == 101  # one is being computed, a hundred wait
    [full] = [response for response in answers if response.status == 503]
    assert (await full.json())["error"] == "100 reports are waiting; try again later"
    gate.open()
    await client.app[JOBS].join()


# --- stores the report leaves out --------------------------------------------------------


async def test_a_report_completes_without_unreadable_stores_and_logs_them(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A stored unknown zone leaves its store out; the report completes; the log names it."""
    repository = await filled_repository()
    [(store_id, _)] = (await repository.zone_rows())[:1]
    await repository.replace_zones([(store_id, "Moon/Tranquility")])
    caplog.set_level(logging.WARNING)
    client = await make_client(repository=repository)
    report_id = (await (await client.post("/api/trigger_report")).json())["report_id"]
    await client.app[JOBS].join()
    job = await client.app[REPOSITORY].get_report(report_id)
    assert job.status == "Complete"
    assert f"\n{store_id}," not in job.csv
    assert "event=report.stores_left_out" in caplog.text
    assert "Moon/Tranquility" in caplog.text


async def test_a_report_in_a_child_names_the_stores_it_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The report process lists them on its standard error; the server logs them."""
    path = tmp_path / "store.db"
    async with SQLiteRepository(str(path)) as repository:
        await repository.add_polls([("good", 1_674_666_000_000_000, True)])
        await repository.add_polls([("bad\x00id", 1_674_666_000_000_000, True)])
        as_of = await repository.latest_poll_at()
        assert as_of is not None
        job = await repository.create_report("r" * 22, as_of=as_of, created_at=as_of)
    caplog.set_level(logging.WARNING)
    csv = await compute_in_child(f"sqlite:///{path}", job)
    assert csv.splitlines()[1].startswith("good,")
    assert len(csv.splitlines()) == 2
    assert "count=1" in caplog.text
    assert "bad\\\\x00id" in caplog.text
