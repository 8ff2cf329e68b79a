"""
``GET /`` and ``/static/``: the page's files, public, from the package, with a strict policy.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from pathlib import Path

from storemon_server.page import STATIC_DIR, STATIC_FILES
from tests.server.conftest import TOKEN, MakeClient

ROOT = Path(__file__).resolve().parents[2]


async def test_page_is_served_without_the_token(make_client: MakeClient) -> None:
    """The page and its script and style sheet are served even when the API needs a token."""
    client = await make_client(api_token=TOKEN)
    for path, kind in (
        ("/", "text/html"),
        ("/static/app.js", "text/javascript"),
        ("/static/app.css", "text/css"),
    ):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.content_type == kind
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (await client.get("/api/openapi.json")).status == 401


async def test_only_the_page_files_are_served(make_client: MakeClient) -> None:
    """Any other name under /static/ is 404, including the page itself and path tricks."""
    client = await make_client()
    for name in ("index.html", "nothing.js", "..%2Fpage.py", "%2e%2e%2fapp.py"):
        response = await client.get(f"/static/{name}")
        assert response.status == 404, name
        assert "error" in await response.json()


def test_page_uses_no_other_origin() -> None:
    """The page's files name no other origin: no CDN, nothing fetched from elsewhere."""
    for name in STATIC_FILES:
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        urls = re.findall(r"""(?:https?:)?//[\w.-]+\.[a-z]{2,}""", text)
        assert urls == [] or set(urls) == {"http://www.w3.org"}, (name, urls)


def test_static_files_are_package_data() -> None:
    """pyproject ships storemon_server/static/* in the package, and every page file is there."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "static/*" in config["tool"]["setuptools"]["package-data"]["storemon_server"]
    for name in STATIC_FILES:
        assert (STATIC_DIR / name).is_file()


def test_page_controls_are_labelled() -> None:
    """Every input and select of the page has a label naming it."""
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    labelled = set(re.findall(r'<label for="([\w-]+)"', html))
    controls = set(re.findall(r'<(?:input|select)\b[^>]*\bid="([\w-]+)"', html))
    assert controls
    assert controls <= labelled


async def test_public_prefix_reaches_no_api_route(make_client: MakeClient) -> None:
    """Paths under /static/ that climb out (.., encoded or not) never answer an API route."""
    client = await make_client(api_token=TOKEN)
    for path in (
        "/static/../api/openapi.json",
        "/static/%2e%2e/api/openapi.json",
        "/static/..%2fapi/openapi.json",
        "/static/app.js/../../api/openapi.json",
    ):
        # Sent raw: a client library would resolve the dots before sending.
        reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
        status = answer.split(b"\r\n", 1)[0]
        assert status in (b"HTTP/1.1 404 Not Found", b"HTTP/1.1 401 Unauthorized"), (path, status)
