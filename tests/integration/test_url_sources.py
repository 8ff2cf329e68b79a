"""
Sources fetched over HTTP from a local aiohttp server (127.0.0.1, no network).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
from aiohttp import web

from storemon.dataset import load_csv
from storemon.ingest import ingest
from storemon.service import build_report
from storemon.storage import open_repository

from .conftest import END, Inputs, cli, dump, stamp


@attrs.define
class Server:
    """
    A local HTTP server: /static/* with ETag and Last-Modified, /plain/* without validators.
    """

    base: str
    folder: Path
    #: Bodies served by /plain/NAME, chunked, without ETag or Last-Modified.
    plain: dict[str, bytes] = attrs.field(factory=dict)
    requests: int = 0


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """
    A running local server serving the files of a temporary folder.
    """
    folder = tmp_path / "www"
    folder.mkdir()
    state = Server("", folder)

    async def plain(request: web.Request) -> web.StreamResponse:
        state.requests += 1
        body = state.plain.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 4096):
            await response.write(body[start : start + 4096])
        await response.write_eof()
        return response

    async def truncated(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100000"})
        await response.prepare(request)
        await response.write(b"store_id,status,timestamp_utc\n1,active,2023-01-25 10:00:00 UTC\n")
        assert request.transport is not None
        request.transport.close()
        return response

    async def broken(_request: web.Request) -> web.Response:
        return web.Response(status=500, text="database on fire")

    async def fickle(request: web.Request) -> web.Response:
        state.requests += 1
        body = state.plain[request.match_info["name"]]
        return web.Response(body=body, headers={"ETag": f'"v{state.requests}"'})

    app = web.Application()
    app.router.add_get("/plain/{name}", plain)
    app.router.add_get("/fickle/{name}", fickle)
    app.router.add_get("/truncated.csv", truncated)
    app.router.add_get("/broken.csv", broken)
    app.router.add_static("/static/", folder)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.base = f"http://{host}:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


def _publish(server: Server, inputs: Inputs) -> tuple[str, str, str]:
    for path in (inputs.status, inputs.hours, inputs.zones):
        (server.folder / path.name).write_bytes(path.read_bytes())
    return tuple(
        f"{server.base}/static/{path.name}" for path in (inputs.status, inputs.hours, inputs.zones)
    )  # type: ignore[return-value]


async def test_url_sources_give_the_same_report_and_skip_when_unchanged(
    server: Server, inputs: Inputs, db_url: str
) -> None:
    """Files served with validators ingest like local files and are skipped once unchanged."""
    status, hours, zones = _publish(server, inputs)
    async with open_repository(db_url) as repo:
        first = await ingest(repo, status=status, business_hours=hours, timezones=zones)
        assert [s.mode for s in first] == ["full"] * 3
        assert [s.source for s in first] == [status, hours, zones]
        assert (
            await build_report(repo) == load_csv(inputs.status, inputs.hours, inputs.zones).report()
        )
        before = dump(db_url)
        again = await ingest(repo, status=status, business_hours=hours, timezones=zones)
    assert [s.mode for s in again] == ["unchanged"] * 3
    assert dump(db_url) == before


async def test_url_without_validators_is_hashed_and_read_from_the_offset(
    server: Server, inputs: Inputs, db_url: str
) -> None:
    """Without ETag or Last-Modified a URL is recognised by its hash and appends are read alone."""
    body = inputs.status.read_bytes()
    server.plain["status.csv"] = body
    url = f"{server.base}/plain/status.csv"
    async with open_repository(db_url) as repo:
        (first,) = await ingest(repo, status=url)
        (again,) = await ingest(repo, status=url)
        server.plain["status.csv"] = body + f"555,inactive,{stamp(END, 0)}\n".encode()
        (grown,) = await ingest(repo, status=url)
    assert (first.mode, again.mode) == ("full", "unchanged")
    assert (grown.mode, grown.read, grown.stored) == ("appended", 1, 1)


async def test_cli_ingests_from_a_url(server: Server, inputs: Inputs, db_url: str) -> None:
    """storemon ingest takes URLs for every source and prints the same summary."""
    status, hours, zones = _publish(server, inputs)
    argv = ["ingest", "--db", db_url, "--status", status, "--business-hours", hours]
    run = await asyncio.to_thread(cli, *argv, "--timezones", zones, "--json")
    assert run.status == 0, run.err
    assert [s["source"] for s in json.loads(run.out)["sources"]] == [status, hours, zones]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/static/missing.csv", "HTTP 404"),
        ("/broken.csv", "HTTP 500"),
        ("/truncated.csv", "cannot read"),
    ],
)
async def test_failing_url_is_refused_and_changes_nothing(
    server: Server, inputs: Inputs, db_url: str, path: str, message: str
) -> None:
    """A URL that fails (error status or cut-off body) is refused; the database is as it was."""
    async with open_repository(db_url) as repo:
        await ingest(repo, status=inputs.status)
    before = dump(db_url)
    async with open_repository(db_url) as repo:
        (summary,) = await ingest(repo, status=f"{server.base}{path}")
    assert summary.mode == "failed"
    assert summary.error is not None
    assert message in summary.error
    assert dump(db_url) == before


async def test_unreachable_server_is_refused(tmp_path: Path, db_url: str) -> None:
    """A URL whose server does not answer is refused with the reason."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with open_repository(db_url) as repo:
        (summary,) = await ingest(repo, status=f"http://127.0.0.1:{port}/status.csv")
    assert summary.mode == "failed"
    assert "cannot fetch" in (summary.error or "")


async def test_new_validators_on_the_same_bytes_are_recorded(
    server: Server, inputs: Inputs, db_url: str
) -> None:
    """A URL whose ETag changes but whose bytes do not is unchanged; the new ETag is kept."""
    server.plain["zones.csv"] = inputs.zones.read_bytes()
    url = f"{server.base}/fickle/zones.csv"
    async with open_repository(db_url) as repo:
        (first,) = await ingest(repo, timezones=url)
        first_state = await repo.source_state("timezones", url)
        (again,) = await ingest(repo, timezones=url)
        again_state = await repo.source_state("timezones", url)
    assert (first.mode, again.mode) == ("full", "unchanged")
    assert first_state is not None
    assert again_state is not None
    assert (first_state.etag, again_state.etag) == ('"v1"', '"v2"')
    assert again_state.content_hash == first_state.content_hash


async def test_cli_exits_1_for_a_failing_url(server: Server, db_url: str) -> None:
    """storemon ingest exits 1 with the HTTP status in its message when a URL fails."""
    url = f"{server.base}/broken.csv"
    run = await asyncio.to_thread(cli, "ingest", "--db", db_url, "--status", url)
    assert run.status == 1
    assert f"storemon ingest: error: {url}: HTTP 500 Internal Server Error" in run.err
    assert dump(db_url)["polls"] == []
