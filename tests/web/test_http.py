"""
What the page relies on over HTTP: gzip when accepted, validators and 304 for its files,
and ``GET /api/session`` to check a token.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from storemon_server.compression import MIN_COMPRESSED_SIZE, accepts_gzip
from storemon_server.page import STATIC_DIR
from tests.server.conftest import TOKEN, MakeClient
from tests.server.support import filled_repository

Client = TestClient[Any, Any]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("deflate, GZIP;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("deflate, *;q=0.1", True),
        ("", False),
        ("identity", False),
        ("deflate, br", False),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *", False),
        ("*;q=0", False),
        ("gzip;q=nonsense", False),
        ("gzipx, deflate", False),
    ],
)
def test_accepts_gzip_reads_codings_and_weights(header: str, accepted: bool) -> None:
    """gzip is accepted when named (or matched by *) with a nonzero weight, and only then."""
    assert accepts_gzip(header) is accepted


async def complete_report(client: Client) -> str:
    """
    Trigger a report and wait until it is complete; return its id.
    """
    response = await client.post("/api/trigger_report", headers=AUTH)
    report_id: str = (await response.json())["report_id"]
    for _ in range(1000):
        response = await client.get(
            "/api/get_report", params={"report_id": report_id}, headers=AUTH
        )
        if response.headers.get("X-Report-Status") == "Complete":
            return report_id
        await asyncio.sleep(0.01)
    raise AssertionError("the report never finished")


async def test_json_and_csv_are_gzipped_only_when_accepted(make_client: MakeClient) -> None:
    """A report's JSON and CSV come gzipped to a client that accepts gzip, plain otherwise."""
    # 60 stores: the CSV is over the size floor too.
    client = await make_client(api_token=TOKEN, repository=await filled_repository(60))
    report_id = await complete_report(client)
    for params in ({"report_id": report_id, "format": "json"}, {"report_id": report_id}):
        plain = await client.get(
            "/api/get_report", params=params, headers={**AUTH, "Accept-Encoding": "identity"}
        )
        plain_body = await plain.read()
        assert "Content-Encoding" not in plain.headers
        assert plain.headers["Vary"] == "Accept-Encoding"
        assert len(plain_body) >= MIN_COMPRESSED_SIZE
        assert int(plain.headers["Content-Length"]) == len(plain_body)

        for accept in ("gzip", "deflate, gzip;q=0.8, br"):
            packed = await client.get(
                "/api/get_report",
                params=params,
                headers={**AUTH, "Accept-Encoding": accept},
                auto_decompress=False,
            )
            raw = await packed.read()
            assert packed.headers["Content-Encoding"] == "gzip", accept
            assert packed.headers["Vary"] == "Accept-Encoding"
            assert gzip.decompress(raw) == plain_body
            assert len(raw) < len(plain_body) / 2

        for refused in ("deflate", "gzip;q=0, deflate"):
            other = await client.get(
                "/api/get_report",
                params=params,
                headers={**AUTH, "Accept-Encoding": refused},
                auto_decompress=False,
            )
            assert "Content-Encoding" not in other.headers, refused
            assert await other.read() == plain_body


async def test_small_answers_and_page_files_are_not_gzipped(make_client: MakeClient) -> None:
    """An answer under the size floor and the page's files go uncompressed, even if asked."""
    client = await make_client(api_token=TOKEN)
    refused = await client.get(
        "/api/get_report", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert refused.status == 401
    assert "Content-Encoding" not in refused.headers
    assert len(await refused.read()) < MIN_COMPRESSED_SIZE
    script = await client.get(
        "/static/app.js", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert "Content-Encoding" not in script.headers
    assert await script.read() == (STATIC_DIR / "app.js").read_bytes()


@pytest.mark.parametrize("path", ["/", "/static/app.js", "/static/app.css"])
async def test_page_files_answer_304_to_a_current_copy(make_client: MakeClient, path: str) -> None:
    """Each page file has an ETag and Last-Modified, and either validator earns a 304."""
    client = await make_client(api_token=TOKEN)
    first = await client.get(path)
    body = await first.read()
    etag = first.headers["ETag"]
    last_modified = first.headers["Last-Modified"]
    assert etag == f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    assert first.headers["Cache-Control"] == "no-cache"

    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", {etag}'},
        {"If-None-Match": f"W/{etag}"},
        {"If-None-Match": "*"},
        {"If-Modified-Since": last_modified},
        {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    ):
        again = await client.get(path, headers=headers)
        assert again.status == 304, headers
        assert await again.read() == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Last-Modified"] == last_modified
        assert "script-src 'self'" in again.headers["Content-Security-Policy"]

    for headers in (
        {"If-None-Match": '"other"'},
        {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
        # If-None-Match decides when both are sent, even if the date would be current.
        {"If-None-Match": '"other"', "If-Modified-Since": last_modified},
    ):
        fresh = await client.get(path, headers=headers)
        assert fresh.status == 200, headers
        assert await fresh.read() == body


async def test_session_checks_the_token(make_client: MakeClient) -> None:
    """GET /api/session answers 204 to the right token and 401 to a missing or wrong one."""
    client = await make_client(api_token=TOKEN)
    right = await client.get("/api/session", headers=AUTH)
    assert right.status == 204
    assert await right.read() == b""
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}):
        refused = await client.get("/api/session", headers=headers)
        assert refused.status == 401, headers
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in await refused.json()


async def test_session_needs_nothing_without_a_token(make_client: MakeClient) -> None:
    """A server without a token answers 204 to a session check with or without a token."""
    client = await make_client()
    for headers in ({}, {"Authorization": "Bearer anything"}):
        response = await client.get("/api/session", headers=headers)
        assert response.status == 204, headers
