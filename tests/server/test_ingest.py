"""
The server's ingestion: sources from a data dir, in process (memory://) or in a child (SQLite).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from storemon import load_csv
from storemon.errors import BackendUnavailable
from storemon.model import ReportJob, ReportStatus
from storemon_server.app import create_app
from storemon_server.config import Settings
from storemon_server.ingest import PartialIngest, Sources
from storemon_server.keys import INGEST, JOBS
from storemon_server.worker import WorkerFailed, compute_in_child, ingest_in_child
from tests.server.conftest import wait_for
from tests.server.support import LAST_POLL_AT, write_data_dir


def library_csv(folder: Path, as_of: dt.datetime) -> str:
    dataset = load_csv(
        folder / "store_status.csv", folder / "business_hours.csv", folder / "timezones.csv"
    )
    return dataset.report(as_of).to_csv()


async def test_memory_server_ingests_its_data_dir(aiohttp_client: Any, tmp_path: Path) -> None:
    """A memory:// server ingests its data dir at start-up and reports like the library."""
    write_data_dir(tmp_path)
    client = await aiohttp_client(create_app(Settings(db_url="memory://", data_dir=tmp_path)))
    await wait_for(lambda: client.app[INGEST].ready.is_set())
    health = await (await client.get("/api/health")).json()
    assert health["ready"] is True
    last = health["last_ingest"]
    assert last["ok"] is True
    assert last["sources"]["status"]["mode"] == "full"
    assert last["sources"]["status"]["stored"] > 0
    assert set(last["sources"]) == {"status", "business_hours", "timezones"}

    response = await client.post("/api/trigger_report")
    report_id = (await response.json())["report_id"]
    await client.app[JOBS].join()
    response = await client.get("/api/get_report", params={"report_id": report_id})
    assert await response.text() == library_csv(tmp_path, LAST_POLL_AT)


async def test_refused_source_is_reported_and_the_server_stays_up(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """A source with a bad header fails the ingest in health; the server keeps serving."""
    write_data_dir(tmp_path)
    (tmp_path / "business_hours.csv").write_text("nonsense\n1,2\n", encoding="utf-8")
    client = await aiohttp_client(create_app(Settings(db_url="memory://", data_dir=tmp_path)))
    await wait_for(lambda: client.app[INGEST].ready.is_set())
    health = await (await client.get("/api/health")).json()
    last = health["last_ingest"]
    assert last["ok"] is False
    assert "business_hours.csv" in last["error"]
    assert last["sources"]["business_hours"]["mode"] == "failed"
    assert last["sources"]["status"]["mode"] == "full"
    assert (await client.post("/api/trigger_report")).status == 200


async def test_ingest_in_child_is_incremental(tmp_path: Path) -> None:
    """A child ingest into SQLite stores everything, then finds the unchanged files unchanged."""
    data = tmp_path / "data"
    write_data_dir(data)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    sources = Sources(
        str(data / "store_status.csv"),
        str(data / "business_hours.csv"),
        str(data / "timezones.csv"),
    )
    first = await ingest_in_child(url, sources)
    assert first["status"]["mode"] == "full"
    assert first["status"]["stored"] == first["status"]["read"] > 0
    second = await ingest_in_child(url, sources)
    assert {item["mode"] for item in second.values()} == {"unchanged"}

    job = ReportJob("x" * 22, ReportStatus.RUNNING, LAST_POLL_AT, LAST_POLL_AT)
    assert await compute_in_child(url, job) == library_csv(data, LAST_POLL_AT)


async def test_child_ingest_with_a_refused_source_raises_with_the_summary(
    tmp_path: Path,
) -> None:
    """A refused source in a child ingest raises PartialIngest carrying every summary."""
    data = tmp_path / "data"
    write_data_dir(data)
    (data / "timezones.csv").write_text("store_id\n1\n", encoding="utf-8")
    sources = Sources(str(data / "store_status.csv"), None, str(data / "timezones.csv"))
    with pytest.raises(PartialIngest, match="timezone_str") as caught:
        await ingest_in_child(f"sqlite:///{tmp_path / 'store.db'}", sources)
    assert caught.value.summary["status"]["mode"] == "full"
    assert caught.value.summary["timezones"]["mode"] == "failed"


async def test_child_failure_carries_the_error_line(tmp_path: Path) -> None:
    """A child that fails raises WorkerFailed with its own one-line message."""
    job = ReportJob("x" * 22, ReportStatus.RUNNING, LAST_POLL_AT, LAST_POLL_AT)
    with pytest.raises(WorkerFailed, match="no storage backend for nosuch"):
        await compute_in_child("nosuch://db", job)


async def test_unknown_database_scheme_stops_start_up() -> None:
    """A database URL no backend serves fails the start-up with BackendUnavailable."""
    runner = web.AppRunner(create_app(Settings(db_url="nosuch://db")))
    try:
        with pytest.raises(BackendUnavailable, match="nosuch"):
            await runner.setup()
    finally:
        await runner.cleanup()


async def test_sources_may_be_urls(
    aiohttp_client: Any, aiohttp_server: Any, tmp_path: Path
) -> None:
    """Sources given one by one as http URLs are ingested like files."""
    write_data_dir(tmp_path)
    files = web.Application()
    files.router.add_static("/data", tmp_path)
    origin = await aiohttp_server(files)
    base = f"http://127.0.0.1:{origin.port}/data"
    settings = Settings(
        db_url="memory://",
        status_source=f"{base}/store_status.csv",
        hours_source=f"{base}/business_hours.csv",
        zones_source=f"{base}/timezones.csv",
    )
    client = await aiohttp_client(create_app(settings))
    await wait_for(lambda: client.app[INGEST].ready.is_set())
    last = (await (await client.get("/api/health")).json())["last_ingest"]
    assert last["ok"] is True, last
    assert last["sources"]["status"]["source"] == f"{base}/store_status.csv"
    response = await client.post("/api/trigger_report")
    report_id = (await response.json())["report_id"]
    await client.app[JOBS].join()
    response = await client.get("/api/get_report", params={"report_id": report_id})
    assert await response.text() == library_csv(tmp_path, LAST_POLL_AT)
